"""What a retention policy looks at: one subscription, its customer, their history, now.

:class:`DecisionContext` is built once per decision and computes the derived
facts (MRR, product ids, tenure) at most once, so twenty rules asking for the
MRR cost one computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol, final

from cancelflow._history import EMPTY_HISTORY, CustomerHistory
from cancelflow._subscription import SubscriptionSnapshot

__all__ = ["CustomerFacts", "DecisionContext"]

SECONDS_PER_DAY: Final = 86_400


class CustomerFacts(Protocol):
    """The facts about a Stripe customer that segments can use.

    Any object with these attributes will do; cancelflow's own customer
    snapshot has them.
    """

    @property
    def id(self) -> str: ...

    @property
    def created(self) -> int | None: ...

    @property
    def country(self) -> str | None: ...

    @property
    def metadata(self) -> Mapping[str, str]: ...


class _ContextSlots:
    """The storage of :class:`DecisionContext`, written only through the slot
    descriptors below (a context refuses ordinary attribute writes)."""

    __slots__ = (
        "_intervals",
        "_mrr",
        "_prices",
        "_products",
        "customer",
        "history",
        "now",
        "subscription",
    )

    subscription: SubscriptionSnapshot
    customer: CustomerFacts | None
    history: CustomerHistory
    now: int
    # The derived facts, unset until first read.
    _mrr: int
    _prices: frozenset[str]
    _products: frozenset[str]
    _intervals: frozenset[tuple[str, int]]


# A slot descriptor's own setter: much cheaper than object.__setattr__, and a
# context makes one per decision.
_set_subscription = _ContextSlots.__dict__["subscription"].__set__
_set_customer = _ContextSlots.__dict__["customer"].__set__
_set_history = _ContextSlots.__dict__["history"].__set__
_set_now = _ContextSlots.__dict__["now"].__set__
_set_mrr = _ContextSlots.__dict__["_mrr"].__set__
_set_prices = _ContextSlots.__dict__["_prices"].__set__
_set_products = _ContextSlots.__dict__["_products"].__set__
_set_intervals = _ContextSlots.__dict__["_intervals"].__set__


@final
class DecisionContext(_ContextSlots):
    """The input of one decision, with its derived facts computed lazily.

    Custom predicates receive it. Everything in it is read-only.

    Attributes:
        subscription: the subscription the customer wants to cancel.
        customer: facts about the customer, or ``None`` when the host has none
            (then country and customer-metadata conditions never match).
        history: the customer's earlier cancellation attempts, from the ledger.
        now: the decision time, unix seconds.
    """

    __slots__ = ()

    def __init__(
        self,
        subscription: SubscriptionSnapshot,
        *,
        now: int,
        customer: CustomerFacts | None = None,
        history: CustomerHistory | None = None,
    ) -> None:
        _set_subscription(self, subscription)
        _set_customer(self, customer)
        _set_history(self, EMPTY_HISTORY if history is None else history)
        _set_now(self, now)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"DecisionContext is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DecisionContext is read-only: cannot delete {name!r}")

    def __repr__(self) -> str:
        return (
            f"DecisionContext(subscription={self.subscription.id!r}, "
            f"customer={self.customer_id!r}, now={self.now!r})"
        )

    @property
    def customer_id(self) -> str:
        """The customer's id (from the subscription, which always has one)."""
        return self.subscription.customer

    @property
    def mrr(self) -> int:
        """The subscription's MRR in minor units of its currency
        (:attr:`SubscriptionSnapshot.mrr`)."""
        try:
            return self._mrr
        except AttributeError:
            value = self.subscription.mrr
            _set_mrr(self, value)
            return value

    @property
    def price_ids(self) -> frozenset[str]:
        try:
            return self._prices
        except AttributeError:
            prices = frozenset(i.price_id for i in self.subscription.items)
            _set_prices(self, prices)
            return prices

    @property
    def product_ids(self) -> frozenset[str]:
        try:
            return self._products
        except AttributeError:
            products = frozenset(i.product_id for i in self.subscription.items)
            _set_products(self, products)
            return products

    @property
    def intervals(self) -> frozenset[tuple[str, int]]:
        """The ``(interval, interval_count)`` pairs of the recurring items."""
        try:
            return self._intervals
        except AttributeError:
            intervals = frozenset(
                (i.interval, i.interval_count)
                for i in self.subscription.items
                if i.interval is not None
            )
            _set_intervals(self, intervals)
            return intervals

    @property
    def tenure_days(self) -> int | None:
        """Whole days since the subscription started (``start_date``, else
        ``created``); ``None`` when Stripe sent neither."""
        sub = self.subscription
        start = sub.start_date if sub.start_date is not None else sub.created
        if start is None:
            return None
        return (self.now - start) // SECONDS_PER_DAY

    @property
    def customer_tenure_days(self) -> int | None:
        """Whole days since the customer was created, if known."""
        customer = self.customer
        if customer is None or customer.created is None:
            return None
        return (self.now - customer.created) // SECONDS_PER_DAY

    @property
    def country(self) -> str | None:
        """The customer's country (ISO 3166-1 alpha-2, upper case), if known."""
        customer = self.customer
        if customer is None or not customer.country:
            return None
        return customer.country.upper()

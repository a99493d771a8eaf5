"""What a retention policy looks at: one subscription, its customer, their history, now.

`DecisionContext` is built once per decision and computes the derived
facts (MRR, product ids, tenure) at most once, so twenty rules asking for the
MRR cost one computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol, final

from cancelflow._policy.history import EMPTY_HISTORY, CustomerHistory
from cancelflow._stripe.subscription import SubscriptionSnapshot

__all__ = ["CustomerFacts", "DecisionContext"]

SECONDS_PER_DAY: Final = 86_400

_UNSET: Final = object()


class CustomerFacts(Protocol):
    """The facts about a Stripe customer that segments can use.

    Any object with these attributes will do; cancelflow's own customer
    snapshot has them.
    """

    @property
    def id(self) -> str:
        """The customer's `cus_…` id."""
        ...

    @property
    def created(self) -> int | None:
        """When the customer was created (unix seconds), or `None`."""
        ...

    @property
    def country(self) -> str | None:
        """The customer's country (ISO code, upper-case), or `None`."""
        ...

    @property
    def metadata(self) -> Mapping[str, str]:
        """The customer's metadata."""
        ...


@final
class DecisionContext:
    """The input of one decision, with its derived facts computed lazily.

    Custom predicates receive it. Treat it as read-only: one context serves
    every rule and guard of a decision. (Its slots are not guarded against
    writes: a guard cost every decision more than it protects.)

    Attributes:
        subscription: the subscription the customer wants to cancel.
        customer: facts about the customer, or ``None`` when the host has none
            (then country and customer-metadata conditions never match).
        history: the customer's earlier cancellation attempts, from the ledger.
        now: the decision time, unix seconds.
    """

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

    def __init__(
        self,
        subscription: SubscriptionSnapshot,
        *,
        now: int,
        customer: CustomerFacts | None = None,
        history: CustomerHistory | None = None,
    ) -> None:
        self.subscription = subscription
        self.customer = customer
        self.history = EMPTY_HISTORY if history is None else history
        self.now = now
        self._mrr: object = _UNSET
        self._prices: frozenset[str] | None = None
        self._products: frozenset[str] | None = None
        self._intervals: frozenset[tuple[str, int]] | None = None

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
        """The subscription's MRR in minor units of its currency (`SubscriptionSnapshot.mrr`)."""
        value = self._mrr
        if value is _UNSET:
            value = self._mrr = self.subscription.mrr
        assert isinstance(value, int)
        return value

    @property
    def price_ids(self) -> frozenset[str]:
        """The ids of the subscription's prices."""
        if self._prices is None:
            self._prices = frozenset(i.price_id for i in self.subscription.items)
        return self._prices

    @property
    def product_ids(self) -> frozenset[str]:
        """The ids of the subscription's products."""
        if self._products is None:
            self._products = frozenset(i.product_id for i in self.subscription.items)
        return self._products

    @property
    def intervals(self) -> frozenset[tuple[str, int]]:
        """The ``(interval, interval_count)`` pairs of the recurring items."""
        if self._intervals is None:
            self._intervals = frozenset(
                (i.interval, i.interval_count)
                for i in self.subscription.items
                if i.interval is not None
            )
        return self._intervals

    @property
    def tenure_days(self) -> int | None:
        """Whole days since the subscription started.

        Counted from `start_date`, else `created`; `None` when Stripe sent neither.
        """
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

"""Backtest records from a ledger, or straight from Stripe.

See `cancelflow._backtest.jsonl` for records from a JSONL file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from cancelflow._backtest.backtest import BacktestRecord
from cancelflow._outcomes.ledger import Case, LinkRecord, history_from
from cancelflow._policy.context import CustomerFacts
from cancelflow._policy.history import EMPTY_HISTORY, OfferHistory
from cancelflow._stripe.subscription import SubscriptionSnapshot

__all__ = ["records_from_ledger", "records_from_stripe"]


class SubscriptionLister(Protocol):
    """What `records_from_stripe` needs of a gateway
    (`StripeGateway` has it)."""

    def iter_subscriptions(
        self, *, status: str | None = None
    ) -> Iterable[SubscriptionSnapshot]: ...

    def retrieve_customer(self, customer: str) -> CustomerFacts: ...


class LinksAndCases(Protocol):
    """What `records_from_ledger` needs of a ledger (every ledger has it)."""

    def links(self) -> list[LinkRecord]: ...

    def cases(self) -> list[Case]: ...


def records_from_stripe(
    gateway: SubscriptionLister,
    *,
    now: int | None = None,
    history: OfferHistory | None = None,
    customers: bool = False,
    status: str | None = None,
) -> Iterator[BacktestRecord]:
    """Records for every subscription in the Stripe account, as of *now*.

    "Who would get which offer if they all tried to cancel today?"

    Args:
        gateway: a `StripeGateway` (``iter_subscriptions``).
        now: the decision time (default: the current time).
        history: a ledger, for each customer's history (empty without one).
        customers: also retrieve each customer (one request per subscription)
            for country and customer-metadata segments.
        status: Stripe's ``status`` filter (default: every subscription that
            is not canceled).

    Returns:
        An iterator of [`BacktestRecord`][cancelflow.BacktestRecord]s.

    Example:
        ```python
        import cancelflow
        from cancelflow.testing import FakeStripe

        client = FakeStripe().client()
        customer = client.v1.customers.create()
        price = client.v1.prices.create(params={"currency": "eur", "unit_amount": 900,
            "recurring": {"interval": "month"}, "product_data": {"name": "Pro"}})
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}]})
        gateway = cancelflow.StripeGateway(client)
        (record,) = cancelflow.records_from_stripe(gateway, now=1_767_225_600)
        assert record.subscription.customer == customer.id
        ```
    """
    at = int(time.time()) if now is None else now
    for subscription in gateway.iter_subscriptions(status=status):
        customer = (
            gateway.retrieve_customer(subscription.customer) if customers else None
        )
        past = (
            EMPTY_HISTORY
            if history is None
            else history.customer_history(subscription.customer)
        )
        yield BacktestRecord(subscription, customer, past, at)


def records_from_ledger(
    ledger: LinksAndCases,
    subscriptions: Callable[[str], SubscriptionSnapshot | None],
    *,
    customers: Callable[[str], CustomerFacts | None] | None = None,
) -> Iterator[BacktestRecord]:
    """Records for every cancel link in a ledger, at the time of the link.

    The ledger remembers *who* tried to cancel and when, the offer made and
    what came of it, but not the subscription's items; *subscriptions* looks
    each subscription up (``StripeGateway.retrieve_subscription``, or a dict's
    ``get``): its **current** state stands in for the state at the time. The
    customer's history is rebuilt from the ledger as it was before each link.
    This source holds the ledger's links and cases in memory.

    Args:
        ledger: a ledger (``links()`` and ``cases()``).
        subscriptions: ``subscription_id -> SubscriptionSnapshot | None``
            (``None`` skips the link).
        customers: ``customer_id -> CustomerFacts | None``, if wanted.

    Returns:
        An iterator of [`BacktestRecord`][cancelflow.BacktestRecord]s, oldest link
        first.

    Example:
        ```python
        import cancelflow

        ledger = cancelflow.MemoryLedger()  # in production, the app's ledger
        records = cancelflow.records_from_ledger(ledger, {}.get)
        assert list(records) == []
        ```
    """
    links = sorted(ledger.links(), key=lambda link: (link.created, link.session_id))
    cases_of: dict[str | None, list[Case]] = {}
    for case in ledger.cases():
        cases_of.setdefault(case.customer_id, []).append(case)
    links_of: dict[str, list[LinkRecord]] = {}
    for link in links:
        links_of.setdefault(link.customer_id, []).append(link)
    for link in links:
        subscription = subscriptions(link.subscription_id)
        if subscription is None:
            continue
        at = link.created
        past = history_from(
            link.customer_id,
            cases_of.get(link.customer_id, ()),
            links_of[link.customer_id],
            before=at,
        )
        customer = None if customers is None else customers(link.customer_id)
        yield BacktestRecord(
            subscription, customer, past, at, link.offered_coupon or ""
        )

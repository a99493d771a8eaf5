"""DecisionContext: the derived facts segments read, computed once and exactly."""

from __future__ import annotations

from hypothesis import given, settings

from cancelflow import (
    CustomerSnapshot,
    DecisionContext,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow._policy.history import CustomerHistory
from policy_strategies import NOW, subscriptions

DAY = 86_400


def item(**over) -> SubscriptionItemSnapshot:
    base = {
        "id": "si",
        "price_id": "p",
        "product_id": "x",
        "interval": "month",
        "unit_amount": 1_000,
    }
    base.update(over)
    return SubscriptionItemSnapshot(**base)


def sub(*items, **over) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        id="sub_1",
        customer="cus_1",
        status=SubscriptionStatus.ACTIVE,
        currency="usd",
        items=items,
        **over,
    )


@settings(max_examples=250)
@given(subscriptions())
def test_integer_mrr_equals_the_rounded_exact_mrr(subscription):
    """The integer MRR (what the context uses) is the exact fraction rounded half to even."""
    assert subscription.mrr == round(subscription.mrr_exact)
    assert DecisionContext(subscription, now=NOW).mrr == subscription.mrr


def test_mrr_rounds_half_to_even():
    """Halves round to even, as round() on the exact fraction does."""
    # 30/12 = 2.5 -> 2 ; 42/12 = 3.5 -> 4 (yearly prices of 30 and 42)
    assert sub(item(interval="year", unit_amount=30)).mrr == 2
    assert sub(item(interval="year", unit_amount=42)).mrr == 4
    mixed = sub(item(interval="month", interval_count=2), item(interval="month"))
    assert mixed.mrr == 1_500


def test_derived_facts():
    """Prices, products, intervals, tenure and country come from the inputs."""
    s = sub(
        item(),
        item(price_id="q", product_id="y", interval="year", interval_count=2),
        start_date=NOW - 10 * DAY - 5,
        created=NOW - 99 * DAY,
    )
    customer = CustomerSnapshot(id="cus_1", country="fr", created=NOW - 3 * DAY)
    c = DecisionContext(s, now=NOW, customer=customer)
    assert c.price_ids == {"p", "q"}
    assert c.product_ids == {"x", "y"}
    assert c.intervals == {("month", 1), ("year", 2)}
    assert c.tenure_days == 10
    assert c.customer_tenure_days == 3
    assert c.country == "FR"
    assert c.customer_id == "cus_1"
    assert c.history == CustomerHistory()
    assert "sub_1" in repr(c)


def test_missing_facts_are_none():
    """Without dates or a customer, tenure and country are unknown (None)."""
    c = DecisionContext(sub(item()), now=NOW)
    assert c.tenure_days is None
    assert c.customer_tenure_days is None
    assert c.country is None
    created_only = DecisionContext(sub(item(), created=NOW - 2 * DAY), now=NOW)
    assert created_only.tenure_days == 2

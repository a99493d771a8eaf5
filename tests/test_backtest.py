"""Backtests: counts that agree with deciding one by one, costs, and every source."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import (
    Arm,
    BacktestRecord,
    Coupon,
    CouponDuration,
    CustomerSnapshot,
    Experiment,
    Guard,
    LinkRecord,
    MemoryLedger,
    Offer,
    RetentionPolicy,
    Rule,
    Segment,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
    backtest,
    read_history,
    records_from_ledger,
    records_from_stripe,
)
from cancelflow._policy.history import CustomerHistory
from policy_strategies import (
    NOW,
    coupon_maps,
    customers,
    histories,
    policies,
    subscriptions,
)

DAY = 86_400


def compact(record: BacktestRecord) -> dict:
    """Write a record in the compact JSONL form (what an export script would do)."""
    sub, customer, history, at, offered = record
    line = {
        "id": sub.id,
        "customer": sub.customer,
        "status": sub.status.value,
        "currency": sub.currency,
        "items": [
            [
                i.price_id,
                i.product_id,
                i.interval,
                i.interval_count,
                i.quantity,
                i.unit_amount,
                i.usage_type,
            ]
            for i in sub.items
        ],
        "discounts": [d.id for d in sub.discounts],
        "cancel_at": sub.cancel_at,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "schedule": sub.schedule,
        "paused": sub.paused,
        "created": sub.created,
        "start_date": sub.start_date,
        "metadata": dict(sub.metadata),
        "attempts": history.attempts,
        "last_offered_at": history.last_offered_at,
        "last_redeemed_at": history.last_redeemed_at,
        "at": at,
    }
    if customer is not None:
        line["country"] = customer.country
        line["customer_metadata"] = dict(customer.metadata)
        line["customer_created"] = customer.created
    if offered is not None:
        line["offered"] = offered or None
    return line


records = st.lists(
    st.builds(
        BacktestRecord,
        subscriptions(),
        customers,
        histories,
        st.integers(NOW - 100 * DAY, NOW),
        st.none() | st.sampled_from(["", "TEN", "HALF"]),
    ),
    max_size=12,
)


@settings(max_examples=40)
@given(policies(), records, coupon_maps())
def test_report_agrees_with_deciding_one_by_one(
    tmp_path_factory, policy, history, coupons
):
    """Over a generated JSONL file, every count equals a recount of single decisions."""
    path = tmp_path_factory.mktemp("bt") / "history.jsonl"
    path.write_text(
        "".join(json.dumps(compact(r)) + "\n" for r in history), encoding="utf-8"
    )
    report = backtest(policy, read_history(path), coupons=coupons)

    decisions = [
        policy.decide(
            r.subscription,
            now=r.at,
            customer=r.customer,
            history=r.history,
            coupons=coupons,
        )
        for r in history
    ]
    assert report.decisions == len(history)
    assert report.by_rule == Counter(d.rule for d in decisions)
    assert report.offers == sum(d.offer is not None for d in decisions)
    assert report.offered == Counter(
        (d.offer.coupon, d.experiment, d.arm) for d in decisions if d.offer
    )
    assert report.proposed == Counter(
        (d.proposed.coupon, d.experiment, d.arm) for d in decisions if d.proposed
    )
    assert report.arms == Counter(
        (d.experiment, d.arm) for d in decisions if d.experiment
    )
    assert report.holdouts == sum(d.holdout for d in decisions)
    blocked = [d for d in decisions if d.proposed is not None and d.blocked_by]
    assert report.blocked == len(blocked)
    assert report.blocks_by_guard == Counter(g for d in blocked for g in d.guards)
    assert report.blocks_by_code == Counter(
        (b.guard, b.code) for d in blocked for b in d.blocked_by
    )
    compared = [
        (r, d) for r, d in zip(history, decisions, strict=True) if r.offered is not None
    ]
    assert report.compared == len(compared)
    assert report.changed == sum((d.coupon or "") != r.offered for r, d in compared)
    assert sum(report.cost.values()) == sum(report.cost_by_currency.values())
    json.dumps(report.to_dict())
    assert report.render_text().startswith("Backtest of policy")


def item(amount=10_000, interval="month") -> SubscriptionItemSnapshot:
    return SubscriptionItemSnapshot(
        id="si",
        price_id="price_1",
        product_id="prod_1",
        interval=interval,
        unit_amount=amount,
    )


def sub(n=1, **over) -> SubscriptionSnapshot:
    base = {
        "id": f"sub_{n}",
        "customer": f"cus_{n}",
        "status": SubscriptionStatus.ACTIVE,
        "currency": "usd",
        "items": (item(),),
    }
    base.update(over)
    return SubscriptionSnapshot(**base)


def test_cost_is_value_times_duration_times_mrr():
    """Cost = the coupon's monthly discount on the MRR × the months it lasts."""
    coupons = {
        "Q": Coupon(
            id="Q",
            duration=CouponDuration.REPEATING,
            percent_off=25.0,
            duration_in_months=3,
        ),
        "F": Coupon(id="F", duration=CouponDuration.FOREVER, percent_off=10.0),
        "A": Coupon(
            id="A", duration=CouponDuration.ONCE, amount_off=1_500, currency="usd"
        ),
    }
    policy = RetentionPolicy(
        rules=[
            Rule("eur", Segment(currencies="eur"), Offer("F")),
            Rule("year", Segment(interval="year"), Offer("A")),
        ],
        default=Offer("Q"),
    )
    history = [
        BacktestRecord(sub(1), None, CustomerHistory(), NOW),  # 25 % × 3 × 10,000
        BacktestRecord(
            sub(2, currency="eur"), None, CustomerHistory(), NOW
        ),  # 10 % × 12
        BacktestRecord(
            sub(3, items=(item(120_000, "year"),)), None, CustomerHistory(), NOW
        ),
    ]
    report = backtest(policy, history, coupons=coupons)
    assert report.cost == {
        ("Q", None, None, "usd"): 7_500,
        ("F", None, None, "eur"): 12_000,
        ("A", None, None, "usd"): 1_500,
    }
    assert report.cost_by_currency == {"usd": 9_000, "eur": 12_000}
    assert backtest(policy, history[1:2], coupons=coupons, forever_months=24).cost == {
        ("F", None, None, "eur"): 24_000
    }


def test_report_rendering():
    """The text report lists rules, offers by arm, guard blocks and costs."""
    policy = RetentionPolicy(
        name="p",
        rules=[
            Rule(
                "exp",
                Segment(currencies="usd"),
                Experiment(
                    "e", [Arm("holdout", 1), Arm("ten", 1, Offer("TEN"))], salt="s"
                ),
            ),
        ],
        default=Offer("TEN"),
    )
    coupons = {"TEN": Coupon(id="TEN", duration=CouponDuration.ONCE, percent_off=10.0)}
    history = [
        BacktestRecord(sub(n), None, CustomerHistory(), NOW, "TEN") for n in range(40)
    ]
    history.append(
        BacktestRecord(
            sub(99, status=SubscriptionStatus.PAST_DUE, currency="eur"),
            None,
            CustomerHistory(),
            NOW,
        )
    )
    seen = []
    report = backtest(
        policy,
        history,
        coupons=coupons,
        on_decision=lambda r, d: seen.append(d.subscription),
    )
    assert seen == [r.subscription.id for r in history]
    text = report.render_text()
    assert "Backtest of policy p: 41 decisions" in text
    assert "TEN (e/ten)" in text
    assert "e/holdout" in text
    assert "Compared with the offers made at the time" in text
    data = report.to_dict()
    assert data["arms"][0]["experiment"] == "e"
    assert {row["arm"] for row in data["offered"]} == {"ten"}
    assert report.blocked == 1
    assert report.blocks_by_guard == {Guard.PAST_DUE: 1}
    assert data["blocks_by_guard"] == {"past_due": 1}
    assert "past_due" in text


def test_records_from_stripe():
    """Every subscription the gateway lists becomes a record at now, with ledger history."""

    class Gateway:
        def iter_subscriptions(self, *, status=None):
            assert status == "active"
            yield sub(1)
            yield sub(2)

        def retrieve_customer(self, customer):
            return CustomerSnapshot(id=customer, country="FR")

    class Ledger:
        def customer_history(self, customer_id):
            return CustomerHistory(attempts=int(customer_id[-1]))

    out = list(
        records_from_stripe(
            Gateway(), now=NOW, history=Ledger(), customers=True, status="active"
        )
    )
    assert [
        (r.subscription.id, r.at, r.history.attempts, r.customer.country) for r in out
    ] == [
        ("sub_1", NOW, 1, "FR"),
        ("sub_2", NOW, 2, "FR"),
    ]
    plain = list(records_from_stripe(Gateway(), now=NOW, status="active"))
    assert plain[0].customer is None
    assert plain[0].history == CustomerHistory()


def test_records_from_ledger():
    """Each recorded link becomes a record at its time, with the history before it."""
    ledger = MemoryLedger()
    for n, (customer, created, coupon) in enumerate(
        [
            ("cus_1", NOW - 50 * DAY, "TEN"),
            ("cus_1", NOW - 10 * DAY, None),
            ("cus_2", NOW, None),
        ]
    ):
        ledger.record_link(
            LinkRecord(
                session_id=f"bps_{n}",
                subscription_id=f"sub_{customer[-1]}",
                customer_id=customer,
                created=created,
                offered_coupon=coupon,
            )
        )
    snapshots = {"sub_1": sub(1), "sub_2": None}
    out = list(
        records_from_ledger(
            ledger, snapshots.get, customers=lambda c: CustomerSnapshot(id=c)
        )
    )
    assert [(r.at, r.history, r.offered) for r in out] == [
        (NOW - 50 * DAY, CustomerHistory(), "TEN"),
        (
            NOW - 10 * DAY,
            CustomerHistory(attempts=1, last_offered_at=NOW - 50 * DAY),
            "",
        ),
    ]
    assert out[0].customer == CustomerSnapshot(id="cus_1")

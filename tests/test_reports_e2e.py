"""End to end: many customers through FakeStripe's portal, then the report from the ledger and from Stripe."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import pytest

import cancelflow
from cancelflow import (
    Arm,
    Cancelflow,
    CancellationFeedback,
    Experiment,
    MemoryLedger,
    Offer,
    RetentionPolicy,
    Rule,
    Segment,
    SQLiteLedger,
    WebhookHandler,
    report_from_ledger,
    report_from_stripe,
)
from cancelflow._reports.cube import MONTH_SECONDS, tenure_band
from cancelflow._reports.stats import newcombe_interval
from cancelflow.testing import FakeStripe

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
REASONS = [m.value for m in CancellationFeedback]
CUSTOMERS = 36
PRICE = {"eur": 1500, "usd": 2000}


def plan(i: int) -> int:
    """What customer *i* does on the cancel page (see ``run``)."""
    return i % 6


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """36 customers went through the portal with known outcomes, recorded by webhooks."""
    fake = FakeStripe(start=START, seed=15)
    client = fake.client()
    sqlite = SQLiteLedger(tmp_path_factory.mktemp("e2e") / "ledger.db")
    memory = MemoryLedger()
    handlers: list[WebhookHandler] = []

    def endpoint(body, headers):
        for handler in handlers:
            handler.handle_webhook(body, headers["Stripe-Signature"])
        return 200

    secret = fake.add_webhook_endpoint(
        endpoint, events=["customer.subscription.*", "customer.discount.*"]
    )
    handlers.extend(
        WebhookHandler(secret, ledger=ledger) for ledger in (sqlite, memory)
    )
    prices = {
        currency: client.v1.prices.create(
            params={
                "currency": currency,
                "unit_amount": amount,
                "recurring": {"interval": "month"},
                "product_data": {"name": f"Plan {currency}"},
            }
        )
        for currency, amount in PRICE.items()
    }
    client.v1.coupons.create(
        params={"id": "STAY20", "percent_off": 20, "duration": "once"}
    )
    option = client.v1.billing.feedback_options.create(
        params={"description": "Too many notifications"}
    )
    fake.dashboard.save_portal_settings(
        features={
            "subscription_cancel": {
                "enabled": True,
                "mode": "at_period_end",
                "cancellation_reason": {
                    "enabled": True,
                    "options": REASONS,
                    "feedback_options": [option.id],
                },
            }
        }
    )
    policy = RetentionPolicy(
        name="e2e",
        rules=[
            Rule(
                "everyone",
                Segment(),
                Experiment(
                    "spring", [Arm("holdout", 1), Arm("twenty", 1, Offer("STAY20"))]
                ),
            )
        ],
    )
    flow = Cancelflow(
        client,
        allowed_hosts=["example.com"],
        return_url="https://example.com/account",
        policy=policy,
        ledger=sqlite,
        clock=fake.clock.now,
    )
    people = []
    for i in range(CUSTOMERS):
        currency = "usd" if i % 3 == 2 else "eur"
        customer = client.v1.customers.create(params={"name": f"Customer {i}"})
        # Classic billing mode: the portal's schedule sets canceled_at, the time
        # a report from Stripe places a cancellation at (flexible mode leaves it
        # empty until the end; tests/test_report_stripe.py covers that).
        sub = client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": prices[currency].id}],
                "billing_mode": {"type": "classic"},
            }
        )
        people.append(
            {"i": i, "customer": customer.id, "sub": sub, "currency": currency}
        )
        fake.clock.advance(dt.timedelta(days=3))
    since = fake.clock.now()
    for person in people:
        i = person["i"]
        link = flow.create_cancel_link(
            customer=person["customer"], subscription=person["sub"].id
        )
        person.update(
            link=link, arm=link.decision.arm, offered=link.coupon_id is not None
        )
        visit = fake.portal.visit(link.url)
        fake.clock.advance(60)
        what = plan(i)
        if what == 0 and person["offered"]:
            visit.accept_offer()
        elif what == 0:
            visit.cancel("too_expensive")
        elif what == 1:
            visit.cancel("missing_features")
        elif what == 2:
            visit.cancel("other", f"Customer {i}: <b>too slow</b>")
        elif what == 3:
            visit.abandon()
        elif what == 4:
            visit.cancel("unused")
            fake.clock.advance(3600)
            home = flow.create_portal_link(customer=person["customer"])
            fake.portal.visit(home.url).renew()
        else:
            visit.cancel(feedback_option=option.id)
        fake.clock.advance(600)
    until = fake.clock.now() + 1
    fake.clock.advance(dt.timedelta(days=31))  # the scheduled cancellations end
    for link in sqlite.links():
        memory.record_link(link)
    yield {
        "fake": fake,
        "client": client,
        "sqlite": sqlite,
        "memory": memory,
        "people": people,
        "option": option.id,
        "since": since,
        "until": until,
        "now": fake.clock.now(),
    }
    sqlite.close()


def ledger_report(shop, ledger):
    return report_from_ledger(
        shop[ledger], since=shop["since"], until=shop["until"], now=shop["now"]
    )


def cancelled(person) -> bool:
    what = plan(person["i"])
    return what in (1, 2, 5) or (what == 0 and not person["offered"])


def test_sqlite_and_memory_agree(shop):
    """The SQL report of the SQLite ledger equals the memory ledger's, case for case."""
    sql = ledger_report(shop, "sqlite")
    assert attrs.evolve(sql, source="memory") == ledger_report(shop, "memory")


def test_summary_reasons_and_option_match_the_plan(shop):
    """Counts, reasons, the custom option and MRR lost follow what each customer did."""
    people = shop["people"]
    got = ledger_report(shop, "sqlite")
    gone = [p for p in people if cancelled(p)]
    s = got.summary
    assert s.cases == CUSTOMERS
    assert (s.cancellations, s.ended, s.scheduled) == (len(gone), len(gone), 0)
    assert s.withdrawn == sum(plan(p["i"]) == 4 for p in people)
    assert s.saved == sum(plan(p["i"]) == 0 and p["offered"] for p in people)
    assert s.opened == sum(plan(p["i"]) == 3 for p in people)
    assert s.involuntary == 0
    lost = Counter()
    for p in gone:
        lost[p["currency"]] += PRICE[p["currency"]]
    assert dict(s.mrr_lost) == dict(lost)
    reasons = Counter()
    for p in gone:
        reasons[
            {0: "too_expensive", 1: "missing_features", 2: "other", 5: None}[
                plan(p["i"])
            ]
        ] += 1
    assert {r.key: r.count for r in got.reasons} == dict(reasons)
    assert [(o.key, o.count) for o in got.feedback_options] == [
        (shop["option"], reasons[None])
    ]
    assert sum(p.count for p in got.prices) == len(gone)
    assert {p.product_id for p in got.prices} == {
        s_["sub"]["items"]["data"][0]["price"]["product"] for s_ in gone
    }


def test_tenure_and_months_match_the_subscriptions(shop):
    """Tenure bands come from each subscription's start and its cancel link's time."""
    got = ledger_report(shop, "memory")
    bands = Counter(
        tenure_band((p["link"].created - p["sub"]["start_date"]) // MONTH_SECONDS)
        for p in shop["people"]
        if cancelled(p)
    )
    assert {t.key: t.count for t in got.tenure if t.count} == dict(bands)
    months = Counter(
        dt.datetime.fromtimestamp(p["link"].created, tz=dt.UTC).strftime("%Y-%m")
        for p in shop["people"]
        if cancelled(p)
    )
    assert {m.key: m.count for m in got.months} == dict(months)


def test_comments_are_the_customers_words(shop):
    """Every "other" comment is listed, newest first, as the customer typed it."""
    got = ledger_report(shop, "sqlite")
    writers = [p for p in shop["people"] if plan(p["i"]) == 2]
    assert got.comments_total == len(writers)
    assert [c.comment for c in got.comments] == [
        f"Customer {p['i']}: <b>too slow</b>" for p in reversed(writers)
    ]
    assert {c.customer_id for c in got.comments} == {p["customer"] for p in writers}


def test_offers_arms_and_revenue_match_the_plan(shop):
    """Save rates per arm, the lift over the holdout and the revenue kept follow the plan."""
    people = shop["people"]
    got = ledger_report(shop, "sqlite")
    arms = {a.arm: a for a in got.arms}
    stayed_if = {"holdout": (3, 4), "twenty": (0, 3, 4)}
    counts = {}
    for name, stays in stayed_if.items():
        mine = [p for p in people if p["arm"] == name]
        stayed = sum(plan(p["i"]) in stays for p in mine)
        counts[name] = (stayed, len(mine))
        arm = arms[name]
        assert (arm.attempts, arm.stayed) == (len(mine), stayed)
        assert arm.holdout is (name == "holdout")
    assert arms["twenty"].redeemed == got.summary.saved > 0
    lift = arms["twenty"].lift
    assert (lift.difference, lift.low, lift.high) == newcombe_interval(
        *counts["twenty"], *counts["holdout"]
    )
    (offer,) = got.offers
    assert (offer.coupon, offer.shown, offer.redeemed) == (
        "STAY20",
        counts["twenty"][1],
        got.summary.saved,
    )
    savers = [p for p in people if plan(p["i"]) == 0 and p["offered"]]
    by_currency = Counter()
    for p in savers:
        by_currency[p["currency"]] += PRICE[p["currency"]]
    for figures in got.revenue:
        kept = by_currency[figures.currency]
        assert figures.kept_mrr == kept
        assert figures.kept == 12 * kept
        assert figures.discount_cost == kept // 5  # 20 % off, once
        assert figures.net == 12 * kept - kept // 5
        assert figures.cancelled_later == 0


def test_stripe_report_gives_the_ledger_reason_figures(shop):
    """Read straight from Stripe, the reasons, option, prices, tenure and months equal the ledger's."""
    ledger = ledger_report(shop, "sqlite")
    stripe = report_from_stripe(
        shop["client"],
        since=shop["since"],
        until=shop["until"],
        now=shop["now"],
        page_size=7,
    )
    assert stripe.source == "stripe"
    assert stripe.summary.cancellations == ledger.summary.cancellations
    assert stripe.summary.mrr_lost == ledger.summary.mrr_lost
    for name in ("reasons", "feedback_options", "prices", "tenure", "months"):
        assert getattr(stripe, name) == getattr(ledger, name), name
    assert sorted(c.comment for c in stripe.comments) == sorted(
        c.comment for c in ledger.comments
    )
    assert (stripe.offers, stripe.arms, stripe.revenue) == ((), (), ())


def test_demo_style_text_report_names_the_reasons(shop):
    """The text report of the run shows Stripe's wording and the experiment's arms."""
    text = ledger_report(shop, "sqlite").render("text")
    assert "I need more features" in text
    assert "spring" in text and "holdout (no offer)" in text
    assert isinstance(cancelflow.Report, type)

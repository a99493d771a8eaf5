"""Cancel links whose coupon a retention policy chooses: end to end, sync and async."""

from __future__ import annotations

import asyncio

import pytest

from cancelflow import (
    Arm,
    Cancelflow,
    Decision,
    Experiment,
    Guard,
    MemoryLedger,
    NoOffer,
    Offer,
    Predicate,
    RetentionPolicy,
    Rule,
    Segment,
)
from cancelflow.exceptions import PolicyError
from recording import (
    NOW,
    RecordingHTTPClient,
    coupon_json,
    customer_json,
    subscription_json,
)

SESSIONS = "/v1/billing_portal/sessions"
RETENTION = "flow_data[subscription_cancel][retention][coupon_offer][coupon]"

POLICY = RetentionPolicy(
    name="test",
    rules=[
        Rule("annual", Segment(interval="year"), Offer("ANNUAL")),
        Rule("monthly", Segment(interval="month"), Offer("SAVE20")),
    ],
)


@pytest.fixture(name="recorder")
def _recorder():
    rec = RecordingHTTPClient()
    rec.subscriptions["sub_1"] = subscription_json(customer="cus_1", currency="eur")
    rec.subscriptions["sub_2"] = subscription_json(
        "sub_2", customer="cus_2", currency="eur"
    )
    rec.coupons["SAVE20"] = coupon_json("SAVE20", percent_off=20.0)
    rec.customers["cus_1"] = customer_json("cus_1", country="FR")
    return rec


@pytest.fixture(name="call", params=["sync", "async"])
def _call(request):
    """create_cancel_link, called the sync or the async way."""

    def call(flow, **kwargs):
        if request.param == "sync":
            return flow.create_cancel_link(**kwargs)
        return asyncio.run(flow.create_cancel_link_async(**kwargs))

    return call


def make_flow(recorder, **kwargs):
    return Cancelflow(
        recorder.client(),
        allowed_hosts=["example.com"],
        return_url="https://example.com/account",
        clock=lambda: NOW,
        **kwargs,
    )


def offered_in_session(recorder):
    (post,) = recorder.calls("post", SESSIONS)[-1:]
    return post.form.get(RETENTION)


def test_policy_chooses_the_coupon(recorder, call):
    """Without a coupon, the policy's choice goes on the link, with its decision."""
    link = call(
        make_flow(recorder, policy=POLICY), customer="cus_1", subscription="sub_1"
    )
    assert link.coupon_id == "SAVE20"
    assert offered_in_session(recorder) == "SAVE20"
    assert link.decision.rule == "monthly"
    assert link.decision.policy == "test"
    assert "coupon SAVE20 is offered" in link.decision.explain()


def test_per_call_policy_overrides_the_default(recorder, call):
    """A policy given to create_cancel_link replaces the one given to Cancelflow."""
    none = RetentionPolicy(rules=[Rule("never", Segment(), NoOffer())])
    link = call(
        make_flow(recorder, policy=POLICY),
        customer="cus_1",
        subscription="sub_1",
        policy=none,
    )
    assert link.coupon_id is None
    assert offered_in_session(recorder) is None
    assert link.decision.rule == "never"


def test_explicit_coupon_wins(recorder, call):
    """An explicit coupon is used as given; the policy is not consulted."""
    link = call(
        make_flow(recorder, policy=RetentionPolicy(rules=[], default=Offer("X"))),
        customer="cus_1",
        subscription="sub_1",
        coupon="SAVE20",
    )
    assert link.coupon_id == "SAVE20"
    assert link.decision is None


def test_decision_is_recorded_with_the_link(recorder, call):
    """The ledger keeps the decision (as JSON), the experiment, the arm and the offer's terms with the link."""
    ledger = MemoryLedger()
    experiment = Experiment("e", [Arm("only", 1, Offer("SAVE20"))])
    policy = RetentionPolicy(rules=[Rule("exp", Segment(), experiment)])
    link = call(
        make_flow(recorder, policy=policy, ledger=ledger),
        customer="cus_1",
        subscription="sub_1",
    )
    (record,) = ledger.links()
    assert record.offered_coupon == "SAVE20"
    assert record.arm == "only"
    assert record.decision == link.decision.to_dict()
    assert record.experiment == "e"
    assert record.mrr
    assert (record.offer_discount, record.offer_months) == (record.mrr // 5, 1)
    (case,) = ledger.cases()
    assert (case.arm, case.offered_coupon) == ("only", "SAVE20")
    assert (case.experiment, case.offer_discount, case.offer_months) == (
        "e",
        record.mrr // 5,
        1,
    )
    assert Decision.from_dict(case.decision) == link.decision


def test_cooldown_comes_from_the_ledger(recorder, call):
    """A second link soon after an offer gets none: the ledger says it was offered."""
    ledger = MemoryLedger()
    flow = make_flow(recorder, policy=POLICY, ledger=ledger)
    first = call(flow, customer="cus_1", subscription="sub_1")
    second = call(flow, customer="cus_1", subscription="sub_1")
    assert first.coupon_id == "SAVE20"
    assert second.coupon_id is None
    assert second.decision.guards == {Guard.COOLDOWN}
    assert offered_in_session(recorder) is None


def test_coupon_facts_are_cached(recorder, call):
    """The coupon's facts are fetched once per ttl, not once per link."""
    flow = make_flow(recorder, policy=POLICY)
    call(flow, customer="cus_1", subscription="sub_1")
    call(flow, customer="cus_2", subscription="sub_2")
    assert len(recorder.calls("get", "/v1/coupons/SAVE20")) == 1
    short = make_flow(recorder, policy=POLICY, coupon_ttl=0)
    call(short, customer="cus_1", subscription="sub_1")
    call(short, customer="cus_1", subscription="sub_1")
    assert len(recorder.calls("get", "/v1/coupons/SAVE20")) == 3


def test_missing_coupon_means_no_offer(recorder, call):
    """A coupon the policy names but Stripe lacks is blocked, and the link still made."""
    policy = RetentionPolicy(rules=[], default=Offer("GONE"))
    link = call(
        make_flow(recorder, policy=policy), customer="cus_1", subscription="sub_1"
    )
    assert link.coupon_id is None
    assert [(b.guard, b.code) for b in link.decision.blocked_by] == [
        (Guard.COUPON, "not_found")
    ]
    assert offered_in_session(recorder) is None


def test_customer_is_retrieved_only_when_a_rule_needs_it(recorder, call):
    """Country rules fetch the customer; other policies never do."""
    call(make_flow(recorder, policy=POLICY), customer="cus_1", subscription="sub_1")
    assert recorder.calls("get", "/v1/customers") == []
    countries = RetentionPolicy(
        rules=[Rule("fr", Segment(countries="FR"), Offer("SAVE20"))]
    )
    link = call(
        make_flow(recorder, policy=countries), customer="cus_1", subscription="sub_1"
    )
    assert len(recorder.calls("get", "/v1/customers/cus_1")) == 1
    assert link.decision.rule == "fr"


def test_a_failing_predicate_stops_the_link(recorder, call):
    """A custom predicate that raises is a PolicyError, and no session is created."""

    def broken(context):
        raise RuntimeError("boom")

    policy = RetentionPolicy(
        rules=[Rule("b", Segment(predicate=Predicate("b", broken)), NoOffer())]
    )
    with pytest.raises(PolicyError, match="boom"):
        call(make_flow(recorder, policy=policy), customer="cus_1", subscription="sub_1")
    assert recorder.calls("post", SESSIONS) == []

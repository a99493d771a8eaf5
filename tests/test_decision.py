"""Decision: explanations in plain words, and a lossless JSON round trip."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given, settings

from cancelflow import Decision, Guard, GuardBlock, Offer
from cancelflow._policy.decision import FORMAT_VERSION
from cancelflow.exceptions import InvalidInputError
from policy_strategies import (
    NOW,
    coupon_maps,
    customers,
    histories,
    policies,
    subscriptions,
)

BASE = {
    "subscription": "sub_1",
    "customer": "cus_1",
    "decided_at": NOW,
    "rule": "annual plans",
    "segment": "billed year",
}


def test_explain_offer_made():
    """An offer that passed the guards is explained as offered."""
    decision = Decision(
        **BASE, proposed=Offer("RETAIN20"), offer=Offer("RETAIN20"), policy="2026"
    )
    assert decision.explain() == (
        "Subscription sub_1 of customer cus_1 matched rule 'annual plans' (billed "
        "year) of policy '2026'. The rule offers coupon RETAIN20. No guard blocked "
        "it, so coupon RETAIN20 is offered."
    )
    assert decision.coupon == "RETAIN20"
    assert not decision.blocked


def test_explain_blocked():
    """A blocked offer is explained with every guard and its reason."""
    blocks = (
        GuardBlock(
            Guard.EXISTING_DISCOUNT,
            "existing_discount",
            "the subscription already carries a discount (di_1)",
        ),
        GuardBlock(Guard.COUPON, "used_up", "coupon X: it has reached max_redemptions"),
    )
    decision = Decision(**BASE, proposed=Offer("X"), blocked_by=blocks)
    text = decision.explain()
    assert "The rule offers coupon X." in text
    assert (
        "existing_discount: the subscription already carries a discount (di_1)" in text
    )
    assert "coupon: coupon X: it has reached max_redemptions" in text
    assert text.endswith("so no retention offer is made.")
    assert decision.guards == {Guard.EXISTING_DISCOUNT, Guard.COUPON}
    assert "\n" not in text


def test_explain_holdout_and_default():
    """A holdout arm and the default rule read as such."""
    holdout = Decision(
        **{**BASE, "rule": "default", "segment": "everyone"},
        experiment="q3",
        arm="holdout",
        bucket=42,
        blocked_by=(
            GuardBlock(
                Guard.TRIALING, "trialing", "the subscription's status is trialing"
            ),
        ),
    )
    text = holdout.explain()
    assert text.startswith(
        "Subscription sub_1 of customer cus_1 matched no rule, so the default applied."
    )
    assert "arm 'holdout' (bucket 42 of 10,000), a no-offer holdout." in text
    assert "would also have been blocked" in text
    assert holdout.holdout
    none = Decision(**BASE)
    assert none.explain().endswith(
        "The rule makes no offer. No retention offer is made."
    )


def test_json_round_trip_example():
    """to_json/from_json and to_dict/from_dict give back an equal decision."""
    decision = Decision(
        **BASE,
        proposed=Offer("X", replace_discount=True),
        experiment="e",
        arm="a",
        bucket=9_999,
        blocked_by=(GuardBlock(Guard.COOLDOWN, "cooldown", "très récent"),),
        policy="p",
    )
    assert Decision.from_json(decision.to_json()) == decision
    assert Decision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision
    assert decision.to_dict()["v"] == FORMAT_VERSION


@settings(max_examples=80)
@given(policies(), subscriptions(), customers, histories, coupon_maps())
def test_json_round_trip_of_any_decision(
    policy, subscription, customer, history, coupons
):
    """Every decision a policy makes survives the ledger's JSON round trip."""
    decision = policy.decide(
        subscription, now=NOW, customer=customer, history=history, coupons=coupons
    )
    assert Decision.from_json(decision.to_json()) == decision
    assert decision.explain()


@settings(max_examples=60)
@given(policies(), subscriptions(), customers, histories, coupon_maps())
def test_policy_decisions_equal_constructed_ones(
    policy, subscription, customer, history, coupons
):
    """The policy's fast path (trusted_decision) builds what Decision(...) builds."""
    decision = policy.decide(
        subscription, now=NOW, customer=customer, history=history, coupons=coupons
    )
    fields = vars(decision)
    assert set(fields) == {f.name for f in attrs.fields(Decision)}
    rebuilt = Decision(**fields)
    assert rebuilt == decision
    assert vars(rebuilt) == fields
    assert type(decision.blocked_by) is tuple
    assert hash(rebuilt) == hash(decision)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[]", "decision: expected an object"),
        ("{", "not JSON"),
        (
            '{"customer": "c", "decided_at": 1, "rule": "r"}',
            "decision.subscription: missing",
        ),
        (
            '{"subscription": "s", "customer": "c", "decided_at": "1", "rule": "r"}',
            "decision.decided_at: expected int",
        ),
        (
            '{"subscription": "s", "customer": "c", "decided_at": true, "rule": "r"}',
            "decision.decided_at: expected int",
        ),
        (
            '{"subscription": "s", "customer": "c", "decided_at": 1, "rule": "r", "offer": {"coupon": ""}}',
            "decision.offer.coupon: empty",
        ),
        (
            '{"subscription": "s", "customer": "c", "decided_at": 1, "rule": "r", "blocked_by": {}}',
            "decision.blocked_by: expected a list",
        ),
        (
            (
                '{"subscription": "s", "customer": "c", "decided_at": 1, "rule": "r", '
                '"blocked_by": [{"guard": "moon", "code": "x", "detail": "y"}]}'
            ),
            "unknown guard 'moon'",
        ),
        (
            '{"v": 99, "subscription": "s", "customer": "c", "decided_at": 1, "rule": "r"}',
            "upgrade cancelflow",
        ),
    ],
)
def test_bad_json_is_refused_clearly(data, message):
    """Malformed decision JSON raises InvalidInputError naming the field."""
    with pytest.raises(InvalidInputError, match=message):
        Decision.from_json(data)

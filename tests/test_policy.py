"""RetentionPolicy: first match wins, the default, experiments, totality and determinism."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings

from cancelflow import (
    Arm,
    Coupon,
    CouponDuration,
    DecisionContext,
    Experiment,
    Guards,
    NoOffer,
    Offer,
    Predicate,
    Range,
    RetentionPolicy,
    Rule,
    Segment,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow._policy.policy import example_policy, lookup_for
from cancelflow.exceptions import InvalidParameterError, PolicyError
from policy_strategies import (
    NOW,
    coupon_maps,
    customers,
    histories,
    policies,
    subscriptions,
)

TEN = Coupon(id="TEN", duration=CouponDuration.ONCE, percent_off=10.0)
TWENTY = Coupon(id="TWENTY", duration=CouponDuration.ONCE, percent_off=20.0)
COUPONS = {"TEN": TEN, "TWENTY": TWENTY}


def sub(interval="month", **over) -> SubscriptionSnapshot:
    base = {
        "id": "sub_1",
        "customer": "cus_1",
        "status": SubscriptionStatus.ACTIVE,
        "currency": "usd",
        "items": (
            SubscriptionItemSnapshot(
                id="si_1",
                price_id="price_1",
                product_id="prod_1",
                interval=interval,
                unit_amount=2_000,
            ),
        ),
    }
    base.update(over)
    return SubscriptionSnapshot(**base)


def policy(*rules, **kwargs) -> RetentionPolicy:
    return RetentionPolicy(rules=list(rules), **kwargs)


class TestRules:
    def test_first_matching_rule_wins(self):
        """The first rule whose segment matches decides, even if later ones match too."""
        p = policy(
            Rule("annual", Segment(interval="year"), Offer("TWENTY")),
            Rule("monthly", Segment(interval="month"), Offer("TEN")),
            Rule("everyone", Segment(), NoOffer()),
        )
        decision = p.decide(sub("month"), now=NOW, coupons=COUPONS)
        assert decision.rule == "monthly"
        assert decision.coupon == "TEN"
        assert p.decide(sub("year"), now=NOW, coupons=COUPONS).coupon == "TWENTY"

    def test_default_applies_when_nothing_matches(self):
        """With no matching rule the default decides (no offer unless said)."""
        p = policy(Rule("annual", Segment(interval="year"), Offer("TWENTY")))
        decision = p.decide(sub("month"), now=NOW, coupons=COUPONS)
        assert decision.rule == "default"
        assert decision.offer is None
        assert decision.segment == "everyone"
        p = policy(default=Offer("TEN"))
        assert p.decide(sub(), now=NOW, coupons=COUPONS).coupon == "TEN"

    def test_explicit_no_offer(self):
        """A NoOffer rule decides no offer and stops the search."""
        p = policy(
            Rule("none", Segment(currencies="usd"), NoOffer()),
            Rule("ten", Segment(), Offer("TEN")),
        )
        decision = p.decide(sub(), now=NOW, coupons=COUPONS)
        assert (decision.rule, decision.proposed, decision.offer) == (
            "none",
            None,
            None,
        )

    def test_experiment_assigns_an_arm(self):
        """An experiment rule records the experiment, arm and bucket."""
        experiment = Experiment(
            "e", [Arm("holdout", 1), Arm("ten", 1, Offer("TEN"))], salt="fixed"
        )
        p = policy(Rule("exp", Segment(), experiment))
        seen = set()
        for n in range(40):
            s = sub(customer=f"cus_{n}")
            decision = p.decide(s, now=NOW, coupons=COUPONS)
            arm, bucket = experiment.assign(f"cus_{n}")
            assert (decision.experiment, decision.arm, decision.bucket) == (
                "e",
                arm.name,
                bucket,
            )
            assert decision.coupon == (None if arm.holdout else "TEN")
            assert decision.holdout is arm.holdout
            seen.add(decision.arm)
        assert seen == {"holdout", "ten"}

    def test_history_feeds_attempt_segments(self):
        """Rules on earlier attempts read the ledger history passed in."""
        from cancelflow._policy.history import CustomerHistory

        p = policy(
            Rule("repeat", Segment(attempts=Range(min=2)), NoOffer()),
            default=Offer("TEN"),
        )
        first = p.decide(sub(), now=NOW, coupons=COUPONS)
        third = p.decide(
            sub(), now=NOW, coupons=COUPONS, history=CustomerHistory(attempts=2)
        )
        assert first.coupon == "TEN"
        assert third.rule == "repeat"

    def test_coupon_sources(self):
        """Coupons can come as a mapping, a CouponSource, or not at all."""

        class Source:
            def get_coupon(self, coupon_id):
                return COUPONS.get(coupon_id)

        p = policy(default=Offer("TEN"))
        assert p.decide(sub(), now=NOW, coupons=Source()).coupon == "TEN"
        assert p.decide(sub(), now=NOW, coupons=None).coupon is None
        with pytest.raises(InvalidParameterError) as info:
            lookup_for(42)  # type: ignore[arg-type]
        assert info.value.field == "coupons"

    @pytest.mark.parametrize("rules", [5, "rule", None])
    def test_rules_must_be_a_list(self, rules):
        """A policy refuses rules that are not a list of Rule, naming the key."""
        with pytest.raises(PolicyError) as info:
            RetentionPolicy(rules=rules)
        assert info.value.key_path == "rules"

    def test_introspection(self):
        """A policy lists its coupons, experiments and rules (default last)."""
        p = example_policy()
        assert p.coupon_ids == {"RETAIN10", "RETAIN20", "RETAIN25"}
        assert [e.name for e in p.experiments] == ["monthly-discount"]
        assert p.all_rules[-1].name == "default"

    def test_predicate_errors_name_the_rule(self):
        """A custom predicate that raises becomes a PolicyError naming its rule."""

        def broken(context):
            raise KeyError("plan")

        p = policy(
            Rule("fine", Segment(currencies="eur"), NoOffer()),
            Rule("broken", Segment(predicate=Predicate("broken", broken)), NoOffer()),
        )
        with pytest.raises(PolicyError) as info:
            p.decide(sub(), now=NOW)
        assert info.value.key_path == "rules[1].segment"
        assert "broken" in str(info.value)
        assert isinstance(info.value.__cause__, KeyError)

    def test_shape_index_is_a_cache(self):
        """Rules are indexed per subscription shape; results never depend on it."""
        p = policy(
            Rule("eur", Segment(currencies="eur"), Offer("TEN")),
            Rule("usd annual", Segment(currencies="usd", interval="year"), NoOffer()),
        )
        for s in (sub("year"), sub("month"), sub("year", currency="eur")):
            first = p.decide(s, now=NOW, coupons=COUPONS)
            assert p.decide(s, now=NOW, coupons=COUPONS) == first
        assert len(p._index) == 3

    def test_policies_pickle(self):
        """A policy (and its decisions) survive pickling, e.g. to worker processes."""
        p = example_policy()
        copy = pickle.loads(pickle.dumps(p))
        assert copy == p
        s = sub()
        assert copy.decide(s, now=NOW) == p.decide(s, now=NOW)


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "key_path"),
        [
            (lambda: Rule("", Segment(), NoOffer()), "name"),
            (lambda: Rule("r", "everyone", NoOffer()), "segment"),
            (lambda: Rule("r", Segment(), "TEN"), "outcome"),
            (lambda: Offer(""), "coupon"),
            (lambda: Offer("A B"), "coupon"),
            (lambda: Offer("a/b"), "coupon"),
            (lambda: Offer("what?"), "coupon"),
            (lambda: Offer("X" * 5001), "coupon"),
            (lambda: Arm("x", 1, Offer("A B")), "coupon"),
            (lambda: Offer("X", replace_discount="yes"), "replace_discount"),
            (
                lambda: policy(
                    Rule("a", Segment(), NoOffer()), Rule("a", Segment(), NoOffer())
                ),
                "rules[1].name",
            ),
            (lambda: policy(Rule("default", Segment(), NoOffer())), "rules[0].name"),
            (lambda: policy("rule"), "rules[0]"),
            (lambda: policy(default="none"), "default"),
            (lambda: policy(guards={}), "guards"),
            (lambda: policy(name=""), "name"),
            (lambda: Guards(cooldown_days=-1), "cooldown_days"),
            (lambda: Guards(trialing="no"), "trialing"),
            (
                lambda: policy(
                    Rule("a", Segment(), Experiment("e", [Arm("x", 1)])),
                    Rule("b", Segment(), Experiment("e", [Arm("y", 1)])),
                ),
                "rules[1].experiment.name",
            ),
        ],
    )
    def test_invalid(self, build, key_path):
        """Invalid rules and policies raise PolicyError naming the key."""
        with pytest.raises(PolicyError) as info:
            build()
        assert info.value.key_path == key_path

    def test_same_experiment_in_two_rules_is_fine(self):
        """One experiment may run in several rules (same arms, same name)."""
        e = Experiment("e", [Arm("x", 1)])
        p = policy(Rule("a", Segment(interval="year"), e), Rule("b", Segment(), e))
        assert p.experiments == (e,)


@settings(max_examples=150)
@given(policies(), subscriptions(), customers, histories, coupon_maps())
def test_policy_is_total_and_deterministic(
    policy, subscription, customer, history, coupons
):
    """Any valid snapshot gets a decision, never an exception, and the same one twice."""
    first = policy.decide(
        subscription, now=NOW, customer=customer, history=history, coupons=coupons
    )
    again = policy.decide(
        subscription, now=NOW, customer=customer, history=history, coupons=coupons
    )
    assert first == again
    assert first.rule in {r.name for r in policy.all_rules}
    assert first.offer is None or first.offer == first.proposed
    assert (first.offer is None) == (first.proposed is None or bool(first.blocked_by))
    fresh = pickle.loads(pickle.dumps(policy))  # a fresh index, another "process"
    assert (
        fresh.decide(
            subscription, now=NOW, customer=customer, history=history, coupons=coupons
        )
        == first
    )


@settings(max_examples=100)
@given(policies(), subscriptions(), customers, histories, coupon_maps())
def test_index_agrees_with_a_plain_scan(
    policy, subscription, customer, history, coupons
):
    """The matched rule is the first whose segment matches, scanning plainly."""
    context = DecisionContext(subscription, now=NOW, customer=customer, history=history)
    expected = next(
        (r.name for r in policy.rules if r.segment.matches(context)), "default"
    )
    assert (
        policy.decide(
            subscription, now=NOW, customer=customer, history=history, coupons=coupons
        ).rule
        == expected
    )

"""Segments: each condition, the combinators, descriptions and the shape index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from cancelflow import (
    AllOf,
    AnyOf,
    CustomerSnapshot,
    DecisionContext,
    Not,
    Predicate,
    Range,
    Segment,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow._policy.history import CustomerHistory
from cancelflow._policy.segments import shape_key
from cancelflow.exceptions import PolicyError
from policy_strategies import (
    NOW,
    customers,
    histories,
    plain_segments,
    segments,
    subscriptions,
)

DAY = 86_400


def sub(**over) -> SubscriptionSnapshot:
    base = {
        "id": "sub_1",
        "customer": "cus_1",
        "status": SubscriptionStatus.ACTIVE,
        "currency": "usd",
        "items": (
            SubscriptionItemSnapshot(
                id="si_1",
                price_id="price_pro_monthly",
                product_id="prod_pro",
                interval="month",
                unit_amount=4_900,
            ),
        ),
        "start_date": NOW - 400 * DAY,
        "metadata": {"plan": "pro"},
    }
    base.update(over)
    return SubscriptionSnapshot(**base)


def ctx(subscription=None, *, customer=None, history=None) -> DecisionContext:
    return DecisionContext(
        subscription or sub(), now=NOW, customer=customer, history=history
    )


FR = CustomerSnapshot(
    id="cus_1", country="FR", created=NOW - 10 * DAY, metadata={"vip": "yes"}
)


class TestConditions:
    @pytest.mark.parametrize(
        ("segment", "expected"),
        [
            (Segment(), True),
            (Segment(prices="price_pro_monthly"), True),
            (Segment(prices=["price_other"]), False),
            (Segment(products={"prod_pro", "prod_x"}), True),
            (Segment(products="prod_x"), False),
            (Segment(interval="month"), True),
            (Segment(interval=["year", "week"]), False),
            (Segment(interval="month", interval_count=1), True),
            (Segment(interval="month", interval_count=3), False),
            (Segment(interval_count=1), True),
            (Segment(mrr=Range(min=4_900)), True),
            (Segment(mrr=Range(max=4_899)), False),
            (Segment(mrr=Range(4_000, 5_000)), True),
            (Segment(currencies="USD"), True),
            (Segment(currencies=["eur"]), False),
            (Segment(tenure_days=Range(min=365)), True),
            (Segment(tenure_days=Range(max=30)), False),
            (Segment(trialing=False), True),
            (Segment(trialing=True), False),
            (Segment(metadata={"plan": "pro"}), True),
            (Segment(metadata={"plan": ["team", "pro"]}), True),
            (Segment(metadata={"plan": "team"}), False),
            (Segment(metadata={"plan": True}), True),
            (Segment(metadata={"plan": False}), False),
            (Segment(metadata={"missing": False}), True),
            (Segment(attempts=Range(max=0)), True),
            (Segment(attempts=Range(min=1)), False),
        ],
    )
    def test_subscription_conditions(self, segment, expected):
        """Each subscription condition matches exactly when its fact holds."""
        assert segment.matches(ctx()) is expected

    def test_customer_conditions_need_a_customer(self):
        """Country and customer metadata never match when the customer is unknown."""
        assert not Segment(countries="FR").matches(ctx())
        assert not Segment(customer_metadata={"vip": False}).matches(ctx())
        assert not Segment(customer_tenure_days=Range(min=0)).matches(ctx())

    def test_customer_conditions(self):
        """Country (any case), customer metadata and customer tenure read the customer."""
        c = ctx(customer=FR)
        assert Segment(countries="fr").matches(c)
        assert not Segment(countries={"US"}).matches(c)
        assert Segment(customer_metadata={"vip": "yes"}).matches(c)
        assert Segment(customer_tenure_days=Range(max=10)).matches(c)
        assert not Segment(customer_tenure_days=Range(min=11)).matches(c)

    def test_attempts_come_from_history(self):
        """The attempts condition counts earlier attempts from the ledger."""
        c = ctx(history=CustomerHistory(attempts=3))
        assert Segment(attempts=Range(min=3)).matches(c)
        assert not Segment(attempts=Range(max=2)).matches(c)

    def test_unknown_tenure_never_matches(self):
        """A subscription without start_date or created matches no tenure range."""
        c = ctx(sub(start_date=None, created=None))
        assert not Segment(tenure_days=Range(min=0)).matches(c)

    def test_trialing(self):
        """trialing=True matches a trialing subscription only."""
        c = ctx(sub(status=SubscriptionStatus.TRIALING))
        assert Segment(trialing=True).matches(c)
        assert not Segment(trialing=False).matches(c)

    def test_predicate(self):
        """A custom predicate receives the context and decides."""
        seen = []

        def big(context):
            seen.append(context.subscription.id)
            return context.mrr > 1_000

        assert Segment(predicate=Predicate("big", big)).matches(ctx())
        assert seen == ["sub_1"]

    def test_all_conditions_must_hold(self):
        """A segment with several conditions needs every one of them."""
        assert Segment(interval="month", currencies="usd").matches(ctx())
        assert not Segment(interval="month", currencies="eur").matches(ctx())


class TestCombinators:
    def test_operators(self):
        """&, | and ~ build AllOf, AnyOf and Not with the expected truth."""
        yes, no = Segment(currencies="usd"), Segment(currencies="eur")
        assert isinstance(yes & no, AllOf)
        assert isinstance(yes | no, AnyOf)
        assert isinstance(~no, Not)
        assert not (yes & no).matches(ctx())
        assert (yes | no).matches(ctx())
        assert (~no).matches(ctx())
        assert not AnyOf([]).matches(ctx())
        assert AllOf([]).matches(ctx())

    def test_describe(self):
        """Descriptions read as short English for explanations."""
        segment = Segment(interval="year", mrr=Range(min=5_000), countries=["FR", "BE"])
        assert (
            segment.describe() == "billed year and MRR ≥ 5000 and country in {BE, FR}"
        )
        assert Segment().describe() == "everyone"
        combined = Segment(currencies="usd") | ~Segment(trialing=True)
        assert combined.describe() == "currency in usd or not (trialing)"
        assert Range(1, 1).describe("x") == "x = 1"
        assert Range(1, 3).describe("x") == "x 1..3"
        assert Range(max=3).describe("x") == "x ≤ 3"
        assert Range().describe("x") == "any x"

    def test_equal_segments_hash_alike(self):
        """Segments are values: equal fields, equal and hashable."""
        a = Segment(prices=["p", "q"], metadata={"plan": ["a", "b"]})
        b = Segment(prices={"q", "p"}, metadata={"plan": ("b", "a")})
        assert a == b
        assert hash(a) == hash(b)
        assert Predicate("x", lambda c: True) == Predicate("x", lambda c: False)


class TestValidation:
    @pytest.mark.parametrize(
        ("build", "key_path"),
        [
            (lambda: Range(5, 1), "min"),
            (lambda: Range("1"), "min"),
            (lambda: Segment(interval="fortnight"), "interval"),
            (lambda: Segment(interval_count=0), "interval_count"),
            (lambda: Segment(mrr=(1, 2)), "mrr"),
            (lambda: Segment(trialing="yes"), "trialing"),
            (lambda: Segment(prices=[""]), "prices"),
            (lambda: Segment(prices=5), "prices"),
            (lambda: Segment(products=[5]), "products"),
            (lambda: Segment(currencies=b"eur"), "currencies"),
            (lambda: Segment(countries=3.5), "countries"),
            (lambda: Segment(metadata=5), "metadata"),
            (lambda: Segment(metadata={"plan": None}), "metadata.plan"),
            (lambda: Segment(metadata={"plan": []}), "metadata.plan"),
            (lambda: Segment(metadata={"": True}), "metadata"),
            (lambda: Segment(customer_metadata=[("a",)]), "customer_metadata"),
            (lambda: Segment(predicate=len), "predicate"),
            (lambda: Predicate("", lambda c: True), "predicate"),
            (lambda: Predicate("x", 3), "predicate"),
            (lambda: AllOf([3]), "[0]"),
            (lambda: AllOf(3), "conditions"),
            (lambda: Segment(prices=[["a"]]), "prices"),
            (lambda: Segment(countries=[{}]), "countries"),
            (lambda: Segment(metadata={"plan": [["a"]]}), "metadata.plan"),
            (lambda: AnyOf("ab"), "conditions"),
            (lambda: Not(3), "not"),
        ],
    )
    def test_bad_values_name_the_key(self, build, key_path):
        """A bad condition raises PolicyError naming the key."""
        with pytest.raises(PolicyError) as info:
            build()
        assert info.value.key_path == key_path


@settings(max_examples=150)
@given(segments, subscriptions(), customers, histories)
def test_prefilter_and_residual_agree_with_matches(
    segment, subscription, customer, history
):
    """The shape index never changes a result: matches ⟺ prefilter ∧ residual."""
    c = DecisionContext(subscription, now=NOW, customer=customer, history=history)
    residual = segment.residual()
    indexed = segment.prefilter(shape_key(subscription)) and (
        residual is None or residual(c)
    )
    assert indexed == segment.matches(c) == segment.compile()(c)


@settings(max_examples=60)
@given(plain_segments(), subscriptions(), customers, histories)
def test_segment_is_the_conjunction_of_its_conditions(
    segment, subscription, customer, history
):
    """A segment matches iff each of its single conditions does on its own."""
    c = DecisionContext(subscription, now=NOW, customer=customer, history=history)
    singles = [
        Segment(**{name: getattr(segment, name)})
        for name in (
            "prices",
            "products",
            "mrr",
            "currencies",
            "tenure_days",
            "customer_tenure_days",
            "trialing",
            "countries",
            "metadata",
            "customer_metadata",
            "attempts",
            "predicate",
        )
        if getattr(segment, name) is not None
    ]
    if segment.interval is not None or segment.interval_count is not None:
        singles.append(
            Segment(interval=segment.interval, interval_count=segment.interval_count)
        )
    assert segment.matches(c) == all(s.matches(c) for s in singles)

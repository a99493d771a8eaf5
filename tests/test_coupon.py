"""Coupon: parsing Stripe's coupon and the pure checks against a subscription."""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import Coupon, CouponDuration, CouponProblem, SubscriptionSnapshot
from cancelflow.exceptions import CancelflowError, StripeObjectError
from recording import NOW, coupon_json, subscription_json

SUB = SubscriptionSnapshot.from_stripe(
    subscription_json(currency="eur", product="prod_1", unit_amount=1500)
)


def coupon(**over):
    return Coupon.from_stripe(coupon_json(**over))


class TestParse:
    def test_percent_coupon(self):
        """A percent-off coupon keeps its facts."""
        c = coupon(id="SAVE20", percent_off=20.0, duration="repeating")
        assert c.id == "SAVE20"
        assert c.percent_off == 20.0
        assert c.amount_off is None
        assert c.duration is CouponDuration.REPEATING
        assert c.duration_in_months == 3

    def test_amount_coupon_with_currency_options(self):
        """currency_options amounts are read per currency, lower-cased."""
        c = Coupon.from_stripe(
            {
                **coupon_json(amount_off=500, currency="USD"),
                "currency_options": {
                    "EUR": {"amount_off": 450},
                    "gbp": {"amount_off": 400},
                },
            }
        )
        assert c.currency == "usd"
        assert c.amount_off_in("usd") == 500
        assert c.amount_off_in("EUR") == 450
        assert c.amount_off_in("gbp") == 400
        assert c.amount_off_in("jpy") is None

    def test_applies_to(self):
        """applies_to.products becomes a set; an empty list means no restriction."""
        assert coupon(products=["prod_1", "prod_2"]).applies_to_products == {
            "prod_1",
            "prod_2",
        }
        assert coupon(products=[]).applies_to_products is None
        assert coupon().applies_to_products is None

    @pytest.mark.parametrize(
        ("over", "path"),
        [
            ({"duration": "weekly"}, "coupon.duration"),
            ({"percent_off": "20"}, "coupon.percent_off"),
            ({"percent_off": -5.0}, "coupon.percent_off"),
            ({"percent_off": 100.01}, "coupon.percent_off"),
            ({"percent_off": float("nan")}, "coupon.percent_off"),
            ({"percent_off": 10**400}, "coupon.percent_off"),  # beyond a float
            ({"applies_to": {"products": [1]}}, "coupon.applies_to.products[0]"),
            ({"id": None}, "coupon.id"),
        ],
    )
    def test_bad_shapes(self, over, path):
        """Bad fields raise StripeObjectError naming the path."""
        with pytest.raises(StripeObjectError) as info:
            Coupon.from_stripe({**coupon_json(), **over})
        assert info.value.path == path

    @given(
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "duration",
                    "percent_off",
                    "amount_off",
                    "currency",
                    "currency_options",
                    "applies_to",
                    "valid",
                    "times_redeemed",
                    "max_redemptions",
                    "redeem_by",
                    "metadata",
                ]
            ),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(-5, 5),
                st.floats(allow_nan=False),
                st.text(max_size=5),
                st.sampled_from(["once", "forever", "repeating"]),
                st.lists(st.text(max_size=3), max_size=2),
                st.dictionaries(
                    st.text(max_size=3), st.integers() | st.text(max_size=3)
                ),
            ),
        )
    )
    def test_any_shape_parses_or_raises_cancelflow_error(self, data):
        """Any coupon-shaped dict parses or raises CancelflowError, never KeyError/TypeError."""
        try:
            c = Coupon.from_stripe(data)
        except CancelflowError:
            return
        assert c.id == data["id"]


class TestProblems:
    def test_a_good_coupon_has_none(self):
        """A valid percent coupon fits any subscription."""
        assert coupon().problems(SUB, now=NOW) == []

    @pytest.mark.parametrize(
        ("over", "expected"),
        [
            ({"valid": False}, [CouponProblem.NOT_VALID]),
            (
                {"max_redemptions": 3, "times_redeemed": 3, "valid": False},
                [CouponProblem.USED_UP],
            ),
            ({"redeem_by": NOW - 1}, [CouponProblem.PAST_REDEEM_BY]),
            ({"redeem_by": NOW}, [CouponProblem.PAST_REDEEM_BY]),
            ({"products": ["prod_other"]}, [CouponProblem.NOT_APPLICABLE]),
            (
                {"amount_off": 500, "currency": "usd"},
                [CouponProblem.CURRENCY_MISMATCH],
            ),
            (
                {"amount_off": 500, "currency": "eur", "duration": "forever"},
                [CouponProblem.FOREVER_AMOUNT_OFF],
            ),
            (
                {"amount_off": 500, "currency": "usd", "duration": "forever"},
                [CouponProblem.CURRENCY_MISMATCH, CouponProblem.FOREVER_AMOUNT_OFF],
            ),
        ],
    )
    def test_each_problem(self, over, expected):
        """Each documented reason a coupon cannot apply is reported."""
        assert coupon(**over).problems(SUB, now=NOW) == expected

    def test_future_redeem_by_and_matching_product_are_fine(self):
        """A redeem_by in the future and a matching product raise no problem."""
        c = coupon(redeem_by=NOW + 60, products=["prod_1", "prod_9"])
        assert c.problems(SUB, now=NOW) == []

    def test_currency_option_satisfies_currency(self):
        """An amount_off coupon with an option in the subscription's currency fits."""
        c = coupon(amount_off=500, currency="usd", currency_options={"eur": 450})
        assert c.problems(SUB, now=NOW) == []

    def test_percent_forever_is_fine(self):
        """Only amount_off coupons are refused with duration=forever."""
        assert coupon(percent_off=10.0, duration="forever").problems(SUB, now=NOW) == []

    def test_standing_problems_ignore_the_subscription(self):
        """standing_problems keeps the problems of problems() that no subscription changes."""
        c = coupon(
            amount_off=500,
            currency="usd",
            duration="forever",
            redeem_by=NOW,
            products=["prod_other"],
        )
        assert c.problems(SUB, now=NOW) == [
            CouponProblem.PAST_REDEEM_BY,
            CouponProblem.NOT_APPLICABLE,
            CouponProblem.CURRENCY_MISMATCH,
            CouponProblem.FOREVER_AMOUNT_OFF,
        ]
        assert c.standing_problems(now=NOW) == [
            CouponProblem.PAST_REDEEM_BY,
            CouponProblem.FOREVER_AMOUNT_OFF,
        ]
        assert coupon(products=["prod_other"]).standing_problems(now=NOW) == []

    def test_every_problem_is_explained(self):
        """Each problem has a distinct clause for messages."""
        texts = {p.explanation for p in CouponProblem}
        assert len(texts) == len(CouponProblem)
        assert CouponProblem.USED_UP.explanation == "it has reached max_redemptions"


class TestValue:
    def test_monthly_discount(self):
        """A percentage rounds; an amount is capped at the MRR."""
        assert coupon(percent_off=25.0).monthly_discount(1500, "eur") == 375
        assert (
            coupon(amount_off=500, currency="eur").monthly_discount(1500, "eur") == 500
        )
        assert (
            coupon(amount_off=5000, currency="eur").monthly_discount(1500, "eur")
            == 1500
        )
        assert coupon(amount_off=500, currency="usd").monthly_discount(1500, "eur") == 0

    def test_months(self):
        """once counts one month, repeating its months, forever a chosen horizon."""
        assert coupon(duration="once").months() == 1
        assert coupon(duration="repeating").months() == 3
        assert coupon(duration="forever").months(forever_months=24) == 24

    def test_snapshot_mrr_is_the_base(self):
        """The subscription used here is 15.00 a month (sanity for the numbers above)."""
        assert SUB.mrr == 1500
        assert SUB.mrr_exact == Fraction(1500)


def test_models_with_mappings_hash_and_equal():
    """Coupons, customers and subscriptions with metadata hash, and equal ones hash alike."""
    from cancelflow import CustomerSnapshot
    from recording import customer_json

    made = [
        Coupon.from_stripe(
            {
                **coupon_json(amount_off=500, currency="usd"),
                "currency_options": {"eur": {"amount_off": 450}},
                "metadata": {"team": "growth"},
            }
        ),
        CustomerSnapshot.from_stripe({**customer_json(), "metadata": {"plan": "pro"}}),
        SubscriptionSnapshot.from_stripe(
            {**subscription_json(), "metadata": {"seats": "3"}}
        ),
    ]
    for model in made:
        twin = attrs.evolve(model)
        assert hash(model) == hash(twin)
        assert {model: 1}[twin] == 1
    changed = Coupon.from_stripe(
        {**coupon_json(amount_off=500, currency="usd"), "metadata": {"team": "x"}}
    )
    assert changed != made[0]

"""SubscriptionSnapshot: parsing Stripe's shape and the derived facts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import BillingMode, SubscriptionSnapshot, SubscriptionStatus
from cancelflow.exceptions import CancelflowError, EventPayloadError, StripeObjectError
from hostile import hostile_leaves


def sub_json(**over):
    base = {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": "active",
        "currency": "eur",
        "billing_mode": {"type": "classic", "flexible": None, "updated_at": None},
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "feedback_option": None,
            "reason": None,
        },
        "discounts": [],
        "metadata": {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "quantity": 2,
                    "current_period_start": 100,
                    "current_period_end": 200,
                    "price": {
                        "id": "price_1",
                        "product": "prod_1",
                        "unit_amount": 1200,
                        "recurring": {
                            "interval": "year",
                            "interval_count": 1,
                            "usage_type": "licensed",
                        },
                    },
                }
            ],
        },
    }
    base.update(over)
    return base


class TestDerived:
    def test_mrr_normalises_yearly_and_quantity(self):
        """A yearly price of 12.00 × 2 seats is 2.00 a month."""
        assert SubscriptionSnapshot.from_stripe(sub_json()).mrr == 200

    def test_scheduled_classic_and_flexible(self):
        """Both billing modes' ways of scheduling a cancel count as scheduled."""
        classic = SubscriptionSnapshot.from_stripe(
            sub_json(cancel_at_period_end=True, cancel_at=200)
        )
        flexible = SubscriptionSnapshot.from_stripe(
            sub_json(cancel_at=200, billing_mode={"type": "flexible"})
        )
        assert classic.scheduled_to_cancel and flexible.scheduled_to_cancel
        assert flexible.billing_mode is BillingMode.FLEXIBLE
        assert not classic.can_be_canceled

    def test_ended_cannot_be_canceled(self):
        """A canceled subscription is neither scheduled nor cancelable."""
        snap = SubscriptionSnapshot.from_stripe(
            sub_json(status="canceled", cancel_at_period_end=True)
        )
        assert snap.status is SubscriptionStatus.CANCELED
        assert not snap.scheduled_to_cancel and not snap.can_be_canceled


def test_bad_field_names_path():
    """A wrongly typed nested field raises StripeObjectError naming its path."""
    data = sub_json()
    data["items"]["data"][0]["price"]["unit_amount"] = "12"
    with pytest.raises(
        StripeObjectError, match=r"items\.data\[0\]\.price\.unit_amount"
    ):
        SubscriptionSnapshot.from_stripe(data)


# -- more derived facts ------------------------------------------------------------


class TestMore:
    def test_flexible_schedule_counts_without_period_end_flag(self):
        """Flexible mode: cancel_at alone (cancel_at_period_end false) is scheduled,
        and the effective date is cancel_at."""
        snap = SubscriptionSnapshot.from_stripe(
            sub_json(cancel_at=150, billing_mode={"type": "flexible"})
        )
        assert snap.scheduled_to_cancel
        assert snap.cancel_effective_at == 150

    def test_classic_without_cancel_at_uses_period_end(self):
        """Classic mode with only cancel_at_period_end ends at the item period end."""
        snap = SubscriptionSnapshot.from_stripe(sub_json(cancel_at_period_end=True))
        assert snap.cancel_effective_at == 200
        assert SubscriptionSnapshot.from_stripe(sub_json()).cancel_effective_at is None

    def test_pre_basil_subscription_period_reaches_the_items(self):
        """A payload from before 2025-03-31.basil has the period on the subscription;
        items without their own period take it, items with one keep theirs."""
        raw = sub_json(
            cancel_at_period_end=True, current_period_start=50, current_period_end=300
        )
        for item in raw["items"]["data"]:
            del item["current_period_start"], item["current_period_end"]
        snap = SubscriptionSnapshot.from_stripe(raw)
        assert snap.current_period_end == 300
        assert snap.cancel_effective_at == 300
        assert {(i.current_period_start, i.current_period_end) for i in snap.items} == {
            (50, 300)
        }
        own = sub_json(current_period_start=50, current_period_end=300)
        assert SubscriptionSnapshot.from_stripe(own).current_period_end == 200

    def test_incomplete_expired_has_ended(self):
        """incomplete_expired counts as ended, like canceled."""
        snap = SubscriptionSnapshot.from_stripe(sub_json(status="incomplete_expired"))
        assert snap.ended
        assert not snap.can_be_canceled

    @pytest.mark.parametrize(
        ("interval", "count", "quantity", "amount", "mrr"),
        [
            ("month", 1, 1, 1000, 1000),
            ("month", 3, 1, 3000, 1000),
            ("year", 1, 1, 12000, 1000),
            ("week", 1, 1, 1000, 4333),
            ("day", 1, 2, 100, 6083),
        ],
    )
    def test_mrr_normalisation(self, interval, count, quantity, amount, mrr):
        """MRR normalises intervals, interval counts and quantities to one month."""
        data = sub_json()
        item = data["items"]["data"][0]
        item["quantity"] = quantity
        item["price"]["unit_amount"] = amount
        item["price"]["recurring"] = {"interval": interval, "interval_count": count}
        assert SubscriptionSnapshot.from_stripe(data).mrr == mrr

    def test_metered_items_count_zero(self):
        """A metered item adds nothing to MRR."""
        data = sub_json()
        data["items"]["data"][0]["price"]["recurring"]["usage_type"] = "metered"
        assert SubscriptionSnapshot.from_stripe(data).mrr == 0

    def test_expanded_discounts_give_coupon_ids(self):
        """Expanded discounts (source.coupon, or the older coupon field) give coupon ids."""
        snap = SubscriptionSnapshot.from_stripe(
            sub_json(
                discounts=[
                    {"id": "di_1", "source": {"type": "coupon", "coupon": "SAVE20"}},
                    {"id": "di_2", "coupon": {"id": "OLD10", "object": "coupon"}},
                    "di_3",
                ]
            )
        )
        assert [d.id for d in snap.discounts] == ["di_1", "di_2", "di_3"]
        assert snap.coupon_ids == {"SAVE20", "OLD10"}

    def test_expanded_customer_and_stripe_object(self):
        """An expanded customer and a stripe-python object both parse like the dict."""
        import stripe

        data = sub_json(customer={"id": "cus_9", "object": "customer"})
        from_dict = SubscriptionSnapshot.from_stripe(data)
        from_object = SubscriptionSnapshot.from_stripe(
            stripe.convert_to_stripe_object(data)
        )
        assert from_dict.customer == "cus_9"
        assert from_object == from_dict

    def test_not_a_subscription(self):
        """Another Stripe object is refused by its `object` field."""
        with pytest.raises(StripeObjectError, match="expected 'subscription'"):
            SubscriptionSnapshot.from_stripe({**sub_json(), "object": "invoice"})


# -- properties: any Stripe-shaped input parses or raises CancelflowError ------------

_JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    hostile_leaves(),  # beyond 64 bits, U+0000 and surrogates, new enum values
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        [
            "active",
            "canceled",
            "flexible",
            "month",
            "year",
            "metered",
            "eur",
            "",
            "too_expensive",
            "other",
            "fo_1",
            "cancellation_requested",
        ]
    ),
)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            yield from _paths(child, (*prefix, n))


_ALL_PATHS = [p for p in _paths(sub_json()) if p]


@st.composite
def mutated_subscriptions(draw):
    """A realistic subscription with a few fields replaced, or removed."""
    data = sub_json(
        discounts=draw(
            st.lists(
                st.one_of(
                    st.just("di_1"),
                    st.fixed_dictionaries(
                        {
                            "id": st.just("di_2"),
                            "source": st.fixed_dictionaries({"coupon": _JSON}),
                        }
                    ),
                ),
                max_size=2,
            )
        )
    )
    for path in draw(st.lists(st.sampled_from(_ALL_PATHS), max_size=4)):
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            if draw(st.booleans()) and isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = draw(_JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this branch
    return data


@given(mutated_subscriptions())
def test_mutated_subscription_parses_or_raises_cancelflow_error(data):
    """Any Stripe-shaped subscription parses or raises a CancelflowError, never a
    KeyError, TypeError, ValueError or AttributeError; a parsed one has sane facts."""
    try:
        snap = SubscriptionSnapshot.from_stripe(data)
    except CancelflowError:
        return
    assert isinstance(snap.status, SubscriptionStatus)
    assert isinstance(snap.mrr, int)
    assert snap.can_be_canceled == (not snap.ended and not snap.scheduled_to_cancel)
    assert all(isinstance(d.id, str) for d in snap.discounts)


@given(_JSON)
def test_any_json_parses_or_raises_cancelflow_error(data):
    """Arbitrary JSON is never mistaken for a subscription and never crashes."""
    try:
        SubscriptionSnapshot.from_stripe(data)
    except CancelflowError:
        return
    raise AssertionError(f"parsed {data!r}")  # pragma: no cover - would be a bug


def _discount(coupon: object) -> dict:
    return {
        "id": "di_1",
        "object": "discount",
        "source": {"type": "coupon", "coupon": coupon},
    }


def _coupon(duration: str, percent_off: float | None = None, amount_off=None) -> dict:
    return {
        "id": "C",
        "object": "coupon",
        "duration": duration,
        "percent_off": percent_off,
        "amount_off": amount_off,
        "currency": "eur" if amount_off else None,
    }


def _event_mrr(data: dict) -> int | None:
    """The MRR the webhook parser reads from the same subscription."""
    from cancelflow import CancellationScheduled, parse_event

    event = {
        "id": "evt_1",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": 1000,
        "livemode": False,
        "data": {
            "object": {**data, "cancel_at_period_end": True},
            "previous_attributes": {"cancel_at_period_end": False},
        },
    }
    found = [e for e in parse_event(event) if isinstance(e, CancellationScheduled)]
    return found[0].mrr if found else None


class TestMRRDefinition:
    @pytest.mark.parametrize(
        ("over", "mrr"),
        [
            ({"status": "active"}, 200),
            ({"status": "past_due"}, 200),  # still counted until it ends
            ({"status": "trialing", "trial_end": 500}, 0),  # 0 until it converts
            ({"status": "unpaid"}, 0),
            ({"status": "paused"}, 0),
            ({"status": "incomplete"}, 0),
            ({"status": "canceled", "ended_at": 900}, 200),  # the MRR it churned
            ({"status": "canceled", "ended_at": 500, "trial_end": 500}, 0),
            ({"discounts": [_discount(_coupon("forever", 25.0))]}, 150),
            ({"discounts": [_discount(_coupon("forever", 12.5))]}, 175),
            ({"discounts": [_discount(_coupon("once", 50.0))]}, 200),
            ({"discounts": [_discount(_coupon("repeating", 50.0))]}, 200),
            ({"discounts": [_discount("C")]}, 200),  # terms unknown: not taken off
            ({"discounts": ["di_1"]}, 200),
            ({"discounts": [_discount(_coupon("forever", amount_off=100))]}, 200),
            (
                {
                    "status": "trialing",
                    "discounts": [_discount(_coupon("forever", 50.0))],
                },
                0,
            ),
        ],
    )
    def test_one_definition(self, over, mrr):
        """MRR follows Stripe Billing's analytics (active and past_due count, a
        trial counts 0, forever coupons reduce it, once/repeating do not), the
        same for the snapshot and for a webhook's event."""
        data = sub_json(**over)
        assert SubscriptionSnapshot.from_stripe(data).mrr == mrr
        if over.get("status", "active") != "canceled":
            assert _event_mrr(data) == mrr

    def test_expanded_coupon_terms_are_kept(self):
        """An expanded coupon's terms are on the DiscountRef; an id alone has none."""
        snap = SubscriptionSnapshot.from_stripe(
            sub_json(discounts=[_discount(_coupon("forever", 25.0)), "di_2"])
        )
        first, second = snap.discounts
        assert (first.coupon_id, first.terms) == ("C", ("forever", 25.0, None))
        assert (second.id, second.terms) == ("di_2", None)

    def test_a_bad_percent_off_is_named(self):
        """A coupon whose percent_off is not a number names its path."""
        with pytest.raises(StripeObjectError) as info:
            SubscriptionSnapshot.from_stripe(
                sub_json(
                    discounts=[_discount({**_coupon("forever"), "percent_off": "x"})]
                )
            )
        assert info.value.path == "subscription.discounts[0].source.coupon.percent_off"

    @pytest.mark.parametrize("percent", [-1e6, -0.5, 100.5, float("nan"), float("inf")])
    def test_a_percent_off_outside_0_to_100_is_refused(self, percent):
        """A forever coupon's percent_off outside 0-100 (never Stripe's) is refused
        by path, for the snapshot and the webhook parser alike: a negative one
        would otherwise raise the MRR beyond 64 bits (unit amount 10**16)."""
        bad = _discount({**_coupon("forever"), "percent_off": percent})
        data = sub_json(discounts=[bad])
        data["items"]["data"][0]["price"]["unit_amount"] = 10**16
        with pytest.raises(StripeObjectError) as info:
            SubscriptionSnapshot.from_stripe(data)
        assert info.value.path == "subscription.discounts[0].source.coupon.percent_off"
        with pytest.raises(EventPayloadError, match="percent_off"):
            _event_mrr(data)

    def test_discounts_are_read_before_their_terms(self):
        """With several bad discounts, the first unreadable discount is named
        before any coupon's terms."""
        bad_terms = _discount({**_coupon("forever"), "percent_off": "x"})
        with pytest.raises(StripeObjectError) as info:
            SubscriptionSnapshot.from_stripe(sub_json(discounts=[bad_terms, 5]))
        assert info.value.path == "subscription.discounts[1]"

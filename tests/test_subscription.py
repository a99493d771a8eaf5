"""SubscriptionSnapshot: parsing Stripe's shape and the derived facts."""

from __future__ import annotations

import pytest

from cancelflow import BillingMode, SubscriptionSnapshot, SubscriptionStatus
from cancelflow.exceptions import StripeObjectError


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

"""Fidelity: the fake's JSON carries exactly the attributes stripe-python's classes declare."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import stripe
from stripe._object_classes import OBJECT_CLASSES
from tests.fake_support import cancel_config, client, fake, price, raw, subscription

__all__ = ["client", "fake"]

# Attributes Stripe itself leaves out of these objects, with the reason.
ABSENT: dict[str, set[str]] = {
    # "Always true for a deleted object": only deletion answers carry it.
    "*": {"deleted"},
    # Includable fields: present only with expand[] (the fake adds them then).
    "customer": {
        "cash_balance",
        "invoice_credit_balance",
        "sources",
        "subscriptions",
        "tax",
        "tax_ids",
    },
    "coupon": {"applies_to", "currency_options"},
    "price": {"currency_options", "tiers"},
    "invoice": {"confirmation_secret", "payments"},
    "plan": {"tiers"},
    # Only for Connect platforms and organizations.
    "event": {"account", "context"},
}


def object_class(name: str) -> type:
    """stripe-python's class for an ``object`` value (its table names module and class)."""
    module, attr = OBJECT_CLASSES[name]
    return getattr(importlib.import_module(module), attr)


def declared(cls: type) -> set[str]:
    """The data attributes a stripe-python class declares (annotations, not ClassVars)."""
    names = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("stripe"):
            continue
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if name.startswith("_") or "ClassVar" in str(annotation):
                continue
            names.add(name)
    for base in stripe.StripeObject.__mro__:
        names -= set(vars(base).get("__annotations__", {}))
    return names


def check_shape(value: Any, cls: type, where: str, seen: list[str]) -> None:
    """Assert *value* has exactly the declared attributes of *cls*, recursively."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_shape(item, cls, f"{where}[{i}]", seen)
        return
    if not isinstance(value, dict):
        return
    object_name = value.get("object")
    if isinstance(object_name, str) and object_name in OBJECT_CLASSES:
        cls = object_class(object_name)
        if object_name == "list":
            check_shape(value["data"], cls, f"{where}.data", seen)
    expected = declared(cls) - ABSENT["*"] - ABSENT.get(str(object_name), set())
    if object_name == "list":
        expected |= {"object", "data", "has_more", "url"}
    keys = set(value)
    if object_name == "list":
        keys.discard(
            "total_count"
        )  # Stripe adds it to nested lists (subscription.items)
    assert keys == expected, (
        f"{where} ({cls.__name__}): missing {sorted(expected - keys)}, extra {sorted(keys - expected)}"
    )
    seen.append(f"{where}:{cls.__name__}")
    inner = getattr(cls, "_inner_class_types", {})
    for key, item in value.items():
        if key in inner:
            check_shape(item, inner[key], f"{where}.{key}", seen)
        elif _typed(item):  # an expanded object or a list of them; hashes are free-form
            check_shape(item, stripe.StripeObject, f"{where}.{key}", seen)


def _typed(value: Any) -> bool:
    if isinstance(value, list):
        return any(_typed(item) for item in value)
    return isinstance(value, dict) and value.get("object") in OBJECT_CLASSES


def assert_complete(obj: Any) -> list[str]:
    body = raw(obj)
    seen: list[str] = []
    check_shape(body, object_class(body["object"]), body["object"], seen)
    return seen


class TestShapes:
    def test_customer(self, client):
        """A customer carries every declared Customer attribute, nested hashes complete."""
        customer = client.v1.customers.create(
            params={
                "email": "a@example.com",
                "address": {"country": "FR"},
                "shipping": {"name": "A", "address": {"city": "Lyon"}},
            }
        )
        seen = assert_complete(customer)
        assert "customer.address:Address" in seen
        assert "customer.shipping.address:Address" in seen

    def test_product_and_prices(self, client):
        """Products, recurring and one-time prices carry every declared attribute."""
        recurring = price(client)
        assert_complete(client.v1.products.retrieve(recurring.product))
        assert "price.recurring:Recurring" in assert_complete(recurring)
        one_time = client.v1.prices.create(
            params={"currency": "eur", "unit_amount": 5, "product": recurring.product}
        )
        assert_complete(one_time)

    def test_coupons(self, client):
        """Percent and amount coupons carry every declared Coupon attribute."""
        assert_complete(client.v1.coupons.create(params={"percent_off": 10}))
        assert_complete(
            client.v1.coupons.create(
                params={
                    "amount_off": 500,
                    "currency": "usd",
                    "duration": "repeating",
                    "duration_in_months": 2,
                }
            )
        )

    def test_subscription_with_items_plans_and_discounts(self, client):
        """A subscription, its items, their price and plan, and expanded discounts are complete."""
        coupon = client.v1.coupons.create(params={"percent_off": 10})
        sub = subscription(
            client, discounts=[{"coupon": coupon.id}], trial_period_days=7
        )
        seen = assert_complete(sub)
        assert "subscription.items.data[0]:SubscriptionItem" in seen
        assert "subscription.items.data[0].price:Price" in seen
        assert "subscription.items.data[0].plan:Plan" in seen
        assert "subscription.cancellation_details:CancellationDetails" in seen
        expanded = client.v1.subscriptions.retrieve(
            sub.id, params={"expand": ["discounts"]}
        )
        assert "subscription.discounts[0]:Discount" in assert_complete(expanded)

    def test_flexible_subscription(self, client):
        """A flexible-mode subscription's billing_mode hash is complete."""
        seen = assert_complete(subscription(client, mode="flexible"))
        assert "subscription.billing_mode.flexible:Flexible" in seen

    def test_portal_configuration(self, client):
        """A portal configuration carries every declared attribute, all features complete."""
        seen = assert_complete(cancel_config(client))
        assert (
            "billing_portal.configuration.features.subscription_cancel.cancellation_reason:CancellationReason"
            in seen
        )
        assert (
            "billing_portal.configuration.features.subscription_update.schedule_at_period_end:ScheduleAtPeriodEnd"
            in seen
        )

    def test_portal_session_with_flow(self, client):
        """A portal session with a cancel flow and retention offer is complete."""
        config = cancel_config(client)
        sub = subscription(client)
        coupon = client.v1.coupons.create(params={"percent_off": 20})
        session = client.v1.billing_portal.sessions.create(
            params={
                "customer": sub.customer,
                "configuration": config.id,
                "flow_data": {
                    "type": "subscription_cancel",
                    "subscription_cancel": {
                        "subscription": sub.id,
                        "retention": {
                            "type": "coupon_offer",
                            "coupon_offer": {"coupon": coupon.id},
                        },
                    },
                    "after_completion": {
                        "type": "hosted_confirmation",
                        "hosted_confirmation": {"custom_message": "Bye"},
                    },
                },
            }
        )
        seen = assert_complete(session)
        assert (
            "billing_portal.session.flow.subscription_cancel.retention.coupon_offer:CouponOffer"
            in seen
        )
        assert (
            "billing_portal.session.flow.after_completion.hosted_confirmation:HostedConfirmation"
            in seen
        )

    def test_feedback_option(self, client):
        """A feedback option carries every declared attribute."""
        assert_complete(
            client.v1.billing.feedback_options.create(
                params={"description": "Too slow"}
            )
        )

    def test_event_and_list(self, client):
        """Events (with their snapshot) and list objects carry every declared attribute."""
        sub = subscription(client)
        client.v1.subscriptions.update(sub.id, params={"metadata": {"a": "b"}})
        events = client.v1.events.list(params={"type": "customer.subscription.updated"})
        assert_complete(events)
        seen = assert_complete(client.v1.events.retrieve(events.data[0].id))
        assert "event.data.object:Subscription" in seen


@pytest.mark.parametrize(
    ("create", "expand", "field"),
    [
        (
            lambda c: c.v1.coupons.create(
                params={
                    "percent_off": 5,
                    "applies_to": {
                        "products": [c.v1.products.create(params={"name": "P"}).id]
                    },
                }
            ),
            "applies_to",
            "applies_to",
        ),
        (lambda c: c.v1.customers.create(), "subscriptions", "subscriptions"),
    ],
)
def test_includable_fields_appear_when_expanded(client, create, expand, field):
    """An includable field is absent by default and present with expand[]."""
    obj = create(client)
    assert field not in raw(obj)
    retrieve = getattr(client.v1, obj.object + "s").retrieve
    assert field in raw(retrieve(obj.id, params={"expand": [expand]}))

"""Events on FakeStripe: emitted in order, stored, listed and retrieved like Stripe's."""

from __future__ import annotations

import pytest
import stripe
from tests.fake_support import (
    cancel_config,
    client,
    event_types,
    fake,
    raw,
    subscription,
)

__all__ = ["client", "fake"]


def test_every_change_emits_in_order(fake, client):
    """Creating the objects of a cancel flow emits Stripe's events, in order."""
    config = cancel_config(client)
    coupon = client.v1.coupons.create(params={"percent_off": 10})
    sub = subscription(client)
    client.v1.billing_portal.sessions.create(
        params={
            "customer": sub.customer,
            "configuration": config.id,
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": sub.id},
            },
        }
    )
    client.v1.subscriptions.update(
        sub.id, params={"discounts": [{"coupon": coupon.id}]}
    )
    assert event_types(fake) == [
        "billing_portal.configuration.created",
        "coupon.created",
        "customer.created",
        "product.created",
        "price.created",
        "customer.subscription.created",
        "billing_portal.session.created",
        "customer.discount.created",
        "customer.subscription.updated",
    ]


def test_envelope(fake, client):
    """api_version is the pinned one, created comes from the fake clock, livemode false."""
    fake.clock.advance(123)
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    event = client.v1.events.list().data[0]
    assert event.api_version == stripe.api_version
    assert event.created == fake.clock.now()
    assert (event.livemode, event.type, event.pending_webhooks) == (
        False,
        "customer.created",
        0,
    )
    assert isinstance(event.data.object, stripe.Customer)
    assert event.data.object.id == customer.id
    assert "previous_attributes" not in event.data


def test_snapshots_do_not_change_later(fake, client):
    """An event keeps the object as it was when the event happened."""
    sub = subscription(client)
    client.v1.subscriptions.update(sub.id, params={"metadata": {"step": "1"}})
    client.v1.subscriptions.update(sub.id, params={"metadata": {"step": "2"}})
    updates = client.v1.events.list(
        params={"type": "customer.subscription.updated"}
    ).data
    assert [e.data.object.metadata["step"] for e in updates] == ["2", "1"]
    assert updates[0].data.previous_attributes.metadata.to_dict() == {"step": "1"}
    assert updates[1].data.previous_attributes.metadata.to_dict() == {"step": None}


def test_previous_attributes_hold_only_changed_keys(fake, client):
    """previous_attributes names changed keys with old values; a hash only its changed sub-keys."""
    sub = subscription(client, metadata={"kept": "x", "gone": "y"})
    client.v1.subscriptions.update(
        sub.id,
        params={"description": "Main", "metadata": {"a": "1", "gone": ""}},
    )
    event = client.v1.events.list(
        params={"type": "customer.subscription.updated"}
    ).data[0]
    assert event.data.object.metadata.to_dict() == {"kept": "x", "a": "1"}
    assert event.data.previous_attributes.to_dict() == {
        "description": None,
        "metadata": {"a": None, "gone": "y"},
    }


def test_a_renewal_gives_items_as_data_only(fake, client):
    """A renewal's previous_attributes hold items as {"data": [...]}, the whole old list."""
    sub = subscription(client)
    fake.clock.advance(32 * 86_400)
    (event,) = client.v1.events.list(
        params={"type": "customer.subscription.updated"}
    ).data
    previous = raw(client.v1.events.retrieve(event.id))["data"]["previous_attributes"]
    assert set(previous) == {"items"}
    assert set(previous["items"]) == {"data"}  # no has_more, url, total_count
    (item,) = previous["items"]["data"]
    assert item["current_period_end"] == sub["items"].data[0].current_period_end
    assert item["id"] == sub["items"].data[0].id and "price" in item  # whole items


def test_retrieve(client):
    """events.retrieve returns a stored event; an unknown id is 404."""
    client.v1.customers.create()
    listed = client.v1.events.list().data[0]
    assert client.v1.events.retrieve(listed.id).type == "customer.created"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.retrieve("evt_nope")
    assert (info.value.http_status, info.value.code) == (404, "resource_missing")


def test_list_filters(fake, client):
    """type (exact or wildcard), types and created filter the events."""
    sub = subscription(client)
    fake.clock.advance(10)
    client.v1.subscriptions.update(sub.id, params={"metadata": {"a": "1"}})
    wildcard = [
        e.type
        for e in client.v1.events.list(params={"type": "customer.subscription.*"}).data
    ]
    assert wildcard == [
        "customer.subscription.updated",
        "customer.subscription.created",
    ]
    several = [
        e.type
        for e in client.v1.events.list(
            params={"types": ["price.created", "product.created"]}
        ).data
    ]
    assert several == ["price.created", "product.created"]
    recent = client.v1.events.list(params={"created": {"gt": fake.clock.start}}).data
    assert [e.type for e in recent] == ["customer.subscription.updated"]
    exact = client.v1.events.list(params={"created": fake.clock.start}).data
    assert len(exact) == 4
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.list(params={"type": "a", "types": ["b"]})
    assert info.value.code == "parameters_exclusive"


def test_reads_emit_nothing(fake, client):
    """GET requests never emit events."""
    customer = client.v1.customers.create()
    client.v1.customers.retrieve(customer.id)
    client.v1.customers.list()
    assert event_types(fake) == ["customer.created"]

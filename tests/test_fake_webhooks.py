"""Webhook deliveries from FakeStripe, verified with stripe-python's own checks."""

from __future__ import annotations

import json

import pytest
import stripe
from tests.fake_support import client, fake, subscription

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import WebhookDelivery

__all__ = ["client", "fake"]


class Inbox:
    """A webhook handler that verifies like a host app would."""

    def __init__(self) -> None:
        self.secret = ""
        self.events: list[stripe.Event] = []
        self.raw: list[tuple[bytes, dict[str, str]]] = []

    def __call__(self, body, headers):
        self.raw.append((body, dict(headers)))
        event = stripe.Webhook.construct_event(
            body, headers["stripe-signature"], self.secret
        )
        self.events.append(event)


def inbox_for(fake, **options):
    inbox = Inbox()
    inbox.secret = fake.add_webhook_endpoint(inbox, **options)
    return inbox


def test_deliveries_verify_with_construct_event(fake, client):
    """Each event arrives signed; construct_event accepts it with the endpoint's secret."""
    inbox = inbox_for(fake)
    assert inbox.secret.startswith("whsec_")
    sub = subscription(client)
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    types = [e.type for e in inbox.events]
    assert types == [
        "customer.created",
        "product.created",
        "price.created",
        "customer.subscription.created",
        "customer.subscription.updated",
    ]
    last = inbox.events[-1]
    assert last.data.object.cancel_at_period_end is True
    assert last.data.previous_attributes.cancel_at_period_end is False
    body, headers = inbox.raw[-1]
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["id"] == last.id


def test_client_construct_event_and_wrong_secret(fake, client):
    """StripeClient.construct_event accepts it; another secret is refused."""
    inbox = Inbox()
    fake.add_webhook_endpoint(
        lambda body, headers: inbox.raw.append((body, dict(headers))),
        secret="whsec_chosen",
    )
    client.v1.customers.create()
    body, headers = inbox.raw[0]
    assert (
        client.construct_event(body, headers["Stripe-Signature"], "whsec_chosen").type
        == "customer.created"
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")


def test_enabled_events_and_pending_webhooks(fake, client):
    """An endpoint gets only the types it asked for; pending_webhooks counts endpoints."""
    subs = inbox_for(fake, events=["customer.subscription.*"])
    everything = inbox_for(fake)
    subscription(client)
    assert [e.type for e in subs.events] == ["customer.subscription.created"]
    assert len(everything.events) == 4
    created = next(
        e for e in everything.events if e.type == "customer.subscription.created"
    )
    assert created.pending_webhooks == 2
    assert [
        e.pending_webhooks for e in everything.events if e.type == "customer.created"
    ] == [1]


def test_deliveries_happen_after_the_change(fake, client):
    """A handler that calls back into the fake sees the finished change."""
    seen = []

    def handler(body, headers):
        event = json.loads(body)
        if event["type"] == "customer.created":
            seen.append(
                client.v1.customers.retrieve(event["data"]["object"]["id"]).email
            )

    fake.add_webhook_endpoint(handler)
    client.v1.customers.create(params={"email": "cb@example.com"})
    assert seen == ["cb@example.com"]


def test_failures_are_recorded_not_raised(fake, client):
    """A handler that raises or answers 500 is a failed delivery; the API call succeeds."""

    def broken(body, headers):
        raise ValueError("handler bug")

    fake.add_webhook_endpoint(broken, expect_failures=True)
    fake.add_webhook_endpoint(lambda body, headers: 500)
    fake.add_webhook_endpoint(lambda body, headers: 204)
    assert client.v1.customers.create().id
    raising, erroring, fine = fake.webhook_endpoints
    assert raising.failures == [
        WebhookDelivery(
            event_id=raising.deliveries[0].event_id,
            event_type="customer.created",
            duplicate=False,
            status=500,
            error="ValueError: handler bug",
        )
    ]
    assert [d.status for d in erroring.failures] == [500]
    assert fine.failures == []
    assert fine.deliveries[0].ok
    assert "whsec_" not in repr(raising)


def test_duplicates_and_out_of_order_are_seeded(client):
    """Duplicates and shuffling are deterministic for a seed, and really happen."""
    from cancelflow.testing import FakeStripe

    def run(seed):
        fake = FakeStripe()
        inbox = inbox_for(fake, duplicates=0.5, out_of_order=True, seed=seed)
        c = fake.client()
        with fake.hold_webhooks():
            for i in range(8):
                c.v1.customers.create(params={"name": str(i)})
        return [e.data.object.name for e in inbox.events]

    first = run(7)
    assert first == run(7)
    assert sorted(set(first)) == [str(i) for i in range(8)]
    assert len(first) > 8
    assert first[:8] != [str(i) for i in range(8)]
    assert run(8) != first


def test_held_deliveries(fake, client):
    """Inside hold_webhooks nothing is delivered; everything arrives at the end."""
    inbox = inbox_for(fake)
    with fake.hold_webhooks():
        client.v1.customers.create()
        assert inbox.events == []
    assert len(inbox.events) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duplicates": 2.0}, "probability"),
        ({"secret": "nope"}, "whsec_"),
    ],
)
def test_endpoint_options_are_checked(fake, kwargs, message):
    """Bad endpoint options are refused clearly."""
    with pytest.raises(FakeStripeError, match=message):
        fake.add_webhook_endpoint(lambda body, headers: None, **kwargs)


def test_handler_must_be_callable(fake):
    """A non-callable handler is refused."""
    with pytest.raises(FakeStripeError, match="callable"):
        fake.add_webhook_endpoint("http://localhost/hook")  # type: ignore[arg-type]


def test_backend_operations_deliver_when_they_finish(fake, client):
    """A backend operation called on its own delivers its events when it returns."""
    inbox = inbox_for(fake)
    sub = subscription(client)
    coupon = fake.backend.coupons.get(
        client.v1.coupons.create(params={"percent_off": 30}).id
    )
    record = fake.backend.subscriptions.get(sub.id)
    before = len(inbox.events)
    fake.backend.subscriptions.apply_coupon(record, coupon)
    assert [e.type for e in inbox.events[before:]] == [
        "customer.discount.created",
        "customer.subscription.updated",
    ]
    with fake.backend.operation():
        fake.backend.subscriptions.schedule_cancel(record, at_period_end=True)
        assert len(inbox.events) == before + 2
    assert inbox.events[-1].data.object.cancel_at_period_end is True

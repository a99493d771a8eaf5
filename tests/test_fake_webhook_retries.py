"""Retrying failed webhook deliveries, as Stripe does, and a handler that fails then recovers."""

from __future__ import annotations

import pytest

import cancelflow
from cancelflow.testing import FakeStripe


def test_only_unaccepted_events_are_retried_with_a_fresh_signature():
    """retry_failed_webhooks re-sends the events a handler refused, once per call."""
    fake = FakeStripe()
    client = fake.client()
    answers = iter([500, 200, 200, 200])
    headers_seen = []

    def endpoint(body, headers):
        headers_seen.append(headers["Stripe-Signature"])
        return next(answers)

    fake.add_webhook_endpoint(endpoint)
    first = client.v1.customers.create()
    client.v1.customers.create()
    (endpoint_,) = fake.webhook_endpoints
    assert [d.ok for d in endpoint_.deliveries] == [False, True]
    retried = fake.retry_failed_webhooks()
    assert [(d.event_type, d.attempt, d.ok) for d in retried] == [
        ("customer.created", 2, True)
    ]
    event = client.v1.events.list(params={"type": "customer.created"}).data[-1]
    assert retried[0].event_id == event.id
    assert event.data.object.id == first.id
    assert fake.retry_failed_webhooks() == []  # accepted now: nothing to retry
    assert len(headers_seen) == 3


@pytest.mark.expect_webhook_failures
def test_a_handler_that_raised_is_retried():
    """An exception counts as a failure; the retry carries attempt 2, then 3."""
    fake = FakeStripe()
    fake.add_webhook_endpoint(lambda body, headers: 1 / 0)
    fake.client().v1.customers.create()
    fake.retry_failed_webhooks()
    (again,) = fake.retry_failed_webhooks()
    assert (again.attempt, again.status, again.error) == (
        3,
        500,
        "ZeroDivisionError: division by zero",
    )


def test_a_ledger_outage_is_healed_by_stripes_retry():
    """A WebhookHandler whose ledger fails answers 500; the retry records it once."""
    fake = FakeStripe()
    client = fake.client()
    ledger = cancelflow.MemoryLedger()
    down = {"value": True}

    class FlakyLedger:
        def __getattr__(self, name):
            return getattr(ledger, name)

        def record_new_events(self, events):
            if down["value"]:
                raise cancelflow.exceptions.LedgerError("database is down")
            return ledger.record_new_events(events)

    secret_holder = {}

    def endpoint(body, headers):
        handler = cancelflow.WebhookHandler(
            secret_holder["secret"], ledger=FlakyLedger()
        )
        try:
            handler.handle_webhook(body, headers["Stripe-Signature"])
        except cancelflow.exceptions.LedgerError:
            return 500
        return 200

    secret_holder["secret"] = fake.add_webhook_endpoint(
        endpoint, events=["customer.subscription.*"]
    )
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    customer = client.v1.customers.create()
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert ledger.cases() == []
    down["value"] = False
    retried = fake.retry_failed_webhooks()
    assert [d.ok for d in retried] == [True, True]
    (case,) = ledger.cases()
    assert case.state is cancelflow.CaseState.SCHEDULED
    assert fake.retry_failed_webhooks() == []
    assert client.v1.events.retrieve(retried[-1].event_id).data.object.id == sub.id

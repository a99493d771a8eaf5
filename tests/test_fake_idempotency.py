"""Idempotency keys on FakeStripe behave like Stripe's."""

from __future__ import annotations

import pytest
import stripe
from tests.fake_support import client, fake

__all__ = ["client", "fake"]


def test_same_key_same_params_replays(fake, client):
    """The same key and parameters replay the first answer; nothing runs twice."""
    first = client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": "k1"}
    )
    again = client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": "k1"}
    )
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(fake.backend.customers) == 1
    assert len(client.v1.events.list().data) == 1


def test_same_key_other_params_is_an_idempotency_error(client):
    """Reusing a key with other parameters raises IdempotencyError."""
    client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": "k2"}
    )
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "k2"}
        )
    assert info.value.http_status == 400
    assert info.value.error.type == "idempotency_error"
    assert "k2" in str(info.value)


def test_same_key_other_endpoint_is_an_idempotency_error(client):
    """A key is bound to its endpoint."""
    client.v1.customers.create(options={"idempotency_key": "k3"})
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        client.v1.products.create(
            params={"name": "P"}, options={"idempotency_key": "k3"}
        )


def test_errors_of_executed_requests_are_replayed(fake, client):
    """An error from a request that started executing is saved and replayed."""
    with pytest.raises(stripe.InvalidRequestError) as first:
        client.v1.subscriptions.update(
            "sub_missing",
            params={"metadata": {"a": "b"}},
            options={"idempotency_key": "k4"},
        )
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.subscriptions.update(
            "sub_missing",
            params={"metadata": {"a": "b"}},
            options={"idempotency_key": "k4"},
        )
    assert again.value.request_id != first.value.request_id
    assert again.value.json_body == first.value.json_body
    assert again.value.headers["idempotent-replayed"] == "true"


def test_validation_failures_are_not_saved(fake, client):
    """A request whose parameters failed validation saves nothing: the key stays free."""
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(
            params={"bogus": "x"}, options={"idempotency_key": "k5"}
        )
    created = client.v1.customers.create(
        params={"email": "c@example.com"}, options={"idempotency_key": "k5"}
    )
    assert created.email == "c@example.com"


def test_keys_expire_after_a_day(fake, client):
    """After 24 hours (fake clock) a key is new again."""
    first = client.v1.customers.create(options={"idempotency_key": "k6"})
    fake.clock.advance(24 * 3600)
    second = client.v1.customers.create(options={"idempotency_key": "k6"})
    assert second.id != first.id


def test_keys_live_until_24_hours_have_passed(fake, client):
    """A second short of 24 hours a key still replays; at 24 hours it creates anew."""
    first = client.v1.customers.create(options={"idempotency_key": "k9"})
    fake.clock.advance(24 * 3600 - 1)
    assert client.v1.customers.create(options={"idempotency_key": "k9"}).id == first.id
    fake.clock.advance(1)
    second = client.v1.customers.create(options={"idempotency_key": "k9"})
    assert second.id != first.id
    third = client.v1.customers.create(options={"idempotency_key": "k9"})
    assert third.id == second.id  # the key now remembers the new request
    assert len(fake.backend.customers) == 2


def test_expired_keys_are_evicted_when_a_key_is_stored(fake, client):
    """Keys a day old are dropped from memory when another key is saved, not kept forever."""
    for i in range(5):
        client.v1.customers.create(options={"idempotency_key": f"old{i}"})
    fake.clock.advance(12 * 3600)
    client.v1.customers.create(options={"idempotency_key": "young"})
    assert len(fake.backend.idempotency) == 6
    fake.clock.advance(12 * 3600)
    client.v1.customers.create(options={"idempotency_key": "new"})
    assert len(fake.backend.idempotency) == 2  # "young" (12 h old) and "new"
    fake.clock.advance(12 * 3600)
    client.v1.customers.create(options={"idempotency_key": "newer"})
    assert len(fake.backend.idempotency) == 2  # "new" and "newer"


def test_stripe_python_auto_keys_stay_bounded(fake, client):
    """stripe-python keys every POST; a long test's keys do not pile up past a day."""
    for _day in range(3):
        for _ in range(4):
            client.v1.customers.create()
        fake.clock.advance(24 * 3600)
    client.v1.customers.create()
    assert len(fake.backend.idempotency) == 1
    assert len(fake.backend.customers) == 13


def test_keys_longer_than_255_are_refused(client):
    """Idempotency keys are at most 255 characters."""
    with pytest.raises(stripe.InvalidRequestError, match="255"):
        client.v1.customers.create(options={"idempotency_key": "k" * 256})


def test_events_carry_the_request_and_key(fake, client):
    """Events record the request id and idempotency key that caused them."""
    customer = client.v1.customers.create(options={"idempotency_key": "k7"})
    event = client.v1.events.list().data[0]
    assert event.request.idempotency_key == "k7"
    assert event.request.id == customer.last_response.request_id


def test_global_path_keys(fake):
    """On the global path, idempotency_key=... works the same."""
    with fake.install(api_key="sk_test_global"):
        first = stripe.Customer.create(email="g@example.com", idempotency_key="k8")
        again = stripe.Customer.create(email="g@example.com", idempotency_key="k8")
    assert first.id == again.id

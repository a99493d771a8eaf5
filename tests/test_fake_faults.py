"""Fault injection: the next calls of an operation fail as Stripe's can, through stripe-python."""

from __future__ import annotations

import asyncio

import pytest
import stripe
from tests.fake_support import client, fake, subscription

import cancelflow
from cancelflow.exceptions import (
    FakeStripeError,
    StripeConnectionError,
    StripeRateLimitError,
)
from cancelflow.testing import FakeStripe, Fault, InjectedFault

__all__ = ["client", "fake"]


@pytest.mark.parametrize(
    ("kind", "error", "status", "error_type"),
    [
        ("rate_limit", stripe.RateLimitError, 429, "invalid_request_error"),
        ("api_error", stripe.APIError, 500, "api_error"),
        ("idempotency_error", stripe.IdempotencyError, 400, "idempotency_error"),
        ("conflict", stripe.APIError, 409, "idempotency_error"),
    ],
)
def test_http_faults_raise_stripes_classes(  # noqa: PLR0917 - parametrized
    fake, client, kind, error, status, error_type
):
    """Each HTTP fault answers with Stripe's status and body; stripe-python raises its class."""
    sub = subscription(client)
    fake.faults.fail_next("subscriptions.retrieve", kind)
    with pytest.raises(error) as info:
        client.v1.subscriptions.retrieve(sub.id)
    assert type(info.value) is error
    assert info.value.http_status == status
    assert info.value.error.type == error_type
    assert info.value.request_id.startswith("req_")
    assert info.value.headers["stripe-should-retry"] == "false"
    if kind == "rate_limit":
        assert info.value.error.code == "rate_limit"
    assert (
        client.v1.subscriptions.retrieve(sub.id).id == sub.id
    )  # the next call is fine
    assert fake.faults.injected == [
        InjectedFault(
            operation="subscriptions.retrieve",
            kind=kind,
            request_id=info.value.request_id,
        )
    ]


def test_times_and_other_operations(fake, client):
    """times=2 fails two calls of that operation only; then calls succeed."""
    fake.faults.fail_next("customers.create", "rate_limit", times=2)
    assert fake.faults.pending == [
        Fault(operation="customers.create", kind="rate_limit", remaining=2)
    ]
    client.v1.products.create(params={"name": "Pro"})  # another operation
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            client.v1.customers.create()
    assert fake.faults.pending == []
    assert client.v1.customers.create().id.startswith("cus_")
    assert len(fake.backend.customers) == 1  # the failed calls created nothing


def test_faults_apply_in_order_and_any_operation(fake, client):
    """Planned faults apply in the order planned; '*' matches any call; clear() forgets."""
    fake.faults.fail_next("*", "api_error")
    fake.faults.fail_next("customers.create", "rate_limit")
    with pytest.raises(stripe.APIError):
        client.v1.products.create(params={"name": "Pro"})
    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.create()
    fake.faults.fail_next("customers.create", message="Custom outage text")
    with pytest.raises(stripe.APIError, match="Custom outage text"):
        client.v1.customers.create()
    fake.faults.fail_next("customers.create")
    fake.faults.clear()
    assert client.v1.customers.create().id
    assert [f.kind for f in fake.faults.injected] == [
        "api_error",
        "rate_limit",
        "api_error",
    ]


def test_a_failed_post_stores_no_idempotency_key(fake, client):
    """A fault happens before the request runs: a retry with the same key executes."""
    fake.faults.fail_next("customers.create", "api_error")
    options = {"idempotency_key": "create-ada"}
    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"name": "Ada"}, options=options)
    created = client.v1.customers.create(params={"name": "Ada"}, options=options)
    again = client.v1.customers.create(params={"name": "Ada"}, options=options)
    assert created.id == again.id
    assert len(fake.backend.customers) == 1


def test_connection_error_and_retries(fake):
    """A connection error raises APIConnectionError; a client with retries recovers, at once."""
    plain = fake.client()
    fake.faults.fail_next("customers.list", "connection_error")
    with pytest.raises(stripe.APIConnectionError) as info:
        plain.v1.customers.list()
    assert info.value.should_retry
    assert "injected connection error" in str(info.value)
    retrying = fake.client(max_network_retries=2)
    fake.faults.fail_next("customers.list", "connection_error", times=2)
    assert retrying.v1.customers.list().data == []
    assert [f.request_id for f in fake.faults.injected] == [None, None, None]
    fake.faults.fail_next("customers.list", "connection_error", times=3)
    with pytest.raises(stripe.APIConnectionError):
        retrying.v1.customers.list()


def test_async_calls_see_the_same_faults(fake, client):
    """The async path fails the same way."""
    fake.faults.fail_next("customers.create", "rate_limit")

    async def create():
        return await client.v1.customers.create_async()

    with pytest.raises(stripe.RateLimitError):
        asyncio.run(create())
    assert asyncio.run(create()).id


def test_cancelflow_maps_the_faults(fake, client):
    """Cancelflow turns injected faults into its own StripeAPIError subclasses."""
    sub = subscription(client)
    config = client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": {"enabled": True}}}
    )
    flow = cancelflow.Cancelflow(
        client, allowed_hosts=["example.com"], configuration=config.id
    )
    fake.faults.fail_next("subscriptions.retrieve", "rate_limit")
    with pytest.raises(StripeRateLimitError):
        flow.create_cancel_link(customer=sub.customer, subscription=sub.id)
    fake.faults.fail_next("billing_portal.sessions.create", "connection_error")
    with pytest.raises(StripeConnectionError):
        flow.create_cancel_link(customer=sub.customer, subscription=sub.id)
    assert len(fake.backend.portal_sessions) == 0
    assert flow.create_cancel_link(customer=sub.customer, subscription=sub.id).url


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("subscription.retrieve",), {}, "did you mean subscriptions.retrieve"),
        (("nothing.like.it",), {}, "models no operation"),
        (("customers.create", "teapot"), {}, "unknown fault kind"),
        (("customers.create",), {"times": 0}, "times"),
        (("customers.create",), {"times": True}, "times"),
    ],
)
def test_bad_plans_are_refused(args, kwargs, match):
    """An unknown operation (with a suggestion), kind or count is refused clearly."""
    with pytest.raises(FakeStripeError, match=match):
        FakeStripe().faults.fail_next(*args, **kwargs)


def test_reset_forgets_planned_faults():
    """reset() gives a fresh account without planned faults."""
    fake = FakeStripe()
    fake.faults.fail_next("customers.create")
    fake.reset()
    assert fake.faults.pending == []
    assert "planned=0" in repr(fake.faults)
    assert fake.client().v1.customers.create().id

"""Shared builders for the FakeStripe tests (not a test module)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from cancelflow.testing import FakeStripe


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return fake.client()


def raw(obj: Any) -> dict[str, Any]:
    """The JSON body the fake sent for a top-level stripe-python object."""
    return json.loads(obj.last_response.body)


def price(
    client: stripe.StripeClient,
    *,
    interval: str = "month",
    count: int = 1,
    amount: int = 1000,
    currency: str = "usd",
    product: str | None = None,
) -> stripe.Price:
    if product is None:
        product = client.v1.products.create(params={"name": "Pro"}).id
    return client.v1.prices.create(
        params={
            "currency": currency,
            "unit_amount": amount,
            "product": product,
            "recurring": {"interval": interval, "interval_count": count},
        }
    )


def subscription(
    client: stripe.StripeClient,
    *,
    customer: str | None = None,
    mode: str = "classic",
    **params: Any,
) -> stripe.Subscription:
    if customer is None:
        customer = client.v1.customers.create(params={"email": "ada@example.com"}).id
    if "items" not in params:
        params["items"] = [{"price": price(client).id}]
    return client.v1.subscriptions.create(
        params={"customer": customer, "billing_mode": {"type": mode}, **params}
    )


def cancel_config(
    client: stripe.StripeClient, **cancel: Any
) -> stripe.billing_portal.Configuration:
    feature = {
        "enabled": True,
        "cancellation_reason": {"enabled": True, "options": ["too_expensive", "other"]},
        **cancel,
    }
    return client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": feature}}
    )


def cancel_flow(
    sub: stripe.Subscription,
    *,
    coupon: str | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``flow_data`` of a cancel deep link to *sub*, with a retention coupon
    and an ``after_completion`` when given."""
    flow: dict[str, Any] = {
        "type": "subscription_cancel",
        "subscription_cancel": {"subscription": sub.id},
    }
    if coupon is not None:
        flow["subscription_cancel"]["retention"] = {
            "type": "coupon_offer",
            "coupon_offer": {"coupon": coupon},
        }
    if after is not None:
        flow["after_completion"] = after
    return flow


def default_cancel_config(fake: FakeStripe, **cancel: Any) -> dict[str, Any]:
    """Save the Dashboard's portal settings with cancellation on: the account's default."""
    feature = {
        "enabled": True,
        "cancellation_reason": {"enabled": True, "options": ["too_expensive", "other"]},
        **cancel,
    }
    return fake.dashboard.save_portal_settings(
        features={"subscription_cancel": feature}
    )


def event_types(fake: FakeStripe) -> list[str]:
    """Every event type the fake emitted, oldest first."""
    events = fake.backend.events.store
    return [events.by_id[i].obj["type"] for i in events.order.ids]


class Counting(stripe.HTTPClient):
    """Passes every request on to another HTTP client and records its method and path."""

    name = "counting"

    def __init__(self, inner: stripe.HTTPClient) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[str, str]] = []
        self.idempotency_keys: list[str] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        from urllib.parse import urlsplit

        self.calls.append((method, urlsplit(url).path))
        if headers and "Idempotency-Key" in headers:
            self.idempotency_keys.append(headers["Idempotency-Key"])
        return self.inner.request(method, url, headers, post_data)

    async def request_async(self, method, url, headers, post_data=None):
        from urllib.parse import urlsplit

        self.calls.append((method, urlsplit(url).path))
        return await self.inner.request_async(method, url, headers, post_data)

    def close(self) -> None:
        pass

    @property
    def writes(self) -> list[tuple[str, str]]:
        """The POST requests (every write to Stripe is a POST)."""
        return [c for c in self.calls if c[0] == "post"]


def counting_client(fake: FakeStripe) -> tuple[stripe.StripeClient, Counting]:
    """A StripeClient on *fake* whose requests are counted."""
    counter = Counting(fake.http_client)
    return stripe.StripeClient("sk_test_counting", http_client=counter), counter

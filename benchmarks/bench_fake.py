"""FakeStripe: its cost on top of stripe-python, how it scales, and a portal flow.

Prints ``name: value`` lines:

* ``floor_us`` — µs per ``client.v1.subscriptions.retrieve`` through
  stripe-python with a canned ``HTTPClient`` returning the very JSON body (and
  headers) the fake returns: stripe-python's own cost, the floor;
* ``fake_us`` — the same call on a FakeStripe; ``fake_overhead_ratio`` =
  fake_us / floor_us (target ≤ 1.25);
* ``growth_ratio_retrieve`` / ``growth_ratio_session`` — per-call time of
  ``subscriptions.retrieve`` / ``billing_portal.sessions.create`` (a cancel
  deep link) with 100,000 subscriptions stored vs with 100; ``growth_ratio``
  the larger of the two (target ≤ 1.2: nothing scans the store);
* ``fixture_us`` — ``FakeStripe()``, ``install()`` and leaving the block
  (target ≤ 300; moto's ``mock_aws`` enter/exit costs about 1,640 µs);
* ``portal_flow_ms`` — one full portal flow: create the session through
  stripe-python, visit it, cancel with a reason; its three events
  (``billing_portal.session.created`` and two
  ``customer.subscription.updated``) signed and delivered to a webhook
  endpoint (one that only keeps the bodies: the host's own verification is
  not the fake's cost).

Each figure is the best of several batches (interleaved where two are
compared), in CPU time of this process (``time.process_time``), so that other
processes on a busy machine do not inflate it; ratios compare figures
measured in the same process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import stripe

from cancelflow.testing import FakeStripe

KEY = "sk_test_benchmark"


class Canned(stripe.HTTPClient):
    """Answers every request with one fixed response: no fake, no network."""

    name = "canned"

    def __init__(self, body: str, headers: Any) -> None:
        super().__init__()
        self._answer = (body, 200, headers)

    def request(self, method, url, headers, post_data=None, *, _usage=None):  # noqa: ARG002
        return self._answer

    async def request_async(self, method, url, headers, post_data=None):  # noqa: ARG002
        return self._answer

    def close(self) -> None:
        pass


def best_us(fn: Callable[[], object], calls: int, batches: int) -> float:
    best = float("inf")
    for _ in range(batches):
        start = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls)
    return best * 1e6


def account(subscriptions: int) -> tuple[FakeStripe, stripe.StripeClient, str, str]:
    """A fake with *subscriptions* subscriptions (made through backend operations, for speed)."""
    fake = FakeStripe()
    client = fake.client()
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    ).id
    fake.dashboard.save_portal_settings(  # the default configuration sessions use
        features={
            "subscription_cancel": {
                "enabled": True,
                "cancellation_reason": {"enabled": True, "options": ["other"]},
            }
        }
    )
    b = fake.backend
    customer = b.customers.create({}).id
    for _ in range(subscriptions):
        b.subscriptions.create({"customer": customer, "items": [{"price": price}]})
    ids = b.subscriptions.store.order.ids
    return fake, client, customer, ids[len(ids) // 2] if ids else ""


def overhead(calls: int, batches: int) -> tuple[float, float]:
    _fake, client, _, sub = account(1)
    response = client.v1.subscriptions.retrieve(sub).last_response
    canned = stripe.StripeClient(
        KEY, http_client=Canned(response.body, response.headers)
    )
    assert canned.v1.subscriptions.retrieve(sub).id == sub
    floor = fake_time = float("inf")
    for _ in range(batches):  # interleaved, so that both see the same machine
        floor = min(
            floor, best_us(lambda: canned.v1.subscriptions.retrieve(sub), calls, 1)
        )
        fake_time = min(
            fake_time, best_us(lambda: client.v1.subscriptions.retrieve(sub), calls, 1)
        )
    return floor, fake_time


def growth(calls: int, batches: int, large: int) -> tuple[float, float]:
    def timings(size: int) -> tuple[float, float]:
        _fake, client, customer, sub = account(size)
        params: Any = {
            "customer": customer,
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": sub},
            },
        }
        retrieve = best_us(
            lambda: client.v1.subscriptions.retrieve(sub), calls, batches
        )
        session = best_us(
            lambda: client.v1.billing_portal.sessions.create(params=params),
            calls,
            batches,
        )
        return retrieve, session

    small = timings(100)
    big = timings(large)
    return big[0] / small[0], big[1] / small[1]


def fixture_us(runs: int, batches: int) -> float:
    def once() -> None:
        fake = FakeStripe()
        with fake.install():
            pass

    return best_us(once, runs, batches)


def portal_flow_ms(flows: int, batches: int) -> float:
    fake, client, customer, _ = account(0)
    price = client.v1.prices.list().data[0].id
    received: list[bytes] = []
    fake.add_webhook_endpoint(lambda body, _headers: received.append(body))
    subs = iter(
        [
            client.v1.subscriptions.create(
                params={"customer": customer, "items": [{"price": price}]}
            ).id
            for _ in range(flows * batches)
        ]
    )

    def flow() -> None:
        sub = next(subs)
        session = client.v1.billing_portal.sessions.create(
            params={
                "customer": customer,
                "flow_data": {
                    "type": "subscription_cancel",
                    "subscription_cancel": {"subscription": sub},
                },
            }
        )
        fake.portal.visit(session.url).cancel(
            feedback="other", comment="too many tools"
        )

    fake.portal.feedback_delay = dt.timedelta(seconds=3)
    before = len(received)
    best = best_us(flow, flows, batches) / 1000
    assert len(received) - before == 3 * flows * batches  # session.created + 2 updates
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    stripe.enable_telemetry = False  # no ~/.config/stripe/telemetry_id from a benchmark
    floor, fake_time = overhead(args.calls, args.batches)
    print(f"floor_us: {floor:.1f}")
    print(f"fake_us: {fake_time:.1f}")
    print(f"fake_overhead_ratio: {fake_time / floor:.3f}")
    retrieve, session = growth(args.calls // 4, args.batches, args.large)
    print(f"growth_ratio_retrieve: {retrieve:.3f}")
    print(f"growth_ratio_session: {session:.3f}")
    print(f"growth_ratio: {max(retrieve, session):.3f}")
    print(f"fixture_us: {fixture_us(args.calls, args.batches):.1f}")
    print(f"portal_flow_ms: {portal_flow_ms(50, args.batches):.3f}")


if __name__ == "__main__":
    main()

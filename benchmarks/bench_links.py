"""Stripe round trips of a cancel link with a coupon, and their latency.

Prints ``name: value`` lines:

* ``link_requests_cold`` — Stripe requests made by the first
  ``Cancelflow.create_cancel_link(..., coupon=...)`` of a new ``Cancelflow``
  (subscription, coupon, session: 3);
* ``link_requests_warm`` — the same for a later link, the coupon's facts fresh
  in the coupon cache (target 2: subscription, session);
* ``link_requests_async_cold`` — requests of a first async link (3, two of them
  at once);
* ``injected_latency_ms`` — the delay FakeStripe adds to every request
  (``fake.set_latency``), the baseline of the ratios below;
* ``link_latency_async_ms`` and ``link_latency_ratio_async`` — wall time of a
  *first* (cold) ``create_cancel_link_async`` with that latency, and that time
  divided by the latency: the number of requests on its critical path plus
  cancelflow's own time (target ≤ 2.3: the coupon is fetched while the
  subscription is);
* ``link_latency_sync_warm_ms`` and ``link_latency_ratio_sync_warm`` — the same
  for a later sync link (coupon cached);
* ``link_latency_sync_cold_ms`` and ``link_latency_ratio_sync_cold`` — and for a
  first sync link (three requests one after the other).

Each latency is the median of ``--runs`` links, each on a fresh ``Cancelflow``
(cold) or one that already made a link (warm). Requests are counted by an
``HTTPClient`` in front of the fake's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
from typing import Any

import stripe

from cancelflow import Cancelflow
from cancelflow.testing import FakeStripe

KEY = "sk_test_benchmark"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Counting(stripe.HTTPClient):
    """Counts the requests stripe-python sends, and passes them to the fake."""

    name = "counting"

    def __init__(self, inner: stripe.HTTPClient) -> None:
        super().__init__()
        self.inner = inner
        self.count = 0

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.count += 1
        return self.inner.request(method, url, headers, post_data)

    async def request_async(self, method, url, headers, post_data=None):
        self.count += 1
        return await self.inner.request_async(method, url, headers, post_data)

    async def sleep_async(self, secs: float) -> None:
        await asyncio.sleep(secs)

    def close(self) -> None:
        pass

    async def close_async(self) -> None:
        pass


def account(n: int) -> tuple[FakeStripe, stripe.StripeClient, Counting, str, list[Any]]:
    """A FakeStripe with a coupon, a portal configuration and *n* subscriptions."""
    fake = FakeStripe(start=START)
    setup = fake.client()
    price = setup.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    setup.v1.coupons.create(
        params={"id": "STAY20", "percent_off": 20, "duration": "once"}
    )
    config = setup.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": {"enabled": True}}}
    )
    subs = []
    for _ in range(n):
        customer = setup.v1.customers.create()
        subs.append(
            setup.v1.subscriptions.create(
                params={"customer": customer.id, "items": [{"price": price.id}]}
            )
        )
    counting = Counting(fake.http_client)
    client = stripe.StripeClient(KEY, http_client=counting)
    return fake, client, counting, config.id, subs


def new_flow(client: stripe.StripeClient, configuration: str) -> Cancelflow:
    return Cancelflow(
        client, allowed_hosts=["example.com"], configuration=configuration
    )


def link(flow: Cancelflow, sub: Any) -> None:
    flow.create_cancel_link(customer=sub.customer, subscription=sub.id, coupon="STAY20")


async def link_async(flow: Cancelflow, sub: Any) -> None:
    await flow.create_cancel_link_async(
        customer=sub.customer, subscription=sub.id, coupon="STAY20"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="links per latency")
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="delay per request (ms)"
    )
    args = parser.parse_args()
    runs = max(3, args.runs)
    delay = args.latency_ms / 1000

    fake, client, counting, config, subs = account(4 * runs + 4)
    subs_left = iter(subs)

    # -- requests per link ----------------------------------------------------------
    flow = new_flow(client, config)
    before = counting.count
    link(flow, next(subs_left))
    cold = counting.count - before
    before = counting.count
    link(flow, next(subs_left))
    warm = counting.count - before
    before = counting.count
    asyncio.run(link_async(new_flow(client, config), next(subs_left)))
    async_cold = counting.count - before

    # -- latency ----------------------------------------------------------------------
    fake.set_latency(delay)

    def timed(call: Any) -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    async def timed_async(pairs: list[tuple[Cancelflow, Any]]) -> list[float]:
        times = []
        for flow_, sub_ in pairs:  # one event loop for all: its start-up is not timed
            start = time.perf_counter()
            await link_async(flow_, sub_)
            times.append(time.perf_counter() - start)
        return times

    sync_cold_times, sync_warm_times = [], []
    warm_flow = new_flow(client, config)
    link(warm_flow, next(subs_left))  # fills its coupon cache
    async_pairs = [(new_flow(client, config), next(subs_left)) for _ in range(runs)]
    async_times = asyncio.run(timed_async(async_pairs))
    for _ in range(runs):  # interleaved, so that machine noise hits both alike
        sub = next(subs_left)
        fresh = new_flow(client, config)
        sync_cold_times.append(timed(lambda f=fresh, s=sub: link(f, s)))
        sub = next(subs_left)
        sync_warm_times.append(timed(lambda s=sub: link(warm_flow, s)))
    fake.set_latency()

    def report(name: str, times: list[float]) -> None:
        median = statistics.median(times)
        print(f"link_latency_{name}_ms: {median * 1000:.1f}")
        print(f"link_latency_ratio_{name}: {median / delay:.2f}")

    print(f"link_requests_cold: {cold}")
    print(f"link_requests_warm: {warm}")
    print(f"link_requests_async_cold: {async_cold}")
    print(f"injected_latency_ms: {delay * 1000:.1f}")
    report("async", async_times)
    report("sync_warm", sync_warm_times)
    report("sync_cold", sync_cold_times)
    print(f"runs: {runs}")


if __name__ == "__main__":
    main()

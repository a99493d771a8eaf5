"""Portal configuration as code on FakeStripe: what a no-op apply costs, and a plan.

A file of 3 configurations (the account's default, and two found by their key)
with custom feedback options, applied once to a fresh fake account. Then:

* ``config_noop_apply_writes`` — write requests (POST) made by an apply that has
  nothing to change (target 0);
* ``config_noop_apply_requests`` — every request of that apply (its reads);
* ``config_plan_ms`` — one ``plan_portal_config`` (read the account, match,
  compare) through stripe-python, in ms;
* ``config_read_ms`` — the baseline: the same two list requests through the
  gateway alone (what any plan must read), in ms; ``config_plan_vs_read`` =
  config_plan_ms / config_read_ms, the cost of matching and comparing on top;
* ``config_first_apply_writes`` — the writes of the first apply (for scale).

Each time is the best of several interleaved batches (the least disturbed by
other processes); the ratio compares figures measured in the same process.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import stripe

from cancelflow import (
    StripeGateway,
    apply_portal_config,
    parse_portal_config,
    plan_portal_config,
)
from cancelflow.testing import FakeStripe

KEY = "sk_test_benchmark"

FILE = """
[configurations.default]
match = "default"
[configurations.default.features.subscription_cancel]
enabled = true
mode = "at_period_end"
[configurations.default.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "missing_features", "switched_service", "unused", "other"]
feedback_options = ["I only needed it for one project", "Too many emails"]

[configurations.monthly]
name = "Monthly plans"
default_return_url = "https://example.com/account"
[configurations.monthly.metadata]
team = "billing"
[configurations.monthly.features.subscription_cancel]
enabled = true
mode = "at_period_end"
[configurations.monthly.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "unused", "other"]
feedback_options = ["Too many emails", "Moving to a spreadsheet"]
[configurations.monthly.features.invoice_history]
enabled = true

[configurations.annual]
name = "Annual plans"
[configurations.annual.features.subscription_cancel]
enabled = true
mode = "immediately"
proration_behavior = "create_prorations"
[configurations.annual.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "other"]
feedback_options = ["I only needed it for one project", "The price went up"]
[configurations.annual.features.subscription_update]
enabled = true
default_allowed_updates = ["price"]
products = [{ product = "prod_pro", prices = ["price_month", "price_year"] }]
"""


class Counting(stripe.HTTPClient):
    """Passes requests on to the fake's HTTP client and counts them."""

    name = "counting"

    def __init__(self, inner: stripe.HTTPClient) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.calls.append((method, urlsplit(url).path))
        return self.inner.request(method, url, headers, post_data)

    async def request_async(self, method, url, headers, post_data=None):
        self.calls.append((method, urlsplit(url).path))
        return await self.inner.request_async(method, url, headers, post_data)

    def close(self) -> None:
        pass


def best_ms(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    stripe.enable_telemetry = False

    fake = FakeStripe()
    fake.dashboard.save_portal_settings(features={"invoice_history": {"enabled": True}})
    counter = Counting(fake.http_client)
    client = stripe.StripeClient(KEY, http_client=counter)
    config = parse_portal_config(FILE)
    assert len(config) == 3

    first = apply_portal_config(client, config)
    counter.calls.clear()
    noop = apply_portal_config(client, config)
    assert noop.writes == 0
    writes = [c for c in counter.calls if c[0] == "post"]
    print(f"config_noop_apply_writes: {len(writes)}")
    print(f"config_noop_apply_requests: {len(counter.calls)}")

    plain = fake.client(KEY)
    gateway = StripeGateway(plain)

    def read() -> None:
        gateway.list_portal_configurations()
        gateway.list_feedback_options()

    def plan() -> None:
        assert plan_portal_config(plain, config).in_step

    read_ms = plan_ms = float("inf")
    for _ in range(args.batches):  # interleaved, so that both see the same machine
        read_ms = min(read_ms, best_ms(read, args.calls))
        plan_ms = min(plan_ms, best_ms(plan, args.calls))
    print(f"config_plan_ms: {plan_ms:.3f}")
    print(f"config_read_ms: {read_ms:.3f}")
    print(f"config_plan_vs_read: {plan_ms / read_ms:.3f}")
    print(f"config_first_apply_writes: {first.writes}")


if __name__ == "__main__":
    main()

"""Shared pieces for the tests of the served fake (not a test module)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import stripe

from cancelflow.testing import FakeStripe
from fake_support import cancel_flow
from needs import (
    CHROMIUM_VAR,  # noqa: F401 - test_server_browser.py sets it
    browser_problem,
    chromium_path,
    launch_chromium,
    require,
)

KEY = "sk_test_served"


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def served(fake: FakeStripe) -> Iterator[str]:
    """The fake served on a free loopback port; yields its URL."""
    with fake.serve() as url:
        yield url


@pytest.fixture
def remote(served: str) -> stripe.StripeClient:
    """A StripeClient that reaches the fake over HTTP (no retries: errors show)."""
    return stripe.StripeClient(
        KEY, base_addresses={"api": served}, max_network_retries=0
    )


class Receiver:
    """A local webhook endpoint: verifies each POST with stripe.Webhook.construct_event.

    *statuses* are answered in turn (then 200); every verified event is kept.
    """

    def __init__(self, secret: str | None = None, statuses: Sequence[int] = ()) -> None:
        self.secret = secret
        self.statuses = list(statuses)
        self.events: list[dict[str, Any]] = []
        self.answered: list[int] = []
        self.rejected: list[str] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.receive(body, self.headers.get("Stripe-Signature", ""), self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def receive(
        self, body: bytes, signature: str, handler: BaseHTTPRequestHandler
    ) -> None:
        with self._cond:
            status = self.statuses.pop(0) if self.statuses else 200
        event = None
        if status == 200:
            try:
                assert self.secret is not None
                event = stripe.Webhook.construct_event(
                    body.decode(), signature, self.secret
                )
            except (
                stripe.SignatureVerificationError,
                ValueError,
                AssertionError,
            ) as err:
                status = 400
                with self._cond:
                    self.rejected.append(str(err))
        with self._cond:  # recorded before answering, so the order is the sender's
            self.answered.append(status)
            if event is not None:
                self.events.append(json.loads(body))
            self._cond.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The verified events, once there are at least *count* (or the timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < count and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return list(self.events)

    def types(self) -> list[str]:
        with self._cond:
            return [event["type"] for event in self.events]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# -- an account with a portal set up ------------------------------------------------------


def portal_account(
    client: stripe.StripeClient,
    *,
    mode: str = "classic",
    cancel_mode: str = "at_period_end",
    options: Sequence[str] = ("too_expensive", "other"),
    product: str = "Pro",
    features: Sequence[str] = (),
    feedback_options: Sequence[str] = (),
) -> stripe.Subscription:
    """A customer with one monthly subscription, a 20 %-off coupon STAY20 and a portal
    configuration that asks for reasons; returns the subscription."""
    prod = client.v1.products.create(
        params={"name": product, "marketing_features": [{"name": f} for f in features]}
    )
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "product": prod.id,
        }
    )
    client.v1.coupons.create(
        params={"id": "STAY20", "percent_off": 20, "duration": "once"}
    )
    option_ids = [
        client.v1.billing.feedback_options.create(params={"description": d}).id
        for d in feedback_options
    ]
    feature: dict[str, Any] = {"enabled": True, "mode": cancel_mode}
    if options:
        feature["cancellation_reason"] = {"enabled": True, "options": list(options)}
        if option_ids:
            feature["cancellation_reason"]["feedback_options"] = option_ids
    client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": feature}}
    )
    customer = client.v1.customers.create(params={"email": "chloe@example.com"})
    return client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "billing_mode": {"type": mode},
        }
    )


def newest_configuration(client: stripe.StripeClient) -> str:
    """The portal configuration created last (API-created ones are not the default)."""
    return client.v1.billing_portal.configurations.list(params={"limit": 1}).data[0].id


def home_session(
    client: stripe.StripeClient, sub: stripe.Subscription, **params: Any
) -> stripe.billing_portal.Session:
    """A session on the portal's homepage for *sub*'s customer."""
    params.setdefault("configuration", newest_configuration(client))
    return client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, **params}
    )


def cancel_session(
    client: stripe.StripeClient,
    sub: stripe.Subscription,
    *,
    coupon: str | None = None,
    after: dict[str, Any] | None = None,
    **params: Any,
) -> stripe.billing_portal.Session:
    params.setdefault("configuration", newest_configuration(client))
    flow = cancel_flow(sub, coupon=coupon, after=after)
    return client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "flow_data": flow, **params}
    )


# -- plain HTTP ---------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    method: str = "GET",
    *,
    form: dict[str, str] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on a fresh connection; redirects are not followed."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    all_headers = dict(headers or {})
    if form is not None:
        body = urlencode(form).encode()
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        conn.request(method, target, body=body, headers=all_headers)
        answer = conn.getresponse()
        return Answer(
            answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        )
    finally:
        conn.close()


class Served:
    """`cancelflow fake serve` in a subprocess, with its banner read."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cancelflow", "fake", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        self.banner: list[str] = []
        for line in self.proc.stdout:
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Stop it with"):
                break
        else:
            self.proc.wait(timeout=30)
            pytest.fail(
                f"no banner; stderr: {self.proc.stderr.read() if self.proc.stderr else ''}"
            )
        self.url = self.banner[0].rsplit(" ", 1)[1]
        self.secret = self.field("Webhook secret")

    def field(self, name: str) -> str:
        line = next(line for line in self.banner if line.strip().startswith(name))
        return line.strip()[len(name) :].split()[0]

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # A server that does not stop fails the test; it never hangs the suite.
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            assert self.proc.stdout is not None and self.proc.stderr is not None
            err = self.proc.stderr.read()
            self.proc.stdout.close()
            self.proc.stderr.close()
        return code, err


# -- the browser ----------------------------------------------------------------------------


def need_browser() -> None:
    """Skip (locally) or fail (CI) when the browser tests cannot run."""
    require(browser_problem(chromium_path()), "browser tests")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (the system's), driven by Playwright, for one test module.

    Not for the session: Playwright's sync API keeps an asyncio loop running while
    it is open, and later tests calling ``asyncio.run()`` would fail.
    """
    yield from launch_chromium(chromium_path())

"""Webhook forwarding: events POSTed, signed, to --forward-to URLs, retried with back-off."""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from tests.serve_support import KEY, Receiver, cancel_session, fake, portal_account

from cancelflow.testing import FakeServer, ForwardedDelivery

__all__ = ["fake"]

SECRET = "whsec_forward_tests"


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(statuses=()):
        r = Receiver(SECRET, statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestDelivery:
    def test_every_endpoint_gets_every_event_verified(self, fake, receivers):
        """Two endpoints each get the events, and construct_event accepts every one."""
        one, two = receivers(), receivers()
        with fake.serve(forward_to=[one.url, two.url], webhook_secret=SECRET) as url:
            client = stripe.StripeClient(KEY, base_addresses={"api": url})
            made = client.v1.customers.create(params={"email": "ada@example.com"})
            assert one.wait_for(1) and two.wait_for(1)
        for r in (one, two):
            assert r.rejected == []
            assert r.types() == ["customer.created"]
            assert r.events[0]["data"]["object"]["id"] == made.id

    def test_a_portal_cancel_arrives_in_order(self, fake, receivers):
        """A cancel through the portal driver reaches the endpoint as Stripe's two updates."""
        hook = receivers()
        client = fake.client()
        sub = portal_account(client)
        with fake.serve(forward_to=[hook.url], webhook_secret=SECRET) as server_url:
            session = cancel_session(client, sub)
            fake.portal.visit(session.url).cancel("other", "Too slow")
            events = hook.wait_for(3)
        assert server_url
        assert [e["type"] for e in events] == [
            "billing_portal.session.created",
            "customer.subscription.updated",
            "customer.subscription.updated",
        ]
        assert (
            events[2]["data"]["object"]["cancellation_details"]["comment"] == "Too slow"
        )

    def test_the_record_of_deliveries(self, fake, receivers):
        """server.deliveries records each attempt: URL, event, attempt number, status."""
        hook = receivers()
        server = fake.serve(forward_to=[hook.url], webhook_secret=SECRET)
        with server:
            fake.client().v1.customers.create(params={})
            assert server.wait_for_webhooks()
        [delivery] = server.deliveries
        assert isinstance(delivery, ForwardedDelivery)
        assert (delivery.url, delivery.event_type, delivery.attempt) == (
            hook.url,
            "customer.created",
            1,
        )
        assert delivery.ok
        assert delivery.status == 200


class TestRetries:
    def test_a_failing_endpoint_is_retried_and_logged(self, fake, receivers, caplog):
        """500, then 503, then 200: three attempts, each failure logged with the next wait."""
        caplog.set_level(logging.INFO, "cancelflow.testing.server")
        hook = receivers(statuses=[500, 503])
        server = FakeServer(
            fake, forward_to=[hook.url], webhook_secret=SECRET, webhook_backoff=0.01
        )
        with server:
            fake.client().v1.customers.create(params={})
            assert hook.wait_for(1)
            assert server.wait_for_webhooks()
        assert hook.answered == [500, 503, 200]
        assert [d.attempt for d in server.deliveries] == [1, 2, 3]
        assert [d.error for d in server.deliveries] == ["HTTP 500", "HTTP 503", None]
        assert "failed (attempt 1 of 8): HTTP 500; retrying in 0.01 s" in caplog.text
        assert "failed (attempt 2 of 8): HTTP 503; retrying in 0.02 s" in caplog.text

    def test_it_gives_up_after_the_last_attempt(self, fake, receivers, caplog):
        """An endpoint that always fails is tried webhook_attempts times, then given up."""
        caplog.set_level(logging.INFO, "cancelflow.testing.server")
        hook = receivers(statuses=[500] * 10)
        server = FakeServer(
            fake,
            forward_to=[hook.url],
            webhook_secret=SECRET,
            webhook_attempts=3,
            webhook_backoff=0.0,
        )
        with server:
            fake.client().v1.customers.create(params={})
            assert server.wait_for_webhooks()
        assert hook.answered == [500, 500, 500]
        assert "giving up" in caplog.text

    def test_nobody_listening(self, fake, caplog):
        """A refused connection is a failed delivery with the reason, retried."""
        caplog.set_level(logging.INFO, "cancelflow.testing.server")
        url = f"http://127.0.0.1:{free_port()}/hook"
        server = FakeServer(
            fake, forward_to=[url], webhook_attempts=2, webhook_backoff=0.0
        )
        with server:
            fake.client().v1.customers.create(params={})
            assert server.wait_for_webhooks()
        assert [d.error for d in server.deliveries] == ["connection refused"] * 2
        assert all(d.status is None and not d.ok for d in server.deliveries)

    def test_a_redirect_is_a_failure(self, fake, caplog):
        """A 3xx answer is not followed: it is a failed delivery, as with Stripe."""

        class Redirecting(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

        http = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{http.server_address[1]}/hook"
            server = FakeServer(fake, forward_to=[url], webhook_attempts=1)
            with server:
                fake.client().v1.customers.create(params={})
                assert server.wait_for_webhooks()
        finally:
            http.shutdown()
            http.server_close()
        assert [(d.status, d.error) for d in server.deliveries] == [(302, "HTTP 302")]

    def test_stop_reports_what_was_not_delivered(self, fake, receivers, caplog):
        """Deliveries still waiting for a retry at stop are counted in a warning."""
        caplog.set_level(logging.WARNING, "cancelflow.testing.server")
        hook = receivers(statuses=[500])
        server = FakeServer(
            fake, forward_to=[hook.url], webhook_secret=SECRET, webhook_backoff=60.0
        )
        server.start()
        fake.client().v1.customers.create(params={})
        assert not server.wait_for_webhooks(timeout=0.5)
        server.stop(webhook_grace=0.0)
        assert "1 webhook deliveries not made" in caplog.text

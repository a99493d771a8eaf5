"""FakeServer: the fake Stripe over loopback HTTP (API, keep-alive, threads, controls)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import threading
from urllib.parse import urlsplit

import pytest
import stripe
from tests.serve_support import (
    KEY,
    Receiver,
    cancel_session,
    fake,
    portal_account,
    remote,
    request,
    served,
)

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import FakeServer, FakeStripe

__all__ = ["fake", "remote", "served"]

AUTH = {"Authorization": f"Bearer {KEY}"}


class TestTheAPI:
    def test_stripe_python_reaches_the_same_account(self, fake, remote):
        """An object created over HTTP is the in-process fake's object, and back."""
        made = remote.v1.customers.create(params={"email": "ada@example.com"})
        assert fake.client().v1.customers.retrieve(made.id).email == "ada@example.com"
        local = fake.client().v1.customers.create(params={"email": "ben@example.com"})
        assert remote.v1.customers.retrieve(local.id).email == "ben@example.com"

    def test_errors_are_stripes(self, remote):
        """A missing object raises stripe-python's InvalidRequestError with Stripe's code."""
        with pytest.raises(stripe.InvalidRequestError) as caught:
            remote.v1.customers.retrieve("cus_nope")
        assert caught.value.code == "resource_missing"
        assert caught.value.http_status == 404
        assert caught.value.param == "id"

    def test_global_api_base(self, fake, served):
        """stripe.api_base pointed at the server routes global stripe.* calls there."""
        saved = (stripe.api_base, stripe.api_key)
        stripe.api_base, stripe.api_key = served, KEY
        try:
            made = stripe.Customer.create(email="cy@example.com")
        finally:
            stripe.api_base, stripe.api_key = saved
        assert fake.backend.customers.get(made.id).obj["email"] == "cy@example.com"

    def test_basic_auth_like_curl(self, served):
        """The key as the Basic user name (curl -u sk_test_…:) is accepted, as by Stripe."""
        token = base64.b64encode(f"{KEY}:".encode()).decode()
        answer = request(
            f"{served}/v1/customers",
            "POST",
            form={"email": "dee@example.com"},
            headers={"Authorization": f"Basic {token}"},
        )
        assert answer.status == 200
        assert answer.json()["email"] == "dee@example.com"

    def test_live_keys_and_no_key_are_refused(self, served):
        """Without a key, or with a live one, the answer is Stripe's 401."""
        assert request(f"{served}/v1/customers").status == 401
        live = request(
            f"{served}/v1/customers", headers={"Authorization": "Bearer sk_live_abc"}
        )
        assert live.status == 401
        assert "live-mode" in live.json()["error"]["message"]

    def test_headers_of_an_answer(self, served):
        """Answers carry Request-Id, the pinned Stripe-Version and JSON content type."""
        answer = request(f"{served}/v1/customers", headers=AUTH)
        assert answer.status == 200
        assert answer.headers["request-id"].startswith("req_")
        assert answer.headers["stripe-version"] == stripe.api_version
        assert answer.headers["content-type"] == "application/json"

    def test_a_body_that_is_not_utf8(self, served):
        """A body that is not UTF-8 gets a Stripe-shaped 400, not a crash."""
        answer = request(
            f"{served}/v1/customers",
            "POST",
            body=b"email=\xff\xfe",
            headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status == 400
        assert answer.json()["error"]["type"] == "invalid_request_error"

    def test_unknown_paths(self, served):
        """Paths outside the API, the pages and the controls answer 404 saying what exists."""
        answer = request(f"{served}/v2/core/events")
        assert answer.status == 404
        assert b"/v1/" in answer.body

    def test_the_index_and_the_style_sheet(self, served):
        """/ says what this is; the style sheet is served from the package."""
        assert "cancelflow fake Stripe" in request(served + "/").text
        css = request(f"{served}/assets/portal.css")
        assert css.status == 200
        assert css.headers["content-type"].startswith("text/css")
        assert b"focus-visible" in css.body


class TestConnections:
    def test_keep_alive(self, served):
        """Several requests travel on one HTTP/1.1 connection."""
        parts = urlsplit(served)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            statuses, sockets = [], []
            for _ in range(3):
                conn.request("GET", "/v1/customers", headers=AUTH)
                answer = conn.getresponse()
                answer.read()
                statuses.append(answer.status)
                sockets.append(conn.sock)
                assert answer.getheader("Connection") == "keep-alive"
        finally:
            conn.close()
        assert statuses == [200, 200, 200]
        assert sockets[0] is not None
        assert all(s is sockets[0] for s in sockets)

    def test_connection_close_is_honoured(self, served):
        """A client that asks to close gets Connection: close and the socket closes."""
        answer = request(
            f"{served}/v1/customers", headers={**AUTH, "Connection": "close"}
        )
        assert answer.headers["connection"] == "close"

    def test_concurrent_clients_lose_no_update(self, fake, served):
        """Threads updating one customer at once: every metadata key arrives, ids are unique."""
        customer = fake.client().v1.customers.create(params={})
        threads, created, errors = 5, [], []
        per_thread = 10

        def work(n: int) -> None:
            client = stripe.StripeClient(KEY, base_addresses={"api": served})
            try:
                for i in range(per_thread):
                    client.v1.customers.update(
                        customer.id, params={"metadata": {f"t{n}_{i}": str(i)}}
                    )
                    created.append(client.v1.customers.create(params={}).id)
            except Exception as err:  # surfaced below
                errors.append(err)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        metadata = fake.client().v1.customers.retrieve(customer.id).metadata
        assert len(metadata.to_dict()) == threads * per_thread
        assert len(set(created)) == threads * per_thread

    def test_stop_closes_open_connections(self, fake):
        """stop() ends idle keep-alive connections instead of waiting for them."""
        server = fake.serve()
        url = server.start()
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/v1/customers", headers=AUTH)
        conn.getresponse().read()
        server.stop()
        conn.request("GET", "/v1/customers", headers=AUTH)
        with pytest.raises((http.client.HTTPException, OSError)):
            conn.getresponse()
        conn.close()


class TestLifecycle:
    def test_context_manager_gives_the_url(self, fake):
        """`with fake.serve() as url` gives http://127.0.0.1:PORT and stops at the end."""
        server = fake.serve()
        with server as url:
            assert url == server.url
            assert url.startswith("http://127.0.0.1:")
            assert server.port == int(url.rsplit(":", 1)[1])
            assert url in repr(server)
        assert "not started" in repr(server)
        with pytest.raises(FakeStripeError, match="not started"):
            server.url  # noqa: B018

    def test_it_cannot_start_twice(self, fake):
        """A started server refuses a second start."""
        server = fake.serve()
        with server, pytest.raises(FakeStripeError, match="already"):
            server.start()

    def test_a_taken_port_is_a_clear_error(self, fake):
        """Listening on a port in use says so and suggests another port."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(FakeStripeError, match="choose another port"):
                FakeServer(fake, port=port).start()

    def test_session_urls_point_at_the_server(self, fake, remote, served):
        """Sessions made while served open here; after stop, Stripe's URL form again."""
        sub = portal_account(remote)
        session = cancel_session(remote, sub)
        assert session.url.startswith(f"{served}/p/session/test_")
        assert fake.portal.visit(session.url).session_id == session.id

    def test_stop_restores_stripes_urls(self, fake):
        """Once stopped, new sessions have billing.stripe.com URLs again."""
        client = fake.client()
        sub = portal_account(client)
        with fake.serve():
            pass
        assert cancel_session(client, sub).url.startswith("https://billing.stripe.com/")

    def test_reset_while_served(self, fake):
        """After fake.reset() the server still serves, points URLs here and forwards."""
        receiver = Receiver("whsec_reset")
        try:
            with fake.serve(
                forward_to=[receiver.url], webhook_secret="whsec_reset"
            ) as url:
                fake.reset()
                client = stripe.StripeClient(KEY, base_addresses={"api": url})
                sub = portal_account(client)
                assert cancel_session(client, sub).url.startswith(url)
                assert len(fake.webhook_endpoints) == 1
                assert receiver.wait_for(1)[0]["type"] == "product.created"
        finally:
            receiver.close()

    def test_other_interfaces_warn(self, fake, caplog):
        """Listening beyond loopback logs a warning about the missing authentication."""
        caplog.set_level(logging.WARNING, "cancelflow.testing.server")
        with fake.serve(host="0.0.0.0"):
            pass
        assert "not on loopback" in caplog.text

    def test_loopback_does_not_warn(self, fake, caplog):
        """The default interface logs no warning."""
        caplog.set_level(logging.WARNING, "cancelflow.testing.server")
        with fake.serve():
            pass
        assert caplog.text == ""

    def test_bad_options_are_refused(self, fake):
        """A forward URL that is not http(s), a secret without whsec_, or no attempts are refused."""
        with pytest.raises(FakeStripeError, match="forward_to"):
            fake.serve(forward_to=["ftp://example.com"])
        with pytest.raises(FakeStripeError, match="whsec_"):
            fake.serve(webhook_secret="secret")
        with pytest.raises(FakeStripeError, match="attempts"):
            FakeServer(fake, webhook_attempts=0)

    def test_what_it_tells_clients(self, fake):
        """The test key, the webhook secret and the forward URLs are readable."""
        server = fake.serve(
            forward_to=["http://127.0.0.1:9/hook"], webhook_secret="whsec_given"
        )
        assert server.api_key.startswith("sk_test_")
        assert server.webhook_secret == "whsec_given"
        assert server.forward_to == ["http://127.0.0.1:9/hook"]
        assert server.state_path is None
        assert "whsec_given" not in repr(server)


class TestControls:
    def test_read_and_move_the_clock(self, fake, served):
        """/_cancelflow/clock reads the fake clock; /advance moves it and runs renewals."""
        client = fake.client()
        sub = portal_account(client)
        start = request(f"{served}/_cancelflow/clock", headers=AUTH).json()["now"]
        assert start == fake.clock.now()
        moved = request(
            f"{served}/_cancelflow/clock/advance",
            "POST",
            form={"seconds": str(40 * 86400)},
            headers=AUTH,
        )
        assert moved.status == 200
        assert moved.json()["now"] == start + 40 * 86400
        renewed = client.v1.subscriptions.retrieve(sub.id)
        assert renewed["items"].data[0].current_period_start > start

    def test_advance_to_a_time(self, fake, served):
        """to=UNIX moves the clock to that time."""
        target = fake.clock.now() + 3600
        answer = request(
            f"{served}/_cancelflow/clock/advance",
            "POST",
            form={"to": str(target)},
            headers=AUTH,
        )
        assert answer.json()["now"] == target

    @pytest.mark.parametrize(
        "form",
        [
            {},
            {"seconds": "1", "to": "2"},
            {"seconds": "-5"},
            {"seconds": "soon"},
            {"to": "1"},
        ],
    )
    def test_bad_moves_are_refused(self, fake, served, form):
        """Neither or both fields, a negative, a non-number or a past time answer 400."""
        answer = request(
            f"{served}/_cancelflow/clock/advance", "POST", form=form, headers=AUTH
        )
        assert answer.status == 400
        assert answer.json()["error"]["message"]
        assert fake.clock.now() == fake.clock.start

    def test_controls_need_a_test_key(self, served):
        """The controls check the key as the API does."""
        assert request(f"{served}/_cancelflow/clock").status == 401

    def test_unknown_control(self, served):
        """An unknown control is a 404 naming the ones that exist."""
        answer = request(f"{served}/_cancelflow/reset", "POST", headers=AUTH)
        assert answer.status == 404
        assert "clock/advance" in answer.json()["error"]["message"]


def test_an_internal_error_is_a_clean_500(fake, served, monkeypatch, caplog):
    """A bug in the fake answers a Stripe-shaped 500 and logs the traceback."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("cancelflow.testing._server.account.handle", broken)
    caplog.set_level(logging.ERROR, "cancelflow.testing.server")
    answer = request(f"{served}/v1/customers", headers=AUTH)
    assert answer.status == 500
    assert answer.json()["error"]["type"] == "api_error"
    assert "boom" in caplog.text
    assert "boom" not in answer.text


def test_fake_serve_returns_an_unstarted_server():
    """fake.serve() builds the server; nothing listens until it is started."""
    server = FakeStripe().serve(port=0)
    assert isinstance(server, FakeServer)
    assert "not started" in repr(server)
    assert json.dumps(server.forward_to) == "[]"


class TestIssue13Controls:
    def test_dashboard_portal_settings_over_http(self, fake, served):
        """POST /_cancelflow/dashboard/portal_settings saves the default configuration."""
        saved = request(
            f"{served}/_cancelflow/dashboard/portal_settings",
            "POST",
            form={
                "features[subscription_cancel][enabled]": "true",
                "features[subscription_cancel][mode]": "at_period_end",
            },
            headers=AUTH,
        )
        assert saved.status == 200
        assert saved.json()["is_default"] is True
        assert fake.dashboard.portal_configuration["id"] == saved.json()["id"]
        read = request(f"{served}/_cancelflow/dashboard/portal_settings", headers=AUTH)
        assert read.json()["features"]["subscription_cancel"]["enabled"] is True
        customer = fake.client().v1.customers.create(params={})
        session = fake.client().v1.billing_portal.sessions.create(
            params={"customer": customer.id}
        )
        assert session.configuration == saved.json()["id"]

    def test_bad_portal_settings(self, served):
        """A setting the Dashboard page does not have is a 400 naming it."""
        answer = request(
            f"{served}/_cancelflow/dashboard/portal_settings",
            "POST",
            form={"is_default": "true"},
            headers=AUTH,
        )
        assert answer.status == 400
        assert "is_default" in answer.json()["error"]["message"]

    def test_latency_over_http(self, fake, served):
        """POST /_cancelflow/latency sets fake.set_latency; GET reads it back."""
        answer = request(
            f"{served}/_cancelflow/latency",
            "POST",
            form={"seconds": "0.001", "routes[customers.list]": "0"},
            headers=AUTH,
        )
        assert answer.json() == {"default": 0.001, "routes": {"customers.list": 0.0}}
        assert fake.latency.for_operation("customers.create") == 0.001
        assert request(f"{served}/v1/customers", headers=AUTH).status == 200
        reset = request(f"{served}/_cancelflow/latency", "POST", form={}, headers=AUTH)
        assert reset.json()["default"] == 0.0

    @pytest.mark.parametrize(
        "form",
        [
            {"seconds": "soon"},
            {"seconds": "-1"},
            {"routes[nope.nope]": "1"},
            {"routes": "1"},
        ],
    )
    def test_bad_latency(self, served, form):
        """A delay that is not a non-negative number, or an unknown operation, is a 400."""
        answer = request(
            f"{served}/_cancelflow/latency", "POST", form=form, headers=AUTH
        )
        assert answer.status == 400


class TestFailedRenewalControls:
    def test_fail_next_renewal_over_http(self, fake, served):
        """POST /_cancelflow/customers/<id>/fail_next_renewal makes the renewal fail."""
        client = fake.client()
        sub = portal_account(client)
        answer = request(
            f"{served}/_cancelflow/customers/{sub.customer}/fail_next_renewal",
            "POST",
            form={"attempts": "2"},
            headers=AUTH,
        )
        assert answer.status == 200
        request(
            f"{served}/_cancelflow/clock/advance",
            "POST",
            form={"seconds": str(32 * 86400)},
            headers=AUTH,
        )
        assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"

    @pytest.mark.parametrize(
        ("who", "form"), [("cus_nope", {}), ("{customer}", {"attempts": "zero"})]
    )
    def test_bad_renewal_failures(self, fake, served, who, form):
        """An unknown customer or a bad attempts count is a 400."""
        customer = fake.client().v1.customers.create(params={}).id
        answer = request(
            f"{served}/_cancelflow/customers/{who.format(customer=customer)}/fail_next_renewal",
            "POST",
            form=form,
            headers=AUTH,
        )
        assert answer.status == 400

    def test_retry_schedule_over_http(self, fake, served):
        """POST /_cancelflow/dashboard/retry_schedule sets the Dashboard's schedule."""
        answer = request(
            f"{served}/_cancelflow/dashboard/retry_schedule",
            "POST",
            form={"days[0]": "3", "days[1]": "5", "then": "unpaid"},
            headers=AUTH,
        )
        assert answer.json() == {"days": [3, 5], "then": "unpaid"}
        assert fake.dashboard.retry_schedule.days == (3, 5)
        read = request(f"{served}/_cancelflow/dashboard/retry_schedule", headers=AUTH)
        assert read.json()["then"] == "unpaid"

    @pytest.mark.parametrize(
        "form",
        [
            {"days[0]": "5", "days[1]": "3"},
            {"then": "explode"},
            {"days[0]": "x"},
            {"days": "1"},
        ],
    )
    def test_bad_retry_schedules(self, served, form):
        """Days that do not increase, an unknown outcome or non-numbers answer 400."""
        answer = request(
            f"{served}/_cancelflow/dashboard/retry_schedule",
            "POST",
            form=form,
            headers=AUTH,
        )
        assert answer.status == 400

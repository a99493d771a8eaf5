"""Plugging FakeStripe under stripe-python: client(), http_client, install(), keys, versions."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
import stripe
from tests.fake_support import client, fake

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import FakeClock, FakeStripe
from cancelflow.testing import _fake as fake_module

__all__ = ["client", "fake"]

VERSION = stripe.api_version


def call(fake, method="get", path="/v1/customers", headers=None, body=None):
    base = {"Authorization": "Bearer sk_test_123", "Stripe-Version": VERSION}
    if headers is not None:
        base = headers
    text, status, out = fake.http_client.request(
        method, "https://api.stripe.com" + path, base, body
    )
    return json.loads(text), status, out


class TestClient:
    def test_sync_and_async_calls_reach_the_same_account(self, fake, client):
        """client() talks to the fake, sync and *_async alike."""
        created = client.v1.customers.create(params={"email": "ada@example.com"})

        async def fetch():
            return await client.v1.customers.retrieve_async(created.id)

        assert asyncio.run(fetch()).email == "ada@example.com"
        assert isinstance(created, stripe.Customer)

    def test_http_client_is_a_stripe_http_client(self, fake):
        """http_client plugs into StripeClient(http_client=...) directly."""
        assert isinstance(fake.http_client, stripe.HTTPClient)
        own = stripe.StripeClient("rk_test_abc", http_client=fake.http_client)
        assert own.v1.customers.create(params={"name": "Rk"}).name == "Rk"
        assert fake.http_client is fake.http_client

    def test_response_headers_are_case_insensitive(self, fake, client):
        """Request-Id reads in any case; stripe-should-retry is false."""
        customer = client.v1.customers.create()
        headers = customer.last_response.headers
        assert (
            headers["Request-Id"]
            == headers["request-id"]
            == customer.last_response.request_id
        )
        assert headers["stripe-should-retry"] == "false"
        assert "REQUEST-ID" in headers

    def test_errors_carry_the_request_id(self, fake, client):
        """stripe-python's error.request_id comes from the fake's lowercase lookup."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.retrieve("cus_missing")
        assert info.value.request_id.startswith("req_")

    def test_close_is_harmless(self, fake, client):
        """After close()/close_async() (no sockets to close) the client still answers."""
        created = client.v1.customers.create()
        fake.http_client.close()
        asyncio.run(fake.http_client.close_async())
        asyncio.run(fake.http_client.sleep_async(0))
        assert client.v1.customers.retrieve(created.id).id == created.id


class TestInstall:
    def test_global_resources_and_new_clients_use_the_fake(self, fake):
        """Inside install(), stripe.* and any StripeClient(key) built there reach the fake."""
        with fake.install(api_key="sk_test_global"):
            created = stripe.Customer.create(email="g@example.com")
            host_client = stripe.StripeClient("sk_test_host")
            assert (
                host_client.v1.customers.retrieve(created.id).email == "g@example.com"
            )

            async def global_async():
                return await stripe.Customer.retrieve_async(created.id)

            assert asyncio.run(global_async()).id == created.id
        assert fake.backend.customers.get(created.id).obj["email"] == "g@example.com"

    def test_everything_is_restored_on_exit(self, fake):
        """default_http_client, api_key and the private factories come back as they were."""
        from stripe import _http_client as hooks

        before = (
            stripe.default_http_client,
            stripe.api_key,
            hooks._default_sync_client,
            hooks._default_async_client,
        )
        with fake.install(api_key="sk_test_x"):
            assert stripe.default_http_client is fake.http_client
            assert stripe.api_key == "sk_test_x"
        assert (
            stripe.default_http_client,
            stripe.api_key,
            hooks._default_sync_client,
            hooks._default_async_client,
        ) == before

    def test_restored_when_the_block_raises(self, fake):
        """An exception inside the block still restores stripe-python."""
        before = stripe.default_http_client
        with pytest.raises(RuntimeError, match="boom"), fake.install():
            raise RuntimeError("boom")
        assert stripe.default_http_client is before
        with fake.install():  # and it can be installed again
            pass

    def test_api_key_untouched_without_argument(self, fake, monkeypatch):
        """install() leaves stripe.api_key alone unless asked."""
        monkeypatch.setattr(stripe, "api_key", "sk_test_host_owned")
        with fake.install():
            assert stripe.api_key == "sk_test_host_owned"

    def test_nested_install_is_refused(self, fake):
        """install() does not nest, for the same or another FakeStripe."""
        with fake.install():
            with (
                pytest.raises(FakeStripeError, match="already installed"),
                fake.install(),
            ):
                pass
            with (
                pytest.raises(FakeStripeError, match="already installed"),
                FakeStripe().install(),
            ):
                pass

    def test_install_in_another_thread_is_refused(self, fake):
        """Only one FakeStripe can be installed per process, across threads."""
        errors: list[Exception] = []

        def other() -> None:
            try:
                with FakeStripe().install():
                    pass
            except FakeStripeError as exc:
                errors.append(exc)

        with fake.install():
            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
        assert len(errors) == 1

    def test_unknown_stripe_version_is_refused_clearly(self, fake, monkeypatch):
        """The private hook is patched only on stripe-python versions known to have it."""
        monkeypatch.setattr(stripe, "VERSION", "99.0.0")
        with (
            pytest.raises(FakeStripeError, match=r"stripe is 99\.0\.0") as info,
            fake.install(),
        ):
            pass
        assert "fake.client()" in str(info.value)
        assert fake_module._installed is None

    def test_construction_and_install_build_nothing(self):
        """A FakeStripe builds its account on first use, not when created or installed."""
        fresh = FakeStripe()
        with fresh.install():
            pass
        assert fresh._backend is None


class TestKeys:
    def test_missing_key(self, fake):
        """No Authorization header: 401 with Stripe's own message."""
        body, status, _ = call(fake, headers={"Stripe-Version": VERSION})
        assert status == 401
        assert body["error"]["message"] == (
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
            "details, or we can help at https://support.stripe.com/."
        )
        assert body["error"]["type"] == "invalid_request_error"

    @pytest.mark.parametrize(
        ("key", "shown"),
        [
            ("pk_test_51AbCdEfSECRETxyz9", "pk_test_**************xyz9"),
            ("sk_test_", "sk_test_"),
            ("sk_test_x", None),  # accepted: a test key
            ("SECRET_abcd", "*******abcd"),
            ("sk_tes_abc", "******_abc"),
            ("rk_live_", None),  # refused as live, with the fake's own words
        ],
    )
    def test_a_bad_key_is_named_masked_as_stripe_does(self, fake, key, shown):
        """Invalid API Key provided: the prefix and the last four kept, the rest starred."""
        body, status, _ = call(
            fake, headers={"Authorization": f"Bearer {key}", "Stripe-Version": VERSION}
        )
        if shown is None:
            assert key.startswith("rk_live_") == (status == 401)
            return
        assert status == 401
        assert body["error"]["message"] == f"Invalid API Key provided: {shown}"
        assert len(shown) == len(key)

    def test_live_key_refused_without_echoing_it(self, fake):
        """A live-mode key is refused, and the key is not in the message."""
        live = stripe.StripeClient("sk_live_supersecret", http_client=fake.http_client)
        with pytest.raises(stripe.AuthenticationError) as info:
            live.v1.customers.list()
        assert info.value.http_status == 401
        assert "live-mode" in str(info.value)
        assert "supersecret" not in str(info.value)

    @pytest.mark.parametrize("key", ["pk_test_SECRET", "sk_test_", "SECRET"])
    def test_other_keys_refused(self, fake, key):
        """Publishable, empty or unknown keys are refused with 401, never echoed."""
        with pytest.raises(stripe.AuthenticationError) as info:
            stripe.StripeClient(key, http_client=fake.http_client).v1.customers.list()
        assert "SECRET" not in str(info.value)

    def test_basic_auth_refused(self, fake):
        """Only Bearer auth is understood."""
        _, status, _ = call(
            fake, headers={"Authorization": "Basic abc", "Stripe-Version": VERSION}
        )
        assert status == 401


class TestUnmodeled:
    def test_unknown_url(self, fake, client):
        """A URL Stripe does not have: 404 Unrecognized request URL."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.raw_request("get", "/v1/nonsense")
        assert info.value.http_status == 404
        assert "Unrecognized request URL (GET: /v1/nonsense)" in str(info.value)

    def test_stripe_endpoint_the_fake_does_not_model(self, fake, client):
        """An endpoint Stripe has but the fake does not: 400 naming it, never {}."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.charges.retrieve("ch_1")
        assert info.value.http_status == 400
        assert "cancelflow FakeStripe does not model GET /v1/charges/{charge}" in str(
            info.value
        )

    def test_parameter_the_fake_does_not_model(self, fake, client):
        """A parameter Stripe accepts but the fake does not model is refused by name."""
        customer = client.v1.customers.create()
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.create(
                params={"customer": customer.id, "automatic_tax": {"enabled": True}}
            )
        assert info.value.param == "automatic_tax"
        assert (
            "does not model the parameter automatic_tax of POST /v1/subscriptions"
            in str(info.value)
        )

    def test_nested_parameter_the_fake_does_not_model(self, fake, client):
        """Nested unmodeled parameters are named in form notation."""
        customer = client.v1.customers.create()
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [
                        {
                            "price_data": {
                                "currency": "usd",
                                "product": "p",
                                "recurring": {"interval": "month"},
                            }
                        }
                    ],
                }
            )
        assert info.value.param == "items[0][price_data]"

    def test_other_api_versions(self, fake):
        """The fake models the version stripe-python pins; another version is refused."""
        old = fake.client(stripe_version="2025-03-31.basil")
        with pytest.raises(
            stripe.InvalidRequestError, match=r"API version 2025-03-31\.basil"
        ):
            old.v1.customers.list()

    def test_connect_headers(self, fake, client):
        """Stripe-Account (Connect) is not modeled."""
        with pytest.raises(stripe.InvalidRequestError, match="Stripe-Account"):
            client.v1.customers.list(options={"stripe_account": "acct_1"})


class TestReset:
    def test_reset_forgets_everything(self):
        """reset() empties the account, forgets endpoints and rewinds the clock."""
        fake = FakeStripe(start=1_800_000_000)
        client = fake.client()
        customer = client.v1.customers.create()
        fake.add_webhook_endpoint(lambda body, headers: None)
        fake.clock.advance(60)
        fake.reset()
        assert fake.clock.now() == 1_800_000_000
        assert fake.webhook_endpoints == []
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(customer.id)
        assert client.v1.events.list().data == []

    def test_clock_is_exported(self):
        """fake.clock is the public FakeClock."""
        assert isinstance(FakeStripe().clock, FakeClock)
        assert repr(FakeStripe()).startswith("<FakeStripe clock=2026-01-01")


def test_importing_cancelflow_testing_does_not_import_stripe():
    """cancelflow.testing stays light (the pytest plugin imports it): stripe loads on first use."""
    import subprocess
    import sys

    code = "import sys, cancelflow.testing; print('stripe' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_id_tag_names_the_account_s_ids():
    """id_tag replaces 'fake' in every id the account makes, so that two accounts
    whose objects meet in one ledger never share an id; a bad tag is refused."""
    tagged = FakeStripe(id_tag="run2_")
    client = tagged.client()
    customer = client.v1.customers.create()
    assert customer.id == "cus_run2_0000000001"
    assert FakeStripe().client().v1.customers.create().id == "cus_fake0000000001"
    tagged.reset()  # the tag survives a reset
    assert tagged.client().v1.customers.create().id == "cus_run2_0000000001"
    for bad in ("", "Run2", "a-b", "x" * 17, 3):
        with pytest.raises(FakeStripeError, match="id_tag must be"):
            FakeStripe(id_tag=bad)  # type: ignore[arg-type]

"""cancelflow's pytest plugin: the fake_stripe and stripe_client fixtures, its marker, its cost."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap

import pytest
import stripe

from cancelflow.testing import FakeStripe


@pytest.mark.parametrize("run", [1, 2])
def test_fake_stripe_is_fresh_for_each_test(fake_stripe, stripe_client, run):
    """Each test gets an empty account, and stripe_client talks to it."""
    assert isinstance(fake_stripe, FakeStripe)
    assert len(fake_stripe.backend.customers) == 0
    customer = stripe_client.v1.customers.create()
    assert fake_stripe.backend.customers.get(customer.id).id == customer.id
    assert customer.id == "cus_fake0000000001"  # the first id: a new account each time


@pytest.mark.fake_stripe(start=dt.datetime(2030, 6, 1, tzinfo=dt.UTC), seed=7)
def test_marker_chooses_start_and_seed(fake_stripe):
    """The marker sets the clock's start and the seed."""
    assert fake_stripe.clock.now_datetime() == dt.datetime(2030, 6, 1, tzinfo=dt.UTC)
    same = FakeStripe(seed=7)
    assert fake_stripe.backend.token() == same.backend.token()


@pytest.mark.fake_stripe(install=True, api_key="sk_test_plugin")
def test_marker_installs_the_fake(fake_stripe):
    """install=True routes global stripe calls and new StripeClients to the fake."""
    customer = stripe.Customer.create(email="ada@example.com")
    own = stripe.StripeClient("sk_test_hosts_own")
    assert own.v1.customers.retrieve(customer.id).email == "ada@example.com"
    assert stripe.api_key == "sk_test_plugin"


@pytest.mark.fake_stripe(
    portal_settings={"features": {"subscription_cancel": {"enabled": True}}}
)
def test_marker_saves_the_portal_settings(fake_stripe, stripe_client):
    """portal_settings= saves the Dashboard's portal page: sessions need no configuration."""
    customer = stripe_client.v1.customers.create()
    session = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": customer.id}
    )
    saved = fake_stripe.dashboard.portal_configuration
    assert saved is not None and saved["is_default"] is True
    assert session.configuration == saved["id"]
    assert saved["features"]["subscription_cancel"]["enabled"] is True


def test_without_portal_settings_sessions_need_a_configuration(stripe_client):
    """A fresh account has no default configuration: Stripe's own refusal."""
    customer = stripe_client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError, match="save your customer portal"):
        stripe_client.v1.billing_portal.sessions.create(
            params={"customer": customer.id}
        )


def run_pytest(tmp_path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_host.py").write_text(textwrap.dedent(source), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "test_host.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_in_a_host_project(tmp_path):
    """In a fresh project: installs are undone after the test; bad marker options are errors."""
    result = run_pytest(
        tmp_path,
        """
        import pytest, stripe

        @pytest.mark.fake_stripe(install=True)
        def test_installed(fake_stripe):
            assert stripe.default_http_client is fake_stripe.http_client

        def test_restored_after(fake_stripe):
            assert stripe.default_http_client is not fake_stripe.http_client

        @pytest.mark.fake_stripe(colour="blue")
        def test_bad_option(fake_stripe):
            pass

        @pytest.mark.fake_stripe(1)
        def test_positional(fake_stripe):
            pass

        @pytest.mark.fake_stripe(portal_settings=["features"])
        def test_settings_not_a_dict(fake_stripe):
            pass
        """,
    )
    assert "2 passed, 3 errors" in result.stdout, result.stdout + result.stderr
    assert "unknown option(s) colour" in result.stdout
    assert "keyword arguments only" in result.stdout
    assert "portal_settings=...) takes the Dashboard's" in result.stdout


def test_the_plugin_imports_nothing_heavy():
    """Loading the plugin (as pytest does at every start) imports neither stripe nor hypothesis."""
    code = (
        "import sys, cancelflow.testing._pytest_plugin\n"
        "heavy = [m for m in ('stripe', 'hypothesis', 'attrs', 'cancelflow.testing._fake')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_a_failing_webhook_handler_fails_the_test(tmp_path):
    """In a host project: a handler that raises fails the test that caused it,
    naming the event and showing the traceback; expect_failures=True and the
    marker let a test exercise failures; setup failures fail at setup."""
    result = run_pytest(
        tmp_path,
        """
        import pytest
        from cancelflow.testing import FakeStripe

        def explode(body, headers):
            raise KeyError("missing_field_in_my_handler")

        def test_unexpected(fake_stripe, stripe_client):
            fake_stripe.add_webhook_endpoint(explode)
            stripe_client.v1.customers.create()
            assert fake_stripe.webhook_endpoints[0].failures  # recorded too

        def test_own_fake_too():
            fake = FakeStripe()
            fake.add_webhook_endpoint(explode, events=["customer.updated"])
            customer = fake.client().v1.customers.create()
            fake.client().v1.customers.update(customer.id, params={"name": "Ada"})

        def test_expected_by_the_endpoint(fake_stripe, stripe_client):
            fake_stripe.add_webhook_endpoint(explode, expect_failures=True)
            stripe_client.v1.customers.create()

        @pytest.mark.expect_webhook_failures
        def test_expected_by_the_marker(fake_stripe, stripe_client):
            fake_stripe.add_webhook_endpoint(explode)
            stripe_client.v1.customers.create()

        def test_record_only(stripe_client):
            fake = FakeStripe(webhook_errors="record")
            fake.add_webhook_endpoint(explode)
            fake.client().v1.customers.create()

        @pytest.fixture
        def account():
            fake = FakeStripe()
            fake.add_webhook_endpoint(explode)
            fake.client().v1.customers.create()
            return fake

        def test_failure_in_a_fixture(account):
            pass

        def test_a_500_is_not_an_exception(fake_stripe, stripe_client):
            fake_stripe.add_webhook_endpoint(lambda body, headers: 500)
            stripe_client.v1.customers.create()
        """,
    )
    out = result.stdout
    assert "2 failed, 4 passed, 1 error" in out, out + result.stderr
    assert "FAILED test_host.py::test_unexpected" in out
    assert "FAILED test_host.py::test_own_fake_too" in out
    assert "ERROR test_host.py::test_failure_in_a_fixture" in out
    assert "raised on evt_fake0000000001 (customer.created)" in out
    assert "(customer.updated)" in out
    assert "KeyError: 'missing_field_in_my_handler'" in out
    assert 'raise KeyError("missing_field_in_my_handler")' in out  # the traceback
    assert "expect_failures=True" in out
    assert "@pytest.mark.expect_webhook_failures" in out


def test_without_a_watcher_a_failure_is_only_recorded():
    """Outside a watched test (as outside pytest), the default records the
    failure and the call goes on; webhook_errors='raise' raises it instead."""
    from cancelflow.exceptions import FakeStripeError, WebhookHandlerError
    from cancelflow.testing import _watch

    def explode(body, headers):
        raise ValueError("handler bug")

    # this test is watched by the plugin: unwatch it to see the default alone
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_watch, "_watchers", [])
        fake = FakeStripe()
        fake.add_webhook_endpoint(explode)
        assert fake.client().v1.customers.create().id
        (failure,) = fake.webhook_endpoints[0].failures
        assert isinstance(failure.exception, ValueError)
        assert failure.error == "ValueError: handler bug"
        assert not _watch.report(
            _watch.HandlerFailure(
                event_id="evt_1",
                event_type="x",
                endpoint=0,
                attempt=1,
                exception=failure.exception,
            )
        )
    loud = FakeStripe(webhook_errors="raise")
    loud.add_webhook_endpoint(explode)
    loud.add_webhook_endpoint(lambda body, headers: None)
    with pytest.raises(WebhookHandlerError) as info:
        loud.client().v1.customers.create()
    assert info.value.event_type == "customer.created"
    assert isinstance(info.value.__cause__, ValueError)
    assert "ValueError: handler bug" in str(info.value)
    assert len(loud.webhook_endpoints[1].deliveries) == 1  # the batch went on
    assert loud.client().v1.customers.list().data  # the customer exists
    with pytest.raises(FakeStripeError, match="webhook_errors must be one of"):
        FakeStripe(webhook_errors="loud")  # type: ignore[arg-type]


def test_retries_report_and_raise_too():
    """A failing retry is reported like a first delivery, with its attempt."""
    from cancelflow.exceptions import WebhookHandlerError

    calls = []

    def flaky(body, headers):
        calls.append(1)
        raise ValueError(f"attempt {len(calls)}")

    fake = FakeStripe(webhook_errors="raise")
    fake.add_webhook_endpoint(flaky)
    with pytest.raises(WebhookHandlerError):
        fake.client().v1.customers.create()
    with pytest.raises(WebhookHandlerError, match="delivery attempt 2"):
        fake.retry_failed_webhooks()
    fake.reset()  # the setting survives a reset
    fake.add_webhook_endpoint(flaky)
    with pytest.raises(WebhookHandlerError):
        fake.client().v1.customers.create()

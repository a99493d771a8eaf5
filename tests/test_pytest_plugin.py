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

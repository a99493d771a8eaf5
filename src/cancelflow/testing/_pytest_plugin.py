"""cancelflow's pytest plugin (entry point ``pytest11``); imports nothing heavy.

Installing cancelflow gives every pytest run two fixtures:

* ``fake_stripe`` — a fresh `FakeStripe` per test.
* ``stripe_client`` — a ``stripe.StripeClient`` wired to it.

Mark a test (or module, or class) with ``@pytest.mark.fake_stripe(...)`` to
choose the account's clock and seed (``start=``, ``seed=``), to save the
customer portal's settings in its Dashboard before the test
(``portal_settings={"features": {...}}``: the account's default
configuration, which portal sessions created without ``configuration``
need), or to route all of stripe-python to it for the test (``install=True``,
optionally ``api_key="sk_test_…"``), for host code that uses ``stripe.*``
globals or builds its own ``stripe.StripeClient``.

A webhook handler given to ``fake.add_webhook_endpoint`` (of any FakeStripe,
the fixture's or one the test builds) that raises fails the test that caused
the delivery, naming the event and showing the handler's traceback, even though
the fake records it as a failed delivery as Stripe would. A test that means to
exercise failing handlers says so: ``add_webhook_endpoint(...,
expect_failures=True)`` for one endpoint, or ``@pytest.mark.expect_webhook_failures``
for the whole test (or module, or class).

This module is imported at every pytest start, so it imports only pytest;
``stripe`` and the fake load when a test first asks for a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import stripe

    from cancelflow.testing import FakeStripe

__all__ = ["fake_stripe", "stripe_client"]

_MARKER = "fake_stripe"
_EXPECT_FAILURES = "expect_webhook_failures"
_OPTIONS = frozenset({"start", "seed", "install", "api_key", "portal_settings"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(start=None, seed=0, install=False, api_key=None, "
        "portal_settings=None): options of cancelflow's fake_stripe fixture (clock "
        "start, seed, install into stripe-python, the Dashboard's portal settings)",
    )
    config.addinivalue_line(
        "markers",
        f"{_EXPECT_FAILURES}: a FakeStripe webhook handler that raises does not fail "
        "this test (it exercises failing handlers)",
    )


def _watched(item: pytest.Item) -> Iterator[None]:
    """Run one phase of *item*; fail it if a webhook handler raised meanwhile."""
    if item.get_closest_marker(_EXPECT_FAILURES) is not None:
        yield
        return
    from cancelflow.testing._watch import HandlerFailure, watching

    failures: list[HandlerFailure] = []
    with watching(failures.append):
        yield
    if failures:
        shown = "\n\n".join(f.describe() for f in failures)
        pytest.fail(
            f"{len(failures)} unexpected webhook handler failure(s); the fake "
            "recorded them as failed deliveries, as Stripe would, but the test did "
            f"not say it expects them:\n\n{shown}\n\n"
            "If the test means it, pass expect_failures=True to "
            f"add_webhook_endpoint or mark it @pytest.mark.{_EXPECT_FAILURES}.",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Fixtures' webhook handler failures fail the test at setup."""
    yield from _watched(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A webhook handler that raised during the test fails it."""
    yield from _watched(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Handler failures in fixtures' teardown fail the test at teardown."""
    yield from _watched(item)


@pytest.fixture
def fake_stripe(request: pytest.FixtureRequest) -> Iterator[FakeStripe]:
    """A fresh, empty in-memory Stripe account (``cancelflow.testing.FakeStripe``).

    Example:
        ```python
        def test_cancel_link(fake_stripe):
            client = fake_stripe.client()
            assert client.v1.customers.create().id.startswith("cus_")
        ```
    """
    from cancelflow.testing import FakeStripe

    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(_MARKER))):
        if marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.{_MARKER} takes keyword arguments only "
                f"({', '.join(sorted(_OPTIONS))})"
            )
        options.update(marker.kwargs)  # the closest marker wins
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{_MARKER} got unknown option(s) {', '.join(unknown)}; "
            f"use {', '.join(sorted(_OPTIONS))}"
        )
    fake = FakeStripe(start=options.get("start"), seed=options.get("seed", 0))
    settings = options.get("portal_settings")
    if settings is not None:
        if not isinstance(settings, Mapping):
            raise pytest.UsageError(
                f"@pytest.mark.{_MARKER}(portal_settings=...) takes the Dashboard's "
                'portal settings as a dict, e.g. {"features": {"subscription_cancel": '
                '{"enabled": True}}}'
            )
        fake.dashboard.save_portal_settings(**settings)
    if options.get("install"):
        with fake.install(api_key=options.get("api_key")):
            yield fake
    else:
        yield fake


@pytest.fixture
def stripe_client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    """A ``stripe.StripeClient`` wired to ``fake_stripe`` (sync and ``*_async`` calls).

    Example:
        ```python
        def test_customer(stripe_client):
            assert stripe_client.v1.customers.create().id.startswith("cus_")
        ```
    """
    return fake_stripe.client()

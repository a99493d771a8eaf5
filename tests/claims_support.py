"""Where the claims about Stripe run: in process, served over HTTP, or a real Stripe.

``tests/test_stripe_claims.py`` pins what the fake says Stripe does, using only
Stripe's public API, so the same tests run against any Stripe-compatible base
URL and key:

* ``in-process`` — a FakeStripe through stripe-python's HTTP-client layer;
* ``served`` — a FakeStripe served over loopback HTTP (``fake.serve()``);
* ``external`` — whatever ``CANCELFLOW_TEST_STRIPE_KEY`` (a test-mode key) and
  ``CANCELFLOW_TEST_STRIPE_BASE`` (default ``https://api.stripe.com``) point
  at: Stripe's own test mode, or another fake. A live key is refused. The key
  is read here and handed to stripe-python only; no test, id or message shows it.

Acting as the customer on the portal's page has no API at Stripe, so those
claims skip on ``external`` (click through the session's URL by hand instead).
After a run with ``external``, the terminal summary lists each claim (named in
docs/testing.md §9) as held, not held, or not checked.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe

from cancelflow.testing import FakeStripe

KEY_VAR = "CANCELFLOW_TEST_STRIPE_KEY"
BASE_VAR = "CANCELFLOW_TEST_STRIPE_BASE"
MARKER = "stripe_claim"

#: Each claim: its name in docs/testing.md (§9 for a guess; "documented" otherwise).
CLAIMS: dict[str, str] = {
    "documented": "§9 documented or captured behaviour the fake follows",
    "second-update": "§9 The second update's timing (the reason in another update)",
    "immediate-cancels": "§9 Immediate cancels",
    "accepting-the-offer": "§9 Accepting the offer",
    "answers": "§9 Answers on the cancel page",
    "previous-attributes": "§9 previous_attributes (a sub-key added is given as null)",
    "cancel-at-and-canceled-at": "§9 cancel_at from the API leaves canceled_at null",
    "request": "§9 request is null for the portal's events",
    "deep-link-refusals": "§9 Deep-link refusals",
    "details-on-update": "§9 cancellation_details on update",
    "coupon-redemptions": "§9 Coupon redemptions",
    "error-bodies": "§9 Error bodies",
    "value-checks": "§9 Value checks",
    "empty-ids": "§9 Empty ids",
}


def external_key() -> str | None:
    """The test-mode key for the external target, or ``None`` (never printed)."""
    key = os.environ.get(KEY_VAR, "").strip()
    if not key:
        return None
    if not key.startswith(("sk_test_", "rk_test_")):
        raise pytest.UsageError(
            f"{KEY_VAR} must be a test-mode secret or restricted key (sk_test_… or "
            "rk_test_…); the claims create and delete objects, never in live mode"
        )
    return key


def target_names() -> list[str]:
    return ["in-process", "served", *(["external"] if external_key() else [])]


class Target:
    """One place the claims run, with a client and what only a fake can do."""

    def __init__(
        self, name: str, client: stripe.StripeClient, fake: FakeStripe | None
    ) -> None:
        self.name = name
        self.client = client
        self.fake = fake
        self.created: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"<Target {self.name}>"

    @property
    def is_fake(self) -> bool:
        return self.fake is not None

    def track(self, kind: str, object_id: str) -> str:
        """Remember an object to clean up after the test (on an external target)."""
        self.created.append((kind, object_id))
        return object_id

    def act(self, session: Any, action: str, **form: str) -> None:
        """Act on the portal's page as the customer: ``cancel``, ``accept_offer``."""
        raise NotImplementedError

    def events_about(
        self, object_id: str, types: tuple[str, ...], since: int, count: int
    ) -> list[dict[str, Any]]:
        """The events about *object_id* of *types* since *since*, oldest first; on an
        external target, waits up to 30 s for *count* of them (Stripe lists events late)."""
        deadline = time.monotonic() + (30 if self.fake is None else 0)
        while True:
            found: list[dict[str, Any]] = []
            page = self.client.v1.events.list(
                params={"types": list(types), "created": {"gte": since}, "limit": 100}
            )
            for event in page.data:
                body = event.to_dict()
                obj = body["data"]["object"]
                if obj.get("id") == object_id or obj.get("subscription") == object_id:
                    found.append(body)
            found.reverse()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(2)

    def now(self) -> int:
        # events are matched by object id too: a wide margin for clock skew is harmless
        return (
            self.fake.clock.now() if self.fake is not None else int(time.time()) - 300
        )


class _InProcess(Target):
    def act(self, session: Any, action: str, **form: str) -> None:
        assert self.fake is not None
        visit = self.fake.portal.visit(session.url)
        if action == "cancel":
            visit.cancel(form.get("reason"), form.get("comment"))
        else:
            visit.accept_offer()


class _Served(Target):
    def act(self, session: Any, action: str, **form: str) -> None:
        import http.client
        from urllib.parse import urlencode

        parts = urlsplit(session.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request(
                "POST",
                f"{parts.path}/{action}",
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            answer = conn.getresponse()
            answer.read()
        finally:
            conn.close()
        assert answer.status == 303, f"the page answered {answer.status}"


class _External(Target):
    def act(self, session: Any, action: str, **form: str) -> None:
        pytest.skip(
            "Stripe has no API to act as the customer on the portal's page; open "
            "the session's URL and click through it to check this claim by hand"
        )


@pytest.fixture(params=target_names())
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each place the claims run (see the module docstring)."""
    name: str = request.param
    if name == "in-process":
        fake = FakeStripe()
        yield _InProcess(name, fake.client(max_network_retries=0), fake)
    elif name == "served":
        fake = FakeStripe()
        with fake.serve() as url:
            yield _Served(
                name,
                stripe.StripeClient(
                    "sk_test_claims", base_addresses={"api": url}, max_network_retries=0
                ),
                fake,
            )
    else:
        key = external_key()
        assert key is not None
        base = os.environ.get(BASE_VAR, "").strip() or "https://api.stripe.com"
        external = _External(
            name,
            stripe.StripeClient(
                key, base_addresses={"api": base}, max_network_retries=2
            ),
            None,
        )
        del key
        try:
            yield external
        finally:
            _clean_up(external)


def _clean_up(target: Target) -> None:
    """Delete or archive what a test created on an external account (best effort)."""
    client = target.client
    undo: dict[str, Callable[[str], object]] = {
        "customer": client.v1.customers.delete,
        "coupon": client.v1.coupons.delete,
        "price": lambda i: client.v1.prices.update(i, params={"active": False}),
        "product": lambda i: client.v1.products.update(i, params={"active": False}),
        "configuration": lambda i: client.v1.billing_portal.configurations.update(
            i, params={"active": False}
        ),
    }
    for kind, object_id in reversed(target.created):
        with contextlib.suppress(stripe.StripeError):
            undo[kind](object_id)


# -- the report ---------------------------------------------------------------------------


def record_claim(request: pytest.FixtureRequest, claim: str) -> None:
    request.node.user_properties.append((MARKER, claim))


_RESULTS: dict[str, dict[str, str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    claims = [value for key, value in report.user_properties if key == MARKER]
    if not claims or "[external]" not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = (
            "held" if report.passed else "skipped" if report.skipped else "not held"
        )
        for claim in claims:
            _RESULTS.setdefault(claim, {})[report.nodeid.split("::")[-1]] = outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("cancelflow: the fake's claims on the external Stripe")
    for claim, tests in sorted(_RESULTS.items()):
        outcomes = set(tests.values())
        verdict = (
            "NOT HELD" if "not held" in outcomes
            else "held" if outcomes == {"held"}
            else "not checked" if outcomes == {"skipped"}
            else "held (partly checked)"
        )  # fmt: skip
        write(f"{verdict:>22}  {CLAIMS.get(claim, claim)}")
        for test, outcome in sorted(tests.items()):
            write(f"{'':>24}{outcome}: {test}")

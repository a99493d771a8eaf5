"""Settings every test shares: the project's Hypothesis profiles.

pytest puts this directory on ``sys.path`` (the "prepend" import mode, as for
the test modules), so helpers such as ``recording`` import as top-level modules.

Profiles, chosen by ``HYPOTHESIS_PROFILE``, else ``ci`` when the ``CI``
environment variable is set (``.ci/run`` sets it), else ``dev``:

* ``dev`` — Hypothesis's defaults, without the two checks that measure time:
  no per-example ``deadline`` (a shared two-core machine stalls now and then),
  and no ``too_slow`` health check (on a fresh checkout, with no
  ``.hypothesis/`` directory, Hypothesis builds its Unicode table during the
  first text-drawing test and that test failed it).
* ``ci`` — ``dev``, and the failing example's reproduction blob is printed.
* ``ci-light`` — ``ci`` with 25 examples per test that does not set its own
  count: the noxfile uses it on the secondary Pythons.

A test sets ``max_examples`` itself only where its cost or its search space
calls for it; never a deadline or a health-check suppression.

It also holds the claims report: after a run of tests/test_stripe_claims.py
against an external Stripe (``CANCELFLOW_TEST_STRIPE_KEY``), pytest lists which
of the fake's claims held (see ``claims_support``), and the ``stripe_claim``
marker those tests carry.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from claims_support import pytest_runtest_logreport, pytest_terminal_summary

__all__ = ["pytest_configure", "pytest_runtest_logreport", "pytest_terminal_summary"]

PROFILES = ("dev", "ci", "ci-light")

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", settings.get_profile("dev"), print_blob=True)
settings.register_profile("ci-light", settings.get_profile("ci"), max_examples=25)


def profile_name(environ: os._Environ[str] | dict[str, str]) -> str:
    """The profile for this environment: ``HYPOTHESIS_PROFILE``, else ``ci``
    under CI, else ``dev``."""
    chosen = environ.get("HYPOTHESIS_PROFILE", "").strip()
    if chosen:
        return chosen
    return "ci" if environ.get("CI", "").strip() else "dev"


settings.load_profile(profile_name(os.environ))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stripe_claim(name): the test pins a claim about Stripe (docs/testing.md §9)",
    )

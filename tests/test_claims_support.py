"""Running the claims against an external base URL and key, and reading the report.

A `cancelflow fake serve` process stands in for Stripe's test mode here: the
same environment variables a user sets for Stripe point the claims at it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.serve_support import Served

SECRET_LOOKING_KEY = "sk_test_cancelflowClaimsKey0123456789"


def run_claims(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_stripe_claims.py", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )  # fmt: skip


@pytest.mark.slow
def test_claims_against_an_external_base_url():
    """With a key and a base URL, the claims run there; the report lists each claim; the
    key never shows."""
    server = Served("--quiet")
    try:
        proc = run_claims(
            {
                "CANCELFLOW_TEST_STRIPE_KEY": SECRET_LOOKING_KEY,
                "CANCELFLOW_TEST_STRIPE_BASE": server.url,
                "CI": "",
            },
            "-k",
            "external",
            "-rs",
        )
    finally:
        server.stop()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "cancelflow: the fake's claims on the external Stripe" in out
    assert "held  §9 Empty ids" in out
    assert "held  §9 Deep-link refusals" in out
    assert "not checked  §9 Accepting the offer" in out  # no API to act as the customer
    assert "no API to act as the customer" in out
    assert SECRET_LOOKING_KEY not in out


def test_a_live_key_is_refused():
    """A live-mode key stops the run before any request, without showing the key."""
    live = "sk_live_cancelflowNeverUseMe0123456789"
    proc = run_claims({"CANCELFLOW_TEST_STRIPE_KEY": live}, "--collect-only", "-q")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "must be a test-mode secret or restricted key" in out
    assert live not in out


def test_without_a_key_only_the_fakes_run():
    """Without the variables the claims run in process and served, never external."""
    proc = run_claims({"CANCELFLOW_TEST_STRIPE_KEY": ""}, "--collect-only", "-q")
    assert proc.returncode == 0
    assert "[served]" in proc.stdout
    assert "[in-process]" in proc.stdout
    assert "[external]" not in proc.stdout

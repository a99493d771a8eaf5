"""Hooks shared by the whole suite.

The claims report: after a run of tests/test_stripe_claims.py against an
external Stripe (``CANCELFLOW_TEST_STRIPE_KEY``), list which of the fake's
claims held (see tests/claims_support.py).
"""

from __future__ import annotations

import pytest
from tests.claims_support import pytest_runtest_logreport, pytest_terminal_summary

__all__ = ["pytest_configure", "pytest_runtest_logreport", "pytest_terminal_summary"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stripe_claim(name): the test pins a claim about Stripe (docs/testing.md §9)",
    )

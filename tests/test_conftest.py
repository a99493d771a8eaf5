"""tests/conftest.py: the project's Hypothesis profiles and how one is chosen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

from conftest import PROFILES, profile_name

TESTS = Path(__file__).parent


def test_profile_follows_the_environment():
    """HYPOTHESIS_PROFILE wins, CI selects `ci`, anything else `dev`."""
    assert profile_name({}) == "dev"
    assert profile_name({"CI": "true"}) == "ci"
    assert profile_name({"CI": ""}) == "dev"
    assert profile_name({"CI": "true", "HYPOTHESIS_PROFILE": "ci-light"}) == "ci-light"


def test_every_profile_leaves_out_the_timing_checks():
    """No profile has a deadline or the too_slow health check, and ci-light is lighter."""
    for name in PROFILES:
        profile = settings.get_profile(name)
        assert profile.deadline is None
        assert HealthCheck.too_slow in profile.suppress_health_check
    assert settings.get_profile("ci").print_blob
    assert (
        settings.get_profile("ci-light").max_examples
        < settings.get_profile("ci").max_examples
    )
    assert settings.default.deadline is None  # the loaded one


def test_ci_loads_the_ci_profile():
    """Under CI (as .ci/run sets it), loading the conftest selects the ci profile,
    so a fresh checkout does not fail the too_slow health check while Hypothesis
    builds its Unicode table."""
    env = {**os.environ, "CI": "true"}
    env.pop("HYPOTHESIS_PROFILE", None)
    code = (
        "import conftest; from hypothesis import HealthCheck, settings; "
        "print(settings.get_current_profile_name(), "
        "HealthCheck.too_slow in settings.default.suppress_health_check)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=TESTS,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["ci", "True"]

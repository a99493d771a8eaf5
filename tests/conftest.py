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
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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

"""Import cost of cancelflow against stripe, in fresh interpreters.

Prints ``name: value`` lines, the headline first:

* ``import_api_extra_ratio`` (target ≤ 0.25) — what a host pays: the extra time
  of ``from cancelflow import Cancelflow, WebhookHandler, SQLiteLedger`` in a
  process that has already imported ``stripe``, divided by ``import stripe``
  (``import_api_extra_ms`` is the numerator);
* ``import_cancelflow_ms`` — ``import cancelflow`` (what a module that imports
  cancelflow at its top pays at start-up);
* ``import_cancelflow_api_ms`` — ``from cancelflow import Cancelflow`` (the
  deep-link path: attrs, the models, the gateway module — still no stripe);
* ``import_stripe_ms`` — ``import stripe``;
* ``import_ratio`` (= cancelflow / stripe: the lazy package file alone) and
  ``import_api_ratio``.

Each figure is the median wall time of ``--runs`` (≥ 7) fresh processes minus
the median of a bare interpreter, the runs interleaved so that machine noise
hits every variant alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

VARIANTS = {
    "bare": "pass",
    "cancelflow": "import cancelflow",
    "cancelflow_api": "from cancelflow import Cancelflow",
    "stripe": "import stripe",
    "stripe_api": (
        "import stripe\nfrom cancelflow import Cancelflow, WebhookHandler, SQLiteLedger"
    ),
}


def wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=15, help="processes per variant (≥ 7)"
    )
    runs = max(7, parser.parse_args().runs)
    for code in VARIANTS.values():  # warm the file cache and the .pyc files
        wall(code)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(runs):
        for name, code in VARIANTS.items():
            times[name].append(wall(code))
    bare = statistics.median(times["bare"])
    ms = {
        name: max(0.0, (statistics.median(t) - bare) * 1000)
        for name, t in times.items()
    }
    extra = max(0.0, ms["stripe_api"] - ms["stripe"])
    print(f"import_api_extra_ratio: {extra / ms['stripe']:.3f}")
    print(f"import_api_extra_ms: {extra:.1f}")
    print(f"import_cancelflow_ms: {ms['cancelflow']:.1f}")
    print(f"import_cancelflow_api_ms: {ms['cancelflow_api']:.1f}")
    print(f"import_stripe_ms: {ms['stripe']:.1f}")
    print(f"import_ratio: {ms['cancelflow'] / ms['stripe']:.3f}")
    print(f"import_api_ratio: {ms['cancelflow_api'] / ms['stripe']:.3f}")
    print(f"runs: {runs}")


if __name__ == "__main__":
    main()

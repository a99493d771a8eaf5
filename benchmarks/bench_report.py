"""The report over a SQLite ledger of a million cases: time and peak memory.

Prints ``name: value`` lines:

* ``report_1m_s`` — wall time of the full report (``report_from_ledger`` over the
  whole ledger, then its text and HTML) in a fresh process, the median of
  ``--runs`` (target ≤ 5 s);
* ``report_1m_cpu_s`` — the CPU time (user + system) of that run, which other
  processes on a shared machine blur less;
* ``report_1m_peak_mb`` — the peak resident memory of that process
  (``ru_maxrss``), the largest of the runs (target ≤ 200);
* the same run's baselines: ``scan_1m_s``, a bare ``SELECT COUNT(*), SUM(mrr)``
  over the cases table (reading every row once, in the same fresh-process
  conditions), ``report_vs_scan`` = ``report_1m_s`` / ``scan_1m_s``, and
  ``baseline_peak_mb``, the peak memory of a process that only imports
  cancelflow, opens the ledger and runs the bare scan.

The ledger is built first (``report_data.build``: the installed schema, then
synthetic case rows inserted directly, about a minute per million); pass
``--db PATH`` to keep it and reuse it in later runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report_data  # noqa: E402

CHILD = r"""
import json, resource, sys, time
start_cpu = time.process_time()
import cancelflow
path, what = sys.argv[1], sys.argv[2]
ledger = cancelflow.SQLiteLedger(path)
start = time.perf_counter()
cpu = time.process_time()
if what == "report":
    report = cancelflow.report_from_ledger(ledger)
    report.render("text")
    report.render("html")
    cases = report.summary.cases
else:
    def scan(cur):
        cur.execute("SELECT COUNT(*), SUM(mrr) FROM cancelflow_cases")
        return cur.fetchone()[0]
    cases = ledger.read_only(scan)
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu
ledger.close()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"s": elapsed, "cpu": cpu, "peak_mb": peak_kb / 1024, "cases": cases}))
"""


def child(path: Path, what: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep (and reuse) the ledger here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.db or Path(scratch) / "ledger.db"
        if not path.exists():
            started = time.perf_counter()
            report_data.build(path, args.cases)
            print(
                f"# built {args.cases:,} cases in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        child(path, "scan")  # warm the page cache for both
        scans, reports = [], []
        for _ in range(args.runs):
            scans.append(child(path, "scan"))
            reports.append(child(path, "report"))
        assert {r["cases"] for r in reports} == {args.cases}, reports
        report_s = statistics.median(r["s"] for r in reports)
        scan_s = statistics.median(s["s"] for s in scans)
        print(f"report_1m_s: {report_s:.2f}")
        print(f"report_1m_cpu_s: {statistics.median(r['cpu'] for r in reports):.2f}")
        print(f"report_1m_peak_mb: {max(r['peak_mb'] for r in reports):.0f}")
        print(f"scan_1m_s: {scan_s:.2f}")
        print(f"report_vs_scan: {report_s / scan_s:.1f}")
        print(f"baseline_peak_mb: {max(s['peak_mb'] for s in scans):.0f}")


if __name__ == "__main__":
    main()

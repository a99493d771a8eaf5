"""Backtest a JSONL history file on several cores.

The file is cut into byte ranges; worker processes (``spawn``ed, so nothing
but the arguments is shared) each read their ranges with
`read_history_range` and count with
`backtest`; the reports are merged. Every line belongs to
exactly one range, so the result equals a single-process backtest.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Final

import attrs

from cancelflow._backtest.backtest import BacktestReport, backtest
from cancelflow._backtest.jsonl import read_history, read_history_range
from cancelflow._policy.guards import CouponFacts
from cancelflow._policy.policy import RetentionPolicy, lookup_for
from cancelflow._stripe.coupon import Coupon
from cancelflow.exceptions import HistoryFileError

__all__ = ["backtest_file"]

MIN_PARALLEL_BYTES: Final = 4 << 20
"""Below this size a file is read in this process: starting workers costs more."""

CHUNKS_PER_WORKER: Final = 16
"""Ranges per worker: more ranges balance the load and move the progress bar."""


def _coupon_state(coupon: Coupon) -> dict[str, Any]:
    # Coupon keeps read-only mapping proxies, which do not pickle: send plain
    # fields and rebuild the coupon on the other side.
    return {
        field.name: dict(value) if isinstance(value, Mapping) else value
        for field in attrs.fields(Coupon)
        for value in (getattr(coupon, field.name),)
    }


_worker: dict[str, Any] = {}
"""A worker's policy, coupons and options, set once by `_start_worker`."""


def _start_worker(
    policy: RetentionPolicy,
    coupons: dict[str, dict[str, Any]],
    options: dict[str, Any],
) -> None:
    """Receive what every range needs, once per worker (runs in a worker).

    Sent with each range instead, the policy would be unpickled again for
    each, losing the rule index it builds as it decides.
    """
    _worker["policy"] = policy
    _worker["coupons"] = {
        coupon_id: Coupon(**state) for coupon_id, state in coupons.items()
    }
    _worker["options"] = options


def _run_range(path: str, bounds: tuple[int, int]) -> BacktestReport:
    """One worker's part: the lines starting in *bounds* (runs in a worker)."""
    start, end = bounds
    options = _worker["options"]
    records = read_history_range(path, now=options["now"], start=start, end=end)
    return backtest(
        _worker["policy"],
        records,
        coupons=_worker["coupons"],
        forever_months=options["forever_months"],
    )


def backtest_file(
    policy: RetentionPolicy,
    path: str | PathLike[str],
    *,
    coupons: CouponFacts | None = None,
    now: int | None = None,
    forever_months: int = 12,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """`backtest` over a JSONL history file, on *workers* processes.

    The same report as ``backtest(policy, read_history(path, now=now), ...)``,
    faster on several cores. It falls back to one process when *workers* is 1,
    the file is small (under 4 MiB), or the policy cannot be sent to another
    process (a custom predicate that is a lambda or a local function: make it
    a module-level function to run in parallel).

    Args:
        policy: the policy to try.
        path: the JSONL history file.
        coupons: the coupons' facts; those of the policy's coupons are looked
            up once, here, and sent to the workers.
        now: the decision time of lines without ``at``.
        forever_months: as for `backtest`.
        workers: processes to use (default: the CPUs available).
        progress: called with (bytes done, file size) as ranges finish.

    Raises:
        HistoryFileError: as `read_history` (from whichever range).

    Returns:
        The [`BacktestReport`][cancelflow.BacktestReport], as `backtest` makes it.

    Example:
        ```python
        from pathlib import Path

        import cancelflow

        Path("history.jsonl").write_text(
            '{"id": "sub_1", "customer": "cus_1", "status": "active", "currency": "eur", '
            '"items": [["price_pro", "prod_pro", "month", 1, 1, 2900]], "at": 1767225600}\\n'
        )
        policy = cancelflow.RetentionPolicy(rules=[])
        if __name__ in {"__main__", "docstring_example"}:  # processes start here
            report = cancelflow.backtest_file(policy, "history.jsonl", workers=1)
            assert report.decisions == 1
        ```
    """
    source = str(path)
    try:
        size = Path(path).stat().st_size
    except OSError as err:
        raise HistoryFileError(
            f"cannot open: {err.strerror}", source=source, line=0
        ) from None
    count = workers if workers is not None else _cpus()
    if count <= 1 or size < MIN_PARALLEL_BYTES or not _picklable(policy):
        return backtest(
            policy,
            read_history(path, now=now, progress=progress),
            coupons=coupons,
            forever_months=forever_months,
        )
    lookup = lookup_for(coupons)
    facts: dict[str, dict[str, Any]] = {}
    for coupon_id in sorted(policy.coupon_ids):
        coupon = lookup(coupon_id)
        if coupon is not None:  # a missing coupon stays missing over there
            facts[coupon_id] = _coupon_state(coupon)
    chunks = count * CHUNKS_PER_WORKER
    bounds = [size * n // chunks for n in range(chunks + 1)]
    options = {"now": now, "forever_months": forever_months}

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    reports: list[tuple[int, BacktestReport]] = []
    done = 0
    sizes = {n: bounds[n + 1] - bounds[n] for n in range(chunks)}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=count,
        mp_context=context,
        initializer=_start_worker,
        initargs=(policy, facts, options),
    ) as pool:
        futures = {
            pool.submit(_run_range, source, (bounds[n], bounds[n + 1])): n
            for n in range(chunks)
        }
        failures: list[tuple[int, BaseException]] = []
        for future in as_completed(futures):
            n = futures[future]
            error = future.exception()
            if error is not None:
                failures.append((n, error))
                continue
            reports.append((n, future.result()))
            done += sizes[n]
            if progress is not None:
                progress(done, size)
    if failures:
        raise min(failures, key=lambda pair: pair[0])[1]  # the earliest bad line
    reports.sort(key=lambda pair: pair[0])
    return BacktestReport.merge(report for _, report in reports)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _picklable(policy: RetentionPolicy) -> bool:
    try:
        pickle.dumps(policy)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return True

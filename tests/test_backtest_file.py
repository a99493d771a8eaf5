"""Parallel backtests of a history file: same report as one process, errors by line."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import (
    BacktestReport,
    Coupon,
    CouponDuration,
    NoOffer,
    Offer,
    Predicate,
    RetentionPolicy,
    Rule,
    Segment,
    backtest,
    backtest_file,
    read_history,
)
from cancelflow._backtest import parallel as module
from cancelflow._backtest.jsonl import read_history_range
from cancelflow._policy.policy import example_policy
from cancelflow.exceptions import HistoryFileError
from policy_strategies import PREDICATES

AT = 1_760_000_000
COUPONS = {
    name: Coupon(id=name, duration=CouponDuration.ONCE, percent_off=pct)
    for name, pct in [("RETAIN10", 10.0), ("RETAIN20", 20.0)]
}  # RETAIN25 is missing on purpose


def line(n: int) -> str:
    interval = ["month", "year", "week"][n % 3]
    return json.dumps(
        {
            "id": f"sub_{n}",
            "customer": f"cus_{n}",
            "status": "trialing" if n % 7 == 0 else "active",
            "currency": "eur",
            "items": [["price_1", "prod_1", interval, 1, 1 + n % 3, 1000 + n]],
            "at": AT,
            "attempts": n % 4,
        }
    )


@pytest.fixture(name="history")
def _history(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("".join(line(n) + "\n" for n in range(600)), encoding="utf-8")
    return path


@pytest.fixture(name="parallel")
def _parallel(monkeypatch):
    """Run even small files on worker processes."""
    monkeypatch.setattr(module, "MIN_PARALLEL_BYTES", 0)


def test_parallel_report_equals_single_process(history, parallel):
    """On two worker processes the report is the one-process report."""
    policy = example_policy()
    single = backtest(policy, read_history(history), coupons=COUPONS)
    seen = []
    report = backtest_file(
        policy,
        history,
        coupons=COUPONS,
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report == single
    assert report.decisions == 600
    size = history.stat().st_size
    assert seen[-1] == (size, size)
    assert len(seen) == 2 * module.CHUNKS_PER_WORKER


def test_worker_errors_name_the_first_bad_line(tmp_path, parallel):
    """A bad line found by a worker is reported with its line number in the file."""
    path = tmp_path / "bad.jsonl"
    lines = [line(n) for n in range(300)]
    lines[120] = "{}"
    lines[250] = "[]"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(HistoryFileError) as info:
        backtest_file(example_policy(), path, coupons=COUPONS, workers=2)
    assert info.value.line == 121
    assert "id: missing" in str(info.value)


def test_falls_back_to_one_process(history, monkeypatch):
    """Small files, one worker, or a policy that cannot be pickled run here."""
    calls = []
    monkeypatch.setattr(module, "_run_range", lambda *a: calls.append(a))
    local = RetentionPolicy(
        rules=[
            Rule("lambda", Segment(predicate=Predicate("p", lambda c: True)), NoOffer())
        ]
    )
    assert backtest_file(example_policy(), history, coupons=COUPONS).decisions == 600
    assert backtest_file(example_policy(), history, workers=1).decisions == 600
    monkeypatch.setattr(module, "MIN_PARALLEL_BYTES", 0)
    assert backtest_file(local, history, workers=2).by_rule == {"lambda": 600}
    assert calls == []
    with pytest.raises(HistoryFileError, match="cannot open"):
        backtest_file(local, history.with_name("missing.jsonl"))


def test_module_level_predicates_run_in_parallel(history, parallel):
    """A policy whose predicates are module-level functions runs on workers."""
    policy = RetentionPolicy(
        rules=[
            Rule(
                "even",
                Segment(
                    predicate=Predicate("even_customer", PREDICATES["even_customer"])
                ),
                Offer("RETAIN10"),
            )
        ],
    )
    report = backtest_file(policy, history, coupons=COUPONS, workers=2)
    assert report == backtest(policy, read_history(history), coupons=COUPONS)
    assert report.by_rule["even"] == 300


@settings(max_examples=40)
@given(st.lists(st.integers(0, 10_000), max_size=5))
def test_ranges_partition_the_file(tmp_path_factory, cuts):
    """Any byte offsets split a file so that every line is read exactly once."""
    path = tmp_path_factory.mktemp("ranges") / "h.jsonl"
    path.write_text("".join(line(n) + "\n" for n in range(40)) + "\n", encoding="utf-8")
    size = path.stat().st_size
    bounds = [0, *sorted(min(c, size) for c in cuts), size]
    ids = [
        record.subscription.id
        for start, end in itertools.pairwise(bounds)
        for record in read_history_range(path, start=start, end=end)
    ]
    assert ids == [f"sub_{n}" for n in range(40)]


def test_merge():
    """Merged reports add up; reports of different backtests do not merge."""
    policy = example_policy()
    records = list(read_history_lines(range(30)))
    whole = backtest(policy, records, coupons=COUPONS)
    parts = BacktestReport.merge(
        [
            backtest(policy, records[:10], coupons=COUPONS),
            backtest(policy, records[10:], coupons=COUPONS),
        ]
    )
    assert parts == whole
    with pytest.raises(ValueError, match="no reports"):
        BacktestReport.merge([])
    other = backtest(policy, records, coupons=COUPONS, forever_months=3)
    with pytest.raises(ValueError, match="different backtests"):
        BacktestReport.merge([whole, other])


def read_history_lines(numbers):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.jsonl"
        path.write_text("".join(line(n) + "\n" for n in numbers), encoding="utf-8")
        yield from read_history(path)


def test_a_worker_keeps_its_policy_for_every_range(history, monkeypatch):
    """A worker gets the policy and coupons once and backtests each range with them."""
    monkeypatch.setattr(module, "_worker", {})
    policy = example_policy()
    coupons = {name: module._coupon_state(c) for name, c in COUPONS.items()}
    module._start_worker(policy, coupons, {"now": None, "forever_months": 12})
    kept = module._worker["policy"]
    size = history.stat().st_size
    parts = [module._run_range(str(history), (0, size // 2))]
    parts.append(module._run_range(str(history), (size // 2, size)))
    assert module._worker["policy"] is kept
    assert module._worker["coupons"] == COUPONS
    assert BacktestReport.merge(parts) == backtest(
        policy, read_history(history), coupons=COUPONS
    )

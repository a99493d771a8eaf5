"""Reports from a ledger: SQL in the database for SQLite and PostgreSQL, Python otherwise."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from typing import Any

from cancelflow._outcomes.ledger import Case, Ledger
from cancelflow._outcomes.ledger_memory import MemoryLedger
from cancelflow._outcomes.ledger_sql import SQLLedger
from cancelflow._outcomes.ledger_sqlite import SQLiteLedger
from cancelflow._reports.cube import CANCELLED, Cube, assemble
from cancelflow._reports.model import Report
from cancelflow._reports.sql import postgres_rows, sqlite_rows, sqlite_works
from cancelflow.exceptions import InvalidParameterError

__all__ = ["check_options", "report_from_ledger", "to_timestamp"]

Moment = int | float | dt.datetime | dt.date


def to_timestamp(value: Moment | None, field: str) -> int | None:
    """*value* as unix seconds: a number, an aware ``datetime`` or a ``date``
    (its midnight, UTC); ``None`` stays ``None``.

    Raises:
        InvalidParameterError: anything else, or a naive ``datetime``.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InvalidParameterError(
                field, "give an aware datetime (with tzinfo), a date or unix seconds"
            )
        return int(value.timestamp())
    if isinstance(value, dt.date):
        return int(
            dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            field,
            f"expected unix seconds, a datetime or a date, got {type(value).__name__}",
        )
    if not math.isfinite(value):
        raise InvalidParameterError(field, "must be a finite number of seconds")
    return int(value)


def check_options(
    since: Moment | None,
    until: Moment | None,
    horizon_months: object,
    comments: object,
) -> tuple[int | None, int | None]:
    """The window as unix seconds, after checking every option.

    Raises:
        InvalidParameterError: a value of the wrong type or out of range.
    """
    low, high = to_timestamp(since, "since"), to_timestamp(until, "until")
    if low is not None and high is not None and low >= high:
        raise InvalidParameterError("until", "must be later than since")
    if (
        not isinstance(horizon_months, int)
        or isinstance(horizon_months, bool)
        or not (1 <= horizon_months <= 1200)
    ):
        raise InvalidParameterError(
            "horizon_months", "must be an integer from 1 to 1200"
        )
    if comments is not None and (
        not isinstance(comments, int) or isinstance(comments, bool) or comments < 0
    ):
        raise InvalidParameterError(
            "comments", "must be an integer ≥ 0, or None for all"
        )
    return low, high


def report_from_ledger(
    ledger: Ledger,
    *,
    since: Moment | None = None,
    until: Moment | None = None,
    horizon_months: int = 12,
    comments: int | None = 100,
    now: Moment | None = None,
) -> Report:
    """The report of the cases opened in ``[since, until)``, from *ledger*.

    A [`SQLiteLedger`][cancelflow.SQLiteLedger] or
    [`PostgresLedger`][cancelflow.PostgresLedger] computes the figures with SQL
    in its database: only partial sums (a few thousand rows) and the newest
    comments leave it, so a ledger shared by many app servers reports without
    moving its rows. Any other ledger (the
    [`MemoryLedger`][cancelflow.MemoryLedger], or the host's own) is read
    through `ledger.cases()` and gives the same figures.

    Args:
        ledger: the ledger to report on.
        since: the window's start (included): unix seconds, an aware
            ``datetime`` or a ``date`` (midnight UTC); ``None``: the beginning.
        until: the window's end (excluded), likewise; ``None``: no end.
        horizon_months: the months over which redeemed offers' revenue and the
            discounts' cost are counted (1 to 1,200).
        comments: how many of the newest comments to list (``None``: all);
            the report always counts them all.
        now: the report's ``generated_at`` (default: the current time).

    Returns:
        The [`Report`][cancelflow.Report].

    Raises:
        InvalidParameterError: an option of the wrong type or out of range.
        LedgerError: the store failed.

    Example:
        ```python
        import cancelflow

        report = cancelflow.report_from_ledger(cancelflow.MemoryLedger())
        assert report.summary.cases == 0
        print(report.render("text"))
        ```
    """
    low, high = check_options(since, until, horizon_months, comments)
    generated = to_timestamp(now, "now")
    generated_at = int(time.time()) if generated is None else generated
    cube = Cube(horizon=horizon_months, comment_limit=comments)
    if isinstance(ledger, SQLLedger):
        rows: list[Sequence[Any]]
        if isinstance(ledger, SQLiteLedger):
            works = sqlite_works(
                since=low, until=high, horizon=horizon_months, comments=comments
            )
            rows = [row for part in ledger.read_in_parallel(works) for row in part]
        else:
            read = sqlite_rows if ledger.dialect == "sqlite" else postgres_rows
            rows = ledger.read_only(
                partial(
                    read,
                    since=low,
                    until=high,
                    horizon=horizon_months,
                    comments=comments,
                )
            )
        for row in rows:
            cube.add_sql_row(tuple(row))
        source = ledger.dialect
    else:
        _fill_from_cases(cube, ledger.cases(), low, high)
        source = "memory" if isinstance(ledger, MemoryLedger) else "ledger"
    return assemble(
        cube, source=source, since=low, until=high, generated_at=generated_at
    )


def _fill_from_cases(
    cube: Cube, cases: Sequence[Case], since: int | None, until: int | None
) -> None:
    """Count the cases opened in the window (the SQL's definitions, in Python)."""
    cancelled_at: dict[str, list[int]] = defaultdict(list)
    for case in cases:
        if (
            case.state.value in CANCELLED
            and case.customer_initiated
            and (until is None or case.opened_at < until)
        ):
            cancelled_at[case.subscription_id].append(case.opened_at)
    for case in cases:
        if (since is not None and case.opened_at < since) or (
            until is not None and case.opened_at >= until
        ):
            continue
        later = case.state.value == "saved" and any(
            at > case.opened_at for at in cancelled_at.get(case.subscription_id, ())
        )
        cube.add_case(case, later=later)

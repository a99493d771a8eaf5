"""The report's partial sums computed by SQL in the ledger's own database.

Strictly private. Both dialects return the rows :meth:`Cube.add_sql_row` reads —
``(tag, key, n, mrr, cost, unknown, later, later_mrr, at, note)`` with *key* a
JSON array — for the cases opened in ``[since, until)``:

* tag 1, one row per case key (see :mod:`cancelflow._reports.cube`);
* tag 2, one row per price key, cancellations only;
* tag 3, the newest comments (``at`` and ``note`` set), newest first;
* tag 4, one row: ``n`` is how many comments there are.

**PostgreSQL** groups with hash aggregates in one statement, over the window's
rows read once (a materialised CTE). **SQLite** sorts to ``GROUP BY``, which
costs more than reading a million rows; it sums instead into a small temporary
table keyed by the group's JSON text (``INSERT … ON CONFLICT DO UPDATE``), one
pass over the window per grouping; the passes make two works, which a
:class:`~cancelflow.SQLiteLedger` runs on two read-only connections at once, on
one snapshot (``SQLiteLedger.read_in_parallel``). Nothing but the sums (a few thousand rows) and the
newest comments leave the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final

from cancelflow._outcomes.ledger_sql import Cursor
from cancelflow._reports.cube import MONTH_SECONDS

__all__ = ["postgres_rows", "sqlite_rows", "sqlite_works"]

UNBOUNDED: Final = 2**62
"""Stands for a window without a start or an end (fits both dialects' integers)."""

# A saved case whose subscription was cancelled again later (a later
# customer-initiated case, scheduled or ended, opened before the window's end).
_LATER: Final = (
    "EXISTS (SELECT 1 FROM cancelflow_cases l "
    "WHERE l.subscription_id = c.subscription_id AND l.opened_at > c.opened_at "
    "AND l.state IN ('scheduled', 'ended') AND l.customer_initiated = {true} "
    "AND l.opened_at < {until})"
)
_COST: Final = (
    "CASE WHEN c.offer_discount IS NULL THEN 0 ELSE c.offer_discount * "
    "(CASE WHEN COALESCE(c.offer_months, {h}) < {h} THEN c.offer_months ELSE {h} END) END"
)

_SQLITE_TABLE: Final = "temp.cancelflow_report_cube"
# A case's tenure band (docs/reports.md): whole average months since start_date.
_BAND: Final = (
    "CASE WHEN {t}started_at IS NULL THEN NULL"
    f" WHEN {{t}}opened_at - {{t}}started_at < {MONTH_SECONDS} THEN '0-1'"
    f" WHEN {{t}}opened_at - {{t}}started_at < {3 * MONTH_SECONDS} THEN '1-3'"
    f" WHEN {{t}}opened_at - {{t}}started_at < {6 * MONTH_SECONDS} THEN '3-6'"
    f" WHEN {{t}}opened_at - {{t}}started_at < {12 * MONTH_SECONDS} THEN '6-12'"
    f" WHEN {{t}}opened_at - {{t}}started_at < {24 * MONTH_SECONDS} THEN '12-24'"
    " ELSE '24+' END"
)
_SQLITE_CREATE: Final = (
    "CREATE TEMP TABLE IF NOT EXISTS cancelflow_report_cube ("
    "k TEXT PRIMARY KEY, tag INTEGER NOT NULL, n INTEGER NOT NULL, mrr INTEGER, "
    "cost INTEGER NOT NULL, unknown INTEGER NOT NULL, later INTEGER NOT NULL, "
    "later_mrr INTEGER NOT NULL, at INTEGER, note TEXT) WITHOUT ROWID"
)
_SQLITE_UPSERT: Final = """
ON CONFLICT (k) DO UPDATE SET
  n = n + excluded.n,
  mrr = mrr + excluded.mrr,
  cost = cost + excluded.cost,
  unknown = unknown + excluded.unknown,
  later = later + excluded.later,
  later_mrr = later_mrr + excluded.later_mrr"""
_SQLITE_INSERT: Final = (
    f"INSERT INTO {_SQLITE_TABLE} "
    "(k, tag, n, mrr, cost, unknown, later, later_mrr, at, note)"
)
# Three passes, one per grouping: each reads the window once, which costs less
# than one pass that emits three rows per case (measured).
_SQLITE_FILL: Final = (
    f"""{_SQLITE_INSERT}
SELECT
  json_array(1, c.state, c.customer_initiated, c.feedback, c.feedback_option,
    {_BAND.format(t="c.")}, c.currency, c.offered_coupon, c.experiment, c.arm),
  1, 1, ifnull(c.mrr, 0),
  CASE WHEN c.state = 'saved' THEN {_COST.format(h=":h")} ELSE 0 END,
  c.state = 'saved' AND c.offer_discount IS NULL,
  CASE WHEN c.state = 'saved' AND {_LATER.format(true=1, until=":until")}
    THEN 1 ELSE 0 END,
  CASE WHEN c.state = 'saved' AND {_LATER.format(true=1, until=":until")}
    THEN ifnull(c.mrr, 0) ELSE 0 END,
  NULL, NULL
FROM cancelflow_cases c
WHERE {{window}}{_SQLITE_UPSERT}""",  # noqa: S608 - constant text, bound values
    f"""{_SQLITE_INSERT}
SELECT json_array(2, c.price_id, strftime('%Y-%m', c.opened_at, 'unixepoch'), c.currency),
  2, 1, ifnull(c.mrr, 0), 0, 0, 0, 0, NULL, c.product_id
FROM cancelflow_cases c
WHERE {{window}} AND c.customer_initiated AND c.state IN ('scheduled', 'ended')
{_SQLITE_UPSERT}""",  # noqa: S608 - constant text, bound values
    f"""{_SQLITE_INSERT}
SELECT json_array(3, c.id, c.customer_id, c.subscription_id, c.feedback, c.currency),
  3, 1, c.mrr, 0, 0, 0, 0, ifnull(c.feedback_at, c.opened_at), c.comment
FROM cancelflow_cases c
WHERE {{window}} AND c.comment <> ''
{_SQLITE_UPSERT}""",  # noqa: S608 - constant text, bound values
)
_SQLITE_READ_CASES: Final = (
    "SELECT tag, k, n, mrr, cost, unknown, later, later_mrr, at, note "  # noqa: S608
    f"FROM {_SQLITE_TABLE} WHERE tag = 1"
)
_SQLITE_READ_REST: Final = f"""
SELECT tag, k, n, mrr, cost, unknown, later, later_mrr, at, note
  FROM {_SQLITE_TABLE} WHERE tag = 2
UNION ALL
SELECT * FROM (
  SELECT tag, k, n, mrr, cost, unknown, later, later_mrr, at, note
  FROM {_SQLITE_TABLE} WHERE tag = 3 ORDER BY at DESC, k LIMIT :limit)
UNION ALL
SELECT 4, NULL, COUNT(*), 0, 0, 0, 0, 0, NULL, NULL FROM {_SQLITE_TABLE} WHERE tag = 3
"""  # noqa: S608 - constant text; values are bound parameters

# Below this share of the ledger's span of opened_at, the window is read through
# the opened_at index; above it a plain scan is faster (each index entry would
# cost a lookup into the table, which is clustered by subscription).
_INDEX_SHARE: Final = 0.2

Rows = list[Sequence[Any]]


def _sqlite_pass(
    cur: Cursor,
    *,
    fills: tuple[str, ...],
    read: str,
    since: int | None,
    until: int | None,
    horizon: int,
    comments: int | None,
) -> Rows:
    """Run *fills* into a temporary table, return *read*'s rows (in a transaction)."""
    low = -UNBOUNDED if since is None else since
    high = UNBOUNDED if until is None else until
    window = "+c.opened_at >= :since AND +c.opened_at < :until"
    if since is not None or until is not None:
        cur.execute("SELECT MIN(opened_at), MAX(opened_at) FROM cancelflow_cases")
        first, last = cur.fetchone()
        if first is not None and last > first:
            covered = min(high, last + 1) - max(low, first)
            if covered < _INDEX_SHARE * (last + 1 - first):
                window = "c.opened_at >= :since AND c.opened_at < :until"
    cur.execute(_SQLITE_CREATE)
    cur.execute(f"DELETE FROM {_SQLITE_TABLE}")  # noqa: S608 - a constant name
    try:
        for statement in fills:
            cur.execute(
                statement.format(window=window),
                {"since": low, "until": high, "h": horizon},
            )
        cur.execute(read, {"limit": -1 if comments is None else comments})
        return cur.fetchall()
    finally:
        cur.execute(f"DROP TABLE {_SQLITE_TABLE}")


def sqlite_works(
    *,
    since: int | None,
    until: int | None,
    horizon: int,
    comments: int | None,
) -> list[Callable[[Cursor], Rows]]:
    """The SQLite passes, as two works a ledger may run on two connections at once.

    The first sums by case key (every case); the second by price key
    (cancellations) and keeps the comments: about the same time each.
    """

    def work(fills: tuple[str, ...], read: str) -> Callable[[Cursor], Rows]:
        return partial(
            _sqlite_pass,
            fills=fills,
            read=read,
            since=since,
            until=until,
            horizon=horizon,
            comments=comments,
        )

    return [
        work((_SQLITE_FILL[0],), _SQLITE_READ_CASES),
        work(_SQLITE_FILL[1:], _SQLITE_READ_REST),
    ]


def sqlite_rows(
    cur: Cursor,
    *,
    since: int | None,
    until: int | None,
    horizon: int,
    comments: int | None,
) -> Rows:
    """The partial sums of the SQLite ledger behind *cur*, one pass after another."""
    works = sqlite_works(since=since, until=until, horizon=horizon, comments=comments)
    return [row for work in works for row in work(cur)]


_POSTGRES: Final = f"""
WITH c AS MATERIALIZED (
  SELECT c.id, c.customer_id, c.subscription_id, c.state,
    CASE WHEN c.customer_initiated THEN 1 ELSE 0 END AS initiated,
    c.feedback, c.feedback_option,
    {_BAND.format(t="c.")} AS tenure,
    c.currency, c.offered_coupon, c.experiment, c.arm, c.product_id, c.price_id,
    to_char(to_timestamp(c.opened_at) AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
    c.mrr, COALESCE(c.mrr, 0) AS amount,
    CASE WHEN c.state = 'saved' THEN {_COST.format(h="%(h)s")} ELSE 0 END AS cost,
    CASE WHEN c.state = 'saved' AND c.offer_discount IS NULL THEN 1 ELSE 0 END
      AS unknown,
    CASE WHEN c.state = 'saved' AND {_LATER.format(true="TRUE", until="%(until)s")}
      THEN 1 ELSE 0 END AS later,
    c.comment, COALESCE(c.feedback_at, c.opened_at) AS comment_at
  FROM cancelflow_cases c
  WHERE c.opened_at >= %(since)s AND c.opened_at < %(until)s
)
SELECT 1, json_build_array(1, state, initiated, feedback, feedback_option, tenure,
    currency, offered_coupon, experiment, arm)::text,
  COUNT(*), SUM(amount), SUM(cost), SUM(unknown), SUM(later), SUM(later * amount),
  NULL::bigint, NULL::text
FROM c
GROUP BY state, initiated, feedback, feedback_option, tenure, currency,
  offered_coupon, experiment, arm
UNION ALL
SELECT 2, json_build_array(2, price_id, month, currency)::text,
  COUNT(*), SUM(amount), 0, 0, 0, 0, NULL, MAX(product_id)
FROM c WHERE initiated = 1 AND state IN ('scheduled', 'ended')
GROUP BY price_id, month, currency
UNION ALL
SELECT * FROM (
  SELECT 3, json_build_array(3, id, customer_id, subscription_id, feedback,
      currency)::text,
    1, mrr, 0, 0, 0, 0, comment_at, comment
  FROM c WHERE comment <> ''
  ORDER BY comment_at DESC, id COLLATE "C"
  LIMIT %(limit)s) AS newest
UNION ALL
SELECT 4, NULL, COUNT(*), 0, 0, 0, 0, 0, NULL, NULL FROM c WHERE comment <> ''
"""  # noqa: S608 - constant text, bound values


def postgres_rows(
    cur: Cursor,
    *,
    since: int | None,
    until: int | None,
    horizon: int,
    comments: int | None,
) -> list[Sequence[Any]]:
    """The partial sums of the PostgreSQL ledger behind *cur*."""
    cur.execute(
        _POSTGRES,
        {
            "since": -UNBOUNDED if since is None else since,
            "until": UNBOUNDED if until is None else until,
            "h": horizon,
            "limit": comments,
        },
    )
    return cur.fetchall()

"""The report as one CSV table in long form: one figure per line.

Columns ``section, key, detail, currency, metric, value``. Amounts are decimal
numbers in the currency's major unit (``15.00`` EUR, ``1500`` JPY), rates are
fractions (``0.25``). Spreadsheets run a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula (and some also after a tab or a carriage return):
every such cell that is not a plain number gets a leading ``'`` — customer
comments, ids and labels included.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Final

from cancelflow._format import major_units
from cancelflow._reports.model import Breakdown, Rate, Report
from cancelflow._reports.words import Words

__all__ = ["neutralise", "render_csv"]

HEADER: Final = ("section", "key", "detail", "currency", "metric", "value")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_NUMBER: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?(e-?[0-9]+)?\Z")

Row = tuple[str, str, str, str, str, object]


def neutralise(cell: str) -> str:
    """*cell* made inert for spreadsheets: a leading ``'`` when it starts like a
    formula and is not a plain number."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def _amounts(
    section: str, key: str, detail: str, metric: str, amounts: Mapping[str, int]
) -> Iterator[Row]:
    for currency, amount in amounts.items():
        yield (section, key, detail, currency, metric, major_units(amount, currency))


def _rate(section: str, key: str, detail: str, name: str, rate: Rate) -> Iterator[Row]:
    yield (section, key, detail, "", name, rate.rate)
    yield (section, key, detail, "", f"{name}_low", rate.low)
    yield (section, key, detail, "", f"{name}_high", rate.high)


def _breakdown(
    section: str, rows: tuple[Breakdown, ...], label: Callable[[str | None], str]
) -> Iterator[Row]:
    for row in rows:
        key = row.key or ""
        detail = label(row.key)
        yield (section, key, detail, "", "count", row.count)
        yield (section, key, detail, "", "share", row.share)
        yield from _amounts(section, key, detail, "mrr", row.mrr)


def _rows(report: Report, w: Words) -> Iterator[Row]:
    s = report.summary
    yield ("report", "", "", "", "source", report.source)
    yield ("report", "", "", "", "since", "" if report.since is None else report.since)
    yield ("report", "", "", "", "until", "" if report.until is None else report.until)
    yield ("report", "", "", "", "generated_at", report.generated_at)
    yield ("report", "", "", "", "horizon_months", report.horizon_months)
    for name in (
        "cases", "cancellations", "scheduled", "ended", "withdrawn", "saved",
        "opened", "involuntary",
    ):  # fmt: skip
        yield ("summary", "", "", "", name, getattr(s, name))
    yield from _amounts("summary", "", "", "mrr_lost", s.mrr_lost)
    yield from _breakdown("reasons", report.reasons, w.feedback)
    yield from _breakdown(
        "feedback_options", report.feedback_options, lambda k: k or ""
    )
    for p in report.prices:
        key, detail = p.price_id or "", p.product_id or ""
        yield ("prices", key, detail, "", "count", p.count)
        yield ("prices", key, detail, "", "share", p.share)
        yield from _amounts("prices", key, detail, "mrr", p.mrr)
    yield from _breakdown("tenure", report.tenure, w.band)
    for m in report.months:
        yield ("months", m.key or "", "", "", "count", m.count)
        yield from _amounts("months", m.key or "", "", "mrr", m.mrr)
    yield ("comments", "", "", "", "total", report.comments_total)
    for c in report.comments:
        key, detail, currency = c.case_id, c.customer_id or "", c.currency or ""
        yield ("comments", key, detail, currency, "date", w.date(c.at))
        yield ("comments", key, detail, currency, "feedback", c.feedback or "")
        if c.mrr is not None and c.currency is not None:
            yield (
                "comments",
                key,
                detail,
                currency,
                "mrr",
                major_units(c.mrr, c.currency),
            )
        yield ("comments", key, detail, currency, "comment", c.comment)
    yield ("withdrawn", "", "", "", "count", report.withdrawn.count)
    yield from _amounts("withdrawn", "", "", "mrr", report.withdrawn.mrr)
    yield from _breakdown("withdrawn_reasons", report.withdrawn.reasons, w.feedback)
    for o in report.offers:
        yield ("offers", o.coupon, "", "", "shown", o.shown)
        yield ("offers", o.coupon, "", "", "redeemed", o.redeemed)
        yield from _rate("offers", o.coupon, "", "redemption_rate", o.redemption)
        yield ("offers", o.coupon, "", "", "stayed", o.stayed)
        yield from _rate("offers", o.coupon, "", "save_rate", o.save)
        yield from _amounts("offers", o.coupon, "", "saved_mrr", o.saved_mrr)
    for a in report.arms:
        key, detail = a.arm, a.experiment or ""
        yield ("arms", key, detail, "", "coupon", a.coupon or "")
        yield ("arms", key, detail, "", "holdout", "true" if a.holdout else "false")
        yield ("arms", key, detail, "", "attempts", a.attempts)
        yield ("arms", key, detail, "", "redeemed", a.redeemed)
        yield ("arms", key, detail, "", "stayed", a.stayed)
        yield from _rate("arms", key, detail, "save_rate", a.save)
        if a.lift is not None:
            yield ("arms", key, detail, "", "lift", a.lift.difference)
            yield ("arms", key, detail, "", "lift_low", a.lift.low)
            yield ("arms", key, detail, "", "lift_high", a.lift.high)
    for r in report.revenue:
        cur = r.currency
        for metric in (
            "kept_mrr",
            "kept",
            "discount_cost",
            "net",
            "cancelled_later_mrr",
        ):
            yield ("revenue", "", "", cur, metric, major_units(getattr(r, metric), cur))
        for metric in ("saves", "cost_unknown", "cancelled_later"):
            yield ("revenue", "", "", cur, metric, getattr(r, metric))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return neutralise(str(value))


def render_csv(report: Report, words: Words) -> str:
    """*report* as CSV text (RFC 4180 quoting, ``\\r\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in _rows(report, words):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()

"""The report laid out as titled tables, shared by the text and HTML outputs.

Cells are plain strings (customer text included, unescaped): each output escapes
them its own way — the text output replaces control characters, the HTML output
escapes everything by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from cancelflow._reports.model import Breakdown, Rate, Report
from cancelflow._reports.words import Words

__all__ = ["Section", "Table", "sections"]


@attrs.frozen
class Table:
    """Rows of cells under headers; *numeric* marks right-aligned columns, *wrap*
    the column of long text (comments) that may wrap in HTML."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    wrap: int | None = None


@attrs.frozen
class Section:
    """A titled part of the report: a note and/or a table, and maybe a chart."""

    key: str
    title: str
    note: str | None = None
    table: Table | None = None
    chart: str | None = None  # "reasons", "arms" or "months"


def _table(
    headers: list[str],
    numeric: list[bool],
    rows: list[list[str]],
    wrap: int | None = None,
) -> Table:
    return Table(tuple(headers), tuple(tuple(r) for r in rows), tuple(numeric), wrap)


def _interval(rate: Rate, w: Words) -> str:
    if rate.low is None or rate.high is None:
        return "–"
    return f"{w.percent(rate.low)} – {w.percent(rate.high)}"


def _money(
    amounts: Mapping[str, int], currencies: tuple[str, ...], w: Words
) -> list[str]:
    """One cell per currency (amounts of two currencies are never added)."""
    return [w.money(amounts[c], c) if c in amounts else "–" for c in currencies]


def _mrr_headers(currencies: tuple[str, ...], w: Words) -> list[str]:
    return [f"{w['mrr']} {c.upper()}" for c in currencies]


def _breakdown_table(
    first: str,
    rows: tuple[Breakdown, ...],
    label: Callable[[str | None], str],
    currencies: tuple[str, ...],
    w: Words,
) -> Table:
    """A breakdown (by reason, option or tenure): label, count, share, MRR per currency."""
    return _table(
        [first, w["count"], w["share"], *_mrr_headers(currencies, w)],
        [False, True, True, *[True] * len(currencies)],
        [
            [
                label(row.key),
                w.integer(row.count),
                w.percent(row.share),
                *_money(row.mrr, currencies, w),
            ]
            for row in rows
        ],
    )


def _window(report: Report, w: Words) -> str:
    if report.since is None and report.until is None:
        return w["everything"]
    parts = []
    if report.since is not None:
        parts.append(f"{w['from']} {w.moment(report.since)}")
    if report.until is not None:
        parts.append(f"{w['until']} {w.moment(report.until)}")
    return " ".join(parts)


def sections(report: Report, w: Words) -> list[Section]:
    """The report's sections, in reading order."""
    s = report.summary
    currencies = report.currencies
    mrr_headers = _mrr_headers(currencies, w)
    money = [True] * len(currencies)
    out = [
        Section(
            "header",
            w["title"],
            note=(
                f"{w['source']}{w['colon']}{report.source} · "
                f"{w['window']}{w['colon']}{_window(report, w)} · "
                f"{w['generated']} {w.moment(report.generated_at)}"
            ),
        ),
        Section(
            "summary",
            w["summary"],
            table=_table(
                ["", ""],
                [False, False],
                [
                    [w["cases"], w.integer(s.cases)],
                    [
                        w["cancellations"],
                        (
                            f"{w.integer(s.cancellations)} ({w['scheduled']} "
                            f"{w.integer(s.scheduled)}, {w['ended']} {w.integer(s.ended)})"
                        ),
                    ],
                    [w["mrr_lost"], w.amounts(s.mrr_lost)],
                    [w["withdrawn"], w.integer(s.withdrawn)],
                    [w["saved"], w.integer(s.saved)],
                    [w["opened"], w.integer(s.opened)],
                    [w["involuntary"], w.integer(s.involuntary)],
                ],
            ),
        ),
    ]
    if not report.reasons:
        out.append(Section("reasons", w["reasons"], note=w["none"]))
    else:
        out.append(
            Section(
                "reasons",
                w["reasons"],
                table=_breakdown_table(
                    w["reason"], report.reasons, w.feedback, currencies, w
                ),
                chart="reasons",
            )
        )
    if report.feedback_options:
        out.append(
            Section(
                "options",
                w["options"],
                table=_breakdown_table(
                    w["option"],
                    report.feedback_options,
                    lambda k: k or "",
                    currencies,
                    w,
                ),
            )
        )
    if report.prices:
        out.append(
            Section(
                "prices",
                w["prices"],
                table=_table(
                    [w["product"], w["price"], w["count"], w["share"], *mrr_headers],
                    [False, False, True, True, *money],
                    [
                        [
                            p.product_id or w["unknown"],
                            p.price_id or w["unknown"],
                            w.integer(p.count),
                            w.percent(p.share),
                            *_money(p.mrr, currencies, w),
                        ]
                        for p in report.prices
                    ],
                ),
            )
        )
    if report.tenure:
        out.append(
            Section(
                "tenure",
                w["tenure"],
                table=_breakdown_table(w["band"], report.tenure, w.band, currencies, w),
            )
        )
    if report.months:
        out.append(
            Section(
                "months",
                w["months"],
                table=_table(
                    [w["month"], w["count"], *mrr_headers],
                    [False, True, *money],
                    [
                        [m.key or "", w.integer(m.count), *_money(m.mrr, currencies, w)]
                        for m in report.months
                    ],
                ),
                chart="months",
            )
        )
    wd = report.withdrawn
    if wd.count:
        out.append(
            Section(
                "withdrawn",
                w["withdrawn_title"],
                note=f"{w.integer(wd.count)} · {w['mrr']} {w.amounts(wd.mrr)}",
                table=_breakdown_table(
                    w["reason"], wd.reasons, w.feedback, currencies, w
                ),
            )
        )
    if report.comments_total:
        out.append(
            Section(
                "comments",
                w["comments"],
                note=w["comments_shown"].format(
                    shown=w.integer(len(report.comments)),
                    total=w.integer(report.comments_total),
                ),
                table=_table(
                    [w["date"], w["customer"], w["reason"], w["mrr"], w["comment"]],
                    [False, False, False, True, False],
                    [
                        [
                            w.date(c.at),
                            c.customer_id or "",
                            w.feedback(c.feedback) if c.feedback else "",
                            "" if c.mrr is None else w.money(c.mrr, c.currency),
                            c.comment,
                        ]
                        for c in report.comments
                    ],
                    wrap=4,
                ),
            )
        )
    if report.offers:
        out.append(
            Section(
                "offers",
                w["offers"],
                table=_table(
                    [
                        w["coupon"],
                        w["shown"],
                        w["redeemed"],
                        w["redemption"],
                        w["stayed"],
                        w["save"],
                        w["interval"],
                        *mrr_headers,
                    ],
                    [False, True, True, True, True, True, True, *money],
                    [
                        [
                            o.coupon,
                            w.integer(o.shown),
                            w.integer(o.redeemed),
                            w.percent(o.redemption.rate),
                            w.integer(o.stayed),
                            w.percent(o.save.rate),
                            _interval(o.save, w),
                            *_money(o.saved_mrr, currencies, w),
                        ]
                        for o in report.offers
                    ],
                ),
            )
        )
    if report.arms:
        rows = []
        for a in report.arms:
            if a.holdout:
                lift = w["holdout"]
            elif a.lift is None:
                lift = w["no_holdout"]
            else:
                lift = (
                    f"{w.points(a.lift.difference)} "
                    f"({w.points(a.lift.low)} … {w.points(a.lift.high)})"
                )
            rows.append(
                [
                    a.experiment or "",
                    a.arm,
                    a.coupon or "–",
                    w.integer(a.attempts),
                    w.integer(a.redeemed),
                    w.integer(a.stayed),
                    w.percent(a.save.rate),
                    _interval(a.save, w),
                    lift,
                ]
            )
        out.append(
            Section(
                "arms",
                w["arms"],
                note=w["method_note"],
                table=_table(
                    [
                        w["experiment"],
                        w["arm"],
                        w["coupon"],
                        w["attempts"],
                        w["redeemed"],
                        w["stayed"],
                        w["save"],
                        w["interval"],
                        w["lift"],
                    ],
                    [False, False, False, True, True, True, True, True, False],
                    rows,
                ),
                chart="arms",
            )
        )
    if report.revenue:
        out.append(
            Section(
                "revenue",
                w["revenue"],
                table=_table(
                    [
                        w["currency"],
                        w["saves"],
                        w["kept_mrr"],
                        w["kept"].format(h=report.horizon_months),
                        w["cost"],
                        w["net"],
                        w["cost_unknown"],
                        w["later"],
                        w["later_mrr"],
                    ],
                    [False, True, True, True, True, True, True, True, True],
                    [
                        [
                            r.currency.upper(),
                            w.integer(r.saves),
                            w.money(r.kept_mrr, r.currency),
                            w.money(r.kept, r.currency),
                            w.money(r.discount_cost, r.currency),
                            w.money(r.net, r.currency),
                            w.integer(r.cost_unknown),
                            w.integer(r.cancelled_later),
                            w.money(r.cancelled_later_mrr, r.currency),
                        ]
                        for r in report.revenue
                    ],
                ),
            )
        )
    return out

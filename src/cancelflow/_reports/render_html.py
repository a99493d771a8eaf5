"""The report as one self-contained HTML page with SVG charts.

No JavaScript and nothing fetched from the network: the style sheet is inline,
the charts are inline SVG, and a Content-Security-Policy forbids scripts and
outside resources anyway. Every piece of text goes through the escaping builder
of :mod:`cancelflow._reports.html`. Three charts: cancellations by reason
(bars), the save rate of each experiment arm with its 95 % interval (a dot and
a whisker), and cancellations by month (columns).
"""

from __future__ import annotations

from typing import Final

from cancelflow._reports.html import Markup, constant, el, fragment
from cancelflow._reports.model import Report
from cancelflow._reports.sections import Section, Table, sections
from cancelflow._reports.words import Words

__all__ = ["render_html"]

_STYLE: Final = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec;
  --bar: #3e7cb1; --hold: #9aa5b1; --accent: #c05621; }
* { box-sizing: border-box; }
body { margin: 0; padding: 32px; background: #f5f7fa; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
  Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0 0 24px; color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 20px 24px; margin: 0 0 20px; overflow-x: auto; }
h2 { margin: 0 0 12px; font-size: 18px; }
p.note { margin: 0 0 12px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; font-size: 14px; }
th { font-weight: 600; color: var(--muted); font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
td { white-space: nowrap; }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; min-width: 240px; }
svg { display: block; margin: 0 0 16px; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  fill: var(--ink); }
svg .muted { fill: var(--muted); }
svg .bar { fill: var(--bar); }
svg .hold { fill: var(--hold); stroke: var(--hold); }
svg .whisker { stroke: var(--bar); stroke-width: 2; }
svg .axis { stroke: var(--line); stroke-width: 1; }
footer { color: var(--muted); font-size: 13px; }
"""

_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_WIDTH: Final = 760


def _label(text: str, limit: int = 42) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(height: int, title: str, kind: str, items: list[Markup]) -> Markup:
    """One chart: an SVG as wide as the page's charts, titled for screen readers."""
    return el(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {_WIDTH} {height}",
            "width": _WIDTH,
            "height": height,
            "role": "img",
            "aria-label": title,
            "class": f"chart {kind}",
        },
        el("title", None, title),
        items,
    )


def _reasons_chart(report: Report, w: Words) -> Markup:
    rows = report.reasons
    top = max((r.count for r in rows), default=0) or 1
    left, bar_width, step = 300, _WIDTH - 300 - 110, 28
    height = step * len(rows) + 10
    items = []
    for i, row in enumerate(rows):
        y = 5 + i * step
        label = w.feedback(row.key)
        length = max(2.0, bar_width * row.count / top)
        items.append(
            el(
                "g",
                {"class": "reason"},
                el("title", None, f"{label}: {row.count}"),
                el(
                    "text",
                    {"x": left - 10, "y": y + 16, "text-anchor": "end"},
                    _label(label),
                ),
                el(
                    "rect",
                    {
                        "class": "bar",
                        "x": left,
                        "y": y + 3,
                        "width": length,
                        "height": 18,
                        "rx": 3,
                    },
                ),
                el(
                    "text",
                    {"x": left + length + 8, "y": y + 16, "class": "muted"},
                    f"{w.integer(row.count)} · {w.percent(row.share)}",
                ),
            )
        )
    return _svg(height, w["chart_reasons"], "chart-reasons", items)


def _arms_chart(report: Report, w: Words) -> Markup:
    arms = report.arms
    left, span, step = 250, _WIDTH - 250 - 40, 30
    height = step * len(arms) + 40
    axis_y = step * len(arms) + 8
    items = []
    for tick in (0, 25, 50, 75, 100):
        x = left + span * tick / 100
        items.append(
            el("line", {"class": "axis", "x1": x, "y1": 0, "x2": x, "y2": axis_y})
        )
        items.append(
            el(
                "text",
                {"x": x, "y": axis_y + 16, "text-anchor": "middle", "class": "muted"},
                w.percent(tick / 100),
            )
        )
    several = len({a.experiment for a in arms}) > 1
    for i, arm in enumerate(arms):
        y = 6 + i * step + 12
        name = (
            f"{arm.experiment} / {arm.arm}" if several and arm.experiment else arm.arm
        )
        kind = "hold" if arm.holdout else "bar"
        parts = [
            el("title", None, f"{name}: {w.percent(arm.save.rate)}"),
            el(
                "text",
                {"x": left - 10, "y": y + 4, "text-anchor": "end"},
                _label(name + (f" ({w['holdout_short']})" if arm.holdout else ""), 36),
            ),
        ]
        if (
            arm.save.rate is not None
            and arm.save.low is not None
            and arm.save.high is not None
        ):
            x_low = left + span * arm.save.low
            x_high = left + span * arm.save.high
            parts.append(
                el(
                    "line",
                    {
                        "class": "whisker" if not arm.holdout else "hold",
                        "x1": x_low,
                        "y1": y,
                        "x2": x_high,
                        "y2": y,
                    },
                )
            )
            parts.extend(
                el(
                    "line",
                    {
                        "class": "whisker" if not arm.holdout else "hold",
                        "x1": x,
                        "y1": y - 6,
                        "x2": x,
                        "y2": y + 6,
                    },
                )
                for x in (x_low, x_high)
            )
            parts.append(
                el(
                    "circle",
                    {"class": kind, "cx": left + span * arm.save.rate, "cy": y, "r": 6},
                )
            )
        items.append(el("g", {"class": "arm"}, *parts))
    return _svg(height, w["chart_arms"], "chart-arms", items)


def _months_chart(report: Report, w: Words) -> Markup:
    months = report.months
    top = max((m.count for m in months), default=0) or 1
    left, bottom, plot_h = 50, 200, 170
    slot = (_WIDTH - left - 10) / max(len(months), 1)
    every = max(1, round(len(months) / 12))
    items = [
        el(
            "line",
            {
                "class": "axis",
                "x1": left,
                "y1": bottom,
                "x2": _WIDTH - 10,
                "y2": bottom,
            },
        ),
        el(
            "text",
            {
                "x": left - 6,
                "y": bottom - plot_h + 4,
                "text-anchor": "end",
                "class": "muted",
            },
            w.integer(top),
        ),
        el(
            "text",
            {"x": left - 6, "y": bottom + 4, "text-anchor": "end", "class": "muted"},
            "0",
        ),
    ]
    for i, month in enumerate(months):
        h = plot_h * month.count / top
        x = left + i * slot + slot * 0.15
        parts = [
            el("title", None, f"{month.key}: {month.count}"),
            el(
                "rect",
                {
                    "class": "bar",
                    "x": x,
                    "y": bottom - h,
                    "width": max(1.0, slot * 0.7),
                    "height": h,
                },
            ),
        ]
        if i % every == 0:
            parts.append(
                el(
                    "text",
                    {
                        "x": x + slot * 0.35,
                        "y": bottom + 16,
                        "text-anchor": "middle",
                        "class": "muted",
                    },
                    month.key,
                )
            )
        items.append(el("g", {"class": "month"}, *parts))
    return _svg(bottom + 26, w["chart_months"], "chart-months", items)


_CHARTS: Final = {
    "reasons": _reasons_chart,
    "arms": _arms_chart,
    "months": _months_chart,
}


def _table(table: Table) -> Markup:
    def cls(i: int, header: bool = False) -> str | None:
        if table.numeric[i]:
            return "num"
        return "text" if i == table.wrap and not header else None

    head = (
        el(
            "thead",
            None,
            el(
                "tr",
                None,
                [
                    el("th", {"class": cls(i, True)}, h)
                    for i, h in enumerate(table.headers)
                ],
            ),
        )
        if any(table.headers)
        else None
    )
    body = el(
        "tbody",
        None,
        [
            el("tr", None, [el("td", {"class": cls(i)}, c) for i, c in enumerate(row)])
            for row in table.rows
        ],
    )
    return el("table", None, head, body)


def _section(section: Section, report: Report, w: Words) -> Markup:
    if section.key == "header":
        return el(
            "header", None, el("h1", None, section.title), el("p", None, section.note)
        )
    chart = _CHARTS[section.chart](report, w) if section.chart else None
    return el(
        "section",
        {"id": section.key},
        el("h2", None, section.title),
        el("p", {"class": "note"}, section.note) if section.note else None,
        chart,
        _table(section.table) if section.table is not None else None,
    )


def render_html(report: Report, words: Words) -> str:
    """*report* as one HTML page (UTF-8, no scripts, no outside resources)."""
    parts = [_section(s, report, words) for s in sections(report, words)]
    page = el(
        "html",
        {"lang": words.locale},
        el(
            "head",
            None,
            el("meta", {"charset": "utf-8"}),
            el("meta", {"http-equiv": "Content-Security-Policy", "content": _CSP}),
            el(
                "meta",
                {"name": "viewport", "content": "width=device-width, initial-scale=1"},
            ),
            el("title", None, words["title"]),
            el("style", None, constant(_STYLE)),
        ),
        el(
            "body",
            None,
            el("main", None, fragment(parts), el("footer", None, words["definitions"])),
        ),
    )
    return "<!DOCTYPE html>\n" + str(page) + "\n"

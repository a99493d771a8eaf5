"""The report as terminal text: titled, aligned tables.

Customer text is hostile input here too: control characters (an ANSI escape
could rewrite the terminal) and invisible format characters (a right-to-left
override could disguise a line) are shown as ``\\x1b``-style escapes; long
comments are cut to fit a line.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from cancelflow._reports.model import Report
from cancelflow._reports.sections import Section, Table, sections
from cancelflow._reports.words import Words

__all__ = ["render_text", "safe_text", "text_width"]

_CELL_MAX: Final = 60


def safe_text(text: str) -> str:
    """*text* with control and format characters written as escapes, on one line."""
    out = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def text_width(text: str) -> int:
    """How many terminal columns *text* takes (wide East Asian characters: 2,
    combining marks: 0)."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _fit(text: str, limit: int = _CELL_MAX) -> str:
    text = safe_text(text)
    if text_width(text) <= limit:
        return text
    out, width = [], 0
    for char in text:
        step = text_width(char)
        if width + step > limit - 1:
            break
        out.append(char)
        width += step
    return "".join(out) + "…"


def _pad(text: str, width: int, *, right: bool) -> str:
    gap = " " * (width - text_width(text))
    return gap + text if right else text + gap


def _table(table: Table) -> list[str]:
    rows = [[_fit(c) for c in row] for row in table.rows]
    headers = [_fit(h) for h in table.headers]
    widths = [
        max([text_width(headers[i])] + [text_width(r[i]) for r in rows])
        for i in range(len(headers))
    ]
    lines = []
    if any(headers):
        lines.append(
            "  ".join(
                _pad(h, widths[i], right=table.numeric[i])
                for i, h in enumerate(headers)
            ).rstrip()
        )
        lines.append("  ".join("─" * widths[i] for i in range(len(headers))))
    lines.extend(
        "  ".join(
            _pad(c, widths[i], right=table.numeric[i]) for i, c in enumerate(row)
        ).rstrip()
        for row in rows
    )
    return lines


def _section(section: Section) -> list[str]:
    lines = [safe_text(section.title), "═" * text_width(section.title)]
    if section.note:
        lines.append(safe_text(section.note))
    if section.table is not None:
        if section.note:
            lines.append("")
        lines.extend("  " + line for line in _table(section.table))
    return lines


def render_text(report: Report, words: Words) -> str:
    """*report* as aligned text tables, one section after another."""
    lines: list[str] = []
    for section in sections(report, words):
        if lines:
            lines.append("")
        lines.extend(_section(section))
    return "\n".join(lines) + "\n"

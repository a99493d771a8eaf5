"""One entry point for every output format."""

from __future__ import annotations

import json
from typing import Final

from cancelflow._reports.model import Report
from cancelflow._reports.words import words_for
from cancelflow.exceptions import InvalidParameterError

__all__ = ["FORMATS", "render"]

FORMATS: Final = ("text", "json", "csv", "html")


def render(report: Report, format: str, locale: str) -> str:  # noqa: A002 - the option's name
    """*report* written in *format* (``text``, ``json``, ``csv``, ``html``), in *locale*.

    Raises:
        InvalidParameterError: an unknown format or locale.
    """
    words = words_for(locale)
    if format == "text":
        from cancelflow._reports.render_text import render_text

        return render_text(report, words)
    if format == "json":
        return json.dumps(report.to_json_data(), indent=2, ensure_ascii=False) + "\n"
    if format == "csv":
        from cancelflow._reports.render_csv import render_csv

        return render_csv(report, words)
    if format == "html":
        from cancelflow._reports.render_html import render_html

        return render_html(report, words)
    raise InvalidParameterError(
        "format", f"{format!r} is not one of {', '.join(FORMATS)}"
    )

"""Headless Chromium for the report's browser tests, and the docs' screenshot.

Not a test module. The browser is the system's Chromium, found and launched
as ``needs`` says: without it the browser tests skip locally, with the reason,
and fail when ``CI`` is set.

Run as a script, it writes the screenshot the docs show::

    python tests/report_browser.py docs/images/report.png
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from needs import chromium_path, launch_chromium


def launch_browser() -> Iterator[Any]:
    """A headless Chromium (a generator for a fixture); skips (locally) or
    fails (CI) without one."""
    return launch_chromium(chromium_path())


def showcase_report() -> Any:
    """A report with every section filled: 3,000 synthetic cases in a SQLite file."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import report_data

    import cancelflow

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ledger.db"
        report_data.build(path, 3000)
        with cancelflow.SQLiteLedger(path) as ledger:
            return cancelflow.report_from_ledger(
                ledger,
                since=report_data.START + 365 * 86_400,
                comments=5,
                now=report_data.START + 730 * 86_400,
            )


def screenshot(html: str, target: Path, browser: Any, *, width: int = 1280) -> None:
    """Render *html* in *browser* and save a full-page PNG to *target*."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(html, wait_until="load")
        page.screenshot(path=str(target), full_page=True)
    finally:
        page.close()


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "report.png")
    browsers = launch_browser()
    screenshot(showcase_report().render("html"), out, next(browsers))
    browsers.close()
    print(f"wrote {out}")

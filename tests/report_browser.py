"""Headless Chromium for the report's browser tests, and the docs' screenshot.

Not a test module. The browser is Debian's ``chromium`` (``/usr/bin/chromium``,
which ``.ci/run`` installs) driven by Playwright's Python package; Playwright's
own browser download is never used. Without either, the browser tests skip
locally, with the reason, and fail when ``CI`` is set: CI must run them.

Run as a script, it writes the screenshot the docs show::

    python tests/report_browser.py docs/images/report.png
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_VAR = "CANCELFLOW_TEST_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str | None:
    """Where Chromium is: ``CANCELFLOW_TEST_CHROMIUM``, ``/usr/bin/chromium`` or on PATH."""
    for candidate in (os.environ.get(CHROMIUM_VAR), DEFAULT_CHROMIUM):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (it is in the tests dependency group)"
    if chromium_path() is None:
        return (
            f"no Chromium at {DEFAULT_CHROMIUM} or {CHROMIUM_VAR} "
            "(apt-get install chromium; never `playwright install`)"
        )
    return None


def launch_browser() -> Any:
    """A headless Chromium (a generator for a fixture); skips (locally) or
    fails (CI) without one."""
    problem = _problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must run the browser tests")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


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
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "report.png")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        screenshot(showcase_report().render("html"), out, chromium)
        chromium.close()
    print(f"wrote {out}")

"""What some tests need from the machine, and what they do without it (not a test module).

A test that needs a service or a program the machine may lack (a PostgreSQL
server, Chromium) skips locally, saying why, and fails when ``CI`` is set: CI
must run it. Chromium is the system's (``apt-get install chromium``), driven by
Playwright's Python package; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_VAR = "CANCELFLOW_TEST_CHROMIUM"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
_DEBIAN_CHROMIUM = "/usr/bin/chromium"


def require(problem: str | None, tests: str) -> None:
    """Skip the test (locally) or fail it (``CI`` set) when *problem* says what is missing."""
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem}; CI must run the {tests}")
    pytest.skip(problem)


def chromium_path() -> str | None:
    """The Chromium to drive: ``$CANCELFLOW_TEST_CHROMIUM`` when set (if it can run),
    else ``chromium`` (or ``chromium-browser``) on PATH, else ``/usr/bin/chromium``."""
    given = os.environ.get(CHROMIUM_VAR)
    if given:
        return given if os.access(given, os.X_OK) else None
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.access(_DEBIAN_CHROMIUM, os.X_OK):
        found = _DEBIAN_CHROMIUM
    return found


def browser_problem(chromium: str | None) -> str | None:
    """Why the browser tests cannot run with *chromium*, or ``None``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (the tests dependency group has it)"
    if chromium is None:
        return (
            f"no chromium executable (no Chromium at ${CHROMIUM_VAR}, on PATH or at "
            f"{_DEBIAN_CHROMIUM}): apt-get install chromium, or set {CHROMIUM_VAR}; "
            "Playwright's own browser download is never used"
        )
    return None


def launch_chromium(chromium: str | None) -> Iterator[Any]:
    """A headless *chromium*, for a fixture to yield from; skips (locally) or
    fails (CI) without one."""
    require(browser_problem(chromium), "browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()

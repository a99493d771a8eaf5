"""The HTML report in a real browser: it loads cleanly, its charts are drawn, hostile text stays text."""

from __future__ import annotations

import pytest

from cancelflow import MemoryLedger, report_from_ledger
from report_browser import launch_browser, screenshot, showcase_report
from report_fixture import IMG_COMMENT, SCRIPT_COMMENT, SINCE, UNTIL, T, fill


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium: skipped without one locally, a failure in CI."""
    yield from launch_browser()


@pytest.fixture(scope="module")
def fixture_report():
    return report_from_ledger(fill(MemoryLedger()), since=SINCE, until=UNTIL, now=T)


def open_page(browser, html, tmp_path, name="report.html"):
    """The page loaded from a file, with what it logged, asked for and popped up."""
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_page_loads_without_errors_and_draws_its_charts(
    browser, fixture_report, tmp_path, locale
):
    """No console message, no request but the file, three charts with a bar per reason, a dot per arm, a column per month."""
    page, seen = open_page(
        browser, fixture_report.render("html", locale=locale), tmp_path
    )
    try:
        assert [m for m in seen["console"] if m[0] in ("error", "warning")] == []
        assert seen["errors"] == [] and seen["dialogs"] == []
        assert seen["requests"] == [(tmp_path / "report.html").as_uri()]
        charts = page.locator("svg.chart")
        assert charts.count() == 3
        for n in range(3):
            box = charts.nth(n).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 60
        assert page.locator("svg.chart-reasons rect.bar").count() == len(
            fixture_report.reasons
        )
        assert page.locator("svg.chart-arms circle").count() == len(fixture_report.arms)
        assert page.locator("svg.chart-months rect.bar").count() == len(
            fixture_report.months
        )
        bar = page.locator("svg.chart-reasons rect.bar").first.bounding_box()
        assert bar is not None and bar["width"] > 100  # the longest bar is drawn long
        heading = (
            "Pourquoi les clients partent" if locale == "fr" else "Why customers leave"
        )
        assert page.locator("h2", has_text=heading).count() == 1
    finally:
        page.close()


def test_hostile_comments_show_as_text(browser, fixture_report, tmp_path):
    """A <script> comment and an "><img onerror> comment are shown as text: no script, no image, no alert."""
    page, seen = open_page(browser, fixture_report.render("html"), tmp_path)
    try:
        assert page.locator("script").count() == 0
        assert page.locator("img").count() == 0
        assert (
            page.evaluate("document.querySelectorAll('[onerror], [onload]').length")
            == 0
        )
        comments = page.locator("td.text").all_inner_texts()
        assert comments == [IMG_COMMENT, SCRIPT_COMMENT]
        assert seen["dialogs"] == []
    finally:
        page.close()


def test_screenshot_of_a_full_report(browser, tmp_path):
    """A report with every section renders to a PNG (the picture docs/reports.md shows)."""
    target = tmp_path / "report.png"
    page, seen = open_page(browser, showcase_report().render("html"), tmp_path)
    page.close()
    assert (
        seen["errors"] == [] and [m for m in seen["console"] if m[0] == "error"] == []
    )
    screenshot(showcase_report().render("html"), target, browser)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 2000


def test_without_chromium_skips_locally_and_fails_in_ci(monkeypatch):
    """No Chromium: the browser tests skip with the reason, unless CI is set, where they fail."""
    import report_browser

    monkeypatch.setattr(report_browser, "chromium_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        next(report_browser.launch_browser())
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        next(report_browser.launch_browser())

"""Report outputs: aligned text, versioned JSON, inert CSV, escaped HTML, en and fr."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import MemoryLedger, report_from_ledger
from cancelflow._reports.html import Markup, el
from cancelflow._reports.render_csv import neutralise
from cancelflow._reports.render_text import safe_text, text_width
from cancelflow._reports.words import words_for
from cancelflow.exceptions import InvalidParameterError
from report_fixture import IMG_COMMENT, SCRIPT_COMMENT, SINCE, UNTIL, T, fill
from stripe_events import DAY


@pytest.fixture(scope="module")
def report():
    return report_from_ledger(
        fill(MemoryLedger()), since=SINCE, until=UNTIL, now=T + 50 * DAY
    )


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def test_text_tables_are_aligned(report):
    """Every line of a table has its columns at the same places (numbers right-aligned)."""
    text = report.render("text")
    block = text.split("Why customers leave\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()[1:]
    assert lines[0].split()[:3] == ["Reason", "Count", "Share"]
    widths = {text_width(line.rstrip()) for line in lines[1:]}
    assert len(widths) == 1  # every row as wide as the rule under the headers
    counts = [
        line[lines[0].index("Count") : lines[0].index("Count") + 5]
        for line in lines[2:]
    ]
    assert counts == ["    3", "    1", "    1"]


def test_text_escapes_control_characters():
    """An ANSI escape or a right-to-left override in a comment shows as an escape, not as itself."""
    assert (
        safe_text("a\x1b[31mred\u202egnp.exe\nb") == "a\\x1b[31mred\\u202egnp.exe\\nb"
    )
    assert text_width("日本") == 4 and text_width("e\u0301") == 1


def test_json_has_the_documented_layout(report):
    """schema/version first; every section present; numbers are plain JSON."""
    data = json.loads(report.render("json"))
    assert list(data)[:2] == ["schema", "version"]
    assert (data["schema"], data["version"]) == ("cancelflow.report", 1)
    assert list(data) == [
        "schema", "version", "source", "window", "generated_at", "horizon_months",
        "currencies", "summary", "reasons", "feedback_options", "prices", "tenure",
        "months", "comments", "withdrawn", "offers", "arms", "revenue",
    ]  # fmt: skip
    assert data["window"] == {"since": SINCE, "until": UNTIL}
    assert data["summary"]["mrr_lost"] == {"eur": 8000, "usd": 1500}
    assert data["reasons"][0] == {
        "feedback": "too_expensive", "count": 3, "share": 0.6, "mrr": {"eur": 5000},
        "known": True,
    }  # fmt: skip
    assert data["comments"]["newest"][1]["comment"] == SCRIPT_COMMENT
    twenty = data["arms"][1]
    assert twenty["save_rate"]["method"] == "wilson"
    assert twenty["lift"]["method"] == "newcombe-hybrid-score"
    assert data == report.to_json_data()
    assert json.loads(report.render("json", locale="fr")) == data  # JSON has no locale


def test_csv_is_long_and_inert(report):
    """One figure per line; amounts in major units; formula-like text cells start with a quote."""
    rows = list(csv.reader(io.StringIO(report.render("csv"))))
    assert rows[0] == ["section", "key", "detail", "currency", "metric", "value"]
    assert [
        "reasons",
        "too_expensive",
        "It’s too expensive",
        "eur",
        "mrr",
        "50.00",
    ] in rows
    assert ["withdrawn", "", "", "jpy", "mrr", "1000"] in rows  # zero-decimal yen
    comments = [r[5] for r in rows if r[0] == "comments" and r[4] == "comment"]
    assert comments == ["'" + IMG_COMMENT, SCRIPT_COMMENT]
    lifts = [r for r in rows if r[4] == "lift_low"]
    assert float(lifts[0][5]) < 0  # a negative number stays a number
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), row
            assert not cell.startswith("-") or re.fullmatch(r"-[0-9.e-]+", cell), row


@pytest.mark.parametrize(
    ("cell", "inert"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("-12.50", "-12.50"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise(cell, inert):
    """Cells starting with = + - @ (or tab, CR) get a quote unless they are plain numbers."""
    assert neutralise(cell) == inert


def test_html_escapes_hostile_comments(report):
    """The <script> and "><img onerror> comments become text: no script, no img, no event handler."""
    html = report.render("html")
    page = parse(html)
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "img" not in tags
    assert not any(k.startswith("on") for _, a in page.tags for k in a)
    text = "".join(page.text)
    assert SCRIPT_COMMENT in text and IMG_COMMENT in text
    assert "&lt;script&gt;" in html and "&quot;&gt;&lt;img" in html


def test_html_is_self_contained(report):
    """No JavaScript, no outside resource; a CSP forbids both; three SVG charts."""
    html = report.render("html")
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            assert name not in attrs, (tag, attrs)
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp[0]["content"].startswith("default-src 'none'")
    charts = [a["class"] for t, a in page.tags if t == "svg"]
    assert charts == ["chart chart-reasons", "chart chart-months", "chart chart-arms"]
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "").replace(
        "http://evil", ""
    )


def test_french_labels_and_numbers(report):
    """--locale fr: Stripe's French reasons, French words, comma decimals and narrow spaces."""
    text = report.render("text", locale="fr")
    assert "Pourquoi les clients partent" in text
    assert "Le tarif est trop élevé" in text
    assert "60,0\u202f%" in text
    assert "50,00\u00a0EUR" in text
    html = report.render("html", locale="fr-CA")
    assert '<html lang="fr">' in html


def test_bad_format_or_locale_is_refused(report):
    """An unknown format or language raises InvalidParameterError naming it."""
    with pytest.raises(InvalidParameterError, match="format"):
        report.render("pdf")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="locale"):
        report.render("text", locale="de")
    with pytest.raises(InvalidParameterError, match="locale"):
        words_for(3)


def test_write_puts_the_page_in_a_file(report, tmp_path):
    """Report.write stores the rendered text as UTF-8."""
    path = tmp_path / "r.html"
    report.write(path, "html", locale="fr")
    assert path.read_text(encoding="utf-8") == report.render("html", locale="fr")


def test_markup_is_made_only_by_the_builder():
    """Markup cannot be made from a string; bad tag or attribute names are refused."""
    with pytest.raises(TypeError):
        Markup("<b>raw</b>")
    with pytest.raises(ValueError, match="tag"):
        el("script>")
    with pytest.raises(ValueError, match="attribute"):
        el("p", {'x" onclick="y': 1})
    assert str(el("p", {"title": '"><b>'}, "<i>", None, 1.5)) == (
        '<p title="&quot;&gt;&lt;b&gt;">&lt;i&gt;1.5</p>'
    )


@given(st.text())
def test_any_text_stays_text_in_html(text):
    """Whatever the text, it comes back out of the parser as the same text, in no tag of its own."""
    html = str(el("td", {"title": text}, text))
    page = parse(html)
    assert [t for t, _ in page.tags] == ["td"]
    assert page.tags[0][1]["title"] == text
    assert "".join(page.text) == text


def test_long_comments_are_cut_to_a_line_in_text():
    """A long comment (wide characters included) is cut to 60 columns with an ellipsis; HTML keeps it whole."""
    from cancelflow._reports.render_text import _fit

    long = "悪い" * 40
    cut = _fit(long)
    assert cut.endswith("…") and text_width(cut) <= 60
    assert _fit("short") == "short"
    assert _fit("a" * 100) == "a" * 59 + "…"

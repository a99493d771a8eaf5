"""``cancelflow report``: ledgers by URL, Stripe with a progress bar, formats, files, errors."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from cancelflow import LedgerProblem, PostgresLedger, ScanProgress, SQLiteLedger
from cancelflow._cli.main import UsageError, main
from cancelflow._cli.report import ScanBar, parse_moment
from cancelflow.exceptions import EventPayloadError
from cancelflow.testing import FakeStripe
from report_fixture import SINCE, UNTIL, T, fill

pytest_plugins = ["pg"]  # the postgres_url and pg_schema fixtures

KEY = "sk_test_" + "a" * 24


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run(*argv, stderr=None, fake=None):
    out = io.StringIO()
    err = stderr if stderr is not None else io.StringIO()
    code = main(
        ["report", *argv],
        stdout=out,
        stderr=err,
        environ={"STRIPE_API_KEY": KEY} if fake is not None else {},
        make_client=(lambda key: fake.client()) if fake is not None else None,
    )
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def ledger_path(tmp_path):
    path = tmp_path / "ledger.db"
    with SQLiteLedger(path) as ledger:
        fill(ledger)
    return path


def test_text_report_from_a_sqlite_url(ledger_path):
    """sqlite:///PATH with a window prints the text tables."""
    code, out, err = run(
        "--ledger",
        f"sqlite:///{ledger_path}",
        "--since",
        str(SINCE),
        "--until",
        str(UNTIL),
    )
    assert (code, err) == (0, "")
    assert "Why customers leave" in out and "It’s too expensive" in out
    assert "Source: sqlite" in out


def test_a_ledger_keeping_problems_says_so_on_stderr(ledger_path):
    """When the ledger keeps deliveries it could never record, the report says how
    many on stderr (the report itself is unchanged on stdout)."""
    with SQLiteLedger(ledger_path) as ledger:
        ledger.record_problem(
            LedgerProblem.from_delivery(
                b'{"id": "evt_bad", "type": "customer.subscription.updated"}',
                EventPayloadError("unreadable Stripe event"),
                received_at=SINCE,
            )
        )
    code, out, err = run("--ledger", f"sqlite:///{ledger_path}", "--format", "json")
    assert code == 0
    json.loads(out)
    assert "keeps 1 webhook delivery it could never record" in err
    assert "evt_bad" in err


@pytest.mark.parametrize("where", ["missing/report.txt", "."])
def test_an_output_that_cannot_be_written_is_one_line(ledger_path, tmp_path, where):
    """--output in a missing folder, or on a folder: exit 2, one line naming the
    file, no traceback."""
    target = tmp_path / where
    code, out, err = run("--ledger", str(ledger_path), "--output", str(target))
    assert (code, out) == (2, "")
    assert err.startswith(f"cancelflow: error: cannot write {target}: ")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_formats_and_output_file(ledger_path, tmp_path, fmt):
    """--format and --output write the file and say so on stderr."""
    target = tmp_path / f"report.{fmt}"
    code, out, err = run(
        "--ledger",
        str(ledger_path),
        "--format",
        fmt,
        "--output",
        str(target),
        "--locale",
        "fr",
    )
    assert (code, out) == (0, "")
    assert err == f"wrote {target}\n"
    text = target.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["summary"]["cases"] == 9
    elif fmt == "csv":
        assert text.startswith("section,key,detail,currency,metric,value")
    else:
        assert "Pourquoi les clients partent" in text and "<svg" in text


def test_postgresql_url(postgres_url, pg_schema):
    """A postgresql:// URL with --schema reports from PostgreSQL; the URL is never printed."""
    with PostgresLedger(postgres_url, schema=pg_schema) as ledger:
        fill(ledger)
    code, out, err = run(
        "--ledger", postgres_url, "--schema", pg_schema, "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["source"], data["summary"]["cancellations"]) == ("postgresql", 5)


def test_dates_and_iso_times_are_accepted():
    """--since takes a date (UTC midnight), an ISO time with its offset, or unix seconds."""
    assert parse_moment("2026-05-28", "--since") == int(
        dt.datetime(2026, 5, 28, tzinfo=dt.UTC).timestamp()
    )
    assert parse_moment("2026-05-28T10:00:00+02:00", "--since") == int(
        dt.datetime(2026, 5, 28, 8, tzinfo=dt.UTC).timestamp()
    )
    assert parse_moment(" 1780000000 ", "--until") == 1_780_000_000
    for bad in ("yesterday", "2026-05-28T10:00:00", "2026-13-01"):
        with pytest.raises(UsageError, match="--since"):
            parse_moment(bad, "--since")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ledger", "mysql://x"], "unknown scheme 'mysql'"),
        (["--ledger", "sqlite:///nowhere/at/all.db"], "no SQLite ledger"),
        (["--ledger", "x.db", "--schema", "s"], "--schema is for a PostgreSQL ledger"),
        (["--ledger", "{db}", "--since", "soon"], "--since 'soon'"),
        (
            ["--ledger", "{db}", "--since", "2026-02-01", "--until", "2026-01-01"],
            "until",
        ),
        (
            ["--ledger", "{db}", "--restart"],
            "--checkpoint and --restart are for --from-stripe",
        ),
        (["--from-stripe"], "STRIPE_API_KEY is not set"),
    ],
)
def test_errors_are_one_line(ledger_path, argv, message):
    """Bad arguments give one line on stderr and a non-zero exit, no traceback."""
    argv = [a.replace("{db}", str(ledger_path)) for a in argv]
    code, _out, err = run(*argv)
    assert code in (1, 2)
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_source_is_required():
    """Neither --ledger nor --from-stripe: a usage error."""
    code, _, err = run()
    assert (
        code == 2 and "one of the arguments --ledger --from-stripe is required" in err
    )


def stripe_account(count=5):
    fake = FakeStripe(start=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    client = fake.client()
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Basic"},
        }
    )
    for _ in range(count):
        customer = client.v1.customers.create()
        sub = client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}]}
        )
        client.v1.subscriptions.update(
            sub.id,
            params={
                "cancel_at_period_end": True,
                "cancellation_details": {"feedback": "unused"},
            },
        )
    return fake


def test_from_stripe_draws_a_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    """On a terminal, stderr shows the scan's bar; the report lists the cancellations."""
    monkeypatch.chdir(tmp_path)
    fake = stripe_account()
    terminal = Terminal()
    code, out, _ = run("--from-stripe", "--format", "json", stderr=terminal, fake=fake)
    assert code == 0
    assert json.loads(out)["reasons"][0] == {
        "feedback": "unused", "count": 5, "share": 1.0, "mrr": {"usd": 4500}, "known": True,
    }  # fmt: skip
    drawn = terminal.getvalue()
    assert drawn.startswith("\rStripe [")
    assert "5 subscriptions · 5 cancellations · back to 2026-03-01" in drawn
    assert drawn.endswith("\n")
    assert not (tmp_path / "cancelflow-report.checkpoint.json").exists()


def test_from_stripe_is_quiet_off_a_terminal_and_reports_429(tmp_path):
    """Off a terminal no bar is drawn, but a 429 is still reported on stderr."""
    fake = stripe_account(2)
    fake.faults.fail_next("subscriptions.list", kind="rate_limit")
    import cancelflow._reports.stripe_report as module

    sleeps = []
    original = module.report_from_stripe.__kwdefaults__["sleep"]
    module.report_from_stripe.__kwdefaults__["sleep"] = sleeps.append
    try:
        code, out, err = run(
            "--from-stripe",
            "--checkpoint",
            str(tmp_path / "c.json"),
            fake=fake,
        )
    finally:
        module.report_from_stripe.__kwdefaults__["sleep"] = original
    assert code == 0
    assert err == (
        "cancelflow: Stripe is rate limiting requests (HTTP 429); waiting 1 s before "
        "retry 1 of 8\n"
    )
    assert sleeps == [1.0]
    assert "I no longer need it" in out


def test_interrupted_scan_says_how_to_resume(tmp_path, monkeypatch):
    """Ctrl-C during the scan: exit 130, and stderr says the checkpoint will resume it."""
    fake = stripe_account(2)
    import cancelflow._reports.stripe_report as module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "report_from_stripe", interrupt)
    code, _, err = run(
        "--from-stripe", "--checkpoint", str(tmp_path / "c.json"), fake=fake
    )
    assert code == 130
    assert f"progress is saved in {tmp_path / 'c.json'}" in err
    assert err.endswith("cancelflow: interrupted\n")


def test_scan_bar_runs_back_and_forth_and_says_lines_apart():
    """The bar moves with the pages; a message goes on its own line; off a terminal nothing is drawn."""
    terminal = Terminal()
    ticks = iter(range(100))
    bar = ScanBar(terminal, width=8, clock=lambda: next(ticks))

    def progress(pages, done=False):
        return ScanProgress(
            pages=pages, subscriptions=pages * 100, cancellations=pages,
            oldest_created=None, resumed=False, done=done,
        )  # fmt: skip

    bar(progress(1))
    bar.say("hello")
    bar(progress(5, done=True))
    assert terminal.getvalue() == (
        "\rStripe [ ####   ] 100 subscriptions · 1 cancellations\n"
        "hello\n"
        "\rStripe [########] 500 subscriptions · 5 cancellations\n"
    )
    quiet = io.StringIO()
    ScanBar(quiet)(progress(1))
    assert quiet.getvalue() == ""
    assert T > 0

"""``cancelflow demo``: offline, deterministic, and it shows the whole path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cancelflow import CaseState, SQLiteLedger
from cancelflow._cli.main import main


def run(html: Path, *argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    argv = (*argv, "--report-html", str(html))
    code = main(["demo", *argv], stdout=out, stderr=err, environ={})
    assert code == 0, err.getvalue()
    assert err.getvalue() == ""
    return out.getvalue()


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> str:
    return run(tmp_path_factory.mktemp("demo") / "report.html")


def test_shows_each_step(output):
    """The account, the policy's decisions, the portal, time passing and the ledger appear."""
    assert "1. The Stripe account" in output
    assert "coupon STAY20: 20 % off" in output
    assert (
        "(too_expensive, missing_features, switched_service, unused, other)" in output
    )
    assert "matched rule\n        'monthly plans'" in output  # a decision's explanation
    assert "The rule makes no offer" in output  # the trialing customer's decision
    assert "she takes it" in output
    assert "OfferRedeemed: evt_" in output
    assert "redirects him to\n     https://example.com/goodbye" in output
    assert "CancellationScheduled" in output
    assert (
        "FeedbackReceived: evt_fake0000000017 (customer.subscription.updated):"
        in output
    )
    assert '"Moving to a spreadsheet"' in output
    assert "CancellationWithdrawn" in output
    assert "4. The fake clock advances 31 days" in output
    assert "SubscriptionEnded" in output


def test_summary(output):
    """The summary counts the cases, the saved MRR, the reasons and the comments."""
    summary = output.split("5. The ledger", 1)[1]
    assert "Ada: saved, redeemed STAY20" in summary
    assert 'Ben: ended, reason other, comment "Moving to a spreadsheet"' in summary
    assert "Chloé: withdrawn, reason too_expensive" in summary
    assert (
        "cases: 3 · saved 1 · withdrawn 1 · ended 1 · still scheduled 0 · no action 0"
        in summary
    )
    assert "MRR saved by the offer: 15.00 EUR" in summary
    assert "reasons: other 1, too_expensive 1" in summary
    assert 'comments: "Moving to a spreadsheet"' in summary
    assert "webhooks: 16 signed deliveries, 16 verified and recorded" in summary
    assert "problems: none" in summary


def test_deterministic(output, tmp_path):
    """Two runs print exactly the same text (fixed clock, seeded ids)."""

    def without_path(text: str) -> str:
        return text.rsplit("web page: ", 1)[0]

    assert without_path(run(tmp_path / "report.html")) == without_path(output)


def test_sqlite_ledger(tmp_path):
    """--ledger PATH records the cases into a SQLite ledger that outlives the run."""
    path = tmp_path / "demo.db"
    run(tmp_path / "report.html", "--ledger", str(path))
    ledger = SQLiteLedger(str(path))
    try:
        states = sorted(case.state for case in ledger.cases())
    finally:
        ledger.close()
    assert states == sorted([CaseState.SAVED, CaseState.WITHDRAWN, CaseState.ENDED])


def test_listed_first_in_help():
    """demo is the first command cancelflow --help lists."""
    out = io.StringIO()
    assert main(["--help"], stdout=out, stderr=io.StringIO(), environ={}) == 0
    commands = out.getvalue().split("commands:", 1)[1]
    assert commands.split()[1] == "demo"


def test_ends_with_the_report(output, tmp_path):
    """The demo ends with the text report of its ledger and writes the HTML one."""
    report = output.split("6. The report", 1)[1]
    assert "Why customers leave" in report
    assert "Other reason" in report and "It’s too expensive" in report
    assert "Moving to a spreadsheet" in report
    assert "STAY20" in report
    html = tmp_path / "r.html"
    run(html)
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page


def test_the_demo_applies_its_configuration_from_toml(tmp_path):
    """The demo declares its portal configuration in TOML and applies it with
    apply_portal_config, as a team applies its own file."""
    from cancelflow import parse_portal_config
    from cancelflow._cli.demo import PORTAL_TOML

    config = parse_portal_config(PORTAL_TOML)
    assert config.keys() == ("cancel-page",)
    out = io.StringIO()
    argv = ["demo", "--report-html", str(tmp_path / "report.html")]
    assert main(argv, stdout=out, stderr=io.StringIO(), environ={}) == 0
    assert "applied from the demo's TOML file (1 write)" in out.getvalue()


def test_the_clock_adds_up(output):
    """Every move of the fake clock is announced, and they add up: 9 days, 2
    minutes, 2 hours, then 31 days from 2026-03-02 09:00."""
    assert "the fake clock starts at 2026-03-02 09:00 UTC" in output
    assert "2. Nine days later (2026-03-11 09:00 UTC)" in output
    assert "3. Two minutes later (2026-03-11 09:02 UTC)" in output
    assert "Two hours later (2026-03-11 11:02 UTC)" in output
    assert (
        "4. The fake clock advances 31 days, from 2026-03-11 11:02 UTC to "
        "2026-04-11 11:02 UTC" in output
    )


def test_a_trial_shows_no_mrr(output):
    """Chloé's trialing subscription carries MRR 0 (until it converts), not the
    price it will have after the trial; paying subscriptions carry theirs."""
    chloe = output.split("Chloé (trialing", 1)[1].split("4. The fake clock", 1)[0]
    assert "MRR 0.00 EUR" in chloe
    assert "MRR 15.00 EUR" not in chloe
    ben = output.split("Ben cancels", 1)[1].split("Chloé (trialing", 1)[0]
    assert "MRR 15.00 EUR" in ben


def test_runs_again_on_the_same_ledger_file(tmp_path):
    """A second run on the same --ledger file works: its ids carry the run's
    tag, its ledger section shows its own three cases, and the file keeps both."""
    path = tmp_path / "demo.db"
    first = run(tmp_path / "1.html", "--ledger", str(path))
    second = run(tmp_path / "2.html", "--ledger", str(path))
    assert "sub_fake0000000001" in first
    assert "ids are tagged run2_" in second
    assert "sub_run2_0000000001" in second
    summary = second.split("5. The ledger", 1)[1].split("6. The report", 1)[0]
    assert "Ada: saved, redeemed STAY20" in summary
    assert "cases: 3 · saved 1 · withdrawn 1 · ended 1" in summary
    assert "over all 2 runs it holds" in " ".join(second.split())
    third = run(tmp_path / "3.html", "--ledger", str(path))
    assert "sub_run3_0000000001" in third
    with SQLiteLedger(str(path)) as ledger:
        assert len(ledger.cases()) == 9
        saved = [c for c in ledger.cases() if c.state is CaseState.SAVED]
        assert len(saved) == 3 and all(c.redeemed_coupon == "STAY20" for c in saved)


def test_refuses_a_ledger_it_did_not_write(tmp_path):
    """A ledger holding someone else's data is refused before anything runs."""
    from cancelflow import LinkRecord

    path = tmp_path / "app.db"
    with SQLiteLedger(str(path)) as ledger:
        ledger.record_link(
            LinkRecord(
                session_id="bps_1LiveSession",
                subscription_id="sub_1Live",
                customer_id="cus_1Live",
                created=1,
            )
        )
    out, err = io.StringIO(), io.StringIO()
    argv = ["demo", "--ledger", str(path), "--report-html", str(tmp_path / "r.html")]
    assert main(argv, stdout=out, stderr=err, environ={}) == 2
    assert out.getvalue() == ""
    assert "cancelflow demo did not write (bps_1LiveSession)" in err.getvalue()
    assert not (tmp_path / "r.html").exists()
    with SQLiteLedger(str(path)) as ledger:
        assert ledger.processed_count() == 0


def test_a_report_file_that_cannot_be_written_is_one_line(tmp_path):
    """--report-html in a missing folder: exit 2 and one line naming the file."""
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "missing" / "report.html"
    argv = ["demo", "--report-html", str(target)]
    assert main(argv, stdout=out, stderr=err, environ={}) == 2
    assert err.getvalue() == (
        f"cancelflow: error: cannot write {target}: No such file or directory\n"
    )

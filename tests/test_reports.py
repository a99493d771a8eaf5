"""Report figures: a hand-computed data set through the three ledger stores, and edge cases."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing

import attrs
import pytest

import cancelflow
from cancelflow import (
    MemoryLedger,
    PostgresLedger,
    Rate,
    SQLiteLedger,
    report_from_ledger,
)
from cancelflow._reports.cube import (
    TENURE_BANDS,
    Cube,
    assemble,
    tenure_band,
    trunc_div,
)
from cancelflow._reports.stats import newcombe_interval
from cancelflow.exceptions import InvalidParameterError, LedgerError
from report_fixture import IMG_COMMENT, SCRIPT_COMMENT, SINCE, UNTIL, T, fill
from stripe_events import DAY, SubSim

pytest_plugins = ["pg"]  # the postgres_url and pg_schema fixtures


def report(ledger, **kw):
    kw.setdefault("since", SINCE)
    kw.setdefault("until", UNTIL)
    return report_from_ledger(ledger, now=T + 50 * DAY, **kw)


@pytest.fixture(scope="module")
def expected():
    """The report of the hand-computed data set, from the memory ledger."""
    return report(fill(MemoryLedger()))


def test_summary_by_hand(expected):
    """Nine cases: five cancellations (80 EUR + 15 USD lost), one each withdrawn, saved, left, involuntary."""
    s = expected.summary
    assert (s.cases, s.cancellations, s.scheduled, s.ended) == (9, 5, 4, 1)
    assert (s.withdrawn, s.saved, s.opened, s.involuntary) == (1, 1, 1, 1)
    assert dict(s.mrr_lost) == {"eur": 8000, "usd": 1500}  # never added together
    assert expected.currencies == ("eur", "jpy", "usd")
    assert (expected.source, expected.since, expected.until) == ("memory", SINCE, UNTIL)


def test_reasons_by_hand(expected):
    """too_expensive 3 (60 %, 50 EUR); missing_features and other 1 each, in the portal's order."""
    rows = [(r.key, r.count, r.share, dict(r.mrr), r.known) for r in expected.reasons]
    assert rows == [
        ("too_expensive", 3, 0.6, {"eur": 5000}, True),
        ("missing_features", 1, 0.2, {"usd": 1500}, True),
        ("other", 1, 0.2, {"eur": 3000}, True),
    ]
    assert expected.feedback_options == ()


def test_prices_tenure_and_months_by_hand(expected):
    """Four cancellations on price_basic, one on price_pro; one per tenure band but 24+; May, empty June, July."""
    assert [
        (p.product_id, p.price_id, p.count, dict(p.mrr)) for p in expected.prices
    ] == [
        ("prod_basic", "price_basic", 4, {"eur": 5000, "usd": 1500}),
        ("prod_pro", "price_pro", 1, {"eur": 3000}),
    ]
    assert [(t.key, t.count) for t in expected.tenure] == [
        ("0-1", 1), ("1-3", 1), ("3-6", 1), ("6-12", 1), ("12-24", 1), ("24+", 0),
    ]  # fmt: skip
    assert dict(expected.tenure[3].mrr) == {"usd": 1500}
    assert [(m.key, m.count, dict(m.mrr)) for m in expected.months] == [
        ("2026-05", 4, {"eur": 6000, "usd": 1500}),
        ("2026-06", 0, {}),
        ("2026-07", 1, {"eur": 2000}),
    ]


def test_comments_and_withdrawn_by_hand(expected):
    """Both comments, newest first, with customer, date and MRR; E's withdrawal in JPY."""
    assert expected.comments_total == 2
    (g, c) = expected.comments
    assert (g.customer_id, g.comment, g.feedback, g.mrr, g.currency) == (
        "cus_g",
        IMG_COMMENT,
        "missing_features",
        1500,
        "usd",
    )
    assert (c.customer_id, c.comment, c.at, c.mrr) == (
        "cus_c",
        SCRIPT_COMMENT,
        T + 2005,
        3000,
    )
    w = expected.withdrawn
    assert (w.count, dict(w.mrr)) == (1, {"jpy": 1000})
    assert [(r.key, r.count, r.share) for r in w.reasons] == [("unused", 1, 1.0)]


def test_offers_arms_and_revenue_by_hand(expected):
    """STAY20: offered 3, redeemed 1, stayed 2; twenty vs control lift 2/3 − 0/2 with Newcombe's interval; 240 − 4 EUR kept."""
    (offer,) = expected.offers
    assert (offer.coupon, offer.shown, offer.redeemed, offer.stayed) == (
        "STAY20",
        3,
        1,
        2,
    )
    assert offer.redemption == Rate.of(1, 3)
    assert offer.save == Rate.of(2, 3)
    assert dict(offer.saved_mrr) == {"eur": 2000}
    control, twenty = expected.arms
    assert (
        control.arm,
        control.holdout,
        control.coupon,
        control.attempts,
        control.stayed,
    ) == ("control", True, None, 2, 0)
    assert control.lift is None
    assert (
        twenty.arm,
        twenty.coupon,
        twenty.attempts,
        twenty.redeemed,
        twenty.stayed,
    ) == ("twenty", "STAY20", 3, 1, 2)
    assert twenty.save == Rate.of(2, 3)
    lift = twenty.lift
    assert lift is not None
    assert (lift.difference, lift.low, lift.high) == newcombe_interval(2, 3, 0, 2)
    assert (lift.holdout_arms, lift.method) == (("control",), "newcombe-hybrid-score")
    (eur,) = expected.revenue
    assert attrs.asdict(eur) == {
        "currency": "eur",
        "saves": 1,
        "kept_mrr": 2000,
        "kept": 24000,  # 12 months
        "discount_cost": 400,  # 20 % of 20 EUR, once
        "cost_unknown": 0,
        "net": 23600,
        "cancelled_later": 1,  # A cancelled again 40 days later
        "cancelled_later_mrr": 2000,
    }


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_sql_stores_give_the_same_report(request, tmp_path, expected, store):
    """SQLite and PostgreSQL compute, in SQL, exactly the memory ledger's figures."""
    if store == "sqlite":
        ledger = SQLiteLedger(tmp_path / "l.db")
    else:
        url = request.getfixturevalue("postgres_url")
        ledger = PostgresLedger(url, schema=request.getfixturevalue("pg_schema"))
    with ledger:
        fill(ledger)
        got = report(ledger)
        assert got.source == ("sqlite" if store == "sqlite" else "postgresql")
        assert attrs.evolve(got, source="memory") == expected
        for since, until, comments in [
            (None, None, 1),
            (T + 1500, T + 6500, None),
            (None, T + 3500, 0),
        ]:
            memory = report_from_ledger(
                fill(MemoryLedger()), since=since, until=until, comments=comments, now=0
            )
            sql = report_from_ledger(
                ledger, since=since, until=until, comments=comments, now=0
            )
            assert attrs.evolve(sql, source="memory") == memory


def test_sqlite_reads_a_small_window_through_the_index(tmp_path, expected):
    """A window covering a sliver of the ledger's span gives the same figures (read through the opened_at index)."""
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        fill(ledger)
        early = SubSim("sub_old", "cus_old", now=T - 3000 * DAY)
        early.schedule_with_feedback("unused")
        ledger.record_events(cancelflow.parse_event(early.events[0]))
        assert attrs.evolve(report(ledger), source="memory") == expected


def test_empty_window_gives_an_empty_report(tmp_path):
    """A window with no case: zeros, no rows, and every format still renders."""
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        fill(ledger)
        empty = report_from_ledger(
            ledger, since=T + 900 * DAY, until=T + 901 * DAY, now=0
        )
    s = empty.summary
    assert (s.cases, s.cancellations, dict(s.mrr_lost)) == (0, 0, {})
    assert (empty.reasons, empty.tenure, empty.months, empty.offers, empty.arms) == (
        (),
    ) * 5
    assert empty.currencies == ()
    assert "Nothing in this window." in empty.render("text")
    for fmt in ("json", "csv", "html"):
        assert empty.render(fmt, locale="fr")


def test_one_currency_has_one_amount_column():
    """With EUR only, tables carry one MRR column and amounts keep two decimals."""
    ledger = MemoryLedger()
    sim = SubSim("sub_1", "cus_1", now=T, unit_amount=1234)
    sim.schedule_with_feedback("unused")
    for event in sim.events:
        ledger.record_events(cancelflow.parse_event(event))
    got = report_from_ledger(ledger, now=0)
    assert got.currencies == ("eur",)
    text = got.render("text")
    assert "MRR EUR" in text and "MRR USD" not in text
    assert (
        "12.34\u00a0EUR" in text
    )  # a no-break space keeps amount and currency together


def test_zero_decimal_currencies_are_written_without_decimals(expected):
    """1,000 JPY is written from minor units as 1,000 JPY (not 10.00), and 1 000 JPY in French."""
    assert "1,000\u00a0JPY" in expected.render("text")
    assert "1\u202f000\u00a0JPY" in expected.render("html", locale="fr")


def test_unknown_feedback_values_are_kept_and_flagged(tmp_path):
    """A feedback value this cancelflow does not know (a newer API's) is counted under its own name, flagged unknown."""
    path = tmp_path / "l.db"
    with SQLiteLedger(path) as ledger:
        fill(ledger)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "UPDATE cancelflow_cases SET feedback = 'too_slow' WHERE subscription_id = 'sub_h'"
        )
    with SQLiteLedger(path) as ledger:
        got = report(ledger)
    row = next(r for r in got.reasons if r.key == "too_slow")
    assert (row.count, row.known, dict(row.mrr)) == (1, False, {"eur": 1000})
    assert next(r for r in got.reasons if r.key == "too_expensive").count == 2
    assert "too_slow (not known to this cancelflow)" in got.render("text")
    assert got.reasons[-1].key == "too_slow"  # known values first among equals


def test_window_is_half_open():
    """A case opened exactly at since counts; one opened exactly at until does not."""
    ledger = MemoryLedger()
    for n, at in enumerate((T, T + 100)):
        sim = SubSim(f"sub_{n}", f"cus_{n}", now=at)
        sim.schedule_with_feedback("unused")
        ledger.record_events(cancelflow.parse_event(sim.events[0]))
    got = report_from_ledger(ledger, since=T, until=T + 100, now=0)
    assert got.summary.cancellations == 1
    assert (
        report_from_ledger(ledger, since=dt.date(2026, 5, 28), now=0).summary.cases == 2
    )


def test_a_later_cancellation_after_the_window_does_not_count(expected):
    """ "Cancelled later" looks only before the window's end."""
    got = report(fill(MemoryLedger()), until=T + 30 * DAY)
    assert got.revenue[0].cancelled_later == 0


def test_comment_limit(expected):
    """comments=1 lists the newest comment and still counts both."""
    got = report(fill(MemoryLedger()), comments=1)
    assert [c.customer_id for c in got.comments] == ["cus_g"]
    assert got.comments_total == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": T, "until": T}, "until"),
        ({"horizon_months": 0}, "horizon_months"),
        ({"horizon_months": True}, "horizon_months"),
        ({"comments": -1}, "comments"),
        ({"since": dt.datetime(2026, 1, 1)}, "since"),
        ({"until": "2026-01-01"}, "until"),
        ({"since": float("nan")}, "since"),
        ({"now": object()}, "now"),
    ],
)
def test_bad_options_are_refused_by_name(kwargs, field):
    """Each bad option raises InvalidParameterError naming it."""
    with pytest.raises(InvalidParameterError) as info:
        report_from_ledger(MemoryLedger(), **kwargs)
    assert info.value.field == field


def test_tenure_bands_and_integer_division():
    """Bands start at 1, 3, 6, 12 and 24 months; division truncates toward zero as SQL does."""
    assert [tenure_band(m) for m in (-2, 0, 1, 2, 3, 5, 6, 11, 12, 23, 24, 400)] == [
        "0-1", "0-1", "1-3", "1-3", "3-6", "3-6", "6-12", "6-12", "12-24", "12-24", "24+", "24+",
    ]  # fmt: skip
    assert tenure_band(None) is None
    assert TENURE_BANDS[-1] == "24+"
    assert (trunc_div(7, 2), trunc_div(-7, 2), trunc_div(-1, 2)) == (3, -3, 0)


def test_unexpected_sql_rows_raise_ledger_error():
    """A row of the wrong shape from the database is a LedgerError, not a crash."""
    cube = Cube(horizon=12, comment_limit=10)
    with pytest.raises(LedgerError, match="unexpected row"):
        cube.add_sql_row((9, "[9]", 1, 0, 0, 0, 0, 0, None, None))
    with pytest.raises(LedgerError):
        cube.add_sql_row(("x",))


def test_cube_round_trips_through_json(expected):
    """A cube saved as JSON (a checkpoint) and loaded again gives the same report."""
    cube = Cube(horizon=12, comment_limit=100)
    for case in fill(MemoryLedger()).cases():
        if SINCE <= case.opened_at < UNTIL:
            cube.add_case(
                case,
                later=case.subscription_id == "sub_a" and case.state.value == "saved",
            )
    again = Cube(horizon=12, comment_limit=100)
    again.load_json(cube.to_json())
    meta = {
        "source": "memory",
        "since": SINCE,
        "until": UNTIL,
        "generated_at": T + 50 * DAY,
    }
    assert assemble(again, **meta) == assemble(cube, **meta) == expected
    with pytest.raises(ValueError, match="not a report checkpoint"):
        again.load_json({"by_case": [[["x"], [1]]]})


def test_a_ledger_of_another_kind_is_read_through_cases(expected):
    """A host's own Ledger implementation reports through ledger.cases(), source "ledger"."""

    class Wrapped:
        def __init__(self, inner):
            self.inner = inner

        def cases(self, **kw):
            return self.inner.cases(**kw)

    got = report(Wrapped(fill(MemoryLedger())))
    assert got.source == "ledger"
    assert attrs.evolve(got, source="memory") == expected


def test_sqlite_passes_share_one_snapshot(tmp_path, expected, monkeypatch):
    """The SQLite passes run on two read-only connections that see the same data, even with a writer in between."""
    path = tmp_path / "l.db"
    with SQLiteLedger(path) as ledger:
        fill(ledger)
        writer = SQLiteLedger(path)
        from cancelflow._reports import sql

        original = sql._sqlite_pass
        calls = []

        def pass_then_write(cur, **kw):
            calls.append(kw["read"])
            if len(calls) == 1:  # a new cancellation commits while the passes run
                late = SubSim("sub_late", "cus_late", now=T + 10)
                late.schedule_with_feedback("unused")
                writer.record_events(cancelflow.parse_event(late.events[0]))
            return original(cur, **kw)

        monkeypatch.setattr(sql, "_sqlite_pass", pass_then_write)
        got = report(ledger)
        writer.close()
        assert len(calls) == 2
        assert (
            attrs.evolve(got, source="memory") == expected
        )  # the late case in neither pass
        assert (
            report(ledger).summary.cancellations == expected.summary.cancellations + 1
        )


def test_an_in_memory_sqlite_ledger_reports_in_one_transaction(expected):
    """A ":memory:" SQLite ledger cannot be opened twice: its passes run one after another."""
    with SQLiteLedger(":memory:") as ledger:
        fill(ledger)
        assert attrs.evolve(report(ledger), source="memory") == expected


@pytest.mark.parametrize("store", ["memory", "sqlite", "postgres"])
def test_unknown_feedback_from_a_newer_api_through_every_store(
    request, tmp_path, store
):
    """A webhook with a feedback value this version does not know reports it by name, flagged, in every store."""
    if store == "memory":
        ledger = MemoryLedger()
    elif store == "sqlite":
        ledger = SQLiteLedger(tmp_path / "l.db")
    else:
        url = request.getfixturevalue("postgres_url")
        ledger = PostgresLedger(url, schema=request.getfixturevalue("pg_schema"))
    with ledger:
        for n, feedback in enumerate(["too_slow", "too_slow", "unused"]):
            sim = SubSim(f"sub_{n}", f"cus_{n}", now=T + n)
            sim.schedule_with_feedback(feedback)
            ledger.record_events(cancelflow.parse_event(sim.events[0]))
        got = report_from_ledger(ledger, now=0)
    assert [(r.key, r.count, r.known) for r in got.reasons] == [
        ("too_slow", 2, False),
        ("unused", 1, True),
    ]

"""The three ledger stores (memory, SQLite, PostgreSQL) behave the same."""

from __future__ import annotations

import datetime as dt
import random
import threading

import attrs
import pytest

from cancelflow import (
    CaseState,
    LinkRecord,
    MemoryLedger,
    PostgresLedger,
    SQLiteLedger,
    fold_cases,
    parse_event,
)
from cancelflow._outcomes.ledger import history_from
from cancelflow._outcomes.ledger_sql import _INSERT_CASE
from cancelflow.exceptions import InvalidParameterError
from stripe_events import DAY, SCENARIOS, SubSim, links_for, scenario

pytest_plugins = ["pg"]  # the postgres_url and pg_schema fixtures

RAW = [e for k in SCENARIOS for n in range(4) for e in scenario(k, n)]
LINKS = links_for(RAW)
EXPECTED = fold_cases(LINKS, [e for raw in RAW for e in parse_event(raw)])


def open_ledger(request, tmp_path):
    """A fresh, empty ledger of the kind ``request.param`` names."""
    if request.param == "memory":
        return MemoryLedger()
    if request.param == "sqlite":
        return SQLiteLedger(tmp_path / "ledger.db")
    url = request.getfixturevalue("postgres_url")
    return PostgresLedger(url, schema=request.getfixturevalue("pg_schema"))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def ledger(request, tmp_path):
    """A fresh, empty ledger of each kind."""
    store = open_ledger(request, tmp_path)
    yield store
    store.close()


@pytest.mark.parametrize("order", ["discount_first", "subscription_first"])
def test_one_redemption_is_news_once(ledger, order):
    """A redemption's two Stripe events (customer.discount.created and
    customer.subscription.updated) are both recorded, but only the first to
    arrive gives news of an OfferRedeemed; a repeat gives nothing."""
    sim = SubSim()
    ledger.record_link(
        LinkRecord(
            session_id="bps_1",
            subscription_id=sim.id,
            customer_id=sim.customer,
            created=sim.now - 5,
            offered_coupon="coupon_save20",
        )
    )
    raw = sim.redeem()
    if order == "subscription_first":
        raw.reverse()
    first, second = (parse_event(r) for r in raw)
    news = ledger.record_new_events(first)
    assert [e.kind.value for e in news] == ["offer_redeemed"]
    assert ledger.record_new_events(second) == []
    assert ledger.record_new_events(first) == []
    assert ledger.processed_count() == 2
    (case,) = ledger.cases()
    assert case.state is CaseState.SAVED
    assert case.redeemed_discount == news[0].discount_id  # type: ignore[attr-defined]
    assert case.redeemed_coupon == "coupon_save20"


def test_other_news_pass_through(ledger):
    """Events other than a repeated redemption are news on their first delivery."""
    sim = SubSim()
    events = parse_event(sim.schedule_with_feedback())
    assert ledger.record_new_events(events) == events
    assert ledger.record_new_events(events) == []


def test_duplicate_event_is_recorded_once(ledger):
    """The second delivery of an event id changes nothing and returns False."""
    s = SubSim()
    events = parse_event(s.schedule())
    assert ledger.record_events(events) is True
    before = ledger.cases()
    assert ledger.record_events(events) is False
    assert ledger.cases() == before
    assert ledger.processed_count() == 1
    assert ledger.is_processed(events[0].event_id)
    assert not ledger.is_processed("evt_never")


def test_shuffled_duplicated_deliveries_give_the_expected_cases(ledger):
    """Any order with duplicates gives fold_cases of the set, in every store."""
    rng = random.Random(7)
    deliveries = RAW + rng.sample(RAW, 20)
    rng.shuffle(deliveries)
    links = list(LINKS)
    rng.shuffle(links)
    for n, raw in enumerate(deliveries):
        if n == len(deliveries) // 2:
            for x in links:
                ledger.record_link(x)
        ledger.record_events(parse_event(raw))
    assert ledger.cases() == EXPECTED
    assert ledger.processed_count() == len({e["id"] for e in RAW})
    assert ledger.links() == sorted(LINKS, key=lambda x: (x.created, x.session_id))
    assert {c.state for c in ledger.cases()} == set(CaseState)


def test_filters_and_history(ledger):
    """cases() filters by subscription and customer; customer_history matches the pure one."""
    for x in LINKS:
        ledger.record_link(x)
    for raw in RAW:
        ledger.record_events(parse_event(raw))
    some = EXPECTED[3]
    assert ledger.cases(subscription_id=some.subscription_id) == [
        c for c in EXPECTED if c.subscription_id == some.subscription_id
    ]
    assert ledger.cases(customer_id="cus_2") == [
        c for c in EXPECTED if c.customer_id == "cus_2"
    ]
    assert ledger.links(subscription_id=LINKS[0].subscription_id) == [LINKS[0]]
    for customer in {c.customer_id for c in EXPECTED}:
        assert ledger.customer_history(customer) == history_from(
            customer, EXPECTED, LINKS
        )
    assert ledger.customer_history("cus_nobody").attempts == 0


def test_same_link_twice_keeps_the_first(ledger):
    """record_link is idempotent by session id: a second record is ignored."""
    s = SubSim()
    first = LinkRecord(
        session_id="bps_1",
        subscription_id=s.id,
        customer_id=s.customer,
        created=s.now,
        arm="a",
    )
    ledger.record_link(first)
    ledger.record_link(
        LinkRecord(
            session_id="bps_1",
            subscription_id=s.id,
            customer_id=s.customer,
            created=s.now,
            arm="b",
        )
    )
    assert ledger.links() == [first]
    (case,) = ledger.cases()
    assert (case.state, case.arm) == (CaseState.OPENED, "a")


def test_prune_forgets_only_old_neutral_ids(ledger):
    """Pruning drops old ids of events that shaped no case, and keeps the others."""
    s = SubSim(now=1_000 * DAY)
    neutral_old = s.invoice_paid()
    s.tick(DAY).schedule()
    s.now += 60 * DAY
    neutral_new = s.invoice_paid()
    for raw in s.events:
        ledger.record_events(parse_event(raw))
    removed = ledger.prune_processed_events(older_than=dt.timedelta(days=30), now=s.now)
    assert removed == 1
    assert not ledger.is_processed(neutral_old["id"])
    assert ledger.is_processed(neutral_new["id"])
    assert ledger.is_processed(s.events[1]["id"])  # shaped a case: kept
    assert len(ledger.cases()) == 1


def test_bad_batch_changes_nothing(ledger):
    """A batch mixing two Stripe events is refused before anything is written."""
    a = parse_event(scenario("noise", 0)[0])
    b = parse_event(scenario("noise", 1)[0])
    with pytest.raises(InvalidParameterError):
        ledger.record_events(a + b)
    assert ledger.processed_count() == 0


@pytest.mark.parametrize("link", [5, None, {"session_id": "bps_1"}])
def test_record_link_refuses_what_is_not_a_link(ledger, link):
    """Only a LinkRecord is stored; anything else is refused by name."""
    with pytest.raises(InvalidParameterError) as info:
        ledger.record_link(link)
    assert info.value.field == "link"
    assert ledger.cases() == []


def test_concurrent_writers(ledger):
    """Threads recording one subscription's events at once lose nothing."""
    s = SubSim()
    s.schedule()
    s.tick(7).feedback("unused")
    s.tick(DAY).renew()
    s.tick(DAY).schedule()
    s.tick(7).feedback("low_quality")
    events = [parse_event(raw) for raw in s.events] * 3
    threads = [threading.Thread(target=ledger.record_events, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.cases() == fold_cases([], [e for batch in events for e in batch])
    assert ledger.processed_count() == len(s.events)


@pytest.fixture(params=["sqlite", "postgres"])
def sql_ledger(request, tmp_path):
    """A fresh, empty ledger of each SQL kind."""
    store = open_ledger(request, tmp_path)
    yield store
    store.close()


def test_a_case_row_changed_behind_the_ledger_is_put_right(sql_ledger):
    """Only changed case rows are written, yet the table always ends equal to the
    fold: a row edited, added or deleted by hand is put right by the next event of
    its subscription."""
    edited, emptied = SubSim("sub_edited", "cus_1"), SubSim("sub_emptied", "cus_2")
    for sim in (edited, emptied):
        sql_ledger.record_events(parse_event(sim.schedule()))
    (case,) = sql_ledger.cases(subscription_id=edited.id)
    with sql_ledger._transaction(write=True) as cur:
        cur.execute(
            sql_ledger._sql(
                "UPDATE cancelflow_cases SET feedback = ?, customer_id = ?, "
                "event_ids = ? WHERE subscription_id = ?"
            ),
            ("low_quality", "cus_wrong", sql_ledger._ids_in(("evt_x",)), edited.id),
        )
        cur.execute(
            sql_ledger._sql(_INSERT_CASE),
            sql_ledger._case_params(attrs.evolve(case, id="case_extra")),
        )
        cur.execute(
            sql_ledger._sql("DELETE FROM cancelflow_cases WHERE subscription_id = ?"),
            (emptied.id,),
        )
    assert len(sql_ledger.cases(subscription_id=edited.id)) == 2
    for sim in (edited, emptied):
        sql_ledger.record_events(parse_event(sim.tick(7).feedback("unused")))
    raw = [*edited.events, *emptied.events]
    assert sql_ledger.cases() == fold_cases(
        [], [e for r in raw for e in parse_event(r)]
    )
    assert sql_ledger.customer_history("cus_wrong").attempts == 0

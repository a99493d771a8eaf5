"""The three ledger stores (memory, SQLite, PostgreSQL) behave the same, hostile
input and problems (dead letters) included."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import random
import threading

import attrs
import pytest

from cancelflow import (
    CancellationScheduled,
    CaseState,
    LedgerProblem,
    LinkRecord,
    MemoryLedger,
    PostgresLedger,
    SQLiteLedger,
    WebhookHandler,
    fold_cases,
    parse_event,
    sign_webhook,
)
from cancelflow._outcomes.ledger import history_from
from cancelflow._outcomes.ledger_sql import CASE_COLUMNS, LATEST_VERSION, _insert
from cancelflow.exceptions import (
    InvalidParameterError,
    LedgerError,
    UnstorableEventError,
)
from hostile import hostile_deliveries
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
        insert, _ = _insert(
            "cancelflow_cases", CASE_COLUMNS, tuple(range(len(CASE_COLUMNS)))
        )
        cur.execute(
            sql_ledger._sql(insert),
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


# -- hostile input and problems (dead letters) -------------------------------------------

SECRET = "whsec_hostile"
NOW = 1_780_100_000
_BASE = SubSim("sub_base", "cus_h", now=NOW - 60)
HOSTILE = hostile_deliveries(
    _BASE.schedule_with_feedback("other"),
    SubSim("sub_disc", "cus_d", now=NOW - 60).redeem()[0],
)


def deliver_hostile(ledger):
    """Every hostile delivery, twice, through a WebhookHandler into *ledger*:
    what each call returned, the problems kept, and the cases."""
    handler = WebhookHandler(SECRET, ledger=ledger, clock=lambda: NOW)
    returned = {}
    for name, body in HOSTILE:
        header = sign_webhook(body, SECRET, timestamp=NOW)
        returned[name] = [
            [e.to_json() for e in handler.handle_webhook(body, header)]
            for _ in range(2)
        ]
    problems = [
        (p.key, p.error, p.reason, p.body, p.received_at) for p in ledger.problems()
    ]
    return returned, problems, ledger.cases()


EXPECTED_HOSTILE = deliver_hostile(MemoryLedger())


def test_hostile_deliveries_end_the_same_in_every_store(ledger):
    """The same hostile events (integers beyond 64 bits, U+0000 and lone
    surrogates, unknown enum values, an old API version, bodies that are not
    events) give the same answers, problems and cases in memory, SQLite and
    PostgreSQL, and none raises: each is recorded or kept as a problem."""
    assert deliver_hostile(ledger) == EXPECTED_HOSTILE


def test_what_each_hostile_delivery_becomes():
    """Out-of-range numbers and unstorable ids are problems with a reason naming
    the field; a comment keeps its bad characters as JSON escapes; unknown enum
    values are recorded as values; a 2019 event names the version needed."""
    returned, problems, cases = EXPECTED_HOSTILE
    reasons = {key: reason for key, _, reason, _, _ in problems}
    recorded = {name for name, (first, again) in returned.items() if first}
    assert all(again == [] for first, again in returned.values())
    assert recorded == {
        "comment_nul",
        "comment_surrogate",
        "unknown_status",
        "unknown_feedback",
        "unknown_reason",
        "unknown_mode",
    }
    assert "64-bit" in reasons["evt_hostile_1"]  # cancel_at
    assert "subscription.items" in reasons["evt_hostile_5"]  # amount × quantity
    assert "subscription.customer" in reasons["evt_hostile_6"]
    assert "U+0000" in reasons["evt_hostile_7"]
    assert "2019-12-03" in reasons["evt_hostile_2019"]
    assert "2022-11-15" in reasons["evt_hostile_2019"]
    assert len(problems) == len(HOSTILE) - len(recorded)
    comments = {c.subscription_id: c.comment for c in cases}
    assert comments["sub_hostile_9"] == "too\\u0000much"
    assert comments["sub_hostile_10"] == "x\\udfffy"
    feedback = {c.subscription_id: c.feedback for c in cases}
    assert feedback["sub_hostile_13"] == "too_slow"
    assert not feedback["sub_hostile_13"].known


def test_a_poison_event_never_loops(ledger):
    """A verified event that can never be recorded is kept once as a problem and
    acknowledged on every delivery; the subscription's later events still record."""
    handler = WebhookHandler(SECRET, ledger=ledger, clock=lambda: NOW)
    s = SubSim("sub_poison", "cus_p", now=NOW - 60)
    poison = s.schedule()
    poison["data"]["object"]["cancel_at"] = 2**63
    body = json.dumps(poison).encode()
    for _ in range(3):
        assert (
            handler.handle_webhook(body, sign_webhook(body, SECRET, timestamp=NOW))
            == []
        )
    (problem,) = ledger.problems()
    assert (problem.key, problem.event_type, problem.error) == (
        poison["id"],
        "customer.subscription.updated",
        "EventPayloadError",
    )
    assert problem.body == body
    assert not ledger.is_processed(poison["id"])
    later = json.dumps(s.tick(7).feedback("unused")).encode()
    assert handler.handle_webhook(later, sign_webhook(later, SECRET, timestamp=NOW))
    assert ledger.cases()[0].feedback == "unused"


def test_a_problem_is_kept_once(ledger):
    """record_problem is idempotent by key and refuses what is not a LedgerProblem."""
    problem = LedgerProblem.from_delivery(b"{}", ValueError("x"), received_at=5)
    assert problem.key.startswith("sha256:")
    assert ledger.record_problem(problem) is True
    assert ledger.record_problem(problem) is False
    assert ledger.problems() == [problem]
    with pytest.raises(InvalidParameterError) as info:
        ledger.record_problem("not a problem")
    assert info.value.field == "problem"


def test_hand_built_events_the_stores_cannot_keep_are_refused_alike(ledger):
    """Typed events built by hand with a 65-bit number, a U+0000 id or a value
    of a type no field has (a float, bytes) raise the same InvalidParameterError
    in every store, and change nothing."""
    for bad in (
        {"created": 2**63},
        {"effective_at": -(2**63) - 1},
        {"customer_id": "cus_\x00"},
        {"subscription_id": "sub_\ud800"},
        {"mrr": 0.5},  # a type no field has
        {"customer_id": b"cus_1"},
    ):
        event = CancellationScheduled(
            **{
                "event_id": "evt_hand",
                "event_type": "customer.subscription.updated",
                "created": 1,
                "subscription_id": "sub_1",
                "customer_id": "cus_1",
                **bad,
            }
        )
        with pytest.raises(InvalidParameterError) as info:
            ledger.record_events([event])
        assert next(iter(bad)) in info.value.field
    assert ledger.processed_count() == 0


def test_copies_of_parsed_events_are_checked_again(ledger):
    """The stores skip re-checking the events parse_event returns (it checked
    them), but not a copy made from one: replace() and unpickling give events
    that are checked like hand-built ones, and equal the original."""
    (parsed,) = parse_event(SubSim("sub_copy", "cus_copy", now=NOW).schedule())
    assert pickle.loads(pickle.dumps(parsed)) == parsed == parsed.replace()
    bad = parsed.replace(customer_id="cus_\x00")
    with pytest.raises(InvalidParameterError) as info:
        ledger.record_events([bad])
    assert "customer_id" in info.value.field
    assert ledger.processed_count() == 0
    assert ledger.record_events([pickle.loads(pickle.dumps(parsed))]) is True


def test_a_link_the_stores_cannot_keep_is_refused_when_built():
    """A LinkRecord with a number beyond 64 bits, a U+0000 or a lone surrogate,
    a decision nested too deeply, or a value of the wrong type, is refused by
    name when it is built."""
    good = {
        "session_id": "bps_1",
        "subscription_id": "sub_1",
        "customer_id": "cus_1",
        "created": 1,
    }

    def nested(levels):
        value: list = []
        for _ in range(levels - 1):
            value = [value]
        return value

    assert LinkRecord(**good, decision=nested(100)).decision == nested(100)
    for field, value in (
        ("decision", nested(101)),
        ("created", 2**63),
        ("mrr", 2**64),
        ("customer_id", "cus_\x00"),
        ("arm", "a\udc00"),
        ("decision", {"why": "x\x00"}),
        ("decision", {"n": 2**70}),
        ("decision", nested(5000)),
        ("created", "1"),
        ("created", True),
        ("mrr", 1.5),
        ("arm", b"x"),
        ("customer_id", None),
        ("livemode", "false"),
    ):
        with pytest.raises(InvalidParameterError) as info:
            LinkRecord(**{**good, field: value})
        assert info.value.field == field


def test_memory_fold_failure_changes_nothing(monkeypatch):
    """When folding a subscription fails, the memory ledger raises
    UnstorableEventError and keeps nothing of the event."""
    from cancelflow._outcomes import ledger_memory

    ledger = MemoryLedger()
    first = parse_event(SubSim().schedule())
    ledger.record_events(first)
    before = ledger.cases()

    def broken(*args, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(ledger_memory, "fold_cases", broken)
    events = parse_event(SubSim().tick(9).feedback("unused"))
    with pytest.raises(UnstorableEventError) as info:
        ledger.record_events(events)
    assert info.value.event_id == events[0].event_id
    assert not ledger.is_processed(events[0].event_id)
    assert ledger.cases() == before


def refuse_poison(sql_ledger):
    """Make the database itself refuse one subscription's events (a constraint)."""
    with sql_ledger._transaction(write=True) as cur:
        if isinstance(sql_ledger, SQLiteLedger):
            cur.execute(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON cancelflow_events "
                "WHEN NEW.subscription_id = 'sub_refused' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            cur.execute(
                "ALTER TABLE cancelflow_events ADD CONSTRAINT refuse_poison "
                "CHECK (subscription_id <> 'sub_refused')"
            )


def test_data_the_database_refuses_is_a_problem_not_a_retry(sql_ledger):
    """When the database refuses an event's data (a constraint: permanent),
    record_events raises UnstorableEventError with nothing written, and the
    handler keeps it as a problem and acknowledges it."""
    refuse_poison(sql_ledger)
    s = SubSim("sub_refused", "cus_r", now=NOW - 60)
    raw = s.schedule()
    with pytest.raises(UnstorableEventError):
        sql_ledger.record_events(parse_event(raw))
    assert sql_ledger.processed_count() == 0
    handler = WebhookHandler(SECRET, ledger=sql_ledger, clock=lambda: NOW)
    body = json.dumps(raw).encode()
    assert handler.handle_webhook(body, sign_webhook(body, SECRET, timestamp=NOW)) == []
    (problem,) = sql_ledger.problems()
    assert (problem.key, problem.error) == (raw["id"], "UnstorableEventError")


def test_a_database_that_is_down_still_raises(sql_ledger):
    """A transient failure (the database unreachable) raises LedgerError, so the
    host answers 500 and Stripe retries; nothing is kept as a problem."""
    handler = WebhookHandler(SECRET, ledger=sql_ledger, clock=lambda: NOW)
    body = json.dumps(SubSim(now=NOW - 60).schedule()).encode()
    header = sign_webhook(body, SECRET, timestamp=NOW)
    if isinstance(sql_ledger, SQLiteLedger):
        sql_ledger._conn.execute("ALTER TABLE cancelflow_cases RENAME TO away")
        undo = lambda: sql_ledger._conn.execute(  # noqa: E731
            "ALTER TABLE away RENAME TO cancelflow_cases"
        )
    else:
        sql_ledger.close()
        real = sql_ledger._conninfo
        sql_ledger._conninfo = "postgresql://nobody@127.0.0.1:1/none"

        def undo():
            sql_ledger._conninfo = real

    with pytest.raises(LedgerError) as info:
        handler.handle_webhook(body, header)
    assert not isinstance(info.value, UnstorableEventError)
    undo()
    assert sql_ledger.problems() == []
    assert handler.handle_webhook(body, header)


def test_a_database_before_problems_opens_and_gains_the_table(sql_ledger):
    """A database at schema version 2 (before the problems table of version 3)
    opens with this cancelflow: it is migrated, its cases unchanged."""
    sim = SubSim()
    sql_ledger.record_events(parse_event(sim.schedule()))
    cases = sql_ledger.cases()
    with sql_ledger._transaction(write=True) as cur:
        cur.execute("DROP TABLE cancelflow_problems")
        cur.execute("DELETE FROM cancelflow_schema_migrations WHERE version > 2")
    assert sql_ledger.schema_version() == 2
    sql_ledger.close()
    if isinstance(sql_ledger, SQLiteLedger):
        again = SQLiteLedger(sql_ledger.path)
    else:
        again = PostgresLedger(sql_ledger._conninfo, schema=sql_ledger.schema)
    with again:
        assert again.schema_version() == LATEST_VERSION == 3
        assert again.cases() == cases
        assert again.problems() == []
        again.record_problem(LedgerProblem.from_delivery(b"x", ValueError("y")))
        assert len(again.problems()) == 1

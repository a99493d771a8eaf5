"""What the SQLite and PostgreSQL ledgers share: the schema, its migrations, the SQL.

Strictly private. Both stores keep the same four tables (prefixed ``cancelflow_``
so they can live in the host's database) plus a migrations table; see
``docs/ledger.md``. A subclass provides the connection, transactions and the
dialect's types.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import compress, repeat
from operator import attrgetter, is_not, itemgetter, ne
from typing import Any, Final, Protocol, TypeVar

import attrs

from cancelflow._outcomes.events import (
    CancellationEvent,
    EventKind,
    OfferRedeemed,
    _AboutSubscription,
    event_from_json,
)
from cancelflow._outcomes.ledger import (
    Case,
    CaseState,
    LedgerProblem,
    LedgerStore,
    LinkRecord,
    canonical_json,
    canonical_json_strings,
    check_batch,
    check_link,
    check_problem,
    cutoff,
    fold_cases,
    redemption_key,
    unstorable_error,
    without_reported,
)
from cancelflow._policy.history import CustomerHistory
from cancelflow._stripe.reasons import CancellationFeedback, CancellationReason
from cancelflow._stripe.subscription_data import BillingMode
from cancelflow.exceptions import (
    EventPayloadError,
    LedgerError,
    UnstorableEventError,
)

SCHEMA_TABLE: Final = "cancelflow_schema_migrations"
_T = TypeVar("_T")

# version, name, DDL ({int}, {bool}, {json} and {blob} are the dialect's type names;
# {clustered} makes SQLite store a table in its primary key's order, which
# keeps a commit to few pages; {decision_experiment} reads the "experiment"
# string of the ``decision`` JSON column)
MIGRATIONS: Final[tuple[tuple[int, str, tuple[str, ...]], ...]] = (
    (
        1,
        "cases, links, typed events and processed event ids",
        (
            """CREATE TABLE cancelflow_processed_events (
                event_id TEXT PRIMARY KEY,
                event_type TEXT NOT NULL,
                created {int} NOT NULL,
                livemode {bool} NOT NULL
            ){clustered}""",
            """CREATE TABLE cancelflow_events (
                event_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                subscription_id TEXT NOT NULL,
                created {int} NOT NULL,
                payload {json} NOT NULL,
                PRIMARY KEY (subscription_id, event_id, seq)
            ){clustered}""",
            """CREATE TABLE cancelflow_links (
                session_id TEXT PRIMARY KEY,
                subscription_id TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                created {int} NOT NULL,
                livemode {bool} NOT NULL,
                offered_coupon TEXT,
                arm TEXT,
                decision {json},
                mrr {int},
                currency TEXT
            )""",
            (
                "CREATE INDEX cancelflow_links_subscription"
                " ON cancelflow_links (subscription_id)"
            ),
            "CREATE INDEX cancelflow_links_customer ON cancelflow_links (customer_id)",
            """CREATE TABLE cancelflow_cases (
                id TEXT NOT NULL,
                subscription_id TEXT NOT NULL,
                customer_id TEXT,
                livemode {bool} NOT NULL,
                state TEXT NOT NULL,
                opened_at {int} NOT NULL,
                updated_at {int} NOT NULL,
                link_session_id TEXT,
                link_created_at {int},
                offered_coupon TEXT,
                arm TEXT,
                decision {json},
                scheduled_at {int},
                effective_at {int},
                billing_mode TEXT,
                feedback TEXT,
                comment TEXT,
                feedback_option TEXT,
                feedback_at {int},
                redeemed_coupon TEXT,
                redeemed_discount TEXT,
                redeemed_at {int},
                withdrawn_at {int},
                ended_at {int},
                ended_reason TEXT,
                mrr {int},
                currency TEXT,
                event_ids {json} NOT NULL,
                customer_initiated {bool} NOT NULL,
                PRIMARY KEY (subscription_id, id)
            ){clustered}""",
            "CREATE INDEX cancelflow_cases_customer ON cancelflow_cases (customer_id)",
        ),
    ),
    (
        2,
        (
            "for reports: experiment and offer terms of links and cases; product, "
            "price and start of a case's subscription; cases by opened_at"
        ),
        (
            "ALTER TABLE cancelflow_links ADD COLUMN experiment TEXT",
            "ALTER TABLE cancelflow_links ADD COLUMN offer_discount {int}",
            "ALTER TABLE cancelflow_links ADD COLUMN offer_months {int}",
            "ALTER TABLE cancelflow_cases ADD COLUMN experiment TEXT",
            "ALTER TABLE cancelflow_cases ADD COLUMN offer_discount {int}",
            "ALTER TABLE cancelflow_cases ADD COLUMN offer_months {int}",
            "ALTER TABLE cancelflow_cases ADD COLUMN product_id TEXT",
            "ALTER TABLE cancelflow_cases ADD COLUMN price_id TEXT",
            "ALTER TABLE cancelflow_cases ADD COLUMN started_at {int}",
            # The experiment was only inside the decision's JSON until now.
            (
                "UPDATE cancelflow_links SET experiment = {decision_experiment} "
                "WHERE decision IS NOT NULL"
            ),
            (
                "UPDATE cancelflow_cases SET experiment = {decision_experiment} "
                "WHERE decision IS NOT NULL"
            ),
            "CREATE INDEX cancelflow_cases_opened ON cancelflow_cases (opened_at)",
        ),
    ),
    (
        3,
        "problems: deliveries that can never be recorded (dead letters)",
        (
            """CREATE TABLE cancelflow_problems (
                key TEXT PRIMARY KEY,
                event_id TEXT,
                event_type TEXT,
                created {int},
                received_at {int} NOT NULL,
                error TEXT NOT NULL,
                reason TEXT NOT NULL,
                body {blob} NOT NULL
            )""",
        ),
    ),
)
LATEST_VERSION: Final = MIGRATIONS[-1][0]

CASE_FIELDS: Final = tuple(f.name for f in attrs.fields(Case))
CASE_COLUMNS: Final = (*CASE_FIELDS, "customer_initiated")
LINK_COLUMNS: Final = tuple(f.name for f in attrs.fields(LinkRecord))
PROBLEM_COLUMNS: Final = tuple(f.name for f in attrs.fields(LedgerProblem))
_CASE_VALUES: Final = attrgetter(*CASE_FIELDS)
_DECISION: Final = CASE_COLUMNS.index("decision")
_EVENT_IDS: Final = CASE_COLUMNS.index("event_ids")
_CASE_ID: Final = CASE_COLUMNS.index("id")
_LINK_DECISION: Final = LINK_COLUMNS.index("decision")
_LINK_LIVEMODE: Final = LINK_COLUMNS.index("livemode")
_CASE_INDEXES: Final = range(len(CASE_COLUMNS))
_ENUM_COLUMNS: Final = tuple(
    CASE_COLUMNS.index(c) for c in ("state", "billing_mode", "feedback", "ended_reason")
)
_LIVEMODE: Final = CASE_COLUMNS.index("livemode")
# Queries built from the constant identifiers above (no outside input).
_MAX_VERSION: Final = f"SELECT MAX(version) FROM {SCHEMA_TABLE}"  # noqa: S608
_INSERT_VERSION: Final = (
    f"INSERT INTO {SCHEMA_TABLE} (version, name, applied_at) VALUES (?, ?, ?)"  # noqa: S608
)
_SELECT_LINKS: Final = f"SELECT {', '.join(LINK_COLUMNS)} FROM cancelflow_links"  # noqa: S608
_SELECT_CASES: Final = f"SELECT {', '.join(CASE_COLUMNS)} FROM cancelflow_cases"  # noqa: S608
_ENUMS: Final[dict[str, Callable[[str], enum.Enum]]] = {
    "state": CaseState,
    "billing_mode": BillingMode.from_wire,
    "feedback": CancellationFeedback.from_wire,
    "ended_reason": CancellationReason.from_wire,
}
_INSERT_PROBLEM: Final = (
    f"INSERT INTO cancelflow_problems ({', '.join(PROBLEM_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in PROBLEM_COLUMNS)}) ON CONFLICT (key) DO NOTHING"
)
_SELECT_PROBLEMS: Final = (
    f"SELECT {', '.join(PROBLEM_COLUMNS)} FROM cancelflow_problems "  # noqa: S608
    "ORDER BY received_at, key"
)
_INSERT_EVENT: Final = (
    "INSERT INTO cancelflow_events "
    "(event_id, seq, kind, subscription_id, created, payload) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_DELETE_CASE: Final = (
    "DELETE FROM cancelflow_cases WHERE subscription_id = ? AND id = ?"
)
_DECODED_MAX: Final = 8192
_COMPACT: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# Reads the JSON value at the start of a text: json.loads without its checks
# of the text's type and whitespace around it, for SQLite's own json_array.
_RAW_DECODE: Final = json.JSONDecoder().raw_decode
_PAYLOAD_FIELDS: dict[type, tuple[tuple[str, ...], attrgetter[Any]]] = {}


def payload_json(event: CancellationEvent) -> str:
    """``canonical_json(event.to_json())``, the stored text, built faster.

    A fast path (``tests/test_ledger_sqlite.py`` checks it against the plain
    one): one ``attrgetter`` reads the fields in sorted order, so the encoder
    need not sort, and no ``to_json`` dict is made. The enum fields are
    ``StrEnum`` members, which the encoder writes as their values.
    """
    cls = type(event)
    spec = _PAYLOAD_FIELDS.get(cls)
    if spec is None:
        names = tuple(sorted({"kind", *cls.fields}))
        spec = _PAYLOAD_FIELDS[cls] = (names, attrgetter(*names))
    names, values = spec
    return _COMPACT.encode(dict(zip(names, values(event), strict=True)))


@functools.lru_cache(maxsize=256)
def _insert(
    table: str, columns: tuple[str, ...], given: tuple[int, ...], tail: str = ""
) -> tuple[str, Callable[[Sequence[object]], tuple[object, ...]]]:
    """``INSERT`` into *table* of the *columns* at the indexes *given* (those
    whose value is not ``None``), and what picks their values from a row.

    The others are left NULL rather than bound to ``None``: ``sqlite3`` looks
    up an adapter for every parameter that is not exactly an ``int``,
    ``float`` or ``str`` (``None`` and ``bool`` included), thousands of
    instructions each, and a new case has a dozen or more empty columns.
    """
    names = ", ".join(columns[i] for i in given)
    marks = ", ".join("?" for _ in given)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}){tail}"  # noqa: S608 - constants
    if len(given) == 1:
        (only,) = given
        return sql, lambda row: (row[only],)
    return sql, itemgetter(*given)


def _given(row: Sequence[object]) -> tuple[int, ...]:
    """The indexes of the values of *row* that are not ``None``."""
    return tuple(compress(range(len(row)), map(is_not, row, repeat(None))))


@functools.lru_cache(maxsize=256)
def _update_case(columns: tuple[int, ...]) -> str:
    """``UPDATE`` of the case columns at these indexes (of `CASE_COLUMNS`).

    Only the columns that changed are assigned: the row is smaller to bind, and
    an indexed column (``customer_id``) assigned even its old value would
    rewrite its index entry too (one more page per commit). The key columns
    never change: a case is matched by them.
    """
    assignments = ", ".join(f"{CASE_COLUMNS[i]} = ?" for i in columns)
    return (
        f"UPDATE cancelflow_cases SET {assignments} "  # noqa: S608 - constant names
        "WHERE subscription_id = ? AND id = ?"
    )


class Cursor(Protocol):
    """The part of a DB-API cursor the ledgers use."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...

    def executemany(self, query: Any, params_seq: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SQLLedger(LedgerStore):
    """A ledger on a SQL database; subclasses connect and open transactions."""

    payload_text: str = "payload"  # the stored event as JSON text
    int_type: str = "INTEGER"
    clustered: str = ""
    bool_type: str = "INTEGER"
    json_type: str = "TEXT"
    blob_type: str = "BLOB"
    dialect: str = "sqlite"  # the SQL the reports write (sqlite or postgresql)
    # the "experiment" string of a row's decision JSON (NULL otherwise)
    decision_experiment: str = (
        "CASE WHEN json_type(decision, '$.experiment') = 'text' "
        "THEN json_extract(decision, '$.experiment') END"
    )

    def __init__(self) -> None:
        # Typed events by their stored JSON text (at most _DECODED_MAX, the
        # oldest dropped first): the text of an event never changes, so a
        # subscription's earlier events are decoded once per process, and the
        # events this ledger stores go in as they are written.
        self._decoded: dict[str, CancellationEvent] = {}
        # What _refold reads for each delivery: a subscription's links, the
        # text of its events and its case rows.
        self._refold_reads = tuple(
            self._sql(
                f"SELECT {select} FROM cancelflow_{table} "  # noqa: S608 - constants
                "WHERE subscription_id = ?"
            )
            for select, table in (
                (self._packed(LINK_COLUMNS), "links"),
                (self.payload_text, "events"),
                (self._packed(CASE_COLUMNS), "cases"),
            )
        )

    # -- hooks -------------------------------------------------------------------

    @abc.abstractmethod
    def _transaction(
        self, *, write: bool, lock_keys: Sequence[str] = ()
    ) -> AbstractContextManager[Cursor]:
        """A transaction (holding *lock_keys* when the store needs locks)."""

    def _sql(self, text: str) -> str:
        return text

    def _json_in(self, value: object) -> object:
        return None if value is None else canonical_json(value)

    def _ids_in(self, ids: tuple[str, ...]) -> object:
        """A case's ``event_ids`` as stored: ``self._json_in(list(ids))``."""
        return canonical_json_strings(ids)

    def _event_param(self, event: _AboutSubscription) -> object:
        """The stored payload of *event*; remembers its decoding when it is text."""
        text = payload_json(event)
        self._remember(text, event)
        return text

    def _packed(self, columns: Sequence[str]) -> str:
        """A select list reading *columns* as one JSON array (`_unpacked`).

        ``sqlite3`` builds ``cursor.description``, a tuple per column, on
        every execute of a query, even one that finds no row: for the 38
        columns of a case row that is most of the cost of reading it. One
        column costs one; SQLite's ``json_array`` renders every value the
        columns hold (integers, text, NULL) exactly.
        """
        return f"json_array({', '.join(columns)})"

    def _unpacked(self, row: Sequence[Any]) -> Sequence[Any]:
        """The column values of a row read with `_packed`."""
        values, _ = _RAW_DECODE(row[0])
        return tuple(values)

    def _bool_in(self, value: object) -> object:
        """A boolean as bound: SQLite's INTEGER 0 or 1 (``sqlite3`` binds an
        ``int`` directly, a ``bool`` only after an adapter lookup, to the same
        stored value); anything else as it is."""
        return int(value) if type(value) is bool else value

    def _as_read(self, params: tuple[object, ...]) -> tuple[object, ...]:
        """Case row *params* (as written) as the database reads them back."""
        return params

    def _json_out(self, value: object) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    def _bool_out(self, value: object) -> bool:
        return bool(value)

    def _is_permanent(self, exc: BaseException | None) -> bool:
        """Whether the database refused *exc*'s data itself (it will refuse it
        again), rather than failing for a while (down, locked, full)."""
        del exc
        return False

    # -- schema --------------------------------------------------------------------

    def _migrate(self, cur: Cursor) -> None:
        """Bring the schema to `LATEST_VERSION` (inside a transaction)."""
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
            f"version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            f"applied_at {self.int_type} NOT NULL)"
        )
        cur.execute(_MAX_VERSION)
        row = cur.fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > LATEST_VERSION:
            raise LedgerError(
                f"the ledger's schema is version {current}, newer than this "
                f"cancelflow's ({LATEST_VERSION}); upgrade cancelflow, or use "
                "another database"
            )
        import time

        for version, name, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                cur.execute(
                    statement.format(
                        int=self.int_type,
                        bool=self.bool_type,
                        json=self.json_type,
                        blob=self.blob_type,
                        clustered=self.clustered,
                        decision_experiment=self.decision_experiment,
                    )
                )
            cur.execute(self._sql(_INSERT_VERSION), (version, name, int(time.time())))

    def read_only(self, work: Callable[[Cursor], _T]) -> _T:
        """Run *work* with a cursor inside one read transaction (cancelflow's
        reports use it to aggregate in the database; *work* must not write to
        cancelflow's tables).

        Raises:
            LedgerError: the store failed.
        """
        with self._transaction(write=False) as cur:
            return work(cur)

    def schema_version(self) -> int:
        """The schema version of the database (the migrations applied)."""
        with self._transaction(write=False) as cur:
            cur.execute(_MAX_VERSION)
            row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- rows ----------------------------------------------------------------------

    def _case_params(self, case: Case) -> tuple[object, ...]:
        """A case's row, in `CASE_COLUMNS` order."""
        values = list(_CASE_VALUES(case))
        for i in _ENUM_COLUMNS:
            value = values[i]
            if isinstance(value, enum.Enum):
                values[i] = value._value_  # (the value property is slower)
        values[_DECISION] = self._json_in(case.decision)
        values[_EVENT_IDS] = self._ids_in(case.event_ids)
        values[_LIVEMODE] = self._bool_in(case.livemode)
        values.append(self._bool_in(case.customer_initiated))
        return tuple(values)

    def _remember(self, text: str, event: CancellationEvent) -> None:
        decoded = self._decoded
        if len(decoded) >= _DECODED_MAX:
            del decoded[next(iter(decoded))]  # the oldest entry
        decoded[text] = event

    def _decode(self, text: str) -> CancellationEvent:
        """A stored typed event from its JSON text."""
        event = self._decoded.get(text)
        if event is None:
            try:
                event = event_from_json(json.loads(text))
            except (EventPayloadError, ValueError) as exc:
                raise LedgerError(f"a stored event cannot be read: {exc}") from exc
            self._remember(text, event)
        return event

    def _case_from_row(self, row: Sequence[Any]) -> Case:
        data = dict(zip(CASE_COLUMNS, row, strict=True))
        data.pop("customer_initiated")
        data["livemode"] = self._bool_out(data["livemode"])
        data["decision"] = self._json_out(data["decision"])
        data["event_ids"] = tuple(self._json_out(data["event_ids"]))
        for name, kind in _ENUMS.items():
            if data[name] is not None:
                data[name] = kind(data[name])  # Stripe's enums keep unknown values
        return Case(**data)

    def _link_from_row(self, row: Sequence[Any]) -> LinkRecord:
        data = dict(zip(LINK_COLUMNS, row, strict=True))
        data["livemode"] = self._bool_out(data["livemode"])
        data["decision"] = self._json_out(data["decision"])
        return LinkRecord(**data)

    def _refold(self, cur: Cursor, subscription_id: str) -> None:
        links_sql, events_sql, cases_sql = self._refold_reads
        key = (subscription_id,)
        cur.execute(links_sql, key)
        links = [self._link_from_row(self._unpacked(r)) for r in cur.fetchall()]
        cur.execute(events_sql, key)
        events = [self._decode(r[0]) for r in cur.fetchall()]
        cases = fold_cases(links, events)
        # Write only what changed: usually one case row, updated in place.
        cur.execute(cases_sql, key)
        stored: dict[str, Sequence[Any]] = {}
        for packed in cur.fetchall():
            row = self._unpacked(packed)
            stored[row[_CASE_ID]] = row
        for case in cases:
            params = self._case_params(case)
            old = stored.pop(case.id, None)
            if old is None:
                insert, pick = _insert("cancelflow_cases", CASE_COLUMNS, _given(params))
                cur.execute(self._sql(insert), pick(params))
                continue
            now = self._as_read(params)
            if now == old:
                continue
            changed = tuple(compress(_CASE_INDEXES, map(ne, now, old)))
            if changed:
                cur.execute(
                    self._sql(_update_case(changed)),
                    (*(params[i] for i in changed), subscription_id, case.id),
                )
        for case_id in stored:  # cases the events no longer give (a new fold)
            cur.execute(self._sql(_DELETE_CASE), (subscription_id, case_id))

    # -- the Ledger protocol ---------------------------------------------------------

    def _reported(
        self, cur: Cursor, subscriptions: Sequence[str]
    ) -> set[tuple[str, str]]:
        """The redemptions already stored for *subscriptions*."""
        found: set[tuple[str, str]] = set()
        for subscription_id in subscriptions:
            cur.execute(
                self._sql(
                    f"SELECT {self.payload_text} FROM cancelflow_events "  # noqa: S608 - a constant
                    "WHERE subscription_id = ? AND kind = ?"
                ),
                (subscription_id, EventKind.OFFER_REDEEMED.value),
            )
            for (text,) in cur.fetchall():
                event = self._decode(text)
                if isinstance(event, OfferRedeemed):
                    found.add(redemption_key(event))
        return found

    def _record(
        self, events: Sequence[CancellationEvent]
    ) -> list[CancellationEvent] | None:
        """Record; the news among *events*, or `None` if already processed."""
        first = check_batch(events)
        redeemed = sorted(
            {e.subscription_id for e in events if isinstance(e, OfferRedeemed)}
        )
        about = [
            (seq, e)
            for seq, e in enumerate(events)
            if isinstance(e, _AboutSubscription)
        ]
        touched = sorted({e.subscription_id for _, e in about})
        rows = [
            (
                e.event_id,
                seq,
                e.kind._value_,
                e.subscription_id,
                e.created,
                self._event_param(e),
            )
            for seq, e in about
        ]
        try:
            with self._transaction(write=True, lock_keys=touched) as cur:
                cur.execute(
                    self._sql(
                        "INSERT INTO cancelflow_processed_events "
                        "(event_id, event_type, created, livemode) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
                    ),
                    (
                        first.event_id,
                        first.event_type,
                        first.created,
                        self._bool_in(first.livemode),
                    ),
                )
                if cur.rowcount == 0:
                    return None
                # Only a redemption reads more (the subscription's earlier ones).
                news = (
                    without_reported(events, self._reported(cur, redeemed))
                    if redeemed
                    else list(events)
                )
                insert = self._sql(_INSERT_EVENT)
                for row in rows:  # usually one
                    cur.execute(insert, row)
                for subscription_id in touched:
                    self._refold(cur, subscription_id)
        except LedgerError as err:
            if not self._is_permanent(err.__cause__):
                raise  # transient: the host answers 500 and Stripe retries
            raise UnstorableEventError(
                f"event {first.event_id} can never be recorded: the database "
                f"refused its data ({err})",
                event_id=first.event_id,
            ) from None
        except Exception as exc:  # noqa: BLE001 - binding or folding failed
            raise unstorable_error(first.event_id, exc) from None
        return news

    def record_problem(self, problem: LedgerProblem) -> bool:
        """Keep a delivery that can never be recorded; ``False`` if kept already."""
        check_problem(problem)
        with self._transaction(write=True) as cur:
            cur.execute(
                self._sql(_INSERT_PROBLEM),
                tuple(
                    self._blob_in(problem.body)
                    if name == "body"
                    else getattr(problem, name)
                    for name in PROBLEM_COLUMNS
                ),
            )
            return bool(cur.rowcount)

    def _blob_in(self, value: bytes) -> object:
        return value

    def problems(self) -> list[LedgerProblem]:
        """The deliveries kept as problems, oldest first."""
        with self._transaction(write=False) as cur:
            cur.execute(_SELECT_PROBLEMS)
            rows = cur.fetchall()
        problems = []
        for row in rows:
            data: dict[str, Any] = dict(zip(PROBLEM_COLUMNS, row, strict=True))
            data["body"] = bytes(data["body"])
            problems.append(LedgerProblem(**data))
        return problems

    def record_link(self, link: LinkRecord) -> None:
        """Remember a cancel link; a second record of the same session is ignored."""
        check_link(link)
        with self._transaction(write=True, lock_keys=[link.subscription_id]) as cur:
            row = [getattr(link, name) for name in LINK_COLUMNS]
            row[_LINK_DECISION] = self._json_in(link.decision)
            row[_LINK_LIVEMODE] = self._bool_in(link.livemode)
            insert, pick = _insert(
                "cancelflow_links",
                LINK_COLUMNS,
                _given(row),
                " ON CONFLICT (session_id) DO NOTHING",
            )
            cur.execute(self._sql(insert), pick(row))
            if cur.rowcount:
                self._refold(cur, link.subscription_id)

    def is_processed(self, event_id: str) -> bool:
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql(
                    "SELECT 1 FROM cancelflow_processed_events WHERE event_id = ?"
                ),
                (event_id,),
            )
            return cur.fetchone() is not None

    def processed_count(self) -> int:
        with self._transaction(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM cancelflow_processed_events")
            row = cur.fetchone()
        return int(row[0])

    def processed_event_ids(self) -> Iterator[str]:
        """Every remembered event id, sorted (for exports and checks)."""
        with self._transaction(write=False) as cur:
            cur.execute(
                "SELECT event_id FROM cancelflow_processed_events ORDER BY event_id"
            )
            rows = cur.fetchall()
        return (str(r[0]) for r in rows)

    def cases(
        self, *, subscription_id: str | None = None, customer_id: str | None = None
    ) -> list[Case]:
        where: list[str] = []
        params: list[str] = []
        if subscription_id is not None:
            where.append("subscription_id = ?")
            params.append(subscription_id)
        if customer_id is not None:
            where.append("customer_id = ?")
            params.append(customer_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql(f"{_SELECT_CASES}{clause} ORDER BY opened_at, id"),
                tuple(params),
            )
            rows = cur.fetchall()
        return [self._case_from_row(r) for r in rows]

    def links(self, *, subscription_id: str | None = None) -> list[LinkRecord]:
        clause = " WHERE subscription_id = ?" if subscription_id is not None else ""
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql(f"{_SELECT_LINKS}{clause} ORDER BY created, session_id"),
                (subscription_id,) if subscription_id is not None else (),
            )
            rows = cur.fetchall()
        return [self._link_from_row(r) for r in rows]

    def customer_history(self, customer_id: str) -> CustomerHistory:
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql(
                    "SELECT COUNT(*) FROM cancelflow_cases "
                    "WHERE customer_id = ? AND customer_initiated = ?"
                ),
                (customer_id, True),
            )
            (attempts,) = cur.fetchone()
            cur.execute(
                self._sql(
                    "SELECT MAX(redeemed_at) FROM cancelflow_cases WHERE customer_id = ?"
                ),
                (customer_id,),
            )
            (redeemed,) = cur.fetchone()
            cur.execute(
                self._sql(
                    "SELECT MAX(created) FROM cancelflow_links "
                    "WHERE customer_id = ? AND offered_coupon IS NOT NULL"
                ),
                (customer_id,),
            )
            (offered,) = cur.fetchone()
        return CustomerHistory(
            attempts=int(attempts),
            last_offered_at=None if offered is None else int(offered),
            last_redeemed_at=None if redeemed is None else int(redeemed),
        )

    def prune_processed_events(
        self, *, older_than: dt.timedelta, now: float | None = None
    ) -> int:
        """Forget ids of non-cancellation events created before ``now - older_than``.

        The ids of events that shaped a case stay: they are the cases' history.
        """
        limit = cutoff(older_than, now)
        with self._transaction(write=True) as cur:
            cur.execute(
                self._sql(
                    "DELETE FROM cancelflow_processed_events WHERE created < ? "
                    "AND event_id NOT IN (SELECT event_id FROM cancelflow_events)"
                ),
                (limit,),
            )
            return int(cur.rowcount)

"""A synthetic SQLite ledger of many cases, built fast (for bench_report.py).

Not a benchmark itself: ``build(path, cases)`` creates the ledger's schema by
opening a :class:`cancelflow.SQLiteLedger` (so the file has exactly the tables,
columns and indexes of the installed cancelflow, migrations included), then
inserts synthetic case rows with one ``executemany`` in one transaction, in the
table's primary-key order, with ``synchronous=OFF``: about a minute for a
million cases instead of hours through webhooks. The rows are shaped like real
ones (ids of Stripe's length, a decision JSON on linked cases, event ids), so
that a scan reads as many bytes as it would on a real ledger.

Mix (seeded, so every run builds the same file): two years of cases; 40 % come
from a cancel link, a third of those in an experiment with a no-offer holdout;
states ended 47 %, scheduled 10 %, withdrawn 8 %, saved 7 %, opened 25 %
(customers who left the page), involuntary ends 3 %; eight feedback values and
no answer; 6 % comments; EUR, USD and JPY; ten prices of five products.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import cancelflow
from cancelflow._outcomes.ledger_sql import CASE_COLUMNS

START = 1_735_689_600  # 2025-01-01
SPAN = 730 * 86_400
FEEDBACK = [*(m.value for m in cancelflow.CancellationFeedback), None]
FEEDBACK_WEIGHTS = [30, 15, 12, 14, 4, 5, 4, 8, 8]
CURRENCIES = [("eur", 1500), ("usd", 1900), ("jpy", 2000)]
CURRENCY_WEIGHTS = [60, 30, 10]
STATES = ["ended", "scheduled", "withdrawn", "saved", "opened", "involuntary"]
STATE_WEIGHTS = [47, 10, 8, 7, 25, 3]
ARMS = [("control", None), ("twenty", "STAY20"), ("fifty", "STAY50")]


def _decision(sub: str, cus: str, at: int, coupon: str | None, arm: str | None) -> str:
    offer = None if coupon is None else {"coupon": coupon, "label": None}
    return json.dumps(
        {
            "arm": arm,
            "blocked_by": [],
            "bucket": 4821 if arm else None,
            "customer": cus,
            "decided_at": at,
            "experiment": "spring" if arm else None,
            "offer": offer,
            "policy": "retention",
            "proposed": offer,
            "rule": "monthly plans",
            "segment": "monthly",
            "subscription": sub,
            "v": 1,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def rows(count: int, seed: int = 15) -> Iterator[tuple[object, ...]]:
    """*count* case rows in :data:`CASE_COLUMNS` order, sorted by primary key."""
    rng = random.Random(seed)
    for n in range(count):
        sub = f"sub_1Q{n:022d}"
        cus = f"cus_{n % 700_000:014d}"
        opened = START + rng.randrange(SPAN)
        state = rng.choices(STATES, STATE_WEIGHTS)[0]
        linked = state in ("saved", "opened") or rng.random() < 0.3
        currency, amount = rng.choices(CURRENCIES, CURRENCY_WEIGHTS)[0]
        price = rng.randrange(10)
        mrr = amount * (1 + price % 3)
        coupon = arm = experiment = decision = None
        offer_discount = offer_months = None
        if linked:
            if rng.random() < 1 / 3:
                arm, coupon = ARMS[rng.randrange(3)]
                experiment = "spring"
            else:
                coupon = "STAY20"
            if state == "saved" and coupon is None:
                state = "withdrawn"  # a holdout has no offer to redeem
            if coupon is not None:
                offer_discount = mrr // 5 if coupon == "STAY20" else mrr // 2
                offer_months = 1 if coupon == "STAY20" else 3
            decision = _decision(sub, cus, opened, coupon, arm)
        ended = state in ("ended", "involuntary")
        feedback = None
        comment = None
        if state in ("ended", "scheduled", "withdrawn"):
            feedback = rng.choices(FEEDBACK, FEEDBACK_WEIGHTS)[0]
            if rng.random() < 0.06:
                comment = f"Comment number {n}: we moved to another tool."
        event_ids = json.dumps(
            [f"evt_1Q{n:022d}{k}" for k in range(2 if linked else 3)],
            separators=(",", ":"),
        )
        session = f"bps_1Q{n:022d}" if linked else None
        values = {
            "id": f"case_{session or f'evt_1Q{n:022d}0'}",
            "subscription_id": sub,
            "customer_id": cus,
            "livemode": 0,
            "state": "ended" if state == "involuntary" else state,
            "opened_at": opened,
            "updated_at": opened + 3600,
            "link_session_id": session,
            "link_created_at": opened if linked else None,
            "offered_coupon": coupon,
            "arm": arm,
            "decision": decision,
            "experiment": experiment,
            "offer_discount": offer_discount,
            "offer_months": offer_months,
            "scheduled_at": opened + 5 if state != "opened" else None,
            "effective_at": opened + 20 * 86_400 if state != "opened" else None,
            "billing_mode": "classic",
            "feedback": feedback,
            "comment": comment,
            "feedback_option": None,
            "feedback_at": opened + 9 if feedback else None,
            "redeemed_coupon": coupon if state == "saved" else None,
            "redeemed_discount": f"di_1Q{n:020d}" if state == "saved" else None,
            "redeemed_at": opened + 60 if state == "saved" else None,
            "withdrawn_at": opened + 7200 if state == "withdrawn" else None,
            "ended_at": opened + 20 * 86_400 if ended else None,
            "ended_reason": "payment_failed"
            if state == "involuntary"
            else "cancellation_requested"
            if ended
            else None,
            "mrr": mrr,
            "currency": currency,
            "product_id": f"prod_{price // 2:014d}",
            "price_id": f"price_1Q{price:022d}",
            "started_at": opened - rng.randrange(4 * 365 * 86_400),
            "event_ids": event_ids,
            "customer_initiated": 0 if state == "involuntary" else 1,
        }
        yield tuple(values[c] for c in CASE_COLUMNS)


def build(path: Path, count: int) -> None:
    """Create a ledger at *path* holding *count* synthetic cases."""
    cancelflow.SQLiteLedger(path).close()  # the schema, every migration applied
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO cancelflow_cases ({', '.join(CASE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in CASE_COLUMNS)})",
            rows(count),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()

"""JSONL histories: the compact form, Stripe's forms, and errors that name the line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import (
    CustomerSnapshot,
    DiscountRef,
    SubscriptionSnapshot,
    SubscriptionStatus,
    read_history,
)
from cancelflow._backtest.jsonl import (
    _KNOWN,
    _REQUIRED,
    _check_optional,
    _compact,
    _Items,
)
from cancelflow._policy.history import CustomerHistory
from cancelflow.exceptions import HistoryFileError
from recording import customer_json, subscription_json

AT = 1_760_000_000

COMPACT = {
    "id": "sub_1",
    "customer": "cus_1",
    "status": "active",
    "currency": "USD",
    "items": [
        ["price_1", "prod_1", "month", 1, 2, 1500],
        ["price_m", "prod_m", "month", 1, 0, None, "metered"],
    ],
    "at": AT,
    "discounts": ["di_1"],
    "start_date": AT - 100,
    "created": AT - 200,
    "trial_end": None,
    "cancel_at": None,
    "cancel_at_period_end": False,
    "schedule": "sub_sched_1",
    "paused": True,
    "metadata": {"plan": "pro"},
    "country": "fr",
    "customer_metadata": {"vip": "yes"},
    "customer_created": AT - 300,
    "attempts": 2,
    "last_offered_at": AT - 400,
    "last_redeemed_at": None,
    "offered": None,
}


def write(tmp_path, *lines, name="history.jsonl"):
    path = tmp_path / name
    path.write_text(
        "".join(
            (line if isinstance(line, str) else json.dumps(line)) + "\n"
            for line in lines
        ),
        encoding="utf-8",
    )
    return path


def test_compact_line(tmp_path):
    """A compact line gives the subscription, customer, history, time and past offer."""
    (record,) = read_history(write(tmp_path, COMPACT))
    sub = record.subscription
    assert (sub.id, sub.customer, sub.status, sub.currency) == (
        "sub_1",
        "cus_1",
        SubscriptionStatus.ACTIVE,
        "usd",
    )
    assert [
        (i.price_id, i.product_id, i.interval, i.quantity, i.unit_amount, i.usage_type)
        for i in sub.items
    ] == [
        ("price_1", "prod_1", "month", 2, 1500, "licensed"),
        ("price_m", "prod_m", "month", 0, None, "metered"),
    ]
    assert sub.mrr == 3000
    assert sub.discounts == (DiscountRef("di_1"),)
    assert (sub.start_date, sub.created, sub.schedule, sub.paused) == (
        AT - 100,
        AT - 200,
        "sub_sched_1",
        True,
    )
    assert dict(sub.metadata) == {"plan": "pro"}
    customer = record.customer
    assert (
        customer.id,
        customer.country,
        dict(customer.metadata),
        customer.created,
    ) == ("cus_1", "FR", {"vip": "yes"}, AT - 300)
    assert record.history == CustomerHistory(attempts=2, last_offered_at=AT - 400)
    assert record.at == AT
    assert record.offered == ""


def test_minimal_compact_line(tmp_path):
    """Only id, customer, status, currency and items are required; now fills in at."""
    minimal = {k: COMPACT[k] for k in ("id", "customer", "status", "currency", "items")}
    (record,) = read_history(write(tmp_path, minimal), now=AT + 5)
    assert record.customer is None
    assert record.history == CustomerHistory()
    assert record.at == AT + 5
    assert record.offered is None
    assert record.subscription.discounts == ()


def test_a_status_stripe_added_later_is_read_as_unknown(tmp_path):
    """A status this cancelflow does not know is kept as an unknown value, as when
    read from Stripe, and the unknown_status guard sees it."""
    (record,) = read_history(write(tmp_path, {**COMPACT, "status": "suspended"}))
    assert record.subscription.status == "suspended"
    assert not record.subscription.status.known


def test_stripe_subscription_lines(tmp_path):
    """A Stripe subscription object, bare or wrapped, reads through from_stripe."""
    raw = subscription_json()
    customer = customer_json(country="DE")
    wrapped = {
        "subscription": raw,
        "customer": customer,
        "history": {"attempts": 1},
        "at": AT,
        "offered": "TEN",
    }
    bare, full = read_history(write(tmp_path, raw, wrapped), now=AT)
    assert bare.subscription == SubscriptionSnapshot.from_stripe(raw)
    assert (bare.customer, bare.at) == (None, AT)
    assert full.subscription == bare.subscription
    assert full.customer == CustomerSnapshot.from_stripe(customer)
    assert full.history == CustomerHistory(attempts=1)
    assert full.offered == "TEN"


def test_blank_and_indented_lines(tmp_path):
    """Blank lines are skipped and leading blanks before a line's JSON are fine."""
    path = write(tmp_path, "", "   " + json.dumps(COMPACT), "  ", COMPACT)
    assert len(list(read_history(path))) == 2


def test_items_are_shared(tmp_path):
    """Equal items on different lines are one immutable item snapshot."""
    first, second = read_history(write(tmp_path, COMPACT, {**COMPACT, "id": "sub_2"}))
    assert first.subscription.items[0] is second.subscription.items[0]


def test_progress_is_reported(tmp_path):
    """The progress callback gets (read, total) and ends at the file's size."""
    path = write(tmp_path, COMPACT, COMPACT)
    seen = []
    list(read_history(path, progress=lambda done, total: seen.append((done, total))))
    size = path.stat().st_size
    assert seen[-1] == (size, size)


def bad(**over):
    line = dict(COMPACT)
    for key, value in over.items():
        if value is ...:
            del line[key]
        else:
            line[key] = value
    return line


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "Expecting property name"),
        ("[1, 2]", "expected a JSON object per line"),
        (json.dumps(COMPACT) + " {}", "extra data"),
        (bad(id=...), "id: missing"),
        (bad(status=""), 'status: unknown value ""'),
        (bad(status="x\u0000"), 'status: unknown value "x\\u0000"'),
        (bad(status=None), "status: unknown value null"),
        (bad(items={}), "items: expected a list"),
        (bad(customer=""), "must be non-empty strings"),
        (bad(items=[["p", "x", "month", 1, 1]]), "items[0]: expected [price"),
        (bad(items=[["p", "x", "fortnight", 1, 1, 5]]), "items[0]: interval must be"),
        (bad(items=[["p", "x", "month", 0, 1, 5]]), "items[0]: interval_count (≥ 1)"),
        (bad(items=[["p", "x", "month", 1, 1, 5.5]]), "items[0]: unit_amount"),
        (bad(items=[["p", "x", "month", 1, 1, 5, "tiered"]]), "items[0]: usage_type"),
        (bad(items=[["", "x", "month", 1, 1, 5]]), "items[0]: price and product"),
        (bad(items=[{"price": "p"}]), "items[0]: expected a list"),
        (bad(items=[["p", "x", "month", 1, 1, [5]]]), "items[0]: unit_amount"),
        (bad(at="yesterday"), 'at: expected an integer, got "yesterday"'),
        (bad(at=...), "at: missing"),
        (bad(paused="yes"), "paused: expected true or false"),
        (bad(country=3), "country: expected a non-empty string"),
        (bad(metadata={"a": 1}), "metadata: expected an object of strings"),
        (bad(discounts=["di_1", 2]), "discounts: expected a list of discount ids"),
        (bad(offered=""), "offered: expected a coupon id or null"),
        (bad(atempts=1), "atempts: unknown key"),
        ({"object": "subscription", "id": "sub_1"}, "subscription.status: missing"),
        (
            {"subscription": subscription_json(), "history": 3, "at": 1},
            "history: expected an object",
        ),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    """A bad line raises HistoryFileError with the file, the line number and why."""
    path = write(tmp_path, COMPACT, line)
    with pytest.raises(HistoryFileError) as info:
        list(read_history(path))
    assert info.value.line == 2
    assert info.value.source == str(path)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}:2: ")


def test_unreadable_files(tmp_path):
    """A missing file and a file that is not UTF-8 are HistoryFileErrors."""
    with pytest.raises(HistoryFileError, match="cannot open"):
        list(read_history(tmp_path / "nope.jsonl"))
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"id": "caf\xe9"}\n')
    with pytest.raises(HistoryFileError, match="not UTF-8"):
        list(read_history(path))


_OPTIONAL_KEYS = [*sorted(_KNOWN - set(_REQUIRED)), "atempts"]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["", "x", "FR"]),
    st.floats(allow_nan=False, width=16),
    st.lists(st.sampled_from(["di_1", "", 3]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["v", 1, None])),
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(_OPTIONAL_KEYS), _VALUES, max_size=8))
def test_optional_keys_are_checked_as_one_by_one(optional):
    """Compact lines are read, or refused with the same error, as a key-by-key
    check of every optional key says; what is read is the line's values."""
    line = {**{k: COMPACT[k] for k in _REQUIRED}, **optional}
    try:
        _check_optional(line)
    except ValueError as err:
        expected: str | None = str(err)
    else:
        expected = None
    if expected is not None:
        with pytest.raises(ValueError) as info:
            _compact(line, AT, _Items())
        assert str(info.value) == expected
        return
    record = _compact(line, AT, _Items())
    sub = record.subscription
    assert (sub.trial_end, sub.cancel_at, sub.created, sub.start_date) == tuple(
        line.get(k) for k in ("trial_end", "cancel_at", "created", "start_date")
    )
    assert sub.paused is (line.get("paused") is True)
    assert sub.cancel_at_period_end is (line.get("cancel_at_period_end") is True)
    assert [d.id for d in sub.discounts] == (line.get("discounts") or [])
    assert dict(sub.metadata) == (line.get("metadata") or {})
    customer_keys = {"country", "customer_metadata", "customer_created"}
    assert (record.customer is not None) is bool(customer_keys & line.keys())
    assert record.at == (AT if line.get("at") is None else line["at"])
    assert record.offered == ((line["offered"] or "") if "offered" in line else None)
    assert record.history.attempts == (line.get("attempts") or 0)

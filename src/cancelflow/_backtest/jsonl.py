"""Backtest history as a JSONL file: one past cancellation attempt per line.

Three kinds of line are accepted, in any mix (``docs/how-to/retention-offers.md``
documents them):

* the **compact** form, made to be read fast (a million lines in seconds):

  ```text
  {"id": "sub_1", "customer": "cus_1", "status": "active", "currency": "usd",
   "items": [["price_1", "prod_1", "month", 1, 2, 1500]], "at": 1760000000}
  ```

  where each item is ``[price, product, interval, interval_count, quantity,
  unit_amount]`` (plus an optional 7th element, ``"metered"``), and optional
  keys add the rest: ``discounts`` (ids), ``start_date``, ``created``,
  ``trial_end``, ``cancel_at``, ``cancel_at_period_end``, ``schedule``,
  ``paused``, ``metadata``; the customer's ``country``, ``customer_metadata``
  and ``customer_created`` (a line with any of the three, even ``null`` or empty,
  describes a known customer; without them the customer is unknown); the
  history before the attempt: ``attempts``, ``last_offered_at``,
  ``last_redeemed_at``; and ``offered``, the coupon actually offered then
  (``null`` for none);
* a **Stripe subscription** object as the API returns it
  (``"object": "subscription"``);
* a **wrapped** Stripe subscription: ``{"subscription": {...}, "customer":
  {Stripe customer}, "history": {"attempts": …}, "at": …, "offered": …}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Final, final

from cancelflow._backtest.backtest import BacktestRecord
from cancelflow._policy.history import EMPTY_HISTORY, CustomerHistory
from cancelflow._stripe.customer import CustomerSnapshot
from cancelflow._stripe.details import CancellationDetails
from cancelflow._stripe.read import to_member
from cancelflow._stripe.subscription import (
    DiscountRef,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow.exceptions import CancelflowError, HistoryFileError

__all__ = ["read_history", "read_history_range"]

PROGRESS_EVERY: Final = 16_384
"""Lines between two calls of a progress callback."""

_STATUS: Final = {s.value: s for s in SubscriptionStatus}
_NO_DETAILS: Final = CancellationDetails()
_NO_METADATA: Final[Mapping[str, str]] = MappingProxyType({})
_INTERVALS: Final = frozenset({"day", "week", "month", "year", None})
_ITEM_CACHE_LIMIT: Final = 65_536

_record: Final[Callable[[tuple[Any, ...]], BacktestRecord]] = partial(
    tuple.__new__, BacktestRecord
)
"""``BacktestRecord`` from a tuple of its five fields, without a Python call."""


@final
class LineCustomer:
    """The customer facts of a compact history line (a `CustomerFacts`).

    Strictly private: a slotted object, much cheaper to build a million times
    than a full customer snapshot.
    """

    __slots__ = ("country", "created", "id", "metadata")

    def __init__(
        self,
        id: str,  # noqa: A002 - the protocol's name
        country: str | None,
        metadata: Mapping[str, str],
        created: int | None,
    ) -> None:
        self.id = id
        self.country = country
        self.metadata = metadata
        self.created = created

    def __repr__(self) -> str:
        return f"LineCustomer(id={self.id!r}, country={self.country!r})"


def _bad(message: str) -> ValueError:
    return ValueError(message)


def _opt_int(d: Mapping[str, Any], key: str) -> int | None:
    value = d.get(key)
    if value is None or type(value) is int:
        return value
    raise _bad(f"{key}: expected an integer, got {json.dumps(value)}")


@final
class _Items:
    """Builds item snapshots, reusing one per distinct item.

    A history has few distinct items (price × quantity) and many lines, and an
    item snapshot is immutable, so lines share them. The cache is emptied when
    it reaches a bound, so memory stays constant.
    """

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[tuple[Any, ...], SubscriptionItemSnapshot] = {}

    def get(self, raw: object, n: int) -> SubscriptionItemSnapshot:
        if type(raw) is not list:
            raise _bad(f"items[{n}]: expected a list")
        key = tuple(raw)
        try:
            item = self.cache.get(key)
        except TypeError:  # an unhashable element: invalid anyway
            item = None
        if item is None:
            item = _item(raw, n)
            if len(self.cache) >= _ITEM_CACHE_LIMIT:
                self.cache.clear()
            self.cache[key] = item
        return item


def _item(raw: list[Any], n: int) -> SubscriptionItemSnapshot:
    where = f"items[{n}]"
    if not 6 <= len(raw) <= 7:
        raise _bad(
            f"{where}: expected [price, product, interval, interval_count, "
            'quantity, unit_amount] (and optionally "metered")'
        )
    price, product, interval, count, quantity, unit = raw[:6]
    usage = raw[6] if len(raw) == 7 else "licensed"
    if type(price) is not str or type(product) is not str or not price or not product:
        raise _bad(f"{where}: price and product must be non-empty strings")
    if type(interval) not in (str, type(None)) or interval not in _INTERVALS:
        raise _bad(f"{where}: interval must be day, week, month, year or null")
    if type(count) is not int or type(quantity) is not int or count < 1:
        raise _bad(f"{where}: interval_count (≥ 1) and quantity must be integers")
    if unit is not None and type(unit) is not int:
        raise _bad(f"{where}: unit_amount must be an integer or null")
    if usage not in ("licensed", "metered"):
        raise _bad(f"{where}: usage_type must be licensed or metered")
    return SubscriptionItemSnapshot(
        id="",
        price_id=price,
        product_id=product,
        interval=interval,
        interval_count=count,
        quantity=quantity,
        unit_amount=unit,
        usage_type=usage,
    )


def _history(d: Mapping[str, Any]) -> CustomerHistory:
    attempts = _opt_int(d, "attempts")
    offered = _opt_int(d, "last_offered_at")
    redeemed = _opt_int(d, "last_redeemed_at")
    if attempts is None and offered is None and redeemed is None:
        return EMPTY_HISTORY
    return CustomerHistory(
        attempts=attempts or 0, last_offered_at=offered, last_redeemed_at=redeemed
    )


def _at(d: Mapping[str, Any], now: int | None) -> int:
    at = _opt_int(d, "at")
    if at is not None:
        return at
    if now is None:
        raise _bad("at: missing (the time of the attempt, unix seconds)")
    return now


def _offered(d: Mapping[str, Any]) -> str | None:
    if "offered" not in d:
        return None
    value = d["offered"]
    if value is None:
        return ""
    if type(value) is not str or not value:
        raise _bad("offered: expected a coupon id or null")
    return value


_REQUIRED: Final = ("id", "customer", "status", "currency", "items")
_INT_KEYS: Final = frozenset(
    {
        "at",
        "start_date",
        "created",
        "trial_end",
        "cancel_at",
        "customer_created",
        "attempts",
        "last_offered_at",
        "last_redeemed_at",
    }
)
_STR_KEYS: Final = frozenset({"schedule", "country"})
_BOOL_KEYS: Final = frozenset({"cancel_at_period_end", "paused"})
_MAP_KEYS: Final = frozenset({"metadata", "customer_metadata"})
_OTHER_KEYS: Final = frozenset({"discounts", "offered"})
_KNOWN: Final = frozenset(
    {*_REQUIRED, *_INT_KEYS, *_STR_KEYS, *_BOOL_KEYS, *_MAP_KEYS, *_OTHER_KEYS}
)


def _check_optional(d: Mapping[str, Any]) -> None:
    """Check the types of the optional keys a compact line has (only those)."""
    for key, value in d.items():
        if value is None or key in _REQUIRED:
            continue
        if key in _INT_KEYS:
            if type(value) is not int:
                raise _bad(f"{key}: expected an integer, got {json.dumps(value)}")
        elif key in _STR_KEYS:
            if type(value) is not str or not value:
                raise _bad(f"{key}: expected a non-empty string")
        elif key in _BOOL_KEYS:
            if type(value) is not bool:
                raise _bad(f"{key}: expected true or false")
        elif key in _MAP_KEYS:
            if type(value) is not dict or not all(
                type(v) is str for v in value.values()
            ):
                raise _bad(f"{key}: expected an object of strings")
        elif key == "discounts":
            if type(value) is not list or not all(type(x) is str and x for x in value):
                raise _bad("discounts: expected a list of discount ids")
        elif key == "offered":
            if type(value) is not str or not value:
                raise _bad("offered: expected a coupon id or null")
        else:
            hint = ", ".join(sorted(_KNOWN))
            raise _bad(f"{key}: unknown key (known keys: {hint})")


def _unknown_status(raw: str) -> SubscriptionStatus | None:
    """*raw* as an unknown status, or ``None`` when it cannot be read as one."""
    try:
        return to_member(SubscriptionStatus, raw, "status")
    except CancelflowError:
        return None


def _compact(d: dict[str, Any], now: int | None, items: _Items) -> BacktestRecord:
    get = d.get
    sid = get("id")
    customer_id = get("customer")
    currency = get("currency")
    raw_items = get("items")
    raw_status = get("status")
    status = _STATUS.get(raw_status) if type(raw_status) is str else None
    if status is None and type(raw_status) is str:
        # a status Stripe added later: kept as an unknown value, as from Stripe
        status = _unknown_status(raw_status)
    if (
        status is None
        or type(sid) is not str
        or type(customer_id) is not str
        or type(currency) is not str
        or type(raw_items) is not list
        or not sid
        or not customer_id
        or not currency
    ):
        for key in _REQUIRED:
            if key not in d:
                raise _bad(f"{key}: missing")
        if status is None:
            raise _bad(f"status: unknown value {json.dumps(raw_status)}")
        if type(raw_items) is not list:
            raise _bad("items: expected a list")
        raise _bad("id, customer and currency must be non-empty strings")
    at = get("at")
    start_date = get("start_date")
    created = get("created")
    trial_end = get("trial_end")
    cancel_at = get("cancel_at")
    customer_created = get("customer_created")
    attempts = get("attempts")
    offered_at = get("last_offered_at")
    redeemed_at = get("last_redeemed_at")
    country = get("country")
    schedule = get("schedule")
    period_end = get("cancel_at_period_end")
    paused = get("paused")
    discounts = get("discounts")
    metadata = get("metadata")
    customer_metadata = get("customer_metadata")
    offered = get("offered")
    # The optional keys' types, checked inline on the values read above (a
    # line has a dozen keys; looping over them costs a tenth of reading it).
    # Any doubt goes to _check_optional, which raises the precise error.
    if len(d) > 5 and not (
        d.keys() <= _KNOWN
        and (at is None or type(at) is int)
        and (start_date is None or type(start_date) is int)
        and (created is None or type(created) is int)
        and (trial_end is None or type(trial_end) is int)
        and (cancel_at is None or type(cancel_at) is int)
        and (customer_created is None or type(customer_created) is int)
        and (attempts is None or type(attempts) is int)
        and (offered_at is None or type(offered_at) is int)
        and (redeemed_at is None or type(redeemed_at) is int)
        and (country is None or (type(country) is str and country != ""))
        and (schedule is None or (type(schedule) is str and schedule != ""))
        and (period_end is None or type(period_end) is bool)
        and (paused is None or type(paused) is bool)
        and (offered is None or (type(offered) is str and offered != ""))
        and (discounts is None or _is_ids(discounts))
        and (metadata is None or _is_strings(metadata))
        and (customer_metadata is None or _is_strings(customer_metadata))
    ):
        _check_optional(d)
    subscription = SubscriptionSnapshot(
        id=sid,
        customer=customer_id,
        status=status,
        currency=currency if currency.islower() else currency.lower(),
        items=tuple([items.get(raw, n) for n, raw in enumerate(raw_items)]),
        discounts=tuple([DiscountRef(x) for x in discounts]) if discounts else (),
        cancel_at=cancel_at,
        cancel_at_period_end=period_end is True,
        cancellation_details=_NO_DETAILS,
        trial_end=trial_end,
        schedule=schedule,
        paused=paused is True or status is SubscriptionStatus.PAUSED,
        created=created,
        start_date=start_date,
        metadata=metadata or _NO_METADATA,
    )
    customer = (
        None
        # the customer is known when the line has any of its keys, even empty
        if country is None
        and customer_metadata is None
        and customer_created is None
        and "country" not in d
        and "customer_metadata" not in d
        and "customer_created" not in d
        else LineCustomer(
            customer_id,
            country.upper() if country else None,
            MappingProxyType(customer_metadata) if customer_metadata else _NO_METADATA,
            customer_created,
        )
    )
    history = (
        EMPTY_HISTORY
        if attempts is None and offered_at is None and redeemed_at is None
        else CustomerHistory(
            attempts=attempts or 0,
            last_offered_at=offered_at,
            last_redeemed_at=redeemed_at,
        )
    )
    if at is None:
        if now is None:
            raise _bad("at: missing (the time of the attempt, unix seconds)")
        at = now
    if offered is not None or "offered" in d:
        return _record((subscription, customer, history, at, offered or ""))
    return _record((subscription, customer, history, at, None))


def _is_ids(value: object) -> bool:
    return type(value) is list and all(type(x) is str and x for x in value)


def _is_strings(value: object) -> bool:
    return type(value) is dict and all(type(v) is str for v in value.values())


def _stripe_line(d: Mapping[str, Any], now: int | None) -> BacktestRecord:
    """A bare Stripe subscription object, or ``{"subscription": {...}, ...}``."""
    if "object" in d:
        subscription = SubscriptionSnapshot.from_stripe(d)
        return BacktestRecord(subscription, None, EMPTY_HISTORY, _at(d, now))
    subscription = SubscriptionSnapshot.from_stripe(d["subscription"])
    raw_customer = d.get("customer")
    customer = (
        None if raw_customer is None else CustomerSnapshot.from_stripe(raw_customer)
    )
    history = d.get("history")
    if history is not None and type(history) is not dict:
        raise _bad("history: expected an object")
    return BacktestRecord(
        subscription,
        customer,
        EMPTY_HISTORY if history is None else _history(history),
        _at(d, now),
        _offered(d),
    )


def read_history(
    path: str | PathLike[str],
    *,
    now: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[BacktestRecord]:
    """Stream the records of a JSONL history file, one line at a time.

    Memory stays constant whatever the file's size. Blank lines are skipped.

    Args:
        path: the JSONL file (UTF-8).
        now: the decision time of lines that carry no ``at``.
        progress: called with (bytes read, file size) every few thousand
            lines, and once at the end.

    Raises:
        HistoryFileError: the file cannot be read, or a line is not a history
            record; the message names the file, the line and the problem.

    Returns:
        An iterator of [`BacktestRecord`][cancelflow.BacktestRecord]s, in file order.

    Example:
        ```python
        from pathlib import Path

        import cancelflow

        Path("history.jsonl").write_text(
            '{"id": "sub_1", "customer": "cus_1", "status": "active", "currency": "eur", '
            '"items": [["price_pro", "prod_pro", "month", 1, 1, 2900]], "at": 1767225600}\\n'
        )
        (record,) = cancelflow.read_history("history.jsonl")
        assert record.subscription.mrr == 2900
        ```
    """
    return read_history_range(path, now=now, progress=progress)


def read_history_range(
    path: str | PathLike[str],
    *,
    now: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    start: int = 0,
    end: int | None = None,
) -> Iterator[BacktestRecord]:
    """`read_history` for the lines that *start* in bytes ``[start, end)``.

    Splitting a file at any byte offsets gives every line to exactly one
    range, so ranges can be read by parallel workers.
    """
    source = str(path)
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed below
        total = Path(path).stat().st_size
    except OSError as err:
        raise HistoryFileError(
            f"cannot open: {err.strerror}", source=source, line=0
        ) from None
    return _records(
        handle,
        source,
        now=now,
        progress=progress,
        start=start,
        end=total if end is None else end,
    )


def _records(
    handle: BinaryIO,
    source: str,
    *,
    now: int | None,
    progress: Callable[[int, int], None] | None,
    start: int,
    end: int,
) -> Iterator[BacktestRecord]:
    # The decoder's scanner itself: JSONDecoder.raw_decode is a Python-level
    # wrapper around it, one more call per line.
    scan: Callable[[str, int], tuple[Any, int]]
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
    items = _Items()
    position = start
    count = 0
    with handle:
        if start > 0:
            # The line that ends at or after start - 1 belongs to the range
            # before; a line starts right after its newline.
            handle.seek(start - 1)
            position = start - 1 + len(handle.readline())
        for raw in handle:
            line_start = position
            if line_start >= end:
                break
            position += len(raw)
            count += 1
            try:
                line = raw.decode()
                if line[:1] != "{":
                    line = line.lstrip()  # leading blanks are valid JSON
                try:
                    d, stop = scan(line, 0)
                except StopIteration as err:
                    raise json.JSONDecodeError(
                        "Expecting value", line, err.value
                    ) from None
                if stop != len(line) and not line[stop:].isspace():
                    raise _bad("extra data after the JSON object")
                if type(d) is not dict:
                    raise _bad("expected a JSON object per line")
                if "object" in d or "subscription" in d:
                    record = _stripe_line(d, now)
                else:
                    record = _compact(d, now, items)
            except UnicodeDecodeError as err:
                raise HistoryFileError(
                    f"not UTF-8 ({err.reason})",
                    source=source,
                    line=_line_number(handle, line_start),
                ) from None
            except (ValueError, TypeError, KeyError, CancelflowError) as err:
                if not raw.strip():
                    continue  # a blank line
                raise HistoryFileError(
                    str(err), source=source, line=_line_number(handle, line_start)
                ) from None
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(position, end)
            yield record
    if progress is not None:
        progress(max(end, start), end)


def _line_number(handle: BinaryIO, offset: int) -> int:
    """The 1-based number of the line that starts at byte *offset*."""
    handle.seek(0)
    newlines = 0
    remaining = offset
    while remaining > 0:
        chunk = handle.read(min(remaining, 1 << 20))
        if not chunk:
            break
        newlines += chunk.count(b"\n")
        remaining -= len(chunk)
    return newlines + 1

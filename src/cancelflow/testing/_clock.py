"""The fake's clock, and Stripe's calendar arithmetic for billing periods."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Final

from cancelflow.exceptions import FakeStripeError

__all__ = ["DEFAULT_START", "FakeClock", "add_interval"]

DEFAULT_START: Final = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""Where every `FakeClock` starts unless told otherwise."""

AdvanceHook = Callable[[int], None]


class FakeClock:
    """The time inside one `FakeStripe`, in unix seconds.

    It starts at a fixed instant (``2026-01-01T00:00:00Z`` unless you choose
    another) and only moves when you move it: every ``created``, ``canceled_at``
    and period boundary the fake writes comes from here, so tests are
    reproducible.

    Moving time forward runs what time drives inside the fake (renewals,
    scheduled cancellations ending, trials ending, discounts expiring). Those
    effects register as *advance hooks*: ``advance_to(when)`` calls each hook,
    in registration order, with the target time; a hook may step the clock
    forward itself with `_move_to` (never past the target, never back)
    so that what it does happens at the right instant, and the clock is at the
    target when ``advance_to`` returns.

    Args:
        start: the first instant: an aware `datetime` or unix seconds.
    """

    __slots__ = ("_hooks", "_now", "_start")

    def __init__(self, start: dt.datetime | int | None = None) -> None:
        if start is None:
            start = DEFAULT_START
        self._start = _to_unix(start)
        self._now = self._start
        self._hooks: list[AdvanceHook] = []

    def __repr__(self) -> str:
        return f"FakeClock({self.now_datetime().isoformat()})"

    @property
    def start(self) -> int:
        """Where this clock started (unix seconds)."""
        return self._start

    def now(self) -> int:
        """The fake's current time, in unix seconds (what Stripe's ``created`` holds).

        Returns:
            The time, unix seconds.
        """
        return self._now

    def now_datetime(self) -> dt.datetime:
        """The fake's current time as an aware UTC ``datetime``.

        Returns:
            The time, an aware UTC `datetime`.
        """
        return dt.datetime.fromtimestamp(self._now, tz=dt.UTC)

    def advance(self, delta: dt.timedelta | int) -> int:
        """Move time forward, running what time drives on the way.

        Args:
            delta: how far: a `timedelta` or seconds (not negative).

        Returns:
            The new time, unix seconds.

        Raises:
            FakeStripeError: `delta` is negative (time never goes back).
        """
        seconds = (
            int(delta.total_seconds()) if isinstance(delta, dt.timedelta) else delta
        )
        if seconds < 0:
            raise FakeStripeError(
                "the fake clock only moves forward; got a negative delta"
            )
        return self.advance_to(self._now + seconds)

    def advance_to(self, when: dt.datetime | int) -> int:
        """Move time forward to *when*, running what time drives on the way.

        Args:
            when: the target: an aware `datetime` or unix seconds (not in the past).

        Returns:
            The new time, unix seconds.

        Raises:
            FakeStripeError: `when` is in the past (time never goes back).
        """
        target = _to_unix(when)
        if target < self._now:
            raise FakeStripeError(
                f"the fake clock only moves forward: it is at {self._now}, "
                f"asked to go back to {target}"
            )
        for hook in tuple(self._hooks):
            hook(target)
        self._move_to(target)
        return self._now

    def add_advance_hook(self, hook: AdvanceHook) -> None:
        """Run a hook whenever time is advanced (see the class docstring).

        Args:
            hook: called with the target time (unix seconds) whenever time is advanced.
        """
        self._hooks.append(hook)

    def _move_to(self, when: int) -> None:
        """Set the time (forward only); for advance hooks stepping through due work."""
        if when < self._now:
            raise FakeStripeError("the fake clock only moves forward")
        self._now = when

    def _reset(self) -> None:
        """Back to the start, without hooks (they belong to the account being reset)."""
        self._now = self._start
        self._hooks.clear()


def _to_unix(when: dt.datetime | int) -> int:
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise FakeStripeError(
                "give the fake clock an aware datetime (tzinfo=datetime.UTC), "
                "not a naive one"
            )
        return int(when.timestamp())
    if isinstance(when, bool) or not isinstance(when, int):
        raise FakeStripeError(
            f"expected a datetime or unix seconds, got {type(when).__name__}"
        )
    return when


_SECONDS: Final = {"day": 86_400, "week": 7 * 86_400}


def add_interval(anchor: int, interval: str, count: int) -> int:
    """*anchor* plus *count* billing intervals, the way Stripe's calendar does it.

    Days and weeks are exact. Months and years keep the anchor's day of month
    and time of day, clamped to the last day of shorter months (Jan 31 + 1 month
    = Feb 28 or 29), like Stripe's billing cycle anchors. To compute the k-th
    period end without drift, always add from the original anchor
    (``add_interval(anchor, "month", k)``), never from the previous end.
    """
    if interval in _SECONDS:
        return anchor + _SECONDS[interval] * count
    months = count * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown interval {interval!r}")
    start = dt.datetime.fromtimestamp(anchor, tz=dt.UTC)
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())

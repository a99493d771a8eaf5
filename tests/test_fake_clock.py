"""The fake clock and Stripe's calendar arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import FakeClock
from cancelflow.testing._clock import DEFAULT_START, add_interval


def test_starts_at_a_fixed_instant():
    """Without a start, the clock reads 2026-01-01T00:00:00Z; a start can be chosen."""
    assert FakeClock().now_datetime() == DEFAULT_START
    chosen = dt.datetime(2030, 5, 17, 12, tzinfo=dt.UTC)
    assert FakeClock(chosen).now() == int(chosen.timestamp())
    assert FakeClock(42).now() == 42
    assert repr(FakeClock(0)) == "FakeClock(1970-01-01T00:00:00+00:00)"


def test_advance_and_hooks():
    """advance moves forward and runs hooks with the target; hooks may step the clock."""
    clock = FakeClock(1000)
    seen = []

    def hook(target):
        seen.append((clock.now(), target))
        clock._move_to(target - 5)

    clock.add_advance_hook(hook)
    assert clock.advance(dt.timedelta(seconds=100)) == 1100
    assert seen == [(1000, 1100)]
    assert clock.advance_to(dt.datetime.fromtimestamp(1200, tz=dt.UTC)) == 1200


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.advance(-1), "forward"),
        (lambda c: c.advance_to(0), "forward"),
        (lambda c: c.advance_to(dt.datetime(2030, 1, 1)), "aware"),
        (lambda c: c.advance_to("tomorrow"), "datetime or unix"),
        (lambda c: c._move_to(0), "forward"),
    ],
)
def test_refusals(call, message):
    """Time never goes back; naive datetimes and other types are refused."""
    with pytest.raises(FakeStripeError, match=message):
        call(FakeClock(1000))


def test_add_interval_examples():
    """Days and weeks are exact; months keep the anchor day, clamped to short months."""
    jan_31 = int(dt.datetime(2026, 1, 31, 9, 30, tzinfo=dt.UTC).timestamp())
    assert add_interval(jan_31, "day", 1) == jan_31 + 86_400
    assert add_interval(jan_31, "week", 2) == jan_31 + 14 * 86_400
    assert add_interval(jan_31, "month", 1) == int(
        dt.datetime(2026, 2, 28, 9, 30, tzinfo=dt.UTC).timestamp()
    )
    assert add_interval(jan_31, "month", 2) == int(
        dt.datetime(2026, 3, 31, 9, 30, tzinfo=dt.UTC).timestamp()
    )
    leap = int(dt.datetime(2028, 2, 29, tzinfo=dt.UTC).timestamp())
    assert add_interval(leap, "year", 1) == int(
        dt.datetime(2029, 2, 28, tzinfo=dt.UTC).timestamp()
    )
    with pytest.raises(ValueError, match="unknown interval"):
        add_interval(0, "fortnight", 1)


@settings(max_examples=200)
@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2090, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    st.integers(1, 48),
)
def test_months_keep_the_anchor_day(anchor, months):
    """Adding months lands on the anchor's day (or the month's last day), same time of day."""
    anchor = anchor.replace(microsecond=0)
    result = dt.datetime.fromtimestamp(
        add_interval(int(anchor.timestamp()), "month", months), tz=dt.UTC
    )
    total = anchor.month - 1 + months
    assert (result.year, result.month) == (anchor.year + total // 12, total % 12 + 1)
    assert result.day == min(
        anchor.day, calendar.monthrange(result.year, result.month)[1]
    )
    assert result.time() == anchor.time()
    assert result > anchor

"""CouponCache: coupon facts kept for a bounded time and a bounded number."""

from __future__ import annotations

import pytest

from cancelflow import Coupon, CouponCache, CouponDuration
from cancelflow.exceptions import (
    InvalidParameterError,
    StripeConnectionError,
    StripeResourceMissingError,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Fetcher:
    def __init__(self, missing=(), error=None) -> None:
        self.calls: list[str] = []
        self.missing = set(missing)
        self.error = error

    def __call__(self, coupon_id: str) -> Coupon:
        self.calls.append(coupon_id)
        if self.error is not None:
            raise self.error
        if coupon_id in self.missing:
            raise StripeResourceMissingError(f"No such coupon: '{coupon_id}'")
        return Coupon(id=coupon_id, duration=CouponDuration.ONCE, percent_off=10.0)


def test_hits_within_ttl_and_refetches_after():
    """A coupon is fetched once per ttl, then fetched again."""
    clock, fetch = Clock(), Fetcher()
    cache = CouponCache(fetch, ttl=60, clock=clock)
    assert cache.get_coupon("TEN").id == "TEN"
    clock.now += 59
    cache.get_coupon("TEN")
    assert fetch.calls == ["TEN"]
    clock.now += 1
    cache.get_coupon("TEN")
    assert fetch.calls == ["TEN", "TEN"]


def test_missing_coupons_are_cached_as_none():
    """A coupon that does not exist is remembered as None for the ttl."""
    fetch = Fetcher(missing={"GONE"})
    cache = CouponCache(fetch, clock=Clock())
    assert cache.get_coupon("GONE") is None
    assert cache.get_coupon("GONE") is None
    assert fetch.calls == ["GONE"]


def test_other_errors_propagate_and_are_not_cached():
    """A Stripe outage is raised to the caller, and nothing is remembered."""
    fetch = Fetcher(error=StripeConnectionError("down"))
    cache = CouponCache(fetch, clock=Clock())
    with pytest.raises(StripeConnectionError):
        cache.get_coupon("TEN")
    assert len(cache) == 0


def test_size_is_bounded_oldest_fetched_out():
    """Beyond max_entries, the oldest fetched coupon is forgotten first."""
    fetch = Fetcher()
    cache = CouponCache(fetch, max_entries=2, clock=Clock())
    cache.prefetch(["A", "B", "C"])
    assert len(cache) == 2
    cache.get_coupon("B")
    cache.get_coupon("C")
    cache.get_coupon("A")
    assert fetch.calls == ["A", "B", "C", "A"]


def test_put_and_invalidate():
    """put() stores fresh facts; invalidate() forgets one or all."""
    fetch, clock = Fetcher(), Clock()
    cache = CouponCache(fetch, clock=clock)
    cache.put(Coupon(id="X", duration=CouponDuration.FOREVER, percent_off=5.0))
    assert cache.get_coupon("X").percent_off == 5.0
    cache.invalidate("X")
    assert cache.get_coupon("X").percent_off == 10.0
    cache.invalidate()
    assert len(cache) == 0
    assert fetch.calls == ["X"]
    assert "ttl=300.0" in repr(cache)


def test_from_gateway_uses_retrieve_coupon():
    """from_gateway puts the cache in front of gateway.retrieve_coupon."""

    class Gateway:
        def __init__(self) -> None:
            self.retrieve_coupon = Fetcher()

    gateway = Gateway()
    cache = CouponCache.from_gateway(gateway, ttl=5, clock=Clock())
    cache.get_coupon("A")
    cache.get_coupon("A")
    assert gateway.retrieve_coupon.calls == ["A"]
    assert cache.ttl == 5


def test_bad_settings():
    """A negative ttl or a max_entries below 1 is refused."""
    with pytest.raises(InvalidParameterError, match="ttl"):
        CouponCache(Fetcher(), ttl=-1)
    with pytest.raises(InvalidParameterError, match="max_entries"):
        CouponCache(Fetcher(), max_entries=0)

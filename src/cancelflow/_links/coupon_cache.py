"""Coupon facts fetched from Stripe once, then kept for a bounded time.

A policy checks the coupon it offers (valid, not used up, right currency ...)
on every decision; asking Stripe each time would add a round trip to every
cancel link. `CouponCache` remembers each coupon (and each "no such
coupon") for *ttl* seconds and at most *max_entries* coupons, least recently
fetched first out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final, Protocol, final

from cancelflow._stripe.coupon import Coupon
from cancelflow.exceptions import InvalidParameterError, StripeResourceMissingError

__all__ = ["CouponCache", "CouponFetcher"]

_MISSING: Final = object()


class CouponFetcher(Protocol):
    """A gateway that can retrieve a coupon by id.

    Raises `StripeResourceMissingError` when
    there is none (or returns ``None``).
    """

    def retrieve_coupon(self, coupon_id: str) -> Coupon | None: ...


@final
class CouponCache:
    """A thread-safe, size- and time-bounded cache of coupon facts.

    It is a `CouponSource`: pass it as ``coupons=`` to
    `RetentionPolicy.decide`.

    Args:
        fetch: ``coupon_id -> Coupon | None``; may raise
            `StripeResourceMissingError` for a
            coupon that does not exist (cached as missing). Other errors
            propagate and nothing is cached.
        ttl: how long an answer is kept, in seconds (default 5 minutes): a
            coupon used up or deleted in the meantime is noticed after at most
            this long.
        max_entries: how many coupons are kept at most.
        clock: a monotonic clock in seconds (for tests).

    Raises:
        InvalidParameterError: `ttl` is negative or `max_entries` below 1.
    """

    __slots__ = ("_clock", "_entries", "_fetch", "_lock", "max_entries", "ttl")

    def __init__(
        self,
        fetch: Callable[[str], Coupon | None],
        *,
        ttl: float = 300.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0:
            raise InvalidParameterError("ttl", "must be ≥ 0 seconds")
        if max_entries < 1:
            raise InvalidParameterError("max_entries", "must be ≥ 1")
        self._fetch = fetch
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Coupon | None]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_gateway(
        cls,
        gateway: CouponFetcher,
        *,
        ttl: float = 300.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> CouponCache:
        """Build a cache in front of a gateway's `retrieve_coupon`.

        Args:
            gateway: a [`StripeGateway`][cancelflow.StripeGateway] (or anything
                with `retrieve_coupon(id)`).
            ttl: how long facts stay fresh, in seconds.
            max_entries: how many coupons are kept at most.
            clock: returns the time in seconds (monotonic).

        Returns:
            The cache.
        """
        return cls(
            gateway.retrieve_coupon, ttl=ttl, max_entries=max_entries, clock=clock
        )

    def __repr__(self) -> str:
        return (
            f"CouponCache(ttl={self.ttl!r}, max_entries={self.max_entries!r}, "
            f"cached={len(self._entries)})"
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get_coupon(self, coupon_id: str) -> Coupon | None:
        """Return a coupon's facts, from the cache while fresh, else fetched.

        Args:
            coupon_id: the coupon's id.

        Returns:
            The [`Coupon`][cancelflow.Coupon], or `None` if it does not exist
            (that answer is cached too).
        """
        now = self._clock()
        # Reads take no lock: one dict lookup is atomic, and an entry is
        # replaced whole, never changed in place.
        entry = self._entries.get(coupon_id)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        try:
            coupon = self._fetch(coupon_id)
        except StripeResourceMissingError:
            coupon = None
        self._store(coupon_id, now, coupon)
        return coupon

    def _store(self, coupon_id: str, now: float, coupon: Coupon | None) -> None:
        with self._lock:
            self._entries[coupon_id] = (now, coupon)
            self._entries.move_to_end(coupon_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def cached(self, coupon_id: str) -> tuple[bool, Coupon | None]:
        """Look a coupon up in the cache only; never fetch.

        With `remember`, this lets async code fetch with its own client.

        Args:
            coupon_id: the coupon's id.

        Returns:
            `(True, facts)` when fresh facts are cached (`None` facts: the
            coupon does not exist), else `(False, None)`.
        """
        entry = self._entries.get(coupon_id)
        if entry is not None and self._clock() - entry[0] < self.ttl:
            return True, entry[1]
        return False, None

    def remember(self, coupon_id: str, coupon: Coupon | None) -> None:
        """Cache a coupon's facts as fetched now.

        Args:
            coupon_id: the coupon's id.
            coupon: its facts, or `None` when it does not exist.
        """
        self._store(coupon_id, self._clock(), coupon)

    def prefetch(self, coupon_ids: Iterable[str]) -> None:
        """Fetch these coupons now, for example `policy.coupon_ids` at start-up.

        Args:
            coupon_ids: the ids to fetch.
        """
        for coupon_id in coupon_ids:
            self.get_coupon(coupon_id)

    def put(self, coupon: Coupon) -> None:
        """Remember a coupon as fresh now, for example from a `coupon.updated` webhook.

        Args:
            coupon: its facts.
        """
        self._store(coupon.id, self._clock(), coupon)

    def invalidate(self, coupon_id: str | None = None) -> None:
        """Forget one coupon, or every coupon.

        Args:
            coupon_id: the coupon to forget; `None` forgets them all.
        """
        with self._lock:
            if coupon_id is None:
                self._entries.clear()
            else:
                self._entries.pop(coupon_id, None)

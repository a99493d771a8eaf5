"""Latency: a delay the fake adds to requests, as a network and Stripe would.

``fake.set_latency(0.05)`` makes every request through the fake's HTTP client
wait 50 ms (``time.sleep`` for sync calls, ``await asyncio.sleep`` for
``*_async`` calls, so concurrent async requests overlap as they would over a
network); ``routes={"billing_portal.sessions.create": 0.3}`` sets the delay of
single operations. The delay is spent before the request reaches the account
and outside its lock, and it does not move the fake clock: time inside the
account stays where the test put it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from cancelflow.exceptions import FakeStripeError

__all__ = ["NO_LATENCY", "Latency", "latency_of"]


def _frozen_routes(value: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Latency:
    """The delay a [`FakeStripe`][cancelflow.testing.FakeStripe] adds to each request.

    Set it with
    [`FakeStripe.set_latency`][cancelflow.testing.FakeStripe.set_latency]; read it
    from `fake.latency`.

    Attributes:
        default: seconds added to every request whose operation has no
            delay of its own (``0.0``: none).
        routes: seconds per operation, by the operation names fault
            injection uses (``"subscriptions.retrieve"``,
            ``"billing_portal.sessions.create"``).

    Example:
        ```python
        from cancelflow.testing import FakeStripe

        fake = FakeStripe()
        fake.set_latency(0.01, routes={"billing_portal.sessions.create": 0.05})
        assert fake.latency.for_operation("customers.create") == 0.01
        assert fake.latency.for_operation("billing_portal.sessions.create") == 0.05
        ```
    """

    default: float = 0.0
    routes: Mapping[str, float] = attrs.field(
        factory=dict, converter=_frozen_routes, hash=False
    )

    @property
    def active(self) -> bool:
        """Whether any request is delayed at all."""
        return self.default > 0 or any(self.routes.values())

    def for_operation(self, operation: str | None) -> float:
        """The delay, in seconds, of one request to *operation* (``None``: unrouted).

        Args:
            operation: an operation name such as ``"subscriptions.retrieve"``.

        Returns:
            The operation's own delay if it has one, the default otherwise.
        """
        if operation is not None and operation in self.routes:
            return self.routes[operation]
        return self.default


NO_LATENCY: Final = Latency()


def latency_of(
    seconds: float | dt.timedelta, routes: Mapping[str, float | dt.timedelta] | None
) -> Latency:
    """A checked `Latency` from `FakeStripe.set_latency`'s arguments."""
    from cancelflow.testing._faults import check_operation

    default = _seconds(seconds, "seconds")
    checked: dict[str, float] = {}
    if routes is not None:
        if not isinstance(routes, Mapping):
            raise FakeStripeError(
                "routes maps operation names to delays, e.g. "
                '{"billing_portal.sessions.create": 0.2}; got '
                f"{type(routes).__name__}"
            )
        for operation, value in routes.items():
            name: object = operation  # untyped callers may pass anything
            if not isinstance(name, str) or operation == "*":
                raise FakeStripeError(
                    f"routes keys are operation names such as 'subscriptions.retrieve'; "
                    f"got {operation!r} (use seconds= for every request)"
                )
            check_operation(operation)
            checked[operation] = _seconds(value, f"routes[{operation!r}]")
    return Latency(default=default, routes=checked)


def _seconds(value: object, name: str) -> float:
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FakeStripeError(
            f"{name} is a delay in seconds (a number or a timedelta); "
            f"got {type(value).__name__}"
        )
    if not math.isfinite(value) or value < 0:
        raise FakeStripeError(
            f"{name} is a delay in seconds, finite and ≥ 0; got {value!r}"
        )
    return float(value)

"""Who hears of a webhook handler that raised unexpectedly (the pytest plugin).

A FakeStripe records a handler's exception as a failed delivery, as Stripe
would. While something watches (cancelflow's pytest plugin watches every test
that does not say it expects failures), each such failure is also handed to the
watcher, so that the test that caused it fails. This module imports nothing:
the plugin loads it for every test.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["HandlerFailure", "report", "watching"]


class HandlerFailure:
    """A webhook handler raised while the fake delivered an event to it.

    Attributes:
        event_id: the event delivered (``evt_…``).
        event_type: its type.
        endpoint: the endpoint's position in ``fake.webhook_endpoints``.
        attempt: 1 for the first delivery, 2 for the first retry, …
        exception: what the handler raised (with its traceback).
    """

    __slots__ = ("attempt", "endpoint", "event_id", "event_type", "exception")

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        endpoint: int,
        attempt: int,
        exception: BaseException,
    ) -> None:
        self.event_id = event_id
        self.event_type = event_type
        self.endpoint = endpoint
        self.attempt = attempt
        self.exception = exception

    def __repr__(self) -> str:
        return (
            f"HandlerFailure({self.event_id}, {self.event_type}, "
            f"{type(self.exception).__name__})"
        )

    def describe(self) -> str:
        """The event, the endpoint and the handler's traceback, for a report."""
        import traceback

        where = f"webhook endpoint {self.endpoint}"
        retry = f", delivery attempt {self.attempt}" if self.attempt > 1 else ""
        trace = "".join(traceback.format_exception(self.exception)).rstrip()
        return (
            f"the handler of {where} raised on {self.event_id} "
            f"({self.event_type}{retry}):\n{trace}"
        )


_lock = threading.Lock()
_watchers: list[Callable[[HandlerFailure], None]] = []


def report(failure: HandlerFailure) -> bool:
    """Hand *failure* to every watcher; whether anyone was watching."""
    with _lock:
        watchers = list(_watchers)
    for watcher in watchers:
        watcher(failure)
    return bool(watchers)


class watching:  # noqa: N801 - used as a context manager, like a function
    """``with watching(callback):`` — *callback* hears of every unexpected
    handler failure until the block ends."""

    __slots__ = ("_callback",)

    def __init__(self, callback: Callable[[HandlerFailure], None]) -> None:
        self._callback = callback

    def __enter__(self) -> None:
        with _lock:
            _watchers.append(self._callback)

    def __exit__(self, *exc_info: object) -> None:
        with _lock:
            _watchers.remove(self._callback)

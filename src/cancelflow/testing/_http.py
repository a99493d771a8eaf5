"""The ``stripe.HTTPClient`` that stripe-python talks to instead of the network.

This module imports stripe (its class derives from ``stripe.HTTPClient``);
``cancelflow.testing`` imports it only when a FakeStripe first needs it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import stripe

from cancelflow.testing._headers import Headers

__all__ = ["FakeHTTPClient"]

Dispatch = Callable[
    [str, str, Mapping[str, str] | None, str | None], tuple[str, int, Headers]
]
Delay = Callable[[str, str], float]
"""``delay(method, url)``: the seconds to wait before the request reaches the account."""


def _no_delay(method: str, url: str) -> float:  # noqa: ARG001 - the Delay shape
    return 0.0


_sleep = time.sleep
_sleep_async = asyncio.sleep


class FakeHTTPClient(stripe.HTTPClient):
    """Answers stripe-python's requests from a FakeStripe, in process, sync and async.

    Pass it as ``stripe.StripeClient(key, http_client=...)`` or set it as
    ``stripe.default_http_client``; ``FakeStripe.client()`` and
    ``FakeStripe.install()`` do that for you.
    """

    name = "cancelflow-fake"

    def __init__(self, dispatch: Dispatch, delay: Delay = _no_delay) -> None:
        super().__init__()
        self._dispatch = dispatch
        self._delay = delay

    def __repr__(self) -> str:
        return "<cancelflow FakeHTTPClient>"

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        seconds = self._delay(method, url)
        if seconds:
            _sleep(seconds)
        return self._dispatch(method, url, headers, post_data)

    async def request_async(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        seconds = self._delay(method, url)
        if seconds:
            await _sleep_async(seconds)
        return self._dispatch(method, url, headers, post_data)

    async def sleep_async(self, secs: float) -> None:
        await asyncio.sleep(secs)

    def _sleep_time_seconds(self, num_retries: int) -> float:  # noqa: ARG002
        """No back-off between stripe-python's retries: there is no network to spare."""
        return 0.0

    def close(self) -> None:
        """Nothing to close: no sockets."""

    async def close_async(self) -> None:
        """Nothing to close: no sockets."""

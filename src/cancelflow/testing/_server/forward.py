"""Webhook forwarding: the fake's events POSTed, signed, to URLs, with retries (strictly private).

The server adds one of the fake's own webhook endpoints per ``--forward-to``
URL; its handler only queues the event (it runs while the account is
locked, and a receiver may call back into the fake). A thread per URL POSTs
the queued events in order, each signed afresh at each attempt (Stripe signs
every attempt with a new timestamp), so ``stripe.Webhook.construct_event``
accepts them with `FakeServer.webhook_secret`. A delivery fails on a
connection error, a timeout or any status outside 2xx (redirects are not
followed, as Stripe does not follow them); it is retried after *backoff*
seconds, doubling up to *max_delay*, for *attempts* attempts in all, and
every failure and retry is logged. Later events do not wait for a failing
one (Stripe does not promise order either).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from cancelflow.testing._webhooks import signature_header

__all__ = ["ForwardedDelivery", "Forwarder"]

LOG: Final = logging.getLogger("cancelflow.testing.server")
_TIMEOUT: Final = 10.0


@attrs.frozen(kw_only=True)
class ForwardedDelivery:
    """One attempt to POST one event to one ``forward_to`` URL.

    Attributes:
        url: where it was POSTed.
        event_id: the event (``evt_…``).
        event_type: its type (``customer.subscription.updated``).
        attempt: 1 for the first attempt, 2 for the first retry, …
        status: the HTTP status answered, ``None`` if there was no answer.
        error: why it failed (``"HTTP 500"``, ``"connection refused"``), or ``None``.
    """

    url: str
    event_id: str
    event_type: str
    attempt: int
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted it (a 2xx answer)."""
        return self.error is None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None  # a 3xx answer is a failed delivery, as with Stripe


_OPENER: Final = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirect()
)


class _Item:
    __slots__ = ("attempt", "body", "event_id", "event_type")

    def __init__(
        self, event_id: str, event_type: str, body: bytes, attempt: int
    ) -> None:
        self.event_id = event_id
        self.event_type = event_type
        self.body = body
        self.attempt = attempt


class _Target:
    """One URL: its queue (a heap by due time) and its thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.heap: list[tuple[float, int, _Item]] = []
        self.in_flight = 0
        self.thread: threading.Thread | None = None


class Forwarder:
    """Queues events for URLs and delivers them from one thread per URL."""

    def __init__(
        self,
        urls: Sequence[str],
        secret: str,
        *,
        attempts: int,
        backoff: float,
        max_delay: float,
    ) -> None:
        self._targets = {url: _Target(url) for url in urls}
        self._secret = secret
        self._attempts = attempts
        self._backoff = backoff
        self._max_delay = max_delay
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopping = False
        self.paused = False
        """While true, events are dropped (a journal being replayed was delivered before)."""
        self.deliveries: list[ForwardedDelivery] = []

    @property
    def urls(self) -> list[str]:
        return list(self._targets)

    def handler(self, url: str) -> _Handler:
        """The fake webhook endpoint's handler for *url*: queue, never block."""
        return _Handler(self, url)

    def enqueue(self, url: str, body: bytes, event_id: str, event_type: str) -> None:
        if self.paused:
            return
        target = self._targets[url]
        with self._cond:
            item = _Item(event_id, event_type, body, 1)
            heapq.heappush(target.heap, (time.monotonic(), next(self._seq), item))
            self._cond.notify_all()

    def start(self) -> None:
        for target in self._targets.values():
            thread = threading.Thread(
                target=self._run,
                args=(target,),
                name=f"cancelflow-forward {target.url}",
                daemon=True,
            )
            target.thread = thread
            thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait until nothing is queued or being delivered; whether that happened."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(t.heap or t.in_flight for t in self._targets.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, grace: float) -> None:
        """Deliver what is due within *grace* seconds, then stop the threads."""
        self.wait(grace)
        with self._cond:
            self._stopping = True
            left = sum(len(t.heap) for t in self._targets.values())
            self._cond.notify_all()
        for target in self._targets.values():
            if target.thread is not None:
                target.thread.join(timeout=_TIMEOUT + 1)
        if left:
            LOG.warning(
                "stopped with %d webhook deliveries not made (failing endpoints "
                "waiting for a retry)",
                left,
            )

    def _run(self, target: _Target) -> None:
        cond = self._cond
        while True:
            with cond:
                while True:
                    if self._stopping:
                        return
                    if target.heap:
                        wait = target.heap[0][0] - time.monotonic()
                        if wait <= 0:
                            break
                        cond.wait(wait)
                    else:
                        cond.wait()
                _due, _seq, item = heapq.heappop(target.heap)
                target.in_flight += 1
            try:
                self._deliver(target, item)
            finally:
                with cond:
                    target.in_flight -= 1
                    cond.notify_all()

    def _deliver(self, target: _Target, item: _Item) -> None:
        status, error = _post(target.url, item.body, self._secret)
        delivery = ForwardedDelivery(
            url=target.url,
            event_id=item.event_id,
            event_type=item.event_type,
            attempt=item.attempt,
            status=status,
            error=error,
        )
        with self._cond:
            self.deliveries.append(delivery)
        if error is None:
            LOG.info(
                "webhook %s %s -> %s: %s",
                item.event_id,
                item.event_type,
                target.url,
                status,
            )
            return
        if item.attempt >= self._attempts:
            LOG.error(
                "webhook %s %s -> %s failed (attempt %d of %d): %s; giving up",
                item.event_id,
                item.event_type,
                target.url,
                item.attempt,
                self._attempts,
                error,
            )
            return
        delay = min(self._backoff * 2 ** (item.attempt - 1), self._max_delay)
        LOG.warning(
            "webhook %s %s -> %s failed (attempt %d of %d): %s; retrying in %s s",
            item.event_id,
            item.event_type,
            target.url,
            item.attempt,
            self._attempts,
            error,
            f"{delay:g}",
        )
        retry = _Item(item.event_id, item.event_type, item.body, item.attempt + 1)
        with self._cond:
            if not self._stopping:
                heapq.heappush(
                    target.heap, (time.monotonic() + delay, next(self._seq), retry)
                )
                self._cond.notify_all()


class _Handler:
    """Called by the fake's webhook delivery (account locked): queues the event."""

    __slots__ = ("_forwarder", "_url")

    def __init__(self, forwarder: Forwarder, url: str) -> None:
        self._forwarder = forwarder
        self._url = url

    def __repr__(self) -> str:
        return f"<forward to {self._url}>"

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> None:  # noqa: ARG002
        event_id, event_type = _event_head(body)
        self._forwarder.enqueue(self._url, body, event_id, event_type)


def _event_head(body: bytes) -> tuple[str, str]:
    import json

    event = json.loads(body)
    return str(event["id"]), str(event["type"])


def _post(url: str, body: bytes, secret: str) -> tuple[int | None, str | None]:
    """POST *body* signed with *secret*: ``(status, error)``; error ``None`` on 2xx."""
    request = urllib.request.Request(  # noqa: S310 - the user's own --forward-to URL
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(body, secret, int(time.time())),
        },
    )
    try:
        with _OPENER.open(request, timeout=_TIMEOUT) as answer:
            answer.read()
            status: int = answer.status
    except urllib.error.HTTPError as err:
        err.close()
        return err.code, f"HTTP {err.code}"
    except urllib.error.URLError as err:
        return None, _reason(err.reason)
    except (OSError, ValueError) as err:
        return None, _reason(err)
    if not 200 <= status < 300:
        return status, f"HTTP {status}"
    return status, None


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return f"no answer within {_TIMEOUT:g} s"
    return str(reason) or type(reason).__name__

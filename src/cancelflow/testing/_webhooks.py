"""Webhook endpoints: signed deliveries of the fake's events.

Each endpoint gets the raw JSON body of every event it subscribed to and a
``Stripe-Signature`` header (``t=<timestamp>,v1=<HMAC-SHA256 of "t.body">``)
that ``stripe.Webhook.construct_event`` accepts with the endpoint's
``whsec_…`` secret. A handler that raises is a failed delivery (status 500), as
with Stripe; unless the endpoint expects failures, the exception is also
reported to whoever watches (the pytest plugin fails the test), or raised as a
``WebhookHandlerError`` when the FakeStripe was built with
``webhook_errors="raise"``. Deliveries happen synchronously, after the API call (or
portal action, or clock advance) that emitted the events has finished, in
the order the events were emitted, unless the endpoint asks for duplicates or
out-of-order delivery: then a seeded random generator decides, so a failing
test replays the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import attrs

from cancelflow.exceptions import FakeStripeError, WebhookHandlerError
from cancelflow.testing._headers import Headers
from cancelflow.testing._watch import HandlerFailure, report

__all__ = [
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookHandler",
    "Webhooks",
    "signature_header",
]

JSON = dict[str, Any]
WebhookHandler = Callable[[bytes, Mapping[str, str]], object]
"""``handler(body, headers)``; return ``None`` or an HTTP status (≥ 300 is a failure)."""


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """Stripe's ``Stripe-Signature`` value for *body* signed with *secret* at *timestamp*."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """One delivery of one event to one endpoint.

    Attributes:
        event_id: the event delivered (``evt_…``).
        event_type: its type (``customer.subscription.updated``).
        duplicate: whether this is an extra copy of an event already delivered.
        status: what the handler returned (``None`` counts as 200), or 500 if it raised.
        error: the handler's exception, as ``"ValueError: …"``, if it raised.
        attempt: 1 for the first delivery of the event to this endpoint, 2 for
            the first retry (``FakeStripe.retry_failed_webhooks``), …
        exception: the handler's exception itself (with its traceback), if it
            raised.
    """

    event_id: str
    event_type: str
    duplicate: bool
    status: int | None
    error: str | None
    attempt: int = 1
    exception: BaseException | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the handler accepted the delivery (no exception, status < 300)."""
        return self.error is None and (self.status is None or self.status < 300)


@attrs.define(eq=False, kw_only=True)
class WebhookEndpoint:
    """A webhook endpoint of the fake account (see ``FakeStripe.add_webhook_endpoint``).

    Attributes:
        handler: called with ``(body: bytes, headers: Mapping[str, str])``.
        enabled_events: the event types it receives (``None``: all of them);
            ``*`` wildcards work as in Stripe (``customer.subscription.*``).
        duplicates: the probability that an event is delivered a second time.
        out_of_order: whether the events of one batch are delivered shuffled.
        expect_failures: whether the handler raising is part of the test (only
            recorded, never reported or raised).
        deliveries: every delivery so far, in order.

    Args:
        secret: its `whsec_…` signing secret (also the attribute `secret`).
        rng: the random source for duplicates and order (seeded by the fake).
    """

    handler: WebhookHandler
    secret: str = attrs.field(repr=False)
    enabled_events: frozenset[str] | None
    duplicates: float
    out_of_order: bool
    expect_failures: bool = False
    rng: random.Random = attrs.field(repr=False)
    deliveries: list[WebhookDelivery] = attrs.Factory(list)

    @property
    def failures(self) -> list[WebhookDelivery]:
        """The deliveries the handler refused or raised on."""
        return [d for d in self.deliveries if not d.ok]

    def wants(self, event_type: str) -> bool:
        """Tell whether this endpoint subscribed to an event type.

        Args:
            event_type: an event type such as `customer.subscription.updated`.

        Returns:
            Whether it receives that type.
        """
        events = self.enabled_events
        if events is None or event_type in events:
            return True
        return any(
            pattern.endswith("*") and event_type.startswith(pattern[:-1])
            for pattern in events
        )


#: What a FakeStripe does when a handler raises and its endpoint does not
#: expect failures: ``"report"`` (record it; fail the running test when the
#: pytest plugin watches), ``"record"`` (only record it, as Stripe would) or
#: ``"raise"`` (record it, then raise a ``WebhookHandlerError`` from the call
#: that delivered the event).
WEBHOOK_ERRORS: Final = ("report", "record", "raise")


class Webhooks:
    """The account's endpoints and the events waiting to be delivered."""

    __slots__ = ("_held", "_pending", "_raised", "endpoints", "errors", "timestamp")

    def __init__(self, errors: str = "report") -> None:
        if errors not in WEBHOOK_ERRORS:
            raise FakeStripeError(
                f"webhook_errors must be one of {', '.join(WEBHOOK_ERRORS)}, "
                f"got {errors!r}"
            )
        self.errors = errors
        self.endpoints: list[WebhookEndpoint] = []
        self._pending: list[JSON] = []
        self._raised: list[HandlerFailure] = []
        self._held = 0
        self.timestamp: Callable[[], int] = lambda: int(time.time())
        """Signature timestamps: wall-clock time by default, because
        ``construct_event`` compares them with ``time.time()`` (tolerance 300 s),
        not with the fake clock."""

    def add(
        self,
        handler: WebhookHandler,
        *,
        secret: str,
        events: frozenset[str] | None,
        duplicates: float,
        out_of_order: bool,
        seed: int,
        expect_failures: bool = False,
    ) -> WebhookEndpoint:
        if not callable(handler):
            raise FakeStripeError(
                "a webhook handler must be callable as handler(body, headers)"
            )
        if not 0.0 <= duplicates <= 1.0:
            raise FakeStripeError("duplicates is a probability, between 0.0 and 1.0")
        if not secret.startswith("whsec_"):
            raise FakeStripeError("a webhook secret starts with 'whsec_'")
        endpoint = WebhookEndpoint(
            handler=handler,
            secret=secret,
            enabled_events=events,
            duplicates=duplicates,
            out_of_order=out_of_order,
            expect_failures=bool(expect_failures),
            rng=random.Random(seed),  # noqa: S311 - test determinism, not security
        )
        self.endpoints.append(endpoint)
        return endpoint

    def enqueue(self, event: JSON) -> int:
        """Queue *event*; return how many endpoints will get it (``pending_webhooks``)."""
        count = sum(1 for endpoint in self.endpoints if endpoint.wants(event["type"]))
        if count:
            self._pending.append(event)
        return count

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Deliver nothing until the block ends, then everything at once.

        With ``out_of_order=True`` this lets events of several API calls arrive
        shuffled, as Stripe's real delivery can.
        """
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        self.flush()

    def flush(self) -> None:
        """Deliver the queued events (unless held)."""
        if self._held or not self._pending:
            return
        batch, self._pending = self._pending, []
        bodies: dict[str, bytes] = {}
        for endpoint in tuple(self.endpoints):
            events = [event for event in batch if endpoint.wants(event["type"])]
            for event, duplicate in _plan(endpoint, events):
                body = bodies.get(event["id"])
                if body is None:
                    body = bodies[event["id"]] = json.dumps(event, indent=2).encode()
                self._deliver(endpoint, event, body, duplicate=duplicate)
        self._raise_failures()

    def _raise_failures(self) -> None:
        """With ``errors="raise"``: raise the first handler failure of the batch
        (after every delivery of the batch was made)."""
        if not self._raised:
            return
        first, *more = self._raised
        self._raised = []
        also = f"{len(more)} more in the same batch; " if more else ""
        raise WebhookHandlerError(
            f"{first.describe()}\n({also}the FakeStripe was built with "
            "webhook_errors='raise'; pass expect_failures=True to "
            "add_webhook_endpoint for a handler meant to fail)",
            event_id=first.event_id,
            event_type=first.event_type,
        ) from first.exception

    def retry_failed(self, event: Callable[[str], JSON]) -> list[WebhookDelivery]:
        """Deliver again, once, each event that no delivery to an endpoint has accepted yet.

        *event* finds an event by id. Returns the new deliveries, in order.
        """
        self.flush()
        retried: list[WebhookDelivery] = []
        for endpoint in tuple(self.endpoints):
            attempts: dict[str, int] = {}
            accepted: set[str] = set()
            for delivery in endpoint.deliveries:
                if not delivery.duplicate:
                    attempts[delivery.event_id] = delivery.attempt
                if delivery.ok:
                    accepted.add(delivery.event_id)
            for event_id, attempt in attempts.items():
                if event_id in accepted:
                    continue
                found = event(event_id)
                body = json.dumps(found, indent=2).encode()
                self._deliver(
                    endpoint, found, body, duplicate=False, attempt=attempt + 1
                )
                retried.append(endpoint.deliveries[-1])
        self._raise_failures()
        return retried

    def _deliver(
        self,
        endpoint: WebhookEndpoint,
        event: JSON,
        body: bytes,
        *,
        duplicate: bool,
        attempt: int = 1,
    ) -> None:
        headers = Headers(
            {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": signature_header(
                    body, endpoint.secret, self.timestamp()
                ),
            }
        )
        status: int | None = None
        error: str | None = None
        exception: Exception | None = None
        try:
            answer = endpoint.handler(body, headers)
        except Exception as exc:  # noqa: BLE001 - a failing endpoint is recorded, as Stripe does
            status, error, exception = 500, f"{type(exc).__name__}: {exc}", exc
        else:
            if isinstance(answer, int) and not isinstance(answer, bool):
                status = answer
        endpoint.deliveries.append(
            WebhookDelivery(
                event_id=event["id"],
                event_type=event["type"],
                duplicate=duplicate,
                status=status,
                error=error,
                attempt=attempt,
                exception=exception,
            )
        )
        if exception is not None and not endpoint.expect_failures:
            self._unexpected(endpoint, event, attempt, exception)

    def _unexpected(
        self, endpoint: WebhookEndpoint, event: JSON, attempt: int, exc: Exception
    ) -> None:
        if self.errors == "record":
            return
        failure = HandlerFailure(
            event_id=event["id"],
            event_type=event["type"],
            endpoint=self.endpoints.index(endpoint),
            attempt=attempt,
            exception=exc,
        )
        if self.errors == "raise":
            self._raised.append(failure)
        else:
            report(failure)


def _plan(endpoint: WebhookEndpoint, events: list[JSON]) -> list[tuple[JSON, bool]]:
    """The order of one batch for one endpoint: shuffled and with copies, if asked."""
    planned: list[tuple[JSON, bool]] = [(event, False) for event in events]
    rng = endpoint.rng
    if endpoint.out_of_order:
        rng.shuffle(planned)
    if endpoint.duplicates:
        for event in events:
            if rng.random() < endpoint.duplicates:
                first = next(i for i, (e, _) in enumerate(planned) if e is event)
                planned.insert(rng.randint(first + 1, len(planned)), (event, True))
    return planned

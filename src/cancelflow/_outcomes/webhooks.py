"""The one call for hosts: verify a webhook, read it, record it.

Framework agnostic: give it the raw body and the ``Stripe-Signature`` header,
answer Stripe 2xx when it returns, 400 on a ``WebhookError``, 500 (so Stripe
retries) on a ``LedgerError``. A verified delivery that can never be recorded
(a permanent failure) is kept in the ledger as a problem and acknowledged, so
that it does not come back for three days. Importing or using it does not
import ``stripe``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from cancelflow._outcomes.events import CancellationEvent, parse_event
from cancelflow._outcomes.signature import DEFAULT_TOLERANCE, SignatureVerifier
from cancelflow._typing import final
from cancelflow.exceptions import EventPayloadError, InvalidParameterError

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:  # the ledger's module is not needed to verify and parse
    from cancelflow._outcomes.ledger import Ledger, LedgerProblem

__all__ = ["WebhookHandler", "handle_webhook"]


@final
class WebhookHandler:
    """Verifies, parses and records Stripe webhook deliveries.

    Build it once at start-up and share it (it is thread-safe when its ledger
    is). Without a ledger it only verifies and parses.

    Args:
        secrets: the endpoint's signing secret(s) (``whsec_…``); give two while
            rolling a secret.
        ledger: where to record outcomes (a ``MemoryLedger``, ``SQLiteLedger``
            or ``PostgresLedger``), or ``None``.
        tolerance: the oldest signature accepted, in seconds (default 300).
        future_tolerance: how far ahead of this machine's clock a signature's
            timestamp may be (default 300).
        clock: the current unix time (for tests).

    Raises:
        InvalidParameterError: no secret, a blank one, or a bad tolerance.
    """

    __slots__ = ("_clock", "_verifier", "ledger")

    def __init__(
        self,
        secrets: str | Iterable[str],
        *,
        ledger: Ledger | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        future_tolerance: int = DEFAULT_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = SignatureVerifier(
            secrets, tolerance=tolerance, future_tolerance=future_tolerance, clock=clock
        )
        self._clock = clock
        if ledger is not None:
            # The two methods a delivery may call: checked now, so that a
            # host-written ledger missing one fails here, not on a poison event.
            missing = [
                name
                for name in ("record_new_events", "record_problem")
                if not callable(getattr(ledger, name, None))
            ]
            if missing:
                raise InvalidParameterError(
                    "ledger",
                    "expected a ledger (MemoryLedger, SQLiteLedger, PostgresLedger, "
                    f"or one with {' and '.join(missing)}), got {type(ledger).__name__}",
                )
        self.ledger = ledger

    def __repr__(self) -> str:
        return f"WebhookHandler({self._verifier!r}, ledger={self.ledger!r})"

    def verify_and_parse(
        self, body: bytes | str, signature_header: str | None
    ) -> list[CancellationEvent]:
        """Check the signature and read the event, without recording it.

        Args:
            body: the raw request body, unchanged.
            signature_header: the `Stripe-Signature` header.

        Returns:
            The typed events.

        Raises:
            SignatureVerificationError: the delivery is not from Stripe.
            EventPayloadError: the verified body is not a readable event.
        """
        self._verifier.verify(body, signature_header)
        return parse_event(body)

    def handle_webhook(
        self, body: bytes | str, signature_header: str | None
    ) -> list[CancellationEvent]:
        """Verify a delivery, read it into typed events and record them.

        The event is recorded in one ledger transaction. A verified delivery
        that can never be recorded — not a readable event (`EventPayloadError`),
        or one the ledger can never store or fold (`UnstorableEventError`) — is
        kept with its reason in the ledger (`ledger.problems()`) and gives an
        empty list: answer 2xx, and Stripe will not retry it. Without a ledger
        the error is raised, and nothing is remembered between deliveries.

        One redemption of a retention offer is one `OfferRedeemed`: Stripe
        reports it as `customer.discount.created` and as the
        `customer.subscription.updated` that adds the discount, in either
        order; with a ledger, only the first to arrive is returned (see
        `Ledger.record_new_events`).

        Args:
            body: the raw request body, unchanged.
            signature_header: the `Stripe-Signature` header.

        Returns:
            The typed events that are news (a `NotAboutCancellation` for other
            event types), so that side effects run once per event and once per
            redemption: an empty list when the ledger had already processed
            this event id, or kept it as a problem; no `OfferRedeemed` for a
            redemption another Stripe event already reported.

        Raises:
            InvalidParameterError: *body* is not bytes or text.
            SignatureVerificationError: the delivery is not from Stripe (a
                subclass says why); answer 400. Nothing is kept.
            EventPayloadError: the verified body is not a readable event and
                there is no ledger to keep it in; answer 400.
            LedgerError: the ledger failed (a transient failure: the database
                is down, locked or full); answer 500 so that Stripe retries.
        """
        self._verifier.verify(body, signature_header)
        ledger = self.ledger
        try:
            events = parse_event(body)
            if ledger is not None:
                return ledger.record_new_events(events)
        except EventPayloadError as error:
            if ledger is None:
                raise
            ledger.record_problem(self._problem(body, error))
            return []
        return events

    def _problem(self, body: bytes | str, error: Exception) -> LedgerProblem:
        # Imported here: the ledger's module (and attrs) are off the cold path.
        from cancelflow._outcomes.ledger import LedgerProblem

        return LedgerProblem.from_delivery(body, error, received_at=int(self._clock()))

    async def handle_webhook_async(
        self, body: bytes | str, signature_header: str | None
    ) -> list[CancellationEvent]:
        """Handle a delivery in an async framework, like `handle_webhook`.

        Verifying and parsing run inline (microseconds), the ledger writes in a
        worker thread.

        Args:
            body: the raw request body, unchanged.
            signature_header: the `Stripe-Signature` header.

        Returns:
            As for `handle_webhook`.
        """
        import asyncio  # not at module level: it costs a serverless cold start

        self._verifier.verify(body, signature_header)
        ledger = self.ledger
        try:
            events = parse_event(body)
            if ledger is not None:
                return await asyncio.to_thread(ledger.record_new_events, events)
        except EventPayloadError as error:
            if ledger is None:
                raise
            await asyncio.to_thread(ledger.record_problem, self._problem(body, error))
            return []
        return events


def handle_webhook(
    body: bytes | str,
    signature_header: str | None,
    *,
    secrets: str | Iterable[str],
    ledger: Ledger | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> list[CancellationEvent]:
    """Verify, parse and record one webhook with a handler built for this call.

    Prefer a module-level [`WebhookHandler`][cancelflow.WebhookHandler] in a
    web app; this is
    [`WebhookHandler.handle_webhook`][cancelflow.WebhookHandler.handle_webhook]
    for one-off scripts.

    Args:
        body: the request's raw body, exactly as received.
        signature_header: the `Stripe-Signature` header (`None` when absent).
        secrets: the endpoint's `whsec_…` secret, or several while rotating.
        ledger: where to record the events; `None` records nothing.
        tolerance: how old (in seconds) a signature may be.

    Returns:
        The typed events that are news, or `[]` for an event the ledger has
        already processed (see `WebhookHandler.handle_webhook`).

    Raises:
        WebhookError: the signature or the payload is refused (answer HTTP 400).
        LedgerError: the ledger failed (answer HTTP 500 so Stripe retries).

    Example:
        ```python
        import cancelflow

        body = ('{"id": "evt_1", "object": "event", "type": "invoice.paid", '
                '"created": 1767225600, "livemode": false, '
                '"data": {"object": {"object": "invoice"}}}')
        header = cancelflow.sign_webhook(body, "whsec_test")
        events = cancelflow.handle_webhook(body, header, secrets="whsec_test")
        assert [e.kind.value for e in events] == ["not_about_cancellation"]
        ```
    """
    handler = WebhookHandler(secrets, ledger=ledger, tolerance=tolerance)
    return handler.handle_webhook(body, signature_header)

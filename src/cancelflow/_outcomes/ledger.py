"""The ledger's model: cancellation cases, the links that start them, and the fold.

A `Case` is one cancellation attempt of one subscription: the deep link
that started it (if any), the offer decision, the schedule, the customer's
feedback, and how it closed (withdrawn, ended, saved by an offer), with the MRR
involved. Cases are never updated in place: every store keeps the *set* of
typed events and links and recomputes a subscription's cases with
`fold_cases`, a pure function of that set. So the same events, in any
arrival order and with any duplicates, give the same ledger.

Order inside the set comes from Stripe's clock: items are sorted by
``(created, kind precedence, id)``; links (stamped with the portal session's
``created``) come first within a second, then schedule, offer, feedback,
withdrawal and end. Two attempts of one subscription inside the same second
cannot be told apart; that does not happen with a person in the portal.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Final, Protocol, Self

import attrs

from cancelflow._outcomes.events import (
    CancellationEvent,
    CancellationScheduled,
    CancellationWithdrawn,
    EventKind,
    FeedbackReceived,
    OfferRedeemed,
    SubscriptionEnded,
    _AboutSubscription,
)
from cancelflow._policy.history import CustomerHistory
from cancelflow._stripe.read import out_of_range, unstorable
from cancelflow._stripe.reasons import CancellationFeedback, CancellationReason
from cancelflow._stripe.subscription_data import BillingMode
from cancelflow.exceptions import (
    CancelflowError,
    InvalidParameterError,
    UnstorableEventError,
)

_encode_string: Final = encode_basestring  # the encoder's, for ensure_ascii=False

__all__ = [
    "Case",
    "CaseState",
    "Ledger",
    "LedgerProblem",
    "LinkRecord",
    "fold_cases",
    "history_from",
]


class CaseState(enum.StrEnum):
    """Where a cancellation attempt stands."""

    OPENED = "opened"
    """A cancel link was created; the customer has not acted (yet)."""
    SCHEDULED = "scheduled"
    """A cancellation is pending."""
    SAVED = "saved"
    """The customer redeemed the retention offer and stayed."""
    WITHDRAWN = "withdrawn"
    """The customer renewed before the end, without an offer."""
    ENDED = "ended"
    """The subscription ended."""


OPEN_STATES: Final = frozenset({CaseState.OPENED, CaseState.SCHEDULED})

REDEMPTION_WINDOW: Final = 24 * 3600
"""Seconds after a cancel link is created within which a discount with its
coupon counts as the offer redeemed. Portal sessions are short-lived (Stripe
does not publish how long; a day is well beyond any visit), so a discount added
later (by support, say) is not a save."""

_INVOLUNTARY: Final = frozenset(
    {
        CancellationReason.PAYMENT_FAILED,
        CancellationReason.PAYMENT_DISPUTED,
        CancellationReason.CANCELED_BY_RETENTION_POLICY,
    }
)


_CANONICAL: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
)


def canonical_json(value: object) -> str:
    """JSON text with sorted keys and no spaces (what the stores keep)."""
    return _CANONICAL.encode(value)


def canonical_json_strings(values: Iterable[str]) -> str:
    """`canonical_json` of a list of strings, without building an encoder.

    A fast path for a case's ``event_ids``: the same text, character for
    character (``tests/test_ledger.py`` checks it against the plain path).
    """
    return f"[{','.join(map(_encode_string, values))}]"


def _json_value(value: object) -> object:
    """Check that *value* is JSON data every store can keep, and return a
    private copy of it."""
    if value is None:
        return None
    try:
        text = canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "decision", f"must be JSON data (dict, list, str, number, bool): {exc}"
        ) from None
    except RecursionError:
        raise InvalidParameterError(
            "decision", "is nested too deeply to be stored as JSON"
        ) from None
    result: object = json.loads(text)
    problem = _unstorable_json(result)
    if problem is not None:
        raise InvalidParameterError("decision", problem)
    return result


#: How deeply a link's decision may nest. cancelflow's own decisions nest a few
#: levels; the bound is ours, the same on every Python (3.13's JSON encoder no
#: longer stops at the recursion limit) and far below SQLite's JSON limit (1000).
MAX_JSON_DEPTH = 100


def _unstorable_json(value: object) -> str | None:
    """Why JSON data *value* cannot be stored by every store, or ``None``."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth >= MAX_JSON_DEPTH:
            return f"it is nested more than {MAX_JSON_DEPTH} levels deep"
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            problem = unstorable(item)
            if problem is not None:
                return f"a text in it contains {problem}, which no ledger can store"
        elif type(item) is int and out_of_range(item):
            return "a number in it does not fit a signed 64-bit integer"
    return None


def storable(value: object, field: str) -> None:
    """Refuse a value no ledger store can keep (text with U+0000 or a lone
    surrogate, an integer outside the signed 64-bit range), naming *field*.

    Raises:
        InvalidParameterError: *value* cannot be stored.
    """
    if isinstance(value, str):
        problem = unstorable(value)
        if problem is not None:
            raise InvalidParameterError(
                field, f"contains {problem}, which no ledger can store"
            )
    elif isinstance(value, int) and not isinstance(value, bool) and out_of_range(value):
        raise InvalidParameterError(
            field, "does not fit a signed 64-bit integer, which the ledger stores"
        )


def _text(_: object, attribute: Any, value: Any) -> None:
    """attrs validator: text that a ledger store can keep (:func:`storable`)."""
    if not isinstance(value, str):
        raise InvalidParameterError(
            attribute.name, f"expected text, got {type(value).__name__}"
        )
    storable(value, attribute.name)


def _integer(_: object, attribute: Any, value: Any) -> None:
    """attrs validator: an integer that a ledger store can keep."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError(
            attribute.name, f"expected an integer, got {type(value).__name__}"
        )
    storable(value, attribute.name)


def _boolean(_: object, attribute: Any, value: Any) -> None:
    """attrs validator: ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise InvalidParameterError(
            attribute.name, f"expected True or False, got {type(value).__name__}"
        )


_opt_text: Final = attrs.validators.optional(_text)
_opt_integer: Final = attrs.validators.optional(_integer)


@attrs.frozen(kw_only=True)
class LinkRecord:
    """A cancel deep link, as the ledger remembers it.

    Recorded by ``Cancelflow`` when it creates a link (or by the host). Stamp it
    with the portal session's ``created`` so that it sorts on Stripe's clock,
    like the events that follow.

    Attributes:
        session_id: the portal session's ``bps_…`` id.
        subscription_id: the subscription the link cancels.
        customer_id: its customer.
        created: the session's ``created`` (unix seconds).
        livemode: the session's ``livemode``.
        offered_coupon: the retention coupon offered in the flow, if any.
        arm: the experiment arm the retention policy chose, if any.
        decision: the policy's decision as opaque JSON data (its explanation).
        mrr: the subscription's MRR, minor units, as cancelflow defines it
            (docs/mrr.md: 0 during a trial; once ended, the MRR it churned).
        currency: the subscription's currency.
        experiment: the experiment *arm* belongs to, if any (when left out, the
            ``"experiment"`` of *decision*, if it names one).
        offer_discount: what the offered coupon takes off one month of *mrr*
            (minor units; `monthly_discount`), if known.
        offer_months: how many months the offered coupon lasts (``once``: 1,
            ``repeating``: its ``duration_in_months``); ``None`` for
            ``forever`` (or unknown).

    Raises:
        InvalidParameterError: a value of the wrong type, or one no ledger
            store can keep (text with U+0000 or a lone surrogate, an integer
            beyond 64 bits, JSON nested too deeply); ``field`` names it.
    """

    session_id: str = attrs.field(validator=_text)
    subscription_id: str = attrs.field(validator=_text)
    customer_id: str = attrs.field(validator=_text)
    created: int = attrs.field(validator=_integer)
    livemode: bool = attrs.field(default=False, validator=_boolean)
    offered_coupon: str | None = attrs.field(default=None, validator=_opt_text)
    arm: str | None = attrs.field(default=None, validator=_opt_text)
    decision: Any = attrs.field(default=None, converter=_json_value, hash=False)
    mrr: int | None = attrs.field(default=None, validator=_opt_integer)
    currency: str | None = attrs.field(default=None, validator=_opt_text)
    experiment: str | None = attrs.field(validator=_opt_text)
    offer_discount: int | None = attrs.field(default=None, validator=_opt_integer)
    offer_months: int | None = attrs.field(default=None, validator=_opt_integer)

    @experiment.default
    def _experiment_of_decision(self) -> str | None:
        decision = self.decision
        if isinstance(decision, dict):
            named = decision.get("experiment")
            if isinstance(named, str):
                return named
        return None

    def to_json(self) -> dict[str, Any]:
        """Return the record as plain JSON data.

        Returns:
            Every field by name.
        """
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class Case:
    """One cancellation attempt of one subscription, as far as the ledger knows.

    Attributes:
        id: ``case_`` + the link's session id, or + the first event's id.
        subscription_id: the subscription of the attempt.
        customer_id: its customer, when known.
        livemode: whether it happened in live mode.
        state: where it stands (`CaseState`).
        opened_at: the first moment seen (unix seconds).
        updated_at: the last moment seen (unix seconds).
        link_session_id: the portal session of the deep link that started it.
        link_created_at: when that link was created.
        offered_coupon: the coupon the retention policy offered, if any.
        arm: the experiment arm it chose, if any.
        decision: its decision, as JSON data.
        experiment: the experiment *arm* belongs to.
        offer_discount: the offered coupon's discount on one month of MRR,
            from the link.
        offer_months: how many months it lasts (`None`: forever).
        scheduled_at: when the cancellation was first scheduled.
        effective_at: when the (last) scheduled cancellation takes effect.
        billing_mode: the subscription's billing mode when scheduled.
        feedback: the reason the customer chose, if any.
        comment: their free text, if any.
        feedback_option: the custom feedback option they chose, if any.
        feedback_at: when the answer arrived.
        redeemed_coupon: the coupon of the offer redeemed, if any.
        redeemed_discount: the `di_…` discount it made.
        redeemed_at: when it was redeemed.
        withdrawn_at: when the customer renewed.
        ended_at: when the subscription ended.
        ended_reason: why, in Stripe's words
            ([`CancellationReason`][cancelflow.CancellationReason]).
        mrr: the MRR involved (minor units), from the latest event (or the link).
        currency: the subscription's currency.
        product_id: the product of the subscription's main item (the largest
            amount per month), from the latest event that named one.
        price_id: that item's price.
        started_at: the subscription's ``start_date`` (unix seconds).
        event_ids: the Stripe events that shaped it, sorted.
    """

    id: str
    subscription_id: str
    customer_id: str | None
    livemode: bool
    state: CaseState
    opened_at: int
    updated_at: int
    link_session_id: str | None = None
    link_created_at: int | None = None
    offered_coupon: str | None = None
    arm: str | None = None
    decision: Any = attrs.field(default=None, hash=False)
    experiment: str | None = None
    offer_discount: int | None = None
    offer_months: int | None = None
    scheduled_at: int | None = None
    effective_at: int | None = None
    billing_mode: BillingMode | None = None
    feedback: CancellationFeedback | None = None
    comment: str | None = None
    feedback_option: str | None = None
    feedback_at: int | None = None
    redeemed_coupon: str | None = None
    redeemed_discount: str | None = None
    redeemed_at: int | None = None
    withdrawn_at: int | None = None
    ended_at: int | None = None
    ended_reason: CancellationReason | None = None
    mrr: int | None = None
    currency: str | None = None
    product_id: str | None = None
    price_id: str | None = None
    started_at: int | None = None
    event_ids: tuple[str, ...] = ()

    @property
    def closed(self) -> bool:
        """Whether the attempt is over (saved, withdrawn or ended)."""
        return self.state not in OPEN_STATES

    @property
    def saved_by_offer(self) -> bool:
        """Whether a redeemed retention offer kept the subscription."""
        return self.state is CaseState.SAVED

    @property
    def customer_initiated(self) -> bool:
        """Whether someone asked for this end: false only for an involuntary one.

        An involuntary end (payment failed, disputed, Stripe's retention policy)
        came without a cancel link or a schedule.
        """
        return not (
            self.link_session_id is None
            and self.scheduled_at is None
            and self.ended_reason in _INVOLUNTARY
        )

    def describe(self) -> str:
        """Say what the case is, in one readable line.

        Returns:
            State, subscription, feedback and offer.
        """
        parts = [f"{self.id}: {self.subscription_id} {self.state.value}"]
        if self.feedback or self.comment:
            parts.append(
                "feedback "
                + ", ".join(
                    p
                    for p in (
                        self.feedback.value if self.feedback else None,
                        json.dumps(self.comment, ensure_ascii=False)
                        if self.comment
                        else None,
                    )
                    if p
                )
            )
        if self.offered_coupon:
            parts.append(f"offered {self.offered_coupon}")
        if self.redeemed_discount:
            parts.append(f"redeemed {self.redeemed_coupon or self.redeemed_discount}")
        if self.ended_reason:
            parts.append(f"reason {self.ended_reason.value}")
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.describe()


_MAX_KEY = 255


def _read_envelope(body: bytes) -> tuple[str | None, str | None, int | None]:
    """The id, type and ``created`` of an event body, when they can be read
    and stored (else ``None`` each): a problem's body is, by definition, not
    entirely readable."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None

    def text(key: str) -> str | None:
        value = data.get(key)
        if isinstance(value, str) and 0 < len(value) <= _MAX_KEY:
            return value if unstorable(value) is None else None
        return None

    created = data.get("created")
    if type(created) is not int or out_of_range(created):
        created = None
    return text("id"), text("type"), created


@attrs.frozen(kw_only=True)
class LedgerProblem:
    """A verified webhook delivery that the ledger could not record: a dead letter.

    The reason is permanent (the body is not a readable event, or the event
    can never be stored or folded), so ``WebhookHandler`` keeps it here and
    acknowledges it instead of letting Stripe retry it for three days. Read
    them with ``ledger.problems()``; fix the cause (upgrade cancelflow, say)
    and replay ``problem.body`` with ``parse_event`` and ``record_events``.

    Attributes:
        key: the event's id, or ``sha256:`` and the body's hash when no id
            could be read (one problem per key: a redelivery adds nothing).
        event_id: the Stripe event's id, if it could be read.
        event_type: its ``type``, if it could be read.
        created: its ``created`` (unix seconds), if it could be read.
        received_at: when the ledger kept it (unix seconds).
        error: the name of the error's class (``EventPayloadError``,
            ``UnstorableEventError``).
        reason: the error's message (secrets redacted; a U+0000 or lone
            surrogate written as its JSON escape).
        body: the raw body, byte for byte (left out of ``repr``).

    Example:
        ```python
        import cancelflow
        from cancelflow.exceptions import EventPayloadError

        problem = cancelflow.LedgerProblem.from_delivery(
            b'{"id": "evt_1", "object": "event"}', EventPayloadError("no type")
        )
        assert problem.key == "evt_1" and problem.error == "EventPayloadError"
        ```
    """

    key: str
    event_id: str | None = None
    event_type: str | None = None
    created: int | None = None
    received_at: int
    error: str
    reason: str
    body: bytes = attrs.field(repr=False)

    @classmethod
    def from_delivery(
        cls, body: bytes | str, error: Exception, *, received_at: int | None = None
    ) -> LedgerProblem:
        """The problem for a delivery of *body* that failed with *error*.

        Args:
            body: the raw request body (text is kept as its UTF-8 bytes).
            error: why it cannot be recorded.
            received_at: when (unix seconds); now by default.

        Returns:
            The problem, keyed by the event id when one can be read.
        """
        import hashlib
        import time

        from cancelflow._stripe.read import storable_text

        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        event_id, event_type, created = _read_envelope(raw)
        key = event_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"
        return cls(
            key=key,
            event_id=event_id,
            event_type=event_type,
            created=created,
            received_at=int(time.time()) if received_at is None else received_at,
            error=type(error).__name__,
            reason=storable_text(str(error)),
            body=bytes(raw),
        )

    def describe(self) -> str:
        """One readable line: which event, and why it was not recorded.

        Returns:
            `key (event_type): error: reason`.
        """
        what = self.event_type or "unreadable delivery"
        return f"{self.key} ({what}): {self.error}: {self.reason}"


class Ledger(Protocol):
    """What every ledger store does (in memory, SQLite, PostgreSQL).

    Every ledger is also an `OfferHistory`.
    """

    def record_events(self, events: Sequence[CancellationEvent]) -> bool:
        """Record the typed events of ONE Stripe event, in one transaction.

        Args:
            events: what [`parse_event`][cancelflow.parse_event] returned for it.

        Returns:
            `False` (and nothing changed) when that event id was already
            processed, else `True`.

        Raises:
            InvalidParameterError: *events* are not the typed events of one
                Stripe event.
            UnstorableEventError: the event can never be stored or folded
                (nothing changed).
            LedgerError: the store failed; nothing was recorded.
        """
        ...

    def record_new_events(
        self, events: Sequence[CancellationEvent]
    ) -> list[CancellationEvent]:
        """Record the typed events of ONE Stripe event and return the new ones.

        Records as `record_events` does, in one transaction. Nothing is news
        when that event id was already processed (a retry or a duplicate
        delivery). An [`OfferRedeemed`][cancelflow.OfferRedeemed] is not news
        when another Stripe event already reported the same discount of the
        same subscription: Stripe reports one redemption twice
        (`customer.discount.created` and `customer.subscription.updated`, in
        either order), and a host acting on it (a thank-you e-mail) must act
        once. The check and the write are one transaction.
        [`WebhookHandler`][cancelflow.WebhookHandler] returns this list.

        Args:
            events: the typed events of one Stripe event (what
                [`parse_event`][cancelflow.parse_event] returns).

        Returns:
            The events that are news, in their order (possibly none).

        Raises:
            InvalidParameterError: *events* are not the typed events of one
                Stripe event.
            UnstorableEventError: the event can never be stored or folded
                (nothing changed).
            LedgerError: the store failed; nothing was recorded.
        """
        ...

    def record_link(self, link: LinkRecord) -> None:
        """Remember a cancel link (idempotent by session id).

        Args:
            link: what `Cancelflow(..., ledger=...)` records for each link.

        Raises:
            LedgerError: the store failed.
        """
        ...

    def record_problem(self, problem: LedgerProblem) -> bool:
        """Keep a delivery that can never be recorded (a dead letter).

        Args:
            problem: the delivery and why it cannot be recorded.

        Returns:
            `False` (and nothing changes) when a problem with the same key is
            already kept, else `True`.
        """
        ...

    def problems(self) -> list[LedgerProblem]:
        """The deliveries kept as problems, oldest first.

        Returns:
            The problems, by `received_at` then `key`.
        """
        ...

    def is_processed(self, event_id: str) -> bool:
        """Tell whether a Stripe event was recorded.

        Args:
            event_id: the `evt_…` id.

        Returns:
            Whether it was.
        """
        ...

    def processed_count(self) -> int:
        """Count the Stripe event ids remembered.

        Returns:
            How many.
        """
        ...

    def cases(
        self, *, subscription_id: str | None = None, customer_id: str | None = None
    ) -> list[Case]:
        """Return the cases, oldest first.

        Args:
            subscription_id: only this subscription's.
            customer_id: only this customer's.

        Returns:
            The [`Case`][cancelflow.Case]s.
        """
        ...

    def links(self, *, subscription_id: str | None = None) -> list[LinkRecord]:
        """Return the recorded links, oldest first.

        Args:
            subscription_id: only this subscription's.

        Returns:
            The [`LinkRecord`][cancelflow.LinkRecord]s.
        """
        ...

    def customer_history(self, customer_id: str) -> CustomerHistory:
        """Return a customer's attempts, last offer and last redemption.

        Args:
            customer_id: the `cus_…` id.

        Returns:
            The [`CustomerHistory`][cancelflow.CustomerHistory] a retention
            policy's guards read.
        """
        ...

    def prune_processed_events(
        self, *, older_than: dt.timedelta, now: float | None = None
    ) -> int:
        """Forget the ids of old events that were not about cancellation.

        Args:
            older_than: how old an event must be (by its `created`).
            now: the time to count from, unix seconds; now when `None`.

        Returns:
            How many ids were forgotten.
        """
        ...

    def close(self) -> None:
        """Release the store's connection (a no-op in memory)."""
        ...


class LedgerStore(abc.ABC):
    """What every store shares: the two ways to record an event (on the
    store's one `_record`), and closing on exit (a ledger is a context
    manager). The `Ledger` protocol documents the methods."""

    @abc.abstractmethod
    def _record(
        self, events: Sequence[CancellationEvent]
    ) -> list[CancellationEvent] | None:
        """Record one Stripe event's typed events in one transaction: the news
        among them, or `None` (nothing changed) if that event id was already
        processed."""

    def record_events(self, events: Sequence[CancellationEvent]) -> bool:
        return self._record(events) is not None

    def record_new_events(
        self, events: Sequence[CancellationEvent]
    ) -> list[CancellationEvent]:
        return self._record(events) or []

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's connection."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def unstorable_error(event_id: str, exc: BaseException) -> Exception:
    """The error for an exception raised while storing or folding *event_id*:
    a cancelflow error as it is, anything else an :class:`UnstorableEventError`."""
    if isinstance(exc, CancelflowError):
        return exc
    return UnstorableEventError(
        f"event {event_id} can never be recorded: {type(exc).__name__}: {exc}",
        event_id=event_id,
    )


def check_problem(problem: object) -> LedgerProblem:
    """*problem*, after checking that it is a :class:`LedgerProblem`."""
    if not isinstance(problem, LedgerProblem):
        raise InvalidParameterError(
            "problem", f"expected a LedgerProblem, got {type(problem).__name__}"
        )
    return problem


def check_link(link: object) -> LinkRecord:
    """*link*, after checking that it is a `LinkRecord`."""
    if not isinstance(link, LinkRecord):
        raise InvalidParameterError(
            "link", f"expected a LinkRecord, got {type(link).__name__}"
        )
    return link


def check_batch(events: Sequence[CancellationEvent]) -> CancellationEvent:
    """The first of *events*, after checking that they come from one Stripe event."""
    if not events:
        raise InvalidParameterError(
            "events", "give the typed events of one Stripe event (parse_event's list)"
        )
    first = events[0]
    for e in events:
        if not isinstance(e, CancellationEvent):
            raise InvalidParameterError(
                "events", f"expected typed events, got {type(e).__name__}"
            )
        if not getattr(e, "_parsed", False):  # parse_event's are checked already
            _check_storable(e)
        if e.event_id != first.event_id:
            raise InvalidParameterError(
                "events",
                f"events from two Stripe events ({first.event_id}, {e.event_id}); "
                "record one Stripe event at a time",
            )
    return first


def redemption_key(event: OfferRedeemed) -> tuple[str, str]:
    """What makes two `OfferRedeemed` one redemption: the subscription
    and the discount (whichever Stripe event reported it)."""
    return (event.subscription_id, event.discount_id)


def without_reported(
    events: Sequence[CancellationEvent], reported: Iterable[tuple[str, str]]
) -> list[CancellationEvent]:
    """*events* without the `OfferRedeemed` whose `redemption_key`
    is in *reported* (already told by an earlier Stripe event)."""
    seen = frozenset(reported)
    if not seen:
        return list(events)
    return [
        e
        for e in events
        if not (isinstance(e, OfferRedeemed) and redemption_key(e) in seen)
    ]


def _check_storable(event: CancellationEvent) -> None:
    """Refuse a typed event (built by hand: the parser's are checked already)
    whose text or numbers no store can keep, so that every store agrees."""
    texts: list[str] = []
    for name in event.fields:
        value = getattr(event, name)
        if type(value) is int:
            if out_of_range(value):
                storable(value, f"events[{event.event_id}].{name}")
        elif isinstance(value, str):  # enum members included
            texts.append(value)
        elif isinstance(value, int):  # a bool, or another kind of int
            storable(value, f"events[{event.event_id}].{name}")
        elif value is not None:  # every field is text, an integer, a bool or None
            raise InvalidParameterError(
                f"events[{event.event_id}].{name}",
                f"expected text, an integer or a boolean, got {type(value).__name__}",
            )
    created: object = event.created
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidParameterError(
            f"events[{event.event_id}].created", "must be an integer (unix seconds)"
        )
    if unstorable("".join(texts)) is not None:
        for name in event.fields:
            storable(getattr(event, name), f"events[{event.event_id}].{name}")


def cutoff(older_than: dt.timedelta, now: float | None) -> int:
    """The ``created`` value below which processed ids may be pruned."""
    import time

    if older_than < dt.timedelta(days=3):
        raise InvalidParameterError(
            "older_than",
            "keep processed ids for at least 3 days: Stripe retries a delivery "
            "for up to three days",
        )
    current = time.time() if now is None else now
    return int(current - older_than.total_seconds())


# -- the fold -----------------------------------------------------------------------

_PRECEDENCE: Final[Mapping[EventKind, int]] = {
    EventKind.CANCELLATION_SCHEDULED: 1,
    EventKind.OFFER_REDEEMED: 2,
    EventKind.FEEDBACK_RECEIVED: 3,
    EventKind.CANCELLATION_WITHDRAWN: 4,
    EventKind.SUBSCRIPTION_ENDED: 5,
}

_Item = LinkRecord | _AboutSubscription


def _identity(event: _AboutSubscription) -> tuple[str, str, str]:
    """What tells two typed events apart: parsing is deterministic, so one
    Stripe event gives at most one typed event per kind, except one
    `OfferRedeemed` per discount added."""
    discount = event.discount_id if isinstance(event, OfferRedeemed) else ""
    return (event.event_id, event.kind, discount)  # a StrEnum: equal to its value


def _sort_key(item: _Item) -> tuple[int, int, str, str, str]:
    if isinstance(item, LinkRecord):
        return (item.created, 0, item.session_id, "", "")
    return (item.created, _PRECEDENCE.get(item.kind, 9), *_identity(item))


@attrs.define
class _Draft:
    id: str
    subscription_id: str
    state: CaseState
    opened_at: int
    updated_at: int
    customer_id: str | None = None
    livemode: bool = False
    link: LinkRecord | None = None
    scheduled_at: int | None = None
    effective_at: int | None = None
    billing_mode: BillingMode | None = None
    feedback: CancellationFeedback | None = None
    comment: str | None = None
    feedback_option: str | None = None
    feedback_at: int | None = None
    redeemed: dict[str, str | None] = attrs.Factory(dict)
    redeemed_at: int | None = None
    withdrawn_at: int | None = None
    ended_at: int | None = None
    ended_reason: CancellationReason | None = None
    mrr: int | None = None
    currency: str | None = None
    product_id: str | None = None
    price_id: str | None = None
    started_at: int | None = None
    event_ids: set[str] = attrs.Factory(set)

    def touch(self, item: _Item) -> None:
        self.updated_at = max(self.updated_at, item.created)
        if self.customer_id is None:
            self.customer_id = item.customer_id
        self.livemode = self.livemode or item.livemode
        if isinstance(item, _AboutSubscription):
            self.event_ids.add(item.event_id)
            if item.price_id is not None:
                self.price_id, self.product_id = item.price_id, item.product_id
            if item.started_at is not None:
                self.started_at = item.started_at
        if item.mrr is not None and item.currency is not None:
            self.mrr, self.currency = item.mrr, item.currency

    def answer(
        self,
        feedback: CancellationFeedback | None,
        comment: str | None,
        option: str | None,
        at: int,
    ) -> None:
        if feedback is None and comment is None and option is None:
            return
        if (feedback, comment, option) == (
            self.feedback,
            self.comment,
            self.feedback_option,
        ):
            return  # the same answer repeated (the end event carries it again)
        self.feedback, self.comment, self.feedback_option = feedback, comment, option
        self.feedback_at = at

    def build(self) -> Case:
        link = self.link
        first_discount = min(self.redeemed) if self.redeemed else None
        return Case(
            id=self.id,
            subscription_id=self.subscription_id,
            customer_id=self.customer_id,
            livemode=self.livemode,
            state=self.state,
            opened_at=self.opened_at,
            updated_at=self.updated_at,
            link_session_id=link.session_id if link else None,
            link_created_at=link.created if link else None,
            offered_coupon=link.offered_coupon if link else None,
            arm=link.arm if link else None,
            decision=link.decision if link else None,
            experiment=link.experiment if link else None,
            offer_discount=link.offer_discount if link else None,
            offer_months=link.offer_months if link else None,
            scheduled_at=self.scheduled_at,
            effective_at=self.effective_at,
            billing_mode=self.billing_mode,
            feedback=self.feedback,
            comment=self.comment,
            feedback_option=self.feedback_option,
            feedback_at=self.feedback_at,
            redeemed_coupon=self.redeemed[first_discount] if first_discount else None,
            redeemed_discount=first_discount,
            redeemed_at=self.redeemed_at,
            withdrawn_at=self.withdrawn_at,
            ended_at=self.ended_at,
            ended_reason=self.ended_reason,
            mrr=self.mrr,
            currency=self.currency,
            product_id=self.product_id,
            price_id=self.price_id,
            started_at=self.started_at,
            event_ids=tuple(sorted(self.event_ids)),
        )


def _new(item: _Item, state: CaseState) -> _Draft:
    source = item.session_id if isinstance(item, LinkRecord) else item.event_id
    return _Draft(
        id=f"case_{source}",
        subscription_id=item.subscription_id,
        state=state,
        opened_at=item.created,
        updated_at=item.created,
    )


def _last_in(drafts: list[_Draft], states: Iterable[CaseState]) -> _Draft | None:
    wanted = frozenset(states)
    for draft in reversed(drafts):
        if draft.state in wanted:
            return draft
    return None


def _fold_subscription(items: list[_Item]) -> list[Case]:
    drafts: list[_Draft] = []

    def open_new(item: _Item, state: CaseState) -> _Draft:
        draft = _new(item, state)
        drafts.append(draft)
        return draft

    # A discount's coupon may be named by only one of its two events
    # (customer.discount.created); learn it from the whole set first.
    coupons = {
        i.discount_id: i.coupon_id
        for i in items
        if isinstance(i, OfferRedeemed) and i.coupon_id is not None
    }
    for item in sorted(items, key=_sort_key):
        last = drafts[-1] if drafts else None
        target: _Draft | None
        if isinstance(item, LinkRecord):
            target = open_new(item, CaseState.OPENED)
            target.link = item
        elif isinstance(item, CancellationScheduled):
            if last is not None and last.state in OPEN_STATES:
                target = last
            else:
                target = open_new(item, CaseState.SCHEDULED)
            target.state = CaseState.SCHEDULED
            if target.scheduled_at is None:
                target.scheduled_at = item.created
            target.effective_at = item.effective_at
            target.billing_mode = item.billing_mode
        elif isinstance(item, FeedbackReceived):
            target = last if last is not None else open_new(item, CaseState.SCHEDULED)
            target.answer(
                item.feedback, item.comment, item.feedback_option, item.created
            )
        elif isinstance(item, OfferRedeemed):
            target = last
            offered = target.link if target is not None else None
            if (
                target is None
                or offered is None
                or offered.offered_coupon is None
                or target.state not in (*OPEN_STATES, CaseState.SAVED)
                or not 0 <= item.created - offered.created <= REDEMPTION_WINDOW
            ):
                # a discount outside a cancel link that offered one, or long
                # after it (one added by support, say): not a save
                continue
            coupon = coupons.get(item.discount_id)
            if coupon and coupon != offered.offered_coupon:
                continue  # some other discount, not the offer made in this flow
            target.redeemed[item.discount_id] = coupon
            if target.redeemed_at is None:
                target.redeemed_at = item.created
            if target.state is CaseState.OPENED:
                target.state = CaseState.SAVED
        elif isinstance(item, CancellationWithdrawn):
            target = _last_in(drafts, (CaseState.SCHEDULED,))
            if target is None:
                target = (
                    last
                    if last is not None and last.state is CaseState.OPENED
                    else open_new(item, CaseState.WITHDRAWN)
                )
            target.state = CaseState.SAVED if target.redeemed else CaseState.WITHDRAWN
            target.withdrawn_at = item.created
        elif isinstance(item, SubscriptionEnded):
            target = _last_in(drafts, (CaseState.ENDED,))  # a subscription ends once
            if target is None:
                voluntary = item.reason not in _INVOLUNTARY
                if last is not None and (
                    last.state is CaseState.SCHEDULED
                    or (last.state is CaseState.OPENED and voluntary)
                ):
                    target = last
                else:
                    target = open_new(item, CaseState.ENDED)
            target.state = CaseState.ENDED
            if target.ended_at is None:
                target.ended_at = item.ended_at
            if item.reason is not None:
                target.ended_reason = item.reason
            target.answer(
                item.feedback, item.comment, item.feedback_option, item.created
            )
        else:
            raise InvalidParameterError(
                "events",
                f"the ledger does not know how to fold a {type(item).__name__} "
                f"(kind {item.kind!r}); record the events parse_event gives",
            )
        target.touch(item)
    return [d.build() for d in drafts]


def fold_cases(
    links: Iterable[LinkRecord], events: Iterable[CancellationEvent]
) -> list[Case]:
    """Compute every case from a set of links and typed events.

    A pure function of the *set*: order and duplicates in the inputs do not
    matter. Events that are not about a subscription are ignored. Every ledger
    store uses it.

    Args:
        links: the recorded [`LinkRecord`][cancelflow.LinkRecord]s.
        events: the typed events.

    Returns:
        The [`Case`][cancelflow.Case]s, sorted by `(opened_at, id)`.

    Example:
        ```python
        import cancelflow

        assert cancelflow.fold_cases([], []) == []
        ledger = cancelflow.MemoryLedger()
        assert cancelflow.fold_cases(ledger.links(), []) == ledger.cases()
        ```
    """
    by_sub: dict[str, dict[tuple[str, str, str], _Item]] = {}
    for link in links:
        key = ("link", link.session_id, "")
        by_sub.setdefault(link.subscription_id, {})[key] = link
    for event in events:
        if isinstance(event, _AboutSubscription):
            by_sub.setdefault(event.subscription_id, {})[_identity(event)] = event
    cases: list[Case] = []
    for items in by_sub.values():
        cases.extend(_fold_subscription(list(items.values())))
    cases.sort(key=lambda c: (c.opened_at, c.id))
    return cases


_NO_END: Final = float("inf")


def history_from(
    customer_id: str,
    cases: Iterable[Case],
    links: Iterable[LinkRecord],
    *,
    before: int | None = None,
) -> CustomerHistory:
    """A customer's `CustomerHistory` from cases and links.

    With *before* (a Unix time), only what happened strictly earlier counts:
    the history as it stood at that instant (a backtest's view of the past).
    """
    end = before if before is not None else _NO_END
    mine = [c for c in cases if c.customer_id == customer_id and c.opened_at < end]
    offered = [
        link.created
        for link in links
        if link.customer_id == customer_id
        and link.offered_coupon is not None
        and link.created < end
    ]
    redeemed = [
        c.redeemed_at for c in mine if c.redeemed_at is not None and c.redeemed_at < end
    ]
    return CustomerHistory(
        attempts=sum(1 for c in mine if c.customer_initiated),
        last_offered_at=max(offered, default=None),
        last_redeemed_at=max(redeemed, default=None),
    )

"""Typed cancellation events, read from Stripe webhook events.

`parse_event` turns one Stripe event (the verified JSON body) into a
non-empty list of frozen events. Subscription events are compared with their
``data.previous_attributes`` to see what *changed*:

* `CancellationScheduled` — a cancellation is now pending (classic
  billing mode: ``cancel_at_period_end``; flexible: ``cancel_at`` alone), or its
  date moved;
* `FeedbackReceived` — the customer's answer (``feedback``, ``comment``,
  ``feedback_option``) appeared or changed; often in a *second*
  ``customer.subscription.updated`` a few seconds after the schedule;
* `CancellationWithdrawn` — a pending cancellation was removed (the
  customer renewed before the end);
* `SubscriptionEnded` — the subscription is ``canceled`` (with Stripe's
  ``reason`` and the customer's feedback);
* `OfferRedeemed` — a discount was added to the subscription
  (``customer.discount.created`` and/or a change of ``discounts``);
* `NotAboutCancellation` — everything else.

One Stripe event can give several typed events (a schedule and its feedback in
one update). Nothing here imports ``stripe``; any JSON either parses or raises
`EventPayloadError`.
"""

from __future__ import annotations

import enum
import json
from collections import deque
from itertools import repeat

from cancelflow._format import format_amount, format_time
from cancelflow._stripe.read import Obj, StripeEnum, unstorable
from cancelflow._stripe.reasons import (
    CancellationFeedback,
    CancellationReason,
    answered,
    read_details,
)
from cancelflow._stripe.subscription_data import (
    ENDED_STATUSES,
    BillingMode,
    SubscriptionStatus,
    cancel_effective_at,
    latest,
    main_item,
    mrr_of,
    read_discount,
    read_subscription,
    scheduled_to_cancel,
)
from cancelflow.exceptions import EventPayloadError, FrozenEventError, StripeObjectError

# Not ``typing.TYPE_CHECKING``: verifying and parsing a webhook imports neither
# typing nor attrs (a serverless handler pays every import on each cold start).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, ClassVar, Final, Self, TypeAlias

    from cancelflow._stripe.reasons import DetailsData

__all__ = [
    "OLDEST_API_VERSION",
    "PINNED_API_VERSION",
    "CancellationEvent",
    "CancellationScheduled",
    "CancellationWithdrawn",
    "EventKind",
    "FeedbackReceived",
    "NotAboutCancellation",
    "OfferRedeemed",
    "SubscriptionEnded",
    "event_from_json",
    "parse_event",
]


OLDEST_API_VERSION: Final = "2022-11-15"
"""The oldest webhook API version cancelflow reads: the version Stripe was on
when it added ``cancellation_details`` to subscriptions (early 2023)."""

PINNED_API_VERSION: Final = "2026-10-28.endive"
"""The version stripe-python 16.1 pins, the newest cancelflow is tested with."""


class EventKind(enum.StrEnum):
    """What a typed event says happened (cancelflow's words)."""

    CANCELLATION_SCHEDULED = "cancellation_scheduled"
    FEEDBACK_RECEIVED = "feedback_received"
    CANCELLATION_WITHDRAWN = "cancellation_withdrawn"
    SUBSCRIPTION_ENDED = "subscription_ended"
    OFFER_REDEEMED = "offer_redeemed"
    NOT_ABOUT_CANCELLATION = "not_about_cancellation"


def _mrr_text(mrr: int | None, currency: str | None) -> str:
    if mrr is None or currency is None:
        return ""
    return f", MRR {format_amount(mrr, currency)}"


_set = object.__setattr__
_drain = deque[object](maxlen=0).extend  # consumes an iterator, keeping nothing

if TYPE_CHECKING:
    from typing import dataclass_transform

    # Tells type checkers what the classes below do by hand: keyword-only
    # fields that cannot be assigned (the explicit ``__init__`` is kept).
    @dataclass_transform(kw_only_default=True, frozen_default=True)
    class _Frozen:
        __slots__ = ()

else:

    class _Frozen:
        __slots__ = ()


def _fill(event: CancellationEvent, args: dict[str, Any]) -> None:
    """Set every field of *event* from its ``__init__``'s arguments (``locals()``).

    The loop runs in C (``map`` drained by a zero-length deque), a dozen
    bytecodes less per field than a ``for`` statement: parsing a webhook
    builds one or two events.
    """
    fields = event.fields
    _drain(map(_set, repeat(event), fields, map(args.__getitem__, fields)))


def _rebuild(cls: type[CancellationEvent], fields: dict[str, Any]) -> Any:
    """Unpickle an event: call its class with its fields."""
    return cls(**fields)


class CancellationEvent(_Frozen):
    """What every typed event knows about the Stripe event it came from.

    Events are frozen values: equal when their class and fields are equal,
    hashable, printable (``repr`` lists the fields, ``str`` is
    `describe`), picklable; `replace` gives a changed copy. They are
    plain slotted classes rather than ``attrs`` classes, so that verifying and
    parsing a webhook imports neither ``attrs`` nor ``typing`` (a serverless
    handler pays every import on each cold start).

    Attributes:
        event_id: the Stripe event's ``evt_…`` id.
        event_type: the Stripe event's ``type``
            (``customer.subscription.updated``).
        created: when Stripe created the event (unix seconds).
        livemode: whether it is a live-mode event.
        subscription_id: whose subscription (every event but
            `NotAboutCancellation`, as are the fields below).
        customer_id: the subscription's customer.
        mrr: the subscription's MRR, minor units, as cancelflow defines it
            (docs/mrr.md: 0 during a trial; once ended, the MRR it churned).
        currency: the subscription's currency.
        price_id: the subscription's main item's price (the largest amount per
            month), for reports by product.
        product_id: that item's product.
        started_at: the subscription's `start_date` (unix seconds), for reports
            by tenure.
    """

    # ``__weakref__``: events can be weakly referenced, as attrs classes can.
    # ``_parsed``: set by `parse_event` on the events it returns, whose text
    # and numbers it has checked, so that a ledger need not check them again.
    # Not a field: ==, hash, repr and pickles ignore it, and a copy (`replace`,
    # unpickling) does not carry it, so the ledger checks a copy's values.
    __slots__ = (
        "__weakref__",
        "_parsed",
        "created",
        "event_id",
        "event_type",
        "livemode",
    )

    kind: ClassVar[EventKind]
    #: The field names, in constructor order (the base class's first).
    fields: ClassVar[tuple[str, ...]] = (
        "event_id",
        "event_type",
        "created",
        "livemode",
    )

    event_id: str
    event_type: str
    created: int
    livemode: bool

    def __init__(
        self, *, event_id: str, event_type: str, created: int, livemode: bool = False
    ) -> None:
        _fill(self, locals())

    # -- value behaviour ----------------------------------------------------------

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self.fields])

    def __eq__(self, other: object) -> bool:
        if (
            not isinstance(other, CancellationEvent)
            or other.__class__ is not self.__class__
        ):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.fields)
        return f"{self.__class__.__qualname__}({args})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenEventError(
            f"{self.__class__.__qualname__} is frozen: cannot set {name!r}"
        )

    def __delattr__(self, name: str) -> None:
        raise FrozenEventError(
            f"{self.__class__.__qualname__} is frozen: cannot delete {name!r}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.__class__, self.as_kwargs())

    def as_kwargs(self) -> dict[str, Any]:
        """Return the fields as constructor arguments.

        Returns:
            Field name → value, enum members kept.
        """
        return {name: getattr(self, name) for name in self.fields}

    def replace(self, **changes: Any) -> Self:
        """Return a copy with some fields changed (also `copy.replace` on Python 3.13+).

        Args:
            **changes: new values by field name.

        Returns:
            A new event of the same class.

        Raises:
            TypeError: a name in *changes* is not a field of this event.
        """
        return self.__class__(**{**self.as_kwargs(), **changes})

    __replace__ = replace

    # -- reading --------------------------------------------------------------------

    def describe(self) -> str:
        """Say what happened, in one readable line.

        Returns:
            The line (also `str(event)`).
        """
        return f"{self.event_id} ({self.event_type}): {self._what()}"

    def _what(self) -> str:
        return "not about cancellation"

    def __str__(self) -> str:
        return self.describe()

    def to_json(self) -> dict[str, Any]:
        """Return the event as plain JSON data.

        Returns:
            Every field (enum members as their wire strings), and `kind`.
        """
        data: dict[str, Any] = {"kind": self.kind.value}
        for name in self.fields:
            value = getattr(self, name)
            data[name] = value.value if isinstance(value, enum.Enum) else value
        return data


class _AboutSubscription(CancellationEvent):
    """What every event about one subscription carries.

    Attributes:
        subscription_id, customer_id: whose subscription.
        mrr, currency: the subscription's MRR (minor units, docs/mrr.md) and
            currency.
        price_id, product_id: the subscription's main item (the largest amount
            per month), for reports by product.
        started_at: the subscription's ``start_date`` (unix seconds), for
            reports by tenure.
    """

    __slots__ = (
        "currency",
        "customer_id",
        "mrr",
        "price_id",
        "product_id",
        "started_at",
        "subscription_id",
    )
    fields = (
        *CancellationEvent.fields,
        "subscription_id",
        "customer_id",
        "mrr",
        "currency",
        "price_id",
        "product_id",
        "started_at",
    )

    subscription_id: str
    customer_id: str | None
    mrr: int | None
    currency: str | None
    price_id: str | None
    product_id: str | None
    started_at: int | None

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        created: int,
        livemode: bool = False,
        subscription_id: str,
        customer_id: str | None,
        mrr: int | None = None,
        currency: str | None = None,
        price_id: str | None = None,
        product_id: str | None = None,
        started_at: int | None = None,
    ) -> None:
        _fill(self, locals())


class CancellationScheduled(_AboutSubscription):
    """The subscription is now scheduled to cancel (or its date moved).

    Attributes:
        subscription_id, customer_id: whose subscription.
        effective_at: when the cancellation takes effect (``cancel_at``, or the
            period end in classic mode), unix seconds, if known.
        billing_mode: ``classic`` (``cancel_at_period_end``) or ``flexible``
            (``cancel_at`` only).
        cancel_at_period_end: Stripe's flag as sent.
        requested_at: ``canceled_at``, when the cancellation was requested.
        mrr, currency: the subscription's MRR (minor units, docs/mrr.md) and
            currency.
    """

    __slots__ = ("billing_mode", "cancel_at_period_end", "effective_at", "requested_at")
    fields = (
        *_AboutSubscription.fields,
        "effective_at",
        "billing_mode",
        "cancel_at_period_end",
        "requested_at",
    )

    kind: ClassVar[EventKind] = EventKind.CANCELLATION_SCHEDULED

    effective_at: int | None
    billing_mode: BillingMode
    cancel_at_period_end: bool
    requested_at: int | None

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        created: int,
        livemode: bool = False,
        subscription_id: str,
        customer_id: str | None,
        mrr: int | None = None,
        currency: str | None = None,
        price_id: str | None = None,
        product_id: str | None = None,
        started_at: int | None = None,
        effective_at: int | None = None,
        billing_mode: BillingMode = BillingMode.CLASSIC,
        cancel_at_period_end: bool = False,
        requested_at: int | None = None,
    ) -> None:
        _fill(self, locals())

    def _what(self) -> str:
        return (
            f"{self.subscription_id} scheduled to cancel at "
            f"{format_time(self.effective_at)} ({self.billing_mode.value} billing mode"
            f"{_mrr_text(self.mrr, self.currency)})"
        )


def _feedback_text(
    feedback: CancellationFeedback | None, comment: str | None, option: str | None
) -> str:
    parts = []
    if feedback is not None:
        parts.append(feedback.value)
    if option is not None:
        parts.append(f"option {option}")
    if comment:
        parts.append(json.dumps(comment, ensure_ascii=False))
    return ", ".join(parts) if parts else "no feedback"


class FeedbackReceived(_AboutSubscription):
    """The customer said why they cancel.

    Attributes:
        feedback: the reason picked on the portal's cancel page, if any.
        comment: the free text, if any.
        feedback_option: the id of a custom feedback option
            (``billing.FeedbackOption``), if one was chosen.
    """

    __slots__ = ("comment", "feedback", "feedback_option")
    fields = (*_AboutSubscription.fields, "feedback", "comment", "feedback_option")

    kind: ClassVar[EventKind] = EventKind.FEEDBACK_RECEIVED

    feedback: CancellationFeedback | None
    comment: str | None
    feedback_option: str | None

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        created: int,
        livemode: bool = False,
        subscription_id: str,
        customer_id: str | None,
        mrr: int | None = None,
        currency: str | None = None,
        price_id: str | None = None,
        product_id: str | None = None,
        started_at: int | None = None,
        feedback: CancellationFeedback | None = None,
        comment: str | None = None,
        feedback_option: str | None = None,
    ) -> None:
        _fill(self, locals())

    def _what(self) -> str:
        text = _feedback_text(self.feedback, self.comment, self.feedback_option)
        return f"{self.subscription_id} feedback: {text}"


class CancellationWithdrawn(_AboutSubscription):
    """A pending cancellation was removed: the customer renewed before the end.

    Attributes:
        previous_effective_at: when the withdrawn cancellation would have taken
            effect, if Stripe sent it.
    """

    __slots__ = ("previous_effective_at",)
    fields = (*_AboutSubscription.fields, "previous_effective_at")

    kind: ClassVar[EventKind] = EventKind.CANCELLATION_WITHDRAWN

    previous_effective_at: int | None

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        created: int,
        livemode: bool = False,
        subscription_id: str,
        customer_id: str | None,
        mrr: int | None = None,
        currency: str | None = None,
        price_id: str | None = None,
        product_id: str | None = None,
        started_at: int | None = None,
        previous_effective_at: int | None = None,
    ) -> None:
        _fill(self, locals())

    def _what(self) -> str:
        return (
            f"{self.subscription_id} renewed: the cancellation at "
            f"{format_time(self.previous_effective_at)} is withdrawn"
            f"{_mrr_text(self.mrr, self.currency)}"
        )


class SubscriptionEnded(_AboutSubscription):
    """The subscription is canceled.

    Attributes:
        ended_at: when it ended (``ended_at``; the event time if Stripe sent none).
        reason: Stripe's reason (``cancellation_requested``, ``payment_failed``…).
        feedback: the reason the customer chose, if any.
        comment: their free text, if any.
        feedback_option: the custom feedback option they chose, if any.
    """

    __slots__ = ("comment", "ended_at", "feedback", "feedback_option", "reason")
    fields = (
        *_AboutSubscription.fields,
        "ended_at",
        "reason",
        "feedback",
        "comment",
        "feedback_option",
    )

    kind: ClassVar[EventKind] = EventKind.SUBSCRIPTION_ENDED

    ended_at: int | None
    reason: CancellationReason | None
    feedback: CancellationFeedback | None
    comment: str | None
    feedback_option: str | None

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        created: int,
        livemode: bool = False,
        subscription_id: str,
        customer_id: str | None,
        mrr: int | None = None,
        currency: str | None = None,
        price_id: str | None = None,
        product_id: str | None = None,
        started_at: int | None = None,
        ended_at: int | None = None,
        reason: CancellationReason | None = None,
        feedback: CancellationFeedback | None = None,
        comment: str | None = None,
        feedback_option: str | None = None,
    ) -> None:
        _fill(self, locals())

    def _what(self) -> str:
        reason = self.reason.value if self.reason else "no reason given"
        text = _feedback_text(self.feedback, self.comment, self.feedback_option)
        return (
            f"{self.subscription_id} ended at {format_time(self.ended_at)} "
            f"({reason}; {text}{_mrr_text(self.mrr, self.currency)})"
        )


class OfferRedeemed(_AboutSubscription):
    """A discount was added to the subscription.

    The ledger counts it as a retention-offer redemption when a cancellation
    attempt is open for the subscription (and, if the deep link offered a
    coupon, the coupons agree). Stripe does not say that the portal added it:
    a discount added by the host's own code looks the same.

    Attributes:
        discount_id: the ``di_…`` id.
        coupon_id: the coupon behind it, when Stripe sent it
            (``customer.discount.created`` does; a subscription's ``discounts``
            list carries ids only).
    """

    __slots__ = ("coupon_id", "discount_id")
    fields = (*_AboutSubscription.fields, "discount_id", "coupon_id")

    kind: ClassVar[EventKind] = EventKind.OFFER_REDEEMED

    discount_id: str
    coupon_id: str | None

    def __init__(
        self,
        *,
        event_id: str,
        event_type: str,
        created: int,
        livemode: bool = False,
        subscription_id: str,
        customer_id: str | None,
        mrr: int | None = None,
        currency: str | None = None,
        price_id: str | None = None,
        product_id: str | None = None,
        started_at: int | None = None,
        discount_id: str,
        coupon_id: str | None = None,
    ) -> None:
        _fill(self, locals())

    def _what(self) -> str:
        coupon = f"coupon {self.coupon_id}" if self.coupon_id else "unknown coupon"
        return f"{self.subscription_id} got discount {self.discount_id} ({coupon})"


class NotAboutCancellation(CancellationEvent):
    """A Stripe event that says nothing about a cancellation."""

    __slots__ = ()

    kind: ClassVar[EventKind] = EventKind.NOT_ABOUT_CANCELLATION

    def __init__(
        self, *, event_id: str, event_type: str, created: int, livemode: bool = False
    ) -> None:
        _fill(self, locals())


_CLASSES: Final[Mapping[str, type[CancellationEvent]]] = {
    cls.kind.value: cls
    for cls in (
        CancellationScheduled,
        FeedbackReceived,
        CancellationWithdrawn,
        SubscriptionEnded,
        OfferRedeemed,
        NotAboutCancellation,
    )
}
# Each event class's stored text fields besides the envelope's (checked by
# _check_text, defined below).
_TEXT_FIELDS: Final[Mapping[type[CancellationEvent], tuple[str, ...]]] = {
    cls: tuple(
        n
        for n in cls.fields
        if n not in ("event_id", "event_type")
        and n
        in (
            "subscription_id",
            "customer_id",
            "currency",
            "price_id",
            "product_id",
            "feedback_option",
            "discount_id",
            "coupon_id",
        )
    )
    for cls in _CLASSES.values()
}
_ENUM_FIELDS: Final[Mapping[str, type[StripeEnum]]] = {
    "billing_mode": BillingMode,
    "feedback": CancellationFeedback,
    "reason": CancellationReason,
}


def event_from_json(data: Mapping[str, Any]) -> CancellationEvent:
    """Rebuild a typed event from `CancellationEvent.to_json` output.

    Raises:
        EventPayloadError: *data* is not such output.
    """
    kind = data.get("kind")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventPayloadError(f"not a stored cancelflow event (kind={kind!r})")
    kwargs: dict[str, Any] = {}
    try:
        for name in cls.fields:
            if name not in data:
                continue
            value = data[name]
            converter = _ENUM_FIELDS.get(name)
            kwargs[name] = (
                converter.from_wire(value)
                if converter and isinstance(value, str)
                else value
            )
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise EventPayloadError(f"not a stored cancelflow event: {exc}") from None


# -- parsing ----------------------------------------------------------------------


if TYPE_CHECKING:
    # What every typed event of one Stripe event shares: ``event_id``,
    # ``event_type``, ``created`` and ``livemode``, as constructor arguments.
    _Envelope: TypeAlias = dict[str, Any]
    # A subscription read by ``read_subscription``, with ``_derive``'s facts.
    _Sub: TypeAlias = dict[str, Any]


def _load(payload: object) -> object:
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            raise EventPayloadError("the webhook body is not UTF-8 text") from None
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise EventPayloadError(
                f"the webhook body is not JSON ({type(exc).__name__})"
            ) from None
    return payload


def parse_event(payload: object) -> list[CancellationEvent]:
    """Read one Stripe event into typed events (never an empty list).

    Unknown event types give one `NotAboutCancellation`. Parsing does not verify
    a signature: use [`WebhookHandler`][cancelflow.WebhookHandler] on bodies
    from the network.

    Args:
        payload: the raw JSON body (`bytes`/`str`), the decoded dict, or a
            stripe-python `Event`.

    Returns:
        The typed events, in the order they happened.

    Example:
        ```python
        import cancelflow

        (event,) = cancelflow.parse_event(
            {"id": "evt_1", "object": "event", "type": "invoice.paid",
             "created": 1_767_225_600, "livemode": False,
             "data": {"object": {"object": "invoice"}}}
        )
        assert isinstance(event, cancelflow.NotAboutCancellation)
        ```

    Raises:
        EventPayloadError: not JSON, not a Stripe event, or a field has an
            unexpected type or value (the message names its path; the
            `StripeObjectError` is chained).
    """
    data = _load(payload)
    # Raw JSON bytes can hold a U+0000 or a lone surrogate only as a \u
    # escape (JSON refuses a raw control character, UTF-8 a raw surrogate):
    # without one, no stored text needs checking. (A one-byte search runs as
    # memchr, many times faster than the two-byte one it spares.)
    escaped = type(payload) is not bytes or (b"\\" in payload and b"\\u" in payload)
    try:
        found, env = _parse(data, check_text=escaped)
    except StripeObjectError as exc:
        raise _unreadable(data, exc) from exc
    if not found:
        found = [NotAboutCancellation(**env)]
    for event in found:  # every stored text and integer checked (see _parsed)
        _set(event, "_parsed", True)
    return found


def _parse(
    data: object, *, check_text: bool = True
) -> tuple[list[CancellationEvent], _Envelope]:
    o = Obj.of(data, "event")
    kind = o.opt_string("object")
    if kind not in (None, "event"):
        raise EventPayloadError(
            f"expected a Stripe event (object 'event'), got object {kind!r}; "
            "thin events (v2) are not supported"
        )
    env: _Envelope = {
        "event_id": o.string("id"),
        "event_type": o.string("type"),
        "created": o.integer("created"),
        "livemode": o.boolean("livemode", default=False),
    }
    parser = _PARSERS.get(env["event_type"])
    found = parser(env, o.obj("data")) if parser else []
    if check_text:
        _check_text(env, found)
    return found, env


# The text the ledger stores besides the comment (free text, which
# read_details escapes), by field of the typed events, with where it comes from.
_TEXT_PATHS: Final = {
    "event_id": "event.id",
    "event_type": "event.type",
    "subscription_id": "subscription.id",
    "customer_id": "subscription.customer",
    "currency": "subscription.currency",
    "price_id": "subscription.items.data[].price.id",
    "product_id": "subscription.items.data[].price.product",
    "feedback_option": "subscription.cancellation_details.feedback_option",
    "discount_id": "discount.id",
    "coupon_id": "discount.coupon",
}


def _check_text(env: _Envelope, found: list[CancellationEvent]) -> None:
    """Refuse an id (or other stored text) holding U+0000 or a lone surrogate,
    which no ledger store can keep (Stripe's ids never hold them)."""
    joined = "".join(
        [
            env["event_id"],
            env["event_type"],
            *[getattr(e, n) or "" for e in found for n in _TEXT_FIELDS[e.__class__]],
        ]
    )
    if unstorable(joined) is None:
        return  # the usual case: one scan of everything
    values = [("event_id", env["event_id"]), ("event_type", env["event_type"])]
    values += [(n, getattr(e, n)) for e in found for n in _TEXT_FIELDS[e.__class__]]
    for name, value in values:
        problem = None if value is None else unstorable(value)
        if problem is not None:
            raise StripeObjectError(
                _TEXT_PATHS[name], f"contains {problem}, which no ledger can store"
            )


def _unreadable(data: object, exc: StripeObjectError) -> EventPayloadError:
    """The error for an event that cannot be read: what the path says, or, for
    a subscription item with a ``plan`` and no ``price``, the API version
    needed (such events come from an endpoint pinned to a version before
    prices existed)."""

    def get(value: object, key: str) -> object:
        return value.get(key) if isinstance(value, dict) else None

    version = get(data, "api_version")
    rows = get(get(get(get(data, "data"), "object"), "items"), "data")
    if isinstance(rows, list) and any(
        isinstance(r, dict) and "price" not in r and "plan" in r for r in rows
    ):
        shown = (
            f"API version {version}"
            if isinstance(version, str)
            else "an old API version"
        )
        return EventPayloadError(
            f"this event was rendered for {shown}: its subscription items have a "
            f"plan and no price. cancelflow reads events of API version "
            f"{OLDEST_API_VERSION} or later (up to {PINNED_API_VERSION}); set the "
            "webhook endpoint's API version to one of them in Stripe's Dashboard "
            "(Developers, Webhooks)"
        )
    return EventPayloadError(f"unreadable Stripe event: {exc}")


def _about(env: _Envelope, sub: _Sub) -> dict[str, Any]:
    item = sub["main_item"]
    return {
        **env,
        "subscription_id": sub["id"],
        "customer_id": sub["customer"],
        "mrr": sub["mrr"],
        "currency": sub["currency"],
        "price_id": item["price_id"] if item else None,
        "product_id": item["product_id"] if item else None,
        "started_at": sub["start_date"],
    }


def _details_before(data: Obj, prev: Obj) -> DetailsData:
    """``cancellation_details`` before the update, from ``previous_attributes``.

    Stripe sends only the changed sub-keys of a changed hash
    (``{"reason": null}``); older API versions and some captures send the
    whole hash. Both read the same: the keys sent, over the current values.
    """
    raw_before = prev.data.get("cancellation_details")
    if raw_before is None:
        return (None, None, None, None)
    before = Obj.of(raw_before, prev.where("cancellation_details"))
    now = data.obj("object").opt_obj("cancellation_details")
    merged = {**(now.data if now is not None else {}), **before.data}
    return read_details(Obj(merged, before.path))


def _detail_key(d: DetailsData) -> tuple[object, ...]:
    feedback, comment, option, _ = d
    return (feedback, comment or None, option)


def _feedback(env: _Envelope, sub: _Sub) -> FeedbackReceived:
    feedback, comment, option, _ = sub["cancellation_details"]
    return FeedbackReceived(
        **_about(env, sub),
        feedback=feedback,
        comment=comment or None,
        feedback_option=option,
    )


def _ended(env: _Envelope, sub: _Sub) -> SubscriptionEnded:
    feedback, comment, option, reason = sub["cancellation_details"]
    return SubscriptionEnded(
        **_about(env, sub),
        ended_at=sub["ended_at"] if sub["ended_at"] is not None else env["created"],
        reason=reason,
        feedback=feedback,
        comment=comment or None,
        feedback_option=option,
    )


def _subscription(data: Obj) -> _Sub:
    """``data.object`` read as a subscription, with the facts derived from it
    (the same functions `SubscriptionSnapshot` uses)."""
    value = data.data.get("object")
    if value is None:
        raise StripeObjectError(data.where("object"), "missing")
    sub = read_subscription(value)
    items = sub["items"]
    scheduled = scheduled_to_cancel(
        sub["status"], sub["cancel_at_period_end"], sub["cancel_at"]
    )
    sub["ended"] = sub["status"] in ENDED_STATUSES
    sub["scheduled"] = scheduled
    sub["effective_at"] = cancel_effective_at(
        scheduled, sub["cancel_at"], latest(i["current_period_end"] for i in items)
    )
    sub["mrr"] = mrr_of(sub, "subscription.items")
    sub["main_item"] = main_item(items)
    return sub


def _subscription_updated(env: _Envelope, data: Obj) -> list[CancellationEvent]:
    sub = _subscription(data)
    prev = data.opt_obj("previous_attributes") or Obj(
        {}, data.where("previous_attributes")
    )
    changed = prev.data.keys()
    found: list[CancellationEvent] = []

    status, cancel_at = sub["status"], sub["cancel_at"]
    status_before = status
    if "status" in changed:
        raw = prev.opt_string("status")
        if raw is not None:
            status_before = prev.member_of("status", raw, SubscriptionStatus)
    cancel_at_before = (
        prev.opt_integer("cancel_at") if "cancel_at" in changed else cancel_at
    )
    period_end_flag_before = (
        prev.boolean("cancel_at_period_end", default=False)
        if "cancel_at_period_end" in changed
        else sub["cancel_at_period_end"]
    )
    scheduled_before = scheduled_to_cancel(
        status_before, period_end_flag_before, cancel_at_before
    )
    schedule_changed = bool({"cancel_at", "cancel_at_period_end", "status"} & changed)

    if (
        schedule_changed
        and sub["scheduled"]
        and (not scheduled_before or cancel_at_before != cancel_at)
    ):
        found.append(
            CancellationScheduled(
                **_about(env, sub),
                effective_at=sub["effective_at"],
                billing_mode=sub["billing_mode"],
                cancel_at_period_end=sub["cancel_at_period_end"],
                requested_at=sub["canceled_at"],
            )
        )

    if "discounts" in changed and not sub["ended"]:
        where = prev.where("discounts")
        before = {
            read_discount(v, f"{where}[{n}]")[0]
            for n, v in enumerate(prev.array("discounts"))
        }
        found.extend(
            OfferRedeemed(**_about(env, sub), discount_id=id_, coupon_id=coupon)
            for id_, coupon in sub["discounts"]
            if id_ not in before
        )

    details = sub["cancellation_details"]
    if "cancellation_details" in changed and answered(*details[:3]):
        details_before = _details_before(data, prev)
        if _detail_key(details_before) != _detail_key(details):
            found.append(_feedback(env, sub))

    if (
        schedule_changed
        and scheduled_before
        and not sub["scheduled"]
        and not sub["ended"]
    ):
        found.append(
            CancellationWithdrawn(
                **_about(env, sub), previous_effective_at=cancel_at_before
            )
        )

    if (
        "status" in changed
        and status is SubscriptionStatus.CANCELED
        and status_before is not SubscriptionStatus.CANCELED
    ):
        found.append(_ended(env, sub))
    return found


def _subscription_deleted(env: _Envelope, data: Obj) -> list[CancellationEvent]:
    sub = _subscription(data)
    if sub["status"] is not SubscriptionStatus.CANCELED:
        return []  # incomplete_expired: it never started, nothing was canceled
    # The feedback rides on SubscriptionEnded only: an earlier update usually
    # reported it already, and a host acting on every FeedbackReceived (a survey
    # e-mail, say) must not act twice for one cancellation.
    return [_ended(env, sub)]


def _discount_created(env: _Envelope, data: Obj) -> list[CancellationEvent]:
    discount = data.obj("object")
    discount.check_object("discount")
    subscription = discount.opt_id_of("subscription")
    if subscription is None:
        return []  # a customer-wide discount: not an answer to a cancel flow
    discount_id, coupon_id = read_discount(discount.data, discount.path)
    return [
        OfferRedeemed(
            **env,
            subscription_id=subscription,
            customer_id=discount.opt_id_of("customer"),
            discount_id=discount_id,
            coupon_id=coupon_id,
        )
    ]


_PARSERS: Final = {
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
    "customer.discount.created": _discount_created,
}

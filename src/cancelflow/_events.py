"""Typed cancellation events, read from Stripe webhook events.

:func:`parse_event` turns one Stripe event (the verified JSON body) into a
non-empty list of frozen events. Subscription events are compared with their
``data.previous_attributes`` to see what *changed*:

* :class:`CancellationScheduled` — a cancellation is now pending (classic
  billing mode: ``cancel_at_period_end``; flexible: ``cancel_at`` alone), or its
  date moved;
* :class:`FeedbackReceived` — the customer's answer (``feedback``, ``comment``,
  ``feedback_option``) appeared or changed; often in a *second*
  ``customer.subscription.updated`` a few seconds after the schedule;
* :class:`CancellationWithdrawn` — a pending cancellation was removed (the
  customer renewed before the end);
* :class:`SubscriptionEnded` — the subscription is ``canceled`` (with Stripe's
  ``reason`` and the customer's feedback);
* :class:`OfferRedeemed` — a discount was added to the subscription
  (``customer.discount.created`` and/or a change of ``discounts``);
* :class:`NotAboutCancellation` — everything else.

One Stripe event can give several typed events (a schedule and its feedback in
one update). Nothing here imports ``stripe``; any JSON either parses or raises
:class:`~cancelflow.exceptions.EventPayloadError`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs

from cancelflow._format import format_amount, format_time
from cancelflow._read import Obj
from cancelflow._reasons import (
    CancellationDetails,
    CancellationFeedback,
    CancellationReason,
)
from cancelflow._subscription import (
    BillingMode,
    DiscountRef,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow.exceptions import EventPayloadError, StripeObjectError

__all__ = [
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


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in attrs.fields(cls))
    return names


@attrs.frozen(kw_only=True)
class CancellationEvent:
    """What every typed event knows about the Stripe event it came from.

    Attributes:
        event_id: the Stripe event's ``evt_…`` id.
        event_type: the Stripe event's ``type``
            (``customer.subscription.updated``).
        created: when Stripe created the event (unix seconds).
        livemode: whether it is a live-mode event.
    """

    kind: ClassVar[EventKind]

    event_id: str
    event_type: str
    created: int
    livemode: bool = False

    def describe(self) -> str:
        """One readable line saying what happened."""
        return f"{self.event_id} ({self.event_type}): {self._what()}"

    def _what(self) -> str:
        return "not about cancellation"

    def __str__(self) -> str:
        return self.describe()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (enum members as their wire strings), with ``kind``."""
        data: dict[str, Any] = {"kind": self.kind.value}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            data[name] = value.value if isinstance(value, enum.Enum) else value
        return data


@attrs.frozen(kw_only=True)
class _AboutSubscription(CancellationEvent):
    subscription_id: str
    customer_id: str | None
    mrr: int | None = None
    currency: str | None = None


@attrs.frozen(kw_only=True)
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
        mrr, currency: the subscription's MRR (minor units) and currency.
    """

    kind: ClassVar[EventKind] = EventKind.CANCELLATION_SCHEDULED

    effective_at: int | None = None
    billing_mode: BillingMode = BillingMode.CLASSIC
    cancel_at_period_end: bool = False
    requested_at: int | None = None

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


@attrs.frozen(kw_only=True)
class FeedbackReceived(_AboutSubscription):
    """The customer said why they cancel.

    Attributes:
        feedback: the reason picked on the portal's cancel page, if any.
        comment: the free text, if any.
        feedback_option: the id of a custom feedback option
            (``billing.FeedbackOption``), if one was chosen.
    """

    kind: ClassVar[EventKind] = EventKind.FEEDBACK_RECEIVED

    feedback: CancellationFeedback | None = None
    comment: str | None = None
    feedback_option: str | None = None

    def _what(self) -> str:
        text = _feedback_text(self.feedback, self.comment, self.feedback_option)
        return f"{self.subscription_id} feedback: {text}"


@attrs.frozen(kw_only=True)
class CancellationWithdrawn(_AboutSubscription):
    """A pending cancellation was removed: the customer renewed before the end.

    Attributes:
        previous_effective_at: when the withdrawn cancellation would have taken
            effect, if Stripe sent it.
    """

    kind: ClassVar[EventKind] = EventKind.CANCELLATION_WITHDRAWN

    previous_effective_at: int | None = None

    def _what(self) -> str:
        return (
            f"{self.subscription_id} renewed: the cancellation at "
            f"{format_time(self.previous_effective_at)} is withdrawn"
            f"{_mrr_text(self.mrr, self.currency)}"
        )


@attrs.frozen(kw_only=True)
class SubscriptionEnded(_AboutSubscription):
    """The subscription is canceled.

    Attributes:
        ended_at: when it ended (``ended_at``; the event time if Stripe sent none).
        reason: Stripe's reason (``cancellation_requested``, ``payment_failed``…).
        feedback, comment, feedback_option: the customer's answer, if any.
    """

    kind: ClassVar[EventKind] = EventKind.SUBSCRIPTION_ENDED

    ended_at: int | None = None
    reason: CancellationReason | None = None
    feedback: CancellationFeedback | None = None
    comment: str | None = None
    feedback_option: str | None = None

    def _what(self) -> str:
        reason = self.reason.value if self.reason else "no reason given"
        text = _feedback_text(self.feedback, self.comment, self.feedback_option)
        return (
            f"{self.subscription_id} ended at {format_time(self.ended_at)} "
            f"({reason}; {text}{_mrr_text(self.mrr, self.currency)})"
        )


@attrs.frozen(kw_only=True)
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

    kind: ClassVar[EventKind] = EventKind.OFFER_REDEEMED

    discount_id: str
    coupon_id: str | None = None

    def _what(self) -> str:
        coupon = f"coupon {self.coupon_id}" if self.coupon_id else "unknown coupon"
        return f"{self.subscription_id} got discount {self.discount_id} ({coupon})"


@attrs.frozen(kw_only=True)
class NotAboutCancellation(CancellationEvent):
    """A Stripe event that says nothing about a cancellation."""

    kind: ClassVar[EventKind] = EventKind.NOT_ABOUT_CANCELLATION


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
_ENUM_FIELDS: Final[Mapping[str, type[enum.StrEnum]]] = {
    "billing_mode": BillingMode,
    "feedback": CancellationFeedback,
    "reason": CancellationReason,
}


def event_from_json(data: Mapping[str, Any]) -> CancellationEvent:
    """Rebuild a typed event from :meth:`CancellationEvent.to_json` output.

    Raises:
        EventPayloadError: *data* is not such output.
    """
    kind = data.get("kind")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventPayloadError(f"not a stored cancelflow event (kind={kind!r})")
    kwargs: dict[str, Any] = {}
    try:
        for field in attrs.fields(cls):
            if field.name not in data:
                continue
            value = data[field.name]
            converter = _ENUM_FIELDS.get(field.name)
            kwargs[field.name] = (
                converter(value) if converter and value is not None else value
            )
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise EventPayloadError(f"not a stored cancelflow event: {exc}") from None


# -- parsing ----------------------------------------------------------------------


# What every typed event of one Stripe event shares: ``event_id``,
# ``event_type``, ``created`` and ``livemode``, as constructor arguments.
_Envelope = dict[str, Any]


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

    *payload* is the raw JSON body (``bytes``/``str``), the decoded dict, or a
    stripe-python ``Event``. Unknown event types give one
    :class:`NotAboutCancellation`.

    Raises:
        EventPayloadError: not JSON, not a Stripe event, or a field has an
            unexpected type or value (the message names its path; the
            :class:`~cancelflow.exceptions.StripeObjectError` is chained).
    """
    data = _load(payload)
    try:
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
    except StripeObjectError as exc:
        raise EventPayloadError(f"unreadable Stripe event: {exc}") from exc
    return found or [NotAboutCancellation(**env)]


def _about(env: _Envelope, snap: SubscriptionSnapshot) -> dict[str, Any]:
    return {
        **env,
        "subscription_id": snap.id,
        "customer_id": snap.customer,
        "mrr": snap.mrr,
        "currency": snap.currency,
    }


def _detail_key(
    d: CancellationDetails,
) -> tuple[str | None, str | None, str | None]:
    return (
        d.feedback.value if d.feedback else None,
        d.comment or None,
        d.feedback_option.id if d.feedback_option else None,
    )


def _feedback(env: _Envelope, snap: SubscriptionSnapshot) -> FeedbackReceived:
    d = snap.cancellation_details
    return FeedbackReceived(
        **_about(env, snap),
        feedback=d.feedback,
        comment=d.comment or None,
        feedback_option=d.feedback_option.id if d.feedback_option else None,
    )


def _ended(env: _Envelope, snap: SubscriptionSnapshot) -> SubscriptionEnded:
    d = snap.cancellation_details
    return SubscriptionEnded(
        **_about(env, snap),
        ended_at=snap.ended_at if snap.ended_at is not None else env["created"],
        reason=d.reason,
        feedback=d.feedback,
        comment=d.comment or None,
        feedback_option=d.feedback_option.id if d.feedback_option else None,
    )


def _snapshot(data: Obj) -> SubscriptionSnapshot:
    value = data.data.get("object")
    if value is None:
        raise StripeObjectError(data.where("object"), "missing")
    return SubscriptionSnapshot.from_stripe(value)


def _subscription_updated(env: _Envelope, data: Obj) -> list[CancellationEvent]:
    snap = _snapshot(data)
    prev = data.opt_obj("previous_attributes") or Obj(
        {}, data.where("previous_attributes")
    )
    changed = prev.data.keys()
    found: list[CancellationEvent] = []

    status_before = snap.status
    if "status" in changed:
        raw = prev.opt_string("status")
        if raw is not None:
            try:
                status_before = SubscriptionStatus(raw)
            except ValueError:
                raise StripeObjectError(
                    prev.where("status"), f"unknown value {raw!r}"
                ) from None
    cancel_at_before = (
        prev.opt_integer("cancel_at") if "cancel_at" in changed else snap.cancel_at
    )
    period_end_flag_before = (
        prev.boolean("cancel_at_period_end", default=False)
        if "cancel_at_period_end" in changed
        else snap.cancel_at_period_end
    )
    ended_before = status_before in (
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
    )
    scheduled_before = not ended_before and (
        period_end_flag_before or cancel_at_before is not None
    )
    schedule_changed = bool({"cancel_at", "cancel_at_period_end", "status"} & changed)

    if (
        schedule_changed
        and snap.scheduled_to_cancel
        and (not scheduled_before or cancel_at_before != snap.cancel_at)
    ):
        found.append(
            CancellationScheduled(
                **_about(env, snap),
                effective_at=snap.cancel_effective_at,
                billing_mode=snap.billing_mode,
                cancel_at_period_end=snap.cancel_at_period_end,
                requested_at=snap.canceled_at,
            )
        )

    if "discounts" in changed and not snap.ended:
        where = prev.where("discounts")
        before = {
            DiscountRef.from_value(v, f"{where}[{n}]").id
            for n, v in enumerate(prev.array("discounts"))
        }
        found.extend(
            OfferRedeemed(
                **_about(env, snap), discount_id=ref.id, coupon_id=ref.coupon_id
            )
            for ref in snap.discounts
            if ref.id not in before
        )

    if "cancellation_details" in changed and snap.cancellation_details.answered:
        details_before = CancellationDetails.from_stripe(
            prev.data.get("cancellation_details"),
            path=prev.where("cancellation_details"),
        )
        if _detail_key(details_before) != _detail_key(snap.cancellation_details):
            found.append(_feedback(env, snap))

    if (
        schedule_changed
        and scheduled_before
        and not snap.scheduled_to_cancel
        and not snap.ended
    ):
        found.append(
            CancellationWithdrawn(
                **_about(env, snap), previous_effective_at=cancel_at_before
            )
        )

    if (
        "status" in changed
        and snap.status is SubscriptionStatus.CANCELED
        and status_before is not SubscriptionStatus.CANCELED
    ):
        found.append(_ended(env, snap))
    return found


def _subscription_deleted(env: _Envelope, data: Obj) -> list[CancellationEvent]:
    snap = _snapshot(data)
    if snap.status is not SubscriptionStatus.CANCELED:
        return []  # incomplete_expired: it never started, nothing was canceled
    # The feedback rides on SubscriptionEnded only: an earlier update usually
    # reported it already, and a host acting on every FeedbackReceived (a survey
    # e-mail, say) must not act twice for one cancellation.
    return [_ended(env, snap)]


def _discount_created(env: _Envelope, data: Obj) -> list[CancellationEvent]:
    discount = data.obj("object")
    kind = discount.opt_string("object")
    if kind not in (None, "discount"):
        raise StripeObjectError(
            discount.where("object"), f"expected 'discount', got {kind!r}"
        )
    subscription = discount.opt_id_of("subscription")
    if subscription is None:
        return []  # a customer-wide discount: not an answer to a cancel flow
    ref = DiscountRef.from_value(discount.data, discount.path)
    return [
        OfferRedeemed(
            **env,
            subscription_id=subscription,
            customer_id=discount.opt_id_of("customer"),
            discount_id=ref.id,
            coupon_id=ref.coupon_id,
        )
    ]


_PARSERS: Final = {
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
    "customer.discount.created": _discount_created,
}

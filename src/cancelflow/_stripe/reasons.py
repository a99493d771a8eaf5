"""Why a subscription is canceled: what the customer chose and what Stripe records.

Stripe keeps two different enums on ``subscription.cancellation_details``:
``feedback`` is what the *customer* picked in the portal (8 values), ``reason``
is why the subscription *ended* (4 system values). They are two types here so
that they can never be mixed up.

The models built from them live elsewhere: `CancellationDetails` in
`cancelflow._stripe.details`, `FeedbackLabels` in `cancelflow._stripe.labels`.
This module stays free of ``attrs`` and ``typing``: the webhook parser reads
``cancellation_details`` with `read_details` on a cold start.
"""

from __future__ import annotations

from cancelflow._stripe.read import StripeEnum, storable_text
from cancelflow.exceptions import InvalidParameterError

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

    from cancelflow._stripe.read import Obj

__all__ = [
    "CancellationFeedback",
    "CancellationReason",
    "answered",
    "read_details",
]


class CancellationFeedback(StripeEnum):
    """A reason the customer chose on the portal's cancel page.

    Values are Stripe's wire strings (``cancellation_details.feedback`` and
    ``features.subscription_cancel.cancellation_reason.options``), in the order
    the portal lists them. A value Stripe adds later is read from Stripe's
    objects and events as an unknown value (``known`` is false, ``value`` the
    raw string); `parse()` refuses it, for values a person typed.
    """

    TOO_EXPENSIVE = "too_expensive"
    MISSING_FEATURES = "missing_features"
    SWITCHED_SERVICE = "switched_service"
    UNUSED = "unused"
    CUSTOMER_SERVICE = "customer_service"
    TOO_COMPLEX = "too_complex"
    LOW_QUALITY = "low_quality"
    OTHER = "other"

    @classmethod
    def parse(
        cls, value: str | CancellationFeedback, *, field: str = "feedback"
    ) -> CancellationFeedback:
        """Return the member for a wire value (or a member).

        Args:
            value: a wire string such as `"too_expensive"`, or a member.
            field: the parameter name used in the error.

        Returns:
            The member.

        Raises:
            InvalidParameterError: not one of the 8 reasons; the message lists them.
        """
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise InvalidParameterError(
                field, f"{value!r} is not a Stripe feedback value; use one of {allowed}"
            ) from None


class CancellationReason(StripeEnum):
    """Why Stripe says a subscription was canceled (``cancellation_details.reason``).

    This is a system value, not the customer's answer: see
    `CancellationFeedback` for that. An unknown (newer) reason is kept as a
    value, and counts as voluntary in the ledger (only the three involuntary
    reasons known here do not).
    """

    CANCELLATION_REQUESTED = "cancellation_requested"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_DISPUTED = "payment_disputed"
    CANCELED_BY_RETENTION_POLICY = "canceled_by_retention_policy"


if TYPE_CHECKING:
    DetailsData: TypeAlias = tuple[
        CancellationFeedback | None, str | None, str | None, CancellationReason | None
    ]
    """``cancellation_details`` as ``(feedback, comment, feedback_option, reason)``."""


def read_details(o: Obj) -> DetailsData:
    """Read ``cancellation_details`` into ``(feedback, comment, feedback_option
    id, reason)``.

    An unknown enum value is kept as a value (`known` false). The comment is
    the customer's free text: a U+0000 or a lone surrogate in it (which no
    ledger store can keep) is written as its JSON escape (`storable_text`).
    """
    feedback = o.opt_string("feedback")
    reason = o.opt_string("reason")
    option = o.opt_id_of("feedback_option") or None  # "" is no option
    comment = o.opt_string("comment")
    return (
        None
        if feedback is None
        else o.member_of("feedback", feedback, CancellationFeedback),
        None if comment is None else storable_text(comment),
        option,
        None if reason is None else o.member_of("reason", reason, CancellationReason),
    )


def answered(
    feedback: CancellationFeedback | None, comment: str | None, option: str | None
) -> bool:
    """Whether the customer gave any feedback (a reason, an option or a comment)."""
    return feedback is not None or option is not None or bool(comment)

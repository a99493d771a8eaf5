"""A frozen view of Stripe's ``billing.feedback_option``: a custom cancellation reason."""

from __future__ import annotations

import attrs

from cancelflow._stripe.read import Obj
from cancelflow.exceptions import StripeObjectError

__all__ = ["FeedbackOption"]


@attrs.frozen(kw_only=True)
class FeedbackOption:
    """A custom feedback option (``billing.feedback_option``).

    A portal configuration offers it on the cancel page next to Stripe's eight
    reasons (``cancellation_reason.feedback_options``); the one a customer
    picks lands in ``subscription.cancellation_details.feedback_option``.

    Attributes:
        id: the option's id.
        description: the text customers see (at most 100 characters).
        active: ``False`` once deactivated (it cannot be used again).
        livemode: ``True`` in live mode.
        deactivated_at: when it was deactivated (unix seconds), if it was.
    """

    id: str
    description: str
    active: bool = True
    livemode: bool = False
    deactivated_at: int | None = None

    @classmethod
    def from_stripe(cls, option: object) -> FeedbackOption:
        """Build from a ``stripe.billing.FeedbackOption`` or its JSON dict.

        Args:
            option: the feedback option.

        Returns:
            The frozen view.

        Raises:
            StripeObjectError: the object does not have the expected shape.

        Example:
            ```python
            from cancelflow import FeedbackOption

            option = FeedbackOption.from_stripe({
                "id": "fo_1", "object": "billing.feedback_option",
                "description": "Too many emails", "status": "active",
            })
            assert option.active and option.description == "Too many emails"
            ```
        """
        o = Obj.of(option, "feedback_option")
        o.check_object("billing.feedback_option")
        status = o.string("status")
        if status not in ("active", "inactive"):
            raise StripeObjectError(
                o.where("status"), f"expected 'active' or 'inactive', got {status!r}"
            )
        transitions = o.opt_obj("status_transitions")
        return cls(
            id=o.string("id"),
            description=o.string("description"),
            active=status == "active",
            livemode=o.boolean("livemode", default=False),
            deactivated_at=transitions.opt_integer("deactivated_at")
            if transitions
            else None,
        )

"""``subscription.cancellation_details`` as a frozen value."""

from __future__ import annotations

import attrs

from cancelflow._stripe.read import Obj
from cancelflow._stripe.reasons import (
    CancellationFeedback,
    CancellationReason,
    answered,
    read_details,
)

# Not ``typing.TYPE_CHECKING``, as in the modules this one builds on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from cancelflow._stripe.reasons import DetailsData

__all__ = ["CancellationDetails", "FeedbackOptionRef", "details_from"]


@attrs.frozen
class FeedbackOptionRef:
    """A custom feedback option (`billing.FeedbackOption`) by its id.

    Attributes:
        id: the feedback option's id.
    """

    id: str


@attrs.frozen(kw_only=True)
class CancellationDetails:
    """``subscription.cancellation_details`` as a value.

    Attributes:
        feedback: what the customer chose, if they answered.
        comment: the free text the customer wrote (usually with ``other``).
        feedback_option: the custom feedback option chosen, if any.
        reason: why Stripe canceled (or will cancel) the subscription.
    """

    feedback: CancellationFeedback | None = None
    comment: str | None = None
    feedback_option: FeedbackOptionRef | None = None
    reason: CancellationReason | None = None

    @classmethod
    def from_stripe(
        cls, value: object, *, path: str = "cancellation_details"
    ) -> CancellationDetails:
        """Parse Stripe's `cancellation_details` (a dict or `StripeObject`).

        Args:
            value: the `cancellation_details` value; `None` gives empty details.
            path: where it sits, named in errors.

        Returns:
            The details.

        Raises:
            StripeObjectError: a field has the wrong type or an unknown enum value.
        """
        if value is None:
            return cls()
        return cls.from_obj(Obj.of(value, path))

    @classmethod
    def from_obj(cls, o: Obj) -> CancellationDetails:
        """Read the details through a reader; `from_stripe` is the public way in.

        Args:
            o: the object, wrapped in cancelflow's reader (which names the path of a
                bad field).

        Returns:
            The model.
        """
        return details_from(read_details(o))

    @property
    def answered(self) -> bool:
        """Whether the customer gave any feedback (a reason, option or comment)."""
        option = self.feedback_option.id if self.feedback_option else None
        return answered(self.feedback, self.comment, option)


def details_from(data: DetailsData) -> CancellationDetails:
    """The model of ``cancellation_details`` read by
    `read_details`."""
    feedback, comment, option, reason = data
    return CancellationDetails(
        feedback=feedback,
        comment=comment,
        feedback_option=FeedbackOptionRef(option) if option else None,
        reason=reason,
    )

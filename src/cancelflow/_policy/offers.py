"""What a retention rule can decide: a coupon offer, or explicitly no offer."""

from __future__ import annotations

import attrs

from cancelflow._ids import check_id
from cancelflow._validate import is_bool, is_name
from cancelflow.exceptions import InvalidParameterError, PolicyError

__all__ = ["NoOffer", "Offer"]


@attrs.frozen
class Offer:
    """Offer this coupon on the cancel page (``retention.coupon_offer``).

    Attributes:
        coupon: the Stripe coupon's id (a coupon, not a promotion code: the
            portal accepts only coupons). It is checked as every cancel link
            checks it, so that an id Stripe would refuse (with a space, ``/``,
            ``?``, ``#``, a control character, or over 5000 characters) fails
            when the policy is built or loaded, not on every cancel click.
        replace_discount: the offer may be made to a subscription that already
            carries a discount. Off by default (the ``existing_discount`` guard
            blocks it); whether the portal then replaces or stacks the
            discount is not documented by Stripe.
    """

    coupon: str
    replace_discount: bool = False

    def __attrs_post_init__(self) -> None:
        if not is_name(self.coupon):
            raise PolicyError("an offer needs a coupon id", key_path="coupon")
        try:
            check_id(self.coupon, "coupon")
        except InvalidParameterError as err:
            raise PolicyError(
                f"{err.rule}; Stripe refuses such a coupon id, so every cancel link "
                "offering it would fail",
                key_path="coupon",
            ) from None
        if not is_bool(self.replace_discount):
            raise PolicyError("must be true or false", key_path="replace_discount")

    def describe(self) -> str:
        """Say what this outcome offers.

        Returns:
            The coupon offered, in a few words.
        """
        return f"coupon {self.coupon}"


@attrs.frozen
class NoOffer:
    """Explicitly offer nothing: the customer goes straight to the cancel page."""

    def describe(self) -> str:
        """Say what this outcome offers.

        Returns:
            `"no offer"`.
        """
        return "no offer"


NO_OFFER = NoOffer()

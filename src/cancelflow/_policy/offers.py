"""What a retention rule can decide: a coupon offer, or explicitly no offer."""

from __future__ import annotations

import attrs

from cancelflow._validate import is_bool, is_name
from cancelflow.exceptions import PolicyError

__all__ = ["NoOffer", "Offer"]


@attrs.frozen
class Offer:
    """Offer this coupon on the cancel page (``retention.coupon_offer``).

    Attributes:
        coupon: the Stripe coupon's id (a coupon, not a promotion code: the
            portal accepts only coupons).
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
        if not is_bool(self.replace_discount):
            raise PolicyError("must be true or false", key_path="replace_discount")

    def describe(self) -> str:
        return f"coupon {self.coupon}"


@attrs.frozen
class NoOffer:
    """Explicitly offer nothing: the customer goes straight to the cancel page."""

    def describe(self) -> str:
        return "no offer"


NO_OFFER = NoOffer()

"""Discounts: a coupon applied to a subscription (no routes of their own).

Stripe's ``Discount`` "can't be fetched by ID"; it shows in
``subscription.discounts`` (ids, or objects with ``expand[]=discounts``) and
in ``customer.discount.*`` events. ``source.coupon`` names the coupon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from cancelflow.testing._clock import add_interval
from cancelflow.testing._errors import ApiError
from cancelflow.testing._resources._common import JSON, Store, operation
from cancelflow.testing._resources.coupons import CouponRecord
from cancelflow.testing._store import Record

if TYPE_CHECKING:
    from cancelflow.testing._resources.subscriptions import SubscriptionRecord

__all__ = ["Discounts", "coupon_problem"]


class Discounts(Store[Record]):
    noun: ClassVar[str] = "discount"

    @operation
    def create(self, coupon: CouponRecord, sub: SubscriptionRecord) -> Record:
        """Apply *coupon* to *sub* (counts a redemption; emits ``customer.discount.created``).

        The caller puts the id into ``subscription.discounts`` and emits the
        subscription's own event.
        """
        b = self.b
        now = b.now()
        months = coupon.obj["duration_in_months"]
        obj: JSON = {
            "id": b.new_id("di"),
            "object": "discount",
            "checkout_session": None,
            "customer": sub.obj["customer"],
            "customer_account": None,
            "end": None if months is None else add_interval(now, "month", months),
            "invoice": None,
            "invoice_item": None,
            "promotion_code": None,
            "source": {"coupon": coupon.id, "type": "coupon"},
            "start": now,
            "subscription": sub.id,
            "subscription_item": None,
        }
        record = self.store.add(Record(obj))
        b.coupons.redeem(coupon)
        b.emit("customer.discount.created", obj)
        return record

    @operation
    def delete(self, record: Record) -> None:
        """End a discount (emits ``customer.discount.deleted``)."""
        self.store.remove(record.id)
        self.b.emit("customer.discount.deleted", record.obj)


def coupon_problem(
    discounts: Discounts,
    coupon: CouponRecord,
    currency: str,
    products: set[str],
    param: str,
) -> ApiError | None:
    """Why *coupon* cannot be applied to a subscription, as Stripe's error (or ``None``).

    Checks, in order: valid (``redeem_by``, ``max_redemptions``); an
    ``amount_off`` coupon in the subscription's currency; ``amount_off`` with
    ``duration=forever`` (refused since 2025-03-31.basil);
    ``applies_to.products``. The wording of each message is UNCONFIRMED.
    """
    coupons = discounts.b.coupons
    if not coupons.is_valid(coupon):
        return ApiError.state(
            f"This coupon cannot be redeemed because it is no longer valid: {coupon.id}",
            param=param,
            code="coupon_expired",
        )
    if coupon.obj["amount_off"] is not None:
        if coupons.amount_in(coupon, currency) is None:
            return ApiError.state(
                f"The coupon {coupon.id} has no amount in {currency}, the currency "
                "of the subscription.",
                param=param,
            )
        if coupon.obj["duration"] == "forever":
            return ApiError.state(
                "Coupons with amount_off and duration=forever cannot be applied to "
                "subscriptions.",
                param=param,
            )
    if coupon.applies_to is not None and not products & set(
        coupon.applies_to["products"]
    ):
        return ApiError.state(
            f"The coupon {coupon.id} does not apply to any product of this subscription.",
            param=param,
        )
    return None

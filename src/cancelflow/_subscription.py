"""A frozen snapshot of a Stripe subscription, with the facts cancellation needs.

Built from a stripe-python ``Subscription`` or from the plain dict inside a
webhook (``event["data"]["object"]``). Timestamps stay Stripe's unix seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from math import lcm
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import attrs

from cancelflow._read import Obj, frozen_map
from cancelflow._reasons import CancellationDetails
from cancelflow.exceptions import StripeObjectError

if TYPE_CHECKING:
    from fractions import Fraction

__all__ = [
    "BillingMode",
    "DiscountRef",
    "SubscriptionItemSnapshot",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
]


class SubscriptionStatus(enum.StrEnum):
    """``subscription.status``, Stripe's wire values."""

    ACTIVE = "active"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    TRIALING = "trialing"
    UNPAID = "unpaid"


class BillingMode(enum.StrEnum):
    """``subscription.billing_mode.type``.

    It changes how the portal schedules a cancel: ``classic`` sets
    ``cancel_at_period_end``, ``flexible`` sets only ``cancel_at``.
    """

    CLASSIC = "classic"
    FLEXIBLE = "flexible"


ENDED_STATUSES: Final = frozenset(
    {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
)

# An item billed every interval costs ``amount × factor / 12`` a month: the
# factor is 1 for a year, 12 for a month, 52 for a week and 365 for a day.
_MONTH_TWELFTHS: Final[Mapping[str, int]] = MappingProxyType(
    {"day": 365, "week": 52, "month": 12, "year": 1}
)


@attrs.frozen(kw_only=True)
class SubscriptionItemSnapshot:
    """One item of a subscription.

    Attributes:
        id: the ``si_…`` id.
        price_id: the price's id.
        product_id: the price's product id.
        interval: ``day``, ``week``, ``month`` or ``year``; ``None`` for a
            one-time price.
        interval_count: how many intervals between bills.
        quantity: the quantity (1 when Stripe sends none, as for metered prices).
        unit_amount: the price per unit in minor units; ``None`` for tiered or
            custom-amount prices.
        usage_type: ``licensed`` or ``metered`` (metered items have no MRR here).
        current_period_start: start of the item's current period (unix seconds).
        current_period_end: end of the item's current period (unix seconds).
    """

    id: str
    price_id: str
    product_id: str
    interval: str | None
    interval_count: int = 1
    quantity: int = 1
    unit_amount: int | None = None
    usage_type: str = "licensed"
    current_period_start: int | None = None
    current_period_end: int | None = None

    @classmethod
    def from_obj(cls, o: Obj) -> SubscriptionItemSnapshot:
        price = o.obj("price")
        recurring = price.opt_obj("recurring")
        quantity = o.opt_integer("quantity")
        return cls(
            id=o.string("id"),
            price_id=price.string("id"),
            product_id=price.id_of("product"),
            interval=recurring.string("interval") if recurring else None,
            interval_count=(recurring.opt_integer("interval_count") or 1)
            if recurring
            else 1,
            quantity=1 if quantity is None else quantity,
            unit_amount=price.opt_integer("unit_amount"),
            usage_type=(recurring.opt_string("usage_type") or "licensed")
            if recurring
            else "licensed",
            current_period_start=o.opt_integer("current_period_start"),
            current_period_end=o.opt_integer("current_period_end"),
        )

    def monthly_ratio(self) -> tuple[int, int]:
        """This item's amount per month as ``(numerator, denominator)`` in minor
        units, exactly; ``(0, 1)`` for items that do not count."""
        if (
            self.unit_amount is None
            or self.interval is None
            or self.usage_type == "metered"
            or self.interval_count <= 0
        ):
            return (0, 1)
        twelfths = _MONTH_TWELFTHS.get(self.interval)
        if twelfths is None:
            return (0, 1)
        return (self.unit_amount * self.quantity * twelfths, 12 * self.interval_count)

    @property
    def monthly_amount(self) -> Fraction:
        """This item's recurring amount per month, in minor units, exactly."""
        from fractions import Fraction

        return Fraction(*self.monthly_ratio())


@attrs.frozen
class DiscountRef:
    """A discount on the subscription: its ``di_…`` id and, when Stripe sent the
    expanded object, the coupon it comes from."""

    id: str
    coupon_id: str | None = None

    @classmethod
    def from_value(cls, value: object, path: str) -> DiscountRef:
        if isinstance(value, str):
            return cls(value)
        o = Obj.of(value, path)
        source = o.opt_obj("source")
        coupon = source.opt_id_of("coupon") if source else None
        if coupon is None:
            coupon = o.opt_id_of("coupon")  # API versions before 2025-09-30.clover
        return cls(o.string("id"), coupon)


@attrs.frozen(kw_only=True)
class SubscriptionSnapshot:
    """The facts of one Stripe subscription that cancellation depends on.

    Build it with :meth:`from_stripe`. Derived facts are properties:
    :attr:`scheduled_to_cancel`, :attr:`can_be_canceled`, :attr:`mrr`.
    """

    id: str
    customer: str
    status: SubscriptionStatus
    currency: str
    items: tuple[SubscriptionItemSnapshot, ...] = ()
    discounts: tuple[DiscountRef, ...] = ()
    billing_mode: BillingMode = BillingMode.CLASSIC
    cancel_at: int | None = None
    cancel_at_period_end: bool = False
    canceled_at: int | None = None
    ended_at: int | None = None
    cancellation_details: CancellationDetails = attrs.field(factory=CancellationDetails)
    trial_start: int | None = None
    trial_end: int | None = None
    schedule: str | None = None
    paused: bool = False
    created: int | None = None
    start_date: int | None = None
    metadata: Mapping[str, str] = attrs.field(factory=dict, converter=frozen_map)

    @classmethod
    def from_stripe(cls, subscription: object) -> SubscriptionSnapshot:
        """Build a snapshot from a ``stripe.Subscription`` or its JSON dict.

        Raises:
            StripeObjectError: the object is not a subscription or a field has
                the wrong type; the message names the field's path.
        """
        o = Obj.of(subscription, "subscription")
        kind = o.opt_string("object")
        if kind not in (None, "subscription"):
            raise StripeObjectError(
                "subscription.object", f"expected 'subscription', got {kind!r}"
            )
        status = o.string("status")
        try:
            status_value = SubscriptionStatus(status)
        except ValueError:
            raise StripeObjectError(
                o.where("status"), f"unknown value {status!r}"
            ) from None
        mode = o.opt_obj("billing_mode")
        mode_type = mode.opt_string("type") if mode else None
        try:
            billing_mode = BillingMode(mode_type or "classic")
        except ValueError:
            raise StripeObjectError(
                "subscription.billing_mode.type", f"unknown value {mode_type!r}"
            ) from None
        items_obj = o.opt_obj("items")
        items = (
            tuple(SubscriptionItemSnapshot.from_obj(i) for i in items_obj.objs("data"))
            if items_obj
            else ()
        )
        # Before API version 2025-03-31.basil the period was the subscription's,
        # not the items': carry it down to items that have none of their own.
        period_end = o.opt_integer("current_period_end")
        if period_end is not None:
            period_start = o.opt_integer("current_period_start")
            items = tuple(
                i
                if i.current_period_end is not None
                else attrs.evolve(
                    i,
                    current_period_start=period_start,
                    current_period_end=period_end,
                )
                for i in items
            )
        discounts_where = o.where("discounts")
        details = o.opt_obj("cancellation_details")
        return cls(
            id=o.string("id"),
            customer=o.id_of("customer"),
            status=status_value,
            currency=o.string("currency").lower(),
            items=items,
            discounts=tuple(
                DiscountRef.from_value(d, f"{discounts_where}[{n}]")
                for n, d in enumerate(o.array("discounts"))
            ),
            billing_mode=billing_mode,
            cancel_at=o.opt_integer("cancel_at"),
            cancel_at_period_end=o.boolean("cancel_at_period_end", default=False),
            canceled_at=o.opt_integer("canceled_at"),
            ended_at=o.opt_integer("ended_at"),
            cancellation_details=CancellationDetails.from_obj(details)
            if details
            else CancellationDetails(),
            trial_start=o.opt_integer("trial_start"),
            trial_end=o.opt_integer("trial_end"),
            schedule=o.opt_id_of("schedule"),
            paused=status_value is SubscriptionStatus.PAUSED
            or o.opt_obj("pause_collection") is not None,
            created=o.opt_integer("created"),
            start_date=o.opt_integer("start_date"),
            metadata=o.str_map("metadata"),
        )

    # -- derived facts ---------------------------------------------------------

    @property
    def ended(self) -> bool:
        """Whether the subscription is over (``canceled`` or ``incomplete_expired``)."""
        return self.status in ENDED_STATUSES

    @property
    def scheduled_to_cancel(self) -> bool:
        """Whether a cancellation is pending.

        True in classic billing mode (``cancel_at_period_end``) **and** in
        flexible billing mode (``cancel_at`` set, ``cancel_at_period_end`` false).
        """
        return not self.ended and (
            self.cancel_at_period_end or self.cancel_at is not None
        )

    @property
    def can_be_canceled(self) -> bool:
        """Whether a cancel page for this subscription makes sense now."""
        return not self.ended and not self.scheduled_to_cancel

    @property
    def cancel_effective_at(self) -> int | None:
        """When a pending cancellation takes effect (unix seconds), if known."""
        if not self.scheduled_to_cancel:
            return None
        if self.cancel_at is not None:
            return self.cancel_at
        return self.current_period_end

    @property
    def current_period_end(self) -> int | None:
        """The latest item period end (flexible billing mode can differ per item)."""
        ends = [
            i.current_period_end for i in self.items if i.current_period_end is not None
        ]
        return max(ends) if ends else None

    @property
    def trialing(self) -> bool:
        return self.status is SubscriptionStatus.TRIALING

    @property
    def price_ids(self) -> frozenset[str]:
        return frozenset(i.price_id for i in self.items)

    @property
    def product_ids(self) -> frozenset[str]:
        return frozenset(i.product_id for i in self.items)

    @property
    def coupon_ids(self) -> frozenset[str]:
        """Coupons known to be applied (only when discounts were expanded)."""
        return frozenset(d.coupon_id for d in self.discounts if d.coupon_id)

    def mrr_ratio(self) -> tuple[int, int]:
        """Monthly recurring revenue as ``(numerator, denominator)``, exactly."""
        numerator, denominator = 0, 1
        for item in self.items:
            n, d = item.monthly_ratio()
            if not n:
                continue
            if d == denominator:
                numerator += n
            elif not numerator:
                numerator, denominator = n, d
            else:
                common = lcm(denominator, d)
                numerator = numerator * (common // denominator) + n * (common // d)
                denominator = common
        return numerator, denominator

    @property
    def mrr_exact(self) -> Fraction:
        """Monthly recurring revenue in minor units, as an exact fraction."""
        from fractions import Fraction

        return Fraction(*self.mrr_ratio())

    @property
    def mrr(self) -> int:
        """Monthly recurring revenue in minor units, rounded half to even.

        Every licensed item counts ``unit_amount × quantity`` normalised to one
        month (a year is 12 months, a week 12/52 of one, a day 12/365), divided by
        ``interval_count``. Metered, tiered and one-time items count 0; discounts
        are not subtracted. Computed in integers (no floating point).
        """
        numerator, denominator = self.mrr_ratio()
        quotient, remainder = divmod(numerator, denominator)
        twice = 2 * remainder
        if twice > denominator or (twice == denominator and quotient % 2):
            quotient += 1
        return quotient

"""A frozen snapshot of a Stripe subscription, with the facts cancellation needs.

Built from a stripe-python ``Subscription`` or from the plain dict inside a
webhook (``event["data"]["object"]``). Timestamps stay Stripe's unix seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from cancelflow._stripe.details import CancellationDetails, details_from
from cancelflow._stripe.read import frozen_map
from cancelflow._stripe.subscription_data import (
    ENDED_STATUSES,
    BillingMode,
    SubscriptionStatus,
    cancel_effective_at,
    latest,
    monthly_ratio,
    read_subscription,
    round_half_even,
    scheduled_to_cancel,
)
from cancelflow._stripe.subscription_data import mrr_ratio as _mrr_ratio

if TYPE_CHECKING:
    from fractions import Fraction

__all__ = [
    "BillingMode",
    "DiscountRef",
    "SubscriptionItemSnapshot",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
]


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

    def monthly_ratio(self) -> tuple[int, int]:
        """Return this item's amount per month, exactly, as a fraction.

        Returns:
            `(numerator, denominator)` in minor units; `(0, 1)` for items that do
            not count (metered).
        """
        return monthly_ratio(
            self.unit_amount,
            self.quantity,
            self.interval,
            self.interval_count,
            self.usage_type,
        )

    @property
    def monthly_amount(self) -> Fraction:
        """This item's recurring amount per month, in minor units, exactly."""
        from fractions import Fraction

        return Fraction(*self.monthly_ratio())


@attrs.frozen
class DiscountRef:
    """A discount on the subscription, and the coupon it comes from when known.

    Attributes:
        id: the discount's `di_…` id.
        coupon_id: the coupon's id, when Stripe sent the expanded discount.
        duration: the coupon's `duration` (`once`, `repeating`, `forever`),
            when Stripe sent the coupon itself (`discounts.source.coupon`
            expanded, as [`StripeGateway`][cancelflow.StripeGateway] asks);
            `None`: the coupon's terms are unknown.
        percent_off: the coupon's `percent_off`, when known.
        amount_off: the coupon's `amount_off`, when known.
    """

    id: str
    coupon_id: str | None = None
    duration: str | None = None
    percent_off: float | None = None
    amount_off: int | None = None

    @property
    def terms(self) -> tuple[str, float | None, int | None] | None:
        """`(duration, percent_off, amount_off)`, or `None` when unknown."""
        if self.duration is None:
            return None
        return (self.duration, self.percent_off, self.amount_off)


@attrs.frozen(kw_only=True)
class SubscriptionSnapshot:
    """The facts of one Stripe subscription that cancellation depends on.

    Build it with `from_stripe`. Derived facts are properties:
    `scheduled_to_cancel` (classic and flexible billing mode), `can_be_canceled`,
    `mrr`.

    Attributes:
        id: the `sub_…` id.
        customer: the `cus_…` id of its customer.
        status: its [`SubscriptionStatus`][cancelflow.SubscriptionStatus].
        currency: its currency (lower-case).
        items: its items ([`SubscriptionItemSnapshot`][cancelflow.SubscriptionItemSnapshot]).
        discounts: its discounts ([`DiscountRef`][cancelflow.DiscountRef]).
        billing_mode: `classic` or `flexible` ([`BillingMode`][cancelflow.BillingMode]).
        cancel_at: when a scheduled cancel takes effect (unix seconds), if any.
        cancel_at_period_end: whether it cancels at the period's end (classic mode).
        canceled_at: when the cancel was requested, if it was.
        ended_at: when it ended, if it has.
        cancellation_details: the customer's answer and Stripe's reason
            ([`CancellationDetails`][cancelflow.CancellationDetails]).
        trial_start: when its trial started, if it has one.
        trial_end: when its trial ends, if it has one.
        schedule: the `sub_sched_…` id of the schedule managing it, if any.
        paused: whether collection is paused.
        created: when it was created (unix seconds).
        start_date: when it started (unix seconds).
        metadata: its metadata.
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
    metadata: Mapping[str, str] = attrs.field(
        factory=dict, converter=frozen_map, hash=False
    )

    @classmethod
    def from_stripe(cls, subscription: object) -> SubscriptionSnapshot:
        """Build a snapshot from a `stripe.Subscription` or its JSON dict.

        Args:
            subscription: the object (a webhook's `data.object` too).

        Returns:
            The snapshot.

        Raises:
            StripeObjectError: the object is not a subscription or a field has
                the wrong type; the message names the field's path.
        """
        fields = read_subscription(subscription)
        terms = fields.pop("discount_terms")
        return cls(
            **{
                **fields,
                "items": tuple(
                    SubscriptionItemSnapshot(**item) for item in fields["items"]
                ),
                "discounts": tuple(
                    DiscountRef(*d, *(t or (None, None, None)))
                    for d, t in zip(fields["discounts"], terms, strict=True)
                ),
                "cancellation_details": details_from(fields["cancellation_details"]),
            }
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
        return scheduled_to_cancel(
            self.status, self.cancel_at_period_end, self.cancel_at
        )

    @property
    def can_be_canceled(self) -> bool:
        """Whether a cancel page for this subscription makes sense now."""
        return not self.ended and not self.scheduled_to_cancel

    @property
    def cancel_effective_at(self) -> int | None:
        """When a pending cancellation takes effect (unix seconds), if known."""
        return cancel_effective_at(
            self.scheduled_to_cancel, self.cancel_at, self.current_period_end
        )

    @property
    def current_period_end(self) -> int | None:
        """The latest item period end (flexible billing mode can differ per item)."""
        return latest(i.current_period_end for i in self.items)

    @property
    def trialing(self) -> bool:
        """Whether the subscription is in a trial."""
        return self.status is SubscriptionStatus.TRIALING

    @property
    def price_ids(self) -> frozenset[str]:
        """The ids of the prices of its items."""
        return frozenset(i.price_id for i in self.items)

    @property
    def product_ids(self) -> frozenset[str]:
        """The ids of the products of its items."""
        return frozenset(i.product_id for i in self.items)

    @property
    def coupon_ids(self) -> frozenset[str]:
        """Coupons known to be applied (only when discounts were expanded)."""
        return frozenset(d.coupon_id for d in self.discounts if d.coupon_id)

    def mrr_ratio(self) -> tuple[int, int]:
        """Return the monthly recurring revenue, exactly, as a fraction.

        By cancelflow's definition of MRR (see `mrr`): a subscription that is
        not `active` or `past_due` counts 0, and a `forever` coupon's
        `percent_off` is taken off when its terms are known.

        Returns:
            `(numerator, denominator)` in minor units.
        """
        return _mrr_ratio(
            self.status,
            (item.monthly_ratio() for item in self.items),
            [d.terms for d in self.discounts],
            ended_at=self.ended_at,
            trial_end=self.trial_end,
        )

    @property
    def mrr_exact(self) -> Fraction:
        """Monthly recurring revenue in minor units, as an exact fraction."""
        from fractions import Fraction

        return Fraction(*self.mrr_ratio())

    @property
    def mrr(self) -> int:
        """Monthly recurring revenue in minor units, rounded half to even.

        cancelflow's one definition of MRR (docs/mrr.md, as Stripe Billing's
        analytics count it): an `active` or `past_due` subscription counts (a
        trial counts 0 until it converts; `unpaid`, `paused` and `incomplete`
        ones count 0), and an ended one counts the MRR it churned (0 if it
        ended in its trial). Every licensed item counts `unit_amount ×
        quantity` normalised to one month (a year is 12 months, a week 12/52 of
        one, a day 12/365), divided by `interval_count`; metered, tiered and
        one-time items count 0. A `duration=forever` coupon takes its
        `percent_off` off; `once` and `repeating` coupons do not change MRR. A
        discount whose coupon Stripe did not send (not expanded) is not
        subtracted: the gateway expands them. Computed in integers (no
        floating point).
        """
        return round_half_even(*self.mrr_ratio())

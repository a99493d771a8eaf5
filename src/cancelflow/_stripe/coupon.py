"""A frozen Stripe coupon and the pure checks of whether it fits a subscription."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import attrs

from cancelflow._stripe.read import Obj, frozen_int_map, frozen_map
from cancelflow._stripe.subscription import SubscriptionSnapshot
from cancelflow.exceptions import StripeObjectError

__all__ = ["Coupon", "CouponDuration", "CouponProblem"]


class CouponDuration(enum.StrEnum):
    """``coupon.duration``."""

    ONCE = "once"
    REPEATING = "repeating"
    FOREVER = "forever"


class CouponProblem(enum.StrEnum):
    """Why a coupon cannot be offered on a given subscription."""

    NOT_VALID = "not_valid"
    """Stripe marks it ``valid=false`` (deleted, used up or expired)."""
    USED_UP = "used_up"
    """``times_redeemed`` reached ``max_redemptions``."""
    PAST_REDEEM_BY = "past_redeem_by"
    """``redeem_by`` is in the past."""
    NOT_APPLICABLE = "not_applicable"
    """``applies_to.products`` contains none of the subscription's products."""
    CURRENCY_MISMATCH = "currency_mismatch"
    """An ``amount_off`` coupon with no amount in the subscription's currency."""
    FOREVER_AMOUNT_OFF = "forever_amount_off"
    """``amount_off`` with ``duration=forever``: refused on subscriptions since
    2025-03-31.basil."""

    @property
    def explanation(self) -> str:
        """Why the coupon cannot be offered, as a clause ("it has reached …")."""
        return _EXPLANATIONS[self]


_EXPLANATIONS: Final[Mapping[CouponProblem, str]] = {
    CouponProblem.NOT_VALID: "Stripe marks it as no longer valid",
    CouponProblem.USED_UP: "it has reached max_redemptions",
    CouponProblem.PAST_REDEEM_BY: "its redeem_by date has passed",
    CouponProblem.NOT_APPLICABLE: (
        "its applies_to.products excludes every product of the subscription"
    ),
    CouponProblem.CURRENCY_MISMATCH: (
        "it takes an amount off in another currency than the subscription's"
    ),
    CouponProblem.FOREVER_AMOUNT_OFF: (
        "it is an amount_off coupon with duration=forever, which Stripe refuses "
        "on subscriptions"
    ),
}


@attrs.frozen(kw_only=True)
class Coupon:
    """The facts of a Stripe coupon that decide whether it can be offered.

    Build it with `from_stripe`; `problems` says why it cannot go on a subscription.

    Attributes:
        id: the coupon's id.
        duration: `once`, `repeating` or `forever`
            ([`CouponDuration`][cancelflow.CouponDuration]).
        percent_off: the percentage taken off, or `None`.
        amount_off: the amount taken off in `currency` (minor units), or `None`.
        currency: the currency of `amount_off` (lower-case), or `None`.
        currency_options: `amount_off` in other currencies, by currency.
        duration_in_months: how many months a `repeating` coupon lasts.
        max_redemptions: how many times it can be redeemed in all, or `None`.
        times_redeemed: how many times it has been.
        redeem_by: the last moment it can be redeemed (unix seconds), or `None`.
        valid: Stripe's `valid` flag.
        applies_to_products: the products it is limited to; `None`: no limit.
        name: its display name.
        metadata: its metadata.
    """

    id: str
    duration: CouponDuration
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None
    currency_options: Mapping[str, int] = attrs.field(
        factory=dict, converter=frozen_int_map, hash=False
    )
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    times_redeemed: int = 0
    redeem_by: int | None = None
    valid: bool = True
    applies_to_products: frozenset[str] | None = None
    name: str | None = None
    metadata: Mapping[str, str] = attrs.field(
        factory=dict, converter=frozen_map, hash=False
    )

    @classmethod
    def from_stripe(cls, coupon: object) -> Coupon:
        """Build from a `stripe.Coupon` or its JSON dict.

        Args:
            coupon: the object (retrieved with `applies_to` and `currency_options`
                expanded, as the gateway does).

        Returns:
            The coupon.

        Raises:
            StripeObjectError: the object is not a coupon or a field has the wrong type.
        """
        o = Obj.of(coupon, "coupon")
        duration_value = o.member("duration", CouponDuration)
        applies = o.opt_obj("applies_to")
        options = o.opt_obj("currency_options")
        currency_options: dict[str, int] = {}
        if options is not None:
            for cur in options.data:
                amount = options.obj(cur).opt_integer("amount_off")
                if amount is not None:
                    currency_options[cur.lower()] = amount
        currency = o.opt_string("currency")
        return cls(
            id=o.string("id"),
            duration=duration_value,
            percent_off=o.opt_percent("percent_off"),
            amount_off=o.opt_integer("amount_off"),
            currency=currency.lower() if currency else None,
            currency_options=currency_options,
            duration_in_months=o.opt_integer("duration_in_months"),
            max_redemptions=o.opt_integer("max_redemptions"),
            times_redeemed=o.opt_integer("times_redeemed") or 0,
            redeem_by=o.opt_integer("redeem_by"),
            valid=o.boolean("valid", default=True),
            applies_to_products=_products(applies),
            name=o.opt_string("name"),
            metadata=o.str_map("metadata"),
        )

    def amount_off_in(self, currency: str) -> int | None:
        """Return the `amount_off` in a currency.

        Args:
            currency: a currency code (any case).

        Returns:
            The amount in minor units, or `None` if the coupon has none there.
        """
        currency = currency.lower()
        if self.amount_off is None:
            return None
        if self.currency == currency:
            return self.amount_off
        return self.currency_options.get(currency)

    def problems(
        self, subscription: SubscriptionSnapshot, *, now: int
    ) -> list[CouponProblem]:
        """List every reason this coupon cannot go on a subscription now.

        Args:
            subscription: the subscription it would go on.
            now: the time, unix seconds.

        Returns:
            The [`CouponProblem`][cancelflow.CouponProblem]s; empty when it can be offered.
        """
        found = self._validity_problems(now)
        if self.applies_to_products is not None and not (
            self.applies_to_products & subscription.product_ids
        ):
            found.append(CouponProblem.NOT_APPLICABLE)
        if self.amount_off is not None:
            if self.amount_off_in(subscription.currency) is None:
                found.append(CouponProblem.CURRENCY_MISMATCH)
            if self.duration is CouponDuration.FOREVER:
                found.append(CouponProblem.FOREVER_AMOUNT_OFF)
        return found

    def standing_problems(self, *, now: int) -> list[CouponProblem]:
        """List the problems that hold whatever the subscription.

        They are: not valid, used up, past `redeem_by`, `amount_off` with
        `duration=forever`.

        Args:
            now: the time, unix seconds.

        Returns:
            The [`CouponProblem`][cancelflow.CouponProblem]s.
        """
        found = self._validity_problems(now)
        if self.amount_off is not None and self.duration is CouponDuration.FOREVER:
            found.append(CouponProblem.FOREVER_AMOUNT_OFF)
        return found

    def _validity_problems(self, now: int) -> list[CouponProblem]:
        found: list[CouponProblem] = []
        if (
            self.max_redemptions is not None
            and self.times_redeemed >= self.max_redemptions
        ):
            found.append(CouponProblem.USED_UP)
        if self.redeem_by is not None and self.redeem_by <= now:
            found.append(CouponProblem.PAST_REDEEM_BY)
        if not self.valid and not found:
            found.append(CouponProblem.NOT_VALID)
        return found

    def monthly_discount(self, mrr: int, currency: str) -> int:
        """Return what the coupon takes off one month of revenue.

        Args:
            mrr: the monthly revenue, minor units.
            currency: its currency.

        Returns:
            The discount, minor units (0 when the coupon has no amount there).
        """
        if self.percent_off is not None:
            return round(mrr * self.percent_off / 100)
        amount = self.amount_off_in(currency)
        return min(mrr, amount) if amount is not None else 0

    def months(self, *, forever_months: int = 12) -> int:
        """Count the monthly bills the coupon discounts.

        Args:
            forever_months: how many months a `forever` coupon counts for.

        Returns:
            The count (`once` counts as one).
        """
        if self.duration is CouponDuration.ONCE:
            return 1
        if self.duration is CouponDuration.REPEATING:
            return self.duration_in_months or 1
        return forever_months


def _products(applies: Obj | None) -> frozenset[str] | None:
    """``applies_to.products`` as a set; ``None`` (no restriction) when Stripe
    sent no ``applies_to`` or an empty list."""
    if applies is None:
        return None
    where = applies.where("products")
    products = applies.array("products")
    for n, product in enumerate(products):
        if not isinstance(product, str):
            raise StripeObjectError(f"{where}[{n}]", "expected a product id string")
    return frozenset(products) or None

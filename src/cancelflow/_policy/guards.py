"""Guards: checks applied after the rules, which can veto an offer.

Rules say who *should* get an offer; guards say who *must not*, whatever the
rules say. Each guard is on by default and can be switched off in
`Guards`; ``docs/guards.md`` gives the reason each one exists.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, Protocol

import attrs

from cancelflow._policy.context import SECONDS_PER_DAY, DecisionContext
from cancelflow._policy.offers import Offer
from cancelflow._stripe.coupon import Coupon
from cancelflow._stripe.subscription import SubscriptionSnapshot, SubscriptionStatus
from cancelflow._validate import is_bool, is_int
from cancelflow.exceptions import PolicyError

__all__ = ["CouponSource", "Guard", "GuardBlock", "Guards"]


class Guard(enum.StrEnum):
    """The guards, by the name used in decisions, reports and TOML files."""

    NOT_CANCELABLE = "not_cancelable"
    """The subscription has ended or is already scheduled to cancel."""
    EXISTING_DISCOUNT = "existing_discount"
    """The subscription already carries a discount (unless the offer may
    replace it)."""
    COOLDOWN = "cooldown"
    """The customer was offered, or redeemed, an offer within the cooldown."""
    TRIALING = "trialing"
    """The subscription is in its trial."""
    PAST_DUE = "past_due"
    """The subscription's latest invoice is unpaid and being retried."""
    UNPAID = "unpaid"
    """Stripe gave up retrying and left the subscription unpaid."""
    INCOMPLETE = "incomplete"
    """The first payment has not succeeded yet."""
    PAUSED = "paused"
    """The subscription (or its payment collection) is paused."""
    SCHEDULE = "schedule"
    """A subscription schedule manages the subscription."""
    MULTI_ITEM = "multi_item"
    """The subscription has more than one item."""
    COUPON = "coupon"
    """The coupon cannot go on this subscription (see `CouponProblem`)."""
    UNKNOWN_STATUS = "unknown_status"
    """The subscription's status is a value Stripe added after this cancelflow
    (`status.known` is false): what it means for an offer is not known."""


COUPON_NOT_FOUND: Final = "not_found"
"""The `GuardBlock.code` of a coupon that does not exist."""


@attrs.frozen
class GuardBlock:
    """One guard that blocked (or would have blocked) an offer, and why.

    Attributes:
        guard: which guard.
        code: a stable code for reports: the guard's own name, or for the
            ``coupon`` guard the `CouponProblem` value (or
            ``not_found``).
        detail: one sentence for people.
    """

    guard: Guard
    code: str
    detail: str


class CouponSource(Protocol):
    """Anything that can look a coupon up by id (``None`` when there is none).

    `CouponCache` is one, over the gateway; a plain
    ``Mapping[str, Coupon]`` is accepted wherever a source is.
    """

    def get_coupon(self, coupon_id: str) -> Coupon | None:
        """Return the coupon with this id.

        Args:
            coupon_id: the coupon's id.

        Returns:
            Its [`Coupon`][cancelflow.Coupon], or `None` if it does not exist.
        """
        ...


CouponFacts = Mapping[str, Coupon] | CouponSource


_STATUS_GUARDS: Final[Mapping[SubscriptionStatus, Guard]] = {
    SubscriptionStatus.TRIALING: Guard.TRIALING,
    SubscriptionStatus.PAST_DUE: Guard.PAST_DUE,
    SubscriptionStatus.UNPAID: Guard.UNPAID,
    SubscriptionStatus.INCOMPLETE: Guard.INCOMPLETE,
}


# Blocks whose words never vary, made once.
_STATUS_BLOCKS: Final[Mapping[Guard, GuardBlock]] = {
    guard: GuardBlock(
        guard, guard.value, f"the subscription's status is {status.value}"
    )
    for status, guard in _STATUS_GUARDS.items()
}
_PAUSED_BLOCK: Final = GuardBlock(Guard.PAUSED, "paused", "the subscription is paused")
_ACTIVE: Final = SubscriptionStatus.ACTIVE


def _days(seconds: int) -> str:
    days = seconds // SECONDS_PER_DAY
    return "today" if days <= 0 else ("1 day ago" if days == 1 else f"{days} days ago")


@attrs.frozen(kw_only=True)
class Guards:
    """Which guards are on. All are on by default.

    Attributes:
        not_cancelable: no offer on a subscription that has ended or is already
            scheduled to cancel.
        existing_discount: no offer when the subscription already carries a
            discount, unless the offer says ``replace_discount``.
        cooldown: no offer when the ledger says this customer was offered an
            offer, or redeemed one, within *cooldown_days*.
        cooldown_days: the cooldown's length in days.
        trialing: no offer on a subscription in a trial.
        past_due: no offer on a `past_due` subscription.
        unpaid: no offer on an `unpaid` subscription.
        incomplete: no offer on an `incomplete` subscription.
        paused: no offer on a paused subscription (status ``paused`` or
            ``pause_collection`` set).
        schedule: no offer on a subscription managed by a schedule.
        multi_item: no offer on a subscription with more than one item.
        coupon: no offer of a coupon that does not exist or cannot go on this
            subscription (`Coupon.problems`).
        unknown_status: no offer on a subscription whose status is a value
            this cancelflow does not know (Stripe adds statuses over time).
    """

    not_cancelable: bool = True
    existing_discount: bool = True
    cooldown: bool = True
    cooldown_days: int = 90
    trialing: bool = True
    past_due: bool = True
    unpaid: bool = True
    incomplete: bool = True
    paused: bool = True
    schedule: bool = True
    multi_item: bool = True
    coupon: bool = True
    unknown_status: bool = True

    def __attrs_post_init__(self) -> None:
        for guard in Guard:
            if not is_bool(getattr(self, guard.value)):
                raise PolicyError("must be true or false", key_path=guard.value)
        if not is_int(self.cooldown_days) or self.cooldown_days < 0:
            raise PolicyError(
                f"must be an integer ≥ 0, got {self.cooldown_days!r}",
                key_path="cooldown_days",
            )

    @classmethod
    def none(cls) -> Guards:
        """Turn every guard off (for tests and backtests of the bare rules).

        Returns:
            Guards with every guard off.
        """
        return cls(**dict.fromkeys((g.value for g in Guard), False))

    @property
    def enabled(self) -> frozenset[Guard]:
        """The guards that are on."""
        return frozenset(g for g in Guard if getattr(self, g.value))

    def is_on(self, guard: Guard) -> bool:
        """Tell whether a guard is on.

        Args:
            guard: the guard.

        Returns:
            Whether it is on.
        """
        return bool(getattr(self, guard.value))

    # -- checks ------------------------------------------------------------------

    def subscription_blocks(self, context: DecisionContext) -> list[GuardBlock]:
        """List the blocks that do not depend on the offer.

        Args:
            context: what the decision knows.

        Returns:
            The [`GuardBlock`][cancelflow.GuardBlock]s.
        """
        sub = context.subscription
        blocks: list[GuardBlock] = []
        # Fast path: on an active, unscheduled, unpaused single-item
        # subscription, the usual case, no guard but the cooldown can block.
        if not (
            sub.status is _ACTIVE
            and not sub.cancel_at_period_end
            and sub.cancel_at is None
            and not sub.paused
            and sub.schedule is None
            and len(sub.items) <= 1
        ):
            self._state_blocks(sub, blocks)
        if self.cooldown:
            history = context.history
            redeemed, offered = history.last_redeemed_at, history.last_offered_at
            if redeemed is not None or offered is not None:
                block = self._cooldown_block(context.now, redeemed, offered)
                if block is not None:
                    blocks.append(block)
        return blocks

    def _state_blocks(
        self, sub: SubscriptionSnapshot, blocks: list[GuardBlock]
    ) -> None:
        """Add the blocks of the subscription's state (all but the cooldown)."""
        if self.not_cancelable and not sub.can_be_canceled:
            detail = (
                f"the subscription has ended ({sub.status.value})"
                if sub.ended
                else "the subscription is already scheduled to cancel"
            )
            blocks.append(GuardBlock(Guard.NOT_CANCELABLE, "not_cancelable", detail))
        status_guard = _STATUS_GUARDS.get(sub.status)
        if status_guard is not None and getattr(self, status_guard.value):
            blocks.append(_STATUS_BLOCKS[status_guard])
        if self.unknown_status and not sub.status.known:
            blocks.append(
                GuardBlock(
                    Guard.UNKNOWN_STATUS,
                    "unknown_status",
                    f"the subscription's status {sub.status.value!r} is not one "
                    "cancelflow knows",
                )
            )
        if self.paused and sub.paused:
            blocks.append(_PAUSED_BLOCK)
        if self.schedule and sub.schedule is not None:
            blocks.append(
                GuardBlock(
                    Guard.SCHEDULE,
                    "schedule",
                    f"the subscription is managed by schedule {sub.schedule}",
                )
            )
        if self.multi_item and len(sub.items) > 1:
            blocks.append(
                GuardBlock(
                    Guard.MULTI_ITEM,
                    "multi_item",
                    f"the subscription has {len(sub.items)} items",
                )
            )

    def _cooldown_block(
        self, now: int, redeemed: int | None, offered: int | None
    ) -> GuardBlock | None:
        window = self.cooldown_days * SECONDS_PER_DAY
        if redeemed is not None and now - redeemed < window:
            when, what = redeemed, "redeemed a retention offer"
        elif offered is not None and now - offered < window:
            when, what = offered, "was offered a retention offer"
        else:
            return None
        return GuardBlock(
            Guard.COOLDOWN,
            "cooldown",
            f"the customer {what} {_days(now - when)}; "
            f"the cooldown is {self.cooldown_days} days",
        )

    def offer_blocks(
        self, context: DecisionContext, offer: Offer, coupon: Coupon | None
    ) -> list[GuardBlock]:
        """List every block of an offer on this context.

        Args:
            context: what the decision knows.
            offer: the proposed offer.
            coupon: the coupon's facts; `None` when the coupon does not exist.

        Returns:
            The [`GuardBlock`][cancelflow.GuardBlock]s; empty when the offer may be made.
        """
        sub = context.subscription
        blocks = self.subscription_blocks(context)
        if self.existing_discount and sub.discounts and not offer.replace_discount:
            ids = ", ".join(d.id for d in sub.discounts)
            blocks.append(
                GuardBlock(
                    Guard.EXISTING_DISCOUNT,
                    "existing_discount",
                    f"the subscription already carries a discount ({ids})",
                )
            )
        if self.coupon:
            if coupon is None:
                blocks.append(
                    GuardBlock(
                        Guard.COUPON,
                        COUPON_NOT_FOUND,
                        f"coupon {offer.coupon} does not exist",
                    )
                )
            else:
                problems = coupon.problems(sub, now=context.now)
                if problems:
                    blocks.extend(
                        GuardBlock(
                            Guard.COUPON,
                            problem.value,
                            f"coupon {offer.coupon}: {problem.explanation}",
                        )
                        for problem in problems
                    )
        return blocks

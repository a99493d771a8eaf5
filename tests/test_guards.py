"""Guards: each one blocks what it should, can be switched off, and none is ever violated."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings

from cancelflow import (
    Coupon,
    CouponDuration,
    DiscountRef,
    Guard,
    Guards,
    Offer,
    RetentionPolicy,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow._policy.history import CustomerHistory
from policy_strategies import (
    NOW,
    coupon_maps,
    customers,
    guard_settings,
    histories,
    policies,
    subscriptions,
)

DAY = 86_400
TEN = Coupon(id="TEN", duration=CouponDuration.ONCE, percent_off=10.0)
ITEM = SubscriptionItemSnapshot(
    id="si_1",
    price_id="price_1",
    product_id="prod_1",
    interval="month",
    unit_amount=2_000,
)


def sub(**over) -> SubscriptionSnapshot:
    base = {
        "id": "sub_1",
        "customer": "cus_1",
        "status": SubscriptionStatus.ACTIVE,
        "currency": "usd",
        "items": (ITEM,),
    }
    base.update(over)
    return SubscriptionSnapshot(**base)


def decide(subscription, *, guards=None, offer=None, history=None, coupons=None):
    policy = RetentionPolicy(
        rules=[], default=offer or Offer("TEN"), guards=guards or Guards()
    )
    return policy.decide(
        subscription,
        now=NOW,
        history=history,
        coupons={"TEN": TEN} if coupons is None else coupons,
    )


CASES = [
    (Guard.NOT_CANCELABLE, sub(cancel_at_period_end=True), {}),
    (Guard.NOT_CANCELABLE, sub(status=SubscriptionStatus.CANCELED), {}),
    (Guard.EXISTING_DISCOUNT, sub(discounts=(DiscountRef("di_1"),)), {}),
    (
        Guard.COOLDOWN,
        sub(),
        {"history": CustomerHistory(last_offered_at=NOW - 10 * DAY)},
    ),
    (Guard.COOLDOWN, sub(), {"history": CustomerHistory(last_redeemed_at=NOW - DAY)}),
    (Guard.TRIALING, sub(status=SubscriptionStatus.TRIALING), {}),
    (Guard.PAST_DUE, sub(status=SubscriptionStatus.PAST_DUE), {}),
    (Guard.UNPAID, sub(status=SubscriptionStatus.UNPAID), {}),
    (Guard.INCOMPLETE, sub(status=SubscriptionStatus.INCOMPLETE), {}),
    (Guard.PAUSED, sub(paused=True), {}),
    (Guard.SCHEDULE, sub(schedule="sub_sched_1"), {}),
    (Guard.MULTI_ITEM, sub(items=(ITEM, attrs.evolve(ITEM, id="si_2"))), {}),
    (Guard.COUPON, sub(), {"coupons": {}}),
    (Guard.COUPON, sub(), {"coupons": {"TEN": attrs.evolve(TEN, valid=False)}}),
    (
        Guard.UNKNOWN_STATUS,
        sub(status=SubscriptionStatus.from_wire("suspended")),
        {},
    ),
]


@pytest.mark.parametrize(("guard", "subscription", "extra"), CASES)
def test_each_guard_blocks(guard, subscription, extra):
    """Each guard blocks the offer in its case, and says so in the decision."""
    decision = decide(subscription, **extra)
    assert decision.offer is None
    assert decision.proposed == Offer("TEN")
    assert guard in decision.guards
    assert all(b.detail for b in decision.blocked_by)


@pytest.mark.parametrize(("guard", "subscription", "extra"), CASES)
def test_each_guard_can_be_switched_off(guard, subscription, extra):
    """With its guard off (and nothing else in the way) the offer is made."""
    off = Guards.none()
    if guard is not Guard.COUPON:
        off = attrs.evolve(off, coupon=True)
    decision = decide(
        subscription, guards=attrs.evolve(off, **{guard.value: False}), **extra
    )
    assert guard not in decision.guards
    if not (guard is Guard.NOT_CANCELABLE and subscription.ended):
        assert decision.offer == Offer("TEN") or Guard.COUPON in decision.guards


def test_cooldown_window():
    """The cooldown blocks inside the window and lets through after it."""
    inside = CustomerHistory(last_offered_at=NOW - 89 * DAY)
    outside = CustomerHistory(last_offered_at=NOW - 90 * DAY)
    assert decide(sub(), history=inside).offer is None
    assert decide(sub(), history=outside).offer == Offer("TEN")
    short = Guards(cooldown_days=7)
    assert decide(
        sub(), history=CustomerHistory(last_offered_at=NOW - 8 * DAY), guards=short
    ).offer == Offer("TEN")
    details = decide(sub(), history=CustomerHistory(last_offered_at=NOW - 1)).blocked_by
    assert "today" in details[0].detail


def test_replace_discount_allows_discounted_subscriptions():
    """An offer that may replace a discount passes the existing-discount guard."""
    discounted = sub(discounts=(DiscountRef("di_1"),))
    assert decide(discounted, offer=Offer("TEN", replace_discount=True)).coupon == "TEN"


def test_coupon_problem_codes():
    """The coupon guard reports each coupon problem by its code."""
    used = attrs.evolve(TEN, max_redemptions=1, times_redeemed=1)
    decision = decide(sub(), coupons={"TEN": used})
    assert [(b.guard, b.code) for b in decision.blocked_by] == [
        (Guard.COUPON, "used_up")
    ]
    missing = decide(sub(), coupons={})
    assert [b.code for b in missing.blocked_by] == ["not_found"]
    forever = Coupon(
        id="TEN", duration=CouponDuration.FOREVER, amount_off=500, currency="eur"
    )
    codes = {b.code for b in decide(sub(), coupons={"TEN": forever}).blocked_by}
    assert codes == {"currency_mismatch", "forever_amount_off"}


def test_all_blocking_guards_are_reported():
    """Every guard that blocks is listed, not just the first."""
    decision = decide(
        sub(status=SubscriptionStatus.PAST_DUE, schedule="sub_sched_1"), coupons={}
    )
    assert decision.guards == {Guard.PAST_DUE, Guard.SCHEDULE, Guard.COUPON}


def test_guards_settings():
    """Guards() has every guard on; Guards.none() has every guard off."""
    assert Guards().enabled == frozenset(Guard)
    assert Guards.none().enabled == frozenset()
    assert Guards(multi_item=False).is_on(Guard.TRIALING)
    assert not Guards(multi_item=False).is_on(Guard.MULTI_ITEM)


def violated(guards: Guards, subscription, history, offer, coupon) -> set[Guard]:
    """An independent statement of each guard: which would forbid this offer."""
    found = set()
    if guards.not_cancelable and (
        subscription.status
        in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)
        or subscription.cancel_at_period_end
        or subscription.cancel_at is not None
    ):
        found.add(Guard.NOT_CANCELABLE)
    if (
        guards.existing_discount
        and subscription.discounts
        and not offer.replace_discount
    ):
        found.add(Guard.EXISTING_DISCOUNT)
    window = guards.cooldown_days * DAY
    if guards.cooldown and any(
        t is not None and NOW - t < window
        for t in (history.last_offered_at, history.last_redeemed_at)
    ):
        found.add(Guard.COOLDOWN)
    for status, guard in (
        (SubscriptionStatus.TRIALING, Guard.TRIALING),
        (SubscriptionStatus.PAST_DUE, Guard.PAST_DUE),
        (SubscriptionStatus.UNPAID, Guard.UNPAID),
        (SubscriptionStatus.INCOMPLETE, Guard.INCOMPLETE),
    ):
        if guards.is_on(guard) and subscription.status is status:
            found.add(guard)
    if guards.paused and subscription.paused:
        found.add(Guard.PAUSED)
    if guards.schedule and subscription.schedule is not None:
        found.add(Guard.SCHEDULE)
    if guards.multi_item and len(subscription.items) > 1:
        found.add(Guard.MULTI_ITEM)
    if guards.coupon and (coupon is None or coupon.problems(subscription, now=NOW)):
        found.add(Guard.COUPON)
    if guards.unknown_status and not subscription.status.known:
        found.add(Guard.UNKNOWN_STATUS)
    return found


@settings(max_examples=120)
@given(policies(), guard_settings, subscriptions(), customers, histories, coupon_maps())
def test_no_decision_violates_an_enabled_guard(  # noqa: PLR0917 - Hypothesis arguments
    policy, guards, subscription, customer, history, coupons
):
    """An offer is made only if no enabled guard forbids it; a block names exactly those."""
    policy = attrs.evolve(policy, guards=guards)
    decision = policy.decide(
        subscription, now=NOW, customer=customer, history=history, coupons=coupons
    )
    if decision.proposed is None:
        assert decision.offer is None
        return
    expected = violated(
        guards,
        subscription,
        history,
        decision.proposed,
        coupons.get(decision.proposed.coupon),
    )
    assert decision.guards == expected
    assert (decision.offer is None) == bool(expected)
    assert all(guards.is_on(g) for g in decision.guards)

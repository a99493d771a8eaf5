"""Hypothesis strategies for the retention-policy tests (subscriptions, customers,
histories, coupons, segments, policies).

Kept small on purpose: few ids, currencies and products, so that rules do
match the generated subscriptions often.
"""

from __future__ import annotations

from hypothesis import strategies as st

from cancelflow import (
    AllOf,
    AnyOf,
    Arm,
    Coupon,
    CouponDuration,
    CustomerSnapshot,
    DiscountRef,
    Experiment,
    Guards,
    NoOffer,
    Not,
    Offer,
    Predicate,
    Range,
    RetentionPolicy,
    Rule,
    Segment,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
)
from cancelflow._policy.history import CustomerHistory

NOW = 1_760_000_000
DAY = 86_400
PRICES = ["price_a", "price_b", "price_c"]
PRODUCTS = ["prod_a", "prod_b", "prod_c"]
CURRENCIES = ["usd", "eur", "jpy"]
COUNTRIES = ["US", "FR", "JP"]
COUPONS = ["TEN", "HALF", "FIVE_OFF", "GONE"]
INTERVALS = ["day", "week", "month", "year"]

timestamps = st.integers(NOW - 2_000 * DAY, NOW + 10 * DAY)
metadata = st.dictionaries(
    st.sampled_from(["plan", "tier", "vip"]),
    st.sampled_from(["pro", "team", "yes", ""]),
    max_size=2,
)


@st.composite
def items(draw: st.DrawFn) -> SubscriptionItemSnapshot:
    interval = draw(st.sampled_from([*INTERVALS, None]))
    return SubscriptionItemSnapshot(
        id=f"si_{draw(st.integers(0, 9))}",
        price_id=draw(st.sampled_from(PRICES)),
        product_id=draw(st.sampled_from(PRODUCTS)),
        interval=interval,
        interval_count=draw(st.integers(1, 3)),
        quantity=draw(st.integers(0, 5)),
        unit_amount=draw(st.none() | st.integers(0, 200_000)),
        usage_type=draw(st.sampled_from(["licensed", "licensed", "metered"])),
    )


@st.composite
def subscriptions(draw: st.DrawFn) -> SubscriptionSnapshot:
    # a status Stripe may add later is read as an unknown value (a hostile class)
    status = draw(
        st.sampled_from(list(SubscriptionStatus))
        | st.sampled_from(["suspended", "pending_activation"]).map(
            SubscriptionStatus.from_wire
        )
    )
    return SubscriptionSnapshot(
        id=f"sub_{draw(st.integers(0, 10**6))}",
        customer=f"cus_{draw(st.integers(0, 10**6))}",
        status=status,
        currency=draw(st.sampled_from(CURRENCIES)),
        items=tuple(draw(st.lists(items(), max_size=3))),
        discounts=tuple(
            DiscountRef(f"di_{n}", draw(st.none() | st.sampled_from(COUPONS)))
            for n in range(draw(st.integers(0, 2)))
        ),
        cancel_at=draw(st.none() | timestamps),
        cancel_at_period_end=draw(st.booleans()),
        schedule=draw(st.none() | st.just("sub_sched_1")),
        paused=draw(st.booleans()) or status is SubscriptionStatus.PAUSED,
        created=draw(st.none() | timestamps),
        start_date=draw(st.none() | timestamps),
        metadata=draw(metadata),
    )


@st.composite
def active_subscriptions(draw: st.DrawFn) -> SubscriptionSnapshot:
    """Subscriptions no subscription-level guard blocks (for rule-level tests)."""
    sub = draw(subscriptions())
    return SubscriptionSnapshot(
        id=sub.id,
        customer=sub.customer,
        status=SubscriptionStatus.ACTIVE,
        currency=sub.currency,
        items=sub.items[:1],
        created=sub.created,
        start_date=sub.start_date,
        metadata=sub.metadata,
    )


customers = st.none() | st.builds(
    CustomerSnapshot,
    id=st.just("cus_x"),
    created=st.none() | timestamps,
    country=st.none() | st.sampled_from(COUNTRIES),
    metadata=metadata,
)

histories = st.builds(
    CustomerHistory,
    attempts=st.integers(0, 6),
    last_offered_at=st.none() | timestamps,
    last_redeemed_at=st.none() | timestamps,
)


@st.composite
def coupon_facts(draw: st.DrawFn, coupon_id: str) -> Coupon:
    duration = draw(st.sampled_from(list(CouponDuration)))
    amount = draw(st.booleans())
    return Coupon(
        id=coupon_id,
        duration=duration,
        percent_off=None if amount else draw(st.floats(1, 100)),
        amount_off=draw(st.integers(1, 5_000)) if amount else None,
        currency=draw(st.sampled_from(CURRENCIES)) if amount else None,
        duration_in_months=draw(st.integers(1, 12))
        if duration is CouponDuration.REPEATING
        else None,
        max_redemptions=draw(st.none() | st.integers(1, 10)),
        times_redeemed=draw(st.integers(0, 10)),
        redeem_by=draw(st.none() | timestamps),
        valid=draw(st.booleans()),
        applies_to_products=draw(
            st.none() | st.frozensets(st.sampled_from(PRODUCTS), max_size=2)
        ),
    )


@st.composite
def coupon_maps(draw: st.DrawFn) -> dict[str, Coupon]:
    """Facts for every coupon but ``GONE`` (which does not exist)."""
    return {c: draw(coupon_facts(c)) for c in COUPONS if c != "GONE"}


def _always_true(context: object) -> bool:
    return True


def _even_customer(context) -> bool:
    return context.customer_id.endswith(("0", "2", "4", "6", "8"))


PREDICATES = {"always": _always_true, "even_customer": _even_customer}

ranges = st.builds(
    Range, st.none() | st.integers(0, 50), st.none() | st.integers(51, 100_000)
)


_CONDITIONS = {
    "prices": st.frozensets(st.sampled_from(PRICES), min_size=1),
    "products": st.frozensets(st.sampled_from(PRODUCTS), min_size=1),
    "interval": st.frozensets(st.sampled_from(INTERVALS), min_size=1),
    "interval_count": st.integers(1, 3),
    "mrr": ranges,
    "currencies": st.frozensets(st.sampled_from(CURRENCIES), min_size=1),
    "tenure_days": ranges,
    "customer_tenure_days": ranges,
    "trialing": st.booleans(),
    "countries": st.frozensets(st.sampled_from(COUNTRIES), min_size=1),
    "metadata": st.dictionaries(
        st.sampled_from(["plan", "tier"]),
        st.booleans() | st.sampled_from(["pro", "team"]),
        max_size=2,
    ),
    "customer_metadata": st.dictionaries(
        st.just("vip"), st.booleans() | st.just("yes"), max_size=1
    ),
    "attempts": ranges,
    "predicate": st.sampled_from(sorted(PREDICATES)).map(
        lambda name: Predicate(name, PREDICATES[name])
    ),
}


@st.composite
def plain_segments(draw: st.DrawFn) -> Segment:
    """A segment with a few of the conditions (most segments have 1 to 3)."""
    names = draw(st.sets(st.sampled_from(sorted(_CONDITIONS)), max_size=4))
    return Segment(**{name: draw(_CONDITIONS[name]) for name in sorted(names)})


segments = st.recursive(
    plain_segments(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(AllOf),
        st.lists(inner, max_size=3).map(AnyOf),
        inner.map(Not),
    ),
    max_leaves=4,
)

offers = st.builds(Offer, st.sampled_from(COUPONS), replace_discount=st.booleans())


@st.composite
def experiments(draw: st.DrawFn, name: str) -> Experiment:
    count = draw(st.integers(1, 3))
    arms = [
        Arm(f"arm{n}", draw(st.integers(0 if n else 1, 50)), draw(st.none() | offers))
        for n in range(count)
    ]
    return Experiment(name, arms, salt=draw(st.none() | st.just(f"{name}-salt")))


@st.composite
def outcomes(draw: st.DrawFn, name: str):
    kind = draw(st.sampled_from(["offer", "none", "experiment"]))
    if kind == "offer":
        return draw(offers)
    if kind == "none":
        return NoOffer()
    return draw(experiments(name))


guard_settings = st.builds(
    Guards,
    **{
        name: st.booleans()
        for name in (
            "not_cancelable",
            "existing_discount",
            "cooldown",
            "trialing",
            "past_due",
            "unpaid",
            "incomplete",
            "paused",
            "schedule",
            "multi_item",
            "coupon",
            "unknown_status",
        )
    },
    cooldown_days=st.integers(0, 120),
)


@st.composite
def policies(draw: st.DrawFn) -> RetentionPolicy:
    count = draw(st.integers(0, 6))
    rules = [
        Rule(f"rule {n}", draw(segments), draw(outcomes(f"exp{n}")))
        for n in range(count)
    ]
    return RetentionPolicy(
        rules=rules,
        default=draw(outcomes("exp-default")),
        guards=draw(st.just(Guards()) | guard_settings),
        name=draw(st.none() | st.just("p1")),
    )

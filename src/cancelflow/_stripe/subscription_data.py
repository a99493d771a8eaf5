"""A Stripe subscription's JSON read into plain values, and the facts derived from them.

Strictly private. `SubscriptionSnapshot` builds its frozen
model from `read_subscription`, and the webhook parser
(`cancelflow._outcomes.events`) reads the same values without building models: a
serverless webhook handler then imports neither ``attrs`` nor the models on a
cold start. The derived facts (`scheduled_to_cancel`,
`monthly_ratio`, `round_half_even`, ...) are functions of plain
values used by both, so that there is one definition of each.
"""

from __future__ import annotations

from math import lcm
from types import MappingProxyType

from cancelflow._stripe.read import Obj, StripeEnum, out_of_range, to_member
from cancelflow._stripe.reasons import read_details
from cancelflow.exceptions import StripeObjectError

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Final

    from cancelflow._stripe.reasons import DetailsData

__all__ = [
    "ENDED_STATUSES",
    "MRR_STATUSES",
    "BillingMode",
    "SubscriptionStatus",
    "cancel_effective_at",
    "counts_for_mrr",
    "item_ratio",
    "latest",
    "main_item",
    "monthly_amount",
    "monthly_ratio",
    "mrr_of",
    "mrr_ratio",
    "read_discount",
    "read_item",
    "read_subscription",
    "read_terms",
    "round_half_even",
    "scheduled_to_cancel",
    "sum_ratios",
]


class SubscriptionStatus(StripeEnum):
    """``subscription.status``, Stripe's wire values.

    A status Stripe adds later is read as an unknown value (``known`` is
    false): not ended, not scheduled, and blocked from retention offers by the
    ``unknown_status`` guard.
    """

    ACTIVE = "active"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    TRIALING = "trialing"
    UNPAID = "unpaid"


class BillingMode(StripeEnum):
    """``subscription.billing_mode.type`` (an unknown mode is kept as a value).

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


# -- derived facts ------------------------------------------------------------


def scheduled_to_cancel(
    status: SubscriptionStatus, cancel_at_period_end: bool, cancel_at: int | None
) -> bool:
    """Whether a cancellation is pending: ``cancel_at_period_end`` (classic
    billing mode) or ``cancel_at`` alone (flexible), on a subscription not over."""
    return status not in ENDED_STATUSES and (
        cancel_at_period_end or cancel_at is not None
    )


def cancel_effective_at(
    scheduled: bool, cancel_at: int | None, period_end: int | None
) -> int | None:
    """When a pending cancellation takes effect: ``cancel_at``, else the period end."""
    if not scheduled:
        return None
    return cancel_at if cancel_at is not None else period_end


def latest(values: Iterable[int | None]) -> int | None:
    """The largest of the values that are known (item period ends)."""
    known = [v for v in values if v is not None]
    return max(known) if known else None


def monthly_ratio(
    unit_amount: int | None,
    quantity: int,
    interval: str | None,
    interval_count: int,
    usage_type: str,
) -> tuple[int, int]:
    """One item's amount per month as ``(numerator, denominator)`` in minor
    units, exactly; ``(0, 1)`` for items that do not count (metered, tiered,
    one-time)."""
    if (
        unit_amount is None
        or interval is None
        or usage_type == "metered"
        or interval_count <= 0
    ):
        return (0, 1)
    twelfths = _MONTH_TWELFTHS.get(interval)
    if twelfths is None:
        return (0, 1)
    return (unit_amount * quantity * twelfths, 12 * interval_count)


def sum_ratios(ratios: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The exact sum of ``(numerator, denominator)`` pairs."""
    numerator, denominator = 0, 1
    for n, d in ratios:
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


def monthly_amount(items: Iterable[Mapping[str, Any]], path: str) -> int:
    """The MRR of items read by :func:`read_item`, in minor units.

    Raises:
        StripeObjectError: it does not fit a signed 64-bit integer (amount ×
            quantity too large to be stored); the message names *path*.
    """
    if type(items) is list and len(items) == 1:  # fast path: one item
        mrr = round_half_even(*item_ratio(items[0]))
    else:
        mrr = round_half_even(*sum_ratios(item_ratio(i) for i in items))
    if out_of_range(mrr):
        raise StripeObjectError(
            path,
            "the monthly amount (unit amount × quantity) is outside the range of a "
            "signed 64-bit integer, which no Stripe amount reaches and no ledger "
            "store can keep",
        )
    return mrr


def round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half to even, in integers."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def main_item(items: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The item that stands for the subscription in reports: the one with the
    largest amount per month (the first of equals, or the first item when none
    has an amount); ``None`` without items."""
    if type(items) is list and len(items) < 2:  # fast path: nothing to compare
        return items[0] if items else None
    best: Mapping[str, Any] | None = None
    best_n, best_d = -1, 1
    for item in items:
        n, d = item_ratio(item)
        if best is None or n * best_d > best_n * d:
            best, best_n, best_d = item, n, d
    return best


# -- reading ------------------------------------------------------------------


def read_item(o: Obj) -> dict[str, Any]:
    """A subscription item's fields, as keyword arguments of
    `SubscriptionItemSnapshot`."""
    price = o.obj("price")
    recurring = price.opt_obj("recurring")
    quantity = o.opt_integer("quantity")
    unit_amount = price.opt_integer("unit_amount")
    if (
        unit_amount is not None
        and quantity is not None
        and out_of_range(unit_amount * quantity * 365)
    ):
        # a day's price × quantity × 365 days is the largest monthly numerator
        raise StripeObjectError(
            o.where("quantity"),
            "unit amount × quantity is beyond what a signed 64-bit integer can "
            "hold as a monthly amount; no Stripe price reaches it",
        )
    return {
        "id": o.string("id"),
        "price_id": price.string("id"),
        "product_id": price.id_of("product"),
        "interval": recurring.string("interval") if recurring else None,
        "interval_count": (recurring.opt_integer("interval_count") or 1)
        if recurring
        else 1,
        "quantity": 1 if quantity is None else quantity,
        "unit_amount": unit_amount,
        "usage_type": (recurring.opt_string("usage_type") or "licensed")
        if recurring
        else "licensed",
        "current_period_start": o.opt_integer("current_period_start"),
        "current_period_end": o.opt_integer("current_period_end"),
    }


def item_ratio(item: Mapping[str, Any]) -> tuple[int, int]:
    """`monthly_ratio` of an item read by `read_item`."""
    return monthly_ratio(
        item["unit_amount"],
        item["quantity"],
        item["interval"],
        item["interval_count"],
        item["usage_type"],
    )


def read_discount(value: object, path: str) -> tuple[str, str | None]:
    """A discount's ``di_…`` id and, when Stripe sent the object, its coupon's id.

    *value* is an id or a discount object (expanded ``discounts``, or the object
    of ``customer.discount.created``).
    """
    if isinstance(value, str):
        return value, None
    o = Obj.of(value, path)
    source = o.opt_obj("source")
    coupon = source.opt_id_of("coupon") if source else None
    if coupon is None:
        coupon = o.opt_id_of("coupon")  # API versions before 2025-09-30.clover
    return o.string("id"), coupon


#: A discount's coupon terms as far as MRR needs them: ``(duration,
#: percent_off, amount_off)``, or ``None`` when Stripe sent the discount's id
#: only (or the coupon's id only) and its terms are unknown.
if TYPE_CHECKING:
    from typing import TypeAlias

    Terms: TypeAlias = tuple[str, float | None, int | None] | None


def read_terms(value: object, path: str) -> Terms:
    """The coupon terms of a discount, when Stripe sent its coupon expanded
    (``expand[]=discounts.source.coupon``; before 2025-09-30.clover the
    discount's own ``coupon`` object)."""
    if isinstance(value, str):
        return None
    o = Obj.of(value, path)
    source = o.opt_obj("source")
    raw = source.data.get("coupon") if source else o.data.get("coupon")
    if not isinstance(raw, dict):
        return None
    coupon = Obj.of(raw, f"{path}.source.coupon" if source else f"{path}.coupon")
    return (
        coupon.opt_string("duration") or "once",
        coupon.opt_percent("percent_off"),
        coupon.opt_integer("amount_off"),
    )


#: Statuses whose subscriptions count toward MRR, as in Stripe Billing's own
#: analytics ("the monthly-normalized value of all your active and past_due
#: subscriptions"): a trial, an unpaid or paused subscription, one whose first
#: payment is incomplete, and an ended one count 0.
MRR_STATUSES: Final = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE}
)


def counts_for_mrr(
    status: SubscriptionStatus, ended_at: int | None, trial_end: int | None
) -> bool:
    """Whether a subscription's amount is MRR: `active` and `past_due` ones
    count; an ended (`canceled`) one counts what it churned, unless it ended
    during or at the end of its trial (it never paid); a trial, `unpaid`,
    `paused`, `incomplete` and `incomplete_expired` count 0."""
    if status in MRR_STATUSES:
        return True
    if status is not SubscriptionStatus.CANCELED:
        return False
    return trial_end is None or (ended_at is not None and ended_at > trial_end)


def mrr_ratio(
    status: SubscriptionStatus,
    item_ratios: Iterable[tuple[int, int]],
    terms: Iterable[Terms],
    *,
    ended_at: int | None = None,
    trial_end: int | None = None,
) -> tuple[int, int]:
    """MRR as an exact ``(numerator, denominator)`` in minor units, by
    cancelflow's definition (docs/mrr.md).

    `counts_for_mrr` decides whether it counts at all (an ended subscription:
    the MRR it churned); the items' monthly ratios add up; each
    ``duration=forever`` coupon then takes its ``percent_off`` off (``once``
    and ``repeating`` coupons do not change MRR). A discount whose terms are
    unknown (``None``: Stripe sent its id only, as in every webhook) and a
    forever ``amount_off`` (which Stripe no longer lets a subscription take)
    are not subtracted.
    """
    if not counts_for_mrr(status, ended_at, trial_end):
        return (0, 1)
    numerator, denominator = sum_ratios(item_ratios)
    for term in terms:
        if term is None:
            continue
        duration, percent, _ = term
        if duration != "forever":
            continue
        if percent:
            kept = 10_000 - round(percent * 100)  # hundredths of a percent
            numerator, denominator = numerator * max(kept, 0), denominator * 10_000
    return numerator, denominator


def mrr_of(sub: Mapping[str, Any], path: str) -> int:
    """The MRR of a subscription read by `read_subscription`, in minor units,
    by `mrr_ratio`'s definition.

    Raises:
        StripeObjectError: the items' monthly amount does not fit a signed
            64-bit integer (see `monthly_amount`).
    """
    listed = monthly_amount(sub["items"], path)
    if not counts_for_mrr(sub["status"], sub["ended_at"], sub["trial_end"]):
        return 0
    terms = sub["discount_terms"]
    if not terms or not any(t is not None and t[0] == "forever" for t in terms):
        return listed
    ratio = mrr_ratio(
        sub["status"],
        (item_ratio(i) for i in sub["items"]),
        terms,
        ended_at=sub["ended_at"],
        trial_end=sub["trial_end"],
    )
    return round_half_even(*ratio)


def read_subscription(value: object) -> dict[str, Any]:
    """A subscription's fields as plain values (items as `read_item`
    dicts, discounts as `read_discount` pairs, ``cancellation_details``
    as `read_details` gives it).

    Raises:
        StripeObjectError: not a subscription, or a field has the wrong type;
            the message names the field's path.
    """
    o = Obj.of(value, "subscription")
    o.check_object("subscription")
    status_value = o.member("status", SubscriptionStatus)
    mode = o.opt_obj("billing_mode")
    mode_type = mode.opt_string("type") if mode else None
    billing_mode = to_member(
        BillingMode, mode_type or "classic", "subscription.billing_mode.type"
    )
    items_obj = o.opt_obj("items")
    items = [read_item(i) for i in items_obj.objs("data")] if items_obj else []
    # Before API version 2025-03-31.basil the period was the subscription's,
    # not the items': carry it down to items that have none of their own.
    period_end = o.opt_integer("current_period_end")
    if period_end is not None:
        period_start = o.opt_integer("current_period_start")
        for item in items:
            if item["current_period_end"] is None:
                item["current_period_start"] = period_start
                item["current_period_end"] = period_end
    discounts: list[tuple[str, str | None]] = []
    terms: list[Terms] = []
    raw_discounts = o.array("discounts")
    if raw_discounts:  # (most subscriptions have none: no paths to build)
        where = o.where("discounts")
        paths = [f"{where}[{n}]" for n in range(len(raw_discounts))]
        discounts = [
            read_discount(d, p) for d, p in zip(raw_discounts, paths, strict=True)
        ]
        terms = [read_terms(d, p) for d, p in zip(raw_discounts, paths, strict=True)]
    details = o.opt_obj("cancellation_details")
    empty: DetailsData = (None, None, None, None)
    return {
        "id": o.string("id"),
        "customer": o.id_of("customer"),
        "status": status_value,
        "currency": o.string("currency").lower(),
        "items": items,
        "discounts": discounts,
        "discount_terms": terms,
        "billing_mode": billing_mode,
        "cancel_at": o.opt_integer("cancel_at"),
        "cancel_at_period_end": o.boolean("cancel_at_period_end", default=False),
        "canceled_at": o.opt_integer("canceled_at"),
        "ended_at": o.opt_integer("ended_at"),
        "cancellation_details": read_details(details) if details else empty,
        "trial_start": o.opt_integer("trial_start"),
        "trial_end": o.opt_integer("trial_end"),
        "schedule": o.opt_id_of("schedule"),
        "paused": status_value is SubscriptionStatus.PAUSED
        or o.opt_obj("pause_collection") is not None,
        "created": o.opt_integer("created"),
        "start_date": o.opt_integer("start_date"),
        "metadata": o.str_map("metadata"),
    }

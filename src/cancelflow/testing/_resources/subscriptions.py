"""Subscriptions: create, retrieve, update, cancel (DELETE), list — and their state changes.

The state changes are backend operations that the HTTP handlers, the portal
driver and the clock all call; each emits the events Stripe would:

* `Subscriptions.create` — ``customer.discount.created`` per discount,
  then ``customer.subscription.created``.
* `Subscriptions.update` — one ``customer.subscription.updated`` for
  everything one API request changes (discounts first emit
  ``customer.discount.created``/``deleted``).
* `Subscriptions.schedule_cancel`, `unschedule_cancel`,
  `set_cancellation_details`, `apply_coupon`,
  `remove_discount`, `renew`,
  `end_trial` — one ``customer.subscription.updated`` each.
* `Subscriptions.cancel_now` — ``customer.subscription.deleted``.

Payments are not modeled: the first invoice of every subscription is paid,
so a new subscription is ``active`` (or ``trialing``), never ``incomplete``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from cancelflow.testing._clock import add_interval
from cancelflow.testing._errors import ApiError
from cancelflow.testing._pagination import list_object, page
from cancelflow.testing._resources._common import (
    JSON,
    Store,
    created_filter,
    merge_metadata,
    operation,
    respond,
)
from cancelflow.testing._resources.discounts import coupon_problem
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Collection, Index, Record

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._resources.coupons import CouponRecord

__all__ = ["ROUTES", "SubscriptionRecord", "Subscriptions"]

ENDED: Final = frozenset({"canceled", "incomplete_expired"})
_EMPTY_DETAILS: Final[JSON] = {
    "comment": None,
    "feedback": None,
    "feedback_option": None,
    "reason": None,
}
_CANCELED_ONLY: Final = frozenset({"cancellation_details", "metadata", "expand"})
_MAX_TRIAL_DAYS: Final = 730


class SubscriptionRecord(Record):
    """A subscription; its items live in ``Subscriptions.items`` (ids in order here)."""

    __slots__ = ("item_ids",)

    def __init__(self, obj: JSON, item_ids: list[str]) -> None:
        super().__init__(obj)
        self.item_ids = item_ids


class Subscriptions(Store[SubscriptionRecord]):
    noun: ClassVar[str] = "subscription"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.items: Collection[Record] = Collection()
        self.by_customer = Index()
        self.by_price = Index()

    # -- reading -------------------------------------------------------------------

    def render(self, record: SubscriptionRecord) -> JSON:
        items = self.items.by_id
        data = [self.render_item(items[item_id]) for item_id in record.item_ids]
        listing = list_object(data, f"/v1/subscription_items?subscription={record.id}")
        listing["total_count"] = len(data)
        return {**record.obj, "items": listing}

    def render_item(self, item: Record) -> JSON:
        price = self.b.prices.store.by_id[item.obj["price"]]
        return {**item.obj, "plan": price.plan, "price": price.obj}

    def list_for_customer(self, customer_id: str) -> JSON:
        """The customer's subscriptions that have not ended (``customer.subscriptions``)."""
        data = []
        for sub_id in self.by_customer.get(customer_id).newest_first():
            record = self.store.by_id[sub_id]
            if record.obj["status"] not in ENDED:
                data.append(self.render(record))
        return list_object(data, f"/v1/customers/{customer_id}/subscriptions")

    @staticmethod
    def is_scheduled(obj: JSON) -> bool:
        """Scheduled to cancel: ``cancel_at_period_end`` (classic) or ``cancel_at`` (flexible)."""
        return bool(obj["cancel_at_period_end"]) or obj["cancel_at"] is not None

    def period_end(self, record: SubscriptionRecord, which: str = "max") -> int:
        """The latest (``max``) or earliest (``min``) ``current_period_end`` of its items."""
        ends: list[int] = [
            self.items.by_id[i].obj["current_period_end"] for i in record.item_ids
        ]
        return max(ends) if which == "max" else min(ends)

    def products(self, record: SubscriptionRecord) -> set[str]:
        prices = self.b.prices.store.by_id
        return {
            prices[self.items.by_id[i].obj["price"]].obj["product"]
            for i in record.item_ids
        }

    # -- create --------------------------------------------------------------------

    @operation
    def create(self, params: JSON) -> SubscriptionRecord:
        b = self.b
        now = b.now()
        if "customer" not in params:
            raise ApiError.missing_parameter("customer")
        customer = b.customers.get(params["customer"], param="customer")
        items_params = params.get("items") or []
        if not items_params:
            raise ApiError.missing_parameter("items")
        if params.get("payment_behavior") == "default_incomplete":
            raise ApiError.not_modeled(
                "payment_behavior=default_incomplete (payments are not modeled)",
                param="payment_behavior",
            )
        mode = params.get("billing_mode", {}).get("type", "flexible")
        prices = [self._price_for_item(item, i) for i, item in enumerate(items_params)]
        currency = prices[0].obj["currency"]
        seen: set[str] = set()
        for i, price in enumerate(prices):
            if price.obj["currency"] != currency:
                raise ApiError.invalid(
                    "All prices on a subscription must have the same currency.",
                    param=f"items[{i}][price]",
                )  # UNCONFIRMED wording
            if price.id in seen:
                raise ApiError.invalid(
                    "A subscription cannot have two items with the same price.",
                    param=f"items[{i}][price]",
                )  # UNCONFIRMED wording
            seen.add(price.id)
            first, this = prices[0].obj["recurring"], price.obj["recurring"]
            if mode == "classic" and (
                (first["interval"], first["interval_count"])
                != (this["interval"], this["interval_count"])
            ):
                raise ApiError.invalid(
                    "In classic billing mode, all prices on a subscription must have "
                    "the same recurring interval and interval_count.",
                    param=f"items[{i}][price]",
                )  # UNCONFIRMED wording
        trial_end = _trial_end(params, prices, now)
        anchor = trial_end if trial_end is not None else now
        collection_method = params.get("collection_method", "charge_automatically")
        days_until_due = params.get("days_until_due")
        if collection_method == "send_invoice" and days_until_due is None:
            raise ApiError.missing_parameter("days_until_due")
        sub_id = b.new_id("sub")
        item_ids: list[str] = []
        for item, price in zip(items_params, prices, strict=True):
            recurring = price.obj["recurring"]
            quantity = item.get("quantity", 1)
            item_obj: JSON = {
                "id": b.new_id("si"),
                "object": "subscription_item",
                "billed_until": None,
                "billing_thresholds": None,
                "created": now,
                "current_period_end": (
                    trial_end
                    if trial_end is not None
                    else add_interval(
                        anchor, recurring["interval"], recurring["interval_count"]
                    )
                ),
                "current_period_start": now,
                "current_trial": None,
                "discounts": [],
                "metadata": merge_metadata(
                    {}, item.get("metadata", {}), "items[][metadata]"
                ),
                "price": price.id,
                "quantity": quantity,
                "subscription": sub_id,
                "tax_rates": [],
            }
            self.items.add(Record(item_obj))
            item_ids.append(item_obj["id"])
        obj: JSON = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
            },
            "billing_cycle_anchor": anchor,
            "billing_cycle_anchor_config": None,
            "billing_mode": {
                "flexible": {"proration_discounts": "included"}
                if mode == "flexible"
                else None,
                "type": mode,
                "updated_at": None,
            },
            "billing_schedules": [],
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": _EMPTY_DETAILS,
            "collection_method": collection_method,
            "created": now,
            "currency": currency,
            "customer": customer.id,
            "customer_account": None,
            "days_until_due": days_until_due,
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": params.get("description") or None,
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": {"account": None, "type": "self"},
            },
            "latest_invoice": None,
            "livemode": False,
            "managed_payments": None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "presentment_details": None,
            "schedule": None,
            "start_date": now,
            "status": "trialing" if trial_end is not None else "active",
            "status_details": None,
            "test_clock": None,
            "transfer_data": None,
            "trial_end": trial_end,
            "trial_settings": {
                "end_behavior": {
                    "billing_cycle_anchor": None,
                    "missing_payment_method": params.get("trial_settings", {})
                    .get("end_behavior", {})
                    .get("missing_payment_method", "create_invoice"),
                }
            },
            "trial_start": now if trial_end is not None else None,
        }
        record = SubscriptionRecord(obj, item_ids)
        changes = self._plan_cancel_params(record, params)
        if "discounts" in params:
            changes["discounts"] = self._plan_discounts(record, params["discounts"])
        record.obj = {**obj, **changes}
        self.store.add(record)
        self.by_customer.add(customer.id, sub_id)
        for price in prices:
            self.by_price.add(price.id, sub_id)
        self._create_discounts(record)
        b.emit("customer.subscription.created", self.render(record))
        return record

    def _price_for_item(self, item: JSON, index: int) -> Any:
        if "price" not in item:
            raise ApiError.missing_parameter(f"items[{index}][price]")
        price = self.b.prices.get(item["price"], param=f"items[{index}][price]")
        if price.obj["recurring"] is None:
            raise ApiError.invalid(
                "The price specified is set to `type=one_time` but this field only "
                "accepts prices with `type=recurring`.",
                param=f"items[{index}][price]",
            )
        if not price.obj["active"]:
            raise ApiError.invalid(
                "The price specified is inactive. This field only accepts active prices.",
                param=f"items[{index}][price]",
            )
        return price

    # -- update --------------------------------------------------------------------

    @operation
    def update(self, record: SubscriptionRecord, params: JSON) -> SubscriptionRecord:
        """Apply one API update; emit one ``customer.subscription.updated``."""
        obj = record.obj
        before = self.render(record)
        if obj["status"] == "canceled":
            extra = sorted(set(params) - _CANCELED_ONLY)
            if extra:
                raise ApiError.state(
                    "A canceled subscription can only update its cancellation_details "
                    "and metadata.",
                    param=extra[0],
                )
        changes = self._plan_cancel_params(record, params)
        if "cancellation_details" in params:
            base: JSON = (
                changes["cancellation_details"]
                if "cancellation_details" in changes
                else obj["cancellation_details"]
            )
            merged = {**obj, **changes}
            if merged["status"] != "canceled" and not self.is_scheduled(merged):
                raise ApiError.state(
                    "cancellation_details can only be set on a subscription that is "
                    "canceled or scheduled to cancel.",
                    param="cancellation_details",
                )  # UNCONFIRMED: stripe-ruby-mock refuses this too
            changes["cancellation_details"] = self._details(
                base, params["cancellation_details"], "cancellation_details"
            )
        if "metadata" in params:
            changes["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
        if "description" in params:
            changes["description"] = params["description"] or None
        if "collection_method" in params:
            changes["collection_method"] = params["collection_method"]
            if params["collection_method"] == "send_invoice":
                days = params.get("days_until_due", obj["days_until_due"])
                if days is None:
                    raise ApiError.missing_parameter("days_until_due")
        if "days_until_due" in params:
            changes["days_until_due"] = params["days_until_due"]
        if "pause_collection" in params:
            pause = params["pause_collection"]
            changes["pause_collection"] = (
                None
                if pause == ""
                else {
                    "behavior": pause["behavior"],
                    "resumes_at": pause.get("resumes_at"),
                }
            )
        if "discounts" in params:
            changes["discounts"] = self._plan_discounts(record, params["discounts"])
        if "trial_end" in params:
            changes.update(self._plan_trial_end(record, params["trial_end"]))
        self._commit_with_discounts(record, changes, before)
        return record

    def _plan_cancel_params(self, record: SubscriptionRecord, params: JSON) -> JSON:
        at_period_end = params.get("cancel_at_period_end")
        cancel_at = params.get("cancel_at")
        if at_period_end is True and cancel_at not in (None, ""):
            raise ApiError.exclusive("cancel_at", "cancel_at_period_end")
        if at_period_end is True:
            return self._plan_schedule(record, at_period_end=True, cancel_at=None)
        if cancel_at not in (None, ""):
            if isinstance(cancel_at, str):
                if cancel_at == "max_billed_until":
                    raise ApiError.not_modeled(
                        "cancel_at=max_billed_until", param="cancel_at"
                    )
                cancel_at = self.period_end(
                    record, "min" if cancel_at == "min_period_end" else "max"
                )
            elif cancel_at <= self.b.now():
                raise ApiError.invalid(
                    "cancel_at must be in the future.", param="cancel_at"
                )  # UNCONFIRMED wording
            return self._plan_schedule(record, at_period_end=False, cancel_at=cancel_at)
        if at_period_end is False or cancel_at == "":
            return self._plan_unschedule(record)
        return {}

    def _plan_schedule(
        self, record: SubscriptionRecord, *, at_period_end: bool, cancel_at: int | None
    ) -> JSON:
        obj = record.obj
        if obj["status"] in ENDED:
            raise ApiError.state(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        # cancel_at_period_end: the earliest item period end for mixed intervals
        # (changelog 2025-07-30.basil, cancel-at-enums); one end in classic mode.
        when = self.period_end(record, "min") if cancel_at is None else cancel_at
        return {
            "cancel_at": when,
            "cancel_at_period_end": at_period_end,
            # Documented for cancel_at_period_end ("the time of the most recent
            # update request"); a cancel_at schedule leaves it null until the end,
            # as a captured portal cancel in flexible mode shows.
            "canceled_at": self.b.now() if at_period_end else obj["canceled_at"],
            "cancellation_details": {
                **obj["cancellation_details"],
                "reason": "cancellation_requested",
            },
        }

    @staticmethod
    def _plan_unschedule(record: SubscriptionRecord) -> JSON:
        # Renewing clears the whole cancellation_details (UNCONFIRMED).
        if not Subscriptions.is_scheduled(record.obj):
            return {}
        return {
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": _EMPTY_DETAILS,
        }

    def _details(self, base: JSON, given: JSON, param: str) -> JSON:
        details = dict(base)
        for key in ("comment", "feedback"):
            if key in given:
                details[key] = given[key] or None
        if "feedback_option" in given:
            option = given["feedback_option"]
            self.b.feedback_options.get(option, param=f"{param}[feedback_option]")
            details["feedback_option"] = option
        comment = details["comment"]
        if comment is not None and len(comment) > 5000:
            raise ApiError.invalid(
                "Invalid string: the comment is longer than 5000 characters.",
                param=f"{param}[comment]",
            )  # UNCONFIRMED limit and wording
        return details

    def _plan_discounts(self, record: SubscriptionRecord, given: Any) -> list[Any]:
        """The new ``discounts``: ids kept, plus coupons to apply (``CouponRecord``)."""
        if given == "":
            return []
        current = set(record.obj["discounts"])
        planned: list[Any] = []
        products = self.products(record)
        for i, entry in enumerate(given):
            param = f"discounts[{i}]"
            if "promotion_code" in entry:
                raise ApiError.not_modeled(
                    "promotion codes", param=f"{param}[promotion_code]"
                )
            if ("coupon" in entry) == ("discount" in entry):
                raise ApiError.invalid(
                    "Each discount needs exactly one of coupon or discount.",
                    param=param,
                )  # UNCONFIRMED wording
            if "discount" in entry:
                discount_id = entry["discount"]
                if discount_id not in current:
                    raise ApiError.resource_missing(
                        "discount", discount_id, f"{param}[discount]"
                    )
                planned.append(discount_id)
                continue
            coupon = self.b.coupons.get(entry["coupon"], param=f"{param}[coupon]")
            problem = coupon_problem(
                self.b.discounts,
                coupon,
                record.obj["currency"],
                products,
                f"{param}[coupon]",
            )
            if problem is not None:
                raise problem
            planned.append(coupon)
        return planned

    def _create_discounts(self, record: SubscriptionRecord) -> None:
        """Turn planned coupons in ``discounts`` into discounts; end the dropped ones."""
        planned = record.obj["discounts"]
        ids: list[str] = []
        for entry in planned:
            if isinstance(entry, str):
                ids.append(entry)
            else:
                ids.append(self.b.discounts.create(entry, record).id)
        record.obj = {**record.obj, "discounts": ids}

    def _commit_with_discounts(
        self, record: SubscriptionRecord, changes: JSON, before: JSON
    ) -> JSON | None:
        old_discounts = list(record.obj["discounts"])
        if "discounts" in changes:
            record.obj = {**record.obj, **changes}
            kept = {d for d in record.obj["discounts"] if isinstance(d, str)}
            for discount_id in old_discounts:
                if discount_id not in kept:
                    discount = self.b.discounts.store.by_id.get(discount_id)
                    if discount is not None:
                        self.b.discounts.delete(discount)
            self._create_discounts(record)
        else:
            record.obj = {**record.obj, **changes}
        return self.b.emit_updated(
            "customer.subscription.updated", before, self.render(record)
        )

    @operation
    def commit(self, record: SubscriptionRecord, changes: JSON) -> JSON | None:
        """Apply top-level *changes*; emit ``customer.subscription.updated`` if any changed.

        Returns the event (or ``None`` when nothing changed).
        """
        before = self.render(record)
        record.obj = {**record.obj, **changes}
        return self.b.emit_updated(
            "customer.subscription.updated", before, self.render(record)
        )

    # -- backend operations (portal, clock, API) ------------------------------------

    @operation
    def schedule_cancel(
        self,
        record: SubscriptionRecord,
        *,
        at_period_end: bool = False,
        cancel_at: int | None = None,
        details: JSON | None = None,
    ) -> JSON | None:
        """Schedule the end: ``cancel_at_period_end`` (classic portal) or ``cancel_at``.

        Sets ``cancellation_details.reason`` to ``cancellation_requested`` (plus
        *details*: ``comment``, ``feedback``, ``feedback_option``), and
        ``canceled_at`` to now with ``cancel_at_period_end`` only (a
        ``cancel_at`` schedule leaves it null). Emits one
        ``customer.subscription.updated``.
        """
        changes = self._plan_schedule(
            record, at_period_end=at_period_end, cancel_at=cancel_at
        )
        if details:
            changes["cancellation_details"] = self._details(
                changes["cancellation_details"], details, "cancellation_details"
            )
        return self.commit(record, changes)

    @operation
    def unschedule_cancel(self, record: SubscriptionRecord) -> JSON | None:
        """Renew a subscription scheduled to cancel (clears the schedule)."""
        return self.commit(record, self._plan_unschedule(record))

    @operation
    def set_cancellation_details(
        self, record: SubscriptionRecord, details: JSON
    ) -> JSON | None:
        """Record the customer's ``feedback``/``comment``/``feedback_option`` (one update)."""
        merged = self._details(
            record.obj["cancellation_details"], details, "cancellation_details"
        )
        return self.commit(record, {"cancellation_details": merged})

    @operation
    def cancel_now(
        self,
        record: SubscriptionRecord,
        *,
        details: JSON | None,
        ended_at: int | None = None,
        reason: str = "cancellation_requested",
    ) -> JSON:
        """End the subscription now (or at *ended_at*); emit ``customer.subscription.deleted``."""
        obj = record.obj
        if obj["status"] in ENDED:
            raise ApiError.state(
                f"The subscription {record.id} has already been canceled."
            )  # UNCONFIRMED wording
        now = self.b.now() if ended_at is None else ended_at
        cancellation = {**obj["cancellation_details"], "reason": reason}
        if details:
            cancellation = self._details(cancellation, details, "cancellation_details")
        record.obj = {
            **obj,
            "status": "canceled",
            "canceled_at": now
            if ended_at is None or obj["canceled_at"] is None
            else obj["canceled_at"],
            "ended_at": now,
            "cancellation_details": cancellation,
        }
        rendered = self.render(record)
        self.b.emit("customer.subscription.deleted", rendered)
        return rendered

    @operation
    def apply_coupon(
        self, record: SubscriptionRecord, coupon: CouponRecord
    ) -> JSON | None:
        """Add a discount from *coupon* (``customer.discount.created``, then the update)."""
        problem = coupon_problem(
            self.b.discounts,
            coupon,
            record.obj["currency"],
            self.products(record),
            "coupon",
        )
        if problem is not None:
            raise problem
        before = self.render(record)
        discount = self.b.discounts.create(coupon, record)
        record.obj = {
            **record.obj,
            "discounts": [*record.obj["discounts"], discount.id],
        }
        return self.b.emit_updated(
            "customer.subscription.updated", before, self.render(record)
        )

    @operation
    def remove_discount(
        self, record: SubscriptionRecord, discount_id: str
    ) -> JSON | None:
        """End one discount (``customer.discount.deleted``, then the update)."""
        discount = self.b.discounts.get(discount_id, param="discount")
        before = self.render(record)
        self.b.discounts.delete(discount)
        record.obj = {
            **record.obj,
            "discounts": [d for d in record.obj["discounts"] if d != discount_id],
        }
        return self.b.emit_updated(
            "customer.subscription.updated", before, self.render(record)
        )

    @operation
    def renew(self, record: SubscriptionRecord) -> JSON | None:
        """Start the next billing period of every item whose period has ended.

        Each item's new period ends at the next boundary of its own interval
        from the subscription's ``billing_cycle_anchor``. In classic mode a
        ``cancel_at_period_end`` subscription's ``cancel_at`` follows the new
        period end. Emits one ``customer.subscription.updated``.
        """
        before = self.render(record)
        now = self.b.now()
        anchor = record.obj["billing_cycle_anchor"]
        prices = self.b.prices.store.by_id
        previous_start = min(
            self.items.by_id[i].obj["current_period_start"] for i in record.item_ids
        )
        for item_id in record.item_ids:
            item = self.items.by_id[item_id]
            end = item.obj["current_period_end"]
            if end > now:
                continue
            recurring = prices[item.obj["price"]].obj["recurring"]
            k = 1
            nxt = add_interval(
                anchor, recurring["interval"], recurring["interval_count"]
            )
            while nxt <= end:
                k += 1
                nxt = add_interval(
                    anchor, recurring["interval"], recurring["interval_count"] * k
                )
            item.obj = {
                **item.obj,
                "current_period_start": end,
                "current_period_end": nxt,
            }
        if record.obj["cancel_at_period_end"]:
            record.obj = {**record.obj, "cancel_at": self.period_end(record, "min")}
        invoice_id = self._invoice(record, now, now - previous_start)
        event = self.b.emit_updated(
            "customer.subscription.updated", before, self.render(record)
        )
        if invoice_id is not None:
            self.b.invoices.announce(invoice_id)
        return event

    def _invoice(
        self, record: SubscriptionRecord, start: int, length: int
    ) -> str | None:
        """A renewal's invoice, when its payment is set to fail (``latest_invoice``)."""
        invoice_id = self.b.invoices.for_renewal(record, start, start + length)
        if invoice_id is not None:
            record.obj = {**record.obj, "latest_invoice": invoice_id}
        return invoice_id

    @operation
    def end_trial(self, record: SubscriptionRecord) -> JSON | None:
        """End the trial now: ``active``, new periods anchored at the trial's end."""
        before = self.render(record)
        now = self.b.now()
        changes = self._plan_trial_end(record, "now")
        record.obj = {**record.obj, **changes}
        invoice_id = self._invoice(
            record, now, now - (record.obj["trial_start"] or now)
        )
        event = self._commit_with_discounts(record, {}, before)
        if invoice_id is not None:
            self.b.invoices.announce(invoice_id)
        return event

    def _plan_trial_end(self, record: SubscriptionRecord, trial_end: Any) -> JSON:
        """Set ``trial_end`` (``"now"`` ends the trial); moves the items' periods."""
        now = self.b.now()
        end = now if trial_end == "now" else trial_end
        if trial_end != "now" and end <= now:
            raise ApiError.invalid(
                "Invalid timestamp: must be an integer Unix timestamp in the future.",
                param="trial_end",
            )
        prices = self.b.prices.store.by_id
        for item_id in record.item_ids:
            item = self.items.by_id[item_id]
            if trial_end == "now":
                recurring = prices[item.obj["price"]].obj["recurring"]
                period = {
                    "current_period_start": now,
                    "current_period_end": add_interval(
                        now, recurring["interval"], recurring["interval_count"]
                    ),
                }
            else:
                period = {"current_period_end": end}
            item.obj = {**item.obj, **period}
        return {
            "billing_cycle_anchor": end,
            "status": "active" if trial_end == "now" else "trialing",
            "trial_end": end,
            "trial_start": record.obj["trial_start"] or now,
        }


def _trial_end(params: JSON, prices: list[Any], now: int) -> int | None:
    if "trial_end" in params and "trial_period_days" in params:
        raise ApiError.exclusive("trial_end", "trial_period_days")
    if "trial_end" in params:
        value = params["trial_end"]
        if value == "now":
            return None
        if value <= now:
            raise ApiError.invalid(
                "Invalid timestamp: must be an integer Unix timestamp in the future.",
                param="trial_end",
            )
        if value > now + _MAX_TRIAL_DAYS * 86_400:
            raise ApiError.invalid(
                "Invalid timestamp: can be no more than 730 days in the future.",
                param="trial_end",
            )
        result: int = value
        return result
    days = params.get("trial_period_days")
    if days is None and params.get("trial_from_plan"):
        days = prices[0].obj["recurring"]["trial_period_days"]
    if not days:
        return None
    if not 0 < days <= _MAX_TRIAL_DAYS:
        raise ApiError.invalid(
            "This value must be less than or equal to 730.", param="trial_period_days"
        )
    end: int = now + days * 86_400
    return end


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    subs = b.subscriptions
    return respond(b, call, subs.render(subs.create(call.params)))


def _retrieve(b: Backend, call: Call) -> JSON:
    subs = b.subscriptions
    return respond(b, call, subs.render(subs.get(call.id)))


def _update(b: Backend, call: Call) -> JSON:
    subs = b.subscriptions
    return respond(b, call, subs.render(subs.update(subs.get(call.id), call.params)))


def _cancel(b: Backend, call: Call) -> JSON:
    subs = b.subscriptions
    record = subs.get(call.id)
    if record.obj["status"] in ENDED:
        # Stripe answers a canceled subscription's DELETE as if it did not exist
        # (404, confirmed by Stripe staff in a stripe-go issue and in captured bodies).
        raise ApiError.resource_missing(subs.noun, call.id, "id")
    return respond(
        b,
        call,
        subs.cancel_now(record, details=call.params.get("cancellation_details")),
    )


_STATUS_FILTERS: Final[dict[str, frozenset[str] | None]] = {
    "all": None,
    "ended": ENDED,
}


def _list(b: Backend, call: Call) -> JSON:
    params = call.params
    subs = b.subscriptions
    created = created_filter(params.get("created"))
    status = params.get("status")
    customer = params.get("customer")
    price = params.get("price")
    collection_method = params.get("collection_method")
    if customer is not None:
        ordered = subs.by_customer.get(customer)
    elif price is not None:
        ordered = subs.by_price.get(price)
    else:
        ordered = subs.store.order

    def render(object_id: str) -> JSON | None:
        record = subs.store.by_id.get(object_id)
        if record is None:
            return None
        obj = record.obj
        if status is None:
            if obj["status"] == "canceled":
                return None
        elif status in _STATUS_FILTERS:
            allowed = _STATUS_FILTERS[status]
            if allowed is not None and obj["status"] not in allowed:
                return None
        elif obj["status"] != status:
            return None
        if customer is not None and obj["customer"] != customer:
            return None
        if price is not None and all(
            subs.items.by_id[i].obj["price"] != price for i in record.item_ids
        ):
            return None
        if (
            collection_method is not None
            and obj["collection_method"] != collection_method
        ):
            return None
        if created is not None and not created(obj["created"]):
            return None
        return subs.render(record)

    return respond(
        b, call, page(ordered, render, params, "/v1/subscriptions", noun="subscription")
    )


_DETAILS = ("cancellation_details",)
_CREATE = (
    "billing_mode.type",
    "cancel_at",
    "cancel_at_period_end",
    "collection_method",
    "customer",
    "days_until_due",
    "description",
    "discounts.coupon",
    "discounts.discount",
    "items.metadata",
    "items.price",
    "items.quantity",
    "metadata",
    "off_session",
    "payment_behavior",
    "proration_behavior",
    "trial_end",
    "trial_from_plan",
    "trial_period_days",
    "trial_settings.end_behavior.missing_payment_method",
)
_UPDATE = (
    *_DETAILS,
    "cancel_at",
    "cancel_at_period_end",
    "collection_method",
    "days_until_due",
    "description",
    "discounts.coupon",
    "discounts.discount",
    "metadata",
    "off_session",
    "pause_collection",
    "proration_behavior",
    "trial_end",
)
_CANCEL = (*_DETAILS, "invoice_now", "prorate")
_LIST = (
    "collection_method",
    "created",
    "customer",
    "ending_before",
    "limit",
    "price",
    "starting_after",
    "status",
)

ROUTES = (
    Route(
        "post",
        "/v1/subscriptions",
        "SubscriptionCreateParams",
        _create,
        "subscriptions.create",
        _CREATE,
    ),
    Route(
        "get",
        "/v1/subscriptions/{subscription_exposed_id}",
        "SubscriptionRetrieveParams",
        _retrieve,
        "subscriptions.retrieve",
    ),
    Route(
        "post",
        "/v1/subscriptions/{subscription_exposed_id}",
        "SubscriptionUpdateParams",
        _update,
        "subscriptions.update",
        _UPDATE,
    ),
    Route(
        "delete",
        "/v1/subscriptions/{subscription_exposed_id}",
        "SubscriptionCancelParams",
        _cancel,
        "subscriptions.cancel",
        _CANCEL,
    ),
    Route(
        "get",
        "/v1/subscriptions",
        "SubscriptionListParams",
        _list,
        "subscriptions.list",
        _LIST,
    ),
)

"""Hand-built, realistic Stripe webhook events (API version 2026-10-28.endive).

Not a test module: helpers for the webhook, event and ledger tests. A
:class:`SubSim` holds one subscription's JSON and, for every change, emits the
event Stripe would: the full object after the change and, for
``customer.subscription.updated``, ``previous_attributes`` holding the old value of
every changed top-level field: whole hashes and arrays (older API versions and some
captures), or with ``SubSim(partial=True)`` only the changed sub-keys of a hash, as
captured events of the pinned version show (arrays stay whole either way).
Exact portal payloads are UNCONFIRMED in Stripe's docs; these follow
``shared/reference/stripe-api.md`` §3.3 and §5.2.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

API_VERSION = "2026-10-28.endive"
DAY = 86_400
MONTH = 30 * DAY


def _id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
    return f"{prefix}_{digest}"


def subscription_json(
    sub_id: str = "sub_1",
    customer: str = "cus_1",
    *,
    created: int = 1_780_000_000,
    mode: str = "classic",
    unit_amount: int = 2000,
    quantity: int = 1,
    currency: str = "eur",
    interval: str = "month",
    livemode: bool = False,
) -> dict[str, Any]:
    """An active subscription with one licensed item, shaped like Stripe's JSON."""
    period_end = created + MONTH
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {
            "type": mode,
            "flexible": {"proration_discounts": "included"}
            if mode == "flexible"
            else None,
            "updated_at": created if mode == "flexible" else None,
        },
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "feedback_option": None,
            "reason": None,
        },
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": "pm_1",
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id[4:]}",
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": created,
                    "current_period_end": period_end,
                    "current_period_start": created,
                    "discounts": [],
                    "metadata": {},
                    "price": {
                        "id": "price_basic",
                        "object": "price",
                        "active": True,
                        "billing_scheme": "per_unit",
                        "created": created - DAY,
                        "currency": currency,
                        "livemode": livemode,
                        "lookup_key": None,
                        "metadata": {},
                        "nickname": None,
                        "product": "prod_basic",
                        "recurring": {
                            "interval": interval,
                            "interval_count": 1,
                            "meter": None,
                            "usage_type": "licensed",
                        },
                        "tax_behavior": "unspecified",
                        "tiers_mode": None,
                        "transform_quantity": None,
                        "type": "recurring",
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                    },
                    "quantity": quantity,
                    "subscription": sub_id,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": "in_1",
        "livemode": livemode,
        "managed_payments": None,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "presentment_details": None,
        "schedule": None,
        "start_date": created,
        "status": "active",
        "status_details": None,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {
            "end_behavior": {"missing_payment_method": "create_invoice"}
        },
        "trial_start": None,
    }


def event_json(
    event_type: str,
    obj: dict[str, Any],
    *,
    created: int,
    event_id: str | None = None,
    previous_attributes: dict[str, Any] | None = None,
    livemode: bool = False,
) -> dict[str, Any]:
    """A v1 snapshot event envelope around *obj*."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id
        or _id("evt", event_type, created, json.dumps(obj, sort_keys=True)),
        "object": "event",
        "api_version": API_VERSION,
        "context": None,
        "created": created,
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def discount_json(
    discount_id: str, coupon: str, *, sub_id: str, customer: str, start: int
) -> dict[str, Any]:
    """A ``discount`` object (``source.coupon``, API 2025-09-30.clover and later)."""
    return {
        "id": discount_id,
        "object": "discount",
        "checkout_session": None,
        "customer": customer,
        "customer_account": None,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon, "type": "coupon"},
        "start": start,
        "subscription": sub_id,
        "subscription_item": None,
    }


def _changed(old: Any, new: Any) -> Any:
    """The old value of a changed field; of a hash, only its changed sub-keys."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: _changed(old.get(k), v) for k, v in new.items() if old.get(k) != v}
    return old


class SubSim:
    """One subscription whose changes are emitted as Stripe events."""

    def __init__(
        self,
        sub_id: str = "sub_1",
        customer: str = "cus_1",
        *,
        now: int = 1_780_000_000,
        partial: bool = False,
        **kw: Any,
    ) -> None:
        self.now = now
        self.partial = partial
        self.sub = subscription_json(sub_id, customer, created=now, **kw)
        self.events: list[dict[str, Any]] = []

    @property
    def id(self) -> str:
        return self.sub["id"]

    @property
    def customer(self) -> str:
        return self.sub["customer"]

    @property
    def period_end(self) -> int:
        return max(i["current_period_end"] for i in self.sub["items"]["data"])

    def tick(self, seconds: int) -> SubSim:
        self.now += seconds
        return self

    def _update(self, **changes: Any) -> dict[str, Any]:
        before = copy.deepcopy(self.sub)
        self.sub.update(changes)
        prev = {
            k: _changed(before[k], self.sub[k]) if self.partial else before[k]
            for k in changes
            if before[k] != self.sub[k]
        }
        ev = event_json(
            "customer.subscription.updated",
            copy.deepcopy(self.sub),
            created=self.now,
            previous_attributes=prev,
            event_id=_id("evt", self.id, self.now, len(self.events)),
        )
        self.events.append(ev)
        return ev

    def _details(self, **kw: Any) -> dict[str, Any]:
        return {**self.sub["cancellation_details"], **kw}

    # -- what the customer or Stripe does ----------------------------------------

    def schedule(self) -> dict[str, Any]:
        """The portal schedules a cancel at period end (classic or flexible mode)."""
        flexible = self.sub["billing_mode"]["type"] == "flexible"
        return self._update(
            cancel_at=self.period_end,
            cancel_at_period_end=not flexible,
            canceled_at=self.now,
            cancellation_details=self._details(reason="cancellation_requested"),
        )

    def feedback(
        self,
        feedback: str | None = "too_expensive",
        comment: str | None = None,
        option: str | None = None,
    ) -> dict[str, Any]:
        """The portal's second update: what the customer answered."""
        return self._update(
            cancellation_details=self._details(
                feedback=feedback, comment=comment, feedback_option=option
            )
        )

    def schedule_with_feedback(self, feedback: str = "unused") -> dict[str, Any]:
        """Schedule and feedback in one update."""
        flexible = self.sub["billing_mode"]["type"] == "flexible"
        return self._update(
            cancel_at=self.period_end,
            cancel_at_period_end=not flexible,
            canceled_at=self.now,
            cancellation_details=self._details(
                reason="cancellation_requested", feedback=feedback
            ),
        )

    def renew(self) -> dict[str, Any]:
        """The customer renews before the end: the pending cancel is removed."""
        return self._update(
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            cancellation_details={
                "comment": None,
                "feedback": None,
                "feedback_option": None,
                "reason": None,
            },
        )

    def redeem(self, coupon: str = "coupon_save20") -> list[dict[str, Any]]:
        """The customer accepts the retention coupon: a discount on the subscription."""
        di = _id("di", self.id, coupon, self.now)
        disc = discount_json(
            di, coupon, sub_id=self.id, customer=self.customer, start=self.now
        )
        created = event_json(
            "customer.discount.created",
            disc,
            created=self.now,
            event_id=_id("evt", self.id, self.now, len(self.events), "disc"),
        )
        self.events.append(created)
        updated = self._update(discounts=[*self.sub["discounts"], di])
        return [created, updated]

    def end(self, reason: str | None = None) -> dict[str, Any]:
        """The subscription ends (period end reached, or canceled immediately)."""
        self.sub.update(
            status="canceled",
            ended_at=self.now,
            canceled_at=self.sub["canceled_at"] or self.now,
            cancellation_details=self._details(
                reason=reason
                or self.sub["cancellation_details"]["reason"]
                or "cancellation_requested"
            ),
        )
        ev = event_json(
            "customer.subscription.deleted",
            copy.deepcopy(self.sub),
            created=self.now,
            event_id=_id("evt", self.id, self.now, len(self.events), "del"),
        )
        self.events.append(ev)
        return ev

    def unrelated(self) -> dict[str, Any]:
        """A change that is not about cancellation (metadata)."""
        return self._update(metadata={**self.sub["metadata"], "seen": str(self.now)})

    def invoice_paid(self) -> dict[str, Any]:
        """An unrelated event type."""
        ev = event_json(
            "invoice.paid",
            {
                "id": _id("in", self.id, self.now),
                "object": "invoice",
                "subscription": self.id,
            },
            created=self.now,
            event_id=_id("evt", self.id, self.now, len(self.events), "inv"),
        )
        self.events.append(ev)
        return ev


def scenario(kind: str, n: int, *, start: int = 1_780_000_000) -> list[dict[str, Any]]:
    """The events of one named scenario for subscription number *n*."""
    mode = "flexible" if n % 2 else "classic"
    s = SubSim(
        f"sub_{kind}_{n}",
        f"cus_{n % 7}",
        now=start + n * 10,
        mode=mode,
        unit_amount=1000 + 100 * (n % 5),
    )
    s.tick(DAY)
    if kind == "scheduled_then_feedback":
        s.schedule()
        s.tick(7).feedback("too_expensive")
    elif kind == "ended_at_period_end":
        s.schedule()
        s.tick(7).feedback("other", comment="Trop cher pour nous")
        s.now = s.period_end
        s.end()
    elif kind == "withdrawn":
        s.schedule()
        s.tick(7).feedback("unused")
        s.tick(DAY).renew()
    elif kind == "saved":
        s.redeem()
        s.tick(DAY).unrelated()
    elif kind == "immediate":
        s.end()
        s.tick(5).feedback("switched_service")
    elif kind == "payment_failed":
        s.tick(MONTH).end(reason="payment_failed")
    elif kind == "two_attempts":
        s.schedule_with_feedback("too_complex")
        s.tick(DAY).renew()
        s.tick(DAY).schedule()
        s.tick(7).feedback("missing_features")
    else:  # "noise"
        s.invoice_paid()
        s.tick(60).unrelated()
    return s.events


SCENARIOS = (
    "scheduled_then_feedback",
    "ended_at_period_end",
    "withdrawn",
    "saved",
    "immediate",
    "payment_failed",
    "two_attempts",
    "noise",
)


def many_events(count: int) -> list[dict[str, Any]]:
    """At least *count* events over many subscriptions, in creation order."""
    out: list[dict[str, Any]] = []
    n = 0
    while len(out) < count:
        out.extend(scenario(SCENARIOS[n % len(SCENARIOS)], n))
        n += 1
    out.sort(key=lambda e: (e["created"], e["id"]))
    return out


def links_for(events: list[dict[str, Any]]) -> list[Any]:
    """Cancel links for the subscriptions whose scenario starts with a deep link
    ("saved", "withdrawn", "ended_at_period_end"; "noise": a link the customer
    abandons), 5 s before their first event."""
    from cancelflow import LinkRecord

    first: dict[str, dict[str, Any]] = {}
    for ev in sorted(events, key=lambda e: e["created"]):
        obj = ev["data"]["object"]
        sub = (
            obj.get("subscription")
            if obj.get("object") != "subscription"
            else obj["id"]
        )
        if isinstance(sub, str) and sub not in first:
            first[sub] = ev
    links = []
    for sub, ev in sorted(first.items()):
        if not any(
            k in sub for k in ("saved", "withdrawn", "ended_at_period_end", "noise")
        ):
            continue
        n = int(sub.rsplit("_", 1)[1])
        links.append(
            LinkRecord(
                session_id=_id("bps", sub),
                subscription_id=sub,
                customer_id=f"cus_{n % 7}",
                created=ev["created"] - 5,
                offered_coupon="coupon_save20" if n % 3 else None,
                arm="offer" if n % 3 else "holdout",
                decision={
                    "rule": "default",
                    "arm": "offer" if n % 3 else "holdout",
                    "n": n,
                },
                mrr=1000 + 100 * (n % 5),
                currency="eur",
            )
        )
    return links


# -- the shapes of the supported webhook API versions -----------------------------------

#: One version of each shape cancelflow reads (see docs/events.md, "Supported API
#: versions"), oldest first; the events above are rendered for the last one.
VERSION_SHAPES = (
    "2022-11-15",
    "2024-06-20",
    "2025-03-31.basil",
    "2025-09-30.clover",
    "2026-03-25.dahlia",
    API_VERSION,
)


def _older_subscription(sub: dict[str, Any], version: str) -> dict[str, Any]:
    out = copy.deepcopy(sub)
    details = out.get("cancellation_details")
    if isinstance(details, dict):
        details.pop("feedback_option", None)  # custom feedback options: endive
    if version < "2025-03-31":
        # before basil: the period is the subscription's; items carry a plan
        # too; `billing_mode` (flexible billing) does not exist yet
        out.pop("billing_mode", None)
        items = out.get("items", {}).get("data", [])
        if items:
            ends = [i.pop("current_period_end") for i in items]
            starts = [i.pop("current_period_start") for i in items]
            out["current_period_end"] = max(ends)
            out["current_period_start"] = min(starts)
        for item in items:
            price = item["price"]
            item["plan"] = {
                "id": price["id"],
                "object": "plan",
                "amount": price["unit_amount"],
                "currency": price["currency"],
                "interval": price["recurring"]["interval"],
                "interval_count": price["recurring"]["interval_count"],
                "product": price["product"],
            }
        out["discount"] = None
    elif version < "2025-06-30":
        out.pop("billing_mode", None)
    return out


def _older_discount(disc: dict[str, Any], version: str) -> dict[str, Any]:
    out = copy.deepcopy(disc)
    if version < "2025-09-30" and "source" in out:
        # before clover: the coupon itself, auto-expanded, instead of `source`
        coupon = out.pop("source")["coupon"]
        out["coupon"] = {"id": coupon, "object": "coupon"}
    return out


def as_version(event: dict[str, Any], version: str) -> dict[str, Any]:
    """*event* as Stripe renders it for an endpoint on API *version*
    (one of :data:`VERSION_SHAPES`). Flexible billing mode exists only from
    2025-06-30.basil: give older versions classic-mode events."""
    out = copy.deepcopy(event)
    out["api_version"] = version
    data = out["data"]
    obj = data["object"]
    if obj.get("object") == "subscription":
        data["object"] = _older_subscription(obj, version)
        prev = data.get("previous_attributes")
        if isinstance(prev, dict) and isinstance(
            prev.get("cancellation_details"), dict
        ):
            prev["cancellation_details"].pop("feedback_option", None)
    elif obj.get("object") == "discount":
        data["object"] = _older_discount(obj, version)
    return out

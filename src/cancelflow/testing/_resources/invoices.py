"""Invoices of failed renewals: retrieve, list — and the payment attempts time drives.

A partial model. The fake invoices nothing while payments succeed (every
renewal is paid, and no invoice is made for it). A test makes one customer's
next renewal fail with ``FakeStripe.fail_next_renewal(customer)``; that
renewal (a period end, or a trial's end) then gets an invoice, and payment
attempts follow on the account's retry schedule
(``fake.dashboard.retry_schedule``):

* at the renewal — the subscription's ``customer.subscription.updated`` (new
  periods, ``latest_invoice``), then ``invoice.created`` (``draft``);
* an hour later (when Stripe finalizes and first charges a renewal invoice) —
  ``invoice.finalized`` (``open``), then the attempt;
* a failed attempt — ``invoice.payment_failed`` (``attempt_count``,
  ``attempted``, ``next_payment_attempt``: the next retry, or ``null`` after
  the last), then ``invoice.updated`` with those changes in
  ``previous_attributes``, and ``customer.updated`` (``delinquent`` becomes
  true) the first time; on the first one the subscription becomes ``past_due``
  (``customer.subscription.updated``); after the last, it is canceled
  (``customer.subscription.deleted``, ``cancellation_details.reason =
  payment_failed``), marked ``unpaid``, or left ``past_due``, as the schedule
  says;
* a successful attempt — ``invoice.paid`` and ``invoice.payment_succeeded``
  (``paid``), ``customer.updated`` (``delinquent`` false again), and a
  ``past_due`` or ``unpaid`` subscription is ``active`` again.

The invoice carries every field stripe-python declares. Modeled: status,
amounts (the items' unit amounts times quantities, less the subscription's
discounts; no tax, no proration, no balance), attempts, the status
transitions, ``number``, ``billing_reason``, the customer's email, name,
phone and address, ``parent.subscription_details``, the lines (one per
subscription item, for the new period), ``discounts`` and
``total_discount_amounts``. Not modeled, left at Stripe's empty values:
payment intents, charges and payment methods (``payments`` is not there),
hosted invoice pages and PDFs (``hosted_invoice_url`` and ``invoice_pdf``
stay ``null``), taxes, credit notes, shipping, per-line discount amounts, and
``invoice.upcoming``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final

from cancelflow.testing._pagination import list_object, page
from cancelflow.testing._resources._common import (
    JSON,
    Store,
    created_filter,
    operation,
    respond,
)
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Index, Record

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._resources.subscriptions import SubscriptionRecord

__all__ = ["FINALIZE_AFTER", "ROUTES", "InvoiceRecord", "Invoices"]

FINALIZE_AFTER: Final = 3600
"""Stripe finalizes (and first charges) a subscription's renewal invoice about an
hour after creating it ("Stripe waits an hour after receiving the invoice.created
event before attempting payment", subscription webhooks docs)."""
_DAY: Final = 86_400
_ATTEMPTABLE: Final = frozenset({"draft", "open"})


class InvoiceRecord(Record):
    """An invoice, plus the payment outcomes planned for it.

    Attributes:
        failures: how many payment attempts fail before one succeeds
            (``None``: every attempt fails).
        first_failure: when the first attempt failed (retries count from it).
    """

    __slots__ = ("failures", "first_failure")

    def __init__(self, obj: JSON, failures: int | None) -> None:
        super().__init__(obj)
        self.failures = failures
        self.first_failure: int | None = None


class Invoices(Store[InvoiceRecord]):
    noun: ClassVar[str] = "invoice"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.by_customer = Index()
        self.by_subscription = Index()
        self.armed: dict[str, int | None] = {}
        """Customer id → the failures planned for its next renewal (``None``: all)."""
        self._numbers: dict[str, int] = {}

    # -- the switch ----------------------------------------------------------------

    def fail_next_renewal(self, customer_id: str, attempts: int | None) -> None:
        """Make *customer_id*'s next renewal payment fail (*attempts* times, or always)."""
        self.armed[customer_id] = attempts

    # -- a renewal's invoice ---------------------------------------------------------

    def for_renewal(
        self, record: SubscriptionRecord, period_start: int, period_end: int
    ) -> str | None:
        """The invoice of a renewal whose payment is set to fail, not yet announced.

        Called by the subscription's renewal (or trial end) before it emits its
        update; returns the new invoice's id, or ``None`` when the customer's
        renewal is not set to fail (then it is paid and no invoice is made).
        :meth:`announce` emits its ``invoice.created`` after the update.
        """
        sub = record.obj
        customer_id: str = sub["customer"]
        if (
            customer_id not in self.armed
            or sub["collection_method"] != "charge_automatically"
        ):
            return None
        failures = self.armed.pop(customer_id)
        b = self.b
        now = b.now()
        invoice_id = b.new_id("in")
        lines = self._lines(record, invoice_id)
        subtotal = sum(line["amount"] for line in lines)
        discounts = self._discount_amounts(sub, subtotal)
        total = subtotal - sum(d["amount"] for d in discounts)
        customer = b.customers.store.by_id[customer_id].obj
        obj: JSON = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": None,
            "account_name": None,
            "account_tax_ids": None,
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_paid_off_stripe": 0,
            "amount_remaining": total,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "automatically_finalizes_at": now + FINALIZE_AFTER,
            "billing_reason": "subscription_cycle",
            "collection_method": sub["collection_method"],
            "created": now,
            "currency": sub["currency"],
            "custom_fields": None,
            "customer": customer_id,
            "customer_account": None,
            "customer_address": customer["address"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": customer["phone"],
            "customer_shipping": customer["shipping"],
            "customer_tax_exempt": customer["tax_exempt"],
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": list(sub["discounts"]),
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "issuer": {"account": None, "type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": list_object(lines, f"/v1/invoices/{invoice_id}/lines"),
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": now + FINALIZE_AFTER,
            "number": None,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(sub["metadata"]),
                    "subscription": record.id,
                    "subscription_proration_date": None,
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_end": period_start,
            "period_start": period_start - (period_end - period_start),
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": {
                "amount_tax_display": None,
                "pdf": None,
                "template": None,
                "template_version": None,
            },
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "draft",
            "status_details": None,
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "test_clock": None,
            "threshold_reason": None,
            "total": total,
            "total_discount_amounts": discounts,
            "total_excluding_tax": total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": None,
        }
        self.store.add(InvoiceRecord(obj, failures))
        self.by_customer.add(customer_id, invoice_id)
        self.by_subscription.add(record.id, invoice_id)
        return invoice_id

    def announce(self, invoice_id: str) -> None:
        """``invoice.created`` for a renewal's invoice (after the subscription's update)."""
        self.b.emit("invoice.created", self.store.by_id[invoice_id].obj)

    def _lines(self, record: SubscriptionRecord, invoice_id: str) -> list[JSON]:
        b = self.b
        subs = b.subscriptions
        lines = []
        for item_id in record.item_ids:
            item = subs.items.by_id[item_id].obj
            price = b.prices.store.by_id[item["price"]].obj
            product = b.products.store.by_id[price["product"]].obj
            amount = (price["unit_amount"] or 0) * item["quantity"]
            lines.append(
                {
                    "id": b.new_id("il"),
                    "object": "line_item",
                    "amount": amount,
                    "currency": price["currency"],
                    "description": f"{item['quantity']} × {product['name']}",
                    "discount_amounts": [],
                    "discountable": True,
                    "discounts": [],
                    "invoice": invoice_id,
                    "livemode": False,
                    "metadata": dict(item["metadata"]),
                    "parent": {
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": record.id,
                            "subscription_item": item_id,
                        },
                        "type": "subscription_item_details",
                    },
                    "period": {
                        "end": item["current_period_end"],
                        "start": item["current_period_start"],
                    },
                    "pretax_credit_amounts": [],
                    "pricing": {
                        "price_details": {
                            "price": price["id"],
                            "product": price["product"],
                        },
                        "type": "price_details",
                        "unit_amount_decimal": price["unit_amount_decimal"],
                    },
                    "quantity": item["quantity"],
                    "quantity_decimal": str(item["quantity"]),
                    "subscription": record.id,
                    "subtotal": amount,
                    "taxes": [],
                }
            )
        return lines

    def _discount_amounts(self, sub: JSON, subtotal: int) -> list[JSON]:
        """What each of the subscription's discounts takes off, in order."""
        b = self.b
        left = subtotal
        out = []
        for discount_id in sub["discounts"]:
            discount = b.discounts.store.by_id.get(discount_id)
            if discount is None:
                continue
            coupon = b.coupons.store.by_id.get(discount.obj["source"]["coupon"])
            if coupon is None:
                continue
            percent = coupon.obj["percent_off"]
            if percent is not None:
                off = int(
                    (Decimal(left) * Decimal(str(percent)) / 100).quantize(
                        Decimal(1), rounding=ROUND_HALF_UP
                    )
                )
            else:
                off = b.coupons.amount_in(coupon, sub["currency"]) or 0
            off = min(off, left)
            left -= off
            out.append({"amount": off, "discount": discount_id})
        return out

    # -- payment attempts (the timeline runs them) ----------------------------------

    @staticmethod
    def next_attempt(obj: JSON) -> int | None:
        """When the invoice's next payment attempt is due (``None``: none is)."""
        if obj["status"] not in _ATTEMPTABLE:
            return None
        due: int | None = obj["next_payment_attempt"]
        return due

    @operation
    def attempt(self, record: InvoiceRecord) -> None:
        """Finalize a draft, then try to pay: the events and subscription changes above."""
        b = self.b
        subs = b.subscriptions
        sub = subs.store.by_id.get(
            record.obj["parent"]["subscription_details"]["subscription"]
        )
        if sub is None or sub.obj["status"] in ("canceled", "incomplete_expired"):
            return  # the subscription has ended: no more attempts (UNCONFIRMED)
        now = b.now()
        if record.obj["status"] == "draft":
            self._finalize(record, now)
        obj = record.obj
        count = obj["attempt_count"] + 1
        if record.failures is not None and count > record.failures:
            self._paid(record, sub, count, now)
            return
        if record.first_failure is None:
            record.first_failure = now
        days = b.dashboard.retry_schedule.days
        retry = (
            record.first_failure + days[count - 1] * _DAY
            if count - 1 < len(days)
            else None
        )
        record.obj = {
            **obj,
            "attempt_count": count,
            "attempted": True,
            "next_payment_attempt": retry,
        }
        b.emit("invoice.payment_failed", record.obj)
        b.emit_updated("invoice.updated", obj, record.obj)
        self._delinquent(record.obj["customer"], True)
        if sub.obj["status"] in ("active", "trialing"):
            subs.commit(sub, {"status": "past_due"})
        if retry is None:
            self._retries_exhausted(sub)

    def _finalize(self, record: InvoiceRecord, now: int) -> None:
        obj = record.obj
        customer = self.b.customers.store.by_id[obj["customer"]].obj
        sequence: int = self._numbers.get(obj["customer"]) or (
            customer["next_invoice_sequence"] or 1
        )
        self._numbers[obj["customer"]] = sequence + 1
        record.obj = {
            **obj,
            "automatically_finalizes_at": None,
            "effective_at": now,
            "ending_balance": 0,
            "number": f"{customer['invoice_prefix']}-{sequence:04d}",
            "status": "open",
            "status_transitions": {**obj["status_transitions"], "finalized_at": now},
            "webhooks_delivered_at": now,
        }
        self.b.emit("invoice.finalized", record.obj)

    def _paid(
        self, record: InvoiceRecord, sub: SubscriptionRecord, count: int, now: int
    ) -> None:
        obj = record.obj
        record.obj = {
            **obj,
            "amount_paid": obj["amount_due"],
            "amount_remaining": 0,
            "attempt_count": count,
            "attempted": True,
            "next_payment_attempt": None,
            "status": "paid",
            "status_transitions": {**obj["status_transitions"], "paid_at": now},
        }
        self.b.emit("invoice.paid", record.obj)
        self.b.emit("invoice.payment_succeeded", record.obj)
        self._delinquent(obj["customer"], False)
        if sub.obj["status"] in ("past_due", "unpaid"):
            self.b.subscriptions.commit(sub, {"status": "active"})

    def _delinquent(self, customer_id: str, value: bool) -> None:
        """``customer.delinquent``: set by a failed automatic payment, cleared by one paid."""
        customer = self.b.customers.store.by_id[customer_id]
        if customer.obj["delinquent"] is not value:
            before = customer.obj
            customer.obj = {**before, "delinquent": value}
            self.b.emit_updated("customer.updated", before, customer.obj)

    def _retries_exhausted(self, sub: SubscriptionRecord) -> None:
        then = self.b.dashboard.retry_schedule.then
        if then == "cancel":
            self.b.subscriptions.cancel_now(sub, details=None, reason="payment_failed")
        elif then == "unpaid":
            self.b.subscriptions.commit(sub, {"status": "unpaid"})


# -- HTTP ----------------------------------------------------------------------------


def _retrieve(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.invoices.get(call.id).obj)


def _list(b: Backend, call: Call) -> JSON:
    params = call.params
    invoices = b.invoices
    created = created_filter(params.get("created"))
    customer = params.get("customer")
    subscription = params.get("subscription")
    status = params.get("status")
    collection_method = params.get("collection_method")
    if subscription is not None:
        ordered = invoices.by_subscription.get(subscription)
    elif customer is not None:
        ordered = invoices.by_customer.get(customer)
    else:
        ordered = invoices.store.order

    def render(object_id: str) -> JSON | None:
        obj = invoices.store.by_id[object_id].obj
        checks: list[tuple[Any, Any]] = [
            (customer, obj["customer"]),
            (status, obj["status"]),
            (collection_method, obj["collection_method"]),
            (
                subscription,
                obj["parent"]["subscription_details"]["subscription"],
            ),
        ]
        if any(wanted is not None and wanted != got for wanted, got in checks):
            return None
        if created is not None and not created(obj["created"]):
            return None
        return obj

    return respond(
        b, call, page(ordered, render, params, "/v1/invoices", noun="invoice")
    )


ROUTES = (
    Route(
        "get",
        "/v1/invoices/{invoice}",
        "InvoiceRetrieveParams",
        _retrieve,
        "invoices.retrieve",
    ),
    Route(
        "get",
        "/v1/invoices",
        "InvoiceListParams",
        _list,
        "invoices.list",
        (
            "collection_method",
            "created",
            "customer",
            "ending_before",
            "limit",
            "starting_after",
            "status",
            "subscription",
        ),
    ),
)

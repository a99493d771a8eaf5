"""What time drives inside the fake: renewals, scheduled ends, trials, discounts (strictly private).

The `Timeline` keeps a heap of *due transitions*, each keyed by the
object it concerns and the instant it is due. It learns about them from the
events the account emits (every state change emits one), so it never scans
the store: a subscription's ``customer.subscription.created``/``updated``
event says when its period ends, when it is scheduled to cancel and when its
trial ends; a ``customer.discount.created`` event says when a ``repeating``
discount ends. An entry that a later change made stale (a renewed schedule, a
moved period) is recognised when it comes up and skipped.

When the clock advances, the due transitions run in time order, each as its
own backend operation (so its webhooks are delivered before the next one
runs), with the clock set to the instant it is due:

* ``cancel`` — a subscription reaches its ``cancel_at``: ``status=canceled``,
  ``ended_at``, ``customer.subscription.deleted``.
* ``trial_will_end`` — three days before a trial ends (or at the first
  advance, for a shorter trial): ``customer.subscription.trial_will_end``.
* ``trial_end`` — ``trialing`` → ``active``, new periods from the trial's end,
  ``customer.subscription.updated``.
* ``renew`` — an item's period ends: the next period starts
  (``customer.subscription.updated`` with the items in ``previous_attributes``).
* ``discount_end`` — a ``repeating`` discount reaches its ``end``:
  ``customer.discount.deleted``, then ``customer.subscription.updated``.
* ``invoice`` — a failed renewal's invoice is due for a payment attempt (an
  hour after it was created, then on the account's retry schedule), learnt
  from ``invoice.created`` and ``invoice.payment_failed``: see
  ``_resources/invoices``.

A ``once`` discount ends at the first invoice after it was applied: the next
renewal or trial end (the fake models no invoices; see ``docs/testing.md``).

At one instant, the order is: ``trial_will_end``, ``discount_end``,
``cancel``, ``trial_end``, ``renew``, ``invoice`` — so a subscription
scheduled to cancel at its period end ends instead of renewing.
"""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING, Any, Final

from cancelflow.testing._resources.subscriptions import ENDED

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._resources.subscriptions import SubscriptionRecord

__all__ = ["TRIAL_WILL_END_NOTICE", "Timeline"]

JSON = dict[str, Any]

TRIAL_WILL_END_NOTICE: Final = 3 * 86_400
"""Stripe sends ``customer.subscription.trial_will_end`` three days before a trial ends."""

_PRIORITY: Final = {
    "trial_will_end": 0,
    "discount_end": 1,
    "cancel": 2,
    "trial_end": 3,
    "renew": 4,
    "invoice": 5,
}
_SUBSCRIPTION_EVENTS: Final = frozenset(
    {"customer.subscription.created", "customer.subscription.updated"}
)
_INVOICE_EVENTS: Final = frozenset({"invoice.created", "invoice.payment_failed"})


class Timeline:
    """The due transitions of one fake account, by due time."""

    __slots__ = ("_b", "_due", "_heap", "_once", "_seq", "_trial_notice")

    def __init__(self, backend: Backend) -> None:
        self._b = backend
        self._heap: list[tuple[int, int, int, str, str]] = []
        self._due: dict[tuple[str, str], int] = {}
        self._seq = itertools.count()
        self._once: set[str] = set()
        self._trial_notice: dict[str, int] = {}
        backend.clock.add_advance_hook(self.advance)
        backend.listeners.append(self.observe)

    def __len__(self) -> int:
        """How many transitions are pending (stale entries not counted)."""
        return len(self._due)

    def next_due(self) -> int | None:
        """When the next pending transition is due (``None``: nothing is)."""
        heap = self._heap
        while heap and self._due.get((heap[0][3], heap[0][4])) != heap[0][0]:
            heapq.heappop(heap)  # superseded by a later change
        return heap[0][0] if heap else None

    # -- learning what is due, from the events -------------------------------------

    def observe(self, event: JSON) -> None:
        """Note what *event*'s object will need, and when."""
        type_ = event["type"]
        obj = event["data"]["object"]
        if type_ in _SUBSCRIPTION_EVENTS:
            self._observe_subscription(obj)
        elif type_ == "customer.discount.created":
            self._observe_discount(obj)
        elif type_ in _INVOICE_EVENTS:
            due = self._b.invoices.next_attempt(obj)
            if due is not None:
                self._schedule("invoice", obj["id"], due)

    def _observe_subscription(self, obj: JSON) -> None:
        status = obj["status"]
        if status in ENDED:
            return
        sub_id: str = obj["id"]
        if obj["cancel_at"] is not None:
            self._schedule("cancel", sub_id, obj["cancel_at"])
        if status == "trialing" and obj["trial_end"] is not None:
            trial_end: int = obj["trial_end"]
            self._schedule("trial_end", sub_id, trial_end)
            if self._trial_notice.get(sub_id) != trial_end:
                self._trial_notice[sub_id] = trial_end
                notice = max(trial_end - TRIAL_WILL_END_NOTICE, self._b.now())
                self._schedule("trial_will_end", sub_id, notice)
            return
        items = obj["items"]["data"]
        if items:
            self._schedule(
                "renew", sub_id, min(item["current_period_end"] for item in items)
            )

    def _observe_discount(self, obj: JSON) -> None:
        coupon = self._b.coupons.store.by_id.get(obj["source"]["coupon"])
        if coupon is not None and coupon.obj["duration"] == "once":
            self._once.add(obj["id"])
        if obj["end"] is not None:
            self._schedule("discount_end", obj["id"], obj["end"])

    def _schedule(self, kind: str, object_id: str, due: int) -> None:
        key = (kind, object_id)
        if self._due.get(key) == due:
            return
        self._due[key] = due
        heapq.heappush(
            self._heap, (due, _PRIORITY[kind], next(self._seq), kind, object_id)
        )

    # -- running what is due -----------------------------------------------------

    def advance(self, target: int) -> None:
        """Run every transition due at or before *target*, in time order (a clock hook)."""
        b = self._b
        clock = b.clock
        heap = self._heap
        with b.lock:
            while heap and heap[0][0] <= target:
                due, _, _, kind, object_id = heapq.heappop(heap)
                if self._due.get((kind, object_id)) != due:
                    continue  # superseded by a later change
                del self._due[kind, object_id]
                if due > clock.now():
                    clock._move_to(due)
                with b.operation():
                    self._run(kind, object_id, due)

    def _run(self, kind: str, object_id: str, due: int) -> None:
        if kind == "discount_end":
            self._end_discount(object_id, due)
            return
        if kind == "invoice":
            invoice = self._b.invoices.store.by_id.get(object_id)
            if (
                invoice is not None
                and self._b.invoices.next_attempt(invoice.obj) == due
            ):
                self._b.invoices.attempt(invoice)
            return
        subs = self._b.subscriptions
        record = subs.store.by_id.get(object_id)
        if record is None or record.obj["status"] in ENDED:
            return
        obj = record.obj
        if kind == "cancel":
            if obj["cancel_at"] == due:
                subs.cancel_now(record, details=None, ended_at=due)
        elif kind == "trial_will_end":
            noticed = self._trial_notice.get(object_id)
            if obj["status"] == "trialing" and obj["trial_end"] == noticed:
                self._b.emit(
                    "customer.subscription.trial_will_end", subs.render(record)
                )
        elif kind == "trial_end":
            if obj["status"] == "trialing" and obj["trial_end"] == due:
                subs.end_trial(record)
                self._end_once_discounts(record, due)
        elif obj["status"] != "trialing" and subs.period_end(record, "min") == due:
            subs.renew(record)
            self._end_once_discounts(record, due)

    def _end_once_discounts(self, record: SubscriptionRecord, invoiced_at: int) -> None:
        """``once`` discounts applied before this invoice are used up by it."""
        discounts = self._b.discounts.store.by_id
        for discount_id in tuple(record.obj["discounts"]):
            discount = discounts.get(discount_id)
            if (
                discount_id in self._once
                and discount is not None
                and discount.obj["start"] < invoiced_at
            ):
                self._once.discard(discount_id)
                self._b.subscriptions.remove_discount(record, discount_id)

    def _end_discount(self, discount_id: str, due: int) -> None:
        discount = self._b.discounts.store.by_id.get(discount_id)
        if discount is None or discount.obj["end"] != due:
            return
        subs = self._b.subscriptions
        record = subs.store.by_id.get(discount.obj["subscription"])
        if (
            record is None
            or record.obj["status"] in ENDED
            or discount_id not in record.obj["discounts"]
        ):
            return
        subs.remove_discount(record, discount_id)

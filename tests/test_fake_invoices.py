"""Failed renewals on FakeStripe: invoices, retries, past_due → unpaid or canceled, recovery."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import stripe
from tests.fake_support import client, fake, price, raw, subscription
from tests.test_fake_shapes import assert_complete

import cancelflow
from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import FakeStripe, RetrySchedule

__all__ = ["client", "fake"]

JAN_1 = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
FEB_1 = int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp())
HOUR = 3600
DAY = 86_400


def events_since(fake: FakeStripe, first: int) -> list[dict[str, Any]]:
    store = fake.backend.events.store
    return [store.by_id[i].obj for i in store.order.ids[first:]]


def mark(fake: FakeStripe) -> int:
    return len(fake.backend.events.store.order.ids)


class TestTheFirstFailure:
    def test_renewal_invoice_then_a_failed_attempt_an_hour_later(self, fake, client):
        """At the period end: the update and invoice.created; an hour later the failure."""
        sub = subscription(client, mode="flexible")
        fake.fail_next_renewal(sub.customer)
        first = mark(fake)
        fake.clock.advance_to(FEB_1)
        renewed, created = events_since(fake, first)
        assert [renewed["type"], created["type"]] == [
            "customer.subscription.updated",
            "invoice.created",
        ]
        invoice = created["data"]["object"]
        assert (invoice["status"], invoice["next_payment_attempt"]) == (
            "draft",
            FEB_1 + HOUR,
        )
        assert renewed["data"]["object"]["latest_invoice"] == invoice["id"]
        assert renewed["data"]["previous_attributes"]["latest_invoice"] is None
        assert renewed["data"]["object"]["status"] == "active"
        first = mark(fake)
        fake.clock.advance_to(FEB_1 + HOUR)
        assert [e["type"] for e in events_since(fake, first)] == [
            "invoice.finalized",
            "invoice.payment_failed",
            "invoice.updated",
            "customer.updated",
            "customer.subscription.updated",
        ]
        finalized, failed, updated, delinquent, past_due = events_since(fake, first)
        assert updated["data"]["previous_attributes"] == {
            "attempt_count": 0,
            "attempted": False,
            "next_payment_attempt": FEB_1 + HOUR,
        }
        assert finalized["data"]["object"]["status"] == "open"
        assert failed["data"]["object"]["attempt_count"] == 1
        assert failed["data"]["object"]["attempted"] is True
        assert failed["data"]["object"]["next_payment_attempt"] == FEB_1 + HOUR + DAY
        assert delinquent["data"]["previous_attributes"] == {"delinquent": False}
        assert past_due["data"]["object"]["status"] == "past_due"
        assert past_due["data"]["previous_attributes"] == {"status": "active"}
        assert client.v1.customers.retrieve(sub.customer).delinquent is True

    def test_the_invoice_as_the_api_renders_it(self, fake, client):
        """retrieve/list/expand latest_invoice: amounts, lines, number, parent, complete shape."""
        product = client.v1.products.create(params={"name": "Suite"}).id
        seats = price(client, product=product, amount=1500)
        addon = price(client, product=product, amount=400)
        coupon = client.v1.coupons.create(
            params={"percent_off": 20, "duration": "forever"}
        )
        customer = client.v1.customers.create(
            params={"email": "ada@example.com", "name": "Ada"}
        ).id
        sub = subscription(
            client,
            customer=customer,
            items=[{"price": seats.id, "quantity": 3}, {"price": addon.id}],
            discounts=[{"coupon": coupon.id}],
        )
        fake.fail_next_renewal(customer)
        fake.clock.advance_to(FEB_1 + HOUR)
        got = client.v1.subscriptions.retrieve(
            sub.id, params={"expand": ["latest_invoice"]}
        )
        invoice = got.latest_invoice
        assert isinstance(invoice, stripe.Invoice)
        assert (invoice.subtotal, invoice.total, invoice.amount_due) == (
            4900,
            3920,
            3920,
        )
        assert invoice.total_discount_amounts[0].amount == 980
        assert invoice.discounts == got.discounts
        assert (invoice.amount_paid, invoice.amount_remaining) == (0, 3920)
        assert (invoice.customer_email, invoice.customer_name) == (
            "ada@example.com",
            "Ada",
        )
        assert invoice.billing_reason == "subscription_cycle"
        assert invoice.collection_method == "charge_automatically"
        assert invoice.parent.subscription_details.subscription == sub.id
        assert invoice.number.endswith("-0001")
        assert invoice.status_transitions.finalized_at == FEB_1 + HOUR
        assert (invoice.period_start, invoice.period_end) == (JAN_1, FEB_1)
        lines = invoice.lines.data
        assert [(line.amount, line.quantity) for line in lines] == [(4500, 3), (400, 1)]
        assert lines[0].period.start == FEB_1
        assert lines[0].parent.subscription_item_details.subscription == sub.id
        assert lines[0].pricing.price_details.price == seats.id
        assert (invoice.hosted_invoice_url, invoice.invoice_pdf) == (None, None)
        assert_complete(client.v1.invoices.retrieve(invoice.id))
        listed = client.v1.invoices.list(
            params={"customer": customer, "status": "open"}
        )
        assert [i.id for i in listed.data] == [invoice.id]
        assert client.v1.invoices.list(params={"status": "paid"}).data == []
        assert [
            i.id for i in client.v1.invoices.list(params={"subscription": sub.id}).data
        ] == [invoice.id]
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.invoices.retrieve("in_nope")
        assert (info.value.http_status, info.value.code) == (404, "resource_missing")

    def test_only_the_armed_customer_and_only_once(self, fake, client):
        """The switch is one customer's, used up by one renewal; others renew without invoices."""
        armed = subscription(client)
        other = subscription(client)
        fake.fail_next_renewal(armed.customer)
        fake.clock.advance_to(FEB_1 + HOUR)
        assert client.v1.subscriptions.retrieve(other.id).latest_invoice is None
        assert client.v1.subscriptions.retrieve(other.id).status == "active"
        assert len(client.v1.invoices.list().data) == 1
        fake.dashboard.retry_schedule = RetrySchedule(days=(1,), then="past_due")
        fake.clock.advance(dt.timedelta(days=40))  # the next renewal is paid
        assert len(client.v1.invoices.list().data) == 1

    def test_a_trial_end_can_fail_too(self, fake, client):
        """The first payment after a trial fails the same way: trialing → active → past_due."""
        sub = subscription(client, trial_period_days=7)
        fake.fail_next_renewal(sub.customer)
        fake.clock.advance(dt.timedelta(days=7, hours=1))
        after = client.v1.subscriptions.retrieve(sub.id)
        assert after.status == "past_due"
        invoice = client.v1.invoices.retrieve(after.latest_invoice)
        assert (invoice.period_start, invoice.period_end) == (JAN_1, JAN_1 + 7 * DAY)

    def test_send_invoice_subscriptions_are_not_affected(self, fake, client):
        """Only subscriptions that charge automatically have a payment to fail."""
        sub = subscription(client, collection_method="send_invoice", days_until_due=30)
        fake.fail_next_renewal(sub.customer)
        fake.clock.advance_to(FEB_1 + HOUR)
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
        assert client.v1.invoices.list().data == []


class TestAfterTheRetries:
    def test_default_schedule_cancels_after_8_tries_in_2_weeks(self, fake, client):
        """Stripe's recommended 8 tries within 2 weeks, then cancel (reason payment_failed)."""
        sub = subscription(client)
        fake.fail_next_renewal(sub.customer)
        first = mark(fake)
        fake.clock.advance_to(FEB_1 + HOUR + 14 * DAY)
        failures = [
            e
            for e in events_since(fake, first)
            if e["type"] == "invoice.payment_failed"
        ]
        assert [e["created"] for e in failures] == [
            FEB_1 + HOUR + d * DAY for d in (0, 1, 3, 5, 7, 9, 11, 14)
        ]
        assert failures[-1]["data"]["object"]["next_payment_attempt"] is None
        assert failures[-1]["data"]["object"]["attempt_count"] == 8
        ended = events_since(fake, first)[-1]
        assert ended["type"] == "customer.subscription.deleted"
        assert ended["created"] == FEB_1 + HOUR + 14 * DAY
        obj = ended["data"]["object"]
        assert obj["status"] == "canceled"
        assert obj["cancellation_details"]["reason"] == "payment_failed"
        assert obj["ended_at"] == obj["canceled_at"] == ended["created"]
        invoice = client.v1.invoices.retrieve(obj["latest_invoice"])
        assert (invoice.status, invoice.next_payment_attempt) == ("open", None)

    def test_a_schedule_that_marks_unpaid(self, fake, client):
        """then='unpaid': past_due, then unpaid after the last try; renewals go on."""
        fake.dashboard.retry_schedule = RetrySchedule(days=(3, 5), then="unpaid")
        sub = subscription(client)
        fake.fail_next_renewal(sub.customer)
        fake.clock.advance_to(FEB_1 + HOUR + 4 * DAY)
        assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
        fake.clock.advance_to(FEB_1 + HOUR + 5 * DAY)
        unpaid = client.v1.subscriptions.retrieve(sub.id)
        assert unpaid.status == "unpaid"
        assert unpaid.cancellation_details.reason is None
        fake.clock.advance(dt.timedelta(days=40))
        later = client.v1.subscriptions.retrieve(sub.id)
        assert later.status == "unpaid"
        assert later["items"].data[0].current_period_start > FEB_1

    def test_a_schedule_that_leaves_it_past_due(self, fake, client):
        """then='past_due' and no retries: one failure, and it stays past_due."""
        fake.dashboard.retry_schedule = RetrySchedule(days=(), then="past_due")
        sub = subscription(client)
        fake.fail_next_renewal(sub.customer)
        fake.clock.advance(dt.timedelta(days=60))
        assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
        (invoice,) = client.v1.invoices.list().data
        assert (invoice.attempt_count, invoice.next_payment_attempt) == (1, None)

    def test_a_retry_that_succeeds_recovers_the_subscription(self, fake, client):
        """attempts=2: the third try pays; invoice.paid, payment_succeeded, active again."""
        sub = subscription(client)
        fake.fail_next_renewal(sub.customer, attempts=2)
        first = mark(fake)
        fake.clock.advance_to(FEB_1 + HOUR + 3 * DAY)
        types = [e["type"] for e in events_since(fake, first)]
        assert types[-4:] == [
            "invoice.paid",
            "invoice.payment_succeeded",
            "customer.updated",
            "customer.subscription.updated",
        ]
        assert types.count("invoice.payment_failed") == 2
        invoice = client.v1.invoices.list().data[0]
        assert (invoice.status, invoice.amount_paid, invoice.amount_remaining) == (
            "paid",
            1000,
            0,
        )
        assert invoice.status_transitions.paid_at == FEB_1 + HOUR + 3 * DAY
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
        assert client.v1.customers.retrieve(sub.customer).delinquent is False

    def test_canceling_a_past_due_subscription_stops_the_retries(self, fake, client):
        """Once the subscription has ended, its invoice is not tried again."""
        sub = subscription(client)
        fake.fail_next_renewal(sub.customer)
        fake.clock.advance_to(FEB_1 + HOUR)
        client.v1.subscriptions.cancel(sub.id)
        fake.clock.advance(dt.timedelta(days=20))
        (invoice,) = client.v1.invoices.list().data
        assert invoice.attempt_count == 1
        ended = client.v1.subscriptions.retrieve(sub.id)
        assert ended.cancellation_details.reason == "cancellation_requested"


class TestRefusals:
    @pytest.mark.parametrize("attempts", [0, -1, True, 1.5, "2"])
    def test_attempts_must_be_a_count(self, fake, client, attempts):
        """attempts is None or a whole number ≥ 1, refused by name otherwise."""
        customer = client.v1.customers.create().id
        with pytest.raises(FakeStripeError, match="attempts"):
            fake.fail_next_renewal(customer, attempts=attempts)

    @pytest.mark.parametrize("customer", ["cus_nope", None, 5])
    def test_the_customer_must_exist(self, fake, customer):
        """An unknown customer is refused, naming it."""
        with pytest.raises(FakeStripeError, match="no customer"):
            fake.fail_next_renewal(customer)

    def test_a_deleted_customer_is_refused(self, fake, client):
        """A deleted customer has nothing to renew."""
        customer = client.v1.customers.create().id
        client.v1.customers.delete(customer)
        with pytest.raises(FakeStripeError, match="no customer"):
            fake.fail_next_renewal(customer)

    @pytest.mark.parametrize(
        ("kwargs", "words"),
        [
            ({"days": (3, 3)}, "increasing"),
            ({"days": (0,)}, "> 0"),
            ({"days": (1.5,)}, "whole days"),
            ({"days": "3"}, "whole days"),
            ({"then": "void"}, "cancel, unpaid, past_due"),
        ],
    )
    def test_retry_schedules_are_checked(self, kwargs, words):
        """A RetrySchedule that Stripe's settings could not hold is a FakeStripeError."""
        with pytest.raises(FakeStripeError, match=words):
            RetrySchedule(**kwargs)

    def test_the_dashboard_takes_only_a_retry_schedule(self, fake):
        """Setting anything else is refused; lists of days are accepted as tuples."""
        with pytest.raises(FakeStripeError, match="RetrySchedule"):
            fake.dashboard.retry_schedule = {"days": (1,)}  # type: ignore[assignment]
        fake.dashboard.retry_schedule = RetrySchedule(days=[2, 4])  # type: ignore[arg-type]
        assert fake.dashboard.retry_schedule.days == (2, 4)
        assert fake.dashboard.retry_schedule.last_day == 4
        assert RetrySchedule(days=()).last_day == 0


def test_cancelflow_end_to_end_through_webhooks():
    """A failed renewal through stripe-python and signed webhooks: the past_due guard, the end."""
    fake = FakeStripe()
    client = fake.client()
    ledger = cancelflow.MemoryLedger()
    received: list[dict[str, Any]] = []

    def endpoint(body: bytes, headers: Any) -> int:
        received.append(json.loads(body))
        handler.handle_webhook(body, headers["Stripe-Signature"])
        return 200

    handler = cancelflow.WebhookHandler(
        fake.add_webhook_endpoint(endpoint), ledger=ledger
    )
    fake.dashboard.save_portal_settings(
        features={"subscription_cancel": {"enabled": True}}
    )
    client.v1.coupons.create(params={"id": "STAY20", "percent_off": 20})
    sub = subscription(client)
    policy = cancelflow.RetentionPolicy(
        rules=[cancelflow.Rule("all", cancelflow.Segment(), cancelflow.Offer("STAY20"))]
    )
    flow = cancelflow.Cancelflow(
        client,
        allowed_hosts=["example.com"],
        policy=policy,
        ledger=ledger,
        clock=fake.clock.now,
    )
    fake.fail_next_renewal(sub.customer)
    fake.clock.advance_to(FEB_1 + HOUR)
    link = flow.create_cancel_link(customer=sub.customer, subscription=sub.id)
    assert link.coupon_id is None
    assert cancelflow.Guard.PAST_DUE in link.decision.guards
    fake.clock.advance(dt.timedelta(days=15))
    types = {event["type"] for event in received}
    assert {"invoice.payment_failed", "customer.subscription.deleted"} <= types
    assert all(d.ok for d in fake.webhook_endpoints[0].deliveries)
    ended = [
        e
        for body in received
        if body["type"] == "customer.subscription.deleted"
        for e in cancelflow.parse_event(json.dumps(body))
    ]
    assert [type(e).__name__ for e in ended] == ["SubscriptionEnded"]
    assert ended[0].reason is cancelflow.CancellationReason.PAYMENT_FAILED
    assert raw(client.v1.subscriptions.retrieve(sub.id))["status"] == "canceled"


def test_every_event_of_a_failed_renewal_is_complete(fake, client):
    """Invoice and subscription events of the whole dunning run have complete shapes."""
    from tests.test_fake_shapes import check_shape, object_class

    fake.dashboard.retry_schedule = RetrySchedule(days=(2,), then="unpaid")
    sub = subscription(client)
    fake.fail_next_renewal(sub.customer, attempts=None)
    first = mark(fake)
    fake.clock.advance(dt.timedelta(days=40))
    kinds = set()
    for event in events_since(fake, first):
        kinds.add(event["type"])
        got = raw(client.v1.events.retrieve(event["id"]))
        obj = got["data"]["object"]
        check_shape(obj, object_class(obj["object"]), event["type"], [])
        assert ("previous_attributes" in got["data"]) == event["type"].endswith(
            ".updated"
        )
    assert {
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "invoice.updated",
        "customer.updated",
        "customer.subscription.updated",
    } <= kinds

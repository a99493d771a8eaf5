"""Subscriptions on FakeStripe: create, update, cancel, list, and the backend operations."""

from __future__ import annotations

import datetime as dt

import pytest
import stripe
from tests.fake_support import client, event_types, fake, price, subscription

__all__ = ["client", "fake"]

JAN_1 = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
FEB_1 = int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp())
MAR_1 = int(dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp())
DAY = 86_400


def events_of(fake, type_):
    store = fake.backend.events.store
    return [
        store.by_id[i].obj
        for i in store.order.ids
        if store.by_id[i].obj["type"] == type_
    ]


class TestCreate:
    def test_active_with_item_periods(self, fake, client):
        """A new subscription is active; its item's period runs one interval from now."""
        sub = subscription(client)
        item = sub["items"].data[0]
        assert sub.status == "active"
        assert (item.current_period_start, item.current_period_end) == (JAN_1, FEB_1)
        assert sub.billing_cycle_anchor == sub.start_date == sub.created == JAN_1
        assert sub["items"].total_count == 1
        assert sub["items"].url == f"/v1/subscription_items?subscription={sub.id}"
        assert event_types(fake)[-1] == "customer.subscription.created"

    def test_flexible_is_the_default_billing_mode(self, client):
        """Since 2025-09-30.clover, subscriptions default to flexible billing mode."""
        customer = client.v1.customers.create().id
        sub = client.v1.subscriptions.create(
            params={"customer": customer, "items": [{"price": price(client).id}]}
        )
        assert sub.billing_mode.type == "flexible"
        assert sub.billing_mode.flexible.proration_discounts == "included"

    def test_mixed_intervals_only_in_flexible_mode(self, client):
        """Classic mode refuses mixed intervals; flexible mode gives each item its own period."""
        monthly, yearly = price(client), price(client, interval="year")
        items = [{"price": monthly.id}, {"price": yearly.id}]
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, items=items, mode="classic")
        assert info.value.param == "items[1][price]"
        sub = subscription(client, items=items, mode="flexible")
        ends = [i.current_period_end for i in sub["items"].data]
        assert ends == [FEB_1, int(dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp())]

    @pytest.mark.parametrize(
        ("make_items", "param"),
        [
            (
                lambda c: [
                    {"price": price(c).id},
                    {"price": price(c, currency="eur").id},
                ],
                "items[1][price]",
            ),
            (
                lambda c: [{"price": (p := price(c).id)}, {"price": p}],
                "items[1][price]",
            ),
            (
                lambda c: [
                    {
                        "price": c.v1.prices.create(
                            params={
                                "currency": "usd",
                                "unit_amount": 1,
                                "product_data": {"name": "x"},
                            }
                        ).id
                    }
                ],
                "items[0][price]",
            ),
            (
                lambda c: [
                    {
                        "price": c.v1.prices.update(
                            price(c).id, params={"active": False}
                        ).id
                    }
                ],
                "items[0][price]",
            ),
            (lambda c: [{"quantity": 2}], "items[0][price]"),
        ],
        ids=["currency", "duplicate", "one-time", "inactive", "no-price"],
    )
    def test_item_rules(self, client, make_items, param):
        """Items need an active recurring price, one currency, no duplicates."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, items=make_items(client))
        assert info.value.param == param

    def test_missing_customer_and_items(self, client):
        """customer must exist (404 on its param); items are required."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.create(
                params={"customer": "cus_nope", "items": [{"price": "p"}]}
            )
        assert (info.value.http_status, info.value.param) == (404, "customer")
        customer = client.v1.customers.create().id
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.create(params={"customer": customer})
        assert (info.value.code, info.value.param) == ("parameter_missing", "items")

    def test_trial_period_days(self, client):
        """A trial makes it trialing, with the trial as the first period and anchor."""
        sub = subscription(client, trial_period_days=14)
        assert sub.status == "trialing"
        assert (sub.trial_start, sub.trial_end) == (JAN_1, JAN_1 + 14 * DAY)
        assert sub.billing_cycle_anchor == JAN_1 + 14 * DAY
        assert sub["items"].data[0].current_period_end == JAN_1 + 14 * DAY

    def test_trial_end_rules(self, client):
        """trial_end must be in the future; "now" means no trial; it excludes trial_period_days."""
        assert subscription(client, trial_end="now").status == "active"
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, trial_end=JAN_1 - 1)
        assert info.value.param == "trial_end"
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, trial_end=JAN_1 + DAY, trial_period_days=3)
        assert info.value.code == "parameters_exclusive"

    def test_send_invoice_needs_days_until_due(self, client):
        """collection_method=send_invoice requires days_until_due."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, collection_method="send_invoice")
        assert info.value.param == "days_until_due"
        assert (
            subscription(
                client, collection_method="send_invoice", days_until_due=30
            ).days_until_due
            == 30
        )

    def test_default_incomplete_is_not_modeled(self, client):
        """payment_behavior=default_incomplete would need payments: refused by name."""
        with pytest.raises(stripe.InvalidRequestError, match="default_incomplete"):
            subscription(client, payment_behavior="default_incomplete")

    def test_discounts_at_create(self, fake, client):
        """A coupon at create becomes a discount; its event comes first."""
        coupon = client.v1.coupons.create(
            params={"percent_off": 50, "duration": "repeating", "duration_in_months": 3}
        )
        sub = subscription(client, discounts=[{"coupon": coupon.id}])
        assert len(sub.discounts) == 1
        discount = fake.backend.discounts.get(sub.discounts[0]).obj
        assert discount["source"] == {"coupon": coupon.id, "type": "coupon"}
        assert (discount["start"], discount["subscription"]) == (JAN_1, sub.id)
        assert discount["end"] == int(
            dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp()
        )
        assert event_types(fake)[-2:] == [
            "customer.discount.created",
            "customer.subscription.created",
        ]

    @pytest.mark.parametrize(
        "coupon",
        [
            {"amount_off": 500, "currency": "eur"},
            {"amount_off": 500, "currency": "usd", "duration": "forever"},
        ],
        ids=["currency", "forever-amount"],
    )
    def test_coupons_that_cannot_apply(self, client, coupon):
        """Amount coupons in another currency, or forever, are refused on subscriptions."""
        created = client.v1.coupons.create(params=coupon)
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, discounts=[{"coupon": created.id}])
        assert info.value.param == "discounts[0][coupon]"

    def test_coupon_applies_to_other_products(self, client):
        """A coupon restricted to other products is refused."""
        other = client.v1.products.create(params={"name": "Other"}).id
        coupon = client.v1.coupons.create(
            params={"percent_off": 5, "applies_to": {"products": [other]}}
        )
        with pytest.raises(stripe.InvalidRequestError, match="does not apply"):
            subscription(client, discounts=[{"coupon": coupon.id}])

    def test_schedule_at_create(self, client):
        """cancel_at_period_end at create schedules the end at the first period end."""
        sub = subscription(client, cancel_at_period_end=True)
        assert (sub.cancel_at, sub.cancel_at_period_end) == (FEB_1, True)
        assert sub.cancellation_details.reason == "cancellation_requested"


class TestUpdate:
    def test_classic_cancel_at_period_end(self, fake, client):
        """Classic: cancel_at_period_end sets cancel_at to the period end, canceled_at, reason."""
        sub = subscription(client)
        fake.clock.advance(DAY)
        updated = client.v1.subscriptions.update(
            sub.id, params={"cancel_at_period_end": True}
        )
        assert (
            updated.cancel_at_period_end,
            updated.cancel_at,
            updated.canceled_at,
        ) == (True, FEB_1, JAN_1 + DAY)
        assert updated.cancellation_details.reason == "cancellation_requested"
        assert updated.status == "active"
        event = events_of(fake, "customer.subscription.updated")[-1]
        assert event["data"]["previous_attributes"] == {
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"reason": None},
        }
        assert event["created"] == JAN_1 + DAY

    def test_cancel_at_enums(self, client):
        """cancel_at=min_period_end/max_period_end pick the items' earliest or latest end."""
        monthly, yearly = price(client), price(client, interval="year")
        sub = subscription(
            client, items=[{"price": monthly.id}, {"price": yearly.id}], mode="flexible"
        )
        early = client.v1.subscriptions.update(
            sub.id, params={"cancel_at": "min_period_end"}
        )
        assert (early.cancel_at, early.cancel_at_period_end) == (FEB_1, False)
        late = client.v1.subscriptions.update(
            sub.id, params={"cancel_at": "max_period_end"}
        )
        assert late.cancel_at == int(dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp())

    def test_mixed_intervals_cancel_at_period_end_is_the_earliest_end(
        self, fake, client
    ):
        """Monthly + yearly, cancel_at_period_end: cancel_at is the monthly (earliest) end."""
        monthly, yearly = price(client), price(client, interval="year")
        sub = subscription(
            client, items=[{"price": monthly.id}, {"price": yearly.id}], mode="flexible"
        )
        fake.clock.advance(DAY)
        updated = client.v1.subscriptions.update(
            sub.id, params={"cancel_at_period_end": True}
        )
        assert (updated.cancel_at, updated.cancel_at_period_end) == (FEB_1, True)
        assert updated.canceled_at == JAN_1 + DAY  # the request's time (documented)
        fake.clock.advance_to(FEB_1)
        ended = client.v1.subscriptions.retrieve(sub.id)
        assert (ended.status, ended.ended_at) == ("canceled", FEB_1)
        assert events_of(fake, "customer.subscription.deleted")[-1]["created"] == FEB_1

    def test_a_cancel_at_schedule_leaves_canceled_at_null(self, fake, client):
        """cancel_at (not the flag) schedules without canceled_at, until the end comes."""
        sub = subscription(client, mode="flexible")
        fake.clock.advance(DAY)
        updated = client.v1.subscriptions.update(sub.id, params={"cancel_at": MAR_1})
        assert (updated.cancel_at, updated.canceled_at) == (MAR_1, None)
        assert updated.cancellation_details.reason == "cancellation_requested"
        previous = events_of(fake, "customer.subscription.updated")[-1]["data"][
            "previous_attributes"
        ]
        assert previous == {
            "cancel_at": None,
            "cancellation_details": {"reason": None},
        }
        fake.clock.advance_to(MAR_1)
        ended = client.v1.subscriptions.retrieve(sub.id)
        assert (ended.status, ended.canceled_at, ended.ended_at) == (
            "canceled",
            MAR_1,
            MAR_1,
        )

    def test_cancel_at_timestamp_rules(self, client):
        """cancel_at must be in the future and excludes cancel_at_period_end."""
        sub = subscription(client)
        assert (
            client.v1.subscriptions.update(
                sub.id, params={"cancel_at": MAR_1}
            ).cancel_at
            == MAR_1
        )
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.update(sub.id, params={"cancel_at": JAN_1})
        assert info.value.param == "cancel_at"
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.update(
                sub.id, params={"cancel_at": MAR_1, "cancel_at_period_end": True}
            )
        assert info.value.code == "parameters_exclusive"
        with pytest.raises(stripe.InvalidRequestError, match="max_billed_until"):
            client.v1.subscriptions.update(
                sub.id, params={"cancel_at": "max_billed_until"}
            )

    def test_renewing_clears_the_schedule(self, client):
        """cancel_at_period_end=false (or cancel_at="") clears cancel_at, canceled_at, details."""
        sub = subscription(client, cancel_at_period_end=True)
        renewed = client.v1.subscriptions.update(
            sub.id, params={"cancel_at_period_end": False}
        )
        assert (
            renewed.cancel_at,
            renewed.cancel_at_period_end,
            renewed.canceled_at,
        ) == (None, False, None)
        assert renewed.cancellation_details.reason is None
        again = client.v1.subscriptions.update(sub.id, params={"cancel_at": MAR_1})
        assert (
            client.v1.subscriptions.update(again.id, params={"cancel_at": ""}).cancel_at
            is None
        )

    def test_cancellation_details_need_a_scheduled_or_canceled_subscription(
        self, client
    ):
        """Details are refused on a subscription that is not ending (UNCONFIRMED rule)."""
        sub = subscription(client)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.update(
                sub.id, params={"cancellation_details": {"feedback": "other"}}
            )
        assert info.value.param == "cancellation_details"
        both = client.v1.subscriptions.update(
            sub.id,
            params={
                "cancel_at_period_end": True,
                "cancellation_details": {"feedback": "other", "comment": "spreadsheet"},
            },
        )
        assert (
            both.cancellation_details.feedback,
            both.cancellation_details.comment,
        ) == ("other", "spreadsheet")
        cleared = client.v1.subscriptions.update(
            sub.id, params={"cancellation_details": {"comment": ""}}
        )
        assert cleared.cancellation_details.comment is None
        assert cleared.cancellation_details.feedback == "other"

    def test_feedback_option_must_exist(self, client):
        """cancellation_details.feedback_option names an existing feedback option."""
        sub = subscription(client, cancel_at_period_end=True)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.update(
                sub.id, params={"cancellation_details": {"feedback_option": "fo_nope"}}
            )
        assert (info.value.code, info.value.param) == (
            "resource_missing",
            "cancellation_details[feedback_option]",
        )
        option = client.v1.billing.feedback_options.create(
            params={"description": "Moving"}
        )
        updated = client.v1.subscriptions.update(
            sub.id, params={"cancellation_details": {"feedback_option": option.id}}
        )
        assert updated.cancellation_details.feedback_option == option.id

    def test_discounts_replace_and_clear(self, fake, client):
        """A discounts array replaces them (ending dropped ones); "" clears them."""
        first = client.v1.coupons.create(params={"percent_off": 10})
        second = client.v1.coupons.create(params={"percent_off": 20})
        sub = subscription(client, discounts=[{"coupon": first.id}])
        kept = sub.discounts[0]
        both = client.v1.subscriptions.update(
            sub.id, params={"discounts": [{"discount": kept}, {"coupon": second.id}]}
        )
        assert both.discounts[0] == kept
        assert len(both.discounts) == 2
        replaced = client.v1.subscriptions.update(
            sub.id, params={"discounts": [{"coupon": first.id}]}
        )
        assert kept not in replaced.discounts
        cleared = client.v1.subscriptions.update(sub.id, params={"discounts": ""})
        assert cleared.discounts == []
        types = event_types(fake)
        assert types.count("customer.discount.created") == 3
        assert types.count("customer.discount.deleted") == 3
        previous = events_of(fake, "customer.subscription.updated")[-1]["data"][
            "previous_attributes"
        ]
        assert previous == {"discounts": replaced.discounts}

    def test_unknown_discount_id(self, client):
        """Keeping a discount the subscription does not have is a 404."""
        sub = subscription(client)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.update(
                sub.id, params={"discounts": [{"discount": "di_nope"}]}
            )
        assert info.value.param == "discounts[0][discount]"

    def test_canceled_subscription_is_mostly_immutable(self, client):
        """A canceled subscription can only update its cancellation_details and metadata."""
        sub = subscription(client)
        client.v1.subscriptions.cancel(sub.id)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.update(sub.id, params={"description": "x"})
        assert (
            info.value.error.message
            == "A canceled subscription can only update its cancellation_details and metadata."
        )
        assert info.value.param == "description"
        updated = client.v1.subscriptions.update(
            sub.id,
            params={
                "metadata": {"a": "1"},
                "cancellation_details": {"comment": "late"},
            },
        )
        assert (updated.metadata["a"], updated.cancellation_details.comment) == (
            "1",
            "late",
        )

    def test_trial_end_now_ends_the_trial(self, fake, client):
        """trial_end=now makes it active with a new period from now."""
        sub = subscription(client, trial_period_days=30)
        fake.clock.advance(DAY)
        ended = client.v1.subscriptions.update(sub.id, params={"trial_end": "now"})
        assert (ended.status, ended.trial_end) == ("active", JAN_1 + DAY)
        item = ended["items"].data[0]
        assert (item.current_period_start, item.current_period_end) == (
            JAN_1 + DAY,
            FEB_1 + DAY,
        )

    def test_simple_fields(self, client):
        """description, pause_collection, collection_method update in place."""
        sub = subscription(client)
        updated = client.v1.subscriptions.update(
            sub.id,
            params={
                "description": "Main",
                "pause_collection": {"behavior": "void"},
                "collection_method": "send_invoice",
                "days_until_due": 7,
            },
        )
        assert (
            updated.description,
            updated.pause_collection.behavior,
            updated.days_until_due,
        ) == ("Main", "void", 7)
        assert (
            client.v1.subscriptions.update(
                sub.id, params={"pause_collection": ""}
            ).pause_collection
            is None
        )

    def test_no_change_no_event(self, fake, client):
        """An update that changes nothing emits nothing."""
        sub = subscription(client)
        before = len(fake.backend.events.store)
        client.v1.subscriptions.update(sub.id, params={"metadata": {}})
        assert len(fake.backend.events.store) == before


class TestCancel:
    def test_delete_cancels_now(self, fake, client):
        """DELETE ends it now: canceled, ended_at, canceled_at, reason and details."""
        sub = subscription(client)
        fake.clock.advance(DAY)
        canceled = client.v1.subscriptions.cancel(
            sub.id,
            params={
                "cancellation_details": {"feedback": "too_expensive"},
                "prorate": True,
                "invoice_now": False,
            },
        )
        assert (canceled.status, canceled.ended_at, canceled.canceled_at) == (
            "canceled",
            JAN_1 + DAY,
            JAN_1 + DAY,
        )
        assert canceled.cancellation_details.reason == "cancellation_requested"
        assert canceled.cancellation_details.feedback == "too_expensive"
        deleted = events_of(fake, "customer.subscription.deleted")
        assert len(deleted) == 1
        assert "previous_attributes" not in deleted[0]["data"]

    def test_cancel_twice(self, fake, client):
        """Canceling a canceled subscription answers 404 No such subscription, as Stripe does."""
        sub = subscription(client)
        client.v1.subscriptions.cancel(sub.id)
        before = len(fake.backend.events.store)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.subscriptions.cancel(sub.id)
        assert (info.value.http_status, info.value.code, info.value.param) == (
            404,
            "resource_missing",
            "id",
        )
        assert info.value.user_message == f"No such subscription: '{sub.id}'"
        assert len(fake.backend.events.store) == before  # nothing emitted
        assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"


class TestList:
    def test_status_filters(self, client):
        """Default excludes canceled; all, ended and a status filter as Stripe documents."""
        customer = client.v1.customers.create().id
        active = subscription(client, customer=customer)
        trialing = subscription(client, customer=customer, trial_period_days=3)
        canceled = subscription(client, customer=customer)
        client.v1.subscriptions.cancel(canceled.id)

        def ids(**params):
            return [
                s.id
                for s in client.v1.subscriptions.list(
                    params={"customer": customer, **params}
                ).data
            ]

        assert ids() == [trialing.id, active.id]
        assert ids(status="all") == [canceled.id, trialing.id, active.id]
        assert ids(status="ended") == [canceled.id]
        assert ids(status="trialing") == [trialing.id]

    def test_price_and_customer_filters(self, client):
        """Filters by price and by customer use indexes."""
        shared = price(client)
        one = subscription(client, items=[{"price": shared.id}])
        subscription(client)
        assert [
            s.id for s in client.v1.subscriptions.list(params={"price": shared.id}).data
        ] == [one.id]
        assert (
            client.v1.subscriptions.list(params={"customer": "cus_unknown"}).data == []
        )


class TestBackendOperations:
    """The operations the portal driver and the clock call (one event each).

    Time moves with ``clock._move_to``, which runs none of the clock's own
    transitions, so that each operation is tested alone.
    """

    def test_schedule_then_feedback_are_two_updates(self, fake, client):
        """schedule_cancel, then set_cancellation_details: two customer.subscription.updated."""
        sub = subscription(client, mode="classic")
        subs = fake.backend.subscriptions
        record = subs.get(sub.id)
        with fake.backend.operation():
            first = subs.schedule_cancel(record, at_period_end=True)
            second = subs.set_cancellation_details(
                record, {"feedback": "other", "comment": "moving"}
            )
        assert (
            first["data"]["previous_attributes"]["cancellation_details"]["reason"]
            is None
        )
        assert first["request"] == {"id": None, "idempotency_key": None}
        assert second["data"]["previous_attributes"] == {
            "cancellation_details": {"comment": None, "feedback": None}
        }

    def test_flexible_schedule_uses_cancel_at(self, fake, client):
        """Flexible mode schedules with cancel_at = the latest period end, not the flag."""
        sub = subscription(client, mode="flexible")
        subs = fake.backend.subscriptions
        record = subs.get(sub.id)
        subs.schedule_cancel(record, cancel_at=subs.period_end(record, "max"))
        after = client.v1.subscriptions.retrieve(sub.id)
        assert (after.cancel_at, after.cancel_at_period_end) == (FEB_1, False)
        assert subs.is_scheduled(record.obj)
        subs.unschedule_cancel(record)
        assert not subs.is_scheduled(record.obj)

    def test_apply_and_remove_coupon(self, fake, client):
        """apply_coupon: discount.created then subscription.updated; remove_discount reverses."""
        sub = subscription(client)
        coupon = fake.backend.coupons.get(
            client.v1.coupons.create(params={"percent_off": 30}).id
        )
        record = fake.backend.subscriptions.get(sub.id)
        fake.backend.subscriptions.apply_coupon(record, coupon)
        assert event_types(fake)[-2:] == [
            "customer.discount.created",
            "customer.subscription.updated",
        ]
        (discount_id,) = record.obj["discounts"]
        fake.backend.subscriptions.remove_discount(record, discount_id)
        assert event_types(fake)[-2:] == [
            "customer.discount.deleted",
            "customer.subscription.updated",
        ]
        assert record.obj["discounts"] == []

    def test_renew_moves_periods_and_classic_cancel_at(self, fake, client):
        """renew starts the next period; a classic scheduled cancel_at follows it."""
        sub = subscription(client, mode="classic", cancel_at_period_end=True)
        record = fake.backend.subscriptions.get(sub.id)
        fake.clock._move_to(FEB_1)
        event = fake.backend.subscriptions.renew(record)
        item = client.v1.subscriptions.retrieve(sub.id)["items"].data[0]
        assert (item.current_period_start, item.current_period_end) == (FEB_1, MAR_1)
        assert record.obj["cancel_at"] == MAR_1
        assert set(event["data"]["previous_attributes"]) == {"cancel_at", "items"}

    def test_month_end_anchor_is_kept(self, fake, client):
        """A Jan 31 anchor renews on Feb 28 then Mar 31."""
        jan_31 = int(dt.datetime(2026, 1, 31, tzinfo=dt.UTC).timestamp())
        fake.clock.advance_to(jan_31)
        sub = subscription(client)
        record = fake.backend.subscriptions.get(sub.id)
        assert sub["items"].data[0].current_period_end == int(
            dt.datetime(2026, 2, 28, tzinfo=dt.UTC).timestamp()
        )
        for expected in ((2026, 3, 31), (2026, 4, 30)):
            fake.clock._move_to(
                record_end := fake.backend.subscriptions.period_end(record)
            )
            fake.backend.subscriptions.renew(record)
            assert fake.backend.subscriptions.period_end(record) == int(
                dt.datetime(*expected, tzinfo=dt.UTC).timestamp()
            )
            assert record_end < fake.backend.subscriptions.period_end(record)

    def test_end_trial_and_cancel_at_a_given_instant(self, fake, client):
        """end_trial activates; cancel_now(ended_at=...) ends at the scheduled instant."""
        sub = subscription(client, trial_period_days=7)
        subs = fake.backend.subscriptions
        record = subs.get(sub.id)
        fake.clock._move_to(JAN_1 + 7 * DAY)
        subs.end_trial(record)
        assert record.obj["status"] == "active"
        subs.schedule_cancel(record, at_period_end=True)
        end = record.obj["cancel_at"]
        fake.clock._move_to(end)
        subs.cancel_now(record, details=None, ended_at=end)
        assert (
            record.obj["status"],
            record.obj["ended_at"],
            record.obj["canceled_at"],
        ) == ("canceled", end, JAN_1 + 7 * DAY)

"""What advancing the fake clock does: renewals, scheduled ends, trials, discounts, in time order."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fake_support import client, event_types, fake, price, subscription

from cancelflow.testing import FakeStripe

__all__ = ["client", "fake"]

DAY = 86_400


def ts(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp())


JAN_1, FEB_1, MAR_1, APR_1 = (
    ts(2026, 1, 1),
    ts(2026, 2, 1),
    ts(2026, 3, 1),
    ts(2026, 4, 1),
)


def events(fake, type_=None):
    store = fake.backend.events.store
    found = [store.by_id[i].obj for i in store.order.ids]
    return [e for e in found if type_ is None or e["type"] == type_]


class TestRenewals:
    def test_each_period_end_renews(self, fake, client):
        """Passing three period ends renews three times, each at its instant."""
        sub = subscription(client)
        fake.clock.advance_to(ts(2026, 4, 15))
        updates = events(fake, "customer.subscription.updated")
        assert [e["created"] for e in updates] == [FEB_1, MAR_1, APR_1]
        first = updates[0]["data"]
        assert set(first["previous_attributes"]) == {"items"}
        old_item = first["previous_attributes"]["items"]["data"][0]
        assert (old_item["current_period_start"], old_item["current_period_end"]) == (
            JAN_1,
            FEB_1,
        )
        item = client.v1.subscriptions.retrieve(sub.id)["items"].data[0]
        assert (item.current_period_start, item.current_period_end) == (
            APR_1,
            ts(2026, 5, 1),
        )
        assert fake.clock.now() == ts(2026, 4, 15)

    def test_items_of_different_intervals_renew_on_their_own(self, fake, client):
        """Flexible mode: a weekly and a monthly item renew on their own boundaries."""
        product = client.v1.products.create(params={"name": "Suite"}).id
        weekly = price(client, product=product, interval="week")
        monthly = price(client, product=product)
        sub = subscription(
            client, mode="flexible", items=[{"price": weekly.id}, {"price": monthly.id}]
        )
        fake.clock.advance(dt.timedelta(days=31))
        created = [e["created"] for e in events(fake, "customer.subscription.updated")]
        assert created == [JAN_1 + 7 * DAY * k for k in (1, 2, 3, 4)] + [FEB_1]
        items = client.v1.subscriptions.retrieve(sub.id)["items"].data
        assert [i.current_period_end for i in items] == [JAN_1 + 35 * DAY, MAR_1]

    def test_nothing_due_nothing_happens(self, fake, client):
        """Advancing within a period emits nothing."""
        subscription(client)
        count = len(events(fake))
        fake.clock.advance(dt.timedelta(days=30))
        assert len(events(fake)) == count
        assert fake.backend.timeline.next_due() == FEB_1


class TestScheduledEnds:
    def test_classic_cancel_at_period_end_ends_instead_of_renewing(self, fake, client):
        """At the period end a classic scheduled subscription ends: deleted, not renewed."""
        sub = subscription(client, mode="classic")
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
        fake.clock.advance(dt.timedelta(days=45))
        assert event_types(fake)[-1] == "customer.subscription.deleted"
        (deleted,) = events(fake, "customer.subscription.deleted")
        assert deleted["created"] == FEB_1
        obj = deleted["data"]["object"]
        assert (obj["status"], obj["ended_at"], obj["canceled_at"]) == (
            "canceled",
            FEB_1,
            JAN_1,
        )
        assert obj["cancellation_details"]["reason"] == "cancellation_requested"
        assert (
            len(events(fake, "customer.subscription.updated")) == 1
        )  # the schedule only

    def test_flexible_cancel_at_a_date_after_renewals(self, fake, client):
        """A cancel_at two periods ahead renews twice, then ends at cancel_at."""
        sub = subscription(client, mode="flexible")
        end = ts(2026, 3, 15)
        client.v1.subscriptions.update(sub.id, params={"cancel_at": end})
        fake.clock.advance_to(ts(2026, 6, 1))
        assert [e["type"] for e in events(fake)][-3:] == [
            "customer.subscription.updated",
            "customer.subscription.updated",
            "customer.subscription.deleted",
        ]
        assert events(fake)[-1]["created"] == end
        assert client.v1.subscriptions.retrieve(sub.id).ended_at == end

    def test_renewed_schedule_is_forgotten(self, fake, client):
        """A schedule withdrawn before its date ends nothing."""
        sub = subscription(client, mode="classic")
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
        fake.clock.advance(dt.timedelta(days=45))
        assert events(fake, "customer.subscription.deleted") == []
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"

    def test_moved_schedule_ends_at_the_new_date(self, fake, client):
        """Moving cancel_at later makes the old date stale."""
        sub = subscription(client, mode="flexible")
        client.v1.subscriptions.update(sub.id, params={"cancel_at": JAN_1 + 10 * DAY})
        client.v1.subscriptions.update(sub.id, params={"cancel_at": JAN_1 + 20 * DAY})
        fake.clock.advance(dt.timedelta(days=15))
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
        fake.clock.advance(dt.timedelta(days=10))
        assert client.v1.subscriptions.retrieve(sub.id).ended_at == JAN_1 + 20 * DAY


class TestTrials:
    def test_trial_will_end_then_active(self, fake, client):
        """A 14-day trial warns 3 days before its end, then becomes active with new periods."""
        sub = subscription(client, trial_period_days=14)
        fake.clock.advance(dt.timedelta(days=20))
        (warning,) = events(fake, "customer.subscription.trial_will_end")
        assert warning["created"] == JAN_1 + 11 * DAY
        (update,) = events(fake, "customer.subscription.updated")
        assert update["created"] == JAN_1 + 14 * DAY
        assert update["data"]["previous_attributes"]["status"] == "trialing"
        after = client.v1.subscriptions.retrieve(sub.id)
        assert after.status == "active"
        item = after["items"].data[0]
        assert (item.current_period_start, item.current_period_end) == (
            JAN_1 + 14 * DAY,
            ts(2026, 2, 15),
        )

    def test_short_trial_warns_at_the_first_advance(self, fake, client):
        """A trial shorter than 3 days is warned about at once (on the first advance)."""
        subscription(client, trial_period_days=2)
        fake.clock.advance(1)
        (warning,) = events(fake, "customer.subscription.trial_will_end")
        assert warning["created"] == JAN_1

    def test_canceled_trial_does_not_activate(self, fake, client):
        """A trial canceled before its end neither warns nor activates."""
        sub = subscription(client, trial_period_days=14)
        client.v1.subscriptions.cancel(sub.id)
        fake.clock.advance(dt.timedelta(days=20))
        assert events(fake, "customer.subscription.trial_will_end") == []
        assert events(fake, "customer.subscription.updated") == []


class TestDiscounts:
    def test_repeating_discount_ends(self, fake, client):
        """A 2-month repeating discount is deleted at its end, then the subscription updated."""
        client.v1.coupons.create(
            params={
                "id": "TWO",
                "percent_off": 10,
                "duration": "repeating",
                "duration_in_months": 2,
            }
        )
        sub = subscription(client, discounts=[{"coupon": "TWO"}])
        fake.clock.advance(dt.timedelta(days=70))
        (deleted,) = events(fake, "customer.discount.deleted")
        assert deleted["created"] == MAR_1
        after_delete = events(fake)[events(fake).index(deleted) + 1]
        assert after_delete["type"] == "customer.subscription.updated"
        assert after_delete["data"]["previous_attributes"]["discounts"] == [
            deleted["data"]["object"]["id"]
        ]
        assert client.v1.subscriptions.retrieve(sub.id).discounts == []

    def test_once_discount_ends_at_the_next_invoice(self, fake, client):
        """A once discount applied mid-period is used up by the next renewal."""
        client.v1.coupons.create(params={"id": "ONCE", "percent_off": 50})
        sub = subscription(client)
        fake.clock.advance(dt.timedelta(days=10))
        client.v1.subscriptions.update(
            sub.id, params={"discounts": [{"coupon": "ONCE"}]}
        )
        fake.clock.advance(dt.timedelta(days=10))
        assert len(client.v1.subscriptions.retrieve(sub.id).discounts) == 1
        fake.clock.advance(dt.timedelta(days=15))
        assert client.v1.subscriptions.retrieve(sub.id).discounts == []
        (deleted,) = events(fake, "customer.discount.deleted")
        assert deleted["created"] == FEB_1
        assert event_types(fake)[-3:] == [
            "customer.subscription.updated",  # the renewal
            "customer.discount.deleted",
            "customer.subscription.updated",
        ]

    def test_forever_discount_stays(self, fake, client):
        """A forever discount survives renewals."""
        client.v1.coupons.create(
            params={"id": "FOREVER", "percent_off": 5, "duration": "forever"}
        )
        sub = subscription(client, discounts=[{"coupon": "FOREVER"}])
        fake.clock.advance(dt.timedelta(days=100))
        assert len(client.v1.subscriptions.retrieve(sub.id).discounts) == 1


def test_webhooks_arrive_in_time_order_one_transition_at_a_time():
    """Each transition's events are delivered before the next transition runs."""
    fake = FakeStripe()
    client = fake.client()
    seen = []

    def endpoint(body, headers):
        seen.append((fake.clock.now(), len(seen)))

    fake.add_webhook_endpoint(endpoint, events=["customer.subscription.*"])
    subscription(client)
    subscription(client, trial_period_days=10)
    seen.clear()
    fake.clock.advance(dt.timedelta(days=62))
    times = [t for t, _ in seen]
    assert times == sorted(times)
    assert len(set(times)) == len(times)  # one delivery batch per instant here


@settings(max_examples=25)
@given(
    steps=st.lists(
        st.integers(min_value=0, max_value=40 * DAY), min_size=1, max_size=6
    ),
    trial=st.sampled_from([None, 2, 14]),
    scheduled=st.booleans(),
)
def test_how_time_is_advanced_does_not_matter(steps, trial, scheduled):
    """Advancing in several steps gives the same events as one jump to the same instant."""

    def run(deltas):
        fake = FakeStripe()
        client = fake.client()
        params = {} if trial is None else {"trial_period_days": trial}
        sub = subscription(client, **params)
        if scheduled:
            client.v1.subscriptions.update(sub.id, params={"cancel_at": FEB_1 + DAY})
        for delta in deltas:
            fake.clock.advance(delta)
        return [(e["type"], e["created"]) for e in events(fake)]

    stepped = run(steps)
    assert stepped == run([sum(steps)])
    created = [c for _, c in stepped]
    assert created == sorted(created)

"""The fake portal driver: what a visit shows, what its actions do, what it refuses."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import stripe
from tests.fake_support import (
    cancel_flow,
    client,
    default_cancel_config,
    fake,
    price,
    subscription,
)

import cancelflow
from cancelflow.exceptions import (
    FakeStripeError,
    PortalCancelDisabledError,
    PortalError,
    PortalFlowFinishedError,
    PortalOfferError,
    PortalReasonNotOfferedError,
    PortalSessionExpiredError,
    PortalSessionNotFoundError,
    PortalSubscriptionError,
)
from cancelflow.testing import FakeStripe, PortalOutcome, PortalVisit

__all__ = ["client", "fake"]

JAN_1 = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
FEB_1 = int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp())
DAY = 86_400


def cancel_session(client, sub, *, coupon=None, after_completion=None, **params):
    flow = cancel_flow(sub, coupon=coupon, after=after_completion)
    return client.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "flow_data": flow, **params}
    )


def home_session(client, customer):
    return client.v1.billing_portal.sessions.create(params={"customer": customer})


class TestWhatTheVisitShows:
    def test_a_cancel_deep_link(self, fake, client):
        """The page shows the flow, subscription, reasons with French labels, offer and URLs."""
        sub = subscription(client)
        client.v1.coupons.create(params={"id": "STAY20", "percent_off": 20})
        option = client.v1.billing.feedback_options.create(
            params={"description": "Trop de notifications"}
        )
        default_cancel_config(
            fake,
            cancellation_reason={
                "enabled": True,
                "options": ["too_expensive", "other"],
                "feedback_options": [option.id],
            },
        )
        session = cancel_session(
            client,
            sub,
            coupon="STAY20",
            locale="fr",
            return_url="https://example.com/account",
            after_completion={
                "type": "redirect",
                "redirect": {"return_url": "https://example.com/bye"},
            },
        )
        visit = fake.portal.visit(session.url)
        assert isinstance(visit, PortalVisit)
        assert (visit.session_id, visit.customer) == (session.id, sub.customer)
        assert visit.flow_type == "subscription_cancel"
        assert visit.subscription_id == sub.id
        assert visit.subscription["status"] == "active"
        assert visit.configuration["id"] == session.configuration
        assert visit.cancel_enabled
        assert (visit.cancel_mode, visit.proration_behavior) == (
            "at_period_end",
            "none",
        )
        assert visit.reasons_enabled
        assert visit.cancellation_reasons == ("too_expensive", "other")
        assert visit.reason_labels == {
            "too_expensive": "Le tarif est trop élevé",
            "other": "Autre motif",
        }
        assert visit.feedback_options == {option.id: "Trop de notifications"}
        assert visit.coupon_id == "STAY20"
        assert visit.coupon["percent_off"] == 20
        assert visit.locale == "fr"
        assert visit.return_url == "https://example.com/account"
        assert visit.after_completion["redirect"] == {
            "return_url": "https://example.com/bye"
        }
        assert visit.is_open
        assert sub.id in repr(visit)
        assert fake.portal.visit(session.id).session_id == session.id

    def test_reasons_off_and_no_offer(self, fake, client):
        """Without reasons or coupon the page shows none; labels default to English."""
        sub = subscription(client)
        config = client.v1.billing_portal.configurations.create(
            params={"features": {"subscription_cancel": {"enabled": True}}}
        )
        session = cancel_session(client, sub, configuration=config.id)
        visit = fake.portal.visit(session.url)
        assert not visit.reasons_enabled
        assert visit.cancellation_reasons == ()
        assert visit.reason_labels == {}
        assert visit.feedback_options == {}
        assert (visit.coupon_id, visit.coupon) == (None, None)
        assert visit.after_completion["type"] == "portal_homepage"

    def test_homepage(self, fake, client):
        """A session without flow_data shows the homepage: every live subscription."""
        sub = subscription(client)
        other = subscription(client, customer=sub.customer)
        default_cancel_config(fake)
        visit = fake.portal.visit(home_session(client, sub.customer).url)
        assert visit.flow_type is None
        assert (visit.subscription_id, visit.subscription) == (None, None)
        assert visit.after_completion is None
        assert {s["id"] for s in visit.subscriptions} == {sub.id, other.id}
        assert visit.reason_labels == {
            "too_expensive": "It’s too expensive",
            "other": "Other reason",
        }

    def test_what_it_returns_is_a_copy(self, fake, client):
        """Changing what a visit returned does not change the account."""
        sub = subscription(client)
        default_cancel_config(fake)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        visit.subscription["status"] = "canceled"
        outcome = visit.cancel(feedback="other")
        outcome.subscription["cancellation_details"]["feedback"] = "unused"
        outcome.events[-1]["data"]["object"]["status"] = "canceled"
        after = client.v1.subscriptions.retrieve(sub.id)
        assert after.status == "active"
        assert after.cancellation_details.feedback == "other"


class TestCancel:
    def test_classic_at_period_end_then_the_reason(self, fake, client):
        """Classic mode: cancel_at_period_end and cancel_at, then the reason in a second update."""
        received = []
        fake.add_webhook_endpoint(
            lambda body, headers: received.append(json.loads(body))
        )
        sub = subscription(client, mode="classic")
        default_cancel_config(fake)
        fake.clock.advance(DAY)
        visit = fake.portal.visit(
            cancel_session(
                client,
                sub,
                after_completion={
                    "type": "redirect",
                    "redirect": {"return_url": "https://example.com/bye"},
                },
            ).url
        )
        received.clear()
        outcome = visit.cancel(feedback="other", comment="moving to a spreadsheet")
        assert isinstance(outcome, PortalOutcome)
        assert outcome.action == "cancel"
        assert outcome.redirect_url == "https://example.com/bye"
        assert outcome.event_types == [
            "customer.subscription.updated",
            "customer.subscription.updated",
        ]
        first, second = outcome.events
        assert first["data"]["object"]["cancel_at_period_end"] is True
        assert first["data"]["object"]["cancel_at"] == FEB_1
        assert first["data"]["object"]["canceled_at"] == JAN_1 + DAY
        assert first["data"]["object"]["cancellation_details"] == {
            "comment": None,
            "feedback": None,
            "feedback_option": None,
            "reason": "cancellation_requested",
        }
        assert first["data"]["previous_attributes"] == {
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"reason": None},
        }
        assert second["data"]["object"]["cancellation_details"] == {
            "comment": "moving to a spreadsheet",
            "feedback": "other",
            "feedback_option": None,
            "reason": "cancellation_requested",
        }
        assert set(second["data"]["previous_attributes"]) == {"cancellation_details"}
        assert second["created"] == first["created"] + 3
        assert [e["id"] for e in received] == [first["id"], second["id"]]
        assert first["request"] == {"id": None, "idempotency_key": None}
        assert outcome.subscription["status"] == "active"

    def test_flexible_uses_the_latest_item_period_end(self, fake, client):
        """Flexible mode: cancel_at is the latest item's period end, the flag stays false."""
        product = client.v1.products.create(params={"name": "Suite"}).id
        monthly = price(client, product=product)
        yearly = price(client, product=product, interval="year", amount=9000)
        sub = subscription(
            client,
            mode="flexible",
            items=[{"price": monthly.id}, {"price": yearly.id}],
        )
        default_cancel_config(fake)
        outcome = fake.portal.visit(cancel_session(client, sub).url).cancel()
        year_end = int(dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp())
        assert (
            outcome.subscription["cancel_at"],
            outcome.subscription["cancel_at_period_end"],
        ) == (year_end, False)
        assert outcome.event_types == ["customer.subscription.updated"]
        assert outcome.redirect_url is None

    def test_flexible_cancel_and_renew_events_match_the_capture(self, fake, client):
        """As captured (evt_1TfIR16UYJj2vm0GTbbwormk): canceled_at null, only changed sub-keys."""
        sub = subscription(client, mode="flexible")
        default_cancel_config(fake)
        fake.clock.advance(DAY)
        (scheduled,) = (
            fake.portal.visit(cancel_session(client, sub).url).cancel().events
        )
        obj = scheduled["data"]["object"]
        assert (obj["cancel_at"], obj["cancel_at_period_end"], obj["canceled_at"]) == (
            FEB_1,
            False,
            None,
        )
        assert obj["cancellation_details"]["reason"] == "cancellation_requested"
        assert scheduled["data"]["previous_attributes"] == {
            "cancel_at": None,
            "cancellation_details": {"reason": None},
        }
        home = fake.portal.visit(home_session(client, sub.customer).url)
        (renewed,) = home.renew().events
        assert renewed["data"]["previous_attributes"] == {
            "cancel_at": FEB_1,
            "cancellation_details": {"reason": "cancellation_requested"},
        }
        assert renewed["data"]["object"]["cancellation_details"]["reason"] is None

    def test_a_custom_feedback_option(self, fake, client):
        """A custom feedback option lands in cancellation_details.feedback_option."""
        sub = subscription(client)
        option = client.v1.billing.feedback_options.create(
            params={"description": "Too many emails"}
        )
        default_cancel_config(
            fake,
            cancellation_reason={
                "enabled": True,
                "options": ["other"],
                "feedback_options": [option.id],
            },
        )
        visit = fake.portal.visit(cancel_session(client, sub).url)
        outcome = visit.cancel(feedback_option=option.id)
        details = outcome.subscription["cancellation_details"]
        assert (details["feedback_option"], details["feedback"]) == (option.id, None)

    def test_immediately_ends_then_the_reason(self, fake, client):
        """mode=immediately: customer.subscription.deleted now, then the reason."""
        sub = subscription(client)
        default_cancel_config(
            fake, mode="immediately", proration_behavior="create_prorations"
        )
        fake.clock.advance(DAY)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        assert visit.proration_behavior == "create_prorations"
        outcome = visit.cancel(feedback="too_expensive")
        assert outcome.event_types == [
            "customer.subscription.deleted",
            "customer.subscription.updated",
        ]
        deleted = outcome.events[0]["data"]["object"]
        assert deleted["status"] == "canceled"
        assert deleted["ended_at"] == deleted["canceled_at"] == JAN_1 + DAY
        assert deleted["cancellation_details"]["reason"] == "cancellation_requested"
        assert (
            outcome.subscription["cancellation_details"]["feedback"] == "too_expensive"
        )

    def test_without_a_reason_one_event(self, fake, client):
        """A cancel without an answer emits only the scheduling update."""
        sub = subscription(client)
        default_cancel_config(fake)
        outcome = fake.portal.visit(cancel_session(client, sub).url).cancel()
        assert outcome.event_types == ["customer.subscription.updated"]
        assert fake.clock.now() == JAN_1

    def test_feedback_delay_is_configurable(self, fake, client):
        """feedback_delay sets how long after the cancel the reason arrives."""
        sub = subscription(client)
        default_cancel_config(fake)
        fake.portal.feedback_delay = dt.timedelta(0)
        outcome = fake.portal.visit(cancel_session(client, sub).url).cancel(
            feedback="too_expensive"
        )
        assert outcome.events[0]["created"] == outcome.events[1]["created"] == JAN_1

    def test_then_time_ends_it(self, fake, client):
        """After a cancel at period end, passing the period end ends the subscription."""
        sub = subscription(client)
        default_cancel_config(fake)
        fake.portal.visit(cancel_session(client, sub).url).cancel(feedback="other")
        fake.clock.advance(dt.timedelta(days=31))
        after = client.v1.subscriptions.retrieve(sub.id)
        assert (after.status, after.ended_at) == ("canceled", FEB_1)
        assert after.cancellation_details.feedback == "other"

    def test_on_the_homepage(self, fake, client):
        """The homepage cancels the subscription named (required when there are several)."""
        sub = subscription(client)
        other = subscription(client, customer=sub.customer)
        default_cancel_config(fake)
        visit = fake.portal.visit(home_session(client, sub.customer).url)
        with pytest.raises(PortalSubscriptionError, match="say which subscription"):
            visit.cancel()
        outcome = visit.cancel(subscription=other.id)
        assert outcome.subscription["id"] == other.id
        assert outcome.after_completion is None
        assert visit.is_open  # the homepage stays open
        assert visit.cancel().subscription["id"] == sub.id  # the only one left


class TestOffer:
    def test_accepting_applies_the_coupon_and_cancels_nothing(self, fake, client):
        """accept_offer: customer.discount.created, then the update; nothing is scheduled."""
        sub = subscription(client)
        client.v1.coupons.create(
            params={"id": "STAY20", "percent_off": 20, "duration": "once"}
        )
        default_cancel_config(fake)
        visit = fake.portal.visit(cancel_session(client, sub, coupon="STAY20").url)
        outcome = visit.accept_offer()
        assert outcome.event_types == [
            "customer.discount.created",
            "customer.subscription.updated",
        ]
        discount = outcome.events[0]["data"]["object"]
        assert discount["source"] == {"coupon": "STAY20", "type": "coupon"}
        assert outcome.events[1]["data"]["previous_attributes"] == {"discounts": []}
        assert outcome.subscription["discounts"] == [discount["id"]]
        assert not outcome.subscription["cancel_at_period_end"]
        assert outcome.subscription["cancel_at"] is None
        assert client.v1.coupons.retrieve("STAY20").times_redeemed == 1
        assert not visit.is_open

    def test_no_offer(self, fake, client):
        """accept_offer on a session without a coupon is refused."""
        sub = subscription(client)
        default_cancel_config(fake)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        with pytest.raises(PortalOfferError, match="offers no retention coupon"):
            visit.accept_offer()
        assert visit.is_open

    def test_used_up_or_deleted_coupon(self, fake, client):
        """A coupon used up or deleted since the session was made cannot be redeemed."""
        first = subscription(client)
        second = subscription(client)
        client.v1.coupons.create(
            params={"id": "ONE", "percent_off": 10, "max_redemptions": 1}
        )
        client.v1.coupons.create(params={"id": "GONE", "percent_off": 10})
        default_cancel_config(fake)
        one = fake.portal.visit(cancel_session(client, first, coupon="ONE").url)
        two = fake.portal.visit(cancel_session(client, second, coupon="ONE").url)
        gone = cancel_session(client, second, coupon="GONE")
        one.accept_offer()
        with pytest.raises(PortalOfferError, match="no longer be applied"):
            two.accept_offer()
        client.v1.coupons.delete("GONE")
        with pytest.raises(PortalOfferError, match="deleted"):
            fake.portal.visit(gone.url).accept_offer()


class TestRefused:
    def test_unknown_session(self, fake):
        """An unknown URL or id is a PortalSessionNotFoundError (a LookupError)."""
        with pytest.raises(PortalSessionNotFoundError) as info:
            fake.portal.visit("https://billing.stripe.com/p/session/test_nope")
        assert isinstance(info.value, LookupError)
        with pytest.raises(PortalSessionNotFoundError):
            fake.portal.visit("bps_nope")
        with pytest.raises(PortalSessionNotFoundError):
            fake.portal.visit(None)  # e.g. session.url of a missing session

    def test_unused_session_expires(self, fake, client):
        """An unused session expires after 5 minutes (configurable)."""
        sub = subscription(client)
        default_cancel_config(fake)
        session = cancel_session(client, sub)
        fake.clock.advance(5 * 60)
        fake.portal.visit(session.url).abandon()  # just in time
        late = cancel_session(client, sub)
        fake.clock.advance(5 * 60 + 1)
        with pytest.raises(PortalSessionExpiredError, match="never used"):
            fake.portal.visit(late.url)
        fake.portal.unused_session_ttl = dt.timedelta(minutes=30)
        assert fake.portal.visit(late.url).is_open

    def test_idle_session_expires(self, fake, client):
        """A visited session expires after an hour without activity, even mid-visit."""
        sub = subscription(client)
        default_cancel_config(fake)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        fake.clock.advance(dt.timedelta(hours=1, seconds=1))
        with pytest.raises(PortalSessionExpiredError, match="without activity"):
            visit.cancel()
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None

    def test_finished_flow(self, fake, client):
        """After a cancel, the visit and the session are done: later actions are refused."""
        sub = subscription(client)
        client.v1.coupons.create(params={"id": "STAY20", "percent_off": 20})
        default_cancel_config(fake)
        session = cancel_session(client, sub, coupon="STAY20")
        visit = fake.portal.visit(session.url)
        visit.cancel()
        with pytest.raises(PortalFlowFinishedError, match="has ended"):
            visit.accept_offer()
        with pytest.raises(PortalFlowFinishedError, match="already done"):
            fake.portal.visit(session.url)

    def test_abandon_changes_nothing(self, fake, client):
        """Abandoning emits nothing and closes the visit; the session can be visited again."""
        sub = subscription(client)
        default_cancel_config(fake)
        session = cancel_session(client, sub)
        events = len(fake.backend.events.store)
        visit = fake.portal.visit(session.url)
        visit.abandon()
        assert len(fake.backend.events.store) == events
        with pytest.raises(PortalFlowFinishedError):
            visit.cancel()
        with pytest.raises(PortalFlowFinishedError):
            visit.abandon()
        assert fake.portal.visit(session.url).cancel().action == "cancel"

    @pytest.mark.parametrize(
        ("reason", "kwargs", "match"),
        [
            (
                {"enabled": True, "options": ["too_expensive"]},
                {"feedback": "unused"},
                "does not offer the reason 'unused'",
            ),
            (
                {"enabled": False, "options": ["other"]},
                {"feedback": "other"},
                "does not ask",
            ),
            (
                {"enabled": True, "options": ["too_expensive", "other"]},
                {"feedback": "too_expensive", "comment": "x"},
                "only with the reason 'other'",
            ),
            (
                {"enabled": True, "options": ["other"]},
                {"feedback_option": "fo_nope"},
                "feedback option 'fo_nope'",
            ),
            (
                {"enabled": True, "options": ["other"]},
                {"feedback": "other", "feedback_option": "fo_nope"},
                "not both",
            ),
        ],
    )
    def test_reasons_the_page_does_not_offer(self, fake, client, reason, kwargs, match):
        """A reason, option or comment the configuration does not offer is refused."""
        sub = subscription(client)
        default_cancel_config(fake, cancellation_reason=reason)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        with pytest.raises(PortalReasonNotOfferedError, match=match):
            visit.cancel(**kwargs)
        assert visit.is_open
        assert client.v1.subscriptions.retrieve(sub.id).cancel_at is None

    def test_cancel_disabled_after_the_session_was_made(self, fake, client):
        """A configuration that stops allowing cancels refuses the visit's cancel."""
        sub = subscription(client)
        config = default_cancel_config(fake)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        client.v1.billing_portal.configurations.update(
            config["id"],
            params={"features": {"subscription_cancel": {"enabled": False}}},
        )
        assert not visit.cancel_enabled
        with pytest.raises(PortalCancelDisabledError):
            visit.cancel()

    def test_subscription_ended_or_scheduled_since(self, fake, client):
        """A subscription canceled or scheduled since the session was made is refused."""
        ended = subscription(client)
        scheduled = subscription(client)
        default_cancel_config(fake)
        ended_session = cancel_session(client, ended)
        visit = fake.portal.visit(cancel_session(client, scheduled).url)
        client.v1.subscriptions.cancel(ended.id)
        client.v1.subscriptions.update(
            scheduled.id, params={"cancel_at_period_end": True}
        )
        with pytest.raises(PortalSubscriptionError, match="already ended"):
            fake.portal.visit(ended_session.url)
        with pytest.raises(PortalSubscriptionError, match="already scheduled"):
            visit.cancel()

    def test_another_customers_subscription_is_refused_at_creation(self, fake, client):
        """Stripe (and the fake) refuse a deep link to another customer's subscription."""
        sub = subscription(client)
        default_cancel_config(fake)
        stranger = client.v1.customers.create().id
        with pytest.raises(stripe.InvalidRequestError, match="does not belong"):
            client.v1.billing_portal.sessions.create(
                params={
                    "customer": stranger,
                    "flow_data": {
                        "type": "subscription_cancel",
                        "subscription_cancel": {"subscription": sub.id},
                    },
                }
            )

    def test_another_customers_subscription_on_the_homepage(self, fake, client):
        """The homepage cannot act on a subscription of another customer."""
        mine = subscription(client)
        theirs = subscription(client)
        default_cancel_config(fake)
        visit = fake.portal.visit(home_session(client, mine.customer).url)
        with pytest.raises(PortalSubscriptionError, match="not the session customer's"):
            visit.cancel(subscription=theirs.id)
        assert client.v1.subscriptions.retrieve(theirs.id).cancel_at is None

    def test_a_deep_link_is_about_its_own_subscription(self, fake, client):
        """A deep-link visit refuses to act on another subscription than its flow's."""
        sub = subscription(client)
        other = subscription(client, customer=sub.customer)
        default_cancel_config(fake)
        visit = fake.portal.visit(cancel_session(client, sub).url)
        with pytest.raises(PortalSubscriptionError, match=f"about {sub.id}"):
            visit.cancel(subscription=other.id)
        assert visit.cancel(subscription=sub.id).subscription["id"] == sub.id

    def test_flows_the_driver_does_not_model(self, fake, client):
        """Other flow types can be visited, but their actions are refused by name."""
        sub = subscription(client)
        config = client.v1.billing_portal.configurations.create(
            params={
                "features": {
                    "subscription_update": {
                        "enabled": True,
                        "default_allowed_updates": ["price"],
                        "products": [
                            {
                                "product": sub["items"].data[0].price.product,
                                "prices": [sub["items"].data[0].price.id],
                            }
                        ],
                    }
                }
            }
        )
        session = client.v1.billing_portal.sessions.create(
            params={
                "customer": sub.customer,
                "configuration": config.id,
                "flow_data": {
                    "type": "subscription_update",
                    "subscription_update": {"subscription": sub.id},
                },
            }
        )
        visit = fake.portal.visit(session.url)
        assert visit.flow_type == "subscription_update"
        with pytest.raises(FakeStripeError, match="not subscription_update"):
            visit.cancel()


class TestRenew:
    def test_renew_on_the_homepage_withdraws(self, fake, client):
        """Renewing a scheduled subscription clears the schedule in one update."""
        sub = subscription(client)
        default_cancel_config(fake)
        fake.portal.visit(cancel_session(client, sub).url).cancel(feedback="other")
        visit = fake.portal.visit(home_session(client, sub.customer).url)
        outcome = visit.renew()
        assert outcome.action == "renew"
        assert outcome.event_types == ["customer.subscription.updated"]
        previous = outcome.events[0]["data"]["previous_attributes"]
        assert previous["cancel_at_period_end"] is True
        assert previous["cancel_at"] == FEB_1
        after = client.v1.subscriptions.retrieve(sub.id)
        assert (after.cancel_at, after.cancel_at_period_end, after.canceled_at) == (
            None,
            False,
            None,
        )
        with pytest.raises(PortalSubscriptionError, match="not scheduled"):
            visit.renew(sub.id)
        fake.clock.advance(dt.timedelta(days=40))
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"

    def test_renew_needs_the_homepage_and_a_choice(self, fake, client):
        """Renew is refused in a deep-link flow, and needs an id when several are scheduled."""
        first = subscription(client)
        second = subscription(client, customer=first.customer)
        default_cancel_config(fake)
        deep = fake.portal.visit(cancel_session(client, first).url)
        with pytest.raises(PortalError, match="homepage"):
            deep.renew()
        for sub in (first, second):
            client.v1.subscriptions.update(
                sub.id, params={"cancel_at_period_end": True}
            )
        home = fake.portal.visit(home_session(client, first.customer).url)
        with pytest.raises(PortalSubscriptionError, match="has 2"):
            home.renew()
        with pytest.raises(PortalSubscriptionError, match="lists no subscription"):
            home.renew("sub_nope")
        assert home.renew(second.id).subscription["id"] == second.id
        assert home.renew().subscription["id"] == first.id
        assert [o.action for o in home.outcomes] == ["renew", "renew"]


def test_outcomes_reach_a_webhook_handler_and_ledger():
    """Portal actions, delivered signed, become the expected cases in cancelflow's ledger."""
    fake = FakeStripe()
    client = fake.client()
    ledger = cancelflow.MemoryLedger()
    handler = cancelflow.WebhookHandler(
        fake.add_webhook_endpoint(
            lambda body, headers: handler.handle_webhook(
                body, headers["Stripe-Signature"]
            )
        ),
        ledger=ledger,
    )
    client.v1.coupons.create(params={"id": "STAY20", "percent_off": 20})
    default_cancel_config(fake)
    flow = cancelflow.Cancelflow(
        client, allowed_hosts=["example.com"], ledger=ledger, clock=fake.clock.now
    )
    subs = {name: subscription(client) for name in ("cancel", "save", "renew")}
    fake.clock.advance(60)
    for name, sub in subs.items():
        link = flow.create_cancel_link(
            customer=sub.customer, subscription=sub.id, coupon="STAY20"
        )
        visit = fake.portal.visit(link.url)
        if name == "save":
            visit.accept_offer()
        else:
            visit.cancel(feedback="other", comment="too many tools")
    fake.portal.visit(
        flow.create_portal_link(customer=subs["renew"].customer).url
    ).renew()
    fake.clock.advance(dt.timedelta(days=31))
    cases = {case.subscription_id: case for case in ledger.cases()}
    assert cases[subs["save"].id].state is cancelflow.CaseState.SAVED
    assert cases[subs["renew"].id].state is cancelflow.CaseState.WITHDRAWN
    ended = cases[subs["cancel"].id]
    assert ended.state is cancelflow.CaseState.ENDED
    assert (ended.feedback, ended.comment) == (
        cancelflow.CancellationFeedback.OTHER,
        "too many tools",
    )
    assert all(d.ok for d in fake.webhook_endpoints[0].deliveries)


def test_events_of_the_portal_and_the_clock_have_complete_shapes():
    """Every event the portal and the clock emit is as complete as stripe-python declares."""
    from tests.fake_support import raw
    from tests.test_fake_shapes import assert_complete, check_shape, object_class

    fake = FakeStripe()
    client = fake.client()
    client.v1.coupons.create(
        params={
            "id": "STAY20",
            "percent_off": 20,
            "duration": "repeating",
            "duration_in_months": 1,
        }
    )
    default_cancel_config(fake)
    saved = subscription(client, trial_period_days=5)
    canceled = subscription(client)
    fake.portal.visit(cancel_session(client, saved, coupon="STAY20").url).accept_offer()
    fake.portal.visit(cancel_session(client, canceled).url).cancel(
        feedback="other", comment="bye"
    )
    fake.clock.advance(dt.timedelta(days=40))
    kinds = set()
    for listed in client.v1.events.list(params={"limit": 100}).auto_paging_iter():
        event = client.v1.events.retrieve(listed.id)
        kinds.add(event.type)
        if event.type.endswith(".updated"):
            assert_complete(event)  # previous_attributes only on *.updated events
        else:
            obj = raw(event)["data"]["object"]
            check_shape(obj, object_class(obj["object"]), event.type, [])
            assert "previous_attributes" not in raw(event)["data"]
    assert {
        "customer.discount.created",
        "customer.discount.deleted",
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    } <= kinds

"""End to end: FakeStripe's signed deliveries into WebhookHandler, through stripe-python."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cancelflow
from cancelflow import (
    CancellationFeedback,
    CancellationReason,
    CaseState,
    MemoryLedger,
    WebhookHandler,
)
from cancelflow.testing import FakeStripe

REASONS = [
    "too_expensive",
    "missing_features",
    "switched_service",
    "unused",
    "customer_service",
    "too_complex",
    "low_quality",
    "other",
]


def cancel_feature(mode: str) -> dict:
    return {
        "enabled": True,
        "mode": mode,
        "cancellation_reason": {"enabled": True, "options": REASONS},
    }


class Account:
    """A fake Stripe account whose webhooks go to a WebhookHandler with a ledger."""

    def __init__(self, *, ledger=None, **endpoint_options) -> None:
        self.fake = FakeStripe()
        self.client = self.fake.client()
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.received: list[cancelflow.CancellationEvent] = []
        self.deliveries: list[tuple[bytes, str]] = []
        secret = self.fake.add_webhook_endpoint(self.endpoint, **endpoint_options)
        self.handler = WebhookHandler(secret, ledger=self.ledger)
        self.customer = self.client.v1.customers.create()
        self.price = self.client.v1.prices.create(
            params={
                "currency": "eur",
                "unit_amount": 1500,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Pro"},
            }
        )
        self.client.v1.coupons.create(
            params={"id": "STAY20", "percent_off": 20, "duration": "once"}
        )
        self.fake.dashboard.save_portal_settings(
            features={"subscription_cancel": cancel_feature("at_period_end")}
        )
        self.immediate = self.client.v1.billing_portal.configurations.create(
            params={"features": {"subscription_cancel": cancel_feature("immediately")}}
        )
        self.flow = cancelflow.Cancelflow(
            self.client,
            allowed_hosts=["example.com"],
            return_url="https://example.com/account",
            ledger=self.ledger,
        )

    def endpoint(self, body, headers):
        self.deliveries.append((body, headers["Stripe-Signature"]))
        try:
            self.received.extend(
                self.handler.handle_webhook(body, headers["Stripe-Signature"])
            )
        except cancelflow.exceptions.WebhookError:
            return 400
        return 200

    def subscribe(self, mode: str = "classic"):
        return self.client.v1.subscriptions.create(
            params={
                "customer": self.customer.id,
                "items": [{"price": self.price.id}],
                "billing_mode": {"type": mode},
            }
        )

    def later(self, seconds: int = 60) -> None:
        self.fake.clock.advance(seconds)

    def schedule(self, sub, mode: str) -> None:
        params = (
            {"cancel_at_period_end": True}
            if mode == "classic"
            else {"cancel_at": "max_period_end"}
        )
        self.client.v1.subscriptions.update(sub.id, params=params)

    def answer(self, sub, feedback: str, comment: str | None = None) -> None:
        details = {"feedback": feedback} | ({"comment": comment} if comment else {})
        self.client.v1.subscriptions.update(
            sub.id, params={"cancellation_details": details}
        )

    def renew(self, sub, mode: str) -> None:
        params = (
            {"cancel_at_period_end": False} if mode == "classic" else {"cancel_at": ""}
        )
        self.client.v1.subscriptions.update(sub.id, params=params)


@pytest.mark.parametrize("mode", ["classic", "flexible"])
def test_schedule_then_reason_in_a_second_event(mode):
    """Both billing modes: the schedule and the later reason form one scheduled case."""
    acct = Account()
    sub = acct.subscribe(mode)
    acct.later()
    link = acct.flow.create_cancel_link(
        customer=acct.customer.id, subscription=sub.id, coupon="STAY20"
    )
    acct.later(30)
    acct.schedule(sub, mode)
    acct.later(7)
    acct.answer(sub, "other", comment="Trop cher pour nous")
    (case,) = acct.ledger.cases(subscription_id=sub.id)
    assert case.state is CaseState.SCHEDULED
    assert case.link_session_id == link.session_id
    assert case.offered_coupon == "STAY20"
    assert case.billing_mode is cancelflow.BillingMode(mode)
    assert case.effective_at is not None
    assert (case.feedback, case.comment) == (
        CancellationFeedback.OTHER,
        "Trop cher pour nous",
    )
    assert case.feedback_at > case.scheduled_at
    assert (case.mrr, case.currency) == (1500, "eur")
    assert all(d.ok for d in acct.fake.webhook_endpoints[0].deliveries)


@pytest.mark.parametrize("mode", ["classic", "flexible"])
def test_renewal_withdraws(mode):
    """Renewing before the end closes the case as withdrawn."""
    acct = Account()
    sub = acct.subscribe(mode)
    acct.later()
    acct.schedule(sub, mode)
    acct.later(3600)
    acct.renew(sub, mode)
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.WITHDRAWN
    assert case.link_session_id is None


def test_redeemed_offer_saves():
    """A discount with the offered coupon, during the attempt, closes it as saved."""
    acct = Account()
    sub = acct.subscribe()
    acct.later()
    acct.flow.create_cancel_link(
        customer=acct.customer.id, subscription=sub.id, coupon="STAY20"
    )
    acct.later(20)
    acct.client.v1.subscriptions.update(
        sub.id, params={"discounts": [{"coupon": "STAY20"}]}
    )
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.SAVED
    assert case.redeemed_coupon == "STAY20"
    history = acct.ledger.customer_history(acct.customer.id)
    assert history.last_redeemed_at == case.redeemed_at
    assert history.last_offered_at == case.link_created_at


def test_immediate_cancel_ends():
    """An immediate cancel with feedback ends the case with Stripe's reason."""
    acct = Account()
    sub = acct.subscribe()
    acct.later()
    acct.flow.create_cancel_link(customer=acct.customer.id, subscription=sub.id)
    acct.later(15)
    acct.client.v1.subscriptions.cancel(
        sub.id, params={"cancellation_details": {"feedback": "unused"}}
    )
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.ENDED
    assert case.ended_reason is CancellationReason.CANCELLATION_REQUESTED
    assert case.feedback is CancellationFeedback.UNUSED
    assert case.scheduled_at is None


def drive(acct: Account) -> None:
    """A day of activity: every kind of outcome, on several subscriptions."""
    subs = {
        name: acct.subscribe(mode)
        for name, mode in [
            ("a", "classic"),
            ("b", "flexible"),
            ("c", "classic"),
            ("d", "flexible"),
        ]
    }
    acct.later()
    for name in "abcd":
        acct.flow.create_cancel_link(
            customer=acct.customer.id, subscription=subs[name].id, coupon="STAY20"
        )
        acct.later(5)
    acct.schedule(subs["a"], "classic")
    acct.later(7)
    acct.answer(subs["a"], "too_expensive")
    acct.later(60)
    acct.schedule(subs["b"], "flexible")
    acct.later(60)
    acct.renew(subs["b"], "flexible")
    acct.later(60)
    acct.client.v1.subscriptions.update(
        subs["c"].id, params={"discounts": [{"coupon": "STAY20"}]}
    )
    acct.later(60)
    acct.client.v1.subscriptions.cancel(
        subs["d"].id, params={"cancellation_details": {"feedback": "switched_service"}}
    )
    acct.later(60)


def test_out_of_order_duplicated_deliveries_give_the_same_ledger():
    """FakeStripe delivering shuffled batches with duplicates gives the in-order ledger."""
    in_order = Account()
    drive(in_order)
    shuffled = Account(duplicates=0.5, out_of_order=True, seed=3)
    with shuffled.fake.hold_webhooks():
        drive(shuffled)
    assert any(d.duplicate for d in shuffled.fake.webhook_endpoints[0].deliveries)
    assert shuffled.ledger.cases() == in_order.ledger.cases()
    assert {c.state for c in in_order.ledger.cases()} == {
        CaseState.SCHEDULED,
        CaseState.WITHDRAWN,
        CaseState.SAVED,
        CaseState.ENDED,
    }


@pytest.fixture(scope="module")
def recorded():
    """The signed deliveries and final ledger of one FakeStripe run."""
    acct = Account()
    drive(acct)
    return acct.deliveries, acct.ledger.links(), acct.ledger.cases()


@settings(max_examples=40)
@given(data=st.data())
def test_any_order_of_real_fake_stripe_deliveries(recorded, data):
    """Re-delivering FakeStripe's real sequence permuted and with duplicates gives the same cases."""
    deliveries, links, expected = recorded
    order = data.draw(st.permutations(deliveries))
    extra = data.draw(st.lists(st.sampled_from(deliveries), max_size=10))
    ledger = MemoryLedger()
    for link in links:
        ledger.record_link(link)
    for body, _ in [*order, *extra]:
        ledger.record_events(cancelflow.parse_event(body))
    assert ledger.cases() == expected


def test_fake_deliveries_verify_with_the_fake_secret():
    """Every FakeStripe delivery verifies with the endpoint secret; a tampered one does not."""
    acct = Account()
    drive(acct)
    secret = acct.fake.webhook_endpoints[0].secret
    verifier = cancelflow.SignatureVerifier(secret)
    for body, header in acct.deliveries:
        verifier.verify(body, header)
    body, header = acct.deliveries[-1]
    with pytest.raises(cancelflow.exceptions.SignatureMismatchError):
        verifier.verify(body + b" ", header)


# -- through the fake portal: the customer's own clicks ------------------------------------


def portal_cancel_link(
    acct: Account, sub, *, coupon: str | None = "STAY20", immediate: bool = False
):
    flow = acct.flow
    if immediate:
        flow = cancelflow.Cancelflow(
            acct.client,
            allowed_hosts=["example.com"],
            return_url="https://example.com/account",
            configuration=acct.immediate.id,
            ledger=acct.ledger,
        )
    return flow.create_cancel_link(
        customer=acct.customer.id, subscription=sub.id, coupon=coupon
    )


@pytest.mark.parametrize("mode", ["classic", "flexible"])
def test_portal_cancel_at_period_end_then_the_end(mode):
    """Portal cancel at period end: scheduled, the reason in a delayed second event, then ended."""
    acct = Account()
    sub = acct.subscribe(mode)
    acct.later(3600)
    link = portal_cancel_link(acct, sub)
    acct.later(40)
    outcome = acct.fake.portal.visit(link.url).cancel("other", "Trop cher pour nous")
    assert outcome.event_types == [
        "customer.subscription.updated",
        "customer.subscription.updated",
    ]
    assert [type(e) for e in acct.received[-2:]] == [
        cancelflow.CancellationScheduled,
        cancelflow.FeedbackReceived,
    ]
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.SCHEDULED
    assert case.link_session_id == link.session_id
    assert case.billing_mode is cancelflow.BillingMode(mode)
    assert case.feedback_at > case.scheduled_at  # the reason came later
    acct.fake.clock.advance(dt.timedelta(days=40))
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.ENDED
    assert case.ended_at == case.effective_at
    assert case.ended_reason is CancellationReason.CANCELLATION_REQUESTED
    assert (case.feedback, case.comment) == (
        CancellationFeedback.OTHER,
        "Trop cher pour nous",
    )
    assert (case.offered_coupon, case.redeemed_coupon) == ("STAY20", None)
    assert all(d.ok for d in acct.fake.webhook_endpoints[0].deliveries)


def test_portal_immediate_cancel():
    """A configuration with mode=immediately ends the subscription at once, with the reason."""
    acct = Account()
    sub = acct.subscribe()
    acct.later(60)
    link = portal_cancel_link(acct, sub, coupon=None, immediate=True)
    acct.later(20)
    acct.fake.portal.visit(link.url).cancel("unused")
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.ENDED
    assert case.scheduled_at is None
    assert case.feedback is CancellationFeedback.UNUSED
    assert case.link_session_id == link.session_id


def test_portal_offer_redeemed():
    """Accepting the retention coupon in the portal closes the case as saved."""
    acct = Account()
    sub = acct.subscribe("flexible")
    acct.later(60)
    link = portal_cancel_link(acct, sub)
    acct.later(20)
    outcome = acct.fake.portal.visit(link.url).accept_offer()
    assert "customer.discount.created" in outcome.event_types
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.SAVED
    assert case.redeemed_coupon == "STAY20"
    assert (
        acct.ledger.customer_history(acct.customer.id).last_redeemed_at
        == case.redeemed_at
    )


def test_portal_renewal_withdraws():
    """Cancel at period end, then renew from the portal homepage: withdrawn."""
    acct = Account()
    sub = acct.subscribe()
    acct.later(60)
    link = portal_cancel_link(acct, sub, coupon=None)
    acct.later(20)
    acct.fake.portal.visit(link.url).cancel("too_complex")
    acct.later(2 * 86_400)
    home = acct.flow.create_portal_link(customer=acct.customer.id)
    acct.fake.portal.visit(home.url).renew(sub.id)
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.WITHDRAWN
    assert case.feedback is CancellationFeedback.TOO_COMPLEX
    acct.fake.clock.advance(dt.timedelta(days=40))
    assert acct.ledger.cases() == [case]  # the subscription renewed instead of ending


def test_portal_abandoned_link():
    """A link the customer leaves without acting stays an opened case."""
    acct = Account()
    sub = acct.subscribe()
    link = portal_cancel_link(acct, sub)
    acct.fake.portal.visit(link.url).abandon()
    (case,) = acct.ledger.cases()
    assert case.state is CaseState.OPENED
    assert acct.ledger.customer_history(acct.customer.id).attempts == 1


def drive_portal(acct: Account) -> None:
    """Customers in the portal: every outcome, both billing modes, then a month passes."""
    subs = [
        acct.subscribe(mode)
        for mode in ("classic", "flexible", "classic", "flexible", "classic")
    ]

    def visit(n: int):
        acct.later(60)
        link = portal_cancel_link(acct, subs[n])
        acct.later(30)
        return acct.fake.portal.visit(link.url)

    visit(0).cancel("too_expensive")
    visit(1).cancel("other", "Pas assez de fonctionnalités")
    visit(2).accept_offer()
    visit(3).cancel("unused")
    acct.later(3600)
    home = acct.flow.create_portal_link(customer=acct.customer.id)
    acct.fake.portal.visit(home.url).renew(subs[3].id)
    visit(4).abandon()
    acct.fake.clock.advance(dt.timedelta(days=40))


def test_portal_sequences_in_any_delivery_order():
    """The portal's real events, delivered shuffled with duplicates, give the in-order ledger."""
    in_order = Account()
    drive_portal(in_order)
    shuffled = Account(duplicates=0.5, out_of_order=True, seed=11)
    with shuffled.fake.hold_webhooks():
        drive_portal(shuffled)
    delivered = shuffled.fake.webhook_endpoints[0].deliveries
    assert any(d.duplicate for d in delivered)
    assert [d.event_id for d in delivered if not d.duplicate] != [
        d.event_id for d in in_order.fake.webhook_endpoints[0].deliveries
    ]
    assert shuffled.ledger.cases() == in_order.ledger.cases()
    assert [c.state for c in in_order.ledger.cases()] == [
        CaseState.ENDED,
        CaseState.ENDED,
        CaseState.SAVED,
        CaseState.WITHDRAWN,
        CaseState.OPENED,
    ]


@pytest.fixture(scope="module")
def portal_recorded():
    """The signed deliveries and final ledger of one portal-driven FakeStripe run."""
    acct = Account()
    drive_portal(acct)
    return acct.deliveries, acct.ledger.links(), acct.ledger.cases()


@settings(max_examples=40)
@given(data=st.data())
def test_any_order_of_real_portal_deliveries(portal_recorded, data):
    """FakeStripe's portal deliveries, permuted and duplicated, links recorded at any point, give the same cases."""
    deliveries, links, expected = portal_recorded
    order = data.draw(st.permutations(deliveries))
    extra = data.draw(st.lists(st.sampled_from(deliveries), max_size=10))
    at = data.draw(st.integers(0, len(order)))
    ledger = MemoryLedger()
    for n, (body, _) in enumerate([*order, *extra]):
        if n == at:
            for link in links:
                ledger.record_link(link)
        ledger.record_events(cancelflow.parse_event(body))
    for link in links:
        ledger.record_link(link)
    assert ledger.cases() == expected

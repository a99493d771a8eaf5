"""cancelflow.testing.strategies: every drawn value is accepted by the fake and behaves as said."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import cancelflow
from cancelflow.testing import FakeStripe
from cancelflow.testing.strategies import (
    REASONS,
    ItemShape,
    PortalScenario,
    SubscriptionShape,
    customers,
    event_sequences,
    portal_configurations,
    portal_scenarios,
    subscription_shapes,
)

FAST = settings(max_examples=25)


@FAST
@given(params=customers())
def test_customers_are_accepted(params):
    """Every drawn customer is created as drawn."""
    customer = FakeStripe().client().v1.customers.create(params=params)
    assert customer.email == params.get("email")
    assert customer.metadata.to_dict() == params.get("metadata", {})
    if "address" in params:
        assert customer.address.country == params["address"]["country"]


@FAST
@given(shape=subscription_shapes())
def test_subscription_shapes_are_created_as_drawn(shape):
    """A shape becomes a subscription with its mode, currency, items and trial."""
    assert isinstance(shape, SubscriptionShape)
    sub = shape.create(FakeStripe().client())
    assert sub.billing_mode.type == shape.billing_mode
    assert sub.currency == shape.currency
    assert sub.status == ("trialing" if shape.trial_days else "active")
    items = sub["items"].data
    assert [(i.quantity, i.price.unit_amount) for i in items] == [
        (s.quantity, s.unit_amount) for s in shape.items
    ]
    if shape.billing_mode == "classic":
        assert (
            len(
                {
                    (i.price.recurring.interval, i.price.recurring.interval_count)
                    for i in items
                }
            )
            == 1
        )


@FAST
@given(
    shape=subscription_shapes(
        billing_modes=["classic"], currencies=["eur"], trials=False
    )
)
def test_shape_options_restrict_the_draws(shape):
    """billing_modes, currencies and trials=False narrow what is drawn."""
    assert (shape.billing_mode, shape.currency, shape.trial_days) == (
        "classic",
        "eur",
        None,
    )


@FAST
@given(params=portal_configurations(cancel_enabled=None))
def test_portal_configurations_are_accepted(params):
    """Every drawn configuration is accepted, and follows Stripe's proration rule."""
    config = (
        FakeStripe().client().v1.billing_portal.configurations.create(params=params)
    )
    cancel = config.features.subscription_cancel
    assert cancel.mode == params["features"]["subscription_cancel"]["mode"]
    if cancel.proration_behavior == "create_prorations":
        assert cancel.mode == "immediately"
    assert set(cancel.cancellation_reason.options) <= set(REASONS)


def types(events):
    return [e["type"] for e in events]


@settings(max_examples=40)
@given(scenario=portal_scenarios())
def test_scenarios_emit_what_the_customer_did(scenario):
    """A scenario's events follow from its action, its configuration and time passing."""
    assert isinstance(scenario, PortalScenario)
    events = scenario.run()
    created = [e["created"] for e in events]
    assert created == sorted(created)
    assert all(
        e["data"]["previous_attributes"]
        for e in events
        if e["type"].endswith(".updated")
    )
    subs = [e for e in events if e["type"].startswith("customer.subscription.")]
    last = subs[-1]["data"]["object"]
    mode = scenario.configuration["features"]["subscription_cancel"]["mode"]
    if scenario.action == "accept_offer":
        assert "customer.discount.created" in types(events)
        assert "customer.subscription.deleted" not in types(events)
    elif scenario.action == "abandon":
        assert "customer.subscription.deleted" not in types(events)
        assert last["cancel_at"] is None
    elif scenario.renew:
        assert last["status"] != "canceled"
        assert last["cancel_at"] is None
    elif mode == "immediately":
        assert "customer.subscription.deleted" in types(events)
    if scenario.action == "cancel" and scenario.feedback and not scenario.renew:
        assert last["cancellation_details"]["feedback"] == scenario.feedback
        assert last["cancellation_details"]["comment"] == scenario.comment
    if last["status"] == "canceled":
        assert last["ended_at"] is not None
        assert "customer.subscription.deleted" in types(events)


@settings(max_examples=25)
@given(events=event_sequences(), data=st.data())
def test_the_ledger_does_not_depend_on_delivery_order(events, data):
    """Any order of a scenario's events, with repeats, folds into the same cases."""
    bodies = [json.dumps(event).encode() for event in events]
    in_order = cancelflow.MemoryLedger()
    for body in bodies:
        in_order.record_events(cancelflow.parse_event(body))
    shuffled = cancelflow.MemoryLedger()
    order = data.draw(st.permutations(bodies))
    again = data.draw(st.lists(st.sampled_from(bodies), max_size=5))
    for body in [*order, *again]:
        shuffled.record_events(cancelflow.parse_event(body))
    assert shuffled.cases() == in_order.cases()


def test_a_scenario_runs_on_a_given_fake():
    """run(fake) plays on that account: its endpoints get the events it returns."""
    fake = FakeStripe()
    received = []
    fake.add_webhook_endpoint(
        lambda body, headers: received.append(json.loads(body)["id"])
    )
    scenario = PortalScenario(
        subscription=SubscriptionShape(
            billing_mode="flexible",
            currency="eur",
            items=(
                ItemShape(
                    interval="month", interval_count=1, unit_amount=900, quantity=2
                ),
            ),
            trial_days=None,
        ),
        configuration={
            "features": {
                "subscription_cancel": {
                    "enabled": True,
                    "cancellation_reason": {"enabled": True, "options": ["other"]},
                }
            }
        },
        coupon=None,
        action="cancel",
        feedback="other",
        comment="moving to a spreadsheet",
        renew=False,
        wait_days=3,
        then_days=40,
    )
    events = scenario.run(fake)
    assert [e["id"] for e in events] == received
    assert types(events)[-4:] == [
        "billing_portal.session.created",
        "customer.subscription.updated",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]
    ended = events[-1]["data"]["object"]
    assert ended["cancellation_details"]["comment"] == "moving to a spreadsheet"

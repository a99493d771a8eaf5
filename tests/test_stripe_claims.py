"""The fake's claims about Stripe, checkable against any Stripe-compatible base URL.

Each test uses Stripe's public API only, and runs on every target of
``tests/claims_support.py``: the in-process fake, the fake served over HTTP,
and (with ``CANCELFLOW_TEST_STRIPE_KEY`` set) Stripe's own test mode. Each is
marked with the claim it pins: ``documented`` for what Stripe's documentation
says, or the name of a guess listed in docs/testing.md §9. See
docs/testing.md §10 for how to run them against Stripe and read the report.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe
from tests.claims_support import Target, record_claim, target

__all__ = ["target"]

claim = pytest.mark.stripe_claim


@pytest.fixture(autouse=True)
def _claim(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("stripe_claim")
    assert marker is not None, "every claim test names its claim"
    record_claim(request, marker.args[0])


# -- building blocks (the same calls on every target) ------------------------------------


def customer(t: Target, **params: Any) -> stripe.Customer:
    made = t.client.v1.customers.create(
        params={"email": "claims@example.com", **params}
    )
    t.track("customer", made.id)
    return made


def price(t: Target, *, currency: str = "usd") -> stripe.Price:
    product = t.client.v1.products.create(params={"name": "cancelflow claims"})
    t.track("product", product.id)
    made = t.client.v1.prices.create(
        params={
            "currency": currency,
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "product": product.id,
        }
    )
    t.track("price", made.id)
    return made


def subscription(
    t: Target, *, who: stripe.Customer | None = None, mode: str | None = "classic"
) -> stripe.Subscription:
    """A monthly subscription paid by invoice (no card needed, on Stripe either)."""
    who = who or customer(t)
    params: dict[str, Any] = {
        "customer": who.id,
        "items": [{"price": price(t).id}],
        "collection_method": "send_invoice",
        "days_until_due": 30,
    }
    if mode is not None:
        params["billing_mode"] = {"type": mode}
    return t.client.v1.subscriptions.create(params=params)


def configuration(t: Target, **cancel: Any) -> str:
    feature = {
        "enabled": True,
        "mode": "at_period_end",
        "cancellation_reason": {"enabled": True, "options": ["too_expensive", "other"]},
        **cancel,
    }
    made = t.client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": feature}}
    )
    t.track("configuration", made.id)
    return made.id


def coupon(t: Target, **params: Any) -> stripe.Coupon:
    made = t.client.v1.coupons.create(
        params={"percent_off": 20, "duration": "once", **params}
    )
    t.track("coupon", made.id)
    return made


def cancel_link(
    t: Target, sub: stripe.Subscription, config: str, **flow: Any
) -> stripe.billing_portal.Session:
    return t.client.v1.billing_portal.sessions.create(
        params={
            "customer": str(sub.customer),
            "configuration": config,
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": sub.id, **flow},
            },
        }
    )


def refused(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


# -- objects ------------------------------------------------------------------------------


@claim("documented")
def test_a_customer_as_created(target):
    """A customer comes back with its id prefix, email, metadata and livemode false."""
    made = customer(target, metadata={"plan": "pro"})
    again = target.client.v1.customers.retrieve(made.id)
    assert made.id.startswith("cus_")
    assert (again.object, again.email, again.livemode) == (
        "customer",
        "claims@example.com",
        False,
    )
    assert again.metadata.to_dict() == {"plan": "pro"}


@claim("documented")
def test_new_subscriptions_default_to_flexible(target):
    """A subscription created without billing_mode is in flexible billing mode."""
    sub = subscription(target, mode=None)
    assert sub.billing_mode.type == "flexible"


@claim("documented")
def test_cancel_at_period_end_in_classic_mode(target):
    """Classic: cancel_at_period_end=true sets cancel_at to the period end."""
    sub = subscription(target, mode="classic")
    after = target.client.v1.subscriptions.update(
        sub.id, params={"cancel_at_period_end": True}
    )
    assert after.cancel_at_period_end is True
    assert after.cancel_at == after["items"].data[0].current_period_end
    assert after.cancellation_details.reason == "cancellation_requested"


@claim("cancel-at-and-canceled-at")
def test_cancel_at_leaves_canceled_at_null(target):
    """A schedule made with cancel_at leaves canceled_at null until the end."""
    sub = subscription(target, mode="flexible")
    end = sub["items"].data[0].current_period_end
    after = target.client.v1.subscriptions.update(sub.id, params={"cancel_at": end})
    assert (after.cancel_at, after.canceled_at, after.cancel_at_period_end) == (
        end,
        None,
        False,
    )


# -- errors --------------------------------------------------------------------------------


@claim("documented")
def test_a_missing_object(target):
    """A missing customer is 404 resource_missing naming the id."""
    err = refused(lambda: target.client.v1.customers.retrieve("cus_cancelflowMissing"))
    assert (err.http_status, err.code, err.param) == (404, "resource_missing", "id")
    assert "No such customer: 'cus_cancelflowMissing'" in str(err.user_message)


@claim("empty-ids")
def test_an_empty_id(target):
    """GET /v1/customers/ (an empty id) is 404 resource_missing."""
    err = refused(lambda: target.client.raw_request("get", "/v1/customers/"))
    assert (err.http_status, err.code) == (404, "resource_missing")


@claim("error-bodies")
def test_an_invalid_enum_value(target):
    """An invalid enum value is a 400 naming the parameter, without a code."""
    err = refused(
        lambda: target.client.v1.coupons.create(
            params={"percent_off": 10, "duration": "weekly"}  # type: ignore[typeddict-item]
        )
    )
    assert (err.http_status, err.param, err.code) == (400, "duration", None)
    assert str(err.user_message).startswith("Invalid duration: must be one of")


@claim("value-checks")
def test_a_return_url_that_is_not_a_url(target):
    """A return_url that is not a URL answers 'Not a valid URL' without a code."""
    who = customer(target)
    err = refused(
        lambda: target.client.v1.billing_portal.sessions.create(
            params={
                "customer": who.id,
                "configuration": configuration(target),
                "return_url": "not a url",
            }
        )
    )
    assert (err.param, err.code) == ("return_url", None)
    assert err.user_message == "Not a valid URL"


@claim("value-checks")
def test_an_unknown_currency(target):
    """An unknown currency reads 'Invalid currency: zzz. Stripe currently supports …'."""
    err = refused(
        lambda: target.client.v1.prices.create(
            params={
                "currency": "zzz",
                "unit_amount": 100,
                "product_data": {"name": "x"},
            }
        )
    )
    assert err.param == "currency"
    assert str(err.user_message).startswith(
        "Invalid currency: zzz. Stripe currently supports"
    )


@claim("documented")
def test_an_idempotency_key_with_other_parameters(target):
    """Reusing an idempotency key with other parameters is an idempotency_error."""
    key = f"cancelflow-claims-{uuid.uuid4()}"
    made = target.client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": key}
    )
    target.track("customer", made.id)
    again = target.client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": key}
    )
    assert again.id == made.id
    with pytest.raises(stripe.IdempotencyError):
        target.client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": key}
        )


# -- deep links ------------------------------------------------------------------------------


@claim("documented")
def test_a_cancel_deep_link(target):
    """A subscription_cancel session has the flow, a URL and after_completion portal_homepage."""
    sub = subscription(target)
    session = cancel_link(target, sub, configuration(target))
    assert session.flow.type == "subscription_cancel"
    assert session.flow.subscription_cancel.subscription == sub.id
    assert session.flow.after_completion.type == "portal_homepage"
    assert session.url.startswith("http")


@claim("deep-link-refusals")
def test_a_deep_link_to_a_scheduled_subscription_is_refused(target):
    """A subscription already scheduled to cancel gets no cancel deep link (400)."""
    sub = subscription(target)
    target.client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    err = refused(lambda: cancel_link(target, sub, configuration(target)))
    assert err.http_status == 400


@claim("deep-link-refusals")
def test_a_deep_link_to_another_customers_subscription_is_refused(target):
    """A session for one customer cannot open another customer's subscription (400)."""
    sub = subscription(target)
    other = customer(target)
    err = refused(
        lambda: target.client.v1.billing_portal.sessions.create(
            params={
                "customer": other.id,
                "configuration": configuration(target),
                "flow_data": {
                    "type": "subscription_cancel",
                    "subscription_cancel": {"subscription": sub.id},
                },
            }
        )
    )
    assert err.http_status == 400


@claim("deep-link-refusals")
def test_a_deep_link_to_a_canceled_subscription_is_refused(target):
    """A canceled subscription gets no cancel deep link (400)."""
    sub = subscription(target)
    target.client.v1.subscriptions.cancel(sub.id)
    err = refused(lambda: cancel_link(target, sub, configuration(target)))
    assert err.http_status == 400


@claim("deep-link-refusals")
def test_a_deep_link_when_cancels_are_disabled_is_refused(target):
    """A configuration that does not let customers cancel gets no cancel deep link (400)."""
    sub = subscription(target)
    config = target.client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "subscription_cancel": {"enabled": False},
                "invoice_history": {"enabled": True},
            }
        }
    )
    target.track("configuration", config.id)
    err = refused(lambda: cancel_link(target, sub, config.id))
    assert err.http_status == 400


@claim("documented")
def test_a_retention_coupon_on_the_deep_link(target):
    """A coupon offered on the deep link shows as the flow's retention."""
    sub = subscription(target)
    offer = coupon(target)
    session = cancel_link(
        target,
        sub,
        configuration(target),
        retention={"type": "coupon_offer", "coupon_offer": {"coupon": offer.id}},
    )
    assert session.flow.subscription_cancel.retention.coupon_offer.coupon == offer.id


# -- updates and their events ---------------------------------------------------------------


@claim("details-on-update")
def test_cancellation_details_need_a_cancel(target):
    """cancellation_details on an active, unscheduled subscription is refused."""
    sub = subscription(target)
    err = refused(
        lambda: target.client.v1.subscriptions.update(
            sub.id, params={"cancellation_details": {"feedback": "too_expensive"}}
        )
    )
    assert err.http_status == 400


@claim("previous-attributes")
def test_previous_attributes_of_a_new_metadata_key(target):
    """A metadata key added by an update appears in previous_attributes as null."""
    since = target.now()
    sub = subscription(target)
    target.client.v1.subscriptions.update(sub.id, params={"metadata": {"seat": "12"}})
    [event] = target.events_about(sub.id, ("customer.subscription.updated",), since, 1)
    assert event["data"]["previous_attributes"]["metadata"] == {"seat": None}


@claim("coupon-redemptions")
def test_a_coupon_redeemed_on_a_subscription(target):
    """Applying a coupon counts in times_redeemed and emits no coupon.updated."""
    since = target.now()
    offer = coupon(target)
    sub = subscription(target)
    target.client.v1.subscriptions.update(
        sub.id, params={"discounts": [{"coupon": offer.id}]}
    )
    assert target.client.v1.coupons.retrieve(offer.id).times_redeemed == 1
    assert target.events_about(offer.id, ("coupon.updated",), since, 0) == []


# -- the portal's page (acting as the customer: the fakes only) ------------------------------


def portal_cancel(t: Target, sub: stripe.Subscription, *, mode: str = "at_period_end"):
    since = t.now()
    session = cancel_link(t, sub, configuration(t, mode=mode))
    t.act(session, "cancel", reason="other", comment="Too slow")
    types = ("customer.subscription.updated", "customer.subscription.deleted")
    return t.events_about(sub.id, types, since, 2)


@claim("second-update")
def test_the_reason_arrives_in_a_second_update(target):
    """A portal cancel gives two updates: the schedule, then the customer's reason."""
    events = portal_cancel(target, subscription(target))
    assert [e["type"] for e in events] == ["customer.subscription.updated"] * 2
    first, second = (e["data"]["object"] for e in events)
    assert first["cancel_at_period_end"] is True
    assert first["cancellation_details"]["feedback"] is None
    assert (
        second["cancellation_details"]["feedback"],
        second["cancellation_details"]["comment"],
    ) == (
        "other",
        "Too slow",
    )


@claim("immediate-cancels")
def test_an_immediate_cancel(target):
    """mode=immediately: deleted first, then the reason in an update of the canceled one."""
    events = portal_cancel(target, subscription(target), mode="immediately")
    assert [e["type"] for e in events] == [
        "customer.subscription.deleted",
        "customer.subscription.updated",
    ]
    assert events[1]["data"]["object"]["status"] == "canceled"


@claim("request")
def test_portal_events_have_no_request(target):
    """Events caused by the portal carry request.id null."""
    events = portal_cancel(target, subscription(target))
    assert [e["request"]["id"] for e in events] == [None, None]


@claim("accepting-the-offer")
def test_accepting_the_offer(target):
    """Redeeming: customer.discount.created before the subscription's update; no cancel."""
    since = target.now()
    sub = subscription(target)
    offer = coupon(target)
    session = cancel_link(
        target,
        sub,
        configuration(target),
        retention={"type": "coupon_offer", "coupon_offer": {"coupon": offer.id}},
    )
    target.act(session, "accept_offer")
    types = ("customer.discount.created", "customer.subscription.updated")
    events = target.events_about(sub.id, types, since, 2)
    assert [e["type"] for e in events] == list(types)
    assert target.client.v1.subscriptions.retrieve(sub.id).cancel_at is None


@claim("answers")
def test_a_comment_without_other_is_not_kept(target):
    """The comment goes with 'other' only: with another reason, the page drops it."""
    sub = subscription(target)
    session = cancel_link(target, sub, configuration(target))
    target.act(session, "cancel", reason="too_expensive")
    details = target.client.v1.subscriptions.retrieve(sub.id).cancellation_details
    assert (details.feedback, details.comment) == ("too_expensive", None)

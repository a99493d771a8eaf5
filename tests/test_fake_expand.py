"""expand[] on FakeStripe: what Stripe expands, and its one refusal for the rest."""

from __future__ import annotations

import pytest
import stripe
from tests.fake_support import client, fake, price, subscription

from cancelflow.testing._expand import INCLUDABLE

__all__ = ["client", "fake"]


@pytest.fixture
def sub(client: stripe.StripeClient) -> stripe.Subscription:
    coupon = client.v1.coupons.create(params={"percent_off": 10})
    return subscription(client, discounts=[{"coupon": coupon.id}], metadata={"a": "b"})


@pytest.mark.parametrize(
    "path",
    [
        "metadata",
        "status",
        "cancel_at_period_end",
        "plan",
        "nothing_here",
        "customer.metadata",
        "items.data.metadata",
        "items.data.price.unit_amount",
        "discounts.source.type",
    ],
)
def test_what_cannot_be_expanded_gets_stripes_message(client, sub, path):
    """Every non-expandable path: 400 "This property cannot be expanded (<path>).", param expand."""
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.subscriptions.retrieve(sub.id, params={"expand": [path]})
    assert info.value.http_status == 400
    assert info.value.user_message == f"This property cannot be expanded ({path})."
    assert info.value.param == "expand"
    assert info.value.code is None


def test_ids_and_objects_holding_them_expand(client, sub):
    """Expandable fields become objects; objects holding ids can be named too."""
    got = client.v1.subscriptions.retrieve(
        sub.id,
        params={
            "expand": [
                "customer",
                "discounts.source.coupon",
                "items.data.price.product",
                "items",
                "cancellation_details",
                "latest_invoice",
            ]
        },
    )
    assert got.customer.object == "customer"
    assert got.discounts[0].source.coupon.object == "coupon"
    assert got["items"].data[0].price.product.object == "product"
    assert got.latest_invoice is None


def test_includable_fields_still_expand(client):
    """Fields Stripe leaves out unless expanded (customer.subscriptions) are added."""
    sub = subscription(client)
    customer = client.v1.customers.retrieve(
        sub.customer, params={"expand": ["subscriptions"]}
    )
    assert [s.id for s in customer.subscriptions.data] == [sub.id]


def test_lists_expand_inside_data(client):
    """On a list, paths start with data.; a bare field of the list is refused."""
    sub = subscription(client)
    listed = client.v1.subscriptions.list(params={"expand": ["data.customer"]})
    assert listed.data[0].customer.id == sub.customer
    with pytest.raises(stripe.InvalidRequestError, match=r"expanded \(url\)"):
        client.v1.subscriptions.list(params={"expand": ["url"]})


def test_expanding_on_create_and_update(client):
    """expand works on writes too, with the same refusal."""
    p = price(client)
    customer = client.v1.customers.create().id
    created = client.v1.subscriptions.create(
        params={
            "customer": customer,
            "items": [{"price": p.id}],
            "expand": ["customer"],
        }
    )
    assert created.customer.id == customer
    with pytest.raises(stripe.InvalidRequestError, match=r"expanded \(metadata\)"):
        client.v1.subscriptions.update(created.id, params={"expand": ["metadata"]})


def test_writes_expand_nested_paths(client, sub):
    """A write's expand walks lists and nested objects as a read's does."""
    updated = client.v1.subscriptions.update(
        sub.id,
        params={
            "description": "x",
            "expand": ["items.data.price.product", "discounts.source.coupon"],
        },
    )
    assert updated["items"].data[0].price.product.object == "product"
    assert updated.discounts[0].source.coupon.object == "coupon"
    session_config = client.v1.billing_portal.configurations.create(
        params={
            "features": {"subscription_cancel": {"enabled": True}},
            "expand": ["application"],
        }
    )
    assert session_config.application is None


def test_a_refused_expand_changes_nothing(fake, client, sub):
    """Stripe checks expand before the write: a refused path leaves the object as it was."""
    before = len(fake.backend.events.store)
    with pytest.raises(stripe.InvalidRequestError, match=r"expanded \(metadata\)"):
        client.v1.subscriptions.update(
            sub.id, params={"description": "changed", "expand": ["metadata"]}
        )
    with pytest.raises(stripe.InvalidRequestError, match=r"expanded \(status\)"):
        client.v1.customers.create(params={"expand": ["status"]})
    assert client.v1.subscriptions.retrieve(sub.id).description is None
    assert len(fake.backend.events.store) == before
    assert len(fake.backend.customers) == 1


@pytest.mark.parametrize(("name", "fields"), sorted(INCLUDABLE.items()))
def test_the_includable_table_matches_the_stores(fake, client, name, fields):
    """Every field INCLUDABLE names is one its store adds when expanded."""
    from cancelflow.testing._expand import NOT_INCLUDABLE

    obj = {"id": "x", "object": name}
    store = {
        "coupon": fake.backend.coupons,
        "customer": fake.backend.customers,
        "price": fake.backend.prices,
    }[name]
    if name == "coupon":
        obj = client.v1.coupons.create(params={"percent_off": 5}).to_dict()
    for field in fields:
        assert store.include(obj, field) is not NOT_INCLUDABLE, field

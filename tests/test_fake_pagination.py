"""Lists paginate like Stripe's, so auto_paging_iter works, sync and async."""

from __future__ import annotations

import asyncio

import pytest
import stripe
from tests.fake_support import client, fake

__all__ = ["client", "fake"]


@pytest.fixture
def customers(client):
    return [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(25)]


def test_default_limit_and_newest_first(client, customers):
    """Default limit 10, newest first, has_more, url."""
    page = client.v1.customers.list()
    assert [c.id for c in page.data] == customers[::-1][:10]
    assert page.has_more is True
    assert page.url == "/v1/customers"


def test_starting_after_and_ending_before(client, customers):
    """Cursors continue from (or end before) an id, in both directions."""
    newest_first = customers[::-1]
    page = client.v1.customers.list(
        params={"limit": 5, "starting_after": newest_first[4]}
    )
    assert [c.id for c in page.data] == newest_first[5:10]
    before = client.v1.customers.list(
        params={"limit": 3, "ending_before": newest_first[5]}
    )
    assert [c.id for c in before.data] == newest_first[2:5]
    assert before.has_more is True
    last = client.v1.customers.list(
        params={"limit": 100, "starting_after": newest_first[20]}
    )
    assert ([c.id for c in last.data], last.has_more) == (newest_first[21:], False)


def test_auto_paging_iter(client, customers):
    """auto_paging_iter walks every page through the list's url."""
    seen = [
        c.id for c in client.v1.customers.list(params={"limit": 4}).auto_paging_iter()
    ]
    assert seen == customers[::-1]


def test_auto_paging_iter_async(client, customers):
    """The async iterator walks every page too."""

    async def collect():
        page = await client.v1.customers.list_async(params={"limit": 7})
        return [c.id async for c in page.auto_paging_iter()]

    assert asyncio.run(collect()) == customers[::-1]


def test_global_auto_paging(fake, customers):
    """The global path paginates the same way."""
    with fake.install(api_key="sk_test_global"):
        seen = [c.id for c in stripe.Customer.list(limit=10).auto_paging_iter()]
    assert seen == customers[::-1]


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_bounds(client, limit):
    """limit is between 1 and 100."""
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params={"limit": limit})
    assert info.value.param == "limit"


def test_cursor_errors(client, customers):
    """An unknown cursor is a 404 on its param; both cursors exclude each other."""
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(params={"starting_after": "cus_nope"})
    assert (info.value.http_status, info.value.param) == (404, "starting_after")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.list(
            params={"starting_after": customers[0], "ending_before": customers[1]}
        )
    assert info.value.code == "parameters_exclusive"


def test_filters_with_pages(client):
    """Filtered lists page over the filtered objects only."""
    wanted = [
        client.v1.customers.create(params={"email": "x@example.com"}).id
        for _ in range(3)
    ]
    client.v1.customers.create(params={"email": "y@example.com"})
    seen = [
        c.id
        for c in client.v1.customers.list(
            params={"email": "x@example.com", "limit": 2}
        ).auto_paging_iter()
    ]
    assert seen == wanted[::-1]


def test_expand_in_lists(client):
    """expand[]=data.customer expands inside every listed object."""
    product = client.v1.products.create(params={"name": "P"})
    p = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 5,
            "product": product.id,
            "recurring": {"interval": "month"},
        }
    )
    customer = client.v1.customers.create(params={"email": "e@example.com"})
    client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": p.id}]}
    )
    page = client.v1.subscriptions.list(
        params={"expand": ["data.customer", "data.items.data.price.product"]}
    )
    assert page.data[0].customer.email == "e@example.com"
    assert page.data[0]["items"].data[0].price.product.name == "P"


def test_bad_expand(client):
    """Expanding something that is not expandable is refused."""
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.customers.retrieve(customer.id, params={"expand": ["nothing_here"]})

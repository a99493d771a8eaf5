"""Customers, products, prices, coupons and feedback options through stripe-python."""

from __future__ import annotations

import pytest
import stripe
from tests.fake_support import client, event_types, fake, price, raw, subscription

__all__ = ["client", "fake"]


class TestCustomers:
    def test_create_retrieve_update(self, fake, client):
        """Fields round-trip; metadata merges and "" unsets a key; customer.updated is emitted."""
        customer = client.v1.customers.create(
            params={
                "email": "a@example.com",
                "name": "Ada",
                "metadata": {"plan": "pro", "team": "x"},
                "preferred_locales": ["fr"],
            }
        )
        assert customer.created == fake.clock.now()
        assert customer.preferred_locales == ["fr"]
        updated = client.v1.customers.update(
            customer.id,
            params={"metadata": {"team": "", "tier": "1"}, "phone": "+33 1"},
        )
        assert updated.metadata.to_dict() == {"plan": "pro", "tier": "1"}
        assert (updated.name, updated.phone) == ("Ada", "+33 1")
        assert client.v1.customers.retrieve(customer.id).metadata.to_dict() == {
            "plan": "pro",
            "tier": "1",
        }
        assert event_types(fake) == ["customer.created", "customer.updated"]

    def test_delete_cancels_subscriptions_and_leaves_a_stub(self, fake, client):
        """Deleting a customer cancels its subscriptions; retrieve answers a deleted stub."""
        sub = subscription(client)
        deleted = client.v1.customers.delete(sub.customer)
        assert deleted.deleted is True
        stub = client.v1.customers.retrieve(sub.customer)
        assert raw(stub) == {"id": sub.customer, "object": "customer", "deleted": True}
        assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
        assert event_types(fake)[-2:] == [
            "customer.subscription.deleted",
            "customer.deleted",
        ]
        with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
            client.v1.customers.update(sub.customer, params={"name": "x"})

    def test_list_filters_by_email(self, client):
        """The email filter uses an index and returns newest first."""
        first = client.v1.customers.create(params={"email": "same@example.com"})
        client.v1.customers.create(params={"email": "other@example.com"})
        second = client.v1.customers.create(params={"email": "same@example.com"})
        found = client.v1.customers.list(params={"email": "same@example.com"})
        assert [c.id for c in found.data] == [second.id, first.id]
        assert found.url == "/v1/customers"

    def test_metadata_limits(self, client):
        """Metadata keys longer than 40 characters are refused."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.create(params={"metadata": {"k" * 41: "v"}})
        assert info.value.param == f"metadata[{'k' * 41}]"


class TestProductsAndPrices:
    def test_price_with_product_data_and_plan_shape(self, client):
        """product_data creates the product; the item's plan mirrors the price."""
        created = client.v1.prices.create(
            params={
                "currency": "EUR",
                "unit_amount": 1500,
                "product_data": {"name": "Team"},
                "recurring": {"interval": "year"},
                "nickname": "yearly",
            }
        )
        assert created.currency == "eur"
        assert created.type == "recurring"
        assert created.recurring.interval == "year"
        assert client.v1.products.retrieve(created.product).name == "Team"
        sub = subscription(client, items=[{"price": created.id}], mode="flexible")
        plan = sub["items"].data[0].plan
        assert (plan.id, plan.amount, plan.interval, plan.nickname) == (
            created.id,
            1500,
            "year",
            "yearly",
        )

    def test_price_errors(self, client):
        """A missing product is 404 on its param; product and product_data exclude each other."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.create(
                params={"currency": "usd", "unit_amount": 1, "product": "prod_missing"}
            )
        assert (info.value.http_status, info.value.code, info.value.param) == (
            404,
            "resource_missing",
            "product",
        )
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.create(
                params={
                    "currency": "usd",
                    "unit_amount": 1,
                    "product": "p",
                    "product_data": {"name": "x"},
                }
            )
        assert info.value.code == "parameters_exclusive"

    def test_metered_prices_are_not_modeled(self, client):
        """Metered usage is refused by name."""
        with pytest.raises(
            stripe.InvalidRequestError, match="does not model metered prices"
        ):
            client.v1.prices.create(
                params={
                    "currency": "usd",
                    "unit_amount": 1,
                    "product_data": {"name": "m"},
                    "recurring": {"interval": "month", "usage_type": "metered"},
                }
            )

    def test_lookup_keys_are_unique_unless_transferred(self, client):
        """A lookup key belongs to one price; transfer_lookup_key moves it."""
        first = price(client)
        client.v1.prices.update(first.id, params={"lookup_key": "pro"})
        second = price(client)
        with pytest.raises(stripe.InvalidRequestError, match="lookup key"):
            client.v1.prices.update(second.id, params={"lookup_key": "pro"})
        client.v1.prices.update(
            second.id, params={"lookup_key": "pro", "transfer_lookup_key": True}
        )
        assert client.v1.prices.retrieve(first.id).lookup_key is None
        found = client.v1.prices.list(params={"lookup_keys": ["pro"]})
        assert [p.id for p in found.data] == [second.id]

    def test_price_list_filters(self, client):
        """Prices filter by product, type and recurring interval."""
        product = client.v1.products.create(params={"name": "P"}).id
        monthly = price(client, product=product)
        yearly = price(client, product=product, interval="year")
        price(client)
        ids = [p.id for p in client.v1.prices.list(params={"product": product}).data]
        assert ids == [yearly.id, monthly.id]
        ids = [
            p.id
            for p in client.v1.prices.list(
                params={"recurring": {"interval": "year"}}
            ).data
        ]
        assert ids == [yearly.id]

    def test_product_update_default_price_and_delete_rules(self, fake, client):
        """default_price must be the product's; a product with prices cannot be deleted."""
        recurring = price(client)
        updated = client.v1.products.update(
            recurring.product,
            params={"default_price": recurring.id, "description": "Pro plan"},
        )
        assert updated.default_price == recurring.id
        with pytest.raises(stripe.InvalidRequestError, match="prices"):
            client.v1.products.delete(recurring.product)
        lone = client.v1.products.create(params={"name": "Lone", "id": "prod_custom"})
        assert lone.id == "prod_custom"
        assert client.v1.products.delete("prod_custom").deleted is True
        assert "product.deleted" in event_types(fake)

    def test_custom_product_id_must_be_new(self, client):
        """Creating a product with an id that exists is refused."""
        client.v1.products.create(params={"name": "A", "id": "prod_dup"})
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.products.create(params={"name": "B", "id": "prod_dup"})
        assert info.value.code == "resource_already_exists"


class TestCoupons:
    def test_valid_follows_the_fake_clock(self, fake, client):
        """valid turns false once the fake clock passes redeem_by."""
        coupon = client.v1.coupons.create(
            params={
                "percent_off": 25,
                "redeem_by": fake.clock.now() + 3600,
                "name": "Spring",
            }
        )
        assert coupon.valid is True
        fake.clock.advance(3600)
        assert client.v1.coupons.retrieve(coupon.id).valid is False

    def test_used_up_coupon_is_not_valid(self, client):
        """times_redeemed counts redemptions; max_redemptions makes it invalid."""
        coupon = client.v1.coupons.create(
            params={"percent_off": 10, "max_redemptions": 1}
        )
        subscription(client, discounts=[{"coupon": coupon.id}])
        again = client.v1.coupons.retrieve(coupon.id)
        assert (again.times_redeemed, again.valid) == (1, False)
        with pytest.raises(stripe.InvalidRequestError) as info:
            subscription(client, discounts=[{"coupon": coupon.id}])
        assert info.value.code == "coupon_expired"
        assert info.value.param == "discounts[0][coupon]"

    @pytest.mark.parametrize(
        ("params", "param"),
        [
            ({}, "amount_off"),
            ({"percent_off": 10, "amount_off": 5, "currency": "usd"}, "amount_off"),
            ({"amount_off": 5}, "currency"),
            ({"percent_off": 120}, "percent_off"),
            ({"percent_off": 5, "duration": "repeating"}, "duration_in_months"),
            ({"percent_off": 5, "duration_in_months": 3}, "duration_in_months"),
            ({"percent_off": 5, "redeem_by": 1}, "redeem_by"),
        ],
    )
    def test_create_rules(self, client, params, param):
        """Coupon rules: one of amount/percent, currency with amount, repeating months, future redeem_by."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.coupons.create(params=params)
        assert info.value.param == param
        assert info.value.http_status == 400

    def test_custom_id_update_delete(self, fake, client):
        """Custom ids, name/metadata updates, delete then 404."""
        coupon = client.v1.coupons.create(params={"id": "SAVE20", "percent_off": 20})
        assert (
            client.v1.coupons.update(
                "SAVE20", params={"name": "Save", "metadata": {"a": "1"}}
            ).name
            == "Save"
        )
        assert client.v1.coupons.delete("SAVE20").deleted is True
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.coupons.retrieve(coupon.id)
        assert info.value.error.message == "No such coupon: 'SAVE20'"
        assert event_types(fake) == [
            "coupon.created",
            "coupon.updated",
            "coupon.deleted",
        ]

    def test_currency_options_and_applies_to_are_includable(self, client):
        """applies_to and currency_options appear only when expanded."""
        product = client.v1.products.create(params={"name": "P"}).id
        coupon = client.v1.coupons.create(
            params={
                "amount_off": 500,
                "currency": "usd",
                "currency_options": {"eur": {"amount_off": 450}},
                "applies_to": {"products": [product]},
            }
        )
        assert "currency_options" not in raw(coupon)
        full = client.v1.coupons.retrieve(
            coupon.id, params={"expand": ["currency_options", "applies_to"]}
        )
        assert full.currency_options["eur"].amount_off == 450
        assert full.applies_to.products == [product]

    def test_coupon_list_paginates(self, client):
        """Coupons list newest first."""
        ids = [client.v1.coupons.create(params={"percent_off": 5}).id for _ in range(3)]
        assert [c.id for c in client.v1.coupons.list(params={"limit": 2}).data] == ids[
            ::-1
        ][:2]


class TestFeedbackOptions:
    def test_lifecycle(self, client):
        """Create, update, deactivate (status_transitions), list by status."""
        option = client.v1.billing.feedback_options.create(
            params={"description": "Too slow"}
        )
        assert option.id.startswith("fo_")
        assert option.status == "active"
        client.v1.billing.feedback_options.update(
            option.id, params={"description": "Slow"}
        )
        other = client.v1.billing.feedback_options.create(
            params={"description": "Bugs"}
        )
        deactivated = client.v1.billing.feedback_options.deactivate(option.id)
        assert deactivated.status == "inactive"
        assert deactivated.status_transitions.deactivated_at is not None
        active = client.v1.billing.feedback_options.list(params={"status": "active"})
        assert [o.id for o in active.data] == [other.id]
        assert (
            client.v1.billing.feedback_options.retrieve(option.id).description == "Slow"
        )

    def test_description_limit(self, client):
        """Descriptions are at most 100 characters."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing.feedback_options.create(params={"description": "x" * 101})
        assert info.value.param == "description"


class TestProductAndPriceFields:
    def test_product_fields_update_and_unset(self, fake, client):
        """Product fields update; "" unsets them; updated follows the clock."""
        product = client.v1.products.create(
            params={
                "name": "Box",
                "images": ["https://example.com/a.png"],
                "marketing_features": [{"name": "Fast"}],
                "package_dimensions": {
                    "height": 1,
                    "length": 2,
                    "weight": 3,
                    "width": 4,
                },
                "shippable": True,
                "url": "https://example.com",
            }
        )
        assert product.marketing_features[0].name == "Fast"
        assert product.package_dimensions.weight == 3
        fake.clock.advance(5)
        updated = client.v1.products.update(
            product.id,
            params={
                "images": "",
                "marketing_features": "",
                "package_dimensions": "",
                "description": "A box",
                "url": "",
            },
        )
        assert (
            updated.images,
            updated.marketing_features,
            updated.package_dimensions,
            updated.url,
        ) == ([], [], None, None)
        assert updated.updated == product.created + 5
        assert (
            client.v1.products.update(product.id, params={"metadata": {}}).updated
            == updated.updated
        )

    def test_product_list_filters(self, client):
        """Products filter by active, ids and shippable."""
        kept = client.v1.products.create(params={"name": "A", "shippable": True})
        archived = client.v1.products.create(params={"name": "B", "active": False})
        assert [
            p.id for p in client.v1.products.list(params={"active": False}).data
        ] == [archived.id]
        assert [
            p.id for p in client.v1.products.list(params={"ids": [kept.id]}).data
        ] == [kept.id]
        assert [
            p.id for p in client.v1.products.list(params={"shippable": True}).data
        ] == [kept.id]
        assert client.v1.products.list(params={"created": {"lt": 0}}).data == []

    def test_default_price_of_another_product(self, client):
        """default_price must be a price of the same product."""
        mine = client.v1.products.create(params={"name": "Mine"})
        other_price = price(client)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.products.update(mine.id, params={"default_price": other_price.id})
        assert info.value.param == "default_price"

    def test_price_update_fields(self, fake, client):
        """active, nickname, tax_behavior and metadata update; price.updated has the old values."""
        created = price(client)
        updated = client.v1.prices.update(
            created.id,
            params={
                "active": False,
                "nickname": "old",
                "tax_behavior": "exclusive",
                "metadata": {"k": "v"},
            },
        )
        assert (
            updated.active,
            updated.nickname,
            updated.tax_behavior,
            updated.metadata["k"],
        ) == (False, "old", "exclusive", "v")
        previous = (
            client.v1.events.list(params={"type": "price.updated"})
            .data[0]
            .data.previous_attributes
        )
        assert previous.to_dict() == {
            "active": True,
            "metadata": {"k": None},
            "nickname": None,
            "tax_behavior": "unspecified",
        }

    def test_price_amount_rules(self, client):
        """unit_amount_decimal works for whole amounts; negatives and fractions are refused."""
        product = client.v1.products.create(params={"name": "P"}).id
        whole = client.v1.prices.create(
            params={"currency": "usd", "unit_amount_decimal": "250", "product": product}
        )
        assert (whole.unit_amount, str(whole.unit_amount_decimal)) == (250, "250")
        with pytest.raises(stripe.InvalidRequestError, match="fractional"):
            client.v1.prices.create(
                params={
                    "currency": "usd",
                    "unit_amount_decimal": "2.5",
                    "product": product,
                }
            )
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.create(
                params={"currency": "usd", "unit_amount": -1, "product": product}
            )
        assert info.value.param == "unit_amount"
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.create(params={"currency": "usd", "product": product})
        assert (info.value.code, info.value.param) == (
            "parameter_missing",
            "unit_amount",
        )
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.create(params={"currency": "usd", "unit_amount": 1})
        assert info.value.param == "product"
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.create(
                params={
                    "currency": "usd",
                    "unit_amount": 1,
                    "product": product,
                    "recurring": {"interval": "month", "interval_count": 37},
                }
            )
        assert info.value.param == "recurring[interval_count]"

    def test_lookup_key_at_create(self, client):
        """A lookup key taken at create needs transfer_lookup_key."""
        product = client.v1.products.create(params={"name": "P"}).id
        first = client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 1,
                "product": product,
                "lookup_key": "std",
            }
        )
        with pytest.raises(stripe.InvalidRequestError, match="lookup key"):
            client.v1.prices.create(
                params={
                    "currency": "usd",
                    "unit_amount": 2,
                    "product": product,
                    "lookup_key": "std",
                }
            )
        second = client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 2,
                "product": product,
                "lookup_key": "std",
                "transfer_lookup_key": True,
            }
        )
        assert client.v1.prices.retrieve(first.id).lookup_key is None
        assert client.v1.prices.retrieve(second.id).lookup_key == "std"

    def test_price_list_filters(self, client):
        """Prices filter by active, currency, type and created."""
        product = client.v1.products.create(params={"name": "P"}).id
        usd = client.v1.prices.create(
            params={"currency": "usd", "unit_amount": 1, "product": product}
        )
        eur = client.v1.prices.create(
            params={
                "currency": "eur",
                "unit_amount": 1,
                "product": product,
                "active": False,
            }
        )
        assert [
            p.id for p in client.v1.prices.list(params={"currency": "eur"}).data
        ] == [eur.id]
        assert [
            p.id
            for p in client.v1.prices.list(
                params={"active": True, "type": "one_time"}
            ).data
        ] == [usd.id]
        assert client.v1.prices.list(params={"created": {"gt": 10**10}}).data == []


def test_surface_lists_what_is_and_is_not_modeled():
    """The docs' coverage table: every route, its modeled and refused parameters."""
    from cancelflow.testing._api import surface, unmodeled_endpoints

    rows = {
        endpoint: (modeled, partly, refused)
        for endpoint, modeled, partly, refused in surface()
    }
    modeled, partly, refused = rows["POST /v1/subscriptions"]
    assert "customer" in modeled
    assert "items" in partly
    assert "automatic_tax" in refused
    assert rows["POST /v1/billing_portal/configurations"][2] == []
    missing = unmodeled_endpoints()
    assert "GET /v1/charges" in missing
    assert "POST /v1/invoices/{invoice}/pay" in missing
    assert "GET /v1/invoices" not in missing
    assert "GET /v1/subscriptions" not in missing


@pytest.mark.parametrize(
    ("search", "endpoint"),
    [
        (lambda c: c.v1.subscriptions.search(params={"query": "status:'active'"}),
         "GET /v1/subscriptions/search"),
        (lambda c: c.v1.customers.search(params={"query": "email:'a@b.c'"}),
         "GET /v1/customers/search"),
    ],
)  # fmt: skip
def test_search_is_refused_as_not_modeled(client, search, endpoint):
    """A search endpoint is named as not modeled, not read as the id 'search'."""
    with pytest.raises(stripe.InvalidRequestError) as info:
        search(client)
    assert f"does not model {endpoint}" in str(info.value)
    assert info.value.http_status == 400


def test_no_literal_stripe_endpoint_is_routed_as_an_id():
    """Every fixed path of stripe-python's v1 endpoints is routed as itself or refused."""
    from cancelflow.testing._api import (
        ROUTER,
        ROUTES,
        _stripe_endpoints,
        unmodeled_endpoints,
    )

    routed = {route.endpoint for route in ROUTES}
    literal = [
        (method, template)
        for method, _pattern, template in _stripe_endpoints()
        if "{" not in template and f"{method.upper()} {template}" not in routed
    ]
    assert ("get", "/v1/subscriptions/search") in literal
    assert [(m, t) for m, t in literal if ROUTER.match(m, t) is not None] == []
    assert "GET /v1/subscriptions/search" in unmodeled_endpoints()


def test_deleted_customer_expands_to_its_stub(client):
    """A canceled subscription of a deleted customer expands customer to the deleted stub."""
    sub = subscription(client)
    client.v1.customers.delete(sub.customer)
    expanded = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["customer"]})
    assert expanded.customer.deleted is True


class TestValueChecks:
    """Currencies and documented string limits are refused as Stripe refuses them."""

    @pytest.mark.parametrize(
        "create",
        [
            lambda c, cur: c.v1.prices.create(
                params={
                    "currency": cur,
                    "unit_amount": 100,
                    "product_data": {"name": "Pro"},
                }
            ),
            lambda c, cur: c.v1.coupons.create(
                params={"currency": cur, "amount_off": 100, "duration": "once"}
            ),
        ],
        ids=["price", "coupon"],
    )
    def test_unknown_currency_is_refused(self, fake, client, create):
        """currency=zzz is a 400 naming currency; nothing (not even a product) is made."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            create(client, "zzz")
        assert (info.value.http_status, info.value.param) == (400, "currency")
        message = info.value.user_message
        assert message.startswith("Invalid currency: zzz. Stripe currently supports")
        assert ", usd," in message
        assert len(fake.backend.products) == 0
        assert create(client, "EUR").currency == "eur"

    def test_unknown_currency_option_is_refused(self, client):
        """A coupon's currency_options keyed by an unknown currency names that option."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.coupons.create(
                params={
                    "currency": "usd",
                    "amount_off": 100,
                    "currency_options": {"zzz": {"amount_off": 90}},
                }
            )
        assert (info.value.http_status, info.value.param) == (
            400,
            "currency_options[zzz]",
        )

    @pytest.mark.parametrize(
        ("field", "limit", "filler"),
        [
            ("email", 512, "a@example.com"),
            ("name", 150, "Ada"),
            ("individual_name", 150, "Ada"),
            ("business_name", 150, "Acme"),
        ],
    )
    def test_customer_string_limits(self, fake, client, field, limit, filler):
        """A customer field at its documented limit is kept; one character more is a 400."""
        at_limit = (filler * limit)[-limit:]
        customer = client.v1.customers.create(params={field: at_limit})
        assert customer[field] == at_limit
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.create(params={field: "x" + at_limit})
        assert (info.value.http_status, info.value.param) == (400, field)
        assert f"must be at most {limit} characters" in str(info.value)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.update(customer.id, params={field: "x" + at_limit})
        assert info.value.param == field
        assert len(fake.backend.customers) == 1

    def test_price_and_product_string_limits(self, client):
        """lookup_key (200), statement_descriptor (22), feature names (80) are refused when longer."""
        product = client.v1.products.create(
            params={"name": "Pro", "statement_descriptor": "S" * 22}
        )
        one_time = {"currency": "usd", "unit_amount": 100, "product": product.id}
        refusals = [
            (
                lambda: client.v1.products.update(
                    product.id, params={"statement_descriptor": "S" * 23}
                ),
                "statement_descriptor",
            ),
            (
                lambda: client.v1.products.create(
                    params={"name": "P", "marketing_features": [{"name": "f" * 81}]}
                ),
                "marketing_features[0][name]",
            ),
            (
                lambda: client.v1.prices.create(
                    params={**one_time, "lookup_key": "k" * 201}
                ),
                "lookup_key",
            ),
        ]
        for call, param in refusals:
            with pytest.raises(stripe.InvalidRequestError) as info:
                call()
            assert (info.value.http_status, info.value.param) == (400, param)
        kept = client.v1.prices.create(params={**one_time, "lookup_key": "k" * 200})
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.prices.update(kept.id, params={"lookup_key": "k" * 201})
        assert info.value.param == "lookup_key"


def _id_routes():
    from cancelflow.testing._api import ROUTES

    return [route for route in ROUTES if "{" in route.path]


@pytest.mark.parametrize("route", _id_routes(), ids=lambda route: route.endpoint)
def test_an_empty_id_is_a_404_never_a_list(client, route):
    """Every routed path with an empty id (GET /v1/customers/) is a 404 resource_missing."""
    path = route.path.split("{", 1)[0] + route.path.split("}", 1)[1]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.raw_request(route.method, path)
    assert (info.value.http_status, info.value.code) == (404, "resource_missing")
    assert info.value.param == "id"
    assert "No such " in str(info.value)


def test_empty_ids_through_stripe_python(fake, client):
    """retrieve("") sends GET /v1/customers/ (a 404); the global API refuses it before sending."""
    client.v1.customers.create()
    for retrieve in (
        client.v1.customers.retrieve,
        client.v1.subscriptions.retrieve,
        client.v1.billing_portal.configurations.retrieve,
    ):
        with pytest.raises(stripe.InvalidRequestError) as info:
            retrieve("")
        assert (info.value.http_status, info.value.code) == (404, "resource_missing")
    with fake.install(api_key="sk_test_global"):
        with pytest.raises(stripe.InvalidRequestError) as info:
            stripe.Customer.retrieve("")
    assert info.value.http_status is None  # stripe-python's own check: nothing sent

"""Accepted parameters come from stripe-python's params TypedDicts, and only from there."""

from __future__ import annotations

import typing

import pytest
import stripe.params

from cancelflow.testing._api import ROUTES
from cancelflow.testing._errors import ApiError
from cancelflow.testing._schema import Node, ObjSpec, params_spec


def reachable(
    spec: ObjSpec, path: str, seen: set[int]
) -> typing.Iterator[tuple[str, Node]]:
    for name, node in spec.fields.items():
        where = f"{path}.{name}" if path else name
        yield where, node
        inner = node
        while inner.list_item is not None:
            inner = inner.list_item
        if inner.map_value is not None:
            inner = inner.map_value
        if inner.obj is not None and id(inner.obj.typeddict) not in seen:
            seen.add(id(inner.obj.typeddict))
            yield from reachable(inner.obj, where, seen)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_modeled_parameter_exists_in_stripe_python(route):
    """Every parameter a route models is a field of stripe-python's TypedDict for that call."""
    spec = params_spec(route.params)
    assert spec.typeddict.__module__.startswith("stripe.params")
    for path in route.modeled:
        if path == "*":
            continue
        node_spec = spec
        parts = path.split(".")
        for i, part in enumerate(parts):
            assert part in node_spec.fields, (
                f"{route.name}: {path} is not in {spec.typeddict.__name__}"
            )
            node = node_spec.fields[part]
            while node.list_item is not None:
                node = node.list_item
            if i < len(parts) - 1:
                assert node.obj is not None, (
                    f"{route.name}: {path} goes through a non-object"
                )
                node_spec = node.obj


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_annotation_is_understood(route):
    """The TypedDict walk knows every annotation form it meets (nothing falls back to Any)."""
    unknown = [
        path
        for path, node in reachable(params_spec(route.params), "", set())
        if node.any_ok
    ]
    assert unknown == []


def test_request_options_are_not_parameters():
    """RequestOptions keys (idempotency_key, api_key, …) are not accepted as form fields."""
    spec = params_spec("SubscriptionCreateParams")
    assert "idempotency_key" not in spec.fields
    assert "api_key" not in spec.fields
    assert "customer" in spec.fields


def test_required_keys_come_from_the_typeddict():
    """Required parameters are the TypedDict's required keys."""
    assert params_spec("billing_portal.ConfigurationCreateParams").required == (
        "features",
    )
    assert params_spec("ProductCreateParams").required == ("name",)


def test_specs_are_cached_per_operation():
    """The same operation's spec is built once per process."""
    assert params_spec("CustomerCreateParams") is params_spec("CustomerCreateParams")


def test_dotted_refs_resolve_to_namespaced_typeddicts():
    """``billing_portal.SessionCreateParams`` names stripe.params.billing_portal's class."""
    assert (
        params_spec("billing_portal.SessionCreateParams").typeddict
        is stripe.params.billing_portal.SessionCreateParams
    )


class TestCoercion:
    spec = staticmethod(lambda: params_spec("SubscriptionUpdateParams"))

    def test_types_follow_the_schema(self):
        """Form strings become ints, bools, enum values, lists and nested dicts."""
        params = self.spec().coerce(
            {
                "cancel_at_period_end": "true",
                "days_until_due": "30",
                "proration_behavior": "none",
                "expand": ["discounts"],
                "cancellation_details": {"feedback": "other", "comment": "x"},
                "metadata": {"0": "a"},
            },
            None,
        )
        assert params == {
            "cancel_at_period_end": True,
            "days_until_due": 30,
            "proration_behavior": "none",
            "expand": ["discounts"],
            "cancellation_details": {"feedback": "other", "comment": "x"},
            "metadata": {"0": "a"},
        }

    def test_union_of_int_and_enum(self):
        """cancel_at takes an int, one of its enum values, or "" (unset)."""
        spec = self.spec()
        assert spec.coerce({"cancel_at": "1700000000"}, None) == {
            "cancel_at": 1700000000
        }
        assert spec.coerce({"cancel_at": "min_period_end"}, None) == {
            "cancel_at": "min_period_end"
        }
        assert spec.coerce({"cancel_at": ""}, None) == {"cancel_at": ""}

    def test_floats(self):
        """A float parameter takes decimals and refuses words."""
        spec = params_spec("CouponCreateParams")
        assert spec.coerce({"percent_off": "12.5"}, None) == {"percent_off": 12.5}
        with pytest.raises(ApiError) as info:
            spec.coerce({"percent_off": "lots"}, None)
        assert info.value.param == "percent_off"
        assert info.value.message == "Invalid decimal: lots"

    @pytest.mark.parametrize(
        ("params", "code", "param", "message"),
        [
            (
                {"bogus": "1"},
                "parameter_unknown",
                "bogus",
                "Received unknown parameter: bogus",
            ),
            (
                {"items": [{"pricee": "p"}]},
                "parameter_unknown",
                "items[0][pricee]",
                "Received unknown parameter: items[0][pricee]",
            ),
            (
                {"days_until_due": "soon"},
                "parameter_invalid_integer",
                "days_until_due",
                "Invalid integer: soon",
            ),
            (
                {"cancel_at_period_end": "yes"},
                None,
                "cancel_at_period_end",
                "Invalid boolean: yes",
            ),
            (
                {"proration_behavior": "sometimes"},
                None,
                "proration_behavior",
                "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none",
            ),
            (
                {"proration_behavior": ""},
                "parameter_invalid_empty",
                "proration_behavior",
                None,
            ),
            (
                {"cancellation_details": "x"},
                None,
                "cancellation_details",
                "Invalid object: x",
            ),
            ({"expand": "x"}, None, "expand", "Invalid array: x"),
            ({"metadata": "x"}, None, "metadata", "Invalid hash: x"),
        ],
    )
    def test_errors(self, params, code, param, message):
        """Each kind of bad parameter gets Stripe's code, param (form notation) and message."""
        with pytest.raises(ApiError) as info:
            self.spec().coerce(params, None)
        err = info.value
        assert (err.status, err.code, err.param) == (400, code, param)
        if message is not None:
            assert err.message == message
        assert err.stored is False

    def test_missing_nested_required(self):
        """A missing required nested field is named in form notation."""
        with pytest.raises(ApiError) as info:
            params_spec("billing_portal.SessionCreateParams").coerce(
                {
                    "customer": "cus_1",
                    "flow_data": {
                        "type": "subscription_cancel",
                        "subscription_cancel": {},
                    },
                },
                None,
            )
        assert info.value.code == "parameter_missing"
        assert info.value.param == "flow_data[subscription_cancel][subscription]"
        assert (
            info.value.message
            == "Missing required param: flow_data[subscription_cancel][subscription]."
        )

    def test_closed_enum_even_when_the_sdk_allows_any_string(self):
        """``Literal[...] | str`` in the SDK is still a closed enum on the server."""
        with pytest.raises(ApiError) as info:
            params_spec("billing_portal.SessionCreateParams").coerce(
                {"locale": "klingon"}, None
            )
        assert info.value.param == "locale"
        assert "must be one of" in info.value.message

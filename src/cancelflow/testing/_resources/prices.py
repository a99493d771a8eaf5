"""Prices (per-unit, one-time or recurring): create, retrieve, update, list."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from cancelflow.testing._errors import ApiError
from cancelflow.testing._expand import NOT_INCLUDABLE
from cancelflow.testing._pagination import page
from cancelflow.testing._resources._common import (
    JSON,
    Store,
    created_filter,
    merge_metadata,
    operation,
    respond,
)
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Index, Record
from cancelflow.testing._values import check_currency, check_length

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES", "PriceRecord", "Prices"]

_LOOKUP_KEY_MAX = 200  # stripe-python's PriceCreateParams.lookup_key
_MAX_INTERVAL = {"day": 1095, "week": 156, "month": 36, "year": 3}


class PriceRecord(Record):
    """A price, plus the legacy ``plan`` shape subscription items carry."""

    __slots__ = ("plan",)

    def __init__(self, obj: JSON) -> None:
        super().__init__(obj)
        self.plan = _plan(obj)

    def replace(self, obj: JSON) -> None:
        self.obj = obj
        self.plan = _plan(obj)


class Prices(Store[PriceRecord]):
    noun: ClassVar[str] = "price"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.by_product = Index()
        self.by_lookup_key: dict[str, str] = {}

    def include(self, obj: JSON, field: str) -> Any:  # noqa: ARG002
        if field in ("currency_options", "tiers"):
            return None
        return NOT_INCLUDABLE

    @operation
    def create(self, params: JSON) -> PriceRecord:
        b = self.b
        currency = check_currency(params["currency"], "currency")
        check_length(params.get("lookup_key"), "lookup_key", _LOOKUP_KEY_MAX)
        if "product" in params and "product_data" in params:
            raise ApiError.exclusive("product", "product_data")
        if "product" in params:
            product_id = b.products.get(params["product"], param="product").id
        elif "product_data" in params:
            data = params["product_data"]
            product_id = b.products.create(
                {
                    k: data[k]
                    for k in ("id", "name", "active", "metadata", "unit_label")
                    if k in data
                }
            ).id
        else:
            raise ApiError.missing_parameter("product")
        if "unit_amount" in params and "unit_amount_decimal" in params:
            raise ApiError.exclusive("unit_amount", "unit_amount_decimal")
        if "unit_amount" in params:
            unit_amount: int = params["unit_amount"]
            if unit_amount < 0:
                raise ApiError.invalid(
                    "This value must be greater than or equal to 0.",
                    param="unit_amount",
                )
            decimal = str(unit_amount)
        elif "unit_amount_decimal" in params:
            value = Decimal(str(params["unit_amount_decimal"]))
            if value != value.to_integral_value():
                raise ApiError.not_modeled(
                    "fractional unit_amount_decimal", param="unit_amount_decimal"
                )
            unit_amount = int(value)
            decimal = str(unit_amount)
        else:
            raise ApiError.missing_parameter("unit_amount")
        recurring = None
        if "recurring" in params:
            recurring = _recurring(params["recurring"])
        lookup_key = params.get("lookup_key")
        if lookup_key and lookup_key in self.by_lookup_key:
            if not params.get("transfer_lookup_key"):
                raise ApiError.state(
                    f"A price (`{self.by_lookup_key[lookup_key]}`) already uses that "
                    "lookup key.",
                    param="lookup_key",
                )  # UNCONFIRMED wording
            self._drop_lookup_key(lookup_key)
        obj: JSON = {
            "id": b.new_id("price"),
            "object": "price",
            "active": params.get("active", True),
            "billing_scheme": "per_unit",
            "created": b.now(),
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": lookup_key or None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "nickname": params.get("nickname") or None,
            "product": product_id,
            "recurring": recurring,
            "tax_behavior": params.get("tax_behavior", "unspecified"),
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time" if recurring is None else "recurring",
            "unit_amount": unit_amount,
            "unit_amount_decimal": decimal,
        }
        record = self.store.add(PriceRecord(obj))
        self.by_product.add(product_id, obj["id"])
        if lookup_key:
            self.by_lookup_key[lookup_key] = obj["id"]
        b.emit("price.created", obj)
        return record

    @operation
    def update(self, record: PriceRecord, params: JSON) -> PriceRecord:
        before = record.obj
        changes: JSON = {}
        for key in ("active", "nickname", "tax_behavior"):
            if key in params:
                changes[key] = params[key] if params[key] != "" else None
        if "metadata" in params:
            changes["metadata"] = merge_metadata(before["metadata"], params["metadata"])
        if "lookup_key" in params:
            check_length(params["lookup_key"], "lookup_key", _LOOKUP_KEY_MAX)
            lookup: str | None = params["lookup_key"] or None
            owner = None if lookup is None else self.by_lookup_key.get(lookup)
            if lookup is not None and owner is not None and owner != record.id:
                if not params.get("transfer_lookup_key"):
                    raise ApiError.state(
                        f"A price (`{owner}`) already uses that lookup key.",
                        param="lookup_key",
                    )  # UNCONFIRMED wording
                self._drop_lookup_key(lookup)
            if before["lookup_key"]:
                self.by_lookup_key.pop(before["lookup_key"], None)
            if lookup is not None:
                self.by_lookup_key[lookup] = record.id
            changes["lookup_key"] = lookup
        record.replace({**before, **changes})
        self.b.emit_updated("price.updated", before, record.obj)
        return record

    def _drop_lookup_key(self, key: str) -> None:
        owner = self.by_lookup_key.pop(key)
        price = self.store.by_id[owner]
        before = price.obj
        price.replace({**before, "lookup_key": None})
        self.b.emit_updated("price.updated", before, price.obj)


def _recurring(value: JSON) -> JSON:
    interval = value["interval"]
    count = value.get("interval_count", 1)
    if not 1 <= count <= _MAX_INTERVAL[interval]:
        raise ApiError.invalid(
            "The maximum billing interval is 3 years (1095 days, 156 weeks or 36 months).",
            param="recurring[interval_count]",
        )  # UNCONFIRMED wording
    if value.get("usage_type", "licensed") != "licensed" or "meter" in value:
        raise ApiError.not_modeled("metered prices", param="recurring[usage_type]")
    return {
        "interval": interval,
        "interval_count": count,
        "meter": None,
        "trial_period_days": value.get("trial_period_days"),
        "usage_type": "licensed",
    }


def _plan(price: JSON) -> JSON | None:
    """The legacy ``plan`` object Stripe still renders for a recurring price."""
    recurring = price["recurring"]
    if recurring is None:
        return None
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": price["metadata"],
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring["trial_period_days"],
        "usage_type": recurring["usage_type"],
    }


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.prices.create(call.params).obj)


def _retrieve(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.prices.get(call.id).obj)


def _update(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.prices.update(b.prices.get(call.id), call.params).obj)


def _list(b: Backend, call: Call) -> JSON:
    params = call.params
    prices = b.prices
    created = created_filter(params.get("created"))
    lookup_keys = params.get("lookup_keys")
    keys = None if lookup_keys is None else frozenset(lookup_keys)
    recurring = params.get("recurring") or {}
    product = params.get("product")
    ordered = (
        prices.by_product.get(product) if product is not None else prices.store.order
    )

    def render(object_id: str) -> JSON | None:
        record = prices.store.by_id.get(object_id)
        if record is None:
            return None
        obj = record.obj
        for key in ("active", "currency", "product", "type"):
            if key in params and obj[key] != params[key]:
                return None
        if keys is not None and obj["lookup_key"] not in keys:
            return None
        if recurring:
            rec = obj["recurring"]
            if rec is None or any(rec.get(k) != v for k, v in recurring.items()):
                return None
        if created is not None and not created(obj["created"]):
            return None
        return obj

    return respond(b, call, page(ordered, render, params, "/v1/prices", noun="price"))


_CREATE = (
    "active",
    "currency",
    "lookup_key",
    "metadata",
    "nickname",
    "product",
    "product_data.active",
    "product_data.id",
    "product_data.metadata",
    "product_data.name",
    "product_data.unit_label",
    "recurring",
    "tax_behavior",
    "transfer_lookup_key",
    "unit_amount",
    "unit_amount_decimal",
)
_UPDATE = (
    "active",
    "lookup_key",
    "metadata",
    "nickname",
    "tax_behavior",
    "transfer_lookup_key",
)
_LIST = (
    "active",
    "created",
    "currency",
    "ending_before",
    "limit",
    "lookup_keys",
    "product",
    "recurring.interval",
    "recurring.usage_type",
    "starting_after",
    "type",
)

ROUTES = (
    Route("post", "/v1/prices", "PriceCreateParams", _create, "prices.create", _CREATE),
    Route(
        "get", "/v1/prices/{price}", "PriceRetrieveParams", _retrieve, "prices.retrieve"
    ),
    Route(
        "post",
        "/v1/prices/{price}",
        "PriceUpdateParams",
        _update,
        "prices.update",
        _UPDATE,
    ),
    Route("get", "/v1/prices", "PriceListParams", _list, "prices.list", _LIST),
)

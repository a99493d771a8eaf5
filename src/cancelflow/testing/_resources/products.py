"""Products: create, retrieve, update, list, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from cancelflow.testing._errors import ApiError
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
from cancelflow.testing._store import Record
from cancelflow.testing._values import check_length

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES", "Products"]

_SIMPLE = (
    "active",
    "description",
    "name",
    "shippable",
    "statement_descriptor",
    "unit_label",
    "url",
)
# Limits stripe-python's ProductCreateParams documents:
_STATEMENT_DESCRIPTOR_MAX = 22
_MARKETING_FEATURE_MAX = 80
_MODELED = (*_SIMPLE, "images", "marketing_features", "metadata", "package_dimensions")


class Products(Store[Record]):
    noun: ClassVar[str] = "product"

    @operation
    def create(self, params: JSON) -> Record:
        b = self.b
        product_id = params.get("id") or b.new_id("prod")
        if product_id in self.store:
            raise ApiError.state(
                f"Product already exists: {product_id}",
                code="resource_already_exists",
                param="id",
            )
        now = b.now()
        obj: JSON = {
            "id": product_id,
            "object": "product",
            "active": True,
            "created": now,
            "default_price": None,
            "description": None,
            "images": [],
            "livemode": False,
            "marketing_features": [],
            "metadata": {},
            "name": params["name"],
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "tax_details": None,
            "type": "service",
            "unit_label": None,
            "updated": now,
            "url": None,
        }
        obj.update(_changes(obj, params))
        record = self.store.add(Record(obj))
        b.emit("product.created", obj)
        return record

    @operation
    def update(self, record: Record, params: JSON) -> Record:
        before = record.obj
        changes = _changes(before, params)
        if "default_price" in params:
            price_id = params["default_price"]
            price = self.b.prices.get(price_id, param="default_price")
            if price.obj["product"] != record.id:
                raise ApiError.state(
                    "The default price must belong to this product.",
                    param="default_price",
                )  # UNCONFIRMED wording
            changes["default_price"] = price_id
        after = {**before, **changes}
        if after != before:
            after["updated"] = self.b.now()
        record.obj = after
        self.b.emit_updated("product.updated", before, after)
        return record

    @operation
    def delete(self, record: Record) -> JSON:
        if len(self.b.prices.by_product.get(record.id)):
            raise ApiError.state(
                "This product cannot be deleted because it has one or more "
                "user-created prices."
            )  # UNCONFIRMED wording
        self.store.remove(record.id)
        self.b.emit("product.deleted", record.obj)
        return {"id": record.id, "object": "product", "deleted": True}


def _changes(current: JSON, params: JSON) -> JSON:
    check_length(
        params.get("statement_descriptor"),
        "statement_descriptor",
        _STATEMENT_DESCRIPTOR_MAX,
    )
    features = params.get("marketing_features")
    if isinstance(features, list):
        for i, feature in enumerate(features):
            check_length(
                feature.get("name"),
                f"marketing_features[{i}][name]",
                _MARKETING_FEATURE_MAX,
            )
    changes: JSON = {key: params[key] for key in _SIMPLE if key in params}
    for key, value in changes.items():
        if value == "":
            changes[key] = None
    if "images" in params:
        changes["images"] = [] if params["images"] == "" else list(params["images"])
    if "marketing_features" in params:
        features = params["marketing_features"]
        changes["marketing_features"] = (
            [] if features == "" else [{"name": f.get("name")} for f in features]
        )
    if "package_dimensions" in params:
        dims = params["package_dimensions"]
        changes["package_dimensions"] = None if dims == "" else dict(dims)
    if "metadata" in params:
        changes["metadata"] = merge_metadata(current["metadata"], params["metadata"])
    return changes


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.products.create(call.params).obj)


def _retrieve(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.products.get(call.id).obj)


def _update(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.products.update(b.products.get(call.id), call.params).obj)


def _delete(b: Backend, call: Call) -> JSON:
    return b.products.delete(b.products.get(call.id))


def _list(b: Backend, call: Call) -> JSON:
    params = call.params
    products = b.products
    created = created_filter(params.get("created"))
    ids = params.get("ids")
    wanted = None if ids is None else frozenset(ids)

    def render(object_id: str) -> JSON | None:
        record = products.store.by_id.get(object_id)
        if record is None or (wanted is not None and object_id not in wanted):
            return None
        obj = record.obj
        for key in ("active", "shippable", "url", "type"):
            if key in params and obj[key] != params[key]:
                return None
        if created is not None and not created(obj["created"]):
            return None
        return obj

    return respond(
        b,
        call,
        page(products.store.order, render, params, "/v1/products", noun="product"),
    )


_CREATE = (*_MODELED, "id")
_UPDATE = (*_MODELED, "default_price")
_LIST = (
    "active",
    "created",
    "ending_before",
    "ids",
    "limit",
    "shippable",
    "starting_after",
    "type",
    "url",
)

ROUTES = (
    Route(
        "post",
        "/v1/products",
        "ProductCreateParams",
        _create,
        "products.create",
        _CREATE,
    ),
    Route(
        "get",
        "/v1/products/{id}",
        "ProductRetrieveParams",
        _retrieve,
        "products.retrieve",
    ),
    Route(
        "post",
        "/v1/products/{id}",
        "ProductUpdateParams",
        _update,
        "products.update",
        _UPDATE,
    ),
    Route(
        "delete", "/v1/products/{id}", "ProductDeleteParams", _delete, "products.delete"
    ),
    Route("get", "/v1/products", "ProductListParams", _list, "products.list", _LIST),
)

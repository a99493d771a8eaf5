"""Customers: create, retrieve, update, list, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from cancelflow.testing._errors import ApiError
from cancelflow.testing._expand import NOT_INCLUDABLE
from cancelflow.testing._pagination import list_object, page
from cancelflow.testing._resources._common import (
    JSON,
    Store,
    address,
    created_filter,
    merge_metadata,
    operation,
    respond,
)
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Index, Record
from cancelflow.testing._values import CUSTOMER_LIMITS, check_lengths

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES", "CustomerRecord", "Customers"]

_SIMPLE = (
    "balance",
    "business_name",
    "description",
    "email",
    "individual_name",
    "invoice_prefix",
    "name",
    "next_invoice_sequence",
    "phone",
    "tax_exempt",
)
_MODELED = (*_SIMPLE, "address", "metadata", "preferred_locales", "shipping")


class CustomerRecord(Record):
    """A customer; ``deleted`` once deleted (retrieve then answers a stub)."""

    __slots__ = ("deleted",)

    def __init__(self, obj: JSON) -> None:
        super().__init__(obj)
        self.deleted = False


class Customers(Store[CustomerRecord]):
    noun: ClassVar[str] = "customer"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.by_email = Index()

    def get(self, object_id: str, *, param: str = "id") -> CustomerRecord:
        """A live customer (a deleted one is missing, as in Stripe)."""
        record = super().get(object_id, param=param)
        if record.deleted:
            raise ApiError.resource_missing(self.noun, object_id, param)
        return record

    def include(self, obj: JSON, field: str) -> Any:
        if field == "subscriptions":
            return self.b.subscriptions.list_for_customer(obj["id"])
        if field in ("sources", "tax_ids"):
            return list_object([], f"/v1/customers/{obj['id']}/{field}")
        if field == "invoice_credit_balance":
            return {}
        if field == "cash_balance":
            return None
        return NOT_INCLUDABLE

    # -- operations ----------------------------------------------------------------

    @operation
    def create(self, params: JSON) -> CustomerRecord:
        b = self.b
        obj: JSON = {
            "id": b.new_id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "business_name": None,
            "created": b.now(),
            "currency": None,
            "customer_account": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "email": None,
            "individual_name": None,
            "invoice_prefix": b.token(8).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {},
            "name": None,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        obj.update(_changes(obj, params))
        record = self.store.add(CustomerRecord(obj))
        if obj["email"]:
            self.by_email.add(obj["email"], obj["id"])
        b.emit("customer.created", obj)
        return record

    @operation
    def update(self, record: CustomerRecord, params: JSON) -> CustomerRecord:
        before = record.obj
        record.obj = {**before, **_changes(before, params)}
        if record.obj["email"] and record.obj["email"] != before["email"]:
            self.by_email.add(record.obj["email"], record.id)
        self.b.emit_updated("customer.updated", before, record.obj)
        return record

    @operation
    def delete(self, record: CustomerRecord) -> JSON:
        """Delete the customer; its live subscriptions are canceled first, as in Stripe."""
        for sub_id in list(self.b.subscriptions.by_customer.get(record.id).ids):
            sub = self.b.subscriptions.store.get(sub_id)
            if sub is not None and sub.obj["status"] not in (
                "canceled",
                "incomplete_expired",
            ):
                self.b.subscriptions.cancel_now(sub, details=None)
        record.deleted = True
        self.b.emit("customer.deleted", record.obj)
        return {"id": record.id, "object": "customer", "deleted": True}


def _changes(current: JSON, params: JSON) -> JSON:
    check_lengths(params, CUSTOMER_LIMITS)
    changes: JSON = {key: params[key] for key in _SIMPLE if key in params}
    for key, value in changes.items():
        if value == "" and key != "tax_exempt":
            changes[key] = None
    if changes.get("tax_exempt") == "":
        changes["tax_exempt"] = "none"
    if "address" in params:
        changes["address"] = address(params["address"])
    if "shipping" in params:
        shipping = params["shipping"]
        changes["shipping"] = (
            None
            if shipping == ""
            else {
                "address": address(shipping.get("address")),
                "carrier": None,
                "name": shipping.get("name"),
                "phone": shipping.get("phone"),
                "tracking_number": None,
            }
        )
    if "preferred_locales" in params:
        changes["preferred_locales"] = list(params["preferred_locales"])
    if "metadata" in params:
        changes["metadata"] = merge_metadata(current["metadata"], params["metadata"])
    return changes


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.customers.render(b.customers.create(call.params)))


def _retrieve(b: Backend, call: Call) -> JSON:
    record = Store.get(b.customers, call.id)
    if record.deleted:
        return {"id": record.id, "object": "customer", "deleted": True}
    return respond(b, call, b.customers.render(record))


def _update(b: Backend, call: Call) -> JSON:
    record = b.customers.get(call.id)
    return respond(b, call, b.customers.render(b.customers.update(record, call.params)))


def _delete(b: Backend, call: Call) -> JSON:
    return b.customers.delete(b.customers.get(call.id))


def _list(b: Backend, call: Call) -> JSON:
    params = call.params
    customers = b.customers
    created = created_filter(params.get("created"))
    email = params.get("email")
    ordered = (
        customers.by_email.get(email) if email is not None else customers.store.order
    )

    def render(object_id: str) -> JSON | None:
        record = customers.store.by_id.get(object_id)
        if record is None or record.deleted:
            return None
        obj = record.obj
        if email is not None and obj["email"] != email:
            return None
        if created is not None and not created(obj["created"]):
            return None
        return customers.render(record)

    return respond(
        b, call, page(ordered, render, params, "/v1/customers", noun=customers.noun)
    )


_LIST = ("created", "email", "ending_before", "limit", "starting_after")

ROUTES = (
    Route(
        "post",
        "/v1/customers",
        "CustomerCreateParams",
        _create,
        "customers.create",
        _MODELED,
    ),
    Route(
        "get",
        "/v1/customers/{customer}",
        "CustomerRetrieveParams",
        _retrieve,
        "customers.retrieve",
    ),
    Route(
        "post",
        "/v1/customers/{customer}",
        "CustomerUpdateParams",
        _update,
        "customers.update",
        _MODELED,
    ),
    Route(
        "delete",
        "/v1/customers/{customer}",
        "CustomerDeleteParams",
        _delete,
        "customers.delete",
    ),
    Route("get", "/v1/customers", "CustomerListParams", _list, "customers.list", _LIST),
)

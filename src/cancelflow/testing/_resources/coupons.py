"""Coupons: create, retrieve, update, list, delete; ``valid`` is computed on the fake clock."""

from __future__ import annotations

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
from cancelflow.testing._store import Record
from cancelflow.testing._values import check_currency

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES", "CouponRecord", "Coupons"]


class CouponRecord(Record):
    """A coupon, plus its includable fields (left out unless expanded)."""

    __slots__ = ("applies_to", "currency_options")

    def __init__(
        self, obj: JSON, applies_to: JSON | None, currency_options: JSON | None
    ) -> None:
        super().__init__(obj)
        self.applies_to = applies_to
        self.currency_options = currency_options


class Coupons(Store[CouponRecord]):
    noun: ClassVar[str] = "coupon"

    def render(self, record: CouponRecord) -> JSON:
        obj = record.obj
        valid = self.is_valid(record)
        return obj if obj["valid"] == valid else {**obj, "valid": valid}

    def include(self, obj: JSON, field: str) -> Any:
        record = self.store.by_id.get(obj["id"])
        if record is not None and field == "applies_to":
            return record.applies_to
        if record is not None and field == "currency_options":
            return record.currency_options
        return NOT_INCLUDABLE

    def is_valid(self, record: CouponRecord) -> bool:
        """Stripe's ``valid``: not past ``redeem_by``, not used up (on the fake clock)."""
        obj = record.obj
        redeem_by = obj["redeem_by"]
        if redeem_by is not None and self.b.now() >= redeem_by:
            return False
        limit = obj["max_redemptions"]
        return limit is None or obj["times_redeemed"] < limit

    def amount_in(self, record: CouponRecord, currency: str) -> int | None:
        """An ``amount_off`` coupon's amount in *currency*, if it has one."""
        obj = record.obj
        if obj["currency"] == currency:
            amount: int = obj["amount_off"]
            return amount
        options = record.currency_options or {}
        option = options.get(currency)
        return None if option is None else int(option["amount_off"])

    # -- operations ----------------------------------------------------------------

    @operation
    def create(self, params: JSON) -> CouponRecord:
        b = self.b
        currency = (
            check_currency(params["currency"], "currency")
            if "currency" in params
            else None
        )
        options = {
            check_currency(code, f"currency_options[{code}]"): option
            for code, option in params.get("currency_options", {}).items()
        }
        coupon_id = params.get("id") or b.token(8)
        if coupon_id in self.store:
            raise ApiError.state(
                "Coupon already exists.", code="resource_already_exists", param="id"
            )
        amount_off = params.get("amount_off")
        percent_off = params.get("percent_off")
        if amount_off is not None and percent_off is not None:
            raise ApiError.exclusive("amount_off", "percent_off")
        if amount_off is None and percent_off is None:
            raise ApiError.invalid(
                "You must pass either amount_off or percent_off.", param="amount_off"
            )  # UNCONFIRMED wording
        if amount_off is not None:
            if currency is None:
                raise ApiError.missing_parameter("currency")
            if amount_off < 1:
                raise ApiError.invalid(
                    "This value must be greater than or equal to 1.", param="amount_off"
                )
        elif not 0 < percent_off <= 100:  # type: ignore[operator]
            raise ApiError.invalid(
                "Invalid percent_off: must be greater than 0 and at most 100.",
                param="percent_off",
            )  # UNCONFIRMED wording
        duration = params.get("duration", "once")
        months = params.get("duration_in_months")
        if duration == "repeating" and months is None:
            raise ApiError.missing_parameter("duration_in_months")
        if duration != "repeating" and months is not None:
            raise ApiError.invalid(
                "duration_in_months can only be set when duration is repeating.",
                param="duration_in_months",
            )  # UNCONFIRMED wording
        redeem_by = params.get("redeem_by")
        if redeem_by is not None and redeem_by <= b.now():
            raise ApiError.invalid(
                "redeem_by must be in the future.", param="redeem_by"
            )  # UNCONFIRMED wording
        max_redemptions = params.get("max_redemptions")
        if max_redemptions is not None and max_redemptions < 1:
            raise ApiError.invalid(
                "This value must be greater than or equal to 1.",
                param="max_redemptions",
            )
        applies_to = None
        if "applies_to" in params:
            products = params["applies_to"].get("products", [])
            for i, product in enumerate(products):
                b.products.get(product, param=f"applies_to[products][{i}]")
            applies_to = {"products": list(products)}
        currency_options = None
        if "currency_options" in params:
            if amount_off is None:
                raise ApiError.invalid(
                    "currency_options can only be set on amount_off coupons.",
                    param="currency_options",
                )  # UNCONFIRMED wording
            currency_options = {
                code: {"amount_off": option["amount_off"]}
                for code, option in options.items()
            }
        obj: JSON = {
            "id": coupon_id,
            "object": "coupon",
            "amount_off": amount_off,
            "created": b.now(),
            "currency": currency,
            "duration": duration,
            "duration_in_months": months,
            "livemode": False,
            "max_redemptions": max_redemptions,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "name": params.get("name") or None,
            "percent_off": None if percent_off is None else float(percent_off),
            "redeem_by": redeem_by,
            "times_redeemed": 0,
            "valid": True,
        }
        record = self.store.add(CouponRecord(obj, applies_to, currency_options))
        b.emit("coupon.created", self.render(record))
        return record

    @operation
    def update(self, record: CouponRecord, params: JSON) -> CouponRecord:
        before = self.render(record)
        changes: JSON = {}
        if "name" in params:
            changes["name"] = params["name"] or None
        if "metadata" in params:
            changes["metadata"] = merge_metadata(
                record.obj["metadata"], params["metadata"]
            )
        record.obj = {**record.obj, **changes}
        self.b.emit_updated("coupon.updated", before, self.render(record))
        return record

    def redeem(self, record: CouponRecord) -> None:
        """Count one redemption (``times_redeemed``); no event, as in Stripe (UNCONFIRMED)."""
        record.obj = {**record.obj, "times_redeemed": record.obj["times_redeemed"] + 1}

    @operation
    def delete(self, record: CouponRecord) -> JSON:
        """Delete the coupon; discounts already applied keep working, as in Stripe."""
        self.store.remove(record.id)
        self.b.emit("coupon.deleted", {**self.render(record), "valid": False})
        return {"id": record.id, "object": "coupon", "deleted": True}


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.coupons.render(b.coupons.create(call.params)))


def _retrieve(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.coupons.render(b.coupons.get(call.id)))


def _update(b: Backend, call: Call) -> JSON:
    record = b.coupons.update(b.coupons.get(call.id), call.params)
    return respond(b, call, b.coupons.render(record))


def _delete(b: Backend, call: Call) -> JSON:
    return b.coupons.delete(b.coupons.get(call.id))


def _list(b: Backend, call: Call) -> JSON:
    coupons = b.coupons
    created = created_filter(call.params.get("created"))

    def render(object_id: str) -> JSON | None:
        record = coupons.store.by_id.get(object_id)
        if record is None or (
            created is not None and not created(record.obj["created"])
        ):
            return None
        return coupons.render(record)

    return respond(
        b,
        call,
        page(coupons.store.order, render, call.params, "/v1/coupons", noun="coupon"),
    )


_CREATE = (
    "amount_off",
    "applies_to",
    "currency",
    "currency_options",
    "duration",
    "duration_in_months",
    "id",
    "max_redemptions",
    "metadata",
    "name",
    "percent_off",
    "redeem_by",
)

ROUTES = (
    Route(
        "post", "/v1/coupons", "CouponCreateParams", _create, "coupons.create", _CREATE
    ),
    Route(
        "get",
        "/v1/coupons/{coupon}",
        "CouponRetrieveParams",
        _retrieve,
        "coupons.retrieve",
    ),
    Route(
        "post",
        "/v1/coupons/{coupon}",
        "CouponUpdateParams",
        _update,
        "coupons.update",
        ("metadata", "name"),
    ),
    Route(
        "delete",
        "/v1/coupons/{coupon}",
        "CouponDeleteParams",
        _delete,
        "coupons.delete",
    ),
    Route("get", "/v1/coupons", "CouponListParams", _list, "coupons.list"),
)

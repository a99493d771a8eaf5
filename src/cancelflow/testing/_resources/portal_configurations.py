"""Customer-portal configurations: create, retrieve, update, list (no delete, as in Stripe).

Defaults follow Stripe's documented example object: every feature disabled,
``subscription_cancel.mode = at_period_end``, ``proration_behavior = none``,
cancellation reasons off with the five default options.

A configuration created through the API is never the account's default
(``is_default: false``, as Stripe's documented create and retrieve responses
show): the default is the one saved on the Dashboard's portal page
(``FakeStripe.dashboard.save_portal_settings``, which calls
`PortalConfigurations.create` with ``default=True`` once). The API can
update the default configuration, and cannot deactivate it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from cancelflow.testing._errors import ApiError
from cancelflow.testing._pagination import page
from cancelflow.testing._resources._common import (
    JSON,
    Store,
    merge_metadata,
    operation,
    respond,
)
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Record
from cancelflow.testing._values import check_url

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES", "PortalConfigurations"]

DEFAULT_REASON_OPTIONS: Final = (
    "too_expensive",
    "missing_features",
    "switched_service",
    "unused",
    "other",
)
_CANCEL_PARAM: Final = "features[subscription_cancel]"


def default_features() -> JSON:
    """Stripe's defaults for ``features`` (everything disabled)."""
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {
            "enabled": False,
            "payment_method_configuration": None,
        },
        "subscription_cancel": {
            "cancellation_reason": {
                "enabled": False,
                "feedback_options": None,
                "options": list(DEFAULT_REASON_OPTIONS),
            },
            "enabled": False,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        "subscription_pause": {
            "duration": {"interval_options": [], "type": "indefinite"},
            "enabled": False,
        },
        "subscription_update": {
            "billing_cycle_anchor": None,
            "default_allowed_updates": [],
            "enabled": False,
            "products": [],
            "proration_behavior": "none",
            "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    }


class PortalConfigurations(Store[Record]):
    noun: ClassVar[str] = "configuration"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.default_id: str | None = None

    def default(self) -> Record | None:
        """The account's default configuration, if the Dashboard saved one."""
        return None if self.default_id is None else self.store.by_id[self.default_id]

    @operation
    def create(self, params: JSON, *, default: bool = False) -> Record:
        """Create a configuration; *default* only for the Dashboard's first save."""
        b = self.b
        if default and self.default_id is not None:
            raise ValueError("the account already has a default configuration")
        now = b.now()
        obj: JSON = {
            "id": b.new_id("bpc"),
            "object": "billing_portal.configuration",
            "active": True,
            "application": None,
            "business_profile": {
                "headline": None,
                "privacy_policy_url": None,
                "terms_of_service_url": None,
            },
            "created": now,
            "default_return_url": None,
            "features": default_features(),
            "is_default": default,
            "livemode": False,
            "login_page": {"enabled": False, "url": None},
            "metadata": {},
            "name": None,
            "updated": now,
        }
        obj.update(self._changes(obj, params))
        record = self.store.add(Record(obj))
        if default:
            self.default_id = record.id
        b.emit("billing_portal.configuration.created", obj)
        return record

    @operation
    def update(self, record: Record, params: JSON) -> Record:
        before = record.obj
        changes = self._changes(before, params)
        if "active" in params:
            if params["active"] is False and before["is_default"]:
                raise ApiError.state(
                    "The default configuration cannot be deactivated.", param="active"
                )  # UNCONFIRMED rule and wording
            changes["active"] = params["active"]
        after = {**before, **changes}
        if after != before:
            after["updated"] = self.b.now()
        record.obj = after
        self.b.emit_updated("billing_portal.configuration.updated", before, after)
        return record

    def _changes(self, current: JSON, params: JSON) -> JSON:
        changes: JSON = {}
        check_url(params.get("default_return_url"), "default_return_url")
        profile = params.get("business_profile", {})
        for field in ("privacy_policy_url", "terms_of_service_url"):
            check_url(profile.get(field), f"business_profile[{field}]")
        if "business_profile" in params:
            changes["business_profile"] = {
                **current["business_profile"],
                **{k: v or None for k, v in params["business_profile"].items()},
            }
        if "default_return_url" in params:
            changes["default_return_url"] = params["default_return_url"] or None
        if "name" in params:
            changes["name"] = params["name"] or None
        if "metadata" in params:
            changes["metadata"] = merge_metadata(
                current["metadata"] or {}, params["metadata"]
            )
        if "login_page" in params:
            enabled = params["login_page"]["enabled"]
            url = current["login_page"]["url"]
            if enabled and url is None:
                url = f"https://billing.stripe.com/p/login/test_{self.b.token(24)}"
            changes["login_page"] = {
                "enabled": enabled,
                "url": url if enabled else None,
            }
        if "features" in params:
            changes["features"] = self._features(
                current["features"], params["features"]
            )
        return changes

    def _features(self, current: JSON, given: JSON) -> JSON:
        features = dict(current)
        for name, value in given.items():
            merged = {**features[name], **value}
            if name == "subscription_cancel":
                merged = self._subscription_cancel(features[name], value)
            elif name == "customer_update" and "allowed_updates" in value:
                merged["allowed_updates"] = _list(value["allowed_updates"])
            elif (
                name == "payment_method_update"
                and "payment_method_configuration" in value
            ):
                merged["payment_method_configuration"] = (
                    value["payment_method_configuration"] or None
                )
            elif name == "subscription_update":
                merged = _subscription_update(features[name], value)
            elif name == "subscription_pause":
                merged = _subscription_pause(features[name], value)
            features[name] = merged
        return features

    def _subscription_cancel(self, current: JSON, given: JSON) -> JSON:
        merged = {
            **current,
            **{k: v for k, v in given.items() if k != "cancellation_reason"},
        }
        if merged["proration_behavior"] == "always_invoice":
            raise ApiError.invalid(
                "Invalid proration_behavior: always_invoice cannot be used when "
                "canceling; use none or create_prorations.",
                param=f"{_CANCEL_PARAM}[proration_behavior]",
            )  # the rule is documented, the wording is UNCONFIRMED
        if (
            merged["proration_behavior"] == "create_prorations"
            and merged["mode"] != "immediately"
        ):
            raise ApiError.invalid(
                "proration_behavior=create_prorations is only compatible with "
                "mode=immediately.",
                param=f"{_CANCEL_PARAM}[proration_behavior]",
            )  # the rule is documented, the wording is UNCONFIRMED
        if "cancellation_reason" in given:
            reason = {**current["cancellation_reason"], **given["cancellation_reason"]}
            if "options" in given["cancellation_reason"]:
                reason["options"] = _list(given["cancellation_reason"]["options"])
            if "feedback_options" in given["cancellation_reason"]:
                options = given["cancellation_reason"]["feedback_options"]
                reason["feedback_options"] = None if options == "" else list(options)
                for i, option_id in enumerate(reason["feedback_options"] or []):
                    where = (
                        f"{_CANCEL_PARAM}[cancellation_reason][feedback_options][{i}]"
                    )
                    option = self.b.feedback_options.get(option_id, param=where)
                    if option.obj["status"] != "active":
                        raise ApiError.invalid(
                            f"The feedback option {option_id} is inactive and cannot be "
                            "used in a portal configuration.",
                            param=where,
                        )  # the rule is documented, the wording is UNCONFIRMED
            if (
                reason["enabled"]
                and not reason["options"]
                and not reason["feedback_options"]
            ):
                raise ApiError.invalid(
                    "Enabled cancellation reasons need at least one option.",
                    param=f"{_CANCEL_PARAM}[cancellation_reason][options]",
                )  # UNCONFIRMED rule and wording
            merged["cancellation_reason"] = reason
        return merged


def _list(value: Any) -> list[Any]:
    return [] if value == "" else list(value)


def _subscription_update(current: JSON, given: JSON) -> JSON:
    merged = {**current, **given}
    if "default_allowed_updates" in given:
        merged["default_allowed_updates"] = _list(given["default_allowed_updates"])
    if "products" in given:
        merged["products"] = [
            {
                "adjustable_quantity": {
                    "enabled": False,
                    "maximum": None,
                    "minimum": 1,
                    **product.get("adjustable_quantity", {}),
                },
                "prices": list(product["prices"]),
                "product": product["product"],
            }
            for product in _list(given["products"])
        ]
    if "schedule_at_period_end" in given:
        value = given["schedule_at_period_end"]
        conditions = [] if value == "" else value.get("conditions", [])
        merged["schedule_at_period_end"] = {"conditions": [dict(c) for c in conditions]}
    return merged


def _subscription_pause(current: JSON, given: JSON) -> JSON:
    merged = {**current, **given}
    if "duration" in given:
        duration = given["duration"]
        merged["duration"] = {
            "interval_options": [
                {
                    "interval": o["interval"],
                    "interval_count": o.get("interval_count", 1),
                }
                for o in _list(duration.get("interval_options", []))
            ],
            "type": duration["type"],
        }
    return merged


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.portal_configurations.create(call.params).obj)


def _retrieve(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.portal_configurations.get(call.id).obj)


def _update(b: Backend, call: Call) -> JSON:
    configs = b.portal_configurations
    return respond(b, call, configs.update(configs.get(call.id), call.params).obj)


def _list_configs(b: Backend, call: Call) -> JSON:
    params = call.params
    configs = b.portal_configurations

    def render(object_id: str) -> JSON | None:
        obj = configs.store.by_id[object_id].obj
        for key in ("active", "is_default"):
            if key in params and obj[key] != params[key]:
                return None
        return obj

    return respond(
        b,
        call,
        page(
            configs.store.order,
            render,
            params,
            "/v1/billing_portal/configurations",
            noun="configuration",
        ),
    )


ROUTES = (
    Route(
        "post",
        "/v1/billing_portal/configurations",
        "billing_portal.ConfigurationCreateParams",
        _create,
        "billing_portal.configurations.create",
    ),
    Route(
        "get",
        "/v1/billing_portal/configurations/{configuration}",
        "billing_portal.ConfigurationRetrieveParams",
        _retrieve,
        "billing_portal.configurations.retrieve",
    ),
    Route(
        "post",
        "/v1/billing_portal/configurations/{configuration}",
        "billing_portal.ConfigurationUpdateParams",
        _update,
        "billing_portal.configurations.update",
    ),
    Route(
        "get",
        "/v1/billing_portal/configurations",
        "billing_portal.ConfigurationListParams",
        _list_configs,
        "billing_portal.configurations.list",
    ),
)

"""Customer-portal sessions: create (the only call Stripe offers), with every flow checked.

A session's ``url`` (``https://billing.stripe.com/p/session/test_…``) is served
by the fake: the portal driver finds the session by that url (or by id) and
acts as the customer on it. `SessionRecord` keeps what the driver
needs besides the wire object: the configuration, the flow, the coupon
offered, the locale, the return URLs and when it was created.

Stripe documents no list of the conditions under which a deep link is
refused; the checks here (subscription exists, is the customer's, has not
ended, is not already scheduled to cancel, the configuration allows the flow,
the coupon exists and can be applied) are what Stripe is expected to check,
with UNCONFIRMED wording. The one message Stripe is known to send verbatim
is the one for an account without a saved (default) configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from cancelflow.testing._errors import ApiError
from cancelflow.testing._resources._common import JSON, Store, operation, respond
from cancelflow.testing._resources.discounts import coupon_problem
from cancelflow.testing._resources.subscriptions import ENDED, Subscriptions
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Record
from cancelflow.testing._values import check_url

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._resources.subscriptions import SubscriptionRecord

__all__ = ["NO_DEFAULT_CONFIGURATION", "ROUTES", "PortalSessions", "SessionRecord"]

URL_PREFIX: Final = "https://billing.stripe.com/p/session/"
NO_DEFAULT_CONFIGURATION: Final = (
    "You can\u2019t create a portal session in test mode until you save your customer "
    "portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)
"""Stripe's answer, verbatim (U+2019 as in raw captured responses; retyped quotes
in docs and code comments often show an ASCII apostrophe)."""
_CUSTOM_MESSAGE_MAX: Final = 500
_FLOW_TYPES_WITH_OBJECT: Final = frozenset(
    {
        "subscription_cancel",
        "subscription_pause",
        "subscription_update",
        "subscription_update_confirm",
    }
)
_FEATURE_OF_FLOW: Final = {
    "customer_update": "customer_update",
    "payment_method_update": "payment_method_update",
    "subscription_cancel": "subscription_cancel",
    "subscription_pause": "subscription_pause",
    "subscription_update": "subscription_update",
    "subscription_update_confirm": "subscription_update",
}


class SessionRecord(Record):
    """A portal session, plus what the portal page needs.

    Attributes:
        token: the last part of the session's url.
        configuration_id: the configuration the session uses.
        customer_id: the customer it is for.
        flow: the rendered ``flow`` (``None`` for the portal homepage).
        subscription_id: the flow's subscription, if any.
        coupon_id: the retention coupon offered (``subscription_cancel`` only).
        locale: the requested locale, if any.
        return_url: the top-level return URL (given or the configuration's default).
        created: when it was created (fake clock).
        state: free-form state for the portal driver (visits, completion, …).
    """

    __slots__ = (
        "configuration_id",
        "coupon_id",
        "created",
        "customer_id",
        "flow",
        "locale",
        "return_url",
        "state",
        "subscription_id",
        "token",
    )

    def __init__(self, obj: JSON, token: str) -> None:
        super().__init__(obj)
        self.token = token
        self.configuration_id: str = obj["configuration"]
        self.customer_id: str = obj["customer"]
        self.flow: JSON | None = obj["flow"]
        self.locale: str | None = obj["locale"]
        self.return_url: str | None = obj["return_url"]
        self.created: int = obj["created"]
        self.subscription_id: str | None = None
        self.coupon_id: str | None = None
        self.state: dict[str, Any] = {}
        flow = self.flow
        if flow is not None:
            inner = flow.get(flow["type"])
            if isinstance(inner, dict):
                self.subscription_id = inner.get("subscription")
                retention = inner.get("retention")
                if retention is not None:
                    self.coupon_id = retention["coupon_offer"]["coupon"]

    @property
    def after_completion(self) -> JSON | None:
        """The flow's ``after_completion`` (``None`` without a flow)."""
        return None if self.flow is None else self.flow["after_completion"]


class PortalSessions(Store[SessionRecord]):
    noun: ClassVar[str] = "session"

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.by_token: dict[str, str] = {}
        self.url_prefix = URL_PREFIX
        """What new sessions' ``url`` starts with (a served fake points it at itself)."""

    def find(self, url_or_id: str) -> SessionRecord | None:
        """The session with this ``url`` (query and fragment ignored) or id.

        Both Stripe's URL and the served fake's (``http://127.0.0.1:…/p/session/…``)
        find the session.
        """
        for prefix in (URL_PREFIX, self.url_prefix):
            if url_or_id.startswith(prefix):
                token = (
                    url_or_id[len(prefix) :]
                    .split("?", 1)[0]
                    .split("#", 1)[0]
                    .rstrip("/")
                )
                session_id = self.by_token.get(token)
                return None if session_id is None else self.store.by_id.get(session_id)
        return self.store.by_id.get(url_or_id)

    @operation
    def create(self, params: JSON) -> SessionRecord:
        b = self.b
        check_url(params.get("return_url"), "return_url")
        after = params.get("flow_data", {}).get("after_completion", {})
        check_url(
            after.get("redirect", {}).get("return_url"),
            "flow_data[after_completion][redirect][return_url]",
        )
        if "customer_account" in params:
            raise ApiError.not_modeled(
                "customer_account (Accounts v2)", param="customer_account"
            )
        if "customer" not in params:
            raise ApiError.missing_parameter("customer")
        customer = b.customers.get(params["customer"], param="customer")
        config = self._configuration(params.get("configuration"))
        flow = None
        if "flow_data" in params:
            flow = self._flow(params["flow_data"], customer.id, config.obj)
        token = "test_" + b.token(32)
        obj: JSON = {
            "id": b.new_id("bps"),
            "object": "billing_portal.session",
            "after_expiration": _after_expiration(params.get("after_expiration")),
            "configuration": config.id,
            "created": b.now(),
            "customer": customer.id,
            "customer_account": None,
            "flow": flow,
            "livemode": False,
            "locale": params.get("locale"),
            "on_behalf_of": None,
            "return_url": params.get("return_url") or config.obj["default_return_url"],
            "url": self.url_prefix + token,
        }
        record = self.store.add(SessionRecord(obj, token))
        self.by_token[token] = record.id
        b.emit("billing_portal.session.created", obj)
        return record

    def _configuration(self, config_id: str | None) -> Record:
        configs = self.b.portal_configurations
        if config_id is None:
            config = configs.default()
            if config is None:
                raise ApiError.invalid(NO_DEFAULT_CONFIGURATION, stored=True)
        else:
            config = configs.get(config_id, param="configuration")
        if not config.obj["active"]:
            raise ApiError.state(
                f"The configuration {config.id} is not active.", param="configuration"
            )  # UNCONFIRMED wording
        return config

    def _flow(self, data: JSON, customer_id: str, config: JSON) -> JSON:
        flow_type = data["type"]
        for other in _FLOW_TYPES_WITH_OBJECT:
            if other != flow_type and other in data:
                raise ApiError.invalid(
                    f"flow_data[{other}] can only be given when flow_data[type] is {other}.",
                    param=f"flow_data[{other}]",
                )  # UNCONFIRMED wording
        if flow_type in _FLOW_TYPES_WITH_OBJECT and flow_type not in data:
            raise ApiError.missing_parameter(f"flow_data[{flow_type}]")
        feature = config["features"][_FEATURE_OF_FLOW[flow_type]]
        if not feature["enabled"]:
            raise ApiError.state(
                f"The portal configuration does not enable {_FEATURE_OF_FLOW[flow_type]}, "
                f"so a {flow_type} flow cannot be created "
                f"(features[{_FEATURE_OF_FLOW[flow_type]}][enabled] is false).",
                param="flow_data[type]",
            )  # UNCONFIRMED rule and wording
        flow: JSON = {
            "after_completion": _after_completion(data.get("after_completion")),
            "customer_update": {} if flow_type == "customer_update" else None,
            "subscription_cancel": None,
            "subscription_pause": None,
            "subscription_update": None,
            "subscription_update_confirm": None,
            "type": flow_type,
        }
        if flow_type == "subscription_cancel":
            flow["subscription_cancel"] = self._subscription_cancel(
                data["subscription_cancel"], customer_id
            )
        elif flow_type in ("subscription_pause", "subscription_update"):
            sub_id = data[flow_type]["subscription"]
            self._subscription(
                sub_id, customer_id, f"flow_data[{flow_type}][subscription]"
            )
            flow[flow_type] = {"subscription": sub_id}
        elif flow_type == "subscription_update_confirm":
            flow[flow_type] = self._update_confirm(data[flow_type], customer_id)
        return flow

    def _subscription(
        self, sub_id: str, customer_id: str, param: str
    ) -> SubscriptionRecord:
        sub = self.b.subscriptions.get(sub_id, param=param)
        if sub.obj["customer"] != customer_id:
            raise ApiError.state(
                f"The subscription {sub_id} does not belong to the customer {customer_id}.",
                param=param,
            )  # UNCONFIRMED wording
        if sub.obj["status"] in ENDED:
            raise ApiError.state(
                f"The subscription {sub_id} has already been canceled "
                f"(status {sub.obj['status']}).",
                param=param,
            )  # UNCONFIRMED wording
        return sub

    def _subscription_cancel(self, data: JSON, customer_id: str) -> JSON:
        param = "flow_data[subscription_cancel][subscription]"
        sub = self._subscription(data["subscription"], customer_id, param)
        if Subscriptions.is_scheduled(sub.obj):
            raise ApiError.state(
                f"The subscription {sub.id} is already scheduled to cancel.",
                param=param,
            )  # UNCONFIRMED wording
        retention = None
        if "retention" in data:
            coupon_id = data["retention"]["coupon_offer"]["coupon"]
            where = "flow_data[subscription_cancel][retention][coupon_offer][coupon]"
            coupon = self.b.coupons.get(coupon_id, param=where)
            subs = self.b.subscriptions
            problem = coupon_problem(
                self.b.discounts, coupon, sub.obj["currency"], subs.products(sub), where
            )
            if problem is not None:
                raise problem
            retention = {"coupon_offer": {"coupon": coupon_id}, "type": "coupon_offer"}
        return {"retention": retention, "subscription": sub.id}

    def _update_confirm(self, data: JSON, customer_id: str) -> JSON:
        base = "flow_data[subscription_update_confirm]"
        sub = self._subscription(
            data["subscription"], customer_id, f"{base}[subscription]"
        )
        items = data["items"]
        if len(items) != 1:
            raise ApiError.invalid(
                "Exactly one item can be specified.", param=f"{base}[items]"
            )  # documented rule ("only up to one"), UNCONFIRMED wording
        if len(sub.item_ids) != 1:
            raise ApiError.state(
                "Subscriptions with multiple items cannot be updated in the portal.",
                param=f"{base}[subscription]",
            )  # documented rule, UNCONFIRMED wording
        item = items[0]
        if item["id"] not in sub.item_ids:
            raise ApiError.resource_missing(
                "subscription item", item["id"], f"{base}[items][0][id]"
            )
        if "price" in item:
            price = self.b.prices.get(item["price"], param=f"{base}[items][0][price]")
            if price.obj["recurring"] is None or not price.obj["active"]:
                raise ApiError.invalid(
                    "The price must be an active recurring price.",
                    param=f"{base}[items][0][price]",
                )  # UNCONFIRMED wording
        discounts = None
        if "discounts" in data:
            discounts = []
            for i, entry in enumerate(data["discounts"]):
                if "promotion_code" in entry:
                    raise ApiError.not_modeled(
                        "promotion codes",
                        param=f"{base}[discounts][{i}][promotion_code]",
                    )
                if "coupon" in entry:
                    self.b.coupons.get(
                        entry["coupon"], param=f"{base}[discounts][{i}][coupon]"
                    )
                discounts.append(
                    {"coupon": entry.get("coupon"), "promotion_code": None}
                )
        return {
            "discounts": discounts,
            "items": [
                {
                    "id": item["id"],
                    "price": item.get("price"),
                    "quantity": item.get("quantity"),
                }
            ],
            "subscription": sub.id,
        }


def _after_completion(data: JSON | None) -> JSON:
    if data is None:
        return {
            "hosted_confirmation": None,
            "redirect": None,
            "type": "portal_homepage",
        }
    kind = data["type"]
    hosted = None
    redirect = None
    if kind == "redirect":
        if "redirect" not in data:
            raise ApiError.missing_parameter("flow_data[after_completion][redirect]")
        redirect = {"return_url": data["redirect"]["return_url"]}
    elif "redirect" in data:
        raise ApiError.invalid(
            "flow_data[after_completion][redirect] can only be given when "
            "flow_data[after_completion][type] is redirect.",
            param="flow_data[after_completion][redirect]",
        )  # UNCONFIRMED wording
    if kind == "hosted_confirmation":
        message = data.get("hosted_confirmation", {}).get("custom_message")
        if message is not None and len(message) > _CUSTOM_MESSAGE_MAX:
            raise ApiError.invalid(
                f"Invalid string: must be at most {_CUSTOM_MESSAGE_MAX} characters.",
                param="flow_data[after_completion][hosted_confirmation][custom_message]",
            )  # limit from Stripe's spec, wording UNCONFIRMED
        hosted = {"custom_message": message}
    elif "hosted_confirmation" in data:
        raise ApiError.invalid(
            "flow_data[after_completion][hosted_confirmation] can only be given when "
            "flow_data[after_completion][type] is hosted_confirmation.",
            param="flow_data[after_completion][hosted_confirmation]",
        )  # UNCONFIRMED wording
    return {"hosted_confirmation": hosted, "redirect": redirect, "type": kind}


def _after_expiration(data: JSON | None) -> JSON | None:
    if data is None:
        return None
    login = data.get("customer_login")
    return {
        "customer_login": None
        if login is None
        else {"expires_at": login.get("expires_at")},
        "type": data["type"],
    }


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.portal_sessions.create(call.params).obj)


_CREATE = (
    "after_expiration",
    "configuration",
    "customer",
    "flow_data",
    "locale",
    "return_url",
)

ROUTES = (
    Route(
        "post",
        "/v1/billing_portal/sessions",
        "billing_portal.SessionCreateParams",
        _create,
        "billing_portal.sessions.create",
        _CREATE,
    ),
)

"""A small recording Stripe backend for tests, plugged in under stripe-python.

``RecordingHTTPClient`` is a ``stripe.HTTPClient``: stripe-python encodes each
request exactly as it would for Stripe and hands it here; we record it (method,
path, query and form fields as Stripe would read them, headers) and answer with
Stripe-shaped JSON from a small in-memory account. Tests then assert on the very
form fields Stripe would receive.

It models only what cancelflow's gateway calls; anything else is a 404 naming
the route, so a test can never pass on an empty answer.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import stripe

API_KEY = "sk_test_cancelflowRecording000000000"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


@attrs.frozen
class Request:
    """One request as Stripe would receive it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def params(self) -> dict[str, str]:
        """Form fields for a POST, query fields otherwise (flat, Stripe's names)."""
        return self.form if self.method == "post" else self.query


# -- realistic objects ------------------------------------------------------------


def subscription_json(
    id: str = "sub_1",  # noqa: A002 - Stripe's field name
    *,
    customer: str = "cus_1",
    status: str = "active",
    currency: str = "eur",
    product: str = "prod_1",
    unit_amount: int = 1500,
    interval: str = "month",
    quantity: int = 1,
    cancel_at: int | None = None,
    cancel_at_period_end: bool = False,
    billing_mode: str = "classic",
    discounts: list[Any] | None = None,
) -> dict[str, Any]:
    """A subscription as Stripe's API version 2026-10-28 renders it."""
    period_end = NOW + 30 * 86_400
    return {
        "id": id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": NOW - 86_400,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": billing_mode, "flexible": None, "updated_at": None},
        "billing_thresholds": None,
        "cancel_at": cancel_at,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": NOW - 60 if (cancel_at or cancel_at_period_end) else None,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "feedback_option": None,
            "reason": "cancellation_requested"
            if (cancel_at or cancel_at_period_end)
            else None,
        },
        "collection_method": "charge_automatically",
        "created": NOW - 86_400,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": "pm_1",
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": discounts or [],
        "ended_at": NOW - 60 if status in {"canceled", "incomplete_expired"} else None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{id.removeprefix('sub_')}",
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": NOW - 86_400,
                    "current_period_end": period_end,
                    "current_period_start": NOW - 86_400,
                    "discounts": [],
                    "metadata": {},
                    "price": {
                        "id": "price_1",
                        "object": "price",
                        "active": True,
                        "billing_scheme": "per_unit",
                        "created": NOW - 864_000,
                        "currency": currency,
                        "custom_unit_amount": None,
                        "livemode": False,
                        "lookup_key": None,
                        "metadata": {},
                        "nickname": None,
                        "product": product,
                        "recurring": {
                            "interval": interval,
                            "interval_count": 1,
                            "meter": None,
                            "usage_type": "licensed",
                        },
                        "tax_behavior": "unspecified",
                        "tiers_mode": None,
                        "transform_quantity": None,
                        "type": "recurring",
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                    },
                    "quantity": quantity,
                    "subscription": id,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={id}",
        },
        "latest_invoice": "in_1",
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": NOW - 86_400,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {
            "end_behavior": {"missing_payment_method": "create_invoice"}
        },
        "trial_start": None,
    }


def coupon_json(
    id: str = "SAVE20",  # noqa: A002 - Stripe's field name
    *,
    percent_off: float | None = 20.0,
    amount_off: int | None = None,
    currency: str | None = None,
    duration: str = "once",
    valid: bool = True,
    max_redemptions: int | None = None,
    times_redeemed: int = 0,
    redeem_by: int | None = None,
    products: list[str] | None = None,
    currency_options: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A coupon as Stripe renders it; the recorder leaves out ``applies_to`` and
    ``currency_options`` unless the request expands them, as Stripe does."""
    data: dict[str, Any] = {
        "id": id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": NOW - 864_000,
        "currency": currency,
        "duration": duration,
        "duration_in_months": 3 if duration == "repeating" else None,
        "livemode": False,
        "max_redemptions": max_redemptions,
        "metadata": {},
        "name": f"{id} retention offer",
        "percent_off": None if amount_off is not None else percent_off,
        "redeem_by": redeem_by,
        "times_redeemed": times_redeemed,
        "valid": valid,
    }
    data["applies_to"] = {"products": products or []} if products is not None else None
    data["currency_options"] = (
        {cur: {"amount_off": amount} for cur, amount in currency_options.items()}
        if currency_options is not None
        else None
    )
    return data


def customer_json(
    id: str = "cus_1",  # noqa: A002 - Stripe's field name
    *,
    country: str | None = "FR",
) -> dict[str, Any]:
    """A customer as Stripe renders it."""
    return {
        "id": id,
        "object": "customer",
        "address": None
        if country is None
        else {
            "city": "Lyon",
            "country": country,
            "line1": "1 rue de la République",
            "line2": None,
            "postal_code": "69001",
            "state": None,
        },
        "balance": 0,
        "business_name": None,
        "created": NOW - 400 * 86_400,
        "currency": "eur",
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": "jenny@example.com",
        "individual_name": None,
        "invoice_prefix": "ABC123",
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": "pm_1",
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {"plan": "pro"},
        "name": "Jenny Rosen",
        "next_invoice_sequence": 2,
        "phone": None,
        "preferred_locales": ["fr", "en"],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def configuration_json(
    id: str = "bpc_1",  # noqa: A002 - Stripe's field name
    *,
    is_default: bool = True,
    active: bool = True,
    mode: str = "at_period_end",
    reasons: list[str] | None = None,
) -> dict[str, Any]:
    """A portal configuration as Stripe renders it."""
    return {
        "id": id,
        "object": "billing_portal.configuration",
        "active": active,
        "application": None,
        "business_profile": {
            "headline": None,
            "privacy_policy_url": None,
            "terms_of_service_url": None,
        },
        "created": NOW - 864_000,
        "default_return_url": "https://example.com/account",
        "features": {
            "customer_update": {"allowed_updates": [], "enabled": False},
            "invoice_history": {"enabled": True},
            "payment_method_update": {
                "enabled": True,
                "payment_method_configuration": None,
            },
            "subscription_cancel": {
                "cancellation_reason": {
                    "enabled": reasons is not None,
                    "feedback_options": None,
                    "options": reasons
                    if reasons is not None
                    else [
                        "too_expensive",
                        "missing_features",
                        "switched_service",
                        "unused",
                        "other",
                    ],
                },
                "enabled": True,
                "mode": mode,
                "proration_behavior": "none",
            },
            "subscription_pause": {"enabled": False},
            "subscription_update": {
                "billing_cycle_anchor": None,
                "default_allowed_updates": [],
                "enabled": False,
                "products": [],
                "proration_behavior": "none",
                "schedule_at_period_end": {"conditions": []},
                "trial_update_behavior": "end_trial",
            },
        },
        "is_default": is_default,
        "livemode": False,
        "login_page": {"enabled": False, "url": None},
        "metadata": {},
        "name": None,
        "updated": NOW - 864_000,
    }


def error_json(
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """Stripe's error body."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if code is not None:
        error["code"] = code
        error["doc_url"] = (
            f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        )
    if param is not None:
        error["param"] = param
    error["request_log_url"] = "https://dashboard.stripe.com/test/logs/req_x"
    return {"error": error}


# -- the client ------------------------------------------------------------------------


def _flat(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True))


class RecordingHTTPClient(stripe.HTTPClient):
    """Records every request; answers from :attr:`subscriptions`, :attr:`coupons`,
    :attr:`customers` and :attr:`configurations`."""

    name = "cancelflow-recording"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.coupons: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.configurations: dict[str, dict[str, Any]] = {}
        self.failures: list[tuple[str, str, int, dict[str, Any]]] = []
        self.connection_failures = 0
        self.connection_message = "Connection refused (recording client)"
        self._ids = itertools.count(1)

    # -- test helpers --------------------------------------------------------------

    def client(self, api_key: str = API_KEY) -> stripe.StripeClient:
        """A ``StripeClient`` wired to this recorder."""
        return stripe.StripeClient(api_key, http_client=self)

    def fail_next(
        self, method: str, path_prefix: str, status: int, body: dict[str, Any]
    ) -> None:
        """Answer the next matching request with *status* and *body*."""
        self.failures.append((method, path_prefix, status, body))

    def calls(
        self, method: str | None = None, path: str | None = None
    ) -> list[Request]:
        """The recorded requests, optionally filtered by method and path prefix."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or r.path.startswith(path))
        ]

    # -- stripe.HTTPClient -----------------------------------------------------------

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        return self._handle(method, url, headers, post_data)

    async def request_async(self, method, url, headers, post_data=None):
        return self._handle(method, url, headers, post_data)

    def close(self) -> None:
        pass

    async def close_async(self) -> None:
        pass

    # -- dispatch ----------------------------------------------------------------------

    def _handle(self, method, url, headers, post_data):
        parts = urlsplit(url)
        req = Request(
            method=method,
            path=parts.path,
            query=_flat(parts.query),
            form=_flat(post_data or ""),
            headers=dict(headers or {}),
        )
        self.requests.append(req)
        request_id = f"req_{len(self.requests)}"
        out_headers = {
            "Request-Id": request_id,
            "request-id": request_id,
            "stripe-should-retry": "false",
        }
        if self.connection_failures:
            self.connection_failures -= 1
            raise stripe.APIConnectionError(self.connection_message)
        for n, (m, prefix, status, body) in enumerate(self.failures):
            if m == method and req.path.startswith(prefix):
                del self.failures[n]
                return json.dumps(body), status, out_headers
        status, body = self._route(req)
        return json.dumps(body), status, out_headers

    def _missing(
        self, kind: str, object_id: str, param: str = "id"
    ) -> tuple[int, dict[str, Any]]:
        return 404, error_json(
            f"No such {kind}: '{object_id}'", code="resource_missing", param=param
        )

    def _route(self, req: Request) -> tuple[int, dict[str, Any]]:
        segments = req.path.strip("/").split("/")
        match (req.method, segments):
            case ("get", ["v1", "subscriptions", sid]):
                sub = self.subscriptions.get(sid)
                if sub is None:
                    return self._missing("subscription", sid)
                return 200, self._expand_discounts(sub, req.query, "expand[0]")
            case ("get", ["v1", "subscriptions"]):
                subs = list(self.subscriptions.values())
                if "customer" in req.query:
                    subs = [s for s in subs if s["customer"] == req.query["customer"]]
                status = req.query.get("status")
                if status is None:
                    subs = [s for s in subs if s["status"] != "canceled"]
                elif status != "all":
                    subs = [s for s in subs if s["status"] == status]
                return 200, self._page(
                    "/v1/subscriptions", subs, req.query, expand_discounts=True
                )
            case ("get", ["v1", "customers", cid]):
                cus = self.customers.get(cid)
                return (200, cus) if cus is not None else self._missing("customer", cid)
            case ("get", ["v1", "coupons", cid]):
                cou = self.coupons.get(cid)
                if cou is None:
                    return self._missing("coupon", cid)
                expanded = {v for k, v in req.query.items() if k.startswith("expand")}
                return 200, {
                    k: v
                    for k, v in cou.items()
                    if k not in {"applies_to", "currency_options"} or k in expanded
                }
            case ("post", ["v1", "billing_portal", "sessions"]):
                return 200, self._session(req.form)
            case ("get", ["v1", "billing_portal", "configurations"]):
                configs = list(self.configurations.values())
                for key in ("active", "is_default"):
                    if key in req.query:
                        want = req.query[key] == "true"
                        configs = [c for c in configs if c[key] is want]
                return 200, self._page(
                    "/v1/billing_portal/configurations", configs, req.query
                )
            case ("post", ["v1", "billing_portal", "configurations"]):
                cid = f"bpc_{next(self._ids)}"
                config = configuration_json(cid, is_default=not self.configurations)
                self._apply_config_form(config, req.form)
                self.configurations[cid] = config
                return 200, config
            case ("post", ["v1", "billing_portal", "configurations", cid]):
                config = self.configurations.get(cid)
                if config is None:
                    return self._missing("billing_portal.configuration", cid)
                self._apply_config_form(config, req.form)
                return 200, config
        return 404, error_json(
            f"Unrecognized request URL ({req.method.upper()}: {req.path}) "
            "(the recording client does not model it)"
        )

    def _expand_discounts(
        self, sub: dict[str, Any], query: Mapping[str, str], key: str
    ) -> dict[str, Any]:
        out = copy.deepcopy(sub)
        paths = {v for k, v in query.items() if k.startswith("expand")}
        with_coupons = bool(
            paths & {"discounts.source.coupon", "data.discounts.source.coupon"}
        )
        if not with_coupons and not paths & {"discounts", "data.discounts"}:
            out["discounts"] = [
                d["id"] if isinstance(d, dict) else d for d in out.get("discounts", [])
            ]
            return out
        for discount in out.get("discounts") or ():
            source = discount.get("source") if isinstance(discount, dict) else None
            coupon = source.get("coupon") if isinstance(source, dict) else None
            if with_coupons and isinstance(coupon, str) and coupon in self.coupons:
                source["coupon"] = copy.deepcopy(self.coupons[coupon])
            elif not with_coupons and isinstance(coupon, dict):
                source["coupon"] = coupon["id"]
        return out

    def _page(
        self,
        url: str,
        objects: list[dict[str, Any]],
        query: Mapping[str, str],
        *,
        expand_discounts: bool = False,
    ) -> dict[str, Any]:
        limit = int(query.get("limit", "10"))
        after = query.get("starting_after")
        if after is not None:
            ids = [o["id"] for o in objects]
            objects = objects[ids.index(after) + 1 :]
        data = objects[:limit]
        if expand_discounts:
            data = [self._expand_discounts(o, query, "expand[0]") for o in data]
        return {
            "object": "list",
            "data": data,
            "has_more": len(objects) > limit,
            "url": url,
        }

    def _session(self, form: Mapping[str, str]) -> dict[str, Any]:
        n = next(self._ids)
        flow = None
        if "flow_data[type]" in form:
            coupon = form.get(
                "flow_data[subscription_cancel][retention][coupon_offer][coupon]"
            )
            after_type = form.get(
                "flow_data[after_completion][type]", "portal_homepage"
            )
            flow = {
                "type": form["flow_data[type]"],
                "after_completion": {
                    "type": after_type,
                    "hosted_confirmation": {
                        "custom_message": form.get(
                            "flow_data[after_completion][hosted_confirmation][custom_message]"
                        )
                    }
                    if after_type == "hosted_confirmation"
                    else None,
                    "redirect": {
                        "return_url": form[
                            "flow_data[after_completion][redirect][return_url]"
                        ]
                    }
                    if after_type == "redirect"
                    else None,
                },
                "customer_update": None,
                "subscription_cancel": {
                    "subscription": form[
                        "flow_data[subscription_cancel][subscription]"
                    ],
                    "retention": None
                    if coupon is None
                    else {"type": "coupon_offer", "coupon_offer": {"coupon": coupon}},
                },
                "subscription_pause": None,
                "subscription_update": None,
                "subscription_update_confirm": None,
            }
        return {
            "id": f"bps_{n}",
            "object": "billing_portal.session",
            "after_expiration": None,
            "configuration": form.get("configuration", "bpc_default"),
            "created": NOW + n,
            "customer": form["customer"],
            "customer_account": None,
            "flow": flow,
            "livemode": False,
            "locale": form.get("locale"),
            "on_behalf_of": form.get("on_behalf_of"),
            "return_url": form.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/test_{n:04d}secret",
        }

    @staticmethod
    def _apply_config_form(config: dict[str, Any], form: Mapping[str, str]) -> None:
        cancel = config["features"]["subscription_cancel"]
        prefix = "features[subscription_cancel]"
        if f"{prefix}[enabled]" in form:
            cancel["enabled"] = form[f"{prefix}[enabled]"] == "true"
        if f"{prefix}[mode]" in form:
            cancel["mode"] = form[f"{prefix}[mode]"]
        if f"{prefix}[proration_behavior]" in form:
            cancel["proration_behavior"] = form[f"{prefix}[proration_behavior]"]
        reason = f"{prefix}[cancellation_reason]"
        if f"{reason}[enabled]" in form:
            cancel["cancellation_reason"]["enabled"] = (
                form[f"{reason}[enabled]"] == "true"
            )
        options = [v for k, v in form.items() if k.startswith(f"{reason}[options]")]
        if options:
            cancel["cancellation_reason"]["options"] = options
        if "active" in form:
            config["active"] = form["active"] == "true"
        if "default_return_url" in form:
            config["default_return_url"] = form["default_return_url"]

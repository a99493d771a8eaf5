"""The request pipeline: one HTTP request in, Stripe's answer out (strictly private).

For each request: check the API key (``sk_test_…``/``rk_test_…``, as a Bearer
token or as the Basic user name, both of which Stripe accepts; a live key is
refused), the API version, route it, decode and check the parameters
against stripe-python's TypedDict for the call, refuse what the fake does not
model, replay or refuse an idempotency key, run the operation, and answer
with the JSON body and headers stripe-python expects. Every failure is a
Stripe-shaped error; nothing ever answers ``{}`` or a bare 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from cancelflow.testing._errors import ApiError
from cancelflow.testing._expand import check_paths
from cancelflow.testing._form import decode
from cancelflow.testing._headers import Headers
from cancelflow.testing._resources import (
    coupons,
    customers,
    events,
    feedback_options,
    invoices,
    portal_configurations,
    portal_sessions,
    prices,
    products,
    subscriptions,
)
from cancelflow.testing._routing import Call, Route, check_modeled
from cancelflow.testing._schema import params_spec

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = [
    "NO_API_KEY",
    "ROUTES",
    "Router",
    "handle",
    "masked_key",
    "operation_name",
    "surface",
    "unmodeled_endpoints",
]

ROUTES: Final[tuple[Route, ...]] = (
    *customers.ROUTES,
    *products.ROUTES,
    *prices.ROUTES,
    *coupons.ROUTES,
    *subscriptions.ROUTES,
    *portal_configurations.ROUTES,
    *portal_sessions.ROUTES,
    *feedback_options.ROUTES,
    *invoices.ROUTES,
    *events.ROUTES,
)
#: Path segments that Stripe uses for endpoints of their own where the fake
#: routes an id (``GET /v1/subscriptions/search``): never taken as an id, so
#: such a request is refused as "not modeled" instead of "No such subscription".
#: ``tests/test_fake_resources.py`` checks the list against stripe-python.
RESERVED_SEGMENTS: Final = frozenset({"search"})
_TEST_KEY_PREFIXES: Final = ("sk_test_", "rk_test_")
_LIVE_KEY_PREFIXES: Final = ("sk_live_", "rk_live_")
_SEPARATORS: Final = (",", ":")
_KEY_PREFIX: Final = re.compile(r"(?:sk|rk|pk)_(?:test|live)_")
_KEPT: Final = 4
NO_API_KEY: Final = (
    "You did not provide an API key. You need to provide your API key in the "
    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
    "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
    "or we can help at https://support.stripe.com/."
)
"""Stripe's answer to a request without a key, verbatim (captured responses)."""

Answer = tuple[str, int, Headers]


class Router:
    """Method + path → route and path ids, without scanning every route."""

    def __init__(self, routes: Iterable[Route]) -> None:
        table: dict[
            tuple[str, int, str], list[tuple[Route, tuple[str | None, ...]]]
        ] = {}
        for route in routes:
            segments = route.segments
            pattern = tuple(None if s.startswith("{") else s for s in segments)
            table.setdefault((route.method, len(segments), segments[1]), []).append(
                (route, pattern)
            )
        for candidates in table.values():  # literal segments win over ids
            candidates.sort(key=lambda entry: sum(p is None for p in entry[1]))
        self._table = table

    def match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
        segments = path.split("/")[1:]
        if len(segments) < 2:
            return None
        candidates = self._table.get((method, len(segments), segments[1]))
        if candidates is None:
            return None
        for route, pattern in candidates:
            ids: list[str] = []
            for segment, expected in zip(segments, pattern, strict=True):
                if expected is None:
                    if segment in RESERVED_SEGMENTS:
                        break
                    ids.append(unquote(segment))
                elif expected != segment:
                    break
            else:
                return route, tuple(ids)
        return None


ROUTER: Final = Router(ROUTES)


def handle(
    backend: Backend,
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    post_data: str | None,
) -> Answer:
    """Answer one request the way Stripe would: ``(body, status, headers)``."""
    with backend.lock:
        request_id = backend.new_id("req")
        try:
            body, status, replayed, key = _handle(
                backend, method.lower(), url, headers or {}, post_data, request_id
            )
        except ApiError as err:
            body = json.dumps(err.body(request_id), separators=_SEPARATORS)
            status, replayed, key = err.status, False, None
    out = {
        "Request-Id": request_id,
        "Stripe-Should-Retry": "false",
        "Content-Type": "application/json",
        "Stripe-Version": backend.api_version,
    }
    if key is not None:
        out["Idempotency-Key"] = key
    if replayed:
        out["Idempotent-Replayed"] = "true"
    return body, status, Headers(out)


def _handle(  # noqa: PLR0917 - the HTTPClient call shape, plus the request id
    backend: Backend,
    method: str,
    url: str,
    raw_headers: Mapping[str, str],
    post_data: str | None,
    request_id: str,
) -> tuple[str, int, bool, str | None]:
    headers = {name.lower(): value for name, value in raw_headers.items()}
    _check_key(headers.get("authorization"))
    version = headers.get("stripe-version")
    if version is not None and version != backend.api_version:
        raise ApiError.not_modeled(
            f"API version {version}: it models {backend.api_version}, the version "
            "the installed stripe-python pins"
        )
    for name in ("Stripe-Account", "Stripe-Context"):
        if name.lower() in headers:
            raise ApiError.not_modeled(f"the {name} header (Connect and organizations)")
    query = url.partition("?")[2]
    path = _path(url)
    matched = ROUTER.match(method, path)
    if matched is None:
        raise _unrouted(method, path)
    route, ids = matched
    raw = decode((post_data or "") if method == "post" else query)
    params = params_spec(route.params).coerce(raw, None)
    check_modeled(route, params)
    if method != "get" and "expand" in params:
        _check_expand(route, params["expand"])
    key = headers.get("idempotency-key") if method == "post" else None
    call = Call(route, ids, params, request_id, key)
    for intercept in backend.interceptors:
        intercept(call)
    endpoint = f"{method.upper()} {path}"
    if key is not None:
        saved = backend.idempotency.replay(key, endpoint, params, backend.now())
        if saved is not None:
            return saved.body, saved.status, True, key
    if method == "get":  # reads change nothing: no operation, no events
        return (
            json.dumps(route.handler(backend, call), separators=_SEPARATORS),
            200,
            False,
            None,
        )
    with backend.operation(request_id=request_id, idempotency_key=key):
        try:
            result = route.handler(backend, call)
        except ApiError as err:
            if key is not None and err.stored:
                body = json.dumps(err.body(request_id), separators=_SEPARATORS)
                backend.idempotency.save(
                    key, endpoint, params, err.status, body, backend.now()
                )
            raise
        body = json.dumps(result, separators=_SEPARATORS)
        if key is not None:
            backend.idempotency.save(key, endpoint, params, 200, body, backend.now())
    return body, 200, False, key


_OBJECT_OF: Final = {
    "billing.feedback_options": "billing.feedback_option",
    "billing_portal.configurations": "billing_portal.configuration",
    "billing_portal.sessions": "billing_portal.session",
    "coupons": "coupon",
    "customers": "customer",
    "events": "event",
    "invoices": "invoice",
    "prices": "price",
    "products": "product",
    "subscriptions": "subscription",
}
"""The ``object`` each resource's writes answer with (deletes answer other shapes)."""


def _check_expand(route: Route, paths: list[str]) -> None:
    resource, _, verb = route.name.rpartition(".")
    object_name = _OBJECT_OF.get(resource)
    if object_name is not None and verb != "delete":
        check_paths(object_name, paths)


def operation_name(method: str, url: str) -> str | None:
    """The name of the operation a request calls (``None``: no route matches)."""
    path = _path(url)
    matched = ROUTER.match(method.lower(), path)
    return None if matched is None else matched[0].name


def _path(url: str) -> str:
    path = url.partition("?")[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path


def _check_key(authorization: str | None) -> None:
    if not authorization:
        raise ApiError(401, NO_API_KEY)
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() == "basic":  # curl -u sk_test_…: (the key is the user name)
        key = _basic_user(key)
    elif scheme.lower() != "bearer":
        raise ApiError(
            401, "Invalid API Key provided: use Bearer auth with a test key."
        )
    if key.startswith(_LIVE_KEY_PREFIXES):
        raise ApiError(
            401,
            "cancelflow FakeStripe refuses live-mode API keys: use a test-mode key "
            "(sk_test_… or rk_test_…).",
        )
    if not key.startswith(_TEST_KEY_PREFIXES) or len(key) <= len("sk_test_"):
        raise ApiError(401, f"Invalid API Key provided: {masked_key(key)}")


def masked_key(key: str) -> str:
    """A key as Stripe's 401 shows it: the ``sk_test_`` prefix and the last four kept.

    Every other character becomes ``*`` (``sk_test_****…abcd``), as in captured
    answers; a key with four characters or fewer after its prefix is masked whole.
    """
    match = _KEY_PREFIX.match(key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    if len(rest) <= _KEPT:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - _KEPT) + rest[-_KEPT:]


def _basic_user(credentials: str) -> str:
    """The user name of HTTP Basic credentials (Stripe takes the key there)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


def _unrouted(method: str, path: str) -> ApiError:
    for known_method, pattern, template in _stripe_endpoints():
        if known_method == method and pattern.fullmatch(path):
            return ApiError.not_modeled(f"{method.upper()} {template}")
    return ApiError(
        404,
        f"Unrecognized request URL ({method.upper()}: {path}). Stripe's API "
        "reference lists the endpoints: https://docs.stripe.com/api",
    )


def surface() -> list[tuple[str, list[str], list[str], list[str]]]:
    """For the docs: per modeled endpoint, which of Stripe's parameters the fake models.

    Each entry is ``(endpoint, modeled, partly_modeled, refused)``, with
    top-level parameter names. A refused parameter (or a refused part of a
    partly modeled one, such as ``items[0][price_data]``) is answered with
    "cancelflow FakeStripe does not model …".
    """
    rows = []
    for route in ROUTES:
        accepted = list(params_spec(route.params).fields)
        spec = route.spec or dict.fromkeys(accepted, True)
        rows.append(
            (
                route.endpoint,
                [name for name in accepted if spec.get(name) is True],
                [name for name in accepted if isinstance(spec.get(name), dict)],
                [name for name in accepted if name not in spec],
            )
        )
    return rows


def unmodeled_endpoints() -> list[str]:
    """For the docs: stripe-python's v1 endpoints the fake does not model."""
    routed = {route.endpoint for route in ROUTES}
    out = []
    for method, _pattern, template in _stripe_endpoints():
        endpoint = f"{method.upper()} {template}"
        matched = ROUTER.match(method, re.sub(r"\{[^}]*\}", "x", template))
        if endpoint not in routed and matched is None:
            out.append(endpoint)
    return out


_ENDPOINT: Final = re.compile(
    r'_request(?:_async)?\(\s*"(get|post|delete)",\s*"(/v1/[^"]*)"'
)


@cache
def _stripe_endpoints() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """Every v1 endpoint stripe-python's services call (read from its source, once)."""
    found: set[tuple[str, str]] = set()
    root = resources.files("stripe")
    stack: list[Any] = [root]
    while stack:
        entry = stack.pop()
        if entry.is_dir():
            if entry.name not in ("params", "__pycache__"):
                stack.extend(entry.iterdir())
        elif entry.name.endswith("_service.py"):
            found.update(_ENDPOINT.findall(entry.read_text(encoding="utf-8")))
    return tuple(
        (
            method,
            re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))),
            template,
        )
        for method, template in sorted(found)
    )

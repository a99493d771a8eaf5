"""Routes: which operations the fake models, and which of their parameters (strictly private).

A `Route` ties an HTTP method and path template to the stripe-python
params TypedDict that says what the call accepts (see ``_schema``), to a
handler, and to the parameters the handler models. A parameter Stripe accepts
but the fake does not model is refused with a message that names it, never
silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import attrs

from cancelflow.testing._errors import ApiError

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ALL", "Call", "Handler", "Route", "check_modeled", "compile_modeled"]

JSON = dict[str, Any]
Handler = Callable[["Backend", "Call"], JSON]
ALL: Final = ("*",)

ModelSpec = dict[str, Any]  # name → True (all of it) or a nested ModelSpec


@attrs.frozen
class Route:
    """One modeled operation.

    Attributes:
        method: ``get``, ``post`` or ``delete``.
        path: the path template, ``/v1/subscriptions/{subscription}``.
        params: the stripe-python params TypedDict (``"SubscriptionUpdateParams"``,
            ``"billing_portal.SessionCreateParams"``).
        handler: ``handler(backend, call) -> JSON``.
        name: the operation's name, ``subscriptions.update`` (used by fault injection).
        modeled: the modeled parameters as dotted paths (``items.price``); ``*``
            for all. ``expand`` is always modeled.
    """

    method: str
    path: str
    params: str
    handler: Handler = attrs.field(repr=False)
    name: str
    modeled: tuple[str, ...] = ALL
    spec: ModelSpec | None = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "spec", compile_modeled(self.modeled))

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def endpoint(self) -> str:
        return f"{self.method.upper()} {self.path}"


class Call:
    """One request to a route: path ids, checked parameters, request facts."""

    __slots__ = ("idempotency_key", "ids", "params", "request_id", "route")

    def __init__(
        self,
        route: Route,
        ids: tuple[str, ...],
        params: JSON,
        request_id: str | None,
        idempotency_key: str | None,
    ) -> None:
        self.route = route
        self.ids = ids
        self.params = params
        self.request_id = request_id
        self.idempotency_key = idempotency_key

    @property
    def id(self) -> str:
        """The (first) id in the path."""
        return self.ids[0]

    @property
    def expand(self) -> list[str]:
        value: list[str] = self.params.get("expand", [])
        return value


def compile_modeled(paths: tuple[str, ...]) -> ModelSpec | None:
    """``("items.price", "metadata")`` → ``{"items": {"price": True}, "metadata": True}``."""
    if "*" in paths:
        return None
    spec: ModelSpec = {"expand": True}
    for path in paths:
        node = spec
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is True:
                break
            if child is None:
                child = node[part] = {}
            node = child
        else:
            node[parts[-1]] = True
    return spec


def check_modeled(route: Route, params: JSON) -> None:
    """Refuse, naming it, the first parameter the route does not model."""
    if route.spec is not None:
        _check(route, route.spec, params, None)


def _check(route: Route, spec: ModelSpec, params: JSON, path: str | None) -> None:
    for key, value in params.items():
        where = key if path is None else f"{path}[{key}]"
        sub = spec.get(key)
        if sub is None:
            raise ApiError.not_modeled(
                f"the parameter {where} of {route.endpoint}", param=where
            )
        if sub is True:
            continue
        if isinstance(value, dict):
            _check(route, sub, value, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    _check(route, sub, item, f"{where}[{i}]")

"""``expand[]``: replace ids by objects, and add includable fields (strictly private).

``expand=["discounts", "items.data.price.product"]`` walks each dotted path
through the rendered object (lists are walked element by element, so list
pages use ``data.…``), replacing the id at the end by the object it names. An
id met halfway is expanded too, as Stripe requires. Some fields are
*includable*: Stripe leaves them out unless they are expanded
(``coupon.applies_to``, ``customer.subscriptions``); the resource store adds
them. Nothing is mutated: the path is copied on the way down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cancelflow.testing._errors import ApiError

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["expand"]

JSON = dict[str, Any]
_MAX_DEPTH: Final = 4


def expand(backend: Backend, obj: JSON, paths: list[str]) -> JSON:
    """*obj* with every path in *paths* expanded."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > _MAX_DEPTH + (parts[0] == "data"):
            raise ApiError.invalid(
                f"You cannot expand more than {_MAX_DEPTH} levels of a property. "
                f"Property: {path}",
                param="expand",
            )
        obj = _walk(backend, obj, parts, path)
    return obj


def _walk(backend: Backend, node: Any, parts: list[str], path: str) -> Any:
    if node is None:
        return None
    if isinstance(node, list):
        return [_walk(backend, item, parts, path) for item in node]
    if not isinstance(node, dict):
        raise ApiError.invalid(
            f"This property cannot be expanded ({path}).", param="expand"
        )
    key = parts[0]
    if key in node:
        value = node[key]
    else:
        value = backend.include(node, key)
        if value is _NOT_INCLUDABLE:
            raise ApiError.invalid(
                f"This property cannot be expanded ({path}).", param="expand"
            )
    value = _resolve(backend, value, key)
    if len(parts) > 1:
        value = _walk(backend, value, parts[1:], path)
    return {**node, key: value}


def _resolve(backend: Backend, value: Any, field: str) -> Any:
    if isinstance(value, str):
        return backend.lookup(value, field)
    if isinstance(value, list):
        return [_resolve(backend, item, field) for item in value]
    return value


class _NotIncludable:
    """Marker: the object has no such includable field."""


_NOT_INCLUDABLE: Final = _NotIncludable()
NOT_INCLUDABLE = _NOT_INCLUDABLE

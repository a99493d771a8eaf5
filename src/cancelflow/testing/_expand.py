"""``expand[]``: replace ids by objects, and add includable fields (strictly private).

``expand=["discounts", "items.data.price.product"]`` walks each dotted path
through the rendered object (lists are walked element by element, so list
pages use ``data.…``), replacing the id at the end by the object it names. An
id met halfway is expanded too, as Stripe requires. Some fields are
*includable*: Stripe leaves them out unless they are expanded
(``coupon.applies_to``, ``customer.subscriptions``); the resource store adds
them. Nothing is mutated: the path is copied on the way down.

Only an *expandable* field can end a path: one that stripe-python declares as
``ExpandableField`` (an id or the object it names, ``Union[str, Customer]``),
an object that holds such fields (``items``, ``cancellation_details``: what
Stripe's spec lists as ``x-expandableFields``), or an includable one.
Anything else — ``metadata``, ``status``, ``plan`` — is refused with Stripe's
one message, "This property cannot be expanded (metadata)." (the whole path
in the parentheses). Objects and lists are walked through on the way
(``items.data.price.product``).
"""

from __future__ import annotations

import importlib
import types
import typing
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal, Union, get_args, get_origin

from cancelflow.testing._errors import ApiError

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["INCLUDABLE", "check_paths", "expand"]

JSON = dict[str, Any]
_MAX_DEPTH: Final = 4
INCLUDABLE: Final[dict[str, frozenset[str]]] = {
    "coupon": frozenset({"applies_to", "currency_options"}),
    "customer": frozenset(
        {
            "cash_balance",
            "invoice_credit_balance",
            "sources",
            "subscriptions",
            "tax_ids",
        }
    ),
    "price": frozenset({"currency_options", "tiers"}),
}
"""Fields Stripe leaves out of an object unless they are expanded (each store adds them)."""


def check_paths(object_name: str, paths: list[str]) -> None:
    """Refuse, before a write runs, a path stripe-python's classes say cannot be expanded.

    Stripe checks ``expand`` before it executes a request, so a refused path
    changes nothing. This check reads only the classes (the objects may not
    exist yet); where a class is unknown it lets the path through, and the
    walk over the answer (:func:`expand`) decides.
    """
    for path in paths:
        parts = path.split(".")
        cls = _object_class(object_name)
        name: str | None = object_name
        for i, key in enumerate(parts):
            if cls is None:
                break
            kind, child = _field(cls, key)
            if key == "data" and kind is None and i < len(parts) - 1:
                continue  # a list object's data: its items are of the class at hand
            includable = name is not None and key in INCLUDABLE.get(name, ())
            if kind is None and not includable:
                raise _refused(path)
            if i == len(parts) - 1 and not (includable or _expandable(kind, child)):
                raise _refused(path)
            cls = child
            name = None if child is None else _object_name(child)


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
        obj = _walk(backend, obj, parts, path, None)
    return obj


def _refused(path: str) -> ApiError:
    return ApiError.invalid(
        f"This property cannot be expanded ({path}).", param="expand"
    )


def _walk(
    backend: Backend, node: Any, parts: list[str], path: str, cls: type | None
) -> Any:
    if node is None:
        return None
    if isinstance(node, list):
        return [_walk(backend, item, parts, path, cls) for item in node]
    if not isinstance(node, dict):
        raise _refused(path)
    object_name = node.get("object")
    if isinstance(object_name, str):
        cls = _object_class(object_name)
    key = parts[0]
    last = len(parts) == 1
    kind, child = _field(cls, key)
    if key in node:
        value = node[key]
        if kind == _ID or (kind is None and isinstance(value, str | list)):
            value = _resolve(backend, value, key)
        elif (last and not _expandable(kind, child)) or not isinstance(
            value, dict | list | None
        ):
            raise _refused(path)  # not expandable, and nothing to walk through
    else:
        value = backend.include(node, key)
        if value is _NOT_INCLUDABLE:
            raise _refused(path)
    if not last:
        value = _walk(backend, value, parts[1:], path, child)
    return {**node, key: value}


def _resolve(backend: Backend, value: Any, field: str) -> Any:
    if isinstance(value, str):
        return backend.lookup(value, field)
    if isinstance(value, list):
        return [_resolve(backend, item, field) for item in value]
    return value


_ID: Final = "id"
"""An expandable field: an id, or the object it names."""
_OTHER: Final = "other"
"""Anything else: scalars, enums, hashes, lists, nested objects."""


@cache
def _object_class(object_name: str) -> type | None:
    """stripe-python's class for an ``object`` value (``None`` if it has none)."""
    from stripe._object_classes import OBJECT_CLASSES

    entry = OBJECT_CLASSES.get(object_name)
    return None if entry is None else _load(*entry)


@cache
def _object_name(cls: type) -> str | None:
    """The ``object`` value of a stripe-python resource class (``None`` for nested ones)."""
    from stripe._object_classes import OBJECT_CLASSES

    for object_name, (module, attr) in OBJECT_CLASSES.items():
        if attr == cls.__name__ and module == cls.__module__:
            return object_name
    return None


def _load(module: str, name: str) -> type:
    found: type = getattr(importlib.import_module(module), name)
    return found


@cache
def _class_named(name: str) -> type | None:
    """A stripe-python resource class by its name (``"Price"``), for forward references."""
    from stripe._object_classes import OBJECT_CLASSES

    for module, attr in OBJECT_CLASSES.values():
        if attr == name:
            return _load(module, attr)
    return None


def _class_of(annotation: Any) -> type | None:
    """The stripe class an annotation names: a class, a forward reference, a generic.

    For a ``ListObject["SubscriptionItem"]`` it is the class of the items.
    """
    if isinstance(annotation, typing.ForwardRef):
        return _class_named(annotation.__forward_arg__)
    if isinstance(annotation, str):
        return _class_named(annotation)
    origin = get_origin(annotation)
    if origin is not None and origin not in (list, Union, types.UnionType, Literal):
        args = get_args(annotation)
        item = _class_of(args[0]) if args else None  # ListObject["SubscriptionItem"]
        return item if item is not None else _class_of(origin)
    return annotation if isinstance(annotation, type) else None


@cache
def _field(cls: type | None, key: str) -> tuple[str | None, type | None]:
    """``(kind, class of its value)`` of field *key* of *cls*; ``(None, None)`` if unknown."""
    if cls is None:
        return None, None
    annotation: Any = None
    for klass in cls.__mro__:
        annotation = vars(klass).get("__annotations__", {}).get(key)
        if annotation is not None:
            break
    else:
        return None, None
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation) or (None,)
    options = (
        get_args(annotation)
        if get_origin(annotation) in (Union, types.UnionType)
        else (annotation,)
    )
    options = tuple(o for o in options if o is not type(None))
    if str in options and any(
        o is not str and get_origin(o) is not Literal for o in options
    ):
        return _ID, _class_of(next(o for o in options if o is not str))
    nested = [c for c in map(_class_of, options) if c is not None and c is not str]
    return _OTHER, nested[0] if len(nested) == 1 else None


@cache
def _holds_expandable(cls: type, depth: int = 3) -> bool:
    """Whether objects of *cls* hold an expandable field (Stripe's ``x-expandableFields``)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("stripe"):
            continue
        for name in vars(klass).get("__annotations__", {}):
            if name.startswith("_"):
                continue
            kind, child = _field(cls, name)
            if kind == _ID:
                return True
            if child is not None and depth and _holds_expandable(child, depth - 1):
                return True
    return False


def _expandable(kind: str | None, child: type | None) -> bool:
    """Whether a field may end an ``expand`` path: an id, or an object holding ids."""
    return kind == _ID or (child is not None and _holds_expandable(child))


class _NotIncludable:
    """Marker: the object has no such includable field."""


_NOT_INCLUDABLE: Final = _NotIncludable()
NOT_INCLUDABLE = _NOT_INCLUDABLE

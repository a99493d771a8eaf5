"""Accepted parameters, derived from stripe-python's own params TypedDicts (strictly private).

stripe-python's ``stripe.params`` TypedDicts are generated from Stripe's
OpenAPI spec for the API version the SDK pins, so they say which parameters
each call accepts, which are required, which enum values and which types
they take, and where ``""`` (Stripe's "unset") is allowed. This module walks
them once per operation (``typing.get_type_hints(..., include_extras=True)``),
keeps the result, and checks and coerces the decoded form parameters of each
request against it: unknown parameter → ``parameter_unknown``, missing one →
``parameter_missing``, bad enum or type → ``Invalid …``, all with ``param`` in
form notation.

Enums are closed: stripe-python types most of them ``Literal[...] | str``
(forward compatibility for the SDK), but Stripe's server refuses a value it
does not know, so the fake does too.
"""

from __future__ import annotations

import decimal
import importlib
import math
import re
import types
import typing
from typing import (
    Any,
    Final,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
)

import typing_extensions

from cancelflow.testing._errors import ApiError

__all__ = ["Node", "ObjSpec", "params_spec", "request_option_keys"]

_INT: Final = re.compile(r"-?\d+")
_SPECS: dict[str, ObjSpec] = {}


def request_option_keys() -> frozenset[str]:
    """The keys of stripe-python's ``RequestOptions``: the params TypedDicts
    inherit them, but they are options of a call, not form fields of a request.
    Read from the installed stripe-python (the gateway reads them the same way).
    """
    from stripe import RequestOptions

    return RequestOptions.__required_keys__ | RequestOptions.__optional_keys__


def params_spec(ref: str) -> ObjSpec:
    """The checked parameters of one operation, e.g. ``"SubscriptionUpdateParams"``.

    *ref* is a name exported by ``stripe.params`` or a dotted
    ``stripe.params.<namespace>.<Name>`` path. Compiled lazily and cached
    for the process: the schema only depends on the installed stripe.
    """
    spec = _SPECS.get(ref)
    if spec is None:
        module_name, _, name = ref.rpartition(".")
        module = importlib.import_module(
            "stripe.params" + (f".{module_name}" if module_name else "")
        )
        spec = ObjSpec(getattr(module, name), exclude=request_option_keys())
        _SPECS[ref] = spec
    return spec


class ObjSpec:
    """A TypedDict's fields, compiled on first use (nested specs stay lazy)."""

    __slots__ = ("_exclude", "_fields", "_required", "typeddict")

    def __init__(
        self, typeddict: type, *, exclude: frozenset[str] = frozenset()
    ) -> None:
        self.typeddict = typeddict
        self._exclude = exclude
        self._fields: dict[str, Node] | None = None
        self._required: tuple[str, ...] = ()

    @property
    def fields(self) -> dict[str, Node]:
        """Field name → node, in the TypedDict's declaration order."""
        if self._fields is None:
            hints = _hints(self.typeddict, self._exclude)
            required_keys: frozenset[str] = getattr(
                self.typeddict, "__required_keys__", frozenset()
            )
            fields: dict[str, Node] = {}
            required: list[str] = []
            for name, annotation in hints.items():
                fields[name] = Node.of(annotation)
                if name in required_keys:
                    required.append(name)
            self._required = tuple(required)
            self._fields = fields
        return self._fields

    @property
    def required(self) -> tuple[str, ...]:
        _ = self.fields
        return self._required

    def coerce(self, value: dict[str, Any], path: str | None) -> dict[str, Any]:
        fields = self.fields
        out: dict[str, Any] = {}
        for key, item in value.items():
            where = key if path is None else f"{path}[{key}]"
            node = fields.get(key)
            if node is None:
                raise ApiError.unknown_parameter(where)
            out[key] = node.coerce(item, where)
        for key in self._required:
            if key not in value:
                raise ApiError.missing_parameter(
                    key if path is None else f"{path}[{key}]"
                )
        return out


def _hints(typeddict: type, exclude: frozenset[str]) -> dict[str, Any]:
    """``get_type_hints`` of a TypedDict's keys, minus *exclude*.

    The excluded request-option keys name types stripe-python imports only for
    type checkers, so they are dropped before anything is evaluated.
    """
    holder = type(
        typeddict.__name__,
        (),
        {
            "__module__": typeddict.__module__,
            "__annotations__": {
                k: v for k, v in typeddict.__annotations__.items() if k not in exclude
            },
        },
    )
    return typing.get_type_hints(holder, include_extras=True)


class Node:
    """What one parameter accepts: a union of kinds from its annotation."""

    __slots__ = (
        "any_ok",
        "bool_ok",
        "empty_ok",
        "enum",
        "float_ok",
        "int_ok",
        "list_item",
        "map_value",
        "obj",
        "str_ok",
    )

    def __init__(self) -> None:
        self.empty_ok = False
        self.enum: frozenset[str] = frozenset()
        self.str_ok = False
        self.int_ok = False
        self.float_ok = False
        self.bool_ok = False
        self.any_ok = False
        self.list_item: Node | None = None
        self.map_value: Node | None = None
        self.obj: ObjSpec | None = None

    @classmethod
    def of(cls, annotation: Any) -> Node:
        node = cls()
        node._add(annotation)
        if node.enum:
            node.str_ok = False  # closed enum: see the module docstring
        return node

    def _add(self, annotation: Any) -> None:
        origin = get_origin(annotation)
        if origin in (NotRequired, Required):
            self._add(get_args(annotation)[0])
        elif origin is Union or origin is types.UnionType:
            for member in get_args(annotation):
                self._add(member)
        elif origin is Literal:
            for value in get_args(annotation):
                if value == "":
                    self.empty_ok = True
                elif isinstance(value, str):
                    self.enum |= {value}
                else:  # pragma: no cover - stripe-python has only string literals
                    self.any_ok = True
        elif annotation is type(None):
            pass
        elif annotation is str:
            self.str_ok = True
        elif annotation is bool:
            self.bool_ok = True
        elif annotation is int:
            self.int_ok = True
        elif annotation in (float, decimal.Decimal):
            self.float_ok = True
        elif origin is list:
            self.list_item = Node.of(get_args(annotation)[0])
        elif origin is dict or getattr(origin, "__name__", "") == "UntypedStripeObject":
            value = Node.of(get_args(annotation)[-1])
            if value.str_ok:  # metadata: "" unsets one key
                value.empty_ok = True
            self.map_value = value
        elif typing_extensions.is_typeddict(annotation):
            self.obj = ObjSpec(annotation)
        else:  # Any, or a form this module does not know: accept as sent
            self.any_ok = True

    def coerce(self, value: Any, path: str) -> Any:
        """Check one decoded value and turn it into the type the schema says."""
        if isinstance(value, str):
            return self._coerce_str(value, path)
        if isinstance(value, dict):
            if self.obj is not None:
                return self.obj.coerce(value, path)
            if self.map_value is not None:
                node = self.map_value
                return {k: node.coerce(v, f"{path}[{k}]") for k, v in value.items()}
            if self.list_item is not None and all(k.isdigit() for k in value):
                return self.coerce([value[k] for k in sorted(value, key=int)], path)
        elif isinstance(value, list):
            if self.list_item is not None:
                item = self.list_item
                return [
                    item.coerce(v, f"{path}[{i}]")
                    for i, v in enumerate(value)
                    if v is not None
                ]
            if self.map_value is not None:
                return self.coerce(
                    {str(i): v for i, v in enumerate(value) if v is not None}, path
                )
        if self.any_ok:
            return value
        raise ApiError.invalid_value(path, self._kind(), value)

    def _coerce_str(self, value: str, path: str) -> Any:
        if value == "":
            if self.empty_ok or self.any_ok:
                return ""
            raise ApiError.invalid_empty(path)
        if value in self.enum:
            return value
        if self.int_ok and _INT.fullmatch(value):
            return int(value)
        if self.float_ok:
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
        if self.bool_ok and value in ("true", "false"):
            return value == "true"
        if self.str_ok or self.any_ok:
            return value
        if self.int_ok:
            raise ApiError.invalid_integer(path, value)
        if self.enum:
            raise ApiError.invalid_enum(path, self.enum)
        raise ApiError.invalid_value(path, self._kind(), value)

    def _kind(self) -> str:
        if self.list_item is not None:
            return "array"
        if self.obj is not None:
            return "object"
        if self.map_value is not None:
            return "hash"
        if self.bool_ok:
            return "boolean"
        if self.float_ok:
            return "decimal"
        if self.int_ok:
            return "integer"
        return "string"

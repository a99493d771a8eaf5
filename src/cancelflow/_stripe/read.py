"""Read Stripe-shaped JSON with clear errors instead of ``KeyError``/``TypeError``.

Strictly private. Every model's ``from_stripe`` goes through `Obj`, so any
input either parses or raises `StripeObjectError`
naming the path of the bad field. Nothing here imports ``stripe``: a
stripe-python ``StripeObject`` is recognised by its ``to_dict`` method.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cancelflow._typing import final
from cancelflow.exceptions import StripeObjectError

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import enum
    from typing import Any, Final, TypeVar

    _E = TypeVar("_E", bound=enum.StrEnum)

_MISSING: Final = object()


_EMPTY_MAP: Final[Mapping[str, Any]] = MappingProxyType({})


def frozen_map(mapping: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy of a string map (converter of frozen models' metadata).

    Empty maps share one read-only empty map: most objects have no metadata,
    and a backtest builds a million snapshots.
    """
    if not mapping:
        return _EMPTY_MAP
    return MappingProxyType(dict(mapping))


def frozen_int_map(mapping: Mapping[str, int]) -> Mapping[str, int]:
    """A read-only copy of a map of integers."""
    return MappingProxyType(dict(mapping))


def to_member(kind: type[_E], value: str, path: str) -> _E:
    """*value* as a member of the string enum *kind*; an unknown value raises
    `StripeObjectError` naming *path*."""
    try:
        return kind(value)
    except ValueError:
        raise StripeObjectError(path, f"unknown value {value!r}") from None


def plain(value: object) -> object:
    """Return *value* as plain JSON data (a ``StripeObject`` becomes a dict)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, Mapping):
        return to_dict()
    return value


def describe(value: object) -> str:
    """Name a JSON value's type the way a reader of the error expects."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


@final
class Obj:
    """A JSON object plus where it sits, with typed accessors.

    Required accessors raise when the key is missing; ``opt_*`` accessors treat a
    missing key like ``null`` (fields differ between API versions).

    Fast paths: each accessor first accepts a value whose exact type is the
    expected JSON type (``type(v) is str``…), the case of every well-formed
    webhook, and leaves everything else (``None``, booleans, subclasses, a
    ``StripeObject``, wrong types) to the general checks below it, which give
    the same result. ``tests/test_read.py`` checks both paths agree.
    """

    __slots__ = ("data", "path")

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    @classmethod
    def of(cls, value: object, path: str) -> Obj:
        """Wrap *value*, which must be a mapping or a ``StripeObject``."""
        if type(value) is dict:  # fast path
            return cls(value, path)
        value = plain(value)
        if not isinstance(value, Mapping):
            raise StripeObjectError(path, f"expected an object, got {describe(value)}")
        return cls(value, path)

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, *, required: bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise StripeObjectError(self.where(key), "missing")
            return None
        return value

    def _typed(
        self, key: str, kind: type | tuple[type, ...], name: str, *, required: bool
    ) -> Any:
        value = self._get(key, required=required)
        if value is None:
            if required:
                raise StripeObjectError(self.where(key), f"expected {name}, got null")
            return None
        if isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,)
        ):
            raise StripeObjectError(self.where(key), f"expected {name}, got a boolean")
        if not isinstance(value, kind):
            raise StripeObjectError(
                self.where(key), f"expected {name}, got {describe(value)}"
            )
        return value

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if type(value) is str:  # fast path
            return value
        result: str = self._typed(key, str, "a string", required=True)
        return result

    def member(self, key: str, kind: type[_E]) -> _E:
        """A required string that must be a member of the enum *kind*."""
        return to_member(kind, self.string(key), self.where(key))

    def opt_string(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or type(value) is str:  # fast path (None: missing or null)
            return value
        result: str | None = self._typed(key, str, "a string", required=False)
        return result

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if type(value) is int:  # fast path (a bool is not exactly an int)
            return value
        result: int = self._typed(key, int, "an integer", required=True)
        return result

    def opt_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or type(value) is int:  # fast path
            return value
        result: int | None = self._typed(key, int, "an integer", required=False)
        return result

    def opt_number(self, key: str) -> float | None:
        value = self._typed(key, (int, float), "a number", required=False)
        return None if value is None else float(value)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self.data.get(key)
        if type(value) is bool:  # fast path
            return value
        result = self._typed(key, bool, "a boolean", required=default is None)
        return default if result is None and default is not None else bool(result)

    def obj(self, key: str) -> Obj:
        found = self.data.get(key)
        if type(found) is dict:  # fast path
            return Obj(found, f"{self.path}.{key}" if self.path else key)
        value = plain(self._get(key, required=True))
        if not isinstance(value, Mapping):
            raise StripeObjectError(
                self.where(key), f"expected an object, got {describe(value)}"
            )
        return Obj(value, self.where(key))

    def opt_obj(self, key: str) -> Obj | None:
        found = self.data.get(key)
        if found is None:  # fast path (missing or null)
            return None
        if type(found) is dict:  # fast path
            return Obj(found, f"{self.path}.{key}" if self.path else key)
        value = plain(self._get(key, required=False))
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise StripeObjectError(
                self.where(key), f"expected an object, got {describe(value)}"
            )
        return Obj(value, self.where(key))

    def array(self, key: str) -> list[Any]:
        """A JSON list; a missing key or ``null`` is an empty list."""
        value = plain(self._get(key, required=False))
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise StripeObjectError(
                self.where(key), f"expected a list, got {describe(value)}"
            )
        return [plain(v) for v in value]

    def objs(self, key: str) -> list[Obj]:
        """A JSON list of objects."""
        where = self.where(key)
        return [Obj.of(v, f"{where}[{i}]") for i, v in enumerate(self.array(key))]

    def id_of(self, key: str) -> str:
        """An expandable field: an id string, or an object carrying an ``id``."""
        result = self.opt_id_of(key)
        if result is None:
            raise StripeObjectError(self.where(key), "expected an id, got null")
        return result

    def opt_id_of(self, key: str) -> str | None:
        found = self.data.get(key)
        if found is None or type(found) is str:  # fast path
            return found
        value = plain(self._get(key, required=False))
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            return Obj(value, self.where(key)).string("id")
        raise StripeObjectError(
            self.where(key), f"expected an id or an object, got {describe(value)}"
        )

    def str_map(self, key: str) -> dict[str, str]:
        """A ``metadata``-like map of strings; missing or ``null`` is empty."""
        value = plain(self._get(key, required=False))
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise StripeObjectError(
                self.where(key), f"expected an object, got {describe(value)}"
            )
        out: dict[str, str] = {}
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise StripeObjectError(
                    f"{self.where(key)}.{k}", f"expected a string, got {describe(v)}"
                )
            out[k] = v
        return out

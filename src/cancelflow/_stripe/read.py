"""Read Stripe-shaped JSON with clear errors instead of ``KeyError``/``TypeError``.

Strictly private. Every model's ``from_stripe`` goes through `Obj`, so any
input either parses or raises `StripeObjectError`
naming the path of the bad field. Nothing here imports ``stripe``: a
stripe-python ``StripeObject`` is recognised by its ``to_dict`` method.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType

from cancelflow._typing import final
from cancelflow.exceptions import StripeObjectError

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, Self, TypeVar

    _E = TypeVar("_E", bound=enum.StrEnum)

_MISSING: Final = object()

#: Every Stripe integer (amounts, quantities, unix times) is a signed 64-bit
#: number, and so is every integer column of the ledger's stores.
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# Text no store can keep: U+0000 (PostgreSQL refuses it in text and JSONB) and
# lone surrogates (not Unicode text at all: they cannot be encoded as UTF-8).
_UNSTORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")

#: The longest unknown enum value read as a value (Stripe's are short words).
MAX_ENUM_LENGTH: Final = 255


def unstorable(text: str) -> str | None:
    """Describe the first character of *text* that no ledger store can keep
    (U+0000, or a lone surrogate), or ``None``."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    code = ord(found[0])
    return "U+0000" if code == 0 else f"a lone surrogate (U+{code:04X})"


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def storable_text(text: str) -> str:
    """*text* with each U+0000 and lone surrogate written as its JSON escape
    (the six characters ``\\u0000``, ``\\ud800``): free text the customer
    typed stays readable and every store keeps it exactly."""
    return _UNSTORABLE.sub(_escape, text)


def out_of_range(value: int) -> bool:
    """Whether *value* does not fit a signed 64-bit integer."""
    return not INT64_MIN <= value <= INT64_MAX


def _range_error(path: str) -> StripeObjectError:
    return StripeObjectError(
        path,
        "outside the range of a signed 64-bit integer (−2⁶³ … 2⁶³−1), which every "
        "Stripe integer fits and every ledger store needs",
    )


class StripeEnum(enum.StrEnum):
    """A Stripe enum whose values Stripe adds to over time.

    :meth:`from_wire` reads an unknown value as a value of the enum rather than
    an error: a member whose ``value`` is the raw string, whose ``name`` is
    ``"UNKNOWN"`` and whose :attr:`known` is ``False``. It compares equal to
    its string, pickles and round-trips through JSON and the ledgers. Calling
    the class (``SubscriptionStatus("x")``) stays strict, for values that a
    person typed.
    """

    @classmethod
    def from_wire(cls, value: str) -> Self:
        """The member for *value*, or an unknown member carrying it."""
        member = cls._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]
        unknown = str.__new__(cls, value)
        unknown._name_ = "UNKNOWN"
        unknown._value_ = value
        return unknown

    @property
    def known(self) -> bool:
        """Whether this is one of the values cancelflow knows (not a newer one)."""
        return self._value_ in type(self)._value2member_map_

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        return _from_wire, (type(self), self._value_)


def _from_wire(kind: type[StripeEnum], value: str) -> StripeEnum:
    """Unpickle a :class:`StripeEnum` value, known or not."""
    return kind.from_wire(value)


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
    """*value* as a member of the string enum *kind*.

    For a `StripeEnum` an unknown value is kept as a value (see
    `StripeEnum.from_wire`) unless it cannot be read as one (empty, too long,
    or holding text no store can keep); for other enums it raises.

    Raises:
        StripeObjectError: *value* cannot be read as a member; the message
            names *path*.
    """
    if type(value) is str:  # fast path: a known value
        member = kind._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]
    try:
        return kind(value)
    except ValueError:
        pass
    if issubclass(kind, StripeEnum):
        problem = unstorable(value)
        if value and len(value) <= MAX_ENUM_LENGTH and problem is None:
            return kind.from_wire(value)
        raise StripeObjectError(
            path,
            f"contains {problem}" if problem else "not a readable enum value",
        ) from None
    raise StripeObjectError(path, f"unknown value {value!r}") from None


_JSON_TYPES: Final = frozenset({dict, list, str, int, float, bool, type(None)})


def plain(value: object) -> object:
    """Return *value* as plain JSON data (a ``StripeObject`` becomes a dict)."""
    if type(value) in _JSON_TYPES:  # fast path: what json.loads gives
        return value
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

    def check_object(self, kind: str) -> None:
        """Refuse an object whose ``object`` field names another kind than
        *kind* (``"subscription"``); one without the field passes."""
        found = self.opt_string("object")
        if found is not None and found != kind:
            raise StripeObjectError(
                self.where("object"), f"expected {kind!r}, got {found!r}"
            )

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
        return self.member_of(key, self.string(key), kind)

    def member_of(self, key: str, value: str, kind: type[_E]) -> _E:
        """*value*, read from *key*, as a member of *kind* (`to_member`; the
        path for an error is built only when there is one)."""
        found = kind._value2member_map_.get(value)  # fast path: a known value
        if found is not None:
            return found  # type: ignore[return-value]
        return to_member(kind, value, self.where(key))

    def opt_string(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or type(value) is str:  # fast path (None: missing or null)
            return value
        result: str | None = self._typed(key, str, "a string", required=False)
        return result

    def integer(self, key: str) -> int:
        """A required integer, refused outside the signed 64-bit range."""
        value = self.data.get(key)
        if type(value) is int and INT64_MIN <= value <= INT64_MAX:  # fast path
            return value  # (a bool is not exactly an int)
        result: int = self._typed(key, int, "an integer", required=True)
        if out_of_range(result):
            raise _range_error(self.where(key))
        return result

    def opt_integer(self, key: str) -> int | None:
        """An integer or ``None``, refused outside the signed 64-bit range."""
        value = self.data.get(key)
        if value is None:  # fast path
            return None
        if type(value) is int and INT64_MIN <= value <= INT64_MAX:  # fast path
            return value
        result: int | None = self._typed(key, int, "an integer", required=False)
        if result is not None and out_of_range(result):
            raise _range_error(self.where(key))
        return result

    def opt_number(self, key: str) -> float | None:
        value = self._typed(key, (int, float), "a number", required=False)
        return None if value is None else float(value)

    def opt_percent(self, key: str) -> float | None:
        """A percentage from 0 to 100 (a coupon's ``percent_off``) or ``None``;
        anything else (negative, above 100, NaN, infinite) is refused."""
        value = self._typed(key, (int, float), "a number", required=False)
        if value is None:
            return None
        if not 0 <= value <= 100:  # (NaN fails it too)
            raise StripeObjectError(
                self.where(key),
                f"{value!r} is not a percentage from 0 to 100, as Stripe's always is",
            )
        return float(value)

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

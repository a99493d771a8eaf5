"""The kinds of value a declared portal configuration holds, checked one way.

Each field of a model class (`cancelflow._portal_config.model`) carries a
`Kind` in its ``attrs`` metadata. The kind checks a value given in Python
(`Kind.check`) or read from a file (`Kind.load`), turns it into the
model's form (enum members, frozensets, tuples, nested models) and back into
plain data (`Kind.dump`: what a TOML file and a diff hold). Every refusal
is a `PortalConfigInvalidError` whose ``key_path``
names the key, so that a model built by hand and a file read from disk fail
with the same words.

``None`` always means "not declared": the field is left alone.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, Self

import attrs

from cancelflow._toml import at, describe, join
from cancelflow.exceptions import PortalConfigInvalidError

__all__ = [
    "Bool",
    "Choice",
    "ChoiceSet",
    "Int",
    "Kind",
    "Nested",
    "NestedList",
    "Spec",
    "Text",
    "TextList",
    "TextMap",
    "refuse",
    "spec_field",
]

#: Stripe's integers are 64-bit, and so are TOML's.
INT_MAX: Final = 2**63 - 1
#: The longest string Stripe's specification allows in these objects.
TEXT_MAX: Final = 5000
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+[^\s]*")


def _is_list(value: object) -> bool:
    """A list, tuple, set or other iterable that is not a string or a table."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def refuse(path: str, problem: str) -> PortalConfigInvalidError:
    """The refusal of the value at *path* (``""``: the whole document)."""
    return PortalConfigInvalidError(problem, key_path=path or None)


def _clean_text(value: object, path: str, *, max_len: int) -> str:
    if not isinstance(value, str):
        raise refuse(path, f"expected a string, got {describe(value)}")
    if len(value) > max_len:
        raise refuse(path, f"is {len(value)} characters long; at most {max_len}")
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            raise refuse(path, f"contains the control character U+{ord(char):04X}")
        if category == "Cs":
            raise refuse(path, f"contains a lone surrogate U+{ord(char):04X}")
    return value


class Kind:
    """How one field's value is checked, converted and written out."""

    #: The words for the expected value, in error messages.
    expected: ClassVar[str] = "a value"

    def check(self, value: Any, path: str) -> Any:
        """The model's form of a value given in Python (or raise)."""
        return self.load(value, path)

    def load(self, value: Any, path: str) -> Any:
        """The model's form of a value read from a file (or raise)."""
        raise NotImplementedError  # pragma: no cover - every kind overrides it

    def dump(self, value: Any) -> Any:
        """The plain data (str, bool, int, list, dict) for a model value."""
        return value


@attrs.frozen
class Bool(Kind):
    expected: ClassVar[str] = "true or false"

    def load(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise refuse(path, f"expected true or false, got {describe(value)}")
        return value


@attrs.frozen
class Int(Kind):
    low: int = 0
    high: int = INT_MAX

    def load(self, value: Any, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise refuse(path, f"expected an integer, got {describe(value)}")
        if not self.low <= value <= self.high:
            shown = (
                str(value)
                if len(str(value)) <= 30
                else f"a {len(str(value))}-digit number"
            )
            raise refuse(
                path, f"{shown} is out of range; expected {self.low} to {self.high}"
            )
        return value


@attrs.frozen
class Text(Kind):
    """A string. ``""`` declares the field empty (Stripe's ``null``)."""

    max_len: int = TEXT_MAX
    url: bool = False
    nonempty: bool = False

    def load(self, value: Any, path: str) -> str:
        text = _clean_text(value, path, max_len=self.max_len)
        if self.nonempty and not text.strip():
            raise refuse(path, "must not be empty")
        if self.url and text and not _URL.fullmatch(text):
            raise refuse(
                path,
                'is not a URL (expected scheme://host/…, without spaces), or "" '
                "for none",
            )
        return text


@attrs.frozen
class Choice(Kind):
    """One of an enum's wire values."""

    members: type[enum.StrEnum]
    refused: frozenset[str] = frozenset()

    def allowed(self) -> list[str]:
        return [m.value for m in self.members if m.value not in self.refused]

    def load(self, value: Any, path: str) -> enum.StrEnum:
        if not isinstance(value, str):
            raise refuse(path, f"expected a string, got {describe(value)}")
        if value in self.refused or value not in self.members._value2member_map_:
            shown = _clean_text(value, path, max_len=TEXT_MAX)[:60]
            raise refuse(
                path,
                f"{shown!r} is not one of {', '.join(self.allowed())}",
            )
        return self.members(value)

    def dump(self, value: Any) -> str:
        return str(value.value)


@attrs.frozen
class ChoiceSet(Kind):
    """Some of an enum's wire values, without repeats; their order is not kept
    (they are written in the enum's order)."""

    members: type[enum.StrEnum]

    def load(self, value: Any, path: str) -> frozenset[enum.StrEnum]:
        if not _is_list(value):
            raise refuse(path, f"expected an array of strings, got {describe(value)}")
        one = Choice(self.members)
        seen: set[enum.StrEnum] = set()
        for n, item in enumerate(value):
            member = one.load(item, join(path, n))
            if member in seen:
                raise refuse(join(path, n), f"{member.value!r} is listed twice")
            seen.add(member)
        return frozenset(seen)

    def dump(self, value: Any) -> list[str]:
        return [m.value for m in self.members if m in value]


@attrs.frozen
class TextList(Kind):
    """An ordered list of strings, without repeats."""

    max_items: int = 100
    max_len: int = TEXT_MAX
    nonempty: bool = False
    #: Words for one item in messages ("price", "label").
    item: str = "item"

    def load(self, value: Any, path: str) -> tuple[str, ...]:
        if not _is_list(value):
            raise refuse(path, f"expected an array of strings, got {describe(value)}")
        items = list(value)
        if len(items) > self.max_items:
            raise refuse(
                path, f"has {len(items)} {self.item}s; at most {self.max_items}"
            )
        if self.nonempty and not items:
            raise refuse(path, f"needs at least one {self.item}")
        out: list[str] = []
        for n, item in enumerate(items):
            text = Text(max_len=self.max_len, nonempty=True).load(item, join(path, n))
            if text in out:
                raise refuse(join(path, n), f"{text!r} is listed twice")
            out.append(text)
        return tuple(out)

    def dump(self, value: Any) -> list[str]:
        return list(value)


@attrs.frozen
class TextMap(Kind):
    """A ``metadata`` map (Stripe's limits: 50 keys of at most 40 characters
    without square brackets, values of at most 500). A value ``""`` declares
    the key absent; an empty map declares nothing, so it is ``None``."""

    max_keys: int = 50
    reserved: frozenset[str] = frozenset()

    def load(self, value: Any, path: str) -> Mapping[str, str] | None:
        if not isinstance(value, Mapping):
            raise refuse(path, f"expected a table of strings, got {describe(value)}")
        if len(value) > self.max_keys:
            raise refuse(path, f"has {len(value)} keys; at most {self.max_keys}")
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise refuse(path, f"expected string keys, got {describe(key)}")
            where = join(path, key)
            _clean_text(key, where, max_len=40)
            if not key or "[" in key or "]" in key:
                raise refuse(
                    where, "a metadata key is 1 to 40 characters without [ or ]"
                )
            if key in self.reserved:
                raise refuse(
                    where, "is reserved: cancelflow writes it to find the configuration"
                )
            out[key] = _clean_text(item, where, max_len=500)
        return _FrozenDict(out) if out else None

    def dump(self, value: Any) -> dict[str, str]:
        return dict(value)


class _FrozenDict(dict[str, str]):
    """A dict that refuses changes and hashes by content (models are hashable)."""

    def _refuse(self, *_args: object, **_kwargs: object) -> None:
        raise TypeError("a declared metadata map cannot be changed")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


@attrs.frozen
class Nested(Kind):
    """A nested table, read into a model class."""

    cls: type[Spec]

    def check(self, value: Any, path: str) -> Spec:
        if isinstance(value, self.cls):
            return value
        if isinstance(value, Mapping):
            return self.load(value, path)
        raise refuse(
            path, f"expected a {self.cls.__name__} (or a table), got {describe(value)}"
        )

    def load(self, value: Any, path: str) -> Spec:
        return self.cls.from_data(value, path)

    def dump(self, value: Any) -> dict[str, Any]:
        data: dict[str, Any] = value.to_data()
        return data


@attrs.frozen
class NestedList(Kind):
    """An ordered list of nested tables."""

    cls: type[Spec]
    max_items: int = 100
    nonempty: bool = False

    def _items(self, value: Any, path: str) -> list[Any]:
        if not _is_list(value):
            raise refuse(path, f"expected an array of tables, got {describe(value)}")
        items = list(value)
        if len(items) > self.max_items:
            raise refuse(path, f"has {len(items)} entries; at most {self.max_items}")
        if self.nonempty and not items:
            raise refuse(path, "needs at least one entry")
        return items

    def check(self, value: Any, path: str) -> tuple[Spec, ...]:
        one = Nested(self.cls)
        return tuple(
            one.check(v, join(path, n)) for n, v in enumerate(self._items(value, path))
        )

    def load(self, value: Any, path: str) -> tuple[Spec, ...]:
        return tuple(
            self.cls.from_data(v, join(path, n))
            for n, v in enumerate(self._items(value, path))
        )

    def dump(self, value: Any) -> list[dict[str, Any]]:
        return [v.to_data() for v in value]


def spec_field(kind: Kind, *, required: bool = False) -> Any:
    """An ``attrs`` field of a `Spec`, checked by *kind* (``None``: not
    declared, unless *required*)."""
    return attrs.field(default=None, metadata={"kind": kind, "required": required})


class Spec:
    """Base of the declared models: fields checked by their kinds on creation.

    Subclasses are ``@attrs.frozen(kw_only=True)`` classes whose fields come
    from :func:`spec_field`; :meth:`_rules` adds the checks between fields.
    """

    __slots__ = ()

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):  # type: ignore[arg-type]
            kind = field.metadata.get("kind")
            if kind is None:
                continue
            value = getattr(self, field.name)
            if value is None:
                if field.metadata["required"]:
                    raise refuse(field.name, "is required")
                continue
            checked = kind.check(value, field.name)
            object.__setattr__(self, field.name, checked)
            if checked is None and field.metadata["required"]:
                raise refuse(field.name, "is required")
        self._rules()

    def _rules(self) -> None:
        """Checks between fields (raise :class:`PortalConfigInvalidError`)."""

    @classmethod
    def data_keys(cls) -> dict[str, Kind]:
        """The keys a file may give, with their kinds, in order."""
        return {
            f.name: f.metadata["kind"]
            for f in attrs.fields(cls)  # type: ignore[arg-type]
            if "kind" in f.metadata
        }

    @classmethod
    def from_data(cls, data: object, path: str = "") -> Self:
        """Read from plain data (a TOML table); unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise refuse(path, f"expected a table, got {describe(data)}")
        kinds = cls.data_keys()
        for key in data:
            if not isinstance(key, str) or key not in kinds:
                shown = key if isinstance(key, str) else describe(key)
                raise refuse(
                    join(path, shown) if isinstance(key, str) else path,
                    f"unknown key; expected one of: {', '.join(kinds)}",
                )
        kwargs = {
            key: kinds[key].load(value, join(path, key)) for key, value in data.items()
        }
        return at(path, lambda: cls(**kwargs), PortalConfigInvalidError)

    def to_data(self) -> dict[str, Any]:
        """The declared fields as plain data (what a file holds), in order."""
        out: dict[str, Any] = {}
        for key, kind in self.data_keys().items():
            value = getattr(self, key)
            if value is not None:
                out[key] = kind.dump(value)
        return out

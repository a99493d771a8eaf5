"""TOML files as cancelflow reads and writes them. Strictly private.

Writing values (the standard library only reads TOML), and what the readers of
policy and portal configuration files share: key paths (``rules[2].segment``)
and the words for a value's type in their error messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from cancelflow._format import printable_json
from cancelflow.exceptions import PolicyError, PortalConfigInvalidError

__all__ = ["at", "describe", "join", "toml_key", "toml_string", "toml_value"]

_BARE: Final = re.compile(r"[A-Za-z0-9_-]+")

_T = TypeVar("_T")
#: The errors that carry a ``key_path``.
_KeyPathError = TypeVar("_KeyPathError", PolicyError, PortalConfigInvalidError)


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and TOML also forbids a raw DEL."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")


def toml_key(key: str) -> str:
    """A bare key when it can be one, else a quoted one."""
    return key if _BARE.fullmatch(key) else toml_string(key)


def toml_value(value: object) -> str:
    """A boolean, integer, string, array or (inline) table, as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise AssertionError(type(value))  # pragma: no cover - only these are written


# -- reading -----------------------------------------------------------------------------


def join(path: str, key: str | int) -> str:
    """A key path one step down: ``features`` + ``subscription_cancel`` →
    ``features.subscription_cancel``; a list index gives ``products[2]``.

    A key that is not bare is quoted, with the characters that could drive a
    terminal escaped (`printable_json`): key paths end up in error messages.
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _BARE.fullmatch(key) else printable_json(key)
    return f"{path}.{part}" if path else part


def at(path: str, build: Callable[[], _T], error: type[_KeyPathError]) -> _T:
    """Run *build*; put *path* in front of the key path of its *error*."""
    try:
        return build()
    except error as err:
        inner = err.key_path
        if not inner:
            full = path
        elif inner.startswith("[") or not path:
            full = f"{path}{inner}"
        else:
            full = f"{path}.{inner}"
        raise error(err.problem, key_path=full or None) from None


def describe(value: object) -> str:
    """What *value* is, in a few words and TOML's terms, for an error message
    (never the value itself)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"

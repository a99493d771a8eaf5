"""Writing TOML values (the standard library only reads TOML). Strictly private."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

__all__ = ["toml_key", "toml_string", "toml_value"]

_BARE: Final = re.compile(r"[A-Za-z0-9_-]+")


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

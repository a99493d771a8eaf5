"""Runtime checks of policy values (they may come from untyped code or TOML).

Strictly private. Typed as taking ``object`` so that checks the type checker
considers settled still run for callers that are not type-checked.
"""

from __future__ import annotations

from collections.abc import Iterable


def is_name(value: object) -> bool:
    """A non-empty string."""
    return isinstance(value, str) and bool(value)


def is_int(value: object) -> bool:
    """An integer that is not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def is_list(value: object) -> bool:
    """An iterable that is not a string (a list, tuple, generator, …)."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)

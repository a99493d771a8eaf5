"""Runtime checks of policy values (they may come from untyped code or TOML).

Strictly private. Typed as taking ``object`` so that checks the type checker
considers settled still run for callers that are not type-checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

# U+0000 and lone surrogates: text no ledger store can keep (names of rules,
# arms and experiments end up in the ledger with each cancel link).
_UNSTORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")


def is_name(value: object) -> bool:
    """A non-empty string that every ledger store can keep (no U+0000, no lone
    surrogate)."""
    return isinstance(value, str) and bool(value) and not _UNSTORABLE.search(value)


def is_int(value: object) -> bool:
    """An integer that is not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def is_list(value: object) -> bool:
    """An iterable that is not a string (a list, tuple, generator, …)."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)

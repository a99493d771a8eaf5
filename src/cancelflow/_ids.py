"""Checking Stripe ids before they reach a request (shared by the gateway and the links)."""

from __future__ import annotations

import unicodedata
from typing import Final

from cancelflow._redact import redact
from cancelflow.exceptions import InvalidParameterError

#: Stripe accepts ids of at most this many characters.
MAX_ID_LENGTH: Final = 5000


def check_id(value: object, field: str, *, prefix: str | None = None) -> str:
    """Return *value* if it looks like a Stripe id for *field*.

    Ids are non-empty, at most 5000 characters, without whitespace, control
    characters, ``/``, ``?`` or ``#``; *prefix* (``sub_``) is checked when given,
    so that a customer id passed as the subscription is caught before Stripe is
    called.
    """
    if not isinstance(value, str):
        raise InvalidParameterError(
            field, f"must be a string id, got {type(value).__name__}"
        )
    if not value:
        raise InvalidParameterError(field, "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidParameterError(
            field, f"is {len(value)} characters long; Stripe accepts {MAX_ID_LENGTH}"
        )
    for char in value:
        if (
            char.isspace()
            or char in "/?#\\"
            or unicodedata.category(char) in {"Cc", "Cf"}
        ):
            raise InvalidParameterError(
                field, redact(f"{value!r} is not a Stripe id (it contains {char!r})")
            )
    if prefix is not None and not value.startswith(prefix):
        raise InvalidParameterError(
            field, redact(f"{value!r} is not a {prefix}… id; check the argument order")
        )
    return value

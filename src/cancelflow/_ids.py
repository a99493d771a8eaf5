"""Checking Stripe ids before they reach a request (shared by the gateway and the links)."""

from __future__ import annotations

import unicodedata
from typing import Final

from cancelflow._redact import redact
from cancelflow.exceptions import InvalidParameterError

#: Stripe accepts ids of at most this many characters.
MAX_ID_LENGTH: Final = 5000

#: What the prefix of a Stripe id says it is (longest prefixes first where one
#: starts another: ``sub_sched_`` before ``sub_``).
KINDS: Final = (
    ("sub_sched_", "subscription schedule"),
    ("sub_", "subscription"),
    ("si_", "subscription item"),
    ("cus_", "customer"),
    ("bpc_", "portal configuration"),
    ("bps_", "portal session"),
    ("acct_", "connected account"),
    ("price_", "price"),
    ("prod_", "product"),
    ("di_", "discount"),
    ("promo_", "promotion code"),
    ("in_", "invoice"),
    ("pi_", "payment intent"),
    ("pm_", "payment method"),
    ("cs_", "Checkout session"),
    ("evt_", "event"),
    ("fo_", "feedback option"),
)

#: Ids given together to one call, which a caller may swap.
_SWAPPABLE: Final = frozenset({"cus_", "sub_"})


def kind_of(value: str) -> tuple[str, str] | None:
    """``(prefix, kind)`` when *value* starts with a known Stripe id prefix."""
    for prefix, kind in KINDS:
        if value.startswith(prefix):
            return prefix, kind
    return None


def _wrong_kind(value: str, prefix: str) -> str | None:
    """Why *value* is not a ``prefix…`` id, or ``None`` when it is one."""
    found = kind_of(value)
    expected = kind_of(prefix)
    wanted = f"a {expected[1]} id ({prefix}…)" if expected else f"a {prefix}… id"
    if found is not None and found[0] == prefix:
        return None
    if found is None:
        if value.startswith(prefix):
            return None
        return f"{value!r} is not {wanted}"
    got_prefix, got_kind = found
    article = "an" if got_kind[0] in "aeiou" else "a"
    text = f"{value!r} is {article} {got_kind} id, not {wanted}"
    if {got_prefix, prefix} <= _SWAPPABLE:
        text += "; check the argument order"
    return text


def check_id(value: object, field: str, *, prefix: str | None = None) -> str:
    """Return *value* if it looks like a Stripe id for *field*.

    Ids are non-empty, at most 5000 characters, without whitespace, control or
    format characters, lone surrogates, ``/``, ``?`` or ``#``; *prefix*
    (``sub_``) is checked when given, so that a customer id passed as the
    subscription is caught before Stripe is called. The message names what a
    known prefix is (``si_…`` is a subscription item, ``sub_sched_…`` a
    schedule), and suggests checking the argument order only for a customer
    and a subscription id swapped.
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
            or unicodedata.category(char) in {"Cc", "Cf", "Cs"}
        ):
            raise InvalidParameterError(
                field, redact(f"{value!r} is not a Stripe id (it contains {char!r})")
            )
    if prefix is not None:
        problem = _wrong_kind(value, prefix)
        if problem is not None:
            raise InvalidParameterError(field, redact(problem))
    return value

"""Amounts and times as people read them, for messages and explanations.

``datetime`` is imported on first use: the webhook path imports this module and
must stay cheap to start.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = [
    "currency_digits",
    "format_amount",
    "format_count",
    "format_time",
    "major_units",
    "printable_json",
]

_ZERO_DECIMAL: Final = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
})  # fmt: skip
_THREE_DECIMAL: Final = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def currency_digits(currency: str) -> int:
    """How many decimals *currency*'s minor unit has: 0 (JPY), 3 (KWD) or 2."""
    cur = currency.lower()
    return 0 if cur in _ZERO_DECIMAL else 3 if cur in _THREE_DECIMAL else 2


def major_units(amount: int, currency: str, *, grouped: bool = False) -> str:
    """Minor units written in the currency's major unit, exactly (integer arithmetic).

    ``123456, "eur"`` → ``"1234.56"`` (``grouped=True``: ``"1,234.56"``);
    ``-500, "jpy"`` → ``"-500"``; ``1, "kwd"`` → ``"0.001"``.
    """
    digits = currency_digits(currency)
    whole, fraction = divmod(abs(amount), 10**digits)
    text = f"{whole:,}" if grouped else str(whole)
    if digits:
        text = f"{text}.{fraction:0{digits}d}"
    return f"-{text}" if amount < 0 else text


def format_amount(amount: int, currency: str) -> str:
    """``2000, "eur"`` → ``"20.00 EUR"`` (minor units to a readable amount)."""
    return f"{major_units(amount, currency)} {currency.upper()}"


def format_count(count: int, noun: str) -> str:
    """``1 rule``, ``2 rules``, ``0 rules``: *count* with *noun*, plural unless 1."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_time(timestamp: int | None, *, seconds: bool = True) -> str:
    """Unix seconds as ``2026-11-28 10:00:00 UTC`` (``"unknown"`` for ``None``).

    With ``seconds=False``: ``2026-11-28 10:00 UTC``. A time no calendar can
    hold is written ``t=<timestamp>``.
    """
    if timestamp is None:
        return "unknown"
    import datetime as dt

    try:
        moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return f"t={timestamp}"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def printable_json(value: object) -> str:
    """*value* as JSON that is safe to print on a terminal.

    Letters stay as they are (``"é"``); every character that could drive a
    terminal, reorder or hide part of the line, or fail to encode is escaped as
    ``\\uXXXX``: C0 and C1 control characters, DEL, the bidirectional marks,
    embeddings, overrides and isolates, zero-width characters (U+200B–U+200D,
    U+2060–U+2064, U+FEFF), the line and paragraph separators, and lone
    surrogates.
    """
    import json
    import re

    text = json.dumps(value, ensure_ascii=False)  # escapes C0 controls already
    return re.sub(
        "[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]",
        lambda found: f"\\u{ord(found.group()):04x}",
        text,
    )

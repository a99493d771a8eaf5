"""Amounts, times and JSON as people read them in messages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow._format import format_amount, format_count, format_time, printable_json


def test_amounts_in_minor_units():
    """Minor units become the currency's decimals."""
    assert format_amount(2000, "eur") == "20.00 EUR"
    assert format_amount(500, "jpy") == "500 JPY"
    assert format_amount(-1234, "kwd") == "-1.234 KWD"


def test_counts():
    """A count with its noun, plural unless it is one."""
    assert format_count(1, "rule") == "1 rule"
    assert [format_count(n, "write") for n in (0, 2)] == ["0 writes", "2 writes"]


def test_times():
    """Unix seconds in UTC; None is unknown; an impossible time stays a number."""
    assert format_time(0) == "1970-01-01 00:00:00 UTC"
    assert format_time(0, seconds=False) == "1970-01-01 00:00 UTC"
    assert format_time(None) == "unknown"
    assert format_time(10**20) == f"t={10**20}"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\x1b[31mred", '"a\\u001b[31mred"'),
        ("\x9b2J", '"\\u009b2J"'),
        ("\x7f", '"\\u007f"'),
        ("a\u202eb\u2066c", '"a\\u202eb\\u2066c"'),
        ("\ud800", '"\\ud800"'),
        ("a\u200fb\u061c", '"a\\u200fb\\u061c"'),
        ("\u200b\u2060\ufeff", '"\\u200b\\u2060\\ufeff"'),
        ("line\u2028para\u2029", '"line\\u2028para\\u2029"'),
        ("Chloé", '"Chloé"'),
        (["é", 1, None], '["é", 1, null]'),
    ],
)
def test_printable_json_escapes_what_drives_a_terminal(value, shown):
    """Controls, DEL, bidi marks and controls, zero-width characters, line and
    paragraph separators and lone surrogates are escaped; letters stay."""
    assert printable_json(value) == shown


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists))
def test_printable_json_reads_back_equal(value):
    """The escaped text is still JSON for the same value, and encodes as UTF-8."""
    text = printable_json(value)
    text.encode("utf-8")
    assert json.loads(text) == value

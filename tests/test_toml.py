"""The helpers the policy and portal configuration readers share: key paths,
the words for a value's type, and errors re-raised one level up."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import parse_policy, parse_portal_config
from cancelflow._toml import at, describe, join, toml_key
from cancelflow.exceptions import PolicyError, PortalConfigInvalidError

#: Characters that could drive a terminal or reorder its line.
UNSAFE = "\x1b\x7f\x9b\u202e\u2066\u200f\u200b\u2028\ufeff"


def test_join_names_keys_and_indexes():
    """Bare keys join with dots, list indexes in brackets, other keys quoted."""
    assert join("", "rules") == "rules"
    assert join("rules", 2) == "rules[2]"
    assert join("rules[2]", "segment") == "rules[2].segment"
    assert join("metadata", "has space") == 'metadata."has space"'
    assert join("metadata", "clé") == 'metadata."clé"'


@given(st.text())
def test_a_joined_key_never_carries_a_terminal_control(key):
    """Whatever the key, its path holds no control, bidi or surrogate character."""
    path = join("metadata", key)
    assert not any(
        ord(c) < 0x20
        or 0x7F <= ord(c) <= 0x9F
        or c in UNSAFE
        or 0xD800 <= ord(c) < 0xE000
        for c in path
    )


@pytest.mark.parametrize(
    "text",
    [
        '"\\u001b[31mred" = 1\n',
        '"\\u009b2J" = 1\n',
        '"a\\u202eb" = 1\n',
        '"\\u2066x" = 1\n',
        '"\\u007f" = 1\n',
        '"a\\u200f" = 1\n',
        '"\\u200bx\\u2028" = 1\n',
    ],
)
def test_hostile_keys_are_escaped_in_both_readers(text):
    """An unknown key holding a control or bidi character is named escaped, by the
    policy reader and by the portal configuration reader alike."""
    with pytest.raises(PolicyError) as policy_error:
        parse_policy(text)
    with pytest.raises(PortalConfigInvalidError) as config_error:
        parse_portal_config("[configurations.main]\n" + text)
    for message in (str(policy_error.value), str(config_error.value)):
        assert "unknown key" in message
        assert "\\u00" in message or "\\u20" in message
        assert not any(c in message for c in UNSAFE)


def test_at_puts_the_path_in_front():
    """An error raised one level down gets the path of that level in front."""

    def fail(key_path):
        def build():
            raise PolicyError("bad", key_path=key_path)

        return build

    with pytest.raises(PolicyError) as info:
        at("rules[1]", fail("segment.mrr"), PolicyError)
    assert (info.value.key_path, info.value.problem) == ("rules[1].segment.mrr", "bad")
    with pytest.raises(PolicyError) as info:
        at("rules", fail("[3]"), PolicyError)
    assert info.value.key_path == "rules[3]"
    with pytest.raises(PolicyError) as info:
        at("rules", fail(None), PolicyError)
    assert info.value.key_path == "rules"
    with pytest.raises(PolicyError) as info:
        at("", fail(None), PolicyError)
    assert info.value.key_path is None
    assert at("x", lambda: 3, PolicyError) == 3


def test_at_leaves_other_errors_alone():
    """Only the given error class gets the path; another passes unchanged."""

    def build():
        raise PortalConfigInvalidError("bad", key_path="name")

    with pytest.raises(PortalConfigInvalidError) as info:
        at("configurations.main", build, PolicyError)
    assert info.value.key_path == "name"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "nothing"),
        (True, "a boolean"),
        (3, "an integer"),
        (1.5, "a float"),
        ("", "an empty string"),
        ("x", "a string"),
        ([1], "an array"),
        ((1,), "an array"),
        ({"a": 1}, "a table"),
        (dt.date(2026, 1, 1), "a date"),
    ],
)
def test_describe_names_the_type_never_the_value(value, words):
    """The words for a value's type, in TOML's terms."""
    assert describe(value) == words


def test_toml_key_quotes_what_is_not_bare():
    """A key that is not bare is written as a quoted TOML string."""
    assert toml_key("plain_key-1") == "plain_key-1"
    assert toml_key("a b") == '"a b"'

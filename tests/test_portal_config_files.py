"""Portal configuration files: TOML with several configurations, Python, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from cancelflow import (
    ConfigMatch,
    PortalConfigFile,
    PortalConfigSpec,
    dump_portal_config,
    load_portal_config,
    parse_portal_config,
)
from cancelflow.exceptions import PortalConfigInvalidError
from portal_config_strategies import files

TWO = """
[configurations.default]
match = "default"

[configurations.default.features.subscription_cancel]
enabled = true
mode = "at_period_end"

[configurations.annual]
name = "Annual plans"

[configurations.annual.features.subscription_cancel]
enabled = true
mode = "immediately"
proration_behavior = "create_prorations"

[configurations.annual.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "other"]
feedback_options = ["Too many emails"]
"""


def test_one_file_holds_several_named_configurations():
    """Each [configurations.KEY] table is one configuration, in file order."""
    config = parse_portal_config(TWO)
    assert config.keys() == ("default", "annual")
    assert config["default"].match is ConfigMatch.DEFAULT
    assert config["annual"].match is ConfigMatch.METADATA
    assert config["annual"].feedback_labels() == ("Too many emails",)
    assert len(config) == 2
    assert [spec.key for spec in config] == ["default", "annual"]


def test_an_unknown_configuration_is_refused_by_name():
    """Looking up a key the file does not declare says which keys it has."""
    with pytest.raises(PortalConfigInvalidError, match="declares: default, annual"):
        parse_portal_config(TWO)["monthly"]


def test_dump_reads_back_equal():
    """dump_portal_config writes TOML that parses back to the same configurations."""
    config = parse_portal_config(TWO)
    assert parse_portal_config(dump_portal_config(config)) == config
    assert config.to_toml() == dump_portal_config(config)


@settings(max_examples=100)
@given(files())
def test_any_file_survives_a_round_trip_through_toml(config):
    """Every valid set of configurations dumps to TOML that reads back equal."""
    assert parse_portal_config(dump_portal_config(config)) == config


@pytest.mark.parametrize(
    ("text", "key_path", "words"),
    [
        ("[portal]\nx = 1\n", "portal", "unknown key"),
        (
            "configurations = 3\n",
            "configurations",
            "expected a table of configurations",
        ),
        (
            "[configurations]\nmain = 3\n",
            "configurations.main",
            "expected a table, got an integer",
        ),
        (
            '[configurations."has space"]\n',
            'configurations."has space"',
            "configuration's key",
        ),
        (
            '[configurations.a]\nmatch = "default"\n[configurations.b]\nmatch = "default"\n',
            "configurations.b.match",
            "only one may have",
        ),
        (
            '[configurations.a]\nmatch = "id"\nid = "bpc_1"\n[configurations.b]\nmatch = "id"\nid = "bpc_1"\n',
            "configurations.b.id",
            "already matches bpc_1",
        ),
    ],
)
def test_file_level_rules(text, key_path, words):
    """File-level mistakes are refused with the key path of the offending table."""
    with pytest.raises(PortalConfigInvalidError) as caught:
        parse_portal_config(text)
    assert caught.value.key_path == key_path
    assert words in caught.value.problem


def test_duplicate_keys_are_refused_in_python():
    """Two configurations with one key are refused (TOML itself refuses a repeated table)."""
    with pytest.raises(
        PortalConfigInvalidError, match="two configurations have this key"
    ):
        PortalConfigFile([PortalConfigSpec(key="a"), PortalConfigSpec(key="a")])
    with pytest.raises(PortalConfigInvalidError, match="not valid TOML"):
        parse_portal_config("[configurations.a]\n[configurations.a]\n")


@pytest.mark.parametrize("value", [3, "text", [1], None])
def test_a_file_needs_specs(value):
    """A PortalConfigFile of anything but PortalConfigSpec values is refused by name."""
    with pytest.raises(PortalConfigInvalidError, match="expected a"):
        PortalConfigFile(value)  # type: ignore[arg-type]


# -- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "not = [toml",
        "a = 1\na = 2\n",
        '[configurations.main]\nname = "\\ud800"\n',  # a lone surrogate escape
        '[configurations.main]\nname = "a\x00b"\n',  # a raw NUL
        "x = " + "[" * 100_000 + "]" * 100_000 + "\n",  # deep nesting
        "x = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n",
    ],
    ids=[
        "syntax",
        "repeated key",
        "surrogate",
        "raw NUL",
        "deep arrays",
        "deep tables",
    ],
)
def test_broken_or_hostile_toml_is_one_clear_error(text):
    """Broken, deeply nested or malformed TOML is a PortalConfigInvalidError."""
    with pytest.raises(PortalConfigInvalidError, match="not valid TOML"):
        parse_portal_config(text)


def test_an_escaped_nul_is_refused_by_key_path():
    """A NUL written as an escape parses as TOML and is refused by the model."""
    with pytest.raises(PortalConfigInvalidError) as caught:
        parse_portal_config('[configurations.main]\nname = "a\\u0000b"\n')
    assert caught.value.key_path == "configurations.main.name"
    assert "U+0000" in caught.value.problem


def test_huge_integers_in_toml_are_refused():
    """An integer TOML allows but Stripe does not (or beyond 64 bits) is refused."""
    text = (
        "[configurations.main.features.subscription_pause.duration]\n"
        'type = "interval_options"\n'
        'interval_options = [{ interval = "day", interval_count = 99999999999999999999999 }]\n'
    )
    with pytest.raises(PortalConfigInvalidError) as caught:
        parse_portal_config(text)
    assert caught.value.key_path == (
        "configurations.main.features.subscription_pause.duration.interval_options[0]."
        "interval_count"
    )


def test_other_toml_types_are_refused_by_name():
    """Dates and floats have no place in a configuration: refused by key path."""
    with pytest.raises(PortalConfigInvalidError, match="expected a string, got a date"):
        parse_portal_config("[configurations.main]\nname = 2026-01-01\n")
    with pytest.raises(PortalConfigInvalidError, match="got a float"):
        parse_portal_config("[configurations.main.login_page]\nenabled = 1.0\n")


def test_text_that_is_not_toml_at_all():
    """Bytes, or an over-long text, are refused before parsing."""
    with pytest.raises(PortalConfigInvalidError, match="expected TOML text"):
        parse_portal_config(b"[configurations]")  # type: ignore[arg-type]
    with pytest.raises(PortalConfigInvalidError, match="at most"):
        parse_portal_config("#" * 1_000_001)


# -- files on disk ------------------------------------------------------------------------


def test_load_a_toml_file(tmp_path):
    """load_portal_config reads a .toml file; its errors name the file."""
    path = tmp_path / "portal.toml"
    path.write_text(TWO, encoding="utf-8")
    assert load_portal_config(path) == parse_portal_config(TWO)
    path.write_text("[configurations.main]\nname = 3\n", encoding="utf-8")
    with pytest.raises(PortalConfigInvalidError) as caught:
        load_portal_config(path)
    assert caught.value.key_path == "configurations.main.name"
    assert str(path) in str(caught.value)


def test_unreadable_files_are_refused(tmp_path):
    """A missing file, a directory or bytes that are not UTF-8 are one clear error."""
    with pytest.raises(PortalConfigInvalidError, match="cannot read"):
        load_portal_config(tmp_path / "missing.toml")
    with pytest.raises(PortalConfigInvalidError, match="cannot read"):
        load_portal_config(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[configurations.main]\nname = "\xe9"\n')
    with pytest.raises(PortalConfigInvalidError, match="cannot read"):
        load_portal_config(bad)
    with pytest.raises(PortalConfigInvalidError, match="cannot read"):
        load_portal_config(tmp_path / "missing.py")


def test_load_a_python_file(tmp_path):
    """A .py file defining PORTAL_CONFIG (a list of specs or a file) is loaded."""
    path = tmp_path / "portal_config.py"
    path.write_text(
        "from cancelflow import FeaturesSpec, PortalConfigSpec, SubscriptionCancelSpec\n"
        "PORTAL_CONFIG = [PortalConfigSpec(key='main', features=FeaturesSpec(\n"
        "    subscription_cancel=SubscriptionCancelSpec(enabled=True)))]\n",
        encoding="utf-8",
    )
    config = load_portal_config(path)
    assert config.keys() == ("main",)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("X = 1\n", "defines no PORTAL_CONFIG"),
        ("raise RuntimeError('boom')\n", "raised RuntimeError: boom"),
        ("PORTAL_CONFIG = 3\n", "expected a list of PortalConfigSpec"),
        (
            (
                "from cancelflow import PortalConfigSpec\n"
                "PORTAL_CONFIG = [PortalConfigSpec(key='main', name=3)]\n"
            ),
            "expected a string",
        ),
        ("def broken(:\n", "raised SyntaxError"),
    ],
)
def test_bad_python_files_are_one_clear_error(tmp_path, source, words):
    """A Python file that raises, or defines no configurations, is a PortalConfigInvalidError."""
    path = tmp_path / "portal_config.py"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(PortalConfigInvalidError, match=words.replace("(", r"\(")):
        load_portal_config(path)


def test_dump_refuses_what_is_not_a_file():
    """dump_portal_config names the wrong argument instead of failing inside."""
    with pytest.raises(PortalConfigInvalidError, match="expected a PortalConfigFile"):
        dump_portal_config([PortalConfigSpec(key="a")])  # type: ignore[arg-type]

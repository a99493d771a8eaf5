"""``cancelflow config show|export|validate|plan|apply`` against FakeStripe."""

from __future__ import annotations

import io
import json

import pytest

from cancelflow import parse_portal_config
from cancelflow._cli import main as _cli
from cancelflow.testing import FakeStripe

KEY = "sk_test_cancelflowConfigCli"
ENV = {"STRIPE_API_KEY": KEY}

FILE = """
[configurations.default]
match = "default"

[configurations.default.features.subscription_cancel]
enabled = true
mode = "at_period_end"

[configurations.default.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "other"]
feedback_options = ["Too many emails"]

[configurations.annual.features.subscription_cancel]
enabled = true
mode = "immediately"
proration_behavior = "create_prorations"
"""


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the answer already typed."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake() -> FakeStripe:
    fake = FakeStripe()
    fake.dashboard.save_portal_settings(features={"invoice_history": {"enabled": True}})
    return fake


@pytest.fixture
def portal_file(tmp_path):
    path = tmp_path / "portal.toml"
    path.write_text(FILE, encoding="utf-8")
    return path


def run(argv, fake=None, *, environ=ENV, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    code = _cli.main(
        [str(a) for a in argv],
        stdout=out,
        stderr=err,
        environ=environ,
        make_client=(fake.client) if fake else None,
        stdin=stdin if stdin is not None else io.StringIO(),
    )
    return code, out.getvalue(), err.getvalue()


def test_validate_needs_no_key(portal_file):
    """validate checks a file offline and summarises it."""
    code, out, err = run(["config", "validate", portal_file], environ={})
    assert (code, err) == (0, "")
    assert (
        "default (match default): subscription_cancel; 1 custom feedback option(s)"
        in out
    )
    assert "annual (match metadata): subscription_cancel" in out
    assert out.rstrip().endswith("valid, 2 configurations")


def test_commands_that_read_stripe_need_a_key(portal_file):
    """Without STRIPE_API_KEY: exit 2, one line, pointing at validate."""
    code, out, err = run(["config", "plan", portal_file], environ={})
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "cancelflow config validate FILE" in err


def test_plan_then_apply_with_yes_then_check(fake, portal_file):
    """plan shows the diff; apply --yes applies it; apply --check then exits 0."""
    code, out, _ = run(["config", "plan", portal_file], fake)
    assert code == 0
    assert '~ configuration "default"' in out
    assert '+ configuration "annual": create' in out
    assert '+ feedback option "Too many emails": create' in out

    code, out, _ = run(["config", "apply", portal_file, "--yes"], fake)
    assert code == 0
    assert 'created configuration "annual"' in out
    assert out.rstrip().endswith("the account now matches " + str(portal_file) + ".")

    code, out, err = run(["config", "apply", portal_file, "--check"], fake)
    assert (code, err) == (0, "")
    assert "In step" in out
    code, out, _ = run(["config", "apply", portal_file, "--yes"], fake)
    assert code == 0
    assert "Applied" not in out


def test_check_exits_2_on_drift(fake, portal_file):
    """A change made outside the file makes `apply --check` exit 2 and write nothing."""
    assert run(["config", "apply", portal_file, "--yes"], fake)[0] == 0
    client = fake.client()
    default = client.v1.billing_portal.configurations.list(
        params={"is_default": True}
    ).data[0]
    client.v1.billing_portal.configurations.update(
        default.id,
        params={"features": {"subscription_cancel": {"mode": "immediately"}}},
    )
    before = client.v1.billing_portal.configurations.retrieve(default.id).to_dict()
    code, out, err = run(["config", "apply", portal_file, "--check"], fake)
    assert code == 2
    assert 'features.subscription_cancel.mode: "immediately" → "at_period_end"' in out
    assert err.startswith("drift: the account differs from")
    assert (
        client.v1.billing_portal.configurations.retrieve(default.id).to_dict() == before
    )


def test_apply_asks_on_a_terminal(fake, portal_file):
    """Without --yes, apply asks; "yes" applies, anything else applies nothing."""
    code, out, _ = run(["config", "apply", portal_file], fake, stdin=Terminal("no\n"))
    assert code == 2
    assert "Nothing applied." in out
    assert run(["config", "apply", portal_file, "--check"], fake)[0] != 0
    code, out, _ = run(["config", "apply", portal_file], fake, stdin=Terminal("yes\n"))
    assert code == 0
    assert "Apply these changes?" in out
    assert run(["config", "apply", portal_file, "--check"], fake)[0] == 0


def test_apply_refuses_to_guess_without_a_terminal(fake, portal_file):
    """Piped standard input and no --yes: a usage error, nothing written."""
    code, _, err = run(["config", "apply", portal_file], fake)
    assert code == 2
    assert "add --yes" in err
    assert run(["config", "apply", portal_file, "--check"], fake)[0] == 2


def test_yes_and_check_exclude_each_other(portal_file):
    """--yes with --check is a usage error."""
    code, _, err = run(["config", "apply", portal_file, "--yes", "--check"])
    assert code == 2
    assert "not allowed with argument" in err


def test_plan_json(fake, portal_file):
    """plan --json gives the same plan as data."""
    code, out, _ = run(["config", "plan", portal_file, "--json"], fake)
    assert code == 0
    data = json.loads(out)
    assert data["in_step"] is False
    assert [c["action"] for c in data["configurations"]] == ["update", "create"]
    assert data["feedback_options"] == [
        {"label": "Too many emails", "action": "create", "option_id": None}
    ]
    assert data["counts"]["create"] == 1


def test_show_lists_the_account(fake, portal_file):
    """show lists each configuration, its managed key and its cancel page."""
    code, out, _ = run(["config", "show"], fake)
    assert code == 0
    assert "default · active · not managed by key" in out
    assert "cancel: disabled" in out
    run(["config", "apply", portal_file, "--yes"], fake)
    code, out, _ = run(["config", "show"], fake)
    assert 'managed as "annual"' in out
    assert 'asks why: too_expensive, other, "Too many emails"' in out
    code, out, _ = run(["config", "show", "--json"], fake)
    rows = json.loads(out)
    assert {r["managed_as"] for r in rows} == {None, "annual"}


def test_show_an_empty_account():
    """An account without configurations says so."""
    code, out, _ = run(["config", "show"], FakeStripe())
    assert (code, out) == (0, "No portal configuration in this account.\n")


def test_export_then_plan_shows_no_change(fake, portal_file, tmp_path):
    """export writes a file that plans in step (to standard output or --output)."""
    run(["config", "apply", portal_file, "--yes"], fake)
    exported = tmp_path / "exported.toml"
    code, out, err = run(["config", "export", "--output", exported], fake)
    assert (code, out) == (0, "")
    assert "wrote 2 configurations" in err
    text = exported.read_text(encoding="utf-8")
    assert text.startswith("# Portal configurations exported")
    assert set(parse_portal_config(text).keys()) == {"default", "annual"}
    code, out, _ = run(["config", "apply", exported, "--check"], fake)
    assert code == 0, out
    code, out, _ = run(["config", "export", "--configuration", "annual"], fake)
    assert code == 0
    assert parse_portal_config(out).keys() == ("annual",)


def test_export_to_an_unwritable_place(fake, tmp_path):
    """An --output that cannot be written is one line, exit 2."""
    code, _, err = run(
        ["config", "export", "--output", tmp_path / "no" / "x.toml"], fake
    )
    assert code == 2
    assert err.startswith("cancelflow: error: cannot write")


def test_a_partial_failure_is_one_line_with_what_was_applied(fake, portal_file):
    """A Stripe failure midway: exit 1, one line saying what was and was not applied."""
    fake.faults.fail_next("billing_portal.configurations.create", kind="api_error")
    code, _, err = run(["config", "apply", portal_file, "--yes"], fake)
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("cancelflow: error: configurations.annual: creating")
    assert "Applied: created feedback option" in err
    assert 'Not applied: create configuration "annual"' in err


def test_a_match_error_is_one_line(portal_file):
    """No default configuration in the account: exit 1, what to do."""
    code, _, err = run(["config", "plan", portal_file], FakeStripe())
    assert code == 1
    assert (
        "configurations.default: the account has no default portal configuration" in err
    )


HOSTILE = {
    "wrong type": ("[configurations.main]\nname = 3\n", "configurations.main.name"),
    "nul": ('[configurations.main]\nname = "a\\u0000b"\n', "U+0000"),
    "raw nul": ("[configurations.main]\nname = 'a\x00b'\n", "not valid TOML"),
    "lone surrogate": ('[configurations.main]\nname = "\\udc80"\n', "not valid TOML"),
    "deep nesting": ("x = " + "[" * 50_000 + "]" * 50_000 + "\n", "not valid TOML"),
    "huge int": (
        (
            "[configurations.main.features.subscription_update]\nenabled = true\n"
            "products = [{ product = 'p', prices = ['x'], adjustable_quantity = "
            "{ enabled = true, maximum = 123456789012345678901234567890 } }]\n"
        ),
        "out of range",
    ),
    "unknown key": ("[configurations.main]\ncolour = 'red'\n", "unknown key"),
    "not utf-8": (b"\xff\xfe[configurations]", "cannot read"),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_hostile_files_are_one_line_errors(tmp_path, case, command):
    """Wrong types, NUL, lone surrogates, deep nesting, huge ints: exit 1, one line,
    never a traceback (and no Stripe request: the file is read first)."""
    content, words = HOSTILE[case]
    path = tmp_path / "portal.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(["config", command, path], FakeStripe())
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("cancelflow: error: ")
    assert words in err
    assert "Traceback" not in err


def test_config_without_a_command_prints_help():
    """`cancelflow config` alone shows its commands and exits 2."""
    code, _, err = run(["config"])
    assert code == 2
    assert "validate" in err
    assert "apply" in err

"""The cancelflow command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from cancelflow._cli import main as _cli
from recording import API_KEY, NOW, RecordingHTTPClient, coupon_json, subscription_json

DRY = ["link", "--customer", "cus_1", "--subscription", "sub_1", "--dry-run"]


def run(argv, *, environ=None, recorder=None):
    out, err = io.StringIO(), io.StringIO()
    code = _cli.main(
        argv,
        stdout=out,
        stderr=err,
        environ={} if environ is None else environ,
        make_client=recorder.client if recorder else None,
    )
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(name="recorder")
def _recorder():
    rec = RecordingHTTPClient()
    rec.subscriptions["sub_1"] = subscription_json()
    rec.coupons["SAVE20"] = coupon_json()
    return rec


class TestDryRun:
    def test_prints_exact_params_without_key_or_network(self):
        """--dry-run prints the session parameters as JSON, with no key set."""
        code, out, err = run(
            [
                *DRY,
                "--coupon",
                "SAVE20",
                "--return-url",
                "https://example.com/account",
                "--redirect-to",
                "https://example.com/bye",
                "--locale",
                "fr-ca",
            ]
        )
        assert (code, err) == (0, "")
        assert json.loads(out) == {
            "customer": "cus_1",
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {
                    "subscription": "sub_1",
                    "retention": {
                        "type": "coupon_offer",
                        "coupon_offer": {"coupon": "SAVE20"},
                    },
                },
                "after_completion": {
                    "type": "redirect",
                    "redirect": {"return_url": "https://example.com/bye"},
                },
            },
            "return_url": "https://example.com/account",
            "locale": "fr-CA",
        }

    @pytest.mark.parametrize(
        ("extra", "after"),
        [
            (
                ["--hosted-message", "À bientôt"],
                {
                    "type": "hosted_confirmation",
                    "hosted_confirmation": {"custom_message": "À bientôt"},
                },
            ),
            (["--portal-homepage"], {"type": "portal_homepage"}),
        ],
    )
    def test_after_completion_options(self, extra, after):
        """--hosted-message and --portal-homepage set after_completion."""
        code, out, _ = run([*DRY, *extra])
        assert code == 0
        assert json.loads(out)["flow_data"]["after_completion"] == after

    def test_allowed_host_restricts(self):
        """--allowed-host replaces the default of trusting the given URLs' hosts."""
        code, out, err = run(
            [
                *DRY,
                "--return-url",
                "https://example.com/a",
                "--allowed-host",
                "other.com",
            ]
        )
        assert code == 1
        assert out == ""
        assert err.startswith("cancelflow: error: --return-url: host 'example.com'")
        assert "add it with --allowed-host" in err


class TestDefaults:
    def test_a_malformed_url_is_explained_by_the_url_check(self):
        """A URL whose host cannot be an allowed host gets the URL's own error."""
        code, _, err = run([*DRY, "--return-url", "https://exa%6dple.com/"])
        assert code == 1
        assert "--return-url: does not have a valid host name" in err

    @pytest.mark.parametrize("option", ["--return-url", "--redirect-to"])
    def test_an_unparsable_url_is_a_one_line_error(self, option):
        """A URL urlsplit cannot parse is refused by the URL check, not an internal error."""
        code, out, err = run([*DRY, option, "https://[::1/account"])
        assert code == 1
        assert out == ""
        assert err.count("\n") == 1
        assert "is not a valid URL" in err

    def test_default_client_is_a_stripe_client_for_the_key(self):
        """Without a factory, the CLI builds a plain stripe.StripeClient."""
        import stripe

        client = _cli._default_client(API_KEY)
        assert isinstance(client, stripe.StripeClient)


class TestErrors:
    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (["--return-url", "http://example.com/"], "--return-url: must use https"),
            (["--return-url", "https://u@example.com/"], "user info"),
            (["--locale", "xx"], "--locale: 'xx' is not one of Stripe's 47"),
            (["--hosted-message", "x" * 501], "--hosted-message: is 501 characters"),
            (["--coupon", ""], "--coupon: must not be empty"),
            (["--coupon", "A B"], "--coupon: 'A B' is not a Stripe id"),
            (["--redirect-to", "http://example.com/"], "--redirect-to: must use https"),
            (["--configuration", "cus_1"], "--configuration: 'cus_1' is a customer"),
            (["--on-behalf-of", "x"], "--on-behalf-of: 'x' is not a connected"),
            (["--allowed-host", "a/b"], "--allowed-host: 'a/b' is a URL"),
        ],
    )
    def test_bad_input_is_one_line(self, extra, message):
        """Bad input gives one stderr line, exit code 1, no traceback."""
        code, out, err = run([*DRY, *extra])
        assert code == 1
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith("cancelflow: error: ")
        assert message in err
        assert "Traceback" not in err

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (
                ["--customer", "si_1", "--subscription", "sub_1"],
                "--customer: 'si_1' is a subscription item id, not a customer id",
            ),
            (
                ["--customer", "cus_1", "--subscription", "bpc_1"],
                (
                    "--subscription: 'bpc_1' is a portal configuration id, not a "
                    "subscription id (sub_…)"
                ),
            ),
            (
                ["--customer", "cus_1", "--subscription", "sub_sched_1"],
                "'sub_sched_1' is a subscription schedule id",
            ),
        ],
    )
    def test_wrong_kind_of_id_is_named_without_blaming_the_order(self, argv, message):
        """An id of another kind names the option and what the id is; only a
        swapped customer and subscription suggests checking the order."""
        code, _, err = run(["link", *argv, "--dry-run"])
        assert code == 1
        assert message in err
        assert "argument order" not in err
        code, _, err = run(
            ["link", "--customer", "sub_1", "--subscription", "cus_1", "--dry-run"]
        )
        assert "--subscription: 'cus_1' is a customer id" in err
        assert "check the argument order" in err

    def test_option_for_every_parameter_path(self):
        """Every parameter path a link can fail on maps to the option typed."""
        assert _cli.option_for("flow_data[after_completion][redirect][return_url]") == (
            "--redirect-to"
        )
        assert _cli.option_for(
            "flow_data[subscription_cancel][retention][coupon_offer][coupon]"
        ) == ("--coupon")
        assert _cli.option_for("allowed_hosts[2]") == "--allowed-host"
        assert _cli.option_for("customers") is None
        assert _cli.option_for("items[0]") is None

    def test_missing_argument_is_one_line(self, capsys):
        """A usage error is one line and exit code 2."""
        code, _, err = run(["link", "--customer", "cus_1"])
        assert code == 2
        assert err.count("\n") == 1
        assert "--subscription" in err

    def test_conflicting_after_completion(self):
        """Two after-completion options at once are a usage error."""
        code, _, err = run(
            [*DRY, "--portal-homepage", "--redirect-to", "https://e.com"]
        )
        assert code == 2
        assert "not allowed with" in err

    def test_no_command_prints_help(self):
        """Without a command, help goes to stderr and the exit code is 2."""
        code, out, err = run([])
        assert code == 2
        assert "link" in err
        assert out == ""

    def test_version(self):
        """--version prints the installed version."""
        code, out, _ = run(["--version"])
        assert code == 0
        assert out.startswith("cancelflow ")


class TestWithStripe:
    def test_prints_the_url(self, recorder):
        """With a key, the link is created through Stripe and its URL printed."""
        code, out, err = run(
            [
                "link",
                "--customer",
                "cus_1",
                "--subscription",
                "sub_1",
                "--coupon",
                "SAVE20",
            ],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=recorder,
        )
        assert (code, err) == (0, "")
        assert out == "https://billing.stripe.com/p/session/test_0001secret\n"
        post = recorder.calls("post")[0]
        assert post.form[
            "flow_data[subscription_cancel][retention][coupon_offer][coupon]"
        ] == ("SAVE20")
        assert post.headers["Authorization"] == f"Bearer {API_KEY}"

    def test_json_output(self, recorder):
        """--json prints the whole result."""
        code, out, _ = run(
            ["link", "--customer", "cus_1", "--subscription", "sub_1", "--json"],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=recorder,
        )
        assert code == 0
        assert json.loads(out) == {
            "url": "https://billing.stripe.com/p/session/test_0001secret",
            "session_id": "bps_1",
            "subscription_id": "sub_1",
            "customer_id": "cus_1",
            "coupon": None,
            "created": NOW + 1,
        }

    def test_refusal_is_one_line(self, recorder):
        """A refusal (another customer's subscription) is one line, exit 1."""
        code, out, err = run(
            ["link", "--customer", "cus_2", "--subscription", "sub_1"],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=recorder,
        )
        assert code == 1
        assert out == ""
        assert err.count("\n") == 1
        assert "does not belong to customer cus_2" in err

    def test_missing_key(self):
        """No STRIPE_API_KEY: exit 2 with a hint about --dry-run."""
        code, _, err = run(["link", "--customer", "cus_1", "--subscription", "sub_1"])
        assert code == 2
        assert "STRIPE_API_KEY is not set" in err
        assert "--dry-run" in err

    @pytest.mark.parametrize(
        ("key", "what"),
        [
            ("pk_test_1234567890abcdef", "publishable"),
            ("hello", "not a key"),
            ("sk_test_short", "not a key"),
        ],
    )
    def test_wrong_key_shape_is_refused_and_never_printed(self, key, what, recorder):
        """A key that is not sk_/rk_ shaped is refused without being echoed."""
        code, out, err = run(
            ["link", "--customer", "cus_1", "--subscription", "sub_1"],
            environ={"STRIPE_API_KEY": key},
            recorder=recorder,
        )
        assert code == 2
        assert what in err
        assert key not in err + out
        assert recorder.requests == []

    def test_restricted_key_accepted(self, recorder):
        """A restricted rk_ key is accepted."""
        code, _, _ = run(
            ["link", "--customer", "cus_1", "--subscription", "sub_1"],
            environ={"STRIPE_API_KEY": "rk_live_abcdefgh12345678"},
            recorder=recorder,
        )
        assert code == 0
        assert recorder.requests[0].headers["Authorization"] == (
            "Bearer rk_live_abcdefgh12345678"
        )

    def test_unexpected_error_has_no_traceback(self, monkeypatch):
        """Even a bug prints one line (with secrets redacted), exit 70."""

        def boom(args, ctx):
            raise RuntimeError(f"bad\nthing with {API_KEY}")

        monkeypatch.setattr(_cli, "_link", boom)
        monkeypatch.setattr(_cli, "COMMANDS", [("link", _cli._register_link)])
        code, _, err = run(DRY)
        assert code == _cli.EX_SOFTWARE
        assert err.count("\n") == 1
        assert "RuntimeError: bad thing with sk_test_[redacted]" in err
        assert API_KEY not in err


class TestRegistry:
    def test_subcommands_come_from_the_registry(self, monkeypatch):
        """A (name, register) entry appended to COMMANDS becomes a subcommand."""

        def register(subparsers, name):
            parser = subparsers.add_parser(name, help="say hi")
            parser.set_defaults(
                handler=lambda args, ctx: print("hi", file=ctx.stdout) or 3
            )

        monkeypatch.setattr(_cli, "COMMANDS", [*_cli.COMMANDS, ("hello", register)])
        assert run(["hello"])[:2] == (3, "hi\n")
        assert "hello" in run([])[2]


def test_a_closed_output_pipe_ends_quietly():
    """When the reader of the output is gone (| head), the CLI exits 141 without a message."""
    import os

    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cancelflow", *DRY],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == _cli.EX_PIPE == 141


def test_console_module_runs_in_a_fresh_process():
    """python -m cancelflow link --dry-run works as a real process."""
    proc = subprocess.run(
        [sys.executable, "-m", "cancelflow", *DRY],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "", "PYTHONUTF8": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["customer"] == "cus_1"


def test_a_closed_or_missing_stream_is_not_a_terminal(tmp_path):
    """is_terminal: a terminal says so; a closed stream or a non-stream is not one."""
    from cancelflow._cli.main import is_terminal

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert is_terminal(Terminal())
    assert not is_terminal(io.StringIO())
    closed = (tmp_path / "out.txt").open("w", encoding="utf-8")
    closed.close()
    assert not is_terminal(closed)
    assert not is_terminal(None)

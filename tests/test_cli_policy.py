"""``cancelflow policy check`` and ``cancelflow policy backtest``."""

from __future__ import annotations

import io
import json

import pytest

from cancelflow import (
    LedgerProblem,
    LinkRecord,
    SQLiteLedger,
    dump_policy,
    parse_policy,
)
from cancelflow._cli import main as _cli
from cancelflow._cli.policy import EXAMPLE_POLICY_TOML, Progress
from cancelflow._policy.policy import example_policy
from cancelflow.exceptions import EventPayloadError
from recording import (
    API_KEY,
    RecordingHTTPClient,
    coupon_json,
    customer_json,
    subscription_json,
)

AT = 1_760_000_000


def run(argv, *, environ=None, recorder=None, stderr=None):
    out, err = io.StringIO(), stderr or io.StringIO()
    code = _cli.main(
        argv,
        stdout=out,
        stderr=err,
        environ={} if environ is None else environ,
        make_client=recorder.client if recorder else None,
    )
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(name="policy_file")
def _policy_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(example_policy()), encoding="utf-8")
    return path


@pytest.fixture(name="coupons_file")
def _coupons_file(tmp_path):
    path = tmp_path / "coupons.json"
    coupons = [
        coupon_json("RETAIN10", percent_off=10.0),
        coupon_json("RETAIN20"),
        coupon_json("RETAIN25", percent_off=25.0),
    ]
    path.write_text(json.dumps({"object": "list", "data": coupons}), encoding="utf-8")
    return path


def history_line(n, interval="month", **over):
    line = {
        "id": f"sub_{n}",
        "customer": f"cus_{n}",
        "status": "active",
        "currency": "eur",
        "items": [["price_1", "prod_1", interval, 1, 1, 2000]],
        "at": AT,
    }
    line.update(over)
    return json.dumps(line)


@pytest.fixture(name="history_file")
def _history_file(tmp_path):
    path = tmp_path / "history.jsonl"
    lines = [history_line(n) for n in range(30)]
    lines += [history_line(100, "year"), history_line(101, status="trialing")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class TestCheck:
    def test_summarises_a_valid_policy(self, policy_file):
        """check prints the rules, experiment shares, coupons and guards; exit 0."""
        code, out, err = run(["policy", "check", str(policy_file)])
        assert (code, err) == (0, "")
        assert "valid policy 'example', 3 rules and a default." in out
        assert "2. annual plans: billed year → offer RETAIN20" in out
        assert "holdout 10% (holdout), ten-percent 45% (RETAIN10)" in out
        assert "guards: all on; cooldown 90 days" in out

    def test_json_summary(self, policy_file):
        """--json prints a machine-readable summary."""
        code, out, _ = run(["policy", "check", str(policy_file), "--json"])
        data = json.loads(out)
        assert code == 0
        assert data["coupons"] == ["RETAIN10", "RETAIN20", "RETAIN25"]
        assert [r["name"] for r in data["rules"]][-1] == "default"
        assert data["experiments"][0]["arms"][0] == {
            "name": "holdout",
            "share": 0.1,
            "coupon": None,
        }

    def test_invalid_policy_names_the_key_path(self, tmp_path):
        """An invalid file exits 1 with the file and the key path on stderr."""
        path = tmp_path / "bad.toml"
        path.write_text(
            '[[rules]]\nname = "r"\nsegment = { mrr = { min = "x" } }\n'
            "no_offer = true\n",
            encoding="utf-8",
        )
        code, out, err = run(["policy", "check", str(path)])
        assert code == 1
        assert out == ""
        assert f"{path}: rules[0].segment.mrr.min: expected an integer" in err

    @pytest.mark.parametrize("depth", [65, 300, 5000])
    def test_a_deeply_nested_file_is_an_error_not_a_crash(self, tmp_path, depth):
        """A policy nested hundreds of levels deep exits 1 with a message that
        says so, not 70 ("internal error") with a RecursionError."""
        path = tmp_path / "deep.toml"
        segment = "{ all = [ " * depth + "{}" + " ] }" * depth
        path.write_text(
            f'[[rules]]\nname = "r"\nno_offer = true\nsegment = {segment}\n',
            encoding="utf-8",
        )
        code, out, err = run(["policy", "check", str(path)])
        assert code == 1
        assert out == ""
        assert "nest more than 64 levels deep (line 4)" in err
        assert "internal error" not in err

    def test_predicates_from_a_module(self, tmp_path, monkeypatch):
        """--predicates MODULE:NAME loads a registry importable from the cwd."""
        (tmp_path / "my_predicates.py").write_text(
            "PREDICATES = {'vip': lambda context: True}\n", encoding="utf-8"
        )
        path = tmp_path / "p.toml"
        path.write_text(
            '[[rules]]\nname = "vip"\nsegment = { predicate = "vip" }\n'
            "no_offer = true\n",
            encoding="utf-8",
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        code, out, _ = run(
            ["policy", "check", str(path), "--predicates", "my_predicates:PREDICATES"]
        )
        assert code == 0
        assert "vip: vip() → no offer" in out
        code, _, err = run(["policy", "check", str(path)])
        assert code == 1
        assert "unknown predicate 'vip'" in err
        for spec, message in [
            ("nope", "expected MODULE:NAME"),
            ("no_such_module_x:P", "cannot import"),
            ("my_predicates:MISSING", "must be a mapping"),
        ]:
            code, _, err = run(["policy", "check", str(path), "--predicates", spec])
            assert code == 2
            assert message in err

    def test_stripe_coupon_check(self, policy_file):
        """--stripe retrieves each coupon and reports the unusable ones (exit 1)."""
        rec = RecordingHTTPClient()
        rec.coupons["RETAIN10"] = coupon_json("RETAIN10")
        rec.coupons["RETAIN20"] = coupon_json(
            "RETAIN20", max_redemptions=1, times_redeemed=1, valid=False
        )
        code, out, _ = run(
            ["policy", "check", str(policy_file), "--stripe"],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=rec,
        )
        assert code == 1
        assert "coupon RETAIN20: it has reached max_redemptions" in out
        assert "coupon RETAIN25: does not exist" in out
        assert "coupon RETAIN10: ok" in out

    @pytest.mark.parametrize(
        ("argv", "hint"),
        [
            (["check", "{policy}", "--stripe"], "leave out --stripe"),
            (
                ["backtest", "{policy}", "--history", "stripe", "--coupons", "{c}"],
                "give a JSONL file as --history",
            ),
        ],
    )
    def test_missing_key_hint_fits_the_command(self, policy_file, tmp_path, argv, hint):
        """Without STRIPE_API_KEY, the error says what this command can do instead."""
        coupons = tmp_path / "coupons.json"
        coupons.write_text("[]", encoding="utf-8")
        args = [a.format(policy=policy_file, c=coupons) for a in argv]
        code, _, err = run(["policy", *args])
        assert code == 2
        assert "STRIPE_API_KEY is not set" in err
        assert hint in err
        assert "--dry-run" not in err

    def test_one_rule_is_singular(self, tmp_path):
        """A policy of one rule says '1 rule', not '1 rules'."""
        path = tmp_path / "one.toml"
        path.write_text(
            '[[rules]]\nname = "r"\noffer = { coupon = "X" }\n', encoding="utf-8"
        )
        code, out, _ = run(["policy", "check", str(path)])
        assert code == 0
        assert "valid policy, 1 rule and a default." in out

    def test_a_coupon_id_stripe_would_refuse_fails_the_check(self, tmp_path):
        """A coupon id with a space, / or ? fails `policy check` with its key path."""
        for bad in ("A B", "half/off", "what?"):
            path = tmp_path / "bad.toml"
            path.write_text(
                f'[[rules]]\nname = "r"\noffer = {{ coupon = "{bad}" }}\n',
                encoding="utf-8",
            )
            code, out, err = run(["policy", "check", str(path)])
            assert (code, out) == (1, "")
            assert f"{path}: rules[0].offer.coupon: {bad!r} is not a Stripe id" in err


class TestExample:
    def test_help_points_to_what_an_installed_user_can_open(self):
        """`policy --help` names `cancelflow policy example`, not a docs/ file."""
        code, out, _ = run(["policy", "--help"])
        assert code == 0
        assert "cancelflow policy example" in " ".join(out.split())
        assert "docs/" not in out
        code, out, _ = run(["policy", "backtest", "--help"])
        assert "docs/" not in out

    def test_prints_a_commented_file_that_checks(self, tmp_path):
        """The example is commented, loads as example_policy(), and passes check."""
        code, out, err = run(["policy", "example"])
        assert (code, err) == (0, "")
        assert out == EXAMPLE_POLICY_TOML
        assert out.count("\n# ") >= 10
        assert parse_policy(out) == example_policy()
        path = tmp_path / "policy.toml"
        code, out, _ = run(["policy", "example", str(path)])
        assert code == 0
        assert f"wrote {path}" in out
        assert path.read_text(encoding="utf-8") == EXAMPLE_POLICY_TOML
        assert run(["policy", "check", str(path)])[0] == 0

    def test_never_overwrites(self, tmp_path):
        """An existing file is left alone: exit 2 and a one-line reason."""
        path = tmp_path / "policy.toml"
        path.write_text("mine", encoding="utf-8")
        code, _, err = run(["policy", "example", str(path)])
        assert code == 2
        assert "exists" in err
        assert path.read_text(encoding="utf-8") == "mine"
        code, _, err = run(["policy", "example", str(tmp_path / "no" / "p.toml")])
        assert code == 2
        assert "cannot write" in err

    def test_policy_without_subcommand_prints_help(self):
        """'cancelflow policy' alone prints its usage and exits 2."""
        code, _, err = run(["policy"])
        assert code == 2
        assert "check" in err
        assert "backtest" in err


class TestBacktest:
    def test_text_report(self, policy_file, history_file, coupons_file):
        """backtest prints decisions by rule, offers by arm and the cost."""
        code, out, err = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                str(history_file),
                "--coupons",
                str(coupons_file),
            ]
        )
        assert (code, err) == (0, "")
        assert out.startswith("Backtest of policy example: 32 decisions")
        assert "monthly plans" in out
        assert "RETAIN20" in out
        assert "Discount cost if every offer were redeemed" in out

    def test_json_report_and_decisions_file(
        self, policy_file, history_file, coupons_file, tmp_path
    ):
        """--json prints the report; --decisions writes one decision per line."""
        decisions = tmp_path / "decisions.jsonl"
        code, out, _ = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                str(history_file),
                "--coupons",
                str(coupons_file),
                "--json",
                "--decisions",
                str(decisions),
            ]
        )
        report = json.loads(out)
        assert code == 0
        assert report["decisions"] == 32
        assert report["by_rule"]["annual plans"] == 1
        assert report["by_rule"]["no offer to trials"] == 1
        lines = decisions.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 32
        assert {json.loads(line)["policy"] for line in lines} == {"example"}

    def test_needs_coupon_facts(self, policy_file, history_file):
        """Without --coupons or STRIPE_API_KEY, backtest explains what is missing."""
        code, _, err = run(
            ["policy", "backtest", str(policy_file), "--history", str(history_file)]
        )
        assert code == 2
        assert "--coupons FILE" in err

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("{", "not JSON or JSONL"),
            ('[{"id": "X"}]', "coupon [0]"),
            ("3", "expected coupon objects"),
        ],
    )
    def test_bad_coupons_file(
        self, policy_file, history_file, tmp_path, content, message
    ):
        """A coupons file that is not Stripe coupons is refused clearly."""
        path = tmp_path / "c.json"
        path.write_text(content, encoding="utf-8")
        code, _, err = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                str(history_file),
                "--coupons",
                str(path),
            ]
        )
        assert code == 2
        assert message in err

    def test_bad_history(self, policy_file, coupons_file, tmp_path):
        """A missing history file, or a bad line, is reported with where it is."""
        code, _, err = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                str(tmp_path / "none.jsonl"),
                "--coupons",
                str(coupons_file),
            ]
        )
        assert code == 2
        assert "no such file" in err
        bad = tmp_path / "bad.jsonl"
        bad.write_text(history_line(1) + "\n{}\n", encoding="utf-8")
        code, _, err = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                str(bad),
                "--coupons",
                str(coupons_file),
            ]
        )
        assert code == 1
        assert f"{bad}:2: id: missing" in err

    def test_history_from_stripe(self, policy_file):
        """--history stripe decides every subscription in the account, coupons from Stripe."""
        rec = RecordingHTTPClient()
        rec.subscriptions["sub_1"] = subscription_json("sub_1", interval="year")
        rec.subscriptions["sub_2"] = subscription_json("sub_2", customer="cus_2")
        rec.coupons["RETAIN20"] = coupon_json("RETAIN20")
        rec.customers["cus_1"] = customer_json("cus_1")
        code, out, _ = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                "stripe",
                "--json",
                "--now",
                str(AT),
            ],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=rec,
        )
        report = json.loads(out)
        assert code == 0
        assert report["decisions"] == 2
        assert report["by_rule"]["annual plans"] == 1
        assert {"coupon": "RETAIN20", "experiment": None, "arm": None, "count": 1} in (
            report["offered"]
        )

    def test_history_from_a_sqlite_ledger(self, policy_file, tmp_path):
        """--history ledger:PATH replays the ledger's links with Stripe's snapshots."""
        db = tmp_path / "ledger.sqlite3"
        ledger = SQLiteLedger(db)
        ledger.record_link(
            LinkRecord(
                session_id="bps_1",
                subscription_id="sub_1",
                customer_id="cus_1",
                created=AT,
                offered_coupon="RETAIN20",
            )
        )
        ledger.record_link(
            LinkRecord(
                session_id="bps_2",
                subscription_id="sub_gone",
                customer_id="cus_9",
                created=AT,
            )
        )
        ledger.close()
        rec = RecordingHTTPClient()
        rec.subscriptions["sub_1"] = subscription_json("sub_1", interval="year")
        rec.coupons["RETAIN20"] = coupon_json("RETAIN20")
        code, out, _ = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                f"ledger:{db}",
                "--json",
            ],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=rec,
        )
        report = json.loads(out)
        assert code == 0
        assert report["decisions"] == 1
        assert (report["compared"], report["changed"]) == (1, 0)
        code, _, err = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                f"ledger:{tmp_path / 'no.db'}",
            ],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=rec,
        )
        assert code == 2
        assert "no such SQLite ledger" in err

    def test_a_ledger_with_problems_says_so(self, policy_file, tmp_path):
        """Reading a ledger that keeps problems (deliveries it could never record)
        notes how many on stderr, and the backtest still runs."""
        db = tmp_path / "ledger.sqlite3"
        with SQLiteLedger(db) as ledger:
            ledger.record_problem(
                LedgerProblem.from_delivery(
                    b'{"id": "evt_bad", "type": "customer.subscription.updated"}',
                    EventPayloadError("unreadable Stripe event: subscription: missing"),
                    received_at=AT,
                )
            )
        code, _, err = run(
            ["policy", "backtest", str(policy_file), "--history", f"ledger:{db}"],
            environ={"STRIPE_API_KEY": API_KEY},
            recorder=RecordingHTTPClient(),
        )
        assert code == 0
        assert "keeps 1 webhook delivery it could never record" in err
        assert "evt_bad (customer.subscription.updated): EventPayloadError" in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgress:
    def test_bar_on_a_terminal(self):
        """On a terminal the bar is redrawn with a carriage return and ends its line."""
        times = iter([0.0, 0.05, 0.5, 1.0])
        stream = Terminal()
        bar = Progress(stream, width=10, clock=lambda: next(times))
        bar.update(10, 100, 5)
        bar.update(20, 100, 6)  # too soon: not redrawn
        bar.update(50, 100, 7)
        bar.update(100, 100, 9)
        bar.close()
        assert stream.getvalue() == (
            "\r[#.........]  10.0% 5 records"
            "\r[#####.....]  50.0% 7 records"
            "\r[##########] 100.0% 9 records\n"
        )

    def test_counts_without_a_total(self):
        """Without a known total the bar shows a count."""
        stream = Terminal()
        bar = Progress(stream)
        bar.update(1_200, None)
        assert stream.getvalue() == "\r1,200 records"

    def test_silent_off_a_terminal(self):
        """Not a terminal, or disabled: nothing is written."""
        stream = io.StringIO()
        bar = Progress(stream)
        bar.update(1, 2)
        bar.close()
        assert stream.getvalue() == ""
        terminal = Terminal()
        Progress(terminal, enabled=False).update(1, 2)
        assert terminal.getvalue() == ""
        assert not Progress(terminal, enabled=False).shown

    def test_backtest_draws_on_a_terminal_stderr(
        self, policy_file, history_file, coupons_file
    ):
        """backtest draws its bar on stderr only when stderr is a terminal."""
        stderr = Terminal()
        code, out, err = run(
            [
                "policy",
                "backtest",
                str(policy_file),
                "--history",
                str(history_file),
                "--coupons",
                str(coupons_file),
            ],
            stderr=stderr,
        )
        assert code == 0
        assert err.startswith("\r[")
        assert err.endswith("100.0%\n")
        assert "\r" not in out

"""``cancelflow policy check`` and ``cancelflow policy backtest``.

Registered in `cancelflow._cli.main.COMMANDS`. Heavy imports stay inside the
handlers, so ``cancelflow --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cancelflow._cli.main import (
    Context,
    UsageError,
    add_group,
    is_terminal,
    note_problems,
    writing,
)
from cancelflow._format import format_count

if TYPE_CHECKING:
    from cancelflow._backtest.backtest import BacktestRecord
    from cancelflow._policy.guards import CouponFacts
    from cancelflow._policy.policy import RetentionPolicy
    from cancelflow._policy.toml import PredicateRegistry
    from cancelflow._stripe.coupon import Coupon

__all__ = ["EXAMPLE_POLICY_TOML", "Progress", "register"]

#: What ``cancelflow policy example`` prints: a complete, commented policy file
#: (the format's reference for someone who has only the installed package).
#: ``tests/test_cli_policy.py`` checks that it loads as ``example_policy()``.
EXAMPLE_POLICY_TOML = """\
# A cancelflow retention policy: who is offered which coupon on Stripe's cancel page.
# Check it with `cancelflow policy check FILE`; replay it over past cancellations
# with `cancelflow policy backtest FILE --history ...`; load it in Python with
# `cancelflow.load_policy("FILE")`. Lines starting with # are comments.

name = "example"          # optional; recorded with every decision

# Guards block an offer whatever the rules say. Every guard is on unless switched
# off here: not_cancelable, existing_discount, cooldown, trialing, past_due, unpaid,
# incomplete, paused, schedule, multi_item, coupon.
[guards]
cooldown_days = 90        # no new offer within 90 days of the last one
# multi_item = false      # e.g. allow offers on subscriptions with several items

# Rules, in order: the first rule whose segment matches decides. Each rule has
# exactly one outcome: offer = { coupon = "ID" }, no_offer = true, or an experiment.
[[rules]]
name = "no offer to trials"
segment = { trialing = true }
no_offer = true

[[rules]]
name = "annual plans"
segment = { interval = "year" }
offer = { coupon = "RETAIN20" }   # a Stripe coupon id (not a promotion code)
# offer = { coupon = "RETAIN20", replace_discount = true }  # even if discounted

# A segment's conditions must all hold (leave `segment` out to match everyone):
#   prices, products = "id" or ["id", ...]      interval = "month" (or a list)
#   interval_count = 3                          currencies = "eur" (or a list)
#   mrr = { min = 1000, max = 5000 }            (minor units, e.g. cents)
#   tenure_days, customer_tenure_days, attempts = { min = ..., max = ... }
#   trialing = true / false                     countries = ["FR", "DE"]
#   metadata, customer_metadata = { plan = "pro", legacy = false }
#   predicate = "name"     (a Python function, see --predicates)
#   all = [ {...}, {...} ]   any = [ {...}, {...} ]   not = { ... }
# Keys written after a [rules.segment] or [rules.experiment] header belong to
# that table: write a rule's name and outcome before such a header.

[[rules]]
name = "monthly plans"
segment = { interval = "month" }

# An experiment splits customers into arms, deterministically (by customer id and
# salt); an arm without an offer is a no-offer holdout. Weights are relative.
[rules.experiment]
name = "monthly-discount"
# salt = "monthly-discount"   # defaults to the name; change it to re-shuffle
arms = [
  { name = "holdout", weight = 10 },
  { name = "ten-percent", weight = 45, offer = { coupon = "RETAIN10" } },
  { name = "quarter-off", weight = 45, offer = { coupon = "RETAIN25" } },
]

# What happens when no rule matches (no offer if this table is left out).
[default]
no_offer = true
"""


def register(subparsers: Any, name: str) -> None:
    """Add ``cancelflow policy`` (with ``check`` and ``backtest``)."""
    commands = add_group(
        subparsers,
        name,
        help="check a retention policy file, or backtest it over history",
        description="Work with retention policies written as TOML files. "
        "`cancelflow policy example` prints a complete, commented file to start "
        "from; it explains the format.",
    )

    example = commands.add_parser(
        "example",
        help="print a complete, commented policy file to start from",
        description="Print a complete policy file whose comments explain the "
        "format (guards, rules, segments, offers, experiments), or write it to FILE.",
    )
    example.add_argument(
        "file", nargs="?", help="write the file here (refuses to overwrite one)"
    )
    example.set_defaults(handler=_example)

    check = commands.add_parser(
        "check",
        help="validate a policy file and summarise it",
        description="Validate a policy file; print its rules, experiments, coupons "
        "and guards. Exit 1, with the key path of the problem, if it is invalid. "
        "With --stripe, also check that every coupon exists and is valid "
        "(needs STRIPE_API_KEY).",
    )
    check.add_argument("file", help="the policy's TOML file")
    _predicates_option(check)
    check.add_argument(
        "--stripe",
        action="store_true",
        help="also retrieve every coupon the policy offers and check it",
    )
    check.add_argument("--json", action="store_true", help="print a JSON summary")
    check.set_defaults(handler=_check)

    backtest = commands.add_parser(
        "backtest",
        help="run a policy over history and report what it would have done",
        description="Run a policy over past cancellation attempts and report offers "
        "by coupon and arm, guard blocks by guard, and the discount cost if every "
        "offer were redeemed. History: a JSONL file (one past cancellation "
        "attempt per line: a Stripe subscription object as the API returns it, "
        'optionally wrapped as {"subscription": …, "customer": …, "at": UNIX}), '
        "'stripe' (every subscription in the account, "
        "decided now), or 'ledger:FILE' (the cancel links of a SQLite ledger). "
        "Coupon facts come from --coupons, else from Stripe (STRIPE_API_KEY).",
    )
    backtest.add_argument("file", help="the policy's TOML file")
    backtest.add_argument(
        "--history",
        required=True,
        metavar="SOURCE",
        help="a JSONL file, 'stripe', or 'ledger:PATH' (SQLite ledger)",
    )
    backtest.add_argument(
        "--coupons",
        metavar="FILE",
        help="Stripe coupon objects as JSON (a list, a Stripe list, or JSONL)",
    )
    backtest.add_argument(
        "--now",
        type=int,
        metavar="UNIX",
        help="the decision time of records without one (default: now)",
    )
    backtest.add_argument(
        "--forever-months",
        type=int,
        default=12,
        metavar="N",
        help="months a duration=forever coupon counts for in the cost (default 12)",
    )
    backtest.add_argument(
        "--decisions",
        metavar="FILE",
        help="also write every decision as JSONL to FILE",
    )
    _predicates_option(backtest)
    backtest.add_argument(
        "--json", action="store_true", help="print the report as JSON"
    )
    backtest.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes for a large JSONL file (default: the CPUs available); "
        "--decisions runs in one process",
    )
    backtest.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is shown only when stderr is a terminal)",
    )
    backtest.set_defaults(handler=_backtest)


def _example(args: argparse.Namespace, ctx: Context) -> int:
    if args.file is None:
        ctx.stdout.write(EXAMPLE_POLICY_TOML)
        return 0
    with writing(args.file):
        try:
            with Path(args.file).open("x", encoding="utf-8") as out:
                out.write(EXAMPLE_POLICY_TOML)
        except FileExistsError:
            raise UsageError(
                f"{args.file} exists; give another name, or remove it first"
            ) from None
    print(
        f"wrote {args.file}; check it with: cancelflow policy check {args.file}",
        file=ctx.stdout,
    )
    return 0


def _predicates_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--predicates",
        metavar="MODULE:NAME",
        help="a mapping of custom predicates by name, e.g. myapp.policy:PREDICATES "
        "(MODULE is imported from the current directory or the installed packages)",
    )


def _registry(spec: str | None) -> PredicateRegistry:
    if spec is None:
        return {}
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"--predicates {spec!r}: expected MODULE:NAME")
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UsageError(f"--predicates: cannot import {module_name}: {err}") from None
    registry = getattr(module, attribute, None)
    if not isinstance(registry, Mapping) or not all(
        isinstance(k, str) and callable(v) for k, v in registry.items()
    ):
        raise UsageError(
            f"--predicates: {spec} must be a mapping of names to functions"
        )
    return registry


def _load(file: str, predicates: str | None) -> RetentionPolicy:
    from cancelflow._policy.toml import load_policy
    from cancelflow.exceptions import PolicyError

    try:
        return load_policy(file, predicates=_registry(predicates))
    except PolicyError as err:
        raise PolicyError(f"{file}: {err}") from None


# -- check -------------------------------------------------------------------------------


def _summary(policy: RetentionPolicy) -> dict[str, Any]:
    from cancelflow._policy.experiments import Experiment
    from cancelflow._policy.guards import Guard, Guards
    from cancelflow._policy.offers import Offer

    def outcome(value: object) -> str:
        if isinstance(value, Offer):
            return f"offer {value.coupon}" + (
                " (may replace a discount)" if value.replace_discount else ""
            )
        if isinstance(value, Experiment):
            return f"experiment {value.name}"
        return "no offer"

    defaults = Guards()
    return {
        "name": policy.name,
        "rules": [
            {"name": r.name, "segment": r.description, "outcome": outcome(r.outcome)}
            for r in policy.all_rules
        ],
        "experiments": [
            {
                "name": e.name,
                "salt": e.effective_salt,
                "arms": [
                    {
                        "name": a.name,
                        "share": e.share(a),
                        "coupon": None if a.offer is None else a.offer.coupon,
                    }
                    for a in e.arms
                ],
            }
            for e in policy.experiments
        ],
        "coupons": sorted(policy.coupon_ids),
        "guards_off": sorted(g.value for g in Guard if not policy.guards.is_on(g)),
        "cooldown_days": policy.guards.cooldown_days,
        "guards_changed": policy.guards != defaults,
    }


def _check(args: argparse.Namespace, ctx: Context) -> int:
    policy = _load(args.file, args.predicates)
    summary = _summary(policy)
    problems: dict[str, list[str]] = {}
    if args.stripe:
        problems = _check_coupons(policy, ctx)
        summary["coupon_problems"] = problems
    out = ctx.stdout
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False), file=out)
    else:
        name = f" {policy.name!r}" if policy.name else ""
        print(
            f"{args.file}: valid policy{name}, {format_count(len(policy.rules), 'rule')} "
            "and a default.",
            file=out,
        )
        for n, rule in enumerate(summary["rules"], 1):
            print(
                f"  {n:>2}. {rule['name']}: {rule['segment']} → {rule['outcome']}",
                file=out,
            )
        for experiment in summary["experiments"]:
            arms = ", ".join(
                f"{a['name']} {a['share']:.0%}"
                + (f" ({a['coupon']})" if a["coupon"] else " (holdout)")
                for a in experiment["arms"]
            )
            print(f"  experiment {experiment['name']}: {arms}", file=out)
        print(f"  coupons: {', '.join(summary['coupons']) or 'none'}", file=out)
        off = summary["guards_off"]
        print(
            f"  guards: {'all on' if not off else 'off: ' + ', '.join(off)}; "
            f"cooldown {summary['cooldown_days']} days",
            file=out,
        )
        for coupon, found in problems.items():
            print(f"  coupon {coupon}: {'; '.join(found) or 'ok'}", file=out)
    return 1 if any(problems.values()) else 0


def _check_coupons(policy: RetentionPolicy, ctx: Context) -> dict[str, list[str]]:
    """Each coupon's problems that hold for every subscription (not found,
    not valid, used up, past redeem_by, amount_off + forever)."""
    from cancelflow._stripe.gateway import StripeGateway
    from cancelflow.exceptions import StripeResourceMissingError

    gateway = StripeGateway(ctx.stripe_client(otherwise="leave out --stripe"))
    now = int(time.time())
    found: dict[str, list[str]] = {}
    for coupon_id in sorted(policy.coupon_ids):
        try:
            coupon = gateway.retrieve_coupon(coupon_id)
        except StripeResourceMissingError:
            found[coupon_id] = ["does not exist"]
            continue
        found[coupon_id] = [p.explanation for p in coupon.standing_problems(now=now)]
    return found


# -- backtest ----------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal (stderr), redrawn at most 10 times
    a second; silent when the stream is not a terminal."""

    __slots__ = ("_last", "_shown", "clock", "stream", "width")

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool = True,
        width: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.width = width
        self.clock = clock
        self._shown = enabled and is_terminal(stream)
        self._last = float("-inf")

    @property
    def shown(self) -> bool:
        return self._shown

    def update(self, done: int, total: int | None, records: int | None = None) -> None:
        """Redraw: *done* of *total* (bytes), or a count when *total* is unknown."""
        if not self._shown:
            return
        now = self.clock()
        final = total is not None and done >= total
        if now - self._last < 0.1 and not final:
            return
        self._last = now
        count = f" {records:,} records" if records is not None else ""
        if total:
            fraction = min(1.0, done / total)
            filled = round(self.width * fraction)
            bar = "#" * filled + "." * (self.width - filled)
            text = f"\r[{bar}] {fraction:6.1%}{count}"
        else:
            text = f"\r{done:,} records"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        """End the line the bar was drawn on."""
        if self._shown and self._last != float("-inf"):
            self.stream.write("\n")
            self.stream.flush()


def _coupons_from_file(path: str) -> dict[str, Coupon]:
    from cancelflow._stripe.coupon import Coupon
    from cancelflow.exceptions import StripeObjectError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--coupons {path}: cannot read it ({err})") from None
    try:
        data: Any = json.loads(text)
    except ValueError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as err:
            raise UsageError(f"--coupons {path}: not JSON or JSONL ({err})") from None
    if isinstance(data, Mapping) and isinstance(data.get("data"), list):
        data = data["data"]  # a Stripe list object
    elif isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise UsageError(f"--coupons {path}: expected coupon objects")
    coupons: dict[str, Coupon] = {}
    for n, raw in enumerate(data):
        try:
            coupon = Coupon.from_stripe(raw)
        except StripeObjectError as err:
            raise UsageError(f"--coupons {path}: coupon [{n}]: {err}") from None
        coupons[coupon.id] = coupon
    return coupons


def _records(
    args: argparse.Namespace, ctx: Context, progress: Progress
) -> Iterator[BacktestRecord]:
    from cancelflow._backtest.jsonl import read_history

    now = args.now if args.now is not None else int(time.time())
    source: str = args.history
    if source == "stripe":
        from cancelflow._backtest.sources import records_from_stripe
        from cancelflow._stripe.gateway import StripeGateway

        gateway = StripeGateway(
            ctx.stripe_client(otherwise="give a JSONL file as --history")
        )
        for count, record in enumerate(records_from_stripe(gateway, now=now), 1):
            if count % 100 == 0:
                progress.update(count, None)
            yield record
        return
    if source.startswith("ledger:"):
        yield from _ledger_records(source.removeprefix("ledger:"), ctx)
        return
    if not Path(source).is_file():
        raise UsageError(
            f"--history {source}: no such file (or use 'stripe' or 'ledger:PATH')"
        )
    counted = [0]

    def bytes_progress(done: int, total: int) -> None:
        progress.update(done, total, counted[0])

    for record in read_history(source, now=now, progress=bytes_progress):
        counted[0] += 1
        yield record


def _ledger_records(path: str, ctx: Context) -> Iterator[BacktestRecord]:
    from cancelflow._backtest.sources import records_from_ledger
    from cancelflow._outcomes.ledger_sqlite import SQLiteLedger
    from cancelflow._stripe.gateway import StripeGateway
    from cancelflow._stripe.subscription import SubscriptionSnapshot
    from cancelflow.exceptions import StripeResourceMissingError

    if not Path(path).is_file():
        raise UsageError(f"--history ledger:{path}: no such SQLite ledger file")
    gateway = StripeGateway(
        ctx.stripe_client(otherwise="give a JSONL file as --history")
    )

    def snapshot(subscription_id: str) -> SubscriptionSnapshot | None:
        try:
            return gateway.retrieve_subscription(subscription_id)
        except StripeResourceMissingError:
            return None

    with SQLiteLedger(path) as ledger:
        note_problems(ledger, path, ctx.stderr)
        yield from records_from_ledger(ledger, snapshot)


def _coupon_facts(args: argparse.Namespace, ctx: Context) -> CouponFacts:
    if args.coupons is not None:
        return _coupons_from_file(args.coupons)
    if not ctx.environ.get("STRIPE_API_KEY"):
        raise UsageError(
            "no coupon facts: give --coupons FILE (Stripe coupon objects as JSON), "
            "or set STRIPE_API_KEY to retrieve them from Stripe"
        )
    from cancelflow._links.coupon_cache import CouponCache
    from cancelflow._stripe.gateway import StripeGateway

    return CouponCache.from_gateway(StripeGateway(ctx.stripe_client()), ttl=3600)


def _backtest(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow._backtest.backtest import backtest

    policy = _load(args.file, args.predicates)
    coupons = _coupon_facts(args, ctx)
    if args.forever_months < 1:
        raise UsageError("--forever-months must be ≥ 1")
    bar = Progress(ctx.stderr, enabled=not args.no_progress)
    sink: TextIO | None = None
    on_decision: Callable[[Any, Any], None] | None = None
    if args.decisions is not None:
        try:
            sink = Path(args.decisions).open("w", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise UsageError(f"--decisions {args.decisions}: {err.strerror}") from None
        out = sink

        def write(record: object, decision: Any) -> None:  # noqa: ARG001
            out.write(decision.to_json())
            out.write("\n")

        on_decision = write

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be ≥ 1")
    parallel = (
        on_decision is None
        and args.history != "stripe"
        and not args.history.startswith("ledger:")
        and Path(args.history).is_file()
    )
    try:
        if parallel:
            from cancelflow._backtest.parallel import backtest_file

            report = backtest_file(
                policy,
                args.history,
                coupons=coupons,
                now=args.now if args.now is not None else int(time.time()),
                forever_months=args.forever_months,
                workers=args.workers,
                progress=bar.update,
            )
        else:
            report = backtest(
                policy,
                _records(args, ctx, bar),
                coupons=coupons,
                forever_months=args.forever_months,
                on_decision=on_decision,
            )
    finally:
        bar.close()
        if sink is not None:
            sink.close()
    if args.json:
        print(
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False), file=ctx.stdout
        )
    else:
        ctx.stdout.write(report.render_text())
    return 0

"""``cancelflow report``: why customers leave and what the offers saved.

Registered in :data:`cancelflow._cli.main.COMMANDS`. Reads a SQLite or
PostgreSQL ledger (``--ledger``) or Stripe itself (``--from-stripe``, with
``STRIPE_API_KEY``), and writes text, JSON, CSV or HTML to stdout or a file.
Heavy imports stay inside the handler.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from cancelflow._cli.main import (
    Context,
    UsageError,
    is_terminal,
    note_problems,
    writing,
)

if TYPE_CHECKING:
    from cancelflow._outcomes.ledger_sql import SQLLedger
    from cancelflow._reports.model import Report
    from cancelflow._reports.stripe_report import RateLimitWait, ScanProgress

__all__ = ["ScanBar", "open_ledger", "parse_moment", "register"]

DEFAULT_CHECKPOINT: Final = "cancelflow-report.checkpoint.json"
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def register(subparsers: Any, name: str) -> None:
    """Add ``cancelflow report`` to the command line."""
    parser = subparsers.add_parser(
        name,
        help="report why customers cancel and what retention offers saved",
        description=(
            "Report the cancellations of a time window: reasons and custom feedback "
            "options (count, share, MRR lost), products and prices, tenure, months, "
            "the customers' comments, withdrawn cancellations, and retention offers "
            "(save rate per coupon and per experiment arm, lift over the holdout "
            "with a 95 %% interval, revenue kept net of the discounts). From a "
            "ledger, the figures are computed by SQL in its database; --from-stripe "
            "lists Stripe's subscriptions instead (needs STRIPE_API_KEY; reasons, "
            "not offers). Definitions: docs/reports.md."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--ledger",
        metavar="URL",
        help="sqlite:///PATH (or a file path) or postgresql://USER:PASSWORD@HOST/DB",
    )
    source.add_argument(
        "--from-stripe",
        action="store_true",
        help="read subscriptions from Stripe (STRIPE_API_KEY) instead of a ledger",
    )
    parser.add_argument(
        "--schema",
        help="the PostgreSQL schema of the ledger's tables, if not the default",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="window start, included: YYYY-MM-DD (UTC), an ISO 8601 time with its "
        "offset, or unix seconds",
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="window end, excluded (same forms)"
    )
    parser.add_argument(
        "--format",
        choices=["text", "json", "csv", "html"],
        default="text",
        help="text (aligned tables; default), json, csv or html (one file, SVG charts)",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write to FILE instead of stdout"
    )
    parser.add_argument(
        "--locale",
        choices=["en", "fr"],
        default="en",
        help="labels and numbers (en, fr)",
    )
    parser.add_argument(
        "--comments",
        type=int,
        default=100,
        metavar="N",
        help="list the N newest comments (default 100; all are counted)",
    )
    parser.add_argument(
        "--horizon-months",
        type=int,
        default=12,
        metavar="N",
        help="months over which offers' revenue and discount cost are counted (12)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        default=DEFAULT_CHECKPOINT,
        help="with --from-stripe: save progress here after every page and resume "
        f"from it after an interruption (default {DEFAULT_CHECKPOINT})",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="with --from-stripe: ignore (and replace) an existing checkpoint",
    )
    parser.set_defaults(handler=_report)


def parse_moment(text: str, option: str) -> int:
    """``--since``/``--until`` as unix seconds.

    Raises:
        UsageError: not a date, an ISO time with an offset, or a number.
    """
    value = text.strip()
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    try:
        if _DATE.match(value):
            day = dt.date.fromisoformat(value)
            return int(
                dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
            )
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(
            f"{option} {text!r}: give a date (2026-03-01, UTC), an ISO 8601 time with "
            "its offset (2026-03-01T09:00:00+01:00) or unix seconds"
        )
    return int(moment.timestamp())


def open_ledger(url: str, schema: str | None) -> SQLLedger:
    """The ledger a ``--ledger`` value names (never printing the URL's secrets).

    Raises:
        UsageError: an unknown scheme, or a SQLite file that does not exist.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from cancelflow._outcomes.ledger_postgres import PostgresLedger

        return PostgresLedger(url, schema=schema)
    if schema is not None:
        raise UsageError("--schema is for a PostgreSQL ledger")
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
    elif "://" in url:
        scheme = url.split("://", 1)[0]
        raise UsageError(
            f"--ledger: unknown scheme {scheme!r}; use sqlite:///PATH or postgresql://…"
        )
    else:
        path = url
    if not Path(path).is_file():
        raise UsageError(
            f"--ledger: no SQLite ledger at {path!r} (sqlite:///relative/path or "
            "sqlite:////absolute/path)"
        )
    from cancelflow._outcomes.ledger_sqlite import SQLiteLedger

    return SQLiteLedger(path)


class ScanBar:
    """A one-line progress bar for the Stripe scan, on a terminal only.

    Stripe does not say how many subscriptions there are, so the bar runs back
    and forth while the counts grow, and says how far back in time the list
    has got (it goes from the newest subscription to the oldest).
    """

    __slots__ = ("_drawn", "_last", "clock", "stream", "width")

    def __init__(
        self,
        stream: TextIO,
        *,
        width: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.width = width
        self.clock = clock
        self._drawn = False
        self._last = float("-inf")

    @property
    def shown(self) -> bool:
        """Whether the stream is a terminal (otherwise nothing is drawn)."""
        return is_terminal(self.stream)

    def __call__(self, progress: ScanProgress) -> None:
        """Redraw for *progress* (at most ten times a second, and at the end)."""
        if not self.shown:
            return
        now = self.clock()
        if now - self._last < 0.1 and not progress.done:
            return
        self._last = now
        cycle = 2 * (self.width - 4)
        step = progress.pages % cycle
        start = step if step <= self.width - 4 else cycle - step
        bar = (
            "#" * self.width
            if progress.done
            else " " * start + "####" + " " * (self.width - 4 - start)
        )
        back = ""
        if progress.oldest_created is not None:
            day = dt.datetime.fromtimestamp(progress.oldest_created, tz=dt.UTC)
            back = f" · back to {day:%Y-%m-%d}"
        text = (
            f"\rStripe [{bar}] {progress.subscriptions:,} subscriptions · "
            f"{progress.cancellations:,} cancellations{back}"
        )
        self.stream.write(text)
        if progress.done:
            self.stream.write("\n")
        self.stream.flush()
        self._drawn = not progress.done

    def say(self, line: str) -> None:
        """Print *line* on its own (below the bar, which is redrawn next time)."""
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        self.stream.write(line + "\n")
        self.stream.flush()

    def rate_limited(self, wait: RateLimitWait) -> None:
        """Say that Stripe answered 429 and how long the scan waits."""
        self.say(f"cancelflow: {wait.describe()}")


def _build(args: argparse.Namespace, ctx: Context) -> Report:
    since = None if args.since is None else parse_moment(args.since, "--since")
    until = None if args.until is None else parse_moment(args.until, "--until")
    if args.from_stripe:
        from cancelflow._reports.stripe_report import report_from_stripe

        client = ctx.stripe_client(otherwise="use --ledger")
        checkpoint = Path(args.checkpoint)
        if args.restart:
            checkpoint.unlink(missing_ok=True)
        bar = ScanBar(ctx.stderr)
        try:
            return report_from_stripe(
                client,
                since=since,
                until=until,
                horizon_months=args.horizon_months,
                comments=args.comments,
                checkpoint=checkpoint,
                on_progress=bar,
                on_rate_limit=bar.rate_limited,
            )
        except KeyboardInterrupt:
            bar.say(
                f"cancelflow: interrupted; progress is saved in {checkpoint}: run the "
                "same command again to resume"
            )
            raise
    if args.checkpoint != DEFAULT_CHECKPOINT or args.restart:
        raise UsageError("--checkpoint and --restart are for --from-stripe")
    from cancelflow._reports.ledger_report import report_from_ledger

    with open_ledger(args.ledger, args.schema) as ledger:
        note_problems(ledger, "the ledger", ctx.stderr)
        return report_from_ledger(
            ledger,
            since=since,
            until=until,
            horizon_months=args.horizon_months,
            comments=args.comments,
        )


def _report(args: argparse.Namespace, ctx: Context) -> int:
    report = _build(args, ctx)
    if args.output is None:
        ctx.stdout.write(report.render(args.format, locale=args.locale))
        return 0
    with writing(args.output):
        report.write(args.output, args.format, locale=args.locale)
    print(f"wrote {args.output}", file=ctx.stderr)
    return 0

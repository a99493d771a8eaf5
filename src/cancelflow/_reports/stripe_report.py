"""Reports straight from Stripe, without a ledger: what teams otherwise need Sigma for.

Lists every subscription (``status=all``, newest first, 100 a page, through the
gateway) and counts those canceled or scheduled to cancel, with their
``cancellation_details``, into the same partial sums as a ledger report. Stripe
keeps no record of cancel links, offers or withdrawals, so a report from
Stripe has the reasons, options, prices, tenure, months and comments, not the
offer and experiment figures.

The scan can be long (Stripe has no filter for "canceled in this window", so
every subscription created before the window's end is read), so it is:

* **resumable**: with a *checkpoint* file, the cursor and the sums so far are
  saved after every page (written to a temporary file, then renamed over the
  old one); running again with the same window continues from there, and a
  finished scan removes the file;
* **polite**: on HTTP 429 it waits 1, 2, 4 … up to 32 seconds (Stripe asks
  for an exponential back-off), says so through *on_rate_limit*, and retries
  the same page, up to *max_retries* times;
* **visible**: *on_progress* hears after every page how far it got.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

import attrs

from cancelflow._reports.cube import Cube, assemble
from cancelflow._reports.ledger_report import Moment, check_options, to_timestamp
from cancelflow._reports.model import Report
from cancelflow._stripe.read import Obj
from cancelflow._stripe.subscription_data import (
    item_ratio,
    main_item,
    read_item,
    round_half_even,
    sum_ratios,
)
from cancelflow.exceptions import (
    InvalidParameterError,
    StripeObjectError,
    StripeRateLimitError,
)

if TYPE_CHECKING:
    import stripe

    from cancelflow._stripe.gateway import StripeGateway

__all__ = ["RateLimitWait", "ScanProgress", "report_from_stripe"]

CHECKPOINT_FORMAT: Final = "cancelflow.report-checkpoint"
CHECKPOINT_VERSION: Final = 1
MAX_DELAY: Final = 32.0
_INVOLUNTARY: Final = frozenset(
    {"payment_failed", "payment_disputed", "canceled_by_retention_policy"}
)


@attrs.frozen(kw_only=True)
class ScanProgress:
    """How far a scan of Stripe's subscriptions has got.

    Attributes:
        pages: pages read (including those of a resumed earlier run).
        subscriptions: subscriptions read.
        cancellations: of those, canceled or scheduled to cancel in the window.
        oldest_created: the ``created`` of the last subscription read (the list
            goes from the newest to the oldest), if any.
        resumed: whether the scan continued from a checkpoint.
        done: whether this is the last report (the scan finished).
    """

    pages: int
    subscriptions: int
    cancellations: int
    oldest_created: int | None
    resumed: bool
    done: bool


@attrs.frozen(kw_only=True)
class RateLimitWait:
    """Stripe answered 429 (too many requests); the scan waits, then retries.

    Attributes:
        attempt: which retry this wait comes before (1 for the first).
        delay: seconds it waits.
        max_retries: how many retries it makes before giving up.
    """

    attempt: int
    delay: float
    max_retries: int

    def describe(self) -> str:
        """One line saying what happens (for a terminal or a log).

        Returns:
            ``"Stripe is rate limiting requests (HTTP 429); waiting 2 s before
            retry 2 of 8"``.
        """
        return (
            "Stripe is rate limiting requests (HTTP 429); waiting "
            f"{self.delay:g} s before retry {self.attempt} of {self.max_retries}"
        )


def _gateway(client: object) -> StripeGateway:
    from cancelflow._stripe.gateway import StripeGateway

    if isinstance(client, StripeGateway):
        return client
    return StripeGateway(client)  # type: ignore[arg-type] # checked by its validator


def _record(value: Mapping[str, Any]) -> dict[str, Any] | None:
    """One subscription as the cube's fields, or ``None`` if it is no cancellation.

    Feedback values are kept as Stripe's strings, known or not (a newer API
    version may send values this cancelflow does not know).
    """
    o = Obj.of(value, "subscription")
    status = o.opt_string("status")
    canceled_at = o.opt_integer("canceled_at")
    cancel_at = o.opt_integer("cancel_at")
    details = o.opt_obj("cancellation_details")
    feedback = comment = option = reason = None
    if details is not None:
        feedback = details.opt_string("feedback") or None
        comment = details.opt_string("comment") or None
        option = details.opt_id_of("feedback_option") or None
        reason = details.opt_string("reason")
    if status == "canceled":
        state = "ended"
        at = canceled_at if canceled_at is not None else o.opt_integer("ended_at")
    elif status != "incomplete_expired" and (
        o.boolean("cancel_at_period_end", default=False) or cancel_at is not None
    ):
        state = "scheduled"
        # When the cancellation was asked for; a schedule made with cancel_at
        # alone (the portal in flexible billing mode) leaves canceled_at empty
        # until the end, so it is placed at its cancel_at -- if someone asked
        # for it (a subscription created with an end date is no cancellation).
        at = canceled_at
        if at is None and reason == "cancellation_requested":
            at = cancel_at
    else:
        return None
    if at is None:
        return None  # no time to place it in a window (see docs/reports.md)
    items_obj = o.opt_obj("items")
    items = [read_item(i) for i in items_obj.objs("data")] if items_obj else []
    item = main_item(items)
    currency = o.opt_string("currency")
    return {
        "case_id": o.string("id"),
        "subscription_id": o.string("id"),
        "customer_id": o.opt_id_of("customer"),
        "state": state,
        "initiated": state == "scheduled" or reason not in _INVOLUNTARY,
        "opened_at": at,
        "feedback": feedback,
        "option": option,
        "comment": comment,
        "started_at": o.opt_integer("start_date"),
        "mrr": round_half_even(*sum_ratios(item_ratio(i) for i in items)),
        "currency": currency.lower() if currency else None,
        "price_id": item["price_id"] if item else None,
        "product_id": item["product_id"] if item else None,
    }


@attrs.define
class _Scan:
    since: int | None
    until: int | None
    cube: Cube
    cursor: str | None = None
    pages: int = 0
    subscriptions: int = 0
    cancellations: int = 0
    oldest_created: int | None = None
    resumed: bool = False

    def identity(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "horizon_months": self.cube.horizon,
            "comments": self.cube.comment_limit,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "query": self.identity(),
            "cursor": self.cursor,
            "pages": self.pages,
            "subscriptions": self.subscriptions,
            "cancellations": self.cancellations,
            "oldest_created": self.oldest_created,
            "cube": self.cube.to_json(),
        }

    def progress(self, *, done: bool) -> ScanProgress:
        return ScanProgress(
            pages=self.pages,
            subscriptions=self.subscriptions,
            cancellations=self.cancellations,
            oldest_created=self.oldest_created,
            resumed=self.resumed,
            done=done,
        )


def _load_checkpoint(path: Path, scan: _Scan) -> None:
    """Continue *scan* from the checkpoint at *path*, if there is one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InvalidParameterError(
            "checkpoint", f"cannot read {path}: {exc.strerror}"
        ) from None
    try:
        data = json.loads(text)
        if (
            data.get("format") != CHECKPOINT_FORMAT
            or data.get("version") != CHECKPOINT_VERSION
        ):
            _not_a_checkpoint()
        if data["query"] != scan.identity():
            raise InvalidParameterError(
                "checkpoint",
                f"{path} belongs to a scan with other options ({data['query']}); "
                "give the same options to resume it, or delete the file to start over",
            )
        cursor = data["cursor"]
        scan.cube.load_json(data["cube"])
        scan.cursor = cursor if isinstance(cursor, str) else None
        scan.pages = int(data["pages"])
        scan.subscriptions = int(data["subscriptions"])
        scan.cancellations = int(data["cancellations"])
        oldest = data["oldest_created"]
        scan.oldest_created = None if oldest is None else int(oldest)
        scan.resumed = True
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, InvalidParameterError):
            raise
        raise InvalidParameterError(
            "checkpoint",
            f"{path} is not a report checkpoint ({exc}); delete it to start over",
        ) from None


def _not_a_checkpoint() -> NoReturn:
    raise ValueError("not a cancelflow report checkpoint")


def _save_checkpoint(path: Path, scan: _Scan) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(
        json.dumps(scan.to_json(), separators=(",", ":")), encoding="utf-8"
    )
    temporary.replace(path)


def report_from_stripe(
    client: stripe.StripeClient | StripeGateway,
    *,
    since: Moment | None = None,
    until: Moment | None = None,
    horizon_months: int = 12,
    comments: int | None = 100,
    now: Moment | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    on_progress: Callable[[ScanProgress], None] | None = None,
    on_rate_limit: Callable[[RateLimitWait], None] | None = None,
    max_retries: int = 8,
    sleep: Callable[[float], None] = time.sleep,
    page_size: int = 100,
) -> Report:
    """The reason figures of ``[since, until)`` read straight from Stripe.

    A subscription counts when it is canceled (at ``canceled_at``, else
    ``ended_at``) or scheduled to cancel (``cancel_at_period_end``, or
    ``cancel_at`` in flexible billing mode; at ``canceled_at``, when the
    cancellation was asked for) inside the window; its reason, comment and
    custom option come from ``cancellation_details``. Ends Stripe made on its
    own (``payment_failed``, ``payment_disputed``,
    ``canceled_by_retention_policy``) are counted apart as involuntary.

    Args:
        client: the host's `stripe.StripeClient` (or a
            [`StripeGateway`][cancelflow.StripeGateway]).
        since: the window's start (included): unix seconds, an aware
            ``datetime`` or a ``date``; ``None``: the beginning.
        until: the window's end (excluded); also limits the listing to
            subscriptions created before it.
        horizon_months: as for
            [`report_from_ledger`][cancelflow.report_from_ledger].
        comments: how many of the newest comments to list (``None``: all).
        now: the report's ``generated_at`` (default: the current time).
        checkpoint: a file to save progress to after every page, and to
            resume from (same window and options) after an interruption;
            removed when the scan finishes.
        on_progress: called after every page with a
            [`ScanProgress`][cancelflow.ScanProgress].
        on_rate_limit: called with a [`RateLimitWait`][cancelflow.RateLimitWait]
            before each wait after a 429.
        max_retries: how many times one page is retried after a 429.
        sleep: how to wait (``time.sleep``; tests pass a recorder).
        page_size: subscriptions per page (1 to 100).

    Returns:
        The [`Report`][cancelflow.Report] (`source="stripe"`).

    Raises:
        InvalidParameterError: an option is wrong, or the checkpoint belongs
            to another scan.
        StripeRateLimitError: still rate limited after *max_retries* retries
            (progress is in the checkpoint).
        StripeAPIError: Stripe refused otherwise (progress is in the
            checkpoint; run again to resume).
        StripeObjectError: a subscription Stripe sent does not have the
            expected shape (the message says which page and item).

    Example:
        ```python
        import cancelflow
        from cancelflow.testing import FakeStripe

        fake = FakeStripe()
        report = cancelflow.report_from_stripe(fake.client())
        assert report.source == "stripe" and report.summary.cancellations == 0
        ```
    """
    low, high = check_options(since, until, horizon_months, comments)
    retries: object = max_retries
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise InvalidParameterError("max_retries", "must be an integer ≥ 0")
    generated = to_timestamp(now, "now")
    gateway = _gateway(client)
    scan = _Scan(
        since=low, until=high, cube=Cube(horizon=horizon_months, comment_limit=comments)
    )
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None:
        _load_checkpoint(path, scan)
    if on_progress is not None and scan.resumed:
        on_progress(scan.progress(done=False))
    more = not (scan.resumed and scan.cursor is None and scan.pages > 0)
    while more:
        attempt = 0
        while True:
            try:
                page = gateway.list_subscriptions_page(
                    status="all",
                    created_before=high,
                    starting_after=scan.cursor,
                    page_size=page_size,
                )
                break
            except StripeRateLimitError:
                attempt += 1
                if attempt > max_retries:
                    raise
                wait = RateLimitWait(
                    attempt=attempt,
                    delay=min(MAX_DELAY, 2.0 ** (attempt - 1)),
                    max_retries=max_retries,
                )
                if on_rate_limit is not None:
                    on_rate_limit(wait)
                sleep(wait.delay)
        for n, obj in enumerate(page.objects):
            try:
                record = _record(obj)
                created = Obj.of(obj, "subscription").opt_integer("created")
            except StripeObjectError as exc:
                raise StripeObjectError(
                    f"subscriptions page {scan.pages + 1}, item {n}: {exc.path}",
                    exc.problem,
                ) from exc
            scan.subscriptions += 1
            if created is not None:
                scan.oldest_created = created
            if record is None:
                continue
            at = record["opened_at"]
            if (low is not None and at < low) or (high is not None and at >= high):
                continue
            scan.cancellations += 1
            scan.cube.add(**record)
        scan.pages += 1
        scan.cursor = page.last_id
        more = page.has_more and scan.cursor is not None
        if not more:
            scan.cursor = None
        if path is not None:
            _save_checkpoint(path, scan)
        if on_progress is not None and more:
            on_progress(scan.progress(done=False))
    if on_progress is not None:
        on_progress(scan.progress(done=True))
    report = assemble(
        scan.cube,
        source="stripe",
        since=low,
        until=high,
        generated_at=int(time.time()) if generated is None else generated,
    )
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return report

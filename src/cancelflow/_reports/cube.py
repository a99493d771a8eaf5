"""The report's partial sums (the "cube") and the figures assembled from them.

Every source fills the same three groupings of the cases opened in the window,
then :func:`assemble` derives every figure from them in one place:

* by *case key* — ``(state, customer_initiated, feedback, feedback_option,
  tenure_band, currency, offered_coupon, experiment, arm)`` — the sums
  ``n`` (cases), ``mrr``, ``cost`` (the discount's cost over the horizon, of
  saved cases whose link recorded the coupon's terms), ``unknown`` (saved
  cases whose link did not), ``later`` and ``later_mrr`` (saved cases whose
  subscription was cancelled again later);
* by *price key* — ``(product_id, price_id, month, currency)`` (the UTC
  month of ``opened_at``, ``"2026-03"``; a price belongs to one product) — ``n`` and
  ``mrr`` of the cancellations;
* the newest comments, and how many there are.

The SQL stores compute these sums in the database (``_reports/sql.py``); the
memory ledger, other ledgers and Stripe compute them here, case by case, with
the same definitions (``tests/test_reports.py`` runs one data set through the
three stores and compares the reports).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Final, NoReturn, TypeVar

import attrs

from cancelflow._outcomes.ledger import Case
from cancelflow._reports.model import (
    ArmFigures,
    Breakdown,
    CommentRow,
    Lift,
    OfferFigures,
    PriceBreakdown,
    Rate,
    Report,
    ReportSummary,
    RevenueFigures,
    WithdrawnFigures,
)
from cancelflow._reports.stats import newcombe_interval
from cancelflow._stripe.reasons import CancellationFeedback
from cancelflow.exceptions import LedgerError

__all__ = ["MONTH_SECONDS", "TENURE_BANDS", "Cube", "assemble", "tenure_band"]

MONTH_SECONDS: Final = 2_629_746
"""An average Gregorian month (365.2425 days / 12), for tenure in months."""

TENURE_BANDS: Final = ("0-1", "1-3", "3-6", "6-12", "12-24", "24+")
"""Tenure bands in months: ``[0, 1)``, ``[1, 3)``, …, ``[24, ∞)``."""
_BAND_STARTS: Final = (1, 3, 6, 12, 24)

CANCELLED: Final = frozenset({"scheduled", "ended"})
STAYED: Final = frozenset({"saved", "withdrawn", "opened"})
KNOWN_FEEDBACK: Final = tuple(m.value for m in CancellationFeedback)

CaseKey = tuple[
    str,
    bool,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
]
PriceKey = tuple[str | None, str | None, str, str | None]
_K = TypeVar("_K", bound=Hashable)


def trunc_div(numerator: int, denominator: int) -> int:
    """Integer division rounding toward zero, as SQLite and PostgreSQL do."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


def tenure_band(months: int | None) -> str | None:
    """The band of a tenure in whole months (``None``: start unknown)."""
    if months is None:
        return None
    return TENURE_BANDS[bisect.bisect_right(_BAND_STARTS, months)]


def utc_month(timestamp: int) -> str:
    """The UTC month of unix seconds, ``"2026-03"`` (SQLite's ``strftime('%Y-%m')``)."""
    try:
        return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m")
    except (OverflowError, OSError, ValueError):
        return "????-??"


def discount_cost(
    offer_discount: int | None, offer_months: int | None, horizon: int
) -> int:
    """The coupon's cost over *horizon* months (``offer_discount`` known)."""
    if offer_discount is None:
        return 0
    months = (
        horizon if offer_months is None or offer_months >= horizon else offer_months
    )
    return offer_discount * months


@attrs.define
class Cube:
    """The partial sums of one report (see the module documentation).

    Attributes:
        horizon: months over which revenue and discount cost are counted.
        comment_limit: how many comments to keep (the newest; ``None``: all).
    """

    horizon: int
    comment_limit: int | None
    by_case: dict[CaseKey, list[int]] = attrs.Factory(dict)
    by_price: dict[PriceKey, list[int]] = attrs.Factory(dict)
    comments: list[CommentRow] = attrs.Factory(list)
    comments_total: int = 0

    # -- filling, case by case ------------------------------------------------------

    def add(
        self,
        *,
        case_id: str,
        state: str,
        initiated: bool,
        opened_at: int,
        feedback: str | None,
        option: str | None,
        started_at: int | None,
        mrr: int | None,
        currency: str | None,
        coupon: str | None = None,
        experiment: str | None = None,
        arm: str | None = None,
        offer_discount: int | None = None,
        offer_months: int | None = None,
        later: bool = False,
        product_id: str | None = None,
        price_id: str | None = None,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        comment: str | None = None,
        comment_at: int | None = None,
    ) -> None:
        """Count one case (the same definitions as the SQL of the stores)."""
        tenure = (
            None
            if started_at is None
            else tenure_band(trunc_div(opened_at - started_at, MONTH_SECONDS))
        )
        amount = mrr or 0
        key: CaseKey = (
            state,
            initiated,
            feedback,
            option,
            tenure,
            currency,
            coupon,
            experiment,
            arm,
        )
        saved = state == "saved"
        sums = self.by_case.setdefault(key, [0, 0, 0, 0, 0, 0])
        sums[0] += 1
        sums[1] += amount
        if saved:
            sums[2] += discount_cost(offer_discount, offer_months, self.horizon)
            sums[3] += offer_discount is None
            sums[4] += later
            sums[5] += amount if later else 0
        if initiated and state in CANCELLED:
            price_key = (
                product_id,
                price_id,
                utc_month(opened_at),
                currency,
            )
            price_sums = self.by_price.setdefault(price_key, [0, 0])
            price_sums[0] += 1
            price_sums[1] += amount
        if comment:
            self.comments_total += 1
            self.comments.append(
                CommentRow(
                    case_id=case_id,
                    customer_id=customer_id,
                    subscription_id=subscription_id,
                    at=opened_at if comment_at is None else comment_at,
                    feedback=feedback,
                    comment=comment,
                    mrr=mrr,
                    currency=currency,
                )
            )
            if self.comment_limit is not None and len(self.comments) > 2 * (
                self.comment_limit + 64
            ):
                self._trim_comments()

    def add_case(self, case: Case, *, later: bool) -> None:
        """Count one ledger :class:`~cancelflow.Case`."""
        self.add(
            case_id=case.id,
            state=case.state.value,
            initiated=case.customer_initiated,
            opened_at=case.opened_at,
            feedback=None if case.feedback is None else str(case.feedback),
            option=case.feedback_option,
            started_at=case.started_at,
            mrr=case.mrr,
            currency=case.currency,
            coupon=case.offered_coupon,
            experiment=case.experiment,
            arm=case.arm,
            offer_discount=case.offer_discount,
            offer_months=case.offer_months,
            later=later,
            product_id=case.product_id,
            price_id=case.price_id,
            customer_id=case.customer_id,
            subscription_id=case.subscription_id,
            comment=case.comment,
            comment_at=case.feedback_at,
        )

    def _trim_comments(self) -> None:
        self.comments.sort(key=lambda c: (-c.at, c.case_id))
        if self.comment_limit is not None:
            del self.comments[self.comment_limit :]

    # -- filling from the stores' SQL ---------------------------------------------------

    def add_sql_row(self, row: tuple[Any, ...]) -> None:
        """Add one row of the stores' report query (``_reports/sql.py``).

        Raises:
            LedgerError: the row does not have the expected shape.
        """
        try:
            tag, key_text, n, mrr, cost, unknown, later, later_mrr, at, note = row
            tag = int(tag)
            if tag == 4:
                self.comments_total = int(n)
                return
            key = json.loads(key_text)
            if tag == 1:
                self.by_case[_case_key(key[1:])] = [
                    int(x) for x in (n, mrr, cost, unknown, later, later_mrr)
                ]
            elif tag == 2:
                _, price, month, currency = key
                product = note
                self.by_price[(product, price, str(month), currency)] = [
                    int(n),
                    int(mrr),
                ]
            elif tag == 3:
                _, case_id, customer, subscription, feedback, currency = key
                self.comments.append(
                    CommentRow(
                        case_id=case_id,
                        customer_id=customer,
                        subscription_id=subscription,
                        at=int(at),
                        feedback=feedback,
                        comment=str(note),
                        mrr=None if mrr is None else int(mrr),
                        currency=currency,
                    )
                )
            else:
                _unexpected(f"unknown tag {tag}")
        except (TypeError, ValueError) as exc:
            raise LedgerError(
                f"the report query returned an unexpected row: {exc}"
            ) from exc

    # -- checkpoints (the Stripe scan) --------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The partial sums as JSON data (a resumable scan's checkpoint)."""
        self._trim_comments()
        return {
            "by_case": [[list(k), v] for k, v in self.by_case.items()],
            "by_price": [[list(k), v] for k, v in self.by_price.items()],
            "comments": [attrs.asdict(c) for c in self.comments],
            "comments_total": self.comments_total,
        }

    def load_json(self, data: Mapping[str, Any]) -> None:
        """Add partial sums saved by :meth:`to_json`.

        Raises:
            ValueError: *data* is not such output.
        """
        try:
            for key, sums in data["by_case"]:
                if len(sums) != 6:
                    _unexpected("a case has the wrong number of sums")
                self.by_case[_case_key(key)] = [int(x) for x in sums]
            for key, sums in data["by_price"]:
                product, price, month, currency = key
                self.by_price[(product, price, str(month), currency)] = [
                    int(sums[0]),
                    int(sums[1]),
                ]
            self.comments.extend(CommentRow(**c) for c in data["comments"])
            self.comments_total = int(data["comments_total"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a report checkpoint: {exc!r}") from None


def _unexpected(message: str) -> NoReturn:
    raise ValueError(message)


def _case_key(values: Sequence[Any]) -> CaseKey:
    """A case key read back from JSON (the stores' query, a checkpoint).

    Raises:
        ValueError: *values* is not nine values long.
    """
    state, initiated, *rest = values
    key = (str(state), bool(initiated), *rest)
    if len(key) != 9:
        _unexpected("a case key has the wrong length")
    return key


# -- the figures -----------------------------------------------------------------------


def _add(into: dict[str, int], currency: str | None, amount: int) -> None:
    if currency is None:
        return  # no MRR is recorded without a currency
    into[currency] = into.get(currency, 0) + amount


def _feedback_order(key: str | None) -> tuple[int, str]:
    if key is None:
        return (2, "")
    if key in KNOWN_FEEDBACK:
        return (0, f"{KNOWN_FEEDBACK.index(key):02d}")
    return (1, key)


def _breakdown(
    groups: Mapping[str | None, tuple[int, dict[str, int]]],
    total: int,
    *,
    feedback: bool = False,
) -> tuple[Breakdown, ...]:
    rows = [
        Breakdown(
            key=key,
            count=count,
            share=count / total if total else 0.0,
            mrr=mrr,
            known=not feedback or key is None or key in KNOWN_FEEDBACK,
        )
        for key, (count, mrr) in groups.items()
    ]
    if feedback:
        rows.sort(key=lambda r: (-r.count, _feedback_order(r.key)))
    else:
        rows.sort(key=lambda r: (-r.count, r.key is None, r.key or ""))
    return tuple(rows)


def _group(
    items: Iterable[tuple[_K, str | None, int, int]],
) -> dict[_K, tuple[int, dict[str, int]]]:
    """``(key, currency, n, mrr)`` items summed by key."""
    out: dict[_K, tuple[int, dict[str, int]]] = {}
    for key, currency, n, mrr in items:
        count, amounts = out.get(key, (0, {}))
        _add(amounts, currency, mrr)
        out[key] = (count + n, amounts)
    return out


def _months(cube: Cube, total: int) -> tuple[Breakdown, ...]:
    by_month = _group(
        (month, currency, n, mrr)
        for (_, _, month, currency), (n, mrr) in cube.by_price.items()
    )
    if not by_month:
        return ()
    first, last = min(k for k in by_month if k), max(k for k in by_month if k)
    year, month = int(first[:4]), int(first[5:])
    rows = []
    while True:
        key = f"{year:04d}-{month:02d}"
        count, mrr = by_month.get(key, (0, {}))
        rows.append(
            Breakdown(
                key=key, count=count, share=count / total if total else 0.0, mrr=mrr
            )
        )
        if key >= last:
            return tuple(rows)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _arms(cube: Cube) -> tuple[ArmFigures, ...]:
    # (experiment, arm) -> attempts, redeemed, stayed, {coupon: attempts}
    arms: dict[tuple[str | None, str], list[Any]] = {}
    for key, sums in cube.by_case.items():
        state, _, _, _, _, _, coupon, experiment, arm = key
        if arm is None:
            continue
        entry = arms.setdefault((experiment, arm), [0, 0, 0, defaultdict(int)])
        entry[0] += sums[0]
        entry[1] += sums[0] if state == "saved" else 0
        entry[2] += sums[0] if state in STAYED else 0
        entry[3][coupon] += sums[0]
    holdouts: dict[str | None, list[Any]] = {}
    for (experiment, arm), (attempts, _, stayed, coupons) in arms.items():
        if set(coupons) == {None}:
            pooled = holdouts.setdefault(experiment, [0, 0, []])
            pooled[0] += attempts
            pooled[1] += stayed
            pooled[2].append(arm)
    figures = []
    for (experiment, arm), (attempts, redeemed, stayed, coupons) in arms.items():
        holdout = set(coupons) == {None}
        offered = sorted(
            ((n, c) for c, n in coupons.items() if c is not None),
            key=lambda x: (-x[0], x[1]),
        )
        lift = None
        held = holdouts.get(experiment)
        if not holdout and held is not None:
            found = newcombe_interval(stayed, attempts, held[1], held[0])
            if found is not None:
                lift = Lift(
                    difference=found[0],
                    low=found[1],
                    high=found[2],
                    holdout_arms=tuple(sorted(held[2])),
                )
        figures.append(
            ArmFigures(
                experiment=experiment,
                arm=arm,
                coupon=offered[0][1] if offered else None,
                holdout=holdout,
                attempts=attempts,
                redeemed=redeemed,
                stayed=stayed,
                save=Rate.of(stayed, attempts),
                lift=lift,
            )
        )
    figures.sort(key=lambda a: (a.experiment or "", not a.holdout, a.arm))
    return tuple(figures)


def assemble(
    cube: Cube,
    *,
    source: str,
    since: int | None,
    until: int | None,
    generated_at: int,
) -> Report:
    """Every figure of the report, from *cube*'s partial sums."""
    cube._trim_comments()
    states: dict[str, int] = defaultdict(int)
    involuntary = 0
    lost: dict[str, int] = {}
    reasons, options, tenure, withdrawn_reasons = [], [], [], []
    withdrawn_mrr: dict[str, int] = {}
    withdrawn = 0
    offers: dict[str, list[Any]] = {}
    revenue: dict[str, list[int]] = {}
    currencies: set[str] = set()
    for key, (n, mrr, cost, unknown, later, later_mrr) in cube.by_case.items():
        state, initiated, feedback, option, band, currency, coupon, _, _ = key
        if currency is not None:
            currencies.add(currency)
        if not initiated:
            involuntary += n
            continue
        states[state] += n
        if state in CANCELLED:
            _add(lost, currency, mrr)
            reasons.append((feedback, currency, n, mrr))
            if option is not None:
                options.append((option, currency, n, mrr))
            tenure.append((band, currency, n, mrr))
        elif state == "withdrawn":
            withdrawn += n
            _add(withdrawn_mrr, currency, mrr)
            withdrawn_reasons.append((feedback, currency, n, mrr))
        if coupon is not None:
            entry = offers.setdefault(coupon, [0, 0, 0, {}])
            entry[0] += n
            entry[1] += n if state == "saved" else 0
            entry[2] += n if state in STAYED else 0
            if state == "saved":
                _add(entry[3], currency, mrr)
        if state == "saved" and currency is not None:
            sums = revenue.setdefault(currency, [0, 0, 0, 0, 0, 0])
            for i, value in enumerate((n, mrr, cost, unknown, later, later_mrr)):
                sums[i] += value
    cancellations = states["scheduled"] + states["ended"]
    prices = _group_prices(cube, cancellations)
    for _, _, _, currency in cube.by_price:
        if currency is not None:
            currencies.add(currency)
    tenure_groups = _group(tenure)
    tenure_rows = (
        tuple(
            Breakdown(
                key=band,
                count=tenure_groups.get(band, (0, {}))[0],
                share=tenure_groups.get(band, (0, {}))[0] / cancellations,
                mrr=tenure_groups.get(band, (0, {}))[1],
            )
            for band in (*TENURE_BANDS, None)
            if band is not None or band in tenure_groups
        )
        if cancellations
        else ()
    )
    horizon = cube.horizon
    return Report(
        source=source,
        since=since,
        until=until,
        generated_at=generated_at,
        horizon_months=horizon,
        currencies=tuple(sorted(currencies)),
        summary=ReportSummary(
            cases=sum(states.values()) + involuntary,
            cancellations=cancellations,
            scheduled=states["scheduled"],
            ended=states["ended"],
            withdrawn=states["withdrawn"],
            saved=states["saved"],
            opened=states["opened"],
            involuntary=involuntary,
            mrr_lost=lost,
        ),
        reasons=_breakdown(_group(reasons), cancellations, feedback=True),
        feedback_options=_breakdown(_group(options), cancellations),
        prices=prices,
        tenure=tenure_rows,
        months=_months(cube, cancellations),
        comments=tuple(cube.comments),
        comments_total=cube.comments_total,
        withdrawn=WithdrawnFigures(
            count=withdrawn,
            mrr=withdrawn_mrr,
            reasons=_breakdown(_group(withdrawn_reasons), withdrawn, feedback=True),
        ),
        offers=tuple(
            OfferFigures(
                coupon=coupon,
                shown=shown,
                redeemed=redeemed,
                redemption=Rate.of(redeemed, shown),
                stayed=stayed,
                save=Rate.of(stayed, shown),
                saved_mrr=saved_mrr,
            )
            for coupon, (shown, redeemed, stayed, saved_mrr) in sorted(offers.items())
        ),
        arms=_arms(cube),
        revenue=tuple(
            RevenueFigures(
                currency=currency,
                saves=saves,
                kept_mrr=kept_mrr,
                kept=kept_mrr * horizon,
                discount_cost=cost,
                cost_unknown=unknown,
                net=kept_mrr * horizon - cost,
                cancelled_later=later,
                cancelled_later_mrr=later_mrr,
            )
            for currency, (saves, kept_mrr, cost, unknown, later, later_mrr) in sorted(
                revenue.items()
            )
        ),
    )


def _group_prices(cube: Cube, total: int) -> tuple[PriceBreakdown, ...]:
    groups = _group(
        ((product, price), currency, n, mrr)
        for (product, price, _, currency), (n, mrr) in cube.by_price.items()
    )
    rows = [
        PriceBreakdown(
            product_id=product,
            price_id=price,
            count=count,
            share=count / total if total else 0.0,
            mrr=mrr,
        )
        for (product, price), (count, mrr) in groups.items()
    ]
    rows.sort(
        key=lambda r: (-r.count, r.product_id or "\uffff", r.price_id or "\uffff")
    )
    return tuple(rows)

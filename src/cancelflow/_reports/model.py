"""The report's figures as frozen values (what every output is written from).

Amounts are integers in minor units of their currency, kept per currency in a
mapping (``{"eur": 4500, "jpy": 3000}``): amounts in different currencies are
never added together. Rates are floats in ``[0, 1]``. ``docs/reports.md``
defines every figure with its formula.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from cancelflow._stripe.read import frozen_int_map

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "ArmFigures",
    "Breakdown",
    "CommentRow",
    "Lift",
    "OfferFigures",
    "PriceBreakdown",
    "Rate",
    "Report",
    "ReportSummary",
    "RevenueFigures",
    "WithdrawnFigures",
]

REPORT_SCHEMA_VERSION: Final = 1
"""The version of `Report.to_json_data()`'s layout (``docs/reports.md``)."""

Format = Literal["text", "json", "csv", "html"]


def _amounts(value: Mapping[str, int]) -> Mapping[str, int]:
    return frozen_int_map(dict(sorted(value.items())))


@attrs.frozen(kw_only=True)
class Rate:
    """A proportion with its 95 % Wilson score interval.

    Attributes:
        successes: how many succeeded (redeemed, stayed).
        trials: out of how many.
        rate: ``successes / trials``; ``None`` without trials.
        low: the Wilson score interval's lower bound (95 %); ``None``
            without trials.
        high: its upper bound.
    """

    successes: int
    trials: int
    rate: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, successes: int, trials: int) -> Rate:
        """The rate of *successes* in *trials*, with its Wilson interval.

        Args:
            successes: how many succeeded.
            trials: out of how many (0 gives no rate).

        Returns:
            The rate.

        Example:
            ```python
            import cancelflow

            rate = cancelflow.Rate.of(3, 4)
            assert rate.rate == 0.75 and rate.low < 0.75 < rate.high
            ```
        """
        from cancelflow._reports.stats import wilson_interval

        interval = wilson_interval(successes, trials)
        if interval is None:
            return cls(
                successes=successes, trials=trials, rate=None, low=None, high=None
            )
        return cls(
            successes=successes,
            trials=trials,
            rate=successes / trials,
            low=interval[0],
            high=interval[1],
        )


@attrs.frozen(kw_only=True)
class Lift:
    """How much an arm's save rate exceeds its experiment's holdout's.

    Attributes:
        difference: the arm's save rate minus the holdout's.
        low: the 95 % interval's lower bound (Newcombe's hybrid score
            interval).
        high: its upper bound.
        holdout_arms: the holdout arm(s) compared with (pooled when several).
        method: ``"newcombe-hybrid-score"``.
    """

    difference: float
    low: float
    high: float
    holdout_arms: tuple[str, ...]
    method: str = "newcombe-hybrid-score"


@attrs.frozen(kw_only=True)
class ReportSummary:
    """How the cases opened in the window stand.

    Attributes:
        cases: every case opened in the window.
        cancellations: customer-initiated cases now ``scheduled`` or ``ended``.
        scheduled: of those, still pending.
        ended: of those, over.
        withdrawn: cases the customer renewed before the end (no offer).
        saved: cases saved by a redeemed retention offer.
        opened: cancel links the customer left without cancelling.
        involuntary: subscriptions ended by Stripe with no one asking
            (``payment_failed``, ``payment_disputed``,
            ``canceled_by_retention_policy``, no link, no schedule).
        mrr_lost: MRR of the cancellations, per currency (minor units).
    """

    cases: int
    cancellations: int
    scheduled: int
    ended: int
    withdrawn: int
    saved: int
    opened: int
    involuntary: int
    mrr_lost: Mapping[str, int] = attrs.field(converter=_amounts)


@attrs.frozen(kw_only=True)
class Breakdown:
    """One line of a breakdown of cancellations (by reason, option, tenure, month).

    Attributes:
        key: the value grouped on: a feedback value (``None``: no answer), a
            feedback option id, a tenure band (``"0-1"`` … ``"24+"``,
            ``None``: start unknown) or a month (``"2026-03"``).
        count: cancellations with that value.
        share: ``count`` / all cancellations of the breakdown (0 when there
            are none).
        mrr: their MRR, per currency (minor units).
        known: for feedback values, whether this cancelflow knows the value
            (a newer API version may send others); ``True`` otherwise.
    """

    key: str | None
    count: int
    share: float
    mrr: Mapping[str, int] = attrs.field(converter=_amounts)
    known: bool = True


@attrs.frozen(kw_only=True)
class PriceBreakdown:
    """Cancellations of one price (the subscription's main item).

    Attributes:
        product_id: the product (``None``: unknown).
        price_id: the price (``None``: unknown).
        count: cancellations of that price.
        share: ``count`` / all cancellations (0 when there are none).
        mrr: their MRR, per currency (minor units).
    """

    product_id: str | None
    price_id: str | None
    count: int
    share: float
    mrr: Mapping[str, int] = attrs.field(converter=_amounts)


@attrs.frozen(kw_only=True)
class CommentRow:
    """A customer's free-text comment (customer text: escape it when shown).

    Attributes:
        case_id: the case (or, from Stripe, the subscription) it belongs to.
        customer_id: whose.
        subscription_id: which subscription.
        at: when it was given (the feedback's time, else the case's opening).
        feedback: the reason picked with it, if any.
        comment: the text, as the customer typed it.
        mrr: the subscription's MRR (minor units).
        currency: its currency.
    """

    case_id: str
    customer_id: str | None
    subscription_id: str | None
    at: int
    feedback: str | None
    comment: str
    mrr: int | None
    currency: str | None


@attrs.frozen(kw_only=True)
class WithdrawnFigures:
    """Cancellations withdrawn before they took effect (no offer redeemed).

    Attributes:
        count: withdrawn cases.
        mrr: their MRR, per currency.
        reasons: their reasons (shares of the withdrawn cases).
    """

    count: int
    mrr: Mapping[str, int] = attrs.field(converter=_amounts)
    reasons: tuple[Breakdown, ...] = ()


@attrs.frozen(kw_only=True)
class OfferFigures:
    """One retention coupon: how often it was offered, redeemed and kept customers.

    Attributes:
        coupon: the coupon id.
        shown: cancel links that offered it.
        redeemed: cases it saved (the offer redeemed).
        redemption: ``redeemed / shown`` with its Wilson interval.
        stayed: cases that did not end in a cancellation (saved, withdrawn, or
            the page left without cancelling).
        save: ``stayed / shown`` with its Wilson interval.
        saved_mrr: MRR of the redeemed cases, per currency.
    """

    coupon: str
    shown: int
    redeemed: int
    redemption: Rate
    stayed: int
    save: Rate
    saved_mrr: Mapping[str, int] = attrs.field(converter=_amounts)


@attrs.frozen(kw_only=True)
class ArmFigures:
    """One arm of a retention experiment.

    Attributes:
        experiment: the experiment's name, as the policy recorded it.
        arm: the arm's name.
        coupon: the coupon the arm offered (``None`` for a holdout; the most
            frequent one if it changed).
        holdout: whether the arm offers nothing.
        attempts: cancel links in the arm.
        redeemed: cases saved by the offer.
        stayed: cases that did not end in a cancellation.
        save: ``stayed / attempts`` with its Wilson interval.
        lift: the save rate over the experiment's holdout, with Newcombe's
            interval; ``None`` for a holdout or without one.
    """

    experiment: str | None
    arm: str
    coupon: str | None
    holdout: bool
    attempts: int
    redeemed: int
    stayed: int
    save: Rate
    lift: Lift | None = None


@attrs.frozen(kw_only=True)
class RevenueFigures:
    """What redeemed offers kept, in one currency, over the report's horizon.

    Attributes:
        currency: the currency (amounts in its minor units).
        saves: cases saved by a redeemed offer.
        kept_mrr: their MRR.
        kept: ``kept_mrr × horizon_months``.
        discount_cost: what the coupons take off over the horizon: the
            monthly discount × ``min(months it lasts, horizon)`` (``forever``:
            the horizon), summed.
        cost_unknown: saves whose link did not record the coupon's terms
            (left out of *discount_cost*).
        net: ``kept − discount_cost``.
        cancelled_later: saved customers who cancelled that subscription
            again later (a later customer-initiated case, scheduled or ended).
        cancelled_later_mrr: their MRR.
    """

    currency: str
    saves: int
    kept_mrr: int
    kept: int
    discount_cost: int
    cost_unknown: int
    net: int
    cancelled_later: int
    cancelled_later_mrr: int


@attrs.frozen(kw_only=True)
class Report:
    """Why customers leave and what the retention offers saved, for a window.

    Build it with [`report_from_ledger`][cancelflow.report_from_ledger] or
    [`report_from_stripe`][cancelflow.report_from_stripe]; write it with
    `render()` (or `to_json_data()` for the JSON data). ``docs/reports.md``
    defines each figure.

    Attributes:
        source: where the figures come from: ``"sqlite"``, ``"postgresql"``,
            ``"memory"``, ``"ledger"`` (another store) or ``"stripe"``.
        since: the window's start, included (unix seconds; ``None``: the
            beginning).
        until: the window's end, excluded (``None``: no end).
        generated_at: when the report was made (unix seconds).
        horizon_months: the months over which revenue is counted.
        currencies: every currency seen, sorted.
        summary: the cases by state.
        reasons: cancellations by feedback value (most first).
        feedback_options: cancellations by custom feedback option.
        prices: cancellations by product and price.
        tenure: cancellations by tenure band (in band order).
        months: cancellations by month (every month of the span, oldest first).
        comments: the newest comments (at most the limit asked for).
        comments_total: how many comments there are in the window.
        withdrawn: the withdrawn cancellations.
        offers: the retention coupons.
        arms: the experiment arms.
        revenue: what redeemed offers kept, per currency.
    """

    source: str
    since: int | None
    until: int | None
    generated_at: int
    horizon_months: int
    currencies: tuple[str, ...]
    summary: ReportSummary
    reasons: tuple[Breakdown, ...] = ()
    feedback_options: tuple[Breakdown, ...] = ()
    prices: tuple[PriceBreakdown, ...] = ()
    tenure: tuple[Breakdown, ...] = ()
    months: tuple[Breakdown, ...] = ()
    comments: tuple[CommentRow, ...] = ()
    comments_total: int = 0
    withdrawn: WithdrawnFigures = attrs.field(
        factory=lambda: WithdrawnFigures(count=0, mrr={})
    )
    offers: tuple[OfferFigures, ...] = ()
    arms: tuple[ArmFigures, ...] = ()
    revenue: tuple[RevenueFigures, ...] = ()

    def to_json_data(self) -> dict[str, Any]:
        """The report as JSON data, in the versioned layout of ``docs/reports.md``.

        Returns:
            A dict of plain JSON values (``"schema": "cancelflow.report"``,
            ``"version": 1``).
        """
        from cancelflow._reports.render_json import report_json

        return report_json(self)

    def render(self, format: Format = "text", *, locale: str = "en") -> str:  # noqa: A002
        """The report written as text, JSON, CSV or a self-contained HTML page.

        Args:
            format: ``"text"`` (aligned tables), ``"json"``, ``"csv"`` or
                ``"html"`` (one file, no JavaScript, SVG charts).
            locale: ``"en"`` or ``"fr"`` for labels and number formats
                (``fr-CA`` uses French); JSON is the same in every locale.

        Returns:
            The text of the report.

        Raises:
            InvalidParameterError: an unknown format or locale.
        """
        from cancelflow._reports.render import render

        return render(self, format, locale)

    def write(
        self,
        path: str | Path,
        format: Format = "text",  # noqa: A002 - the option's name
        *,
        locale: str = "en",
    ) -> None:
        """Write `render()`'s text to *path* (UTF-8).

        Args:
            path: the file to write (replaced if it exists).
            format: as for `render()`.
            locale: as for `render()`.

        Raises:
            InvalidParameterError: an unknown format or locale.
            OSError: the file cannot be written.
        """
        text = self.render(format, locale=locale)
        Path(path).write_text(text, encoding="utf-8", newline="")

"""The report as JSON data: the versioned layout documented in ``docs/reports.md``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cancelflow._reports.model import (
    REPORT_SCHEMA_VERSION,
    ArmFigures,
    Breakdown,
    Rate,
    Report,
)

__all__ = ["report_json"]


def _rate(rate: Rate) -> dict[str, Any]:
    return {
        "successes": rate.successes,
        "trials": rate.trials,
        "rate": rate.rate,
        "low": rate.low,
        "high": rate.high,
        "method": "wilson",
    }


def _amounts(amounts: Mapping[str, int]) -> dict[str, int]:
    return dict(amounts)


def _breakdown(rows: tuple[Breakdown, ...], name: str) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item: dict[str, Any] = {
            name: row.key,
            "count": row.count,
            "share": row.share,
            "mrr": _amounts(row.mrr),
        }
        if name == "feedback":
            item["known"] = row.known
        out.append(item)
    return out


def _arm(arm: ArmFigures) -> dict[str, Any]:
    lift = arm.lift
    return {
        "experiment": arm.experiment,
        "arm": arm.arm,
        "coupon": arm.coupon,
        "holdout": arm.holdout,
        "attempts": arm.attempts,
        "redeemed": arm.redeemed,
        "stayed": arm.stayed,
        "save_rate": _rate(arm.save),
        "lift": None
        if lift is None
        else {
            "difference": lift.difference,
            "low": lift.low,
            "high": lift.high,
            "holdout_arms": list(lift.holdout_arms),
            "method": lift.method,
        },
    }


def report_json(report: Report) -> dict[str, Any]:
    """*report* as plain JSON data (``schema``, ``version`` first)."""
    s = report.summary
    return {
        "schema": "cancelflow.report",
        "version": REPORT_SCHEMA_VERSION,
        "source": report.source,
        "window": {"since": report.since, "until": report.until},
        "generated_at": report.generated_at,
        "horizon_months": report.horizon_months,
        "currencies": list(report.currencies),
        "summary": {
            "cases": s.cases,
            "cancellations": s.cancellations,
            "scheduled": s.scheduled,
            "ended": s.ended,
            "withdrawn": s.withdrawn,
            "saved": s.saved,
            "opened": s.opened,
            "involuntary": s.involuntary,
            "mrr_lost": _amounts(s.mrr_lost),
        },
        "reasons": _breakdown(report.reasons, "feedback"),
        "feedback_options": _breakdown(report.feedback_options, "option"),
        "prices": [
            {
                "product": p.product_id,
                "price": p.price_id,
                "count": p.count,
                "share": p.share,
                "mrr": _amounts(p.mrr),
            }
            for p in report.prices
        ],
        "tenure": _breakdown(report.tenure, "band"),
        "months": [
            {"month": m.key, "count": m.count, "mrr": _amounts(m.mrr)}
            for m in report.months
        ],
        "comments": {
            "total": report.comments_total,
            "newest": [
                {
                    "case": c.case_id,
                    "customer": c.customer_id,
                    "subscription": c.subscription_id,
                    "at": c.at,
                    "feedback": c.feedback,
                    "comment": c.comment,
                    "mrr": c.mrr,
                    "currency": c.currency,
                }
                for c in report.comments
            ],
        },
        "withdrawn": {
            "count": report.withdrawn.count,
            "mrr": _amounts(report.withdrawn.mrr),
            "reasons": _breakdown(report.withdrawn.reasons, "feedback"),
        },
        "offers": [
            {
                "coupon": o.coupon,
                "shown": o.shown,
                "redeemed": o.redeemed,
                "redemption_rate": _rate(o.redemption),
                "stayed": o.stayed,
                "save_rate": _rate(o.save),
                "saved_mrr": _amounts(o.saved_mrr),
            }
            for o in report.offers
        ],
        "arms": [_arm(a) for a in report.arms],
        "revenue": [
            {
                "currency": r.currency,
                "saves": r.saves,
                "kept_mrr": r.kept_mrr,
                "kept": r.kept,
                "discount_cost": r.discount_cost,
                "cost_unknown": r.cost_unknown,
                "net": r.net,
                "cancelled_later": r.cancelled_later,
                "cancelled_later_mrr": r.cancelled_later_mrr,
            }
            for r in report.revenue
        ],
    }

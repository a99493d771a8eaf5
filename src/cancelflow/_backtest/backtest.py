"""Backtests: run a retention policy over history before shipping it.

A backtest answers "who would have seen which coupon, and what would it have
cost?" from records of past cancellation attempts. Records come from a JSONL
file (`read_history`), from a ledger
(`records_from_ledger`) or straight from Stripe
(`records_from_stripe`); `backtest` streams
them through the policy and keeps only counters, so memory does not grow with
the number of records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import attrs

from cancelflow._policy.context import CustomerFacts, DecisionContext
from cancelflow._policy.decision import Decision
from cancelflow._policy.guards import CouponFacts, Guard
from cancelflow._policy.history import CustomerHistory
from cancelflow._policy.policy import RetentionPolicy, lookup_for
from cancelflow._stripe.coupon import Coupon
from cancelflow._stripe.subscription import SubscriptionSnapshot

__all__ = ["BacktestRecord", "BacktestReport", "backtest"]


class BacktestRecord(NamedTuple):
    """One past cancellation attempt, as the policy would have seen it.

    A named tuple rather than an attrs class: a backtest makes millions.

    Attributes:
        subscription: the subscription at the time.
        customer: the customer's facts, if known.
        history: the customer's history *before* this attempt.
        at: when the attempt happened (the decision time), unix seconds.
        offered: the coupon actually offered then, when known (``""`` for
            "none was offered"; ``None`` for "not recorded").
    """

    subscription: SubscriptionSnapshot
    customer: CustomerFacts | None
    history: CustomerHistory
    at: int
    offered: str | None = None


OfferKey = tuple[str, str | None, str | None]
"""(coupon, experiment, arm)"""


@attrs.frozen(kw_only=True)
class BacktestReport:
    """What a policy would have done over a history.

    Attributes:
        policy: the policy's name.
        decisions: records decided.
        offers: decisions that made an offer.
        by_rule: decisions per matched rule.
        proposed: offers proposed before the guards, by (coupon, experiment, arm).
        offered: offers made, by (coupon, experiment, arm).
        arms: customers per (experiment, arm), holdouts included.
        holdouts: decisions in a no-offer holdout arm.
        blocked: decisions whose proposed offer a guard blocked.
        blocks_by_guard: how often each guard blocked (one decision can be
            blocked by several).
        blocks_by_code: the same, by (guard, code) — the coupon guard's codes
            say which coupon problem.
        cost: the discount if every offer made were redeemed, in minor units,
            by (coupon, experiment, arm, currency): the coupon's monthly
            discount on the subscription's MRR × the months it lasts.
        cost_by_currency: *cost* summed per currency.
        compared: records that said which coupon was offered at the time.
        changed: of those, how many the policy decides differently.
        forever_months: how many months a ``forever`` coupon was counted for.
    """

    policy: str | None
    decisions: int
    offers: int
    by_rule: Mapping[str, int]
    proposed: Mapping[OfferKey, int]
    offered: Mapping[OfferKey, int]
    arms: Mapping[tuple[str, str], int]
    holdouts: int
    blocked: int
    blocks_by_guard: Mapping[Guard, int]
    blocks_by_code: Mapping[tuple[Guard, str], int]
    cost: Mapping[tuple[str, str | None, str | None, str], int]
    cost_by_currency: Mapping[str, int]
    compared: int = 0
    changed: int = 0
    forever_months: int = 12

    @classmethod
    def merge(cls, reports: Iterable[BacktestReport]) -> BacktestReport:
        """Add reports of parts of the same records up into one report.

        Args:
            reports: the reports, one per part of the records.

        Returns:
            The merged report.

        Raises:
            ValueError: the reports are of different policies or count
                ``forever`` coupons differently, or there are none.
        """
        reports = list(reports)
        if not reports:
            raise ValueError("no reports to merge")
        first = reports[0]
        for other in reports[1:]:
            if (other.policy, other.forever_months) != (
                first.policy,
                first.forever_months,
            ):
                raise ValueError("cannot merge reports of different backtests")

        def total(name: str) -> dict[Any, int]:
            counts: Counter[Any] = Counter()
            for report in reports:
                counts.update(getattr(report, name))
            return dict(counts)

        return cls(
            policy=first.policy,
            decisions=sum(r.decisions for r in reports),
            offers=sum(r.offers for r in reports),
            by_rule=total("by_rule"),
            proposed=total("proposed"),
            offered=total("offered"),
            arms=total("arms"),
            holdouts=sum(r.holdouts for r in reports),
            blocked=sum(r.blocked for r in reports),
            blocks_by_guard=total("blocks_by_guard"),
            blocks_by_code=total("blocks_by_code"),
            cost=total("cost"),
            cost_by_currency=total("cost_by_currency"),
            compared=sum(r.compared for r in reports),
            changed=sum(r.changed for r in reports),
            forever_months=first.forever_months,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary of the report.

        Returns:
            The summary (what `cancelflow policy backtest --json` prints).
        """

        def offer_rows(counts: Mapping[OfferKey, int]) -> list[dict[str, Any]]:
            return [
                {"coupon": c, "experiment": e, "arm": a, "count": n}
                for (c, e, a), n in sorted(counts.items(), key=_offer_sort)
            ]

        return {
            "policy": self.policy,
            "decisions": self.decisions,
            "offers": self.offers,
            "holdouts": self.holdouts,
            "blocked": self.blocked,
            "by_rule": dict(sorted(self.by_rule.items())),
            "proposed": offer_rows(self.proposed),
            "offered": offer_rows(self.offered),
            "arms": [
                {"experiment": e, "arm": a, "count": n}
                for (e, a), n in sorted(self.arms.items())
            ],
            "blocks_by_guard": {
                g.value: n for g, n in sorted(self.blocks_by_guard.items())
            },
            "blocks_by_code": [
                {"guard": g.value, "code": c, "count": n}
                for (g, c), n in sorted(self.blocks_by_code.items())
            ],
            "cost": [
                {"coupon": c, "experiment": e, "arm": a, "currency": cur, "amount": n}
                for (c, e, a, cur), n in sorted(
                    self.cost.items(), key=lambda kv: _cost_sort(kv[0])
                )
            ],
            "cost_by_currency": dict(sorted(self.cost_by_currency.items())),
            "compared": self.compared,
            "changed": self.changed,
            "forever_months": self.forever_months,
        }

    def render_text(self) -> str:
        """Return a plain-text report for a terminal.

        Returns:
            The report, several lines of text.
        """
        lines = [
            (
                f"Backtest of policy {self.policy or '(unnamed)'}: "
                f"{self.decisions:,} decisions, {self.offers:,} offers "
                f"({_pct(self.offers, self.decisions)}), {self.blocked:,} blocked by "
                f"guards, {self.holdouts:,} in holdouts."
            ),
        ]
        if self.by_rule:
            lines += ["", "Decisions by rule:"]
            lines += [
                f"  {name:<32} {n:>10,}"
                for name, n in sorted(self.by_rule.items(), key=lambda kv: -kv[1])
            ]
        if self.offered:
            lines += ["", "Offers by coupon and arm:"]
            for (coupon, experiment, arm), n in sorted(
                self.offered.items(), key=_offer_sort
            ):
                where = f" ({experiment}/{arm})" if experiment else ""
                lines.append(f"  {coupon + where:<32} {n:>10,}")
        if self.arms:
            lines += ["", "Experiment arms:"]
            lines += [
                f"  {experiment + '/' + arm:<32} {n:>10,}"
                for (experiment, arm), n in sorted(self.arms.items())
            ]
        if self.blocks_by_guard:
            lines += ["", "Guard blocks:"]
            for (guard, code), n in sorted(self.blocks_by_code.items()):
                label = guard.value if code == guard.value else f"{guard.value}/{code}"
                lines.append(f"  {label:<32} {n:>10,}")
        if self.cost_by_currency:
            lines += [
                "",
                (
                    "Discount cost if every offer were redeemed (minor units; "
                    f"forever = {self.forever_months} months):"
                ),
            ]
            lines += [
                f"  {currency:<32} {n:>10,}"
                for currency, n in sorted(self.cost_by_currency.items())
            ]
        if self.compared:
            lines += [
                "",
                (
                    f"Compared with the offers made at the time: {self.changed:,} of "
                    f"{self.compared:,} decisions differ ({_pct(self.changed, self.compared)})."
                ),
            ]
        return "\n".join(lines) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "0.0 %"


def _offer_sort(item: tuple[OfferKey, int]) -> tuple[str, str, str]:
    (coupon, experiment, arm), _ = item
    return (coupon, experiment or "", arm or "")


def _cost_sort(key: tuple[str, str | None, str | None, str]) -> tuple[str, ...]:
    coupon, experiment, arm, currency = key
    return (coupon, experiment or "", arm or "", currency)


def backtest(
    policy: RetentionPolicy,
    records: Iterable[BacktestRecord],
    *,
    coupons: CouponFacts | None = None,
    forever_months: int = 12,
    on_decision: Callable[[BacktestRecord, Decision], None] | None = None,
) -> BacktestReport:
    """Run a policy over past attempts and count what it would have done.

    Streams: only counters are kept, however many records there are.

    Args:
        policy: the policy to try.
        records: from `read_history`, `records_from_ledger`,
            `records_from_stripe`, or any iterable of
            `BacktestRecord`.
        coupons: the coupons' facts (a mapping or a `CouponSource`);
            a coupon missing here is blocked by the ``coupon`` guard and has
            no cost.
        forever_months: how many months a ``duration=forever`` coupon is
            counted for in the cost.
        on_decision: called with each record and its `Decision` (to
            write decisions out, or sample explanations); slower.

    Returns:
        The [`BacktestReport`][cancelflow.BacktestReport].

    Example:
        ```python
        from pathlib import Path

        import cancelflow

        Path("history.jsonl").write_text(
            '{"id": "sub_1", "customer": "cus_1", "status": "active", "currency": "eur", '
            '"items": [["price_pro", "prod_pro", "month", 1, 1, 2900]], "at": 1767225600}\\n'
        )
        policy = cancelflow.parse_policy('''
        [[rules]]
        name = "monthly plans"
        segment = { interval = "month" }
        offer = { coupon = "STAY20" }
        ''')
        report = cancelflow.backtest(policy, cancelflow.read_history("history.jsonl"))
        assert report.decisions == 1
        assert report.by_rule == {"monthly plans": 1}
        ```
    """
    lookup = lookup_for(coupons)
    evaluate = policy.evaluate
    decisions = offers = holdouts = blocked = compared = changed = 0
    by_rule: Counter[str] = Counter()
    proposed: Counter[OfferKey] = Counter()
    offered: Counter[OfferKey] = Counter()
    arms: Counter[tuple[str, str]] = Counter()
    by_guard: Counter[Guard] = Counter()
    by_code: Counter[tuple[Guard, str]] = Counter()
    cost: Counter[tuple[str, str | None, str | None, str]] = Counter()
    facts: dict[str, tuple[Coupon | None, int]] = {}
    for record in records:
        subscription, customer, history, at, recorded = record
        context = DecisionContext(
            subscription, now=at, customer=customer, history=history
        )
        if on_decision is None:
            rule, offer, experiment, arm, _, blocks = evaluate(context, lookup)
        else:
            decision = policy.decide_context(context, lookup)
            on_decision(record, decision)
            rule, offer, experiment, arm, _, blocks = evaluate(context, lookup)
        decisions += 1
        by_rule[rule.name] += 1
        experiment_name = arm_name = None
        if experiment is not None and arm is not None:
            experiment_name, arm_name = experiment.name, arm.name
            arms[experiment_name, arm_name] += 1
        if offer is None:
            if arm is not None:
                holdouts += 1
        elif blocks:
            proposed[offer.coupon, experiment_name, arm_name] += 1
            blocked += 1
            for block in blocks:
                by_code[block.guard, block.code] += 1
            for guard in {block.guard for block in blocks}:
                by_guard[guard] += 1
            offer = None
        else:
            key = (offer.coupon, experiment_name, arm_name)
            proposed[key] += 1
            offered[key] += 1
            offers += 1
            known = facts.get(offer.coupon)
            if known is None:
                coupon = lookup(offer.coupon)
                months = (
                    0
                    if coupon is None
                    else coupon.months(forever_months=forever_months)
                )
                known = facts[offer.coupon] = (coupon, months)
            coupon, months = known
            if coupon is not None and months:
                currency = subscription.currency
                cost[(*key, currency)] += (
                    coupon.monthly_discount(context.mrr, currency) * months
                )
        if recorded is not None:
            compared += 1
            if (offer.coupon if offer is not None else "") != recorded:
                changed += 1
    by_currency: Counter[str] = Counter()
    for (_, _, _, currency), amount in cost.items():
        by_currency[currency] += amount
    return BacktestReport(
        policy=policy.name,
        decisions=decisions,
        offers=offers,
        by_rule=dict(by_rule),
        proposed=dict(proposed),
        offered=dict(offered),
        arms=dict(arms),
        holdouts=holdouts,
        blocked=blocked,
        blocks_by_guard=dict(by_guard),
        blocks_by_code=dict(by_code),
        cost=dict(cost),
        cost_by_currency=dict(by_currency),
        compared=compared,
        changed=changed,
        forever_months=forever_months,
    )

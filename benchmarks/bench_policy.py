"""Retention policy speed: decisions per second, and a 1,000,000-line backtest.

Prints ``name: value`` lines:

* ``decisions_per_s`` — a 20-rule policy with a 3-arm experiment, all guards
  on, coupon facts from a warm :class:`CouponCache`, in CPU seconds of this one
  (single-threaded) process, so the figure is "on one core" even on a busy
  machine (target ≥ 100,000); ``decisions_per_wall_s`` is the wall-clock rate;
* ``baseline_context_per_s`` — building only the decision input, the floor
  under any policy; ``decisions_vs_context`` is the ratio;
* ``backtest_1m_s`` — wall-clock seconds of ``backtest_file`` over 1,000,000
  snapshots in a compact JSONL history file, on every CPU available
  (``backtest_workers``; target ≤ 15 s); ``backtest_1m_one_process_s`` (and
  ``_cpu_s``, CPU seconds) is ``backtest(read_history(...))`` in this process;
* ``json_loads_only_s`` (and ``_cpu_s``) — ``json.loads`` of the same 1,000,000
  lines in this process, the floor under any JSONL reader;
  ``backtest_one_process_vs_json_loads_cpu`` is the ratio of CPU times;
* ``stripe_json_lines_per_s`` — the backtest reading full Stripe subscription
  objects instead of compact lines (slower; for exports of real subscriptions);
* ``read_only_1m_cpu_s`` and ``decide_and_count_only_1m_cpu_s`` — where the
  one-process time goes (CPU seconds on a sample of up to 100,000 lines, per
  million): reading lines into records, and deciding and counting records
  already in memory.

CPU-time figures do not count time spent waiting for a CPU, so they stay
meaningful on a machine shared with other work; wall-clock figures do not.

Run with ``python benchmarks/bench_policy.py [--lines N]``; ``--lines`` scales
the backtest down (figures are still given per million lines).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Self

from cancelflow import (
    Arm,
    Coupon,
    CouponCache,
    CouponDuration,
    CustomerSnapshot,
    DecisionContext,
    Experiment,
    NoOffer,
    Offer,
    Range,
    RetentionPolicy,
    Rule,
    Segment,
    SubscriptionSnapshot,
    SubscriptionStatus,
    backtest,
    backtest_file,
    read_history,
)
from cancelflow._policy.history import CustomerHistory
from cancelflow._stripe.subscription import DiscountRef, SubscriptionItemSnapshot

NOW = 1_760_000_000
DAY = 86_400
PRODUCTS = [f"prod_{n}" for n in range(12)]
COUNTRIES = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "CA"]
CURRENCIES = ["usd", "eur", "gbp"]
STATUSES = ["active"] * 20 + ["trialing", "past_due"]


def _prices() -> list[tuple[str, str, str, int, int]]:
    """60 prices, each with its product, interval and unit amount, as in a
    real catalogue (a price never changes)."""
    rng = random.Random(3)
    out = []
    for n in range(60):
        interval = rng.choice(["month"] * 6 + ["year"] * 3 + ["week"])
        count = 3 if interval == "month" and rng.random() < 0.1 else 1
        out.append(
            (
                f"price_{n}",
                rng.choice(PRODUCTS),
                interval,
                count,
                rng.randrange(3, 300) * 100,
            )
        )
    return out


PRICES = _prices()


def policy() -> RetentionPolicy:
    """Twenty rules of every kind, one running a 3-arm experiment."""
    experiment = Experiment(
        "monthly-2026",
        arms=[
            Arm("holdout", 10),
            Arm("ten", 45, Offer("TEN")),
            Arm("quarter", 45, Offer("QUARTER")),
        ],
    )
    rules = [
        Rule("enterprise", Segment(metadata={"plan": "enterprise"}), NoOffer()),
        Rule("serial cancellers", Segment(attempts=Range(min=4)), NoOffer()),
        Rule("new", Segment(tenure_days=Range(max=6)), NoOffer()),
        Rule(
            "ppp",
            Segment(countries={"IN", "BR"}, interval="month", mrr=Range(max=1500)),
            Offer("PPP50"),
        ),
    ]
    for n, product in enumerate(PRODUCTS[:10]):
        rules.append(
            Rule(
                f"annual {product}",
                Segment(
                    products=product,
                    interval="year",
                    currencies=CURRENCIES[n % 3],
                    mrr=Range(min=1000 * n),
                ),
                Offer("ANNUAL20"),
            )
        )
    rules += [
        Rule("vip", Segment(customer_metadata={"vip": True}), Offer("QUARTER")),
        Rule(
            "long tenure",
            Segment(tenure_days=Range(min=3 * 365), interval="month"),
            Offer("TEN"),
        ),
        Rule("quarterly", Segment(interval="month", interval_count=3), Offer("TEN")),
        Rule("gbp small", Segment(currencies="gbp", mrr=Range(max=500)), NoOffer()),
        Rule("monthly", Segment(interval="month"), experiment),
        Rule("weekly", Segment(interval="week"), Offer("TEN")),
    ]
    assert len(rules) == 20
    return RetentionPolicy(rules=rules, name="bench")


def coupons() -> dict[str, Coupon]:
    return {
        "TEN": Coupon(
            id="TEN",
            duration=CouponDuration.REPEATING,
            percent_off=10.0,
            duration_in_months=3,
        ),
        "QUARTER": Coupon(id="QUARTER", duration=CouponDuration.ONCE, percent_off=25.0),
        "ANNUAL20": Coupon(
            id="ANNUAL20", duration=CouponDuration.ONCE, percent_off=20.0
        ),
        "PPP50": Coupon(
            id="PPP50",
            duration=CouponDuration.REPEATING,
            percent_off=50.0,
            duration_in_months=6,
            max_redemptions=100_000,
        ),
    }


def record(rng: random.Random, n: int) -> dict:
    """One history line in the compact format, as a dict."""
    price, product, interval, count, amount = rng.choice(PRICES)
    items = [[price, product, interval, count, rng.randrange(1, 4), amount]]
    if rng.random() < 0.05:
        items.append(["price_addon", "prod_addon", interval, count, 1, 500])
    start = NOW - rng.randrange(0, 2000) * DAY
    line = {
        "id": f"sub_{n}",
        "customer": f"cus_{rng.randrange(1_000_000)}",
        "status": rng.choice(STATUSES),
        "currency": rng.choice(CURRENCIES),
        "items": items,
        "start_date": start,
        "at": NOW,
        "country": rng.choice(COUNTRIES),
    }
    if rng.random() < 0.1:
        line["discounts"] = [f"di_{n}"]
    if rng.random() < 0.05:
        line["metadata"] = {"plan": "enterprise"}
    if rng.random() < 0.05:
        line["customer_metadata"] = {"vip": "yes"}
    if rng.random() < 0.3:
        line["attempts"] = rng.randrange(1, 6)
        line["last_offered_at"] = NOW - rng.randrange(1, 400) * DAY
    return line


def snapshot(line: dict):
    sub = SubscriptionSnapshot(
        id=line["id"],
        customer=line["customer"],
        status=SubscriptionStatus(line["status"]),
        currency=line["currency"],
        items=tuple(
            SubscriptionItemSnapshot(
                id=f"si_{n}",
                price_id=i[0],
                product_id=i[1],
                interval=i[2],
                interval_count=i[3],
                quantity=i[4],
                unit_amount=i[5],
            )
            for n, i in enumerate(line["items"])
        ),
        discounts=tuple(DiscountRef(d) for d in line.get("discounts", ())),
        start_date=line["start_date"],
        metadata=line.get("metadata", {}),
    )
    customer = CustomerSnapshot(
        id=line["customer"],
        country=line["country"],
        metadata=line.get("customer_metadata", {}),
    )
    history = CustomerHistory(
        attempts=line.get("attempts", 0), last_offered_at=line.get("last_offered_at")
    )
    return sub, customer, history


def bench_decisions() -> None:
    rng = random.Random(5)
    pol = policy()
    facts = coupons()
    cache = CouponCache(facts.get, ttl=3600)
    cache.prefetch(pol.coupon_ids)
    inputs = [snapshot(record(rng, n)) for n in range(2_000)]

    def run_decisions(count: int, clock) -> float:
        start = clock()
        done = 0
        while done < count:
            for sub, customer, history in inputs:
                pol.decide(
                    sub, now=NOW, customer=customer, history=history, coupons=cache
                )
            done += len(inputs)
        return done / (clock() - start)

    def run_contexts(count: int) -> float:
        start = time.process_time()
        done = 0
        while done < count:
            for sub, customer, history in inputs:
                DecisionContext(sub, now=NOW, customer=customer, history=history)
            done += len(inputs)
        return done / (time.process_time() - start)

    run_decisions(20_000, time.process_time)  # warm up
    per_s = max(run_decisions(200_000, time.process_time) for _ in range(3))
    wall = max(run_decisions(200_000, time.perf_counter) for _ in range(3))
    base = max(run_contexts(200_000) for _ in range(3))
    print(f"decisions_per_s: {per_s:,.0f}")
    print(f"decisions_per_wall_s: {wall:,.0f}")
    print(f"baseline_context_per_s: {base:,.0f}")
    print(f"decisions_vs_context: {base / per_s:.1f}")


def write_history(path: Path, lines: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as f:
        for n in range(lines):
            f.write(json.dumps(record(rng, n), separators=(",", ":")))
            f.write("\n")


def stripe_subscription(line: dict) -> dict:
    """The same subscription as a compact line, as Stripe's API renders it."""
    return {
        "id": line["id"],
        "object": "subscription",
        "customer": line["customer"],
        "status": line["status"],
        "currency": line["currency"],
        "billing_mode": {"type": "classic", "flexible": None, "updated_at": None},
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "created": line["start_date"],
        "start_date": line["start_date"],
        "discounts": line.get("discounts", []),
        "metadata": line.get("metadata", {}),
        "pause_collection": None,
        "schedule": None,
        "trial_end": None,
        "trial_start": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{line['id']}_{n}",
                    "object": "subscription_item",
                    "quantity": item[4],
                    "current_period_start": NOW - 10 * DAY,
                    "current_period_end": NOW + 20 * DAY,
                    "price": {
                        "id": item[0],
                        "object": "price",
                        "product": item[1],
                        "unit_amount": item[5],
                        "recurring": {
                            "interval": item[2],
                            "interval_count": item[3],
                            "usage_type": "licensed",
                        },
                    },
                }
                for n, item in enumerate(line["items"])
            ],
        },
        "at": line["at"],
    }


class Timer:
    """Wall-clock and CPU seconds of a block (CPU: this process only)."""

    def __enter__(self) -> Self:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bench_backtest(lines: int) -> None:
    pol = policy()
    facts = coupons()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.jsonl"
        write_history(path, lines)

        with Timer() as loads, path.open("rb") as f:
            for raw in f:
                json.loads(raw)

        with Timer() as single:
            report = backtest(pol, read_history(path), coupons=facts)
        assert report.decisions == lines, report.decisions

        workers = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )
        with Timer() as parallel:
            merged = backtest_file(pol, path, coupons=facts, workers=workers)
        assert merged == report, "the parallel report differs"

        # Where the one-process time goes, on a sample: reading lines into
        # records, and deciding and counting records already in memory.
        sample = min(lines, 100_000)
        with Timer() as read:
            for _ in itertools.islice(read_history(path), sample):
                pass
        records = list(itertools.islice(read_history(path), sample))
        gc.freeze()  # records held in memory: keep the collector off them
        with Timer() as decide:
            backtest(pol, records, coupons=facts)
        del records
        gc.unfreeze()

        stripe_lines = max(1, lines // 50)
        stripe_path = Path(tmp) / "stripe.jsonl"
        rng = random.Random(9)
        with stripe_path.open("w", encoding="utf-8") as f:
            for n in range(stripe_lines):
                f.write(json.dumps(stripe_subscription(record(rng, n))) + "\n")
        with Timer() as stripe_json:
            backtest(pol, read_history(stripe_path), coupons=facts)

    scale = 1_000_000 / lines
    per_m = 1_000_000 / sample
    print(f"backtest_1m_s: {parallel.wall * scale:.2f}")
    print(f"backtest_workers: {workers}")
    print(f"backtest_1m_one_process_s: {single.wall * scale:.2f}")
    print(f"backtest_1m_one_process_cpu_s: {single.cpu * scale:.2f}")
    print(f"json_loads_only_s: {loads.wall * scale:.2f}")
    print(f"json_loads_only_cpu_s: {loads.cpu * scale:.2f}")
    print(f"backtest_one_process_vs_json_loads_cpu: {single.cpu / loads.cpu:.1f}")
    print(f"read_only_1m_cpu_s: {read.cpu * per_m:.2f}")
    print(f"decide_and_count_only_1m_cpu_s: {decide.cpu * per_m:.2f}")
    print(f"stripe_json_lines_per_s: {stripe_lines / stripe_json.wall:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args()
    bench_decisions()
    if not args.skip_backtest:
        bench_backtest(args.lines)


if __name__ == "__main__":
    main()

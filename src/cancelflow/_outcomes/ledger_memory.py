"""A ledger kept in memory: for tests, demos and single-process scripts."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import final

from cancelflow._outcomes.events import (
    CancellationEvent,
    OfferRedeemed,
    _AboutSubscription,
)
from cancelflow._outcomes.ledger import (
    Case,
    LedgerProblem,
    LedgerStore,
    LinkRecord,
    check_batch,
    check_link,
    check_problem,
    cutoff,
    fold_cases,
    history_from,
    redemption_key,
    unstorable_error,
    without_reported,
)
from cancelflow._policy.history import CustomerHistory

__all__ = ["MemoryLedger"]


@final
class MemoryLedger(LedgerStore):
    """A `Ledger` in a Python object (lost when the process ends).

    Thread-safe. Same semantics as the SQLite and PostgreSQL ledgers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processed: dict[str, int] = {}  # event id -> created
        self._events: dict[str, list[_AboutSubscription]] = {}  # by subscription
        self._links: dict[str, LinkRecord] = {}
        self._cases: dict[str, list[Case]] = {}  # by subscription
        self._problems: dict[str, LedgerProblem] = {}  # dead letters, by key

    def __repr__(self) -> str:
        return (
            f"MemoryLedger(<{len(self._processed)} events, "
            f"{sum(len(c) for c in self._cases.values())} cases>)"
        )

    def _fold(
        self, subscription_id: str, new: Sequence[_AboutSubscription] = ()
    ) -> list[Case]:
        """The subscription's cases from its links and events (and *new* ones)."""
        return fold_cases(
            (x for x in self._links.values() if x.subscription_id == subscription_id),
            [*self._events.get(subscription_id, ()), *new],
        )

    def _record(
        self, events: Sequence[CancellationEvent]
    ) -> list[CancellationEvent] | None:
        """Record; the news among *events*, or `None` if already processed."""
        first = check_batch(events)
        with self._lock:
            if first.event_id in self._processed:
                return None
            redeemed = {
                e.subscription_id for e in events if isinstance(e, OfferRedeemed)
            }
            news = without_reported(
                events,
                (
                    redemption_key(e)
                    for sub in redeemed
                    for e in self._events.get(sub, ())
                    if isinstance(e, OfferRedeemed)
                ),
            )
            added: dict[str, list[_AboutSubscription]] = {}
            for event in events:
                if isinstance(event, _AboutSubscription):
                    added.setdefault(event.subscription_id, []).append(event)
            # Fold first, commit after: a fold that fails changes nothing.
            try:
                folded = {sub: self._fold(sub, new) for sub, new in added.items()}
            except Exception as exc:  # noqa: BLE001 - a permanent failure
                raise unstorable_error(first.event_id, exc) from None
            self._processed[first.event_id] = first.created
            for subscription_id, new in added.items():
                self._events.setdefault(subscription_id, []).extend(new)
            self._cases.update(folded)
            return news

    def record_problem(self, problem: LedgerProblem) -> bool:
        check_problem(problem)
        with self._lock:
            if problem.key in self._problems:
                return False
            self._problems[problem.key] = problem
            return True

    def problems(self) -> list[LedgerProblem]:
        with self._lock:
            found = list(self._problems.values())
        return sorted(found, key=lambda p: (p.received_at, p.key))

    def record_link(self, link: LinkRecord) -> None:
        check_link(link)
        with self._lock:
            if link.session_id in self._links:
                return
            self._links[link.session_id] = link
            self._cases[link.subscription_id] = self._fold(link.subscription_id)

    def is_processed(self, event_id: str) -> bool:
        return event_id in self._processed

    def processed_count(self) -> int:
        return len(self._processed)

    def cases(
        self, *, subscription_id: str | None = None, customer_id: str | None = None
    ) -> list[Case]:
        with self._lock:
            found = [c for cases in self._cases.values() for c in cases]
        found = [
            c
            for c in found
            if (subscription_id is None or c.subscription_id == subscription_id)
            and (customer_id is None or c.customer_id == customer_id)
        ]
        found.sort(key=lambda c: (c.opened_at, c.id))
        return found

    def links(self, *, subscription_id: str | None = None) -> list[LinkRecord]:
        with self._lock:
            found = list(self._links.values())
        return sorted(
            (x for x in found if subscription_id in (None, x.subscription_id)),
            key=lambda x: (x.created, x.session_id),
        )

    def customer_history(self, customer_id: str) -> CustomerHistory:
        with self._lock:
            links = list(self._links.values())
        return history_from(customer_id, self.cases(customer_id=customer_id), links)

    def prune_processed_events(
        self, *, older_than: dt.timedelta, now: float | None = None
    ) -> int:
        limit = cutoff(older_than, now)
        with self._lock:
            keep = {e.event_id for events in self._events.values() for e in events}
            old = [
                i
                for i, created in self._processed.items()
                if created < limit and i not in keep
            ]
            for event_id in old:
                del self._processed[event_id]
            return len(old)

    def close(self) -> None:
        """Nothing to release."""

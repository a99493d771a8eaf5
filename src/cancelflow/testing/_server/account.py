"""The served account: every change made over HTTP goes through here (strictly private).

API requests, portal visits and actions, and fake-only controls each have
one method, which runs under the account's lock and, when the server keeps
a ``--state`` file, appends a journal entry saying what was done and what
came of it. :meth:`ServedAccount.replay` runs a saved journal through the
very same methods and checks that each step comes out as recorded.

What is journaled: API requests other than ``GET`` (except those refused
for their API key, which change nothing), with their body and the headers
the fake reads besides the key (never the key itself); portal visits and
actions; clock moves; the Dashboard's settings; failed renewals planned. The
request counter
is saved with each request, so a replayed request gets the ``req_…`` id it
had (and so do its events' ``request.id``), although the ``GET`` requests in
between are not replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from cancelflow.exceptions import FakeServerStateError, FakeStripeError
from cancelflow.testing._api import handle

if TYPE_CHECKING:
    from cancelflow.testing._fake import FakeStripe
    from cancelflow.testing._headers import Headers
    from cancelflow.testing._portal import PortalOutcome, PortalVisit

__all__ = ["ACTIONS", "REPLAY_KEY", "ServedAccount"]

JSON = dict[str, Any]
_T = TypeVar("_T")
ACTIONS: Final = frozenset({"cancel", "accept_offer", "renew", "abandon"})
REPLAY_KEY: Final = "Bearer sk_test_cancelflow_replay"
_KEPT_HEADERS: Final = (
    "idempotency-key",
    "stripe-version",
    "stripe-account",
    "stripe-context",
)


class ServedAccount:
    """A FakeStripe as the server changes it, with an optional journal."""

    def __init__(self, fake: FakeStripe, *, journal: list[JSON] | None = None) -> None:
        self.fake = fake
        self.journal = journal
        """The entries so far, or ``None`` when no state file is kept."""
        self.on_change: Callable[[], None] | None = None

    def _record(self, entry: JSON) -> None:
        if self.journal is not None:
            self.journal.append(entry)
            if self.on_change is not None:
                self.on_change()

    # -- API requests ------------------------------------------------------------------

    def api(
        self, method: str, target: str, headers: dict[str, str], body: str | None
    ) -> tuple[str, int, Headers]:
        """Answer one ``/v1/…`` request as the in-process fake does."""
        backend = self.fake.backend
        method = method.lower()
        with backend.lock:
            count = backend.request_count()
            answer = handle(backend, method, target, headers, body)
            if self.journal is not None and method != "get" and answer[1] != 401:
                entry: JSON = {
                    "op": "api",
                    "req": count,
                    "method": method,
                    "target": target,
                    "body": body,
                    "status": answer[1],
                }
                kept = {h: headers[h] for h in _KEPT_HEADERS if h in headers}
                if kept:
                    entry["headers"] = kept
                self._record(entry)
        return answer

    # -- the portal --------------------------------------------------------------------

    def visit(self, session_id: str) -> PortalVisit:
        """Open a session's page, as ``fake.portal.visit`` does (and record it).

        Raises:
            PortalError: the driver refused the visit (the error is recorded too).
        """
        return self._journaled(
            {"op": "visit", "session": session_id},
            lambda: self.fake.backend.portal.visit(session_id),
        )

    def act(self, session_id: str, action: str, args: JSON) -> PortalOutcome | None:
        """Visit a session and do one action there (``cancel``, ``accept_offer``, …).

        Raises:
            PortalError: the driver refused the visit or the action.
        """
        if action not in ACTIONS:
            raise FakeStripeError(f"unknown portal action {action!r}")

        def run() -> PortalOutcome | None:
            visit = self.fake.backend.portal.visit(session_id)
            outcome: PortalOutcome | None = getattr(visit, action)(**args)
            return outcome

        return self._journaled(
            {"op": "act", "session": session_id, "action": action, "args": args}, run
        )

    # -- fake-only controls ------------------------------------------------------------

    def advance(self, seconds: int) -> int:
        """Move the fake clock forward (running renewals, ends, …); the new time."""
        backend = self.fake.backend
        with backend.lock:
            now = self.fake.clock.advance(seconds)
            self._record({"op": "advance", "seconds": seconds})
            return now

    def save_portal_settings(self, settings: JSON) -> JSON:
        """Save the Dashboard's portal settings (``fake.dashboard.save_portal_settings``).

        Raises:
            FakeStripeError: a setting the page does not have, or a refused value.
        """
        return self._journaled(
            {"op": "dashboard", "settings": settings},
            lambda: self.fake.dashboard.save_portal_settings(**settings),
        )

    def fail_next_renewal(self, customer: str, attempts: int | None) -> None:
        """Make the customer's next renewal payment fail (``fake.fail_next_renewal``).

        Raises:
            FakeStripeError: no such customer, or a bad *attempts*.
        """
        self._journaled(
            {"op": "fail_renewal", "customer": customer, "attempts": attempts},
            lambda: self.fake.fail_next_renewal(customer, attempts=attempts),
        )

    def set_retry_schedule(self, days: list[int], then: str) -> None:
        """Set the Dashboard's retry schedule for failed renewals.

        Raises:
            FakeStripeError: days not increasing whole days, or an unknown *then*.
        """
        from cancelflow.testing._retries import RetrySchedule

        def run() -> None:
            try:
                schedule = RetrySchedule(days=tuple(days), then=then)  # type: ignore[arg-type]
            except (TypeError, ValueError) as err:
                raise FakeStripeError(str(err)) from None
            self.fake.dashboard.retry_schedule = schedule

        self._journaled({"op": "retry_schedule", "days": days, "then": then}, run)

    def _journaled(self, entry: JSON, run: Callable[[], _T]) -> _T:
        """*run()* under the account's lock, journaled as *entry* with its
        ``error``: the refusal's class name, or ``None``."""
        with self.fake.backend.lock:
            entry["error"] = None
            try:
                result = run()
            except FakeStripeError as err:
                entry["error"] = type(err).__name__
                self._record(entry)
                raise
            self._record(entry)
            return result

    # -- replay ------------------------------------------------------------------------

    def replay(self, entries: list[JSON], request_count: int) -> None:
        """Redo *entries* (a saved journal) through the same methods, checking each.

        Raises:
            FakeServerStateError: a step does not come out as it was recorded, or an
                entry is malformed.
        """
        backend = self.fake.backend
        journal, self.journal = self.journal, None
        try:
            with backend.lock:
                for number, entry in enumerate(entries, 1):
                    try:
                        got, want = self._redo(entry)
                    except (KeyError, TypeError, ValueError, AttributeError) as err:
                        raise _diverged(
                            number, entry, f"it is malformed ({err!r})"
                        ) from None
                    if got != want:
                        raise _diverged(
                            number,
                            entry,
                            f"it answered {got} where it had answered {want}",
                        )
                backend.set_request_count(request_count)
        finally:
            self.journal = journal
        if journal is not None:
            journal.extend(entries)

    def _redo(self, entry: JSON) -> tuple[object, object]:
        op = entry["op"]
        if op == "api":
            backend = self.fake.backend
            backend.set_request_count(int(entry["req"]))
            headers = {"authorization": REPLAY_KEY, **dict(entry.get("headers", {}))}
            body = entry["body"]
            _, status, _ = self.api(
                str(entry["method"]),
                str(entry["target"]),
                headers,
                None if body is None else str(body),
            )
            return status, entry["status"]
        if op == "advance":
            self.advance(int(entry["seconds"]))
            return None, None
        error: str | None = None
        try:
            if op == "visit":
                self.visit(str(entry["session"]))
            elif op == "dashboard":
                self.save_portal_settings(dict(entry["settings"]))
            elif op == "fail_renewal":
                attempts = entry["attempts"]
                self.fail_next_renewal(
                    str(entry["customer"]), None if attempts is None else int(attempts)
                )
            elif op == "retry_schedule":
                self.set_retry_schedule(
                    [int(day) for day in entry["days"]], str(entry["then"])
                )
            else:
                self.act(
                    str(entry["session"]), str(entry["action"]), dict(entry["args"])
                )
        except FakeStripeError as err:
            error = type(err).__name__
        return error, entry["error"]


def _diverged(number: int, entry: JSON, problem: str) -> FakeServerStateError:
    what = entry.get("op")
    if what == "api":
        what = f"{str(entry.get('method')).upper()} {str(entry.get('target'))[:80]}"
    elif what in ("visit", "act"):
        what = f"portal {entry.get('action', 'visit')} on {entry.get('session')}"
    return FakeServerStateError(
        f"replaying step {number} of the state file ({what}) failed: {problem}. The "
        "file was probably written by another cancelflow version, whose fake behaves "
        "differently"
    )

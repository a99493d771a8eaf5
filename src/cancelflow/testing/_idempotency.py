"""Idempotency keys, the way Stripe keeps them (strictly private).

Stripe saves the status and body of the first request made with a key,
whether it succeeded or failed, once the request started executing; a
request whose parameters failed validation saves nothing. The same key with
the same endpoint and parameters replays the saved answer (including an
error); with anything else it is an ``idempotency_error``. Keys are
forgotten after 24 hours (on the fake's clock): Stripe prunes keys "at least
24 hours old" and a reused pruned key makes a new request. Expired keys are
dropped whenever a key is saved, so memory stays bounded.
"""

from __future__ import annotations

from typing import Any, Final

from cancelflow.testing._errors import ApiError

__all__ = ["IdempotencyStore", "Saved"]

_LIFETIME: Final = 24 * 3600
_MAX_KEY: Final = 255


class Saved:
    """The first answer given to one idempotency key."""

    __slots__ = ("body", "created", "endpoint", "params", "status")

    def __init__(
        self,
        endpoint: str,
        params: dict[str, Any],
        status: int,
        body: str,
        created: int,
    ) -> None:
        self.endpoint = endpoint
        self.params = params
        self.status = status
        self.body = body
        self.created = created


class IdempotencyStore:
    """Idempotency key → the saved answer."""

    __slots__ = ("_saved",)

    def __init__(self) -> None:
        self._saved: dict[str, Saved] = {}

    def __len__(self) -> int:
        return len(self._saved)

    def replay(
        self, key: str, endpoint: str, params: dict[str, Any], now: int
    ) -> Saved | None:
        """The saved answer for *key*, ``None`` for a new key; raise on a mismatch."""
        if len(key) > _MAX_KEY:
            raise ApiError.invalid(
                f"Idempotency keys can be at most {_MAX_KEY} characters long."
            )  # UNCONFIRMED wording
        saved = self._saved.get(key)
        if saved is None:
            return None
        if now - saved.created >= _LIFETIME:
            del self._saved[key]
            return None
        if saved.endpoint != endpoint:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint "
                f"they were first used for ('{saved.endpoint}' vs '{endpoint}'). "
                f"Try using a key other than '{key}' if you meant to execute a "
                "different request.",
                type="idempotency_error",
                stored=False,
            )
        if saved.params != params:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type="idempotency_error",
                stored=False,
            )
        return saved

    def save(  # noqa: PLR0917 - one saved answer, field by field
        self,
        key: str,
        endpoint: str,
        params: dict[str, Any],
        status: int,
        body: str,
        now: int,
    ) -> None:
        """Remember the first answer to *key*, forgetting every key a day old."""
        self._forget_expired(now)
        self._saved.pop(key, None)  # keep the dict in the order keys were saved
        self._saved[key] = Saved(endpoint, params, status, body, now)

    def _forget_expired(self, now: int) -> None:
        """Drop keys saved 24 hours ago or more, oldest first.

        Keys are saved in clock order (the fake's clock never goes back), so
        the expired ones are at the front: each key is dropped once, and the
        store holds at most a day of keys however long a test runs.
        """
        saved = self._saved
        while saved:
            oldest = next(iter(saved))
            if now - saved[oldest].created < _LIFETIME:
                return
            del saved[oldest]

"""Events: what every state change emits, stored for ``events.list`` (strictly private).

An event holds a snapshot of the object as it was when the event happened
(records are replaced, never mutated, so a snapshot is just a reference),
``previous_attributes`` for ``*.updated`` events by Stripe's rule, the pinned
``api_version``, ``created`` from the fake clock and ``request`` (the API
request that caused it, or ``null`` ids for automatic changes such as time
passing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cancelflow.testing._store import Collection, Index, Record

__all__ = ["EventLog", "previous_attributes"]

JSON = dict[str, Any]


def previous_attributes(old: JSON, new: JSON) -> JSON:
    """Stripe's ``data.previous_attributes``: the old value of what changed.

    A changed hash holds only its changed sub-keys, at any depth
    (``{"cancellation_details": {"reason": null}}``), and so does a list
    object (``{"items": {"data": [...]}}``, without ``has_more``, ``url`` or
    ``total_count``), as captured events show (``evt_1TfIR16UYJj2vm0GTbbwormk``,
    ``evt_1SBiOdBe0ycHroRBN3pieuMu``). A changed array is given whole (Stripe's
    documented rule for arrays: ``discounts``, ``items.data``). A key that did
    not exist before is given as ``null``; a key removed from a hash (a
    ``metadata`` key unset) with its old value.
    """
    changed: JSON = {}
    for key, value in new.items():
        before = old.get(key)
        if before != value:
            if type(before) is dict and type(value) is dict:
                changed[key] = previous_attributes(before, value)
            else:
                changed[key] = before
    if len(old) > len(new) or not old.keys() <= new.keys():
        for key in old.keys() - new.keys():
            changed[key] = old[key]
    return changed


class EventLog:
    """Every event, in order, with an index by type."""

    __slots__ = (
        "_api_version",
        "_clock",
        "_new_id",
        "_on_emit",
        "_request",
        "by_type",
        "store",
    )

    def __init__(
        self,
        *,
        api_version: str,
        clock: Callable[[], int],
        new_id: Callable[[str], str],
        request: Callable[[], JSON],
        on_emit: Callable[[JSON], int],
    ) -> None:
        self.store: Collection[Record] = Collection()
        self.by_type = Index()
        self._api_version = api_version
        self._clock = clock
        self._new_id = new_id
        self._request = request
        self._on_emit = on_emit

    def emit(self, type_: str, obj: JSON, previous: JSON | None = None) -> JSON:
        """Record one event and queue it for webhook delivery; return it."""
        data: JSON = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event: JSON = {
            "id": self._new_id("evt"),
            "object": "event",
            "api_version": self._api_version,
            "created": self._clock(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": self._request(),
            "type": type_,
        }
        event["pending_webhooks"] = self._on_emit(event)
        self.store.add(Record(event))
        self.by_type.add(type_, event["id"])
        return event

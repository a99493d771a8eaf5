"""Ordered collections and secondary indexes, so nothing scans the store (strictly private).

Stripe lists objects newest first. A `Ordered` keeps ids in creation
order with each id's position, so a page that starts after (or ends before) a
given id begins right there instead of searching for it; a secondary index is
an ``Ordered`` per key (subscriptions by customer, events by type).

Records are replaced, never mutated in place (see `Record`), so an
event or a response that holds a record's dict keeps what it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Collection", "Index", "Ordered", "Record"]

JSON = dict[str, Any]


class Record:
    """One stored object: ``obj`` is its wire shape, replaced on every change.

    Never mutate ``obj`` (or a dict inside it) in place: build a new dict
    (``record.obj = {**record.obj, "status": "canceled"}``). Events and
    responses keep references to the old dicts as snapshots.
    """

    __slots__ = ("obj",)

    def __init__(self, obj: JSON) -> None:
        self.obj = obj

    @property
    def id(self) -> str:
        value: str = self.obj["id"]
        return value


R = TypeVar("R", bound=Record)


class Ordered:
    """Ids in creation order, with each id's position (append-only)."""

    __slots__ = ("ids", "pos")

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def append(self, object_id: str) -> None:
        if object_id not in self.pos:
            self.pos[object_id] = len(self.ids)
            self.ids.append(object_id)

    def newest_first(self, *, before: int | None = None) -> Iterator[str]:
        """Ids from newest to oldest, starting just before position *before*."""
        ids = self.ids
        i = (len(ids) if before is None else before) - 1
        while i >= 0:
            yield ids[i]
            i -= 1

    def oldest_first(self, *, after: int) -> Iterator[str]:
        """Ids from oldest to newest, starting just after position *after*."""
        ids = self.ids
        for i in range(after + 1, len(ids)):
            yield ids[i]


class Collection(Generic[R]):
    """All objects of one type: by id, plus creation order."""

    __slots__ = ("by_id", "order")

    def __init__(self) -> None:
        self.by_id: dict[str, R] = {}
        self.order = Ordered()

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self.by_id

    def get(self, object_id: str) -> R | None:
        return self.by_id.get(object_id)

    def add(self, record: R) -> R:
        self.by_id[record.id] = record
        self.order.append(record.id)
        return record

    def remove(self, object_id: str) -> None:
        """Forget an object; its place in the order stays (pages skip it)."""
        self.by_id.pop(object_id, None)


class Index:
    """A secondary index: key → the ids with that key, in creation order."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[str, Ordered] = {}

    def add(self, key: str, object_id: str) -> None:
        ordered = self._by_key.get(key)
        if ordered is None:
            ordered = self._by_key[key] = Ordered()
        ordered.append(object_id)

    def get(self, key: str) -> Ordered:
        return self._by_key.get(key) or _EMPTY

    def keys(self) -> list[str]:
        return list(self._by_key)


_EMPTY = Ordered()

IdFilter = Callable[[str], bool]

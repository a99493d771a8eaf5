"""Stripe's list pages: ``limit``, ``starting_after``, ``ending_before`` (strictly private)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cancelflow.testing._errors import ApiError
from cancelflow.testing._store import Ordered

__all__ = ["list_object", "page"]

JSON = dict[str, Any]


def list_object(data: list[JSON], url: str, *, has_more: bool = False) -> JSON:
    """A ``list`` object, as Stripe nests them (``subscription.items``) and returns them."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def page(
    ordered: Ordered,
    render: Callable[[str], JSON | None],
    params: dict[str, Any],
    url: str,
    *,
    noun: str,
) -> JSON:
    """One page of *ordered*, newest first, as a Stripe ``list`` object.

    *render* turns an id into the object to return, or ``None`` when the id is
    filtered out (or deleted). Only the ids on the page (plus one, to know
    ``has_more``) are looked at after the cursor: nothing scans the store.
    """
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise ApiError.invalid(
            "Invalid limit: must be between 1 and 100", param="limit"
        )  # UNCONFIRMED wording
    after = params.get("starting_after")
    before = params.get("ending_before")
    if after is not None and before is not None:
        raise ApiError.exclusive("ending_before", "starting_after")
    ids: Iterator[str]
    if after is not None:
        ids = ordered.newest_first(
            before=_position(ordered, after, "starting_after", noun)
        )
    elif before is not None:
        ids = ordered.oldest_first(
            after=_position(ordered, before, "ending_before", noun)
        )
    else:
        ids = ordered.newest_first()
    data: list[JSON] = []
    has_more = False
    for object_id in ids:
        obj = render(object_id)
        if obj is None:
            continue
        if len(data) == limit:
            has_more = True
            break
        data.append(obj)
    if before is not None:
        data.reverse()
    return list_object(data, url, has_more=has_more)


def _position(ordered: Ordered, object_id: str, param: str, noun: str) -> int:
    position = ordered.pos.get(object_id)
    if position is None:
        raise ApiError.resource_missing(noun, object_id, param)
    return position

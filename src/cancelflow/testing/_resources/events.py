"""Events: retrieve and list (``type`` with ``*`` wildcards, ``types``, ``created``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from cancelflow.testing._errors import ApiError
from cancelflow.testing._pagination import page
from cancelflow.testing._resources._common import JSON, created_filter, respond
from cancelflow.testing._routing import Call, Route

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES"]

_MAX_TYPES: Final = 20


def _retrieve(b: Backend, call: Call) -> JSON:
    record = b.events.store.by_id.get(call.id)
    if record is None:
        raise ApiError.resource_missing("event", call.id, "id")
    return respond(b, call, record.obj)


def _list(b: Backend, call: Call) -> JSON:
    params = call.params
    events = b.events
    if "type" in params and "types" in params:
        raise ApiError.exclusive("type", "types")
    created = created_filter(params.get("created"))
    wanted = params.get("types")
    if wanted is not None and len(wanted) > _MAX_TYPES:
        raise ApiError.invalid(
            f"You may pass at most {_MAX_TYPES} types.", param="types"
        )  # UNCONFIRMED wording
    types = None if wanted is None else frozenset(wanted)
    pattern: str | None = params.get("type")
    prefix = None
    ordered = events.store.order
    if pattern is not None:
        if pattern.endswith("*"):
            prefix = pattern[:-1]
        else:
            ordered = events.by_type.get(pattern)

    def render(object_id: str) -> JSON | None:
        obj = events.store.by_id[object_id].obj
        if prefix is not None and not obj["type"].startswith(prefix):
            return None
        if types is not None and obj["type"] not in types:
            return None
        if created is not None and not created(obj["created"]):
            return None
        return obj

    return respond(b, call, page(ordered, render, params, "/v1/events", noun="event"))


_LIST = ("created", "ending_before", "limit", "starting_after", "type", "types")

ROUTES = (
    Route(
        "get", "/v1/events/{id}", "EventRetrieveParams", _retrieve, "events.retrieve"
    ),
    Route("get", "/v1/events", "EventListParams", _list, "events.list", _LIST),
)

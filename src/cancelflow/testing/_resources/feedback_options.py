"""Custom feedback options (``billing.feedback_option``): create, retrieve, list, ….

A feedback option is a custom cancellation reason a portal configuration can
offer (``features.subscription_cancel.cancellation_reason.feedback_options``);
the one a customer picks lands in
``subscription.cancellation_details.feedback_option``. Stripe emits no events
for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final

from cancelflow.testing._errors import ApiError
from cancelflow.testing._pagination import page
from cancelflow.testing._resources._common import JSON, Store, respond
from cancelflow.testing._routing import Call, Route
from cancelflow.testing._store import Record

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend

__all__ = ["ROUTES", "FeedbackOptions"]

_MAX_DESCRIPTION: Final = 100


class FeedbackOptions(Store[Record]):
    noun: ClassVar[str] = "feedback option"

    def create(self, description: str) -> Record:
        _check_description(description)
        obj: JSON = {
            "id": self.b.new_id("fo"),
            "object": "billing.feedback_option",
            "description": description,
            "livemode": False,
            "status": "active",
            "status_transitions": {"deactivated_at": None},
        }
        return self.store.add(Record(obj))

    def update(self, record: Record, params: JSON) -> Record:
        if "description" in params:
            _check_description(params["description"])
            record.obj = {**record.obj, "description": params["description"]}
        return record

    def deactivate(self, record: Record) -> Record:
        if record.obj["status"] == "active":
            record.obj = {
                **record.obj,
                "status": "inactive",
                "status_transitions": {"deactivated_at": self.b.now()},
            }
        return record


def _check_description(description: str) -> None:
    if len(description) > _MAX_DESCRIPTION:
        raise ApiError.invalid(
            f"Invalid string: must be at most {_MAX_DESCRIPTION} characters.",
            param="description",
        )  # the limit is documented, the wording is UNCONFIRMED


# -- HTTP ----------------------------------------------------------------------------


def _create(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.feedback_options.create(call.params["description"]).obj)


def _retrieve(b: Backend, call: Call) -> JSON:
    return respond(b, call, b.feedback_options.get(call.id).obj)


def _update(b: Backend, call: Call) -> JSON:
    options = b.feedback_options
    return respond(b, call, options.update(options.get(call.id), call.params).obj)


def _deactivate(b: Backend, call: Call) -> JSON:
    options = b.feedback_options
    return respond(b, call, options.deactivate(options.get(call.id)).obj)


def _list(b: Backend, call: Call) -> JSON:
    options = b.feedback_options
    status = call.params.get("status")

    def render(object_id: str) -> JSON | None:
        obj = options.store.by_id[object_id].obj
        return None if status is not None and obj["status"] != status else obj

    return respond(
        b,
        call,
        page(
            options.store.order,
            render,
            call.params,
            "/v1/billing/feedback_options",
            noun="feedback option",
        ),
    )


ROUTES = (
    Route(
        "post",
        "/v1/billing/feedback_options",
        "billing.FeedbackOptionCreateParams",
        _create,
        "billing.feedback_options.create",
    ),
    Route(
        "get",
        "/v1/billing/feedback_options/{id}",
        "billing.FeedbackOptionRetrieveParams",
        _retrieve,
        "billing.feedback_options.retrieve",
    ),
    Route(
        "post",
        "/v1/billing/feedback_options/{id}",
        "billing.FeedbackOptionUpdateParams",
        _update,
        "billing.feedback_options.update",
    ),
    Route(
        "post",
        "/v1/billing/feedback_options/{id}/deactivate",
        "billing.FeedbackOptionDeactivateParams",
        _deactivate,
        "billing.feedback_options.deactivate",
    ),
    Route(
        "get",
        "/v1/billing/feedback_options",
        "billing.FeedbackOptionListParams",
        _list,
        "billing.feedback_options.list",
    ),
)

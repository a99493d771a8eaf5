"""Fake-only endpoints under ``/_cancelflow/`` (strictly private).

Stripe has no such endpoints; they let code in any language do over HTTP
what Python tests do with the FakeStripe object. Each needs a test-mode key,
like the API, and answers JSON (errors in Stripe's shape).

* ``GET /_cancelflow/clock`` — the fake's time: ``{"now": unix, "iso": …}``.
* ``POST /_cancelflow/clock/advance`` with ``seconds=N`` (or ``to=UNIX``) —
  move time forward, running what time drives (renewals, scheduled cancels
  ending, trials ending, discounts expiring, each with its events).
* ``GET``/``POST /_cancelflow/dashboard/portal_settings`` — the customer
  portal page of Stripe's Dashboard (``fake.dashboard``): ``POST`` takes the
  parameters of ``billing_portal.configurations.update``, form-encoded as
  Stripe's API takes them, and saves the account's default configuration.
* ``GET``/``POST /_cancelflow/latency`` — a delay added to each API request
  (``fake.set_latency``): ``seconds=0.2`` and ``routes[customers.list]=0``.
* ``POST /_cancelflow/customers/<cus_…>/fail_next_renewal`` (``attempts=N``
  optional) — the customer's next renewal payment fails
  (``fake.fail_next_renewal``).
* ``GET``/``POST /_cancelflow/dashboard/retry_schedule`` — when failed renewals
  are retried and what happens after the last try (``days[0]=3&days[1]=5``,
  ``then=cancel|unpaid|past_due``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, unquote

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing._api import _check_key
from cancelflow.testing._errors import ApiError
from cancelflow.testing._form import decode
from cancelflow.testing._server.protocol import Request, Response

if TYPE_CHECKING:
    from cancelflow.testing._server.account import ServedAccount

__all__ = ["PREFIX", "Controls"]

PREFIX: Final = "/_cancelflow/"
_JSON: Final = (("Content-Type", "application/json"), ("Cache-Control", "no-store"))


def _answer(status: int, body: object) -> Response:
    return Response(status, json.dumps(body).encode(), _JSON)


def _form(
    request: Request, problem: str = "the body must be form-encoded, as for the API"
) -> dict[str, Any]:
    """The request's form, decoded as the API decodes it (400 *problem* otherwise)."""
    try:
        return decode(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError.invalid(problem) from None


def _error(err: ApiError) -> Response:
    return _answer(err.status, err.body("req_cancelflow_control"))


class Controls:
    """Answers ``/_cancelflow/…`` for one served account."""

    def __init__(self, account: ServedAccount) -> None:
        self._account = account

    def handle(self, request: Request) -> Response:
        """Answer one control request (JSON; errors in Stripe's shape)."""
        try:
            return self._route(request)
        except ApiError as err:
            return _error(err)

    def _route(self, request: Request) -> Response:
        _check_key(request.headers.get("authorization"))
        name = request.path[len(PREFIX) :].rstrip("/")
        if name == "clock" and request.method == "GET":
            return self._clock()
        if name == "clock/advance" and request.method == "POST":
            return self._advance(request)
        if name == "dashboard/portal_settings":
            if request.method == "POST":
                return self._save_portal_settings(request)
            return _answer(200, self._account.fake.dashboard.portal_configuration)
        if name == "dashboard/retry_schedule":
            if request.method == "POST":
                self._set_retry_schedule(request)
            schedule = self._account.fake.dashboard.retry_schedule
            return _answer(200, {"days": list(schedule.days), "then": schedule.then})
        parts = name.split("/")
        if (
            len(parts) == 3
            and parts[0] == "customers"
            and parts[2] == "fail_next_renewal"
            and request.method == "POST"
        ):
            return self._fail_next_renewal(parts[1], request)
        if name == "latency":
            if request.method == "POST":
                self._set_latency(request)
            latency = self._account.fake.latency
            return _answer(
                200, {"default": latency.default, "routes": dict(latency.routes)}
            )
        raise ApiError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path[:80]}). "
            "The fake-only endpoints are GET /_cancelflow/clock, POST "
            "/_cancelflow/clock/advance, GET and POST /_cancelflow/latency, "
            "/_cancelflow/dashboard/portal_settings and "
            "/_cancelflow/dashboard/retry_schedule, and POST "
            "/_cancelflow/customers/<id>/fail_next_renewal.",
        )

    def _save_portal_settings(self, request: Request) -> Response:
        try:
            saved = self._account.save_portal_settings(_form(request))
        except FakeStripeError as err:
            raise ApiError.invalid(str(err)) from None
        return _answer(200, saved)

    def _fail_next_renewal(self, customer: str, request: Request) -> Response:
        form = _form(request)
        attempts = form.get("attempts")
        if attempts is not None and not (
            isinstance(attempts, str) and attempts.isdigit()
        ):
            raise ApiError.invalid_integer("attempts", str(attempts))
        try:
            self._account.fail_next_renewal(
                unquote(customer), None if attempts is None else int(attempts)
            )
        except FakeStripeError as err:
            raise ApiError.invalid(str(err)) from None
        return _answer(200, {"customer": unquote(customer), "fail_next_renewal": True})

    def _set_retry_schedule(self, request: Request) -> None:
        form = _form(request)
        days = form.get("days", [])
        if days == "":
            days = []
        if not isinstance(days, list) or not all(
            isinstance(day, str) and day.isdigit() for day in days
        ):
            raise ApiError.invalid(
                "days must be whole days: days[0]=3&days[1]=5", param="days"
            )
        then = form.get("then", "cancel")
        try:
            self._account.set_retry_schedule([int(day) for day in days], str(then))
        except FakeStripeError as err:
            raise ApiError.invalid(str(err)) from None

    def _set_latency(self, request: Request) -> None:
        form = _form(request, "the body must be a form: seconds=0.2")
        try:
            seconds = float(form.get("seconds", 0))
            routes = form.get("routes", {})
            if not isinstance(routes, dict):
                raise ApiError.invalid(
                    "routes must be routes[operation]=seconds", param="routes"
                )
            self._account.fake.set_latency(
                seconds, routes={str(k): float(v) for k, v in routes.items()}
            )
        except (TypeError, ValueError) as err:
            raise ApiError.invalid(
                f"seconds must be numbers ({err})", param="seconds"
            ) from None
        except FakeStripeError as err:
            raise ApiError.invalid(str(err)) from None

    def _clock(self) -> Response:
        clock = self._account.fake.clock
        return _answer(
            200, {"now": clock.now(), "iso": clock.now_datetime().isoformat()}
        )

    def _advance(self, request: Request) -> Response:
        try:
            form = dict(parse_qsl(request.body.decode("utf-8"), max_num_fields=5))
        except (UnicodeDecodeError, ValueError):
            raise ApiError.invalid(
                "the body must be a form: seconds=N or to=UNIX"
            ) from None
        clock = self._account.fake.clock
        if ("seconds" in form) == ("to" in form):
            raise ApiError.invalid(
                "give one of seconds (how far to move the clock) or to (a unix time)",
                param="seconds",
            )
        name = "seconds" if "seconds" in form else "to"
        value = form[name]
        if not value.isdigit():
            raise ApiError.invalid_integer(name, value)
        seconds = int(value) if name == "seconds" else int(value) - clock.now()
        if seconds < 0:
            raise ApiError.invalid(
                f"the fake clock only moves forward: it is at {clock.now()}", param="to"
            )
        try:
            self._account.advance(seconds)
        except FakeStripeError as err:
            raise ApiError.invalid(str(err)) from None
        return self._clock()

"""Fault injection: make the next calls of an operation fail the way Stripe can.

``fake.faults.fail_next("subscriptions.retrieve", kind="rate_limit", times=2)``
makes the next two ``GET /v1/subscriptions/{id}`` requests fail before they
reach the account (nothing changes, no event, no idempotency key is stored),
with the status and error body Stripe sends, so stripe-python raises the very
class it raises against Stripe:

==================== ====== ====================================== ===========================
kind                 status body ``error.type`` (``code``)         stripe-python raises
==================== ====== ====================================== ===========================
``rate_limit``       429    ``invalid_request_error``              ``RateLimitError``
                            (``rate_limit``)
``api_error``        500    ``api_error``                          ``APIError``
``idempotency_error`` 400   ``idempotency_error``                  ``IdempotencyError``
``conflict``         409    ``idempotency_error`` (another request ``APIError``
                            with the key is in progress)
``connection_error`` —      no answer: the HTTP client raises      ``APIConnectionError``
                            ``APIConnectionError(should_retry=True)``
==================== ====== ====================================== ===========================

Error answers carry ``Stripe-Should-Retry: false`` (as every answer of the
fake does), so stripe-python does not retry them; a connection error is
retried when the client has ``max_network_retries`` (the fake's HTTP client
does not sleep between retries), so a host's retry settings can be tested.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Final, Literal, get_args

import attrs

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing._errors import ApiError

if TYPE_CHECKING:
    from cancelflow.testing._backend import Backend
    from cancelflow.testing._routing import Call

__all__ = [
    "ANY_OPERATION",
    "Fault",
    "FaultKind",
    "Faults",
    "InjectedFault",
    "check_operation",
]

FaultKind = Literal[
    "rate_limit", "api_error", "idempotency_error", "conflict", "connection_error"
]
KINDS: Final[tuple[str, ...]] = get_args(FaultKind)
ANY_OPERATION: Final = "*"

_RATE_LIMIT: Final = (
    "Request rate limit exceeded. Learn more about rate limits here: "
    "https://docs.stripe.com/rate-limits."
)  # wording UNCONFIRMED; status, type and code are Stripe's
_API_ERROR: Final = (
    "Sorry, something went wrong on Stripe's end. If this problem persists, "
    "contact Stripe support (cancelflow FakeStripe: an injected fault)."
)
_CONNECTION: Final = (
    "Unexpected error communicating with Stripe. If this problem persists, let us "
    "know at support@stripe.com. (cancelflow FakeStripe: an injected connection "
    "error; the request did not reach the account.)"
)


@attrs.frozen(kw_only=True)
class Fault:
    """A planned failure: the next *remaining* calls of *operation* fail with *kind*.

    Attributes:
        operation: the operation's name (``subscriptions.retrieve``), or ``*``.
        kind: one of ``rate_limit``, ``api_error``, ``idempotency_error``,
            ``conflict``, ``connection_error``.
        remaining: how many calls are still to fail.
        message: the error message, if not Stripe's usual one.
    """

    operation: str
    kind: FaultKind
    remaining: int
    message: str | None = None


@attrs.frozen(kw_only=True)
class InjectedFault:
    """One call that failed because of a planned fault.

    Attributes:
        operation: the operation that failed (``subscriptions.retrieve``).
        kind: the kind of failure.
        request_id: the ``req_…`` id of the failed request (``None`` for a
            connection error, which gets no answer).
    """

    operation: str
    kind: FaultKind
    request_id: str | None


class Faults:
    """The planned failures of one fake account (``FakeStripe.faults``).

    Args:
        backend: the fake account's internal state; not built by hand: use
            `fake.faults`.
    """

    __slots__ = ("_b", "_planned", "injected")

    def __init__(self, backend: Backend) -> None:
        self._b = backend
        self._planned: list[Fault] = []
        self.injected: list[InjectedFault] = []
        """Every call that failed because of a planned fault, in order."""
        backend.interceptors.append(self._intercept)

    def __repr__(self) -> str:
        return f"<Faults planned={len(self._planned)} injected={len(self.injected)}>"

    @property
    def pending(self) -> list[Fault]:
        """The planned failures not yet used up, in the order they apply."""
        return list(self._planned)

    def fail_next(
        self,
        operation: str,
        kind: FaultKind = "api_error",
        *,
        times: int = 1,
        message: str | None = None,
    ) -> None:
        """Make the next *times* calls of *operation* fail with *kind*.

        *operation* is a name like ``subscriptions.retrieve``,
        ``billing_portal.sessions.create`` or ``customers.create`` (the
        stripe-python service and method), or ``*`` for any call. Planned
        failures apply in the order they were planned; one whose count is
        used up is forgotten.

        Args:
            operation: the stripe-python service and method, or `*`.
            kind: `rate_limit` (429), `api_error` (500), `idempotency_error`
                (400), `conflict` (409) or `connection_error`.
            times: how many calls fail.
            message: the error's message; Stripe-like text when `None`.

        Raises:
            FakeStripeError: an operation the fake does not model, an unknown
                kind, or ``times`` < 1.
        """
        check_operation(operation)
        if kind not in KINDS:
            raise FakeStripeError(
                f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}"
            )
        if isinstance(times, bool) or times < 1:
            raise FakeStripeError("times is how many calls fail: an int ≥ 1")
        self._planned.append(
            Fault(operation=operation, kind=kind, remaining=times, message=message)
        )

    def clear(self) -> None:
        """Forget every planned failure (the record of injected ones stays)."""
        self._planned.clear()

    def _intercept(self, call: Call) -> None:
        name = call.route.name
        for i, fault in enumerate(self._planned):  # noqa: B007 - i is used after the loop
            if fault.operation in (name, ANY_OPERATION):
                break
        else:
            return
        if fault.remaining == 1:
            del self._planned[i]
        else:
            self._planned[i] = attrs.evolve(fault, remaining=fault.remaining - 1)
        if fault.kind == "connection_error":
            self.injected.append(
                InjectedFault(operation=name, kind=fault.kind, request_id=None)
            )
            import stripe

            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                fault.message or _CONNECTION, should_retry=True
            )
        self.injected.append(
            InjectedFault(operation=name, kind=fault.kind, request_id=call.request_id)
        )
        raise _answer(fault, call)


def _answer(fault: Fault, call: Call) -> ApiError:
    kind = fault.kind
    key = call.idempotency_key or ""
    if kind == "rate_limit":
        return ApiError(
            429, fault.message or _RATE_LIMIT, code="rate_limit", stored=False
        )
    if kind == "idempotency_error":
        return ApiError(
            400,
            fault.message
            or (
                "Keys for idempotent requests can only be used with the same "
                f"parameters they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request."
            ),
            type="idempotency_error",
            stored=False,
        )
    if kind == "conflict":
        return ApiError(
            409,
            fault.message
            or (
                "There is currently another in-progress request using this "
                f"Idempotency-Key ('{key}'). Try again later."
            ),
            type="idempotency_error",
            stored=False,
        )  # wording UNCONFIRMED
    return ApiError(500, fault.message or _API_ERROR, type="api_error", stored=False)


def check_operation(operation: str) -> None:
    """Refuse, by name, an operation the fake does not model (``*`` passes)."""
    if operation == ANY_OPERATION:
        return
    from cancelflow.testing._api import ROUTES

    names = sorted({route.name for route in ROUTES})
    if operation not in names:
        close = difflib.get_close_matches(operation, names, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise FakeStripeError(
            f"FakeStripe models no operation named {operation!r}{hint} "
            f"(operations: {', '.join(names)}, or '*')"
        )

"""Stripe's error answers, as the fake sends them (strictly private).

Every refusal inside the fake is an `ApiError`: an HTTP status plus the
``{"error": {...}}`` body Stripe sends, so that stripe-python raises the same
exception class with the same ``code``, ``param`` and ``http_status`` as it
would against Stripe. Messages follow Stripe's wording where it is known; the
ones that are a guess are marked ``UNCONFIRMED`` at their call site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

__all__ = ["NOT_MODELED_PREFIX", "ApiError"]

NOT_MODELED_PREFIX: Final = "cancelflow FakeStripe does not model"


class ApiError(Exception):
    """A Stripe error answer.

    Attributes:
        status: the HTTP status (400, 401, 404, …).
        message: Stripe's human-readable message.
        type: Stripe's error type (``invalid_request_error``, ``api_error``, …).
        code: Stripe's error code (``resource_missing``), if any.
        param: the parameter blamed, in form notation (``items[0][price]``).
        stored: whether an idempotency key remembers this answer. Stripe stores
            the result of a request that started executing, not a request whose
            parameters failed validation.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's word
        code: str | None = None,
        param: str | None = None,
        stored: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.stored = stored
        self.extra = extra or {}

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body Stripe answers with."""
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = (
                "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
            )
        if self.param is not None:
            error["param"] = self.param
        error["request_log_url"] = (
            f"https://dashboard.stripe.com/test/logs/{request_id}?t=0"
        )
        error.update(self.extra)
        return {"error": error}

    # -- validation (not stored by the idempotency layer) -------------------------

    @classmethod
    def unknown_parameter(cls, param: str) -> ApiError:
        return cls(
            400,
            f"Received unknown parameter: {param}",
            code="parameter_unknown",
            param=param,
            stored=False,
        )

    @classmethod
    def missing_parameter(cls, param: str) -> ApiError:
        return cls(
            400,
            f"Missing required param: {param}.",
            code="parameter_missing",
            param=param,
            stored=False,
        )

    @classmethod
    def invalid_enum(cls, param: str, values: Iterable[str]) -> ApiError:
        # Stripe's enum errors carry no code (UNCONFIRMED: seen in captures, not docs).
        return cls(
            400,
            f"Invalid {_leaf(param)}: must be one of {_one_of(sorted(values))}",
            param=param,
            stored=False,
        )

    @classmethod
    def invalid_integer(cls, param: str, value: str) -> ApiError:
        return cls(
            400,
            f"Invalid integer: {_clip(value)}",
            code="parameter_invalid_integer",
            param=param,
            stored=False,
        )

    @classmethod
    def invalid_value(cls, param: str, kind: str, value: object) -> ApiError:
        """A value of the wrong kind: ``kind`` is boolean, decimal, array, object, hash."""
        shown = f": {_clip(value)}" if isinstance(value, str) else ""
        return cls(400, f"Invalid {kind}{shown}", param=param, stored=False)

    @classmethod
    def invalid_empty(cls, param: str) -> ApiError:
        return cls(
            400,
            f"You passed an empty string for '{param}'. We assume empty values are "
            f"an attempt to unset a parameter; however '{param}' cannot be unset. "
            f"You should remove '{param}' from your request or supply a non-empty "
            "value.",
            code="parameter_invalid_empty",
            param=param,
            stored=False,
        )

    @classmethod
    def invalid_url(cls, param: str) -> ApiError:
        # Stripe refuses non-URLs; the wording and the missing code are UNCONFIRMED.
        return cls(400, "Not a valid URL", param=param, stored=False)

    @classmethod
    def invalid_currency(
        cls, param: str, value: str, supported: Iterable[str]
    ) -> ApiError:
        # "Invalid currency: zzz. ..." without a code: wording UNCONFIRMED.
        return cls(
            400,
            f"Invalid currency: {_clip(value, 20)}. Stripe currently supports these "
            f"currencies: {', '.join(supported)}",
            param=param,
            stored=False,
        )

    @classmethod
    def too_long(cls, param: str, value: str, limit: int) -> ApiError:
        # The limit is stripe-python's documented one; the wording is UNCONFIRMED.
        return cls(
            400,
            f"Invalid string: {_clip(value, 40)}; must be at most {limit} characters",
            param=param,
            stored=False,
        )

    @classmethod
    def invalid(
        cls,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        stored: bool = False,
    ) -> ApiError:
        """A request Stripe refuses as invalid (400)."""
        return cls(400, message, code=code, param=param, stored=stored)

    @classmethod
    def exclusive(cls, *params: str) -> ApiError:
        return cls(
            400,
            f"You may only specify one of these parameters: {', '.join(params)}.",
            code="parameters_exclusive",
            param=params[0],
            stored=False,
        )

    # -- state (stored: the request started executing) ----------------------------

    @classmethod
    def resource_missing(cls, noun: str, object_id: str, param: str) -> ApiError:
        """``No such subscription: 'sub_…'`` (404)."""
        return cls(
            404,
            f"No such {noun}: '{_clip(object_id)}'",
            code="resource_missing",
            param=param,
        )

    @classmethod
    def state(
        cls, message: str, *, param: str | None = None, code: str | None = None
    ) -> ApiError:
        """A request refused because of the objects' state (400, stored)."""
        return cls(400, message, code=code, param=param)

    @classmethod
    def not_modeled(cls, what: str, *, param: str | None = None) -> ApiError:
        """Stripe has it, the fake does not: say so instead of answering ``{}``."""
        return cls(
            400,
            f"{NOT_MODELED_PREFIX} {what}. Use Stripe's test mode for this call, or "
            "ask cancelflow to model it.",
            param=param,
            stored=False,
        )


def _leaf(param: str) -> str:
    """``flow_data[after_completion][type]`` → ``type`` (Stripe names the leaf)."""
    if param.endswith("]"):
        return param[param.rfind("[") + 1 : -1]
    return param


def _one_of(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + f", or {values[-1]}"


def _clip(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The CancelflowError tree keeps secrets out of str, repr and formatted tracebacks."""

from __future__ import annotations

import inspect
import logging
import traceback

import pytest
from hypothesis import given, settings

from cancelflow import (
    AllowedHosts,
    Cancelflow,
    StripeGateway,
    build_cancel_session_params,
)
from cancelflow import exceptions as exc
from cancelflow.exceptions import (
    CancelflowError,
    CouponNotFoundError,
    InvalidParameterError,
    StripeAPIError,
    StripeInvalidRequestError,
    redact,
)
from hostile import key_shaped
from recording import RecordingHTTPClient, coupon_json, error_json, subscription_json

# Built at run time, so that no source line shown in a traceback holds them.
LIVE_KEY = "sk_" + "live_" + "51Hq" + "Zx9" * 8
TEST_KEY = "rk_" + "test_" + "Zq" + "a1" * 12
WEBHOOK_SECRET = "whsec_" + "Ab+cd/ef" * 4 + "=="
SECRETS = [LIVE_KEY, TEST_KEY, WEBHOOK_SECRET]
#: Each secret hidden the ways the review found: after "_", a letter or a digit.
DISGUISED = [
    f"key=_{LIVE_KEY}",
    f"cus_{LIVE_KEY}",
    f"x{TEST_KEY}",
    f"9{WEBHOOK_SECRET}",
    f"'{WEBHOOK_SECRET}'",
]


def bodies(secret: str) -> list[str]:
    """The part of each secret after its prefix: what must never be shown."""
    return [
        secret.split("_", 2)[-1] if secret.startswith(("sk_", "rk_")) else secret[6:]
    ]


def rendered(error: BaseException) -> str:
    """``str``, ``repr`` and the full formatted traceback (chained exceptions too)."""
    return "\n".join(
        [str(error), repr(error), "".join(traceback.format_exception(error))]
    )


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS for body in bodies(s) if body in text]


def every_error_class() -> list[type[CancelflowError]]:
    return [
        cls
        for name in exc.__all__
        if isinstance(cls := getattr(exc, name), type)
        and issubclass(cls, CancelflowError)
    ]


def build(cls: type[CancelflowError], value: str) -> CancelflowError:
    """An instance of *cls* with *value* in every text argument it takes."""
    params = inspect.signature(cls.__init__).parameters
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for name, param in list(params.items())[1:]:
        if param.kind is param.VAR_POSITIONAL:
            args.append(f"no coupon {value} exists")
        elif name in {"link", "record"}:
            kwargs[name] = None
        elif name == "retry_safe":
            kwargs[name] = True
        elif name in {"applied", "not_applied"}:
            kwargs[name] = (f"{name} {value}",)
        elif name in {"line", "http_status", "timestamp", "cancel_at"}:
            kwargs[name] = 1
        elif param.kind is param.KEYWORD_ONLY:
            kwargs[name] = value
        else:
            args.append(f"{name} {value}")
    return cls(*args, **kwargs)


def _context() -> None:
    raise ValueError("context")


def _throw(error: BaseException) -> None:
    try:
        _context()
    except ValueError:
        raise error from None


def raised(error: BaseException) -> BaseException:
    """*error* after being raised (so it has a traceback) inside another error."""
    try:
        _throw(error)
    except BaseException as caught:
        return caught
    raise AssertionError("not raised")


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", SECRETS + DISGUISED)
def test_every_error_class_hides_key_shaped_input(cls, value):
    """Every error class, given a key or secret in each argument, shows none of it
    in str, repr or a formatted traceback, nor in its text attributes."""
    error = raised(build(cls, value))
    assert leaks(rendered(error)) == []
    for name, attribute in vars(error).items():
        texts = attribute if isinstance(attribute, tuple) else (attribute,)
        for text in texts:
            if isinstance(text, str):
                assert leaks(text) == [], name


def test_the_tree_is_drawn_with_every_class():
    """The docstring's tree names every error class of the module."""
    doc = exc.__doc__ or ""
    assert [
        cls.__name__ for cls in every_error_class() if cls.__name__ not in doc
    ] == []


@settings(max_examples=300)
@given(key_shaped())
def test_redact_hides_any_key_shaped_text(drawn):
    """A secret key or webhook secret inside any text, after any character, is
    redacted, and redacting twice changes nothing more."""
    text, body = drawn
    once = redact(text)
    assert body not in once
    assert "[redacted]" in once
    assert redact(once) == once


@pytest.mark.parametrize(
    "text", ["task_list", "risk_level", "desk_1234", "whsec", "sk_abc", "rk_"]
)
def test_ordinary_words_are_left_alone(text):
    """Words that merely contain sk_ or rk_ after a letter are not redacted."""
    assert redact(text) == text


def test_stripe_api_error_param_and_repr_are_redacted():
    """StripeAPIError redacts its param, code and request id, not only its message."""
    error = StripeInvalidRequestError(
        f"bad {LIVE_KEY}",
        param=f"coupon={LIVE_KEY}",
        code=LIVE_KEY,
        request_id=LIVE_KEY,
    )
    assert leaks(repr(error)) == []
    assert error.param == "coupon=sk_live_[redacted]"


# -- raised by cancelflow, end to end through stripe-python ---------------------------


@pytest.fixture
def flow():
    recorder = RecordingHTTPClient()
    recorder.subscriptions["sub_1"] = subscription_json()
    recorder.coupons["SAVE20"] = coupon_json()
    return recorder, Cancelflow(
        recorder.client(), allowed_hosts=["example.com"], clock=lambda: 1_780_000_000
    )


def test_a_key_given_as_the_coupon_is_not_echoed(flow, caplog):
    """coupon="sk_live_…" ends in CouponNotFoundError whose message, repr, traceback
    and logging.exception output hide the key; no stripe exception is chained."""
    _, cancelflow = flow
    with pytest.raises(CouponNotFoundError) as info:
        cancelflow.create_cancel_link(
            customer="cus_1", subscription="sub_1", coupon=LIVE_KEY
        )
    error = info.value
    assert leaks(rendered(error)) == []
    assert leaks(error.coupon_id) == []
    cause = error.__cause__
    assert isinstance(cause, StripeAPIError)
    assert cause.__cause__ is None
    assert cause.__context__ is None
    with caplog.at_level(logging.ERROR):
        try:
            raise error
        except CouponNotFoundError:
            logging.getLogger("host").exception("cancel link failed")
    assert leaks(caplog.text) == []


@pytest.mark.parametrize("value", [LIVE_KEY, *DISGUISED])
def test_a_key_given_as_the_locale_is_not_echoed(value):
    """locale="sk_live_…" is an InvalidParameterError that does not show the key."""
    with pytest.raises(InvalidParameterError) as info:
        build_cancel_session_params(
            customer="cus_1",
            subscription="sub_1",
            allowed_hosts=AllowedHosts(["example.com"]),
            locale=value,
        )
    assert leaks(rendered(info.value)) == []
    assert leaks(info.value.rule) == []


def test_a_stripe_error_echoing_a_key_in_message_and_param():
    """A Stripe error whose message and param carry a key maps to an error whose
    message, param, repr and traceback do not, and which chains nothing."""
    recorder = RecordingHTTPClient()
    recorder.fail_next(
        "get",
        "/v1/coupons/",
        400,
        error_json(f"Invalid value {LIVE_KEY}", param=f"coupon[{LIVE_KEY}]"),
    )
    gateway = StripeGateway(recorder.client())
    with pytest.raises(StripeInvalidRequestError) as info:
        gateway.retrieve_coupon("SAVE20")
    error = info.value
    assert leaks(rendered(error)) == []
    assert leaks(error.param or "") == []
    assert (error.__cause__, error.__context__) == (None, None)
    assert error.cause_type == "InvalidRequestError"

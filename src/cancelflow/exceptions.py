"""Every error cancelflow raises, in one tree.

Catch `CancelflowError` to catch them all, or any branch below it:

```text
CancelflowError
├── InvalidInputError (ValueError)          bad input to a cancelflow function
│   ├── InvalidParameterError               a deep-link/config field breaks a rule
│   ├── DisallowedURLError                  return/redirect URL not allowed
│   ├── StripeObjectError                   a Stripe object/JSON is not the expected shape
│   └── HistoryFileError                    a backtest history line cannot be read
├── CancelLinkRefusedError                  a cancel link must not be created
│   ├── SubscriptionNotFoundError (LookupError)
│   ├── SubscriptionOwnershipError          the subscription is another customer's
│   ├── SubscriptionNotCancelableError      already canceled / incomplete_expired
│   ├── SubscriptionAlreadyScheduledError   already scheduled to cancel
│   └── CouponRefusedError                  the retention coupon cannot be offered
│       ├── CouponNotFoundError (LookupError)
│       ├── CouponNotValidError             invalid, used up or past redeem_by
│       ├── CouponNotApplicableError        applies_to excludes the products
│       ├── CouponCurrencyMismatchError     amount_off in another currency
│       └── CouponForeverAmountOffError     amount_off + forever on a subscription
├── StripeAPIError                          Stripe answered with an error
│   ├── StripeInvalidRequestError (ValueError)
│   │   └── StripeResourceMissingError (LookupError)
│   ├── StripeAuthenticationError
│   ├── StripePermissionError
│   ├── StripeRateLimitError
│   ├── StripeIdempotencyError
│   ├── StripeConnectionError
│   └── StripeServerError
├── WebhookError                            a webhook delivery cannot be used
│   ├── SignatureVerificationError
│   │   ├── MissingSignatureHeaderError
│   │   ├── MalformedSignatureHeaderError
│   │   ├── NoV1SignatureError
│   │   ├── SignatureMismatchError
│   │   └── TimestampOutsideToleranceError
│   └── EventPayloadError (ValueError)     the verified body is not a Stripe event
│       └── UnstorableEventError            readable, but the ledger can never keep it
├── FrozenEventError (AttributeError)       a typed event's fields cannot change
├── LedgerError                             the ledger store failed or is incompatible
│   └── LinkNotRecordedError                the link exists but was not recorded (.link)
├── PolicyError                             a retention policy is invalid
├── PortalConfigError                       portal configuration as code failed
│   ├── PortalConfigInvalidError (ValueError)  a declaration breaks a rule (.key_path)
│   ├── PortalConfigMatchError              the account cannot be matched to the file
│   ├── PortalConfigApplyError              an apply stopped part-way or left drift
│   └── ManagedConfigurationNotFoundError (LookupError)  no configuration by that name
└── FakeStripeError                         cancelflow.testing: a fake-only refusal
    ├── WebhookHandlerError                 a test's webhook handler raised
    ├── FakeServerStateError                a served fake's --state file cannot be used
    └── PortalError                         the fake portal refused a visit or action
        ├── PortalSessionNotFoundError (LookupError)
        ├── PortalSessionExpiredError       the session's URL has expired
        ├── PortalFlowFinishedError         the flow is done, or the visit has ended
        ├── PortalCancelDisabledError       the configuration does not allow cancels
        ├── PortalReasonNotOfferedError     a reason the page does not offer
        ├── PortalSubscriptionError         another's, ended, or (not) scheduled
        └── PortalOfferError                no retention offer, or it cannot apply
```

Messages say what was wrong and what to do; none of them contains an API key or
a webhook secret: every error redacts anything shaped like one from its message
and its text attributes when it is created (whatever the caller passed), and an
error mapped from stripe-python's keeps the cause's type, code and request id as
attributes rather than chaining the stripe exception.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: ``import cancelflow`` must not import typing
# (see ``cancelflow/__init__.py``); type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import TypeVar

    from cancelflow._links.cancelflow import CancelLink
    from cancelflow._outcomes.ledger import LinkRecord

    _T = TypeVar("_T")

__all__ = [
    "CancelLinkRefusedError",
    "CancelflowError",
    "CouponCurrencyMismatchError",
    "CouponForeverAmountOffError",
    "CouponNotApplicableError",
    "CouponNotFoundError",
    "CouponNotValidError",
    "CouponRefusedError",
    "DisallowedURLError",
    "EventPayloadError",
    "FakeServerStateError",
    "FakeStripeError",
    "FrozenEventError",
    "HistoryFileError",
    "InvalidInputError",
    "InvalidParameterError",
    "LedgerError",
    "LinkNotRecordedError",
    "MalformedSignatureHeaderError",
    "ManagedConfigurationNotFoundError",
    "MissingSignatureHeaderError",
    "NoV1SignatureError",
    "PolicyError",
    "PortalCancelDisabledError",
    "PortalConfigApplyError",
    "PortalConfigError",
    "PortalConfigInvalidError",
    "PortalConfigMatchError",
    "PortalError",
    "PortalFlowFinishedError",
    "PortalOfferError",
    "PortalReasonNotOfferedError",
    "PortalSessionExpiredError",
    "PortalSessionNotFoundError",
    "PortalSubscriptionError",
    "SignatureMismatchError",
    "SignatureVerificationError",
    "StripeAPIError",
    "StripeAuthenticationError",
    "StripeConnectionError",
    "StripeIdempotencyError",
    "StripeInvalidRequestError",
    "StripeObjectError",
    "StripePermissionError",
    "StripeRateLimitError",
    "StripeResourceMissingError",
    "StripeServerError",
    "SubscriptionAlreadyScheduledError",
    "SubscriptionNotCancelableError",
    "SubscriptionNotFoundError",
    "SubscriptionOwnershipError",
    "TimestampOutsideToleranceError",
    "UnstorableEventError",
    "WebhookError",
    "WebhookHandlerError",
]


# A Stripe secret or restricted key (``sk_live_…``, ``rk_test_…``) or a webhook
# signing secret (``whsec_…``), wherever it sits: after a letter, a digit or an
# underscore too (``cus_sk_live_…``, ``key=_sk_live_…``), and with the ``+``,
# ``/``, ``=`` and ``%`` that base64 and URL encoding put in a secret. Compiled
# on first use (by ``re``'s own cache): ``import cancelflow`` imports no ``re``.
_KEY_PATTERN = (
    r"(?:(sk|rk)_(test|live)_|(?<![A-Za-z0-9])(sk|rk)_(?!(?:test|live)_)|(whsec)_)"
    r"[A-Za-z0-9+/=%*_-]{4,}"
)


def _hide(match: re.Match[str]) -> str:
    if match[4]:
        return "whsec_[redacted]"
    if match[1]:
        return f"{match[1]}_{match[2]}_[redacted]"
    return f"{match[3]}_[redacted]"


def redact(text: str) -> str:
    """Replace anything shaped like a secret key or webhook secret in *text*.

    Args:
        text: any text that may reach a message, a log or a terminal.

    Returns:
        *text* with each key's or secret's body replaced by `[redacted]`.
    """
    if "sk_" not in text and "rk_" not in text and "whsec_" not in text:
        return text  # the usual case: nothing shaped like a secret
    import re

    return re.sub(_KEY_PATTERN, _hide, text)


def _redacted(value: _T) -> _T:
    """*value* with secrets redacted when it is a string (else unchanged)."""
    if isinstance(value, str):
        return redact(value)  # type: ignore[return-value]
    return value


class CancelflowError(Exception):
    """Base class of every error cancelflow raises on purpose.

    Text arguments are redacted (anything shaped like an API key or a webhook
    secret) before they become the message, so neither `str`, `repr` nor a
    formatted traceback can show one.

    Args:
        *args: the message, and any other values, as for `Exception`.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*[_redacted(a) for a in args])


# -- bad input -----------------------------------------------------------------


class InvalidInputError(CancelflowError, ValueError):
    """Input given to cancelflow breaks a rule; nothing was sent to Stripe."""


class InvalidParameterError(InvalidInputError):
    """A parameter breaks one of Stripe's (or cancelflow's) rules.

    Attributes:
        field: the parameter's path, in Stripe's form notation
            (``flow_data[after_completion][hosted_confirmation][custom_message]``).
        rule: the rule it breaks, in a few words.
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = _redacted(field)
        self.rule = _redacted(rule)
        super().__init__(f"{field}: {rule}")


class DisallowedURLError(InvalidParameterError):
    """A return or redirect URL is not an allowed absolute URL.

    Only ``https`` URLs on hosts the application allowed are accepted (``http``
    only for ``localhost`` and ``127.0.0.1``), so a cancel link can never become
    an open redirect.
    """


class StripeObjectError(InvalidInputError):
    """A Stripe object or JSON payload does not have the expected shape.

    Attributes:
        path: where in the object the problem is (`items.data[0].price`).
        problem: what is wrong there.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = _redacted(path)
        self.problem = _redacted(problem)
        super().__init__(f"{path}: {problem}")


class HistoryFileError(InvalidInputError):
    """A line of a backtest history (JSONL) cannot be read.

    Attributes:
        source: the file (or other source) it comes from.
        line: the 1-based line number.
    """

    def __init__(self, message: str, *, source: str, line: int) -> None:
        self.source = _redacted(source)
        self.line = line
        self.problem = _redacted(message)
        super().__init__(f"{source}:{line}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable (it crosses process boundaries in parallel backtests).
        import functools

        rebuild = functools.partial(
            HistoryFileError, source=self.source, line=self.line
        )
        return (rebuild, (self.problem,))


# -- refusals before a cancel link is created -------------------------------------


class CancelLinkRefusedError(CancelflowError):
    """cancelflow refused to create a cancel link; Stripe was not asked for one.

    Attributes:
        subscription_id: the subscription the link was for.
    """

    def __init__(self, message: str, *, subscription_id: str) -> None:
        self.subscription_id = _redacted(subscription_id)
        super().__init__(message)


class SubscriptionNotFoundError(CancelLinkRefusedError, LookupError):
    """The subscription does not exist in this Stripe account."""


class SubscriptionOwnershipError(CancelLinkRefusedError):
    """The subscription belongs to another customer than the one asking.

    cancelflow never opens a cancel page for someone else's subscription. The
    message names neither the real owner nor any of their data.
    """


class SubscriptionNotCancelableError(CancelLinkRefusedError):
    """The subscription has already ended (``canceled`` or ``incomplete_expired``).

    Attributes:
        status: the subscription's status.
    """

    def __init__(self, message: str, *, subscription_id: str, status: str) -> None:
        self.status = _redacted(status)
        super().__init__(message, subscription_id=subscription_id)


class SubscriptionAlreadyScheduledError(CancelLinkRefusedError):
    """The subscription is already scheduled to cancel.

    Send the customer to the portal homepage instead, where they can renew it:
    ``Cancelflow.create_portal_link`` does that.

    Attributes:
        cancel_at: when the cancellation takes effect (unix seconds), if known.
    """

    def __init__(
        self, message: str, *, subscription_id: str, cancel_at: int | None
    ) -> None:
        self.cancel_at = cancel_at
        super().__init__(message, subscription_id=subscription_id)


class CouponRefusedError(CancelLinkRefusedError):
    """The retention coupon cannot be offered on this subscription.

    Attributes:
        coupon_id: the coupon's id.
    """

    def __init__(self, message: str, *, subscription_id: str, coupon_id: str) -> None:
        self.coupon_id = _redacted(coupon_id)
        super().__init__(message, subscription_id=subscription_id)


class CouponNotFoundError(CouponRefusedError, LookupError):
    """No coupon with this id exists (or it was deleted)."""


class CouponNotValidError(CouponRefusedError):
    """The coupon is no longer valid: used up, past ``redeem_by`` or ``valid=false``."""


class CouponNotApplicableError(CouponRefusedError):
    """The coupon's ``applies_to.products`` excludes the subscription's products."""


class CouponCurrencyMismatchError(CouponRefusedError):
    """An ``amount_off`` coupon has no amount in the subscription's currency."""


class CouponForeverAmountOffError(CouponRefusedError):
    """An `amount_off` coupon with `duration=forever`, which Stripe refuses on subscriptions.

    Stripe refuses them since API version 2025-03-31.basil.
    """


# -- Stripe answered with an error -------------------------------------------------


class StripeAPIError(CancelflowError):
    """Stripe answered a request with an error (or could not be reached).

    The stripe-python exception is *not* chained (neither as `__cause__` nor
    as `__context__`): its text may carry what the caller passed, unredacted,
    and `logging.exception` prints every chained exception. Its useful facts
    are copied here instead (every text redacted, and kept as attributes of the
    same names), so that no stripe type needs to be caught by the host.

    Args:
        message: what Stripe said, with key-shaped text redacted.
        code: Stripe's error code (`resource_missing`), if any.
        param: the parameter Stripe blamed, in form notation, if any.
        http_status: the HTTP status, or `None` for connection errors.
        request_id: Stripe's `req_…` id, for their support and logs.
        stripe_type: Stripe's error type (`invalid_request_error`), if any.
        cause_type: the name of the stripe-python exception's class
            (`InvalidRequestError`), if the error was mapped from one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        stripe_type: str | None = None,
        cause_type: str | None = None,
    ) -> None:
        self.cause_type = _redacted(cause_type)
        self.code = _redacted(code)
        self.param = _redacted(param)
        self.http_status = http_status
        self.request_id = _redacted(request_id)
        self.stripe_type = _redacted(stripe_type)
        super().__init__(message)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={str(self)!r}, code={self.code!r}, "
            f"param={self.param!r}, http_status={self.http_status!r}, "
            f"request_id={self.request_id!r}, cause_type={self.cause_type!r})"
        )


class StripeInvalidRequestError(StripeAPIError, ValueError):
    """Stripe refused the request's parameters (HTTP 400/404)."""


class StripeResourceMissingError(StripeInvalidRequestError, LookupError):
    """Stripe has no object with the given id (``resource_missing``)."""


class StripeAuthenticationError(StripeAPIError):
    """The API key was missing, malformed or revoked (HTTP 401)."""


class StripePermissionError(StripeAPIError):
    """The API key may not do this (HTTP 403)."""


class StripeRateLimitError(StripeAPIError):
    """Too many requests (HTTP 429); retry later with backoff."""


class StripeIdempotencyError(StripeAPIError):
    """An idempotency key was reused with other parameters."""


class StripeConnectionError(StripeAPIError):
    """Stripe could not be reached, or did not answer in time: it never answered.

    The message says which, what the network said, and whether sending the
    request again is safe.

    Args:
        message: what happened and what to do.
        retry_safe: whether the same call can simply be made again (a read, a
            portal session, an update); `False` when the request may have
            been carried out and a retry would do it twice (creating a portal
            configuration). Kept as the attribute `retry_safe`.
        code: as for [`StripeAPIError`][cancelflow.exceptions.StripeAPIError].
        param: as for `StripeAPIError`.
        http_status: as for `StripeAPIError` (`None`: no answer).
        request_id: as for `StripeAPIError`.
        stripe_type: as for `StripeAPIError`.
        cause_type: as for `StripeAPIError`.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_safe: bool = False,
        code: str | None = None,
        param: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        stripe_type: str | None = None,
        cause_type: str | None = None,
    ) -> None:
        self.retry_safe = retry_safe
        super().__init__(
            message,
            code=code,
            param=param,
            http_status=http_status,
            request_id=request_id,
            stripe_type=stripe_type,
            cause_type=cause_type,
        )


class StripeServerError(StripeAPIError):
    """Stripe failed (HTTP 5xx or 409); retrying the same request is safe."""


# -- webhooks -----------------------------------------------------------------------


class WebhookError(CancelflowError):
    """A webhook delivery cannot be used; answer Stripe with a 4xx."""


class SignatureVerificationError(WebhookError):
    """The ``Stripe-Signature`` header does not prove that Stripe sent this body."""


class MissingSignatureHeaderError(SignatureVerificationError):
    """No ``Stripe-Signature`` header was given."""


class MalformedSignatureHeaderError(SignatureVerificationError):
    """The ``Stripe-Signature`` header has no usable ``t=`` timestamp."""


class NoV1SignatureError(SignatureVerificationError):
    """The header carries no ``v1`` signature (other schemes are ignored)."""


class SignatureMismatchError(SignatureVerificationError):
    """No ``v1`` signature matches the body under any configured secret."""


class TimestampOutsideToleranceError(SignatureVerificationError):
    """The signature's timestamp is too old, or too far in the future.

    Attributes:
        timestamp: the header's ``t`` value.
    """

    def __init__(self, message: str, *, timestamp: int) -> None:
        self.timestamp = timestamp
        super().__init__(message)


class EventPayloadError(WebhookError, ValueError):
    """The (verified) body is not a Stripe event cancelflow can read.

    A permanent failure: the same body fails the same way every time.
    ``WebhookHandler`` with a ledger keeps such a delivery as a problem
    (``ledger.problems()``) and acknowledges it; without a ledger it raises.
    """


class UnstorableEventError(EventPayloadError):
    """A readable event that the ledger can never store or fold.

    A permanent failure, unlike a
    [`LedgerError`][cancelflow.exceptions.LedgerError] (a database that is
    down): the database refused the data itself, or folding the subscription's
    events failed. `WebhookHandler` keeps the delivery as a problem and
    acknowledges it, so that Stripe does not retry it for days.

    Args:
        message: what could not be stored, and why.
        event_id: the Stripe event's id (kept as the attribute `event_id`).
    """

    def __init__(self, message: str, *, event_id: str) -> None:
        self.event_id = _redacted(event_id)
        super().__init__(message)


class FrozenEventError(CancelflowError, AttributeError):
    """A typed cancellation event is frozen: its fields cannot be set or deleted.

    Build a changed copy instead: ``event.replace(comment=None)`` (or
    ``copy.replace(event, comment=None)`` on Python 3.13 and later).
    """


# -- ledger, policy, testing ------------------------------------------------------


class LedgerError(CancelflowError):
    """The ledger store failed, or its schema is newer than this cancelflow.

    A transient failure as far as a webhook is concerned (the database is down,
    locked, out of space, or needs an upgrade): answer Stripe 500 so that it
    retries the delivery.
    """


class LinkNotRecordedError(LedgerError):
    """Stripe created the cancel link, but the ledger could not record it.

    The link is valid: redirect the customer to ``error.link.url`` anyway, and
    record ``error.record`` later with ``ledger.record_link(error.record)`` (it is
    idempotent by session id), so that the case its webhooks open is linked to it.

    Attributes:
        link: the `CancelLink` Stripe created.
        record: the `LinkRecord` the ledger refused.
    """

    def __init__(self, message: str, *, link: CancelLink, record: LinkRecord) -> None:
        self.link = link
        self.record = record
        super().__init__(message)


class PolicyError(CancelflowError, ValueError):
    """A retention policy (in Python or TOML) is invalid.

    Attributes:
        key_path: where the problem is (``rules[2].segment.mrr``), if known.
        problem: the message without the key path.
    """

    def __init__(self, message: str, *, key_path: str | None = None) -> None:
        self.key_path = _redacted(key_path)
        self.problem = _redacted(message)
        super().__init__(f"{key_path}: {message}" if key_path else message)


# -- portal configuration as code ----------------------------------------------------


class PortalConfigError(CancelflowError):
    """Portal configuration as code failed: a file, a plan or an apply.

    Attributes:
        key_path: where in the file the problem is
            (``configurations.main.features.subscription_cancel.mode``), if known.
        problem: the message without the key path.
    """

    def __init__(self, message: str, *, key_path: str | None = None) -> None:
        self.key_path = _redacted(key_path)
        self.problem = _redacted(message)
        super().__init__(f"{key_path}: {message}" if key_path else message)


class PortalConfigInvalidError(PortalConfigError, ValueError):
    """A declared portal configuration breaks one of Stripe's rules, or cancelflow's.

    Raised while reading a file or building the model, before anything is sent
    to Stripe; ``key_path`` names the key (unknown keys included).
    """


class PortalConfigMatchError(PortalConfigError):
    """The account's configurations cannot be matched to the file.

    For example: the file manages the account's default configuration and the
    account has none (the API cannot create one), two configurations carry the
    same managed name, or a configuration matched by id does not exist.
    """


class PortalConfigApplyError(PortalConfigError):
    """An apply stopped part-way, or Stripe still differs from the file afterwards.

    The Stripe error that stopped it, if any, is chained as ``__cause__``.

    Attributes:
        applied: what was done before it stopped, one line each.
        not_applied: what was not done, one line each.
    """

    def __init__(
        self,
        message: str,
        *,
        key_path: str | None = None,
        applied: tuple[str, ...] = (),
        not_applied: tuple[str, ...] = (),
    ) -> None:
        self.applied = tuple(_redacted(line) for line in applied)
        self.not_applied = tuple(_redacted(line) for line in not_applied)
        super().__init__(message, key_path=key_path)


class ManagedConfigurationNotFoundError(PortalConfigError, LookupError):
    """No configuration in the account is the managed one ``Cancelflow`` was given.

    Apply the file first (``cancelflow config apply FILE``).
    """


class FakeStripeError(CancelflowError):
    """``cancelflow.testing`` refused an action that Stripe would refuse too.

    Raised by the portal driver (an expired session, a finished flow, a reason
    the configuration does not offer, …) and by fake-only helpers.
    """


class WebhookHandlerError(FakeStripeError):
    """A webhook handler given to `FakeStripe.add_webhook_endpoint` raised.

    Raised from the call that delivered the event when the FakeStripe was built
    with `webhook_errors="raise"`; the handler's exception is the `__cause__`,
    and the message has its traceback.

    Args:
        message: the event, the endpoint and the handler's traceback.
        event_id: the event being delivered (`evt_…`); kept as an attribute.
        event_type: its type; kept as an attribute.
    """

    def __init__(self, message: str, *, event_id: str, event_type: str) -> None:
        self.event_id = _redacted(event_id)
        self.event_type = _redacted(event_type)
        super().__init__(message)


class FakeServerStateError(FakeStripeError):
    """A served fake's state file cannot be used: unreadable, corrupt, or newer.

    Raised by ``cancelflow fake serve --state FILE`` (and ``FakeServer(state=…)``)
    before the server starts; the file is left as it was.
    """


class PortalError(FakeStripeError):
    """The fake customer portal refused a visit or an action, as Stripe's page would.

    Raised by ``FakeStripe.portal`` visits; each subclass names one reason.
    """


class PortalSessionNotFoundError(PortalError, LookupError):
    """No portal session has this URL or id in the fake account."""


class PortalSessionExpiredError(PortalError):
    """The session's URL has expired (unused for too long, or idle for too long)."""


class PortalFlowFinishedError(PortalError):
    """The deep-link flow is already done, or this visit has ended."""


class PortalCancelDisabledError(PortalError):
    """The portal configuration does not let customers cancel."""


class PortalReasonNotOfferedError(PortalError):
    """A cancellation reason, feedback option or comment the page does not offer."""


class PortalSubscriptionError(PortalError):
    """The subscription is another customer's, has ended, or is (not) scheduled to cancel."""


class PortalOfferError(PortalError):
    """The session offers no retention coupon, or the coupon can no longer apply."""

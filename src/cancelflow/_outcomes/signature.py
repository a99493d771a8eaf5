"""Check a ``Stripe-Signature`` header with the standard library only.

Stripe signs ``"{t}.{raw body}"`` with HMAC-SHA256 under the endpoint's secret and
sends ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>][,v0=<hex>]``. Only
``v1`` counts; any matching ``v1`` passes (Stripe sends two while a secret is being
rolled). This module reads the header exactly as stripe-python 16.1's
``WebhookSignature.verify_header`` does, with one deliberate difference: a
timestamp more than *future_tolerance* seconds ahead of the local clock is
refused (stripe-python accepts any future timestamp).

Nothing here imports ``stripe``; secrets never appear in a ``repr`` or a message.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable

from cancelflow._typing import final
from cancelflow.exceptions import (
    InvalidParameterError,
    MalformedSignatureHeaderError,
    MissingSignatureHeaderError,
    NoV1SignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
)

# Not ``typing.TYPE_CHECKING``: the webhook path does not import typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = ["DEFAULT_TOLERANCE", "SignatureVerifier", "sign_webhook"]

DEFAULT_TOLERANCE: Final = 300
"""Seconds a signature stays valid (Stripe's libraries use the same 5 minutes)."""

_WHITESPACE: Final = " \t\r\n\f\v"


def _as_bytes(body: bytes | bytearray | memoryview | str) -> bytes:
    """The raw body as bytes; anything but bytes or text is refused by name.

    (``bytes(5)`` would be five zero bytes, and ``None``, a dict or a list
    would fail deep inside with a ``TypeError``.)
    """
    given: object = body
    if type(given) is bytes:  # fast path: what web frameworks hand over
        return given
    if isinstance(given, str):
        return given.encode("utf-8", "surrogatepass")
    if isinstance(given, bytes | bytearray | memoryview):
        return bytes(given)
    raise InvalidParameterError(
        "body",
        "must be the raw request body as bytes (or str), exactly as received; "
        f"got {type(given).__name__}",
    )


def _hex_signature(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.digest(key, b"%d." % timestamp + body, "sha256").hex()


def sign_webhook(
    body: bytes | str, secret: str, *, timestamp: int | None = None
) -> str:
    """Return a `Stripe-Signature` header value for a body, as Stripe would.

    For tests and local tools: `t=<timestamp>,v1=<hex HMAC-SHA256>`.

    Args:
        body: the exact body that will be sent (a `str` is encoded as UTF-8).
        secret: the endpoint's `whsec_…` signing secret.
        timestamp: the signature's time, unix seconds; now when `None`.

    Returns:
        The header value.

    Example:
        ```python
        import cancelflow

        body = b'{"id": "evt_1", "object": "event"}'
        header = cancelflow.sign_webhook(body, "whsec_test", timestamp=1_767_225_600)
        assert header.startswith("t=1767225600,v1=")
        verifier = cancelflow.SignatureVerifier("whsec_test")
        assert verifier.verify(body, header, now=1_767_225_600) == 1_767_225_600
        ```
    """
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_hex_signature(secret.encode('utf-8'), t, _as_bytes(body))}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    """Split a header the way stripe-python does, or raise ``MalformedSignatureHeaderError``.

    Items are separated by ``,``; an item is ``key=value`` (a value ends at its
    next ``=``). The first ``t`` item gives the timestamp (Python ``int()``
    syntax); every ``v1`` item gives a signature. A ``t`` or ``v1`` item without
    ``=`` makes the header unreadable.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        parts = item.split("=", 2)
        key = parts[0]
        if key not in ("t", "v1"):
            continue
        if len(parts) < 2:
            raise MalformedSignatureHeaderError(
                f"the Stripe-Signature header has a {key!r} item without a value; "
                "pass the header exactly as received"
            )
        if key == "v1":
            signatures.append(parts[1])
        elif timestamp is None:
            try:
                timestamp = int(parts[1])
            except ValueError:
                raise MalformedSignatureHeaderError(
                    "the Stripe-Signature header's t= value is not an integer; "
                    "pass the header exactly as received"
                ) from None
    if timestamp is None:
        raise MalformedSignatureHeaderError(
            "the Stripe-Signature header has no t= timestamp; "
            "pass the header exactly as received"
        )
    return timestamp, signatures


def _seconds(value: object, field: str, *, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(field, f"must be {hint}")
    return value


@final
class SignatureVerifier:
    """Verifies webhook deliveries against one or more endpoint secrets.

    Build it once (at import or app start-up) and call `verify` per
    request. Several secrets are accepted so that a secret can be rolled
    without downtime: a delivery passes if any ``v1`` signature matches any
    secret.

    Args:
        secrets: the endpoint's signing secret(s) (``whsec_…``).
        tolerance: how old (seconds) a signature may be; must be positive.
        future_tolerance: how far (seconds) a signature's timestamp may be ahead
            of this machine's clock (clock skew); must be zero or positive.
        clock: returns the current unix time; ``time.time`` by default.

    Raises:
        InvalidParameterError: no secret, a blank secret, or a bad tolerance.
    """

    __slots__ = ("_clock", "_keys", "future_tolerance", "tolerance")

    def __init__(
        self,
        secrets: str | Iterable[str],
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        future_tolerance: int = DEFAULT_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        given: object = secrets
        if isinstance(given, str):
            values: list[object] = [given]
        elif isinstance(given, Iterable) and not isinstance(given, bytes):
            values = list(given)
        else:
            raise InvalidParameterError(
                "secrets", "give a webhook signing secret (whsec_…) or a list of them"
            )
        if not values:
            raise InvalidParameterError(
                "secrets", "give at least one webhook signing secret (whsec_…)"
            )
        keys: list[bytes] = []
        for n, value in enumerate(values):
            if not isinstance(value, str) or not value.strip(_WHITESPACE):
                raise InvalidParameterError(
                    f"secrets[{n}]",
                    "a webhook signing secret must be a non-blank string (whsec_…)",
                )
            keys.append(value.encode("utf-8"))
        self._keys: tuple[bytes, ...] = tuple(keys)
        self.tolerance = _seconds(
            tolerance,
            "tolerance",
            minimum=1,
            hint="a positive number of seconds (Stripe advises against 0, which "
            "would accept replays of any age)",
        )
        self.future_tolerance = _seconds(
            future_tolerance,
            "future_tolerance",
            minimum=0,
            hint="zero or a positive number of seconds",
        )
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"SignatureVerifier(<{len(self._keys)} secret(s)>, "
            f"tolerance={self.tolerance}, future_tolerance={self.future_tolerance})"
        )

    def verify(
        self,
        body: bytes | bytearray | memoryview | str,
        signature_header: str | None,
        *,
        now: float | None = None,
    ) -> int:
        """Check that Stripe signed a body recently; return the signature's timestamp.

        Checks run in stripe-python's order: header present, header readable,
        a `v1` signature present, a signature matches, then the age.

        Args:
            body: the raw request body, byte for byte (do not re-serialise the
                JSON).
            signature_header: the `Stripe-Signature` header (`None` when absent).
            now: the time to check the age against, unix seconds; the
                verifier's clock when `None`.

        Returns:
            The signature's timestamp (`t=`), unix seconds.

        Raises:
            InvalidParameterError: *body* is not bytes or text (``field`` is
                ``"body"``).
            MissingSignatureHeaderError: no header, or an empty one.
            MalformedSignatureHeaderError: no readable ``t=`` timestamp.
            NoV1SignatureError: no ``v1=`` signature in the header.
            SignatureMismatchError: no ``v1`` signature matches under any secret.
            TimestampOutsideToleranceError: older than *tolerance* or further
                than *future_tolerance* in the future.
        """
        raw = _as_bytes(body)
        if not signature_header:
            raise MissingSignatureHeaderError(
                "no Stripe-Signature header was given; read it from the request's "
                "headers and pass it unchanged"
            )
        if not isinstance(signature_header, str):
            raise MalformedSignatureHeaderError(
                "the Stripe-Signature header must be a string; decode it first"
            )
        timestamp, signatures = _parse_header(signature_header)
        if not signatures:
            raise NoV1SignatureError(
                "the Stripe-Signature header has no v1 signature (other schemes are "
                "ignored on purpose)"
            )
        payload = b"%d." % timestamp + raw
        candidates = [s.encode("utf-8", "surrogatepass") for s in signatures]
        matched = False
        for key in self._keys:
            expected = hmac.digest(key, payload, "sha256").hex().encode("ascii")
            for candidate in candidates:
                # compare every pair: no early exit that would time the secrets
                matched |= hmac.compare_digest(expected, candidate)
        if not matched:
            raise SignatureMismatchError(
                "no v1 signature matches this body under the configured secret(s); "
                "check the endpoint's signing secret and that the body is the raw, "
                "unmodified request body"
            )
        current = self._clock() if now is None else now
        if timestamp < current - self.tolerance:
            raise TimestampOutsideToleranceError(
                f"the signature is older than {self.tolerance} s (t={timestamp}); "
                "a replay, or this machine's clock is wrong",
                timestamp=timestamp,
            )
        if timestamp > current + self.future_tolerance:
            raise TimestampOutsideToleranceError(
                f"the signature's timestamp is more than {self.future_tolerance} s in "
                f"the future (t={timestamp}); check this machine's clock",
                timestamp=timestamp,
            )
        return timestamp

"""Stripe-Signature verification: unit cases and a differential test against stripe-python."""

from __future__ import annotations

import hashlib
import hmac
import json
from unittest import mock

import pytest
import stripe
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cancelflow import SignatureVerifier, sign_webhook
from cancelflow.exceptions import (
    InvalidParameterError,
    MalformedSignatureHeaderError,
    MissingSignatureHeaderError,
    NoV1SignatureError,
    SignatureMismatchError,
    SignatureVerificationError,
    TimestampOutsideToleranceError,
)
from hostile import non_bodies

NOW = 1_780_000_000
SECRET = "whsec_test_secret_123"
BODY = b'{"id": "evt_1", "object": "event"}'


def v1(body: bytes | str, secret: str, t: int) -> str:
    raw = body.encode() if isinstance(body, str) else body
    return hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()


def verifier(*secrets: str, **kw) -> SignatureVerifier:
    return SignatureVerifier(list(secrets) or [SECRET], clock=lambda: NOW, **kw)


class TestVerify:
    def test_a_header_signed_like_stripe_passes(self):
        """A header from sign_webhook verifies and returns its timestamp."""
        header = sign_webhook(BODY, SECRET, timestamp=NOW - 10)
        assert verifier().verify(BODY, header) == NOW - 10

    def test_sign_webhook_matches_stripe_python(self):
        """sign_webhook produces exactly stripe-python's generate_signature_header."""
        body = '{"a": "é"}'
        ours = sign_webhook(body, SECRET, timestamp=NOW)
        theirs = stripe.WebhookSignature.generate_signature_header(
            body, SECRET, timestamp=NOW
        )
        assert ours == theirs

    def test_str_and_bytes_bodies_are_the_same(self):
        """A str body is verified as its UTF-8 bytes."""
        body = '{"comment": "Trop cher — vraiment"}'
        header = sign_webhook(body.encode(), SECRET, timestamp=NOW)
        assert verifier().verify(body, header) == NOW

    @pytest.mark.parametrize("header", [None, ""])
    def test_missing_header(self, header):
        """No header, or an empty one, is MissingSignatureHeaderError."""
        with pytest.raises(MissingSignatureHeaderError):
            verifier().verify(BODY, header)

    @pytest.mark.parametrize(
        "header", ["v1=abc", "t=,v1=abc", "t=soon,v1=abc", "t,v1=abc", "t=1,v1"]
    )
    def test_malformed_header(self, header):
        """A header without a readable t= (or a bare t / v1 item) is malformed."""
        with pytest.raises(MalformedSignatureHeaderError):
            verifier().verify(BODY, header)

    def test_only_v1_counts(self):
        """A correct signature under scheme v0 is ignored: NoV1SignatureError."""
        header = f"t={NOW},v0={v1(BODY, SECRET, NOW)}"
        with pytest.raises(NoV1SignatureError):
            verifier().verify(BODY, header)

    def test_any_matching_v1_passes(self):
        """With two v1 signatures (secret roll), one match is enough."""
        header = f"t={NOW},v1={'0' * 64},v1={v1(BODY, SECRET, NOW)}"
        assert verifier().verify(BODY, header) == NOW

    def test_several_secrets(self):
        """A verifier with an old and a new secret accepts either."""
        both = verifier("whsec_old", "whsec_new")
        for secret in ("whsec_old", "whsec_new"):
            assert both.verify(BODY, sign_webhook(BODY, secret, timestamp=NOW)) == NOW
        with pytest.raises(SignatureMismatchError):
            both.verify(BODY, sign_webhook(BODY, "whsec_other", timestamp=NOW))

    def test_changed_body_is_a_mismatch(self):
        """One changed byte of the body makes the signature fail."""
        header = sign_webhook(BODY, SECRET, timestamp=NOW)
        with pytest.raises(SignatureMismatchError):
            verifier().verify(BODY.replace(b"evt_1", b"evt_2"), header)

    def test_non_ascii_signature_is_a_mismatch(self):
        """A non-ASCII v1 value is a mismatch (stripe-python raises TypeError there)."""
        with pytest.raises(SignatureMismatchError):
            verifier().verify(BODY, f"t={NOW},v1=é")

    def test_too_old(self):
        """A signature older than the tolerance is refused; exactly at it, accepted."""
        v = verifier(tolerance=300)
        assert (
            v.verify(BODY, sign_webhook(BODY, SECRET, timestamp=NOW - 300)) == NOW - 300
        )
        with pytest.raises(TimestampOutsideToleranceError) as info:
            v.verify(BODY, sign_webhook(BODY, SECRET, timestamp=NOW - 301))
        assert info.value.timestamp == NOW - 301

    def test_future_timestamps_are_bounded(self):
        """Deliberate difference: stripe-python accepts any future t, cancelflow bounds it."""
        v = verifier(future_tolerance=60)
        assert (
            v.verify(BODY, sign_webhook(BODY, SECRET, timestamp=NOW + 60)) == NOW + 60
        )
        far = sign_webhook(BODY, SECRET, timestamp=NOW + 3600)
        with pytest.raises(TimestampOutsideToleranceError):
            v.verify(BODY, far)
        with mock.patch("time.time", return_value=NOW):
            assert stripe.WebhookSignature.verify_header(BODY, far, SECRET, 300) is True

    def test_signature_is_checked_before_the_age(self):
        """A forged, old delivery is reported as a mismatch, not as too old."""
        with pytest.raises(SignatureMismatchError):
            verifier().verify(BODY, f"t={NOW - 10_000},v1={'a' * 64}")

    def test_secrets_never_shown(self):
        """Neither repr nor any error message contains a secret."""
        v = verifier("whsec_topsecret")
        assert "topsecret" not in repr(v)
        for header in (
            None,
            "junk",
            f"t={NOW}",
            f"t={NOW},v1=00",
            sign_webhook(BODY, "whsec_topsecret", timestamp=1),
        ):
            with pytest.raises(SignatureVerificationError) as info:
                v.verify(BODY, header)
            assert "topsecret" not in str(info.value)
            assert "topsecret" not in repr(info.value)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"secrets": []}, "secrets"),
            ({"secrets": ["  "]}, "secrets[0]"),
            ({"secrets": ["whsec_a", ""]}, "secrets[1]"),
            ({"secrets": "whsec_a", "tolerance": 0}, "tolerance"),
            ({"secrets": "whsec_a", "tolerance": True}, "tolerance"),
            ({"secrets": "whsec_a", "future_tolerance": -1}, "future_tolerance"),
        ],
    )
    def test_bad_configuration(self, kwargs, field):
        """Blank secrets and non-positive tolerances are refused at construction."""
        with pytest.raises(InvalidParameterError) as info:
            SignatureVerifier(**kwargs)
        assert info.value.field == field


# -- differential test against stripe-python ----------------------------------------

TOLERANCE = 300
FUTURE = 300
secrets = st.text(min_size=1, max_size=20).filter(lambda s: s.strip(" \t\r\n\f\v"))
ascii_junk = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12
)


def stripe_outcome(body, header, secret) -> str:
    """What stripe-python says: 'ok' or the kind of failure, from its message."""
    with mock.patch("time.time", return_value=NOW):
        try:
            stripe.WebhookSignature.verify_header(body, header, secret, TOLERANCE)
        except stripe.SignatureVerificationError as exc:
            msg = str(exc)
            for needle, kind in (
                ("No Stripe-Signature header", "missing"),
                ("Unable to extract", "malformed"),
                ("expected scheme", "no_v1"),
                ("matching the expected signature", "mismatch"),
                ("tolerance zone", "tolerance"),
            ):
                if needle in msg:
                    return kind
            raise
    return "ok"


def our_outcome(body, header, *secret_list) -> str:
    v = SignatureVerifier(
        list(secret_list),
        tolerance=TOLERANCE,
        future_tolerance=FUTURE,
        clock=lambda: NOW,
    )
    try:
        v.verify(body, header)
    except MissingSignatureHeaderError:
        return "missing"
    except MalformedSignatureHeaderError:
        return "malformed"
    except NoV1SignatureError:
        return "no_v1"
    except SignatureMismatchError:
        return "mismatch"
    except TimestampOutsideToleranceError:
        return "tolerance"
    return "ok"


@st.composite
def headers(draw, body: str, secret: str) -> str:
    """Stripe-like headers: good and bad t= values, right and wrong v1, noise."""
    t = NOW + draw(st.integers(-2 * TOLERANCE, FUTURE))
    t_text = draw(
        st.sampled_from(
            [
                str(t),
                f"+{t}",
                f" {t}",
                f"{t} ",
                f"0{t}",
                "",
                "x",
                str(t).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
            ]
        )
    )
    items = []
    if draw(st.booleans()) or draw(st.booleans()):
        items.append(f"t={t_text}")
    good = v1(body, secret, t)
    for _ in range(draw(st.integers(0, 3))):
        choice = draw(
            st.sampled_from(
                ["good", "other", "junk", "upper", "v0", "noise", "bare", "trail"]
            )
        )
        items.append(
            {
                "good": f"v1={good}",
                "other": f"v1={v1(body, secret + 'x', t)}",
                "junk": f"v1={draw(ascii_junk)}",
                "upper": f"v1={good.upper()}",
                "v0": f"v0={good}",
                "noise": draw(ascii_junk),
                "bare": draw(st.sampled_from(["t", "v1", "v0"])),
                "trail": f"v1={good}={draw(ascii_junk)}",
            }[choice]
        )
    draw(st.randoms()).shuffle(items)
    return ",".join(items)


@settings(max_examples=300)
@given(data=st.data(), body=st.text(max_size=200), secret=secrets)
@example(data=None, body="{}", secret="whsec_a")
def test_accepts_and_rejects_exactly_like_stripe(data, body, secret):
    """On random bodies, secrets, times and headers, the outcome (and failure kind) is stripe-python's."""
    if data is None:  # the explicit example: a plain good header
        header = sign_webhook(body, secret, timestamp=NOW)
    else:
        header = data.draw(st.one_of(headers(body, secret), ascii_junk))
    assert our_outcome(body.encode(), header, secret) == stripe_outcome(
        body.encode(), header, secret
    )


@settings(max_examples=100)
@given(data=st.data(), body=st.text(max_size=80), first=secrets, second=secrets)
def test_several_secrets_accept_what_either_would(data, body, first, second):
    """With two secrets, cancelflow accepts exactly when stripe-python accepts under one of them."""
    signer = data.draw(st.sampled_from([first, second, first + second]))
    header = data.draw(headers(body, signer))
    expected = "ok" in (
        stripe_outcome(body, header, first),
        stripe_outcome(body, header, second),
    )
    assert (our_outcome(body, header, first, second) == "ok") == expected


@settings(max_examples=100)
@given(
    payload=st.dictionaries(
        st.text(max_size=8), st.integers() | st.text(max_size=10), max_size=4
    ),
    offset=st.integers(-2 * TOLERANCE, FUTURE),
    secret=secrets,
    tamper=st.booleans(),
)
def test_construct_event_agrees(payload, offset, secret, tamper):
    """stripe.Webhook.construct_event succeeds exactly when cancelflow verifies the same delivery."""
    body = json.dumps({"object": "event", **payload})
    header = sign_webhook(body, secret, timestamp=NOW + offset)
    sent = body + (" " if tamper else "")
    with mock.patch("time.time", return_value=NOW):
        try:
            stripe.Webhook.construct_event(sent, header, secret, tolerance=TOLERANCE)
            theirs = True
        except stripe.SignatureVerificationError:
            theirs = False
    assert (our_outcome(sent, header, secret) == "ok") == theirs


@settings(max_examples=100)
@given(non_bodies())
def test_a_body_that_is_not_bytes_or_text_is_refused_by_name(body):
    """None, numbers, dicts, lists, tuples: anything but bytes or text is an
    InvalidParameterError naming the body, before any header is read (an int is
    never read as that many zero bytes)."""
    verifier = SignatureVerifier(SECRET, clock=lambda: NOW)
    header = sign_webhook(b"", SECRET, timestamp=NOW)
    for call in (
        lambda: verifier.verify(body, header),
        lambda: verifier.verify(body, None),
        lambda: sign_webhook(body, SECRET),
    ):
        with pytest.raises(InvalidParameterError) as info:
            call()
        assert info.value.field == "body"

"""Why a subscription is canceled: what the customer chose and what Stripe records.

Stripe keeps two different enums on ``subscription.cancellation_details``:
``feedback`` is what the *customer* picked in the portal (8 values), ``reason``
is why the subscription *ended* (4 system values). They are two types here so
that they can never be mixed up.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

import attrs

from cancelflow._read import Obj
from cancelflow.exceptions import InvalidParameterError, StripeObjectError

_E = TypeVar("_E", bound=enum.StrEnum)

__all__ = [
    "CancellationDetails",
    "CancellationFeedback",
    "CancellationReason",
    "FeedbackLabels",
    "FeedbackOptionRef",
]


class CancellationFeedback(enum.StrEnum):
    """A reason the customer chose on the portal's cancel page.

    Values are Stripe's wire strings (``cancellation_details.feedback`` and
    ``features.subscription_cancel.cancellation_reason.options``), in the order
    the portal lists them.
    """

    TOO_EXPENSIVE = "too_expensive"
    MISSING_FEATURES = "missing_features"
    SWITCHED_SERVICE = "switched_service"
    UNUSED = "unused"
    CUSTOMER_SERVICE = "customer_service"
    TOO_COMPLEX = "too_complex"
    LOW_QUALITY = "low_quality"
    OTHER = "other"

    @classmethod
    def parse(
        cls, value: str | CancellationFeedback, *, field: str = "feedback"
    ) -> CancellationFeedback:
        """Return the member for *value*, or raise ``InvalidParameterError``."""
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise InvalidParameterError(
                field, f"{value!r} is not a Stripe feedback value; use one of {allowed}"
            ) from None


class CancellationReason(enum.StrEnum):
    """Why Stripe says a subscription was canceled (``cancellation_details.reason``).

    This is a system value, not the customer's answer: see
    :class:`CancellationFeedback` for that.
    """

    CANCELLATION_REQUESTED = "cancellation_requested"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_DISPUTED = "payment_disputed"
    CANCELED_BY_RETENTION_POLICY = "canceled_by_retention_policy"


@attrs.frozen
class FeedbackOptionRef:
    """A custom feedback option (``billing.FeedbackOption``) by its id."""

    id: str


@attrs.frozen(kw_only=True)
class CancellationDetails:
    """``subscription.cancellation_details`` as a value.

    Attributes:
        feedback: what the customer chose, if they answered.
        comment: the free text the customer wrote (usually with ``other``).
        feedback_option: the custom feedback option chosen, if any.
        reason: why Stripe canceled (or will cancel) the subscription.
    """

    feedback: CancellationFeedback | None = None
    comment: str | None = None
    feedback_option: FeedbackOptionRef | None = None
    reason: CancellationReason | None = None

    @classmethod
    def from_stripe(
        cls, value: object, *, path: str = "cancellation_details"
    ) -> CancellationDetails:
        """Parse Stripe's ``cancellation_details`` (a dict or ``StripeObject``).

        ``None`` gives empty details. Unknown enum values raise
        :class:`~cancelflow.exceptions.StripeObjectError`.
        """
        if value is None:
            return cls()
        o = Obj.of(value, path)
        return cls.from_obj(o)

    @classmethod
    def from_obj(cls, o: Obj) -> CancellationDetails:
        feedback = o.opt_string("feedback")
        reason = o.opt_string("reason")
        option = o.opt_id_of("feedback_option")
        return cls(
            feedback=_enum(CancellationFeedback, feedback, o.where("feedback")),
            comment=o.opt_string("comment"),
            feedback_option=FeedbackOptionRef(option) if option else None,
            reason=_enum(CancellationReason, reason, o.where("reason")),
        )

    @property
    def answered(self) -> bool:
        """Whether the customer gave any feedback (a reason, option or comment)."""
        return (
            self.feedback is not None
            or self.feedback_option is not None
            or bool(self.comment)
        )


def _enum(kind: type[_E], value: str | None, path: str) -> _E | None:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise StripeObjectError(path, f"unknown value {value!r}") from None


_EN: Mapping[CancellationFeedback, str] = MappingProxyType(
    {
        CancellationFeedback.TOO_EXPENSIVE: "It’s too expensive",
        CancellationFeedback.MISSING_FEATURES: "I need more features",
        CancellationFeedback.SWITCHED_SERVICE: "I found an alternative",
        CancellationFeedback.UNUSED: "I no longer need it",
        CancellationFeedback.CUSTOMER_SERVICE: "Customer service was less than expected",
        CancellationFeedback.TOO_COMPLEX: "Ease of use was less than expected",
        CancellationFeedback.LOW_QUALITY: "Quality was less than expected",
        CancellationFeedback.OTHER: "Other reason",
    }
)

_FR: Mapping[CancellationFeedback, str] = MappingProxyType(
    {
        CancellationFeedback.TOO_EXPENSIVE: "Le tarif est trop élevé",
        CancellationFeedback.MISSING_FEATURES: "J’ai besoin de plus de fonctionnalités",
        CancellationFeedback.SWITCHED_SERVICE: "J’ai trouvé une autre solution",
        CancellationFeedback.UNUSED: "Je n’en ai plus besoin",
        CancellationFeedback.CUSTOMER_SERVICE: "Le service client n’est pas satisfaisant",
        CancellationFeedback.TOO_COMPLEX: "L’utilisation est trop complexe",
        CancellationFeedback.LOW_QUALITY: "La qualité est insuffisante",
        CancellationFeedback.OTHER: "Autre motif",
    }
)


def _freeze(
    locales: Mapping[str, Mapping[CancellationFeedback, str]],
) -> Mapping[str, Mapping[CancellationFeedback, str]]:
    given: object = locales
    if not isinstance(given, Mapping):
        raise _bad_locales()
    frozen: dict[str, Mapping[CancellationFeedback, str]] = {}
    for locale, labels in given.items():
        if not isinstance(locale, str) or not isinstance(labels, Mapping):
            raise _bad_locales()
        frozen[locale] = MappingProxyType(_labels(labels, f"locales[{locale}]"))
    return MappingProxyType(frozen)


def _bad_locales() -> InvalidParameterError:
    return InvalidParameterError(
        "locales", "give a mapping of locale to {CancellationFeedback: label}"
    )


def _labels(labels: object, where: str) -> dict[CancellationFeedback, str]:
    """*labels* checked: feedback (member or wire string) → non-empty text."""
    if not isinstance(labels, Mapping):
        raise InvalidParameterError(where, "give a mapping of feedback to label")
    out: dict[CancellationFeedback, str] = {}
    for feedback, text in labels.items():
        member = CancellationFeedback.parse(feedback, field=f"{where}[{feedback}]")
        if not _is_text(text):
            raise InvalidParameterError(
                f"{where}[{member.value}]", "a label must be a non-empty string"
            )
        out[member] = text
    return out


@attrs.frozen
class FeedbackLabels:
    """Display labels for :class:`CancellationFeedback`, per locale.

    ``FeedbackLabels()`` holds Stripe's portal wording in English and French
    (typographic apostrophes kept). A locale is looked up exactly, then by its
    language (``fr-CA`` → ``fr``), then falls back to English. Add or override
    locales with :meth:`with_locale`, which returns a new object::

        labels = FeedbackLabels().with_locale("de", {"too_expensive": "Zu teuer"})
        labels.label("too_expensive", "de-AT")   # 'Zu teuer'
        labels.label("unused", "de")              # 'I no longer need it'
    """

    locales: Mapping[str, Mapping[CancellationFeedback, str]] = attrs.field(
        factory=lambda: {"en": _EN, "fr": _FR}, converter=_freeze
    )

    def with_locale(
        self, locale: str, labels: Mapping[str | CancellationFeedback, str]
    ) -> FeedbackLabels:
        """Return labels with *locale* added, or updated with *labels*.

        Keys may be enum members or wire strings; a partial mapping keeps the
        other labels of that locale (or falls back to English).
        """
        key = _norm_locale(locale)
        merged: dict[CancellationFeedback, str] = dict(self.locales.get(key, {}))
        merged.update(_labels(labels, "labels"))
        return FeedbackLabels({**self.locales, key: merged})

    def label(self, feedback: str | CancellationFeedback, locale: str = "en") -> str:
        """The label for *feedback* in *locale* (with the fallbacks above)."""
        member = CancellationFeedback.parse(feedback)
        key = _norm_locale(locale)
        for candidate in (key, key.split("-", 1)[0], "en"):
            table = self.locales.get(candidate)
            if table is not None and member in table:
                return table[member]
        return _EN[member]

    def all(self, locale: str = "en") -> dict[CancellationFeedback, str]:
        """Every label in *locale*, in the portal's order."""
        return {m: self.label(m, locale) for m in CancellationFeedback}


def _is_text(value: object) -> bool:
    """A string with something besides whitespace (checked at run time: labels
    may come from untyped settings)."""
    return isinstance(value, str) and bool(value.strip())


def _norm_locale(locale: object) -> str:
    """``pt_br``, ``PT-br`` → ``pt-BR``: lower-case language, upper-case region."""
    if not isinstance(locale, str) or not locale.strip():
        raise InvalidParameterError("locale", "must be a non-empty language tag")
    head, *rest = locale.strip().replace("_", "-").split("-")
    tags = [tag.upper() if len(tag) == 2 else tag.lower() for tag in rest]
    return "-".join([head.lower(), *tags])

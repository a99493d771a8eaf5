"""Display labels for the portal's cancellation reasons, per locale."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from cancelflow._stripe.reasons import CancellationFeedback
from cancelflow.exceptions import InvalidParameterError

__all__ = ["FeedbackLabels"]


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
    """Display labels for `CancellationFeedback`, per locale.

    ``FeedbackLabels()`` holds Stripe's portal wording in English and French
    (typographic apostrophes kept). A locale is looked up exactly, then by its
    language (``fr-CA`` → ``fr``), then falls back to English. Add or override
    locales with `with_locale`, which returns a new object:

    ```python
    from cancelflow import FeedbackLabels

    labels = FeedbackLabels().with_locale("de", {"too_expensive": "Zu teuer"})
    labels.label("too_expensive", "de-AT")   # 'Zu teuer'
    labels.label("unused", "de")              # 'I no longer need it'
    ```

    Attributes:
        locales: the labels by locale, then by reason; the default holds `en`
            and `fr`.
    """

    locales: Mapping[str, Mapping[CancellationFeedback, str]] = attrs.field(
        factory=lambda: {"en": _EN, "fr": _FR}, converter=_freeze
    )

    def with_locale(
        self, locale: str, labels: Mapping[str | CancellationFeedback, str]
    ) -> FeedbackLabels:
        """Return labels with a locale added, or updated.

        Keys may be enum members or wire strings; a partial mapping keeps the other
        labels of that locale (or falls back to English).

        Args:
            locale: the locale to add or change.
            labels: the labels by reason.

        Returns:
            A new `FeedbackLabels`; this one is unchanged.
        """
        key = _norm_locale(locale)
        merged: dict[CancellationFeedback, str] = dict(self.locales.get(key, {}))
        merged.update(_labels(labels, "labels"))
        return FeedbackLabels({**self.locales, key: merged})

    def label(self, feedback: str | CancellationFeedback, locale: str = "en") -> str:
        """Return the label of a reason in a locale.

        The locale is looked up exactly, then by its language, then English.

        Args:
            feedback: the reason, a member or a wire string.
            locale: the locale (`fr_ca`, `FR-ca` and `fr-CA` are one locale).

        Returns:
            The label.
        """
        member = CancellationFeedback.parse(feedback)
        key = _norm_locale(locale)
        for candidate in (key, key.split("-", 1)[0], "en"):
            table = self.locales.get(candidate)
            if table is not None and member in table:
                return table[member]
        return _EN[member]

    def all(self, locale: str = "en") -> dict[CancellationFeedback, str]:
        """Return every label in a locale, in the portal's order.

        Args:
            locale: a locale, with the fallbacks of `label`.

        Returns:
            The labels by reason.
        """
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

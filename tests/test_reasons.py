"""Cancellation feedback and reasons: two enums, details parsing, and labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import (
    CancellationDetails,
    CancellationFeedback,
    CancellationReason,
    FeedbackLabels,
    FeedbackOptionRef,
)
from cancelflow.exceptions import (
    CancelflowError,
    InvalidParameterError,
    StripeObjectError,
)

FRENCH = {
    "too_expensive": "Le tarif est trop élevé",
    "missing_features": "J’ai besoin de plus de fonctionnalités",
    "switched_service": "J’ai trouvé une autre solution",
    "unused": "Je n’en ai plus besoin",
    "customer_service": "Le service client n’est pas satisfaisant",
    "too_complex": "L’utilisation est trop complexe",
    "low_quality": "La qualité est insuffisante",
    "other": "Autre motif",
}


class TestEnums:
    def test_feedback_wire_values_in_portal_order(self):
        """The 8 feedback values equal Stripe's wire strings, in the portal's order."""
        assert [m.value for m in CancellationFeedback] == [
            "too_expensive",
            "missing_features",
            "switched_service",
            "unused",
            "customer_service",
            "too_complex",
            "low_quality",
            "other",
        ]
        assert CancellationFeedback.TOO_EXPENSIVE == "too_expensive"

    def test_reason_is_a_separate_enum(self):
        """System reasons are another type: no value is shared with feedback."""
        assert {m.value for m in CancellationReason} == {
            "cancellation_requested",
            "payment_failed",
            "payment_disputed",
            "canceled_by_retention_policy",
        }
        assert not {m.value for m in CancellationReason} & {
            m.value for m in CancellationFeedback
        }

    def test_parse_refuses_a_system_reason(self):
        """A system reason is not accepted as customer feedback."""
        with pytest.raises(InvalidParameterError, match="too_expensive"):
            CancellationFeedback.parse("payment_failed")
        assert CancellationFeedback.parse("unused") is CancellationFeedback.UNUSED


class TestDetails:
    def test_from_stripe_dict(self):
        """Stripe's cancellation_details become typed values."""
        details = CancellationDetails.from_stripe(
            {
                "comment": "moving to a spreadsheet",
                "feedback": "other",
                "feedback_option": "fbo_1",
                "reason": "cancellation_requested",
            }
        )
        assert details == CancellationDetails(
            feedback=CancellationFeedback.OTHER,
            comment="moving to a spreadsheet",
            feedback_option=FeedbackOptionRef("fbo_1"),
            reason=CancellationReason.CANCELLATION_REQUESTED,
        )
        assert details.answered

    def test_expanded_feedback_option(self):
        """An expanded feedback option object is reduced to its id."""
        details = CancellationDetails.from_stripe(
            {"feedback_option": {"id": "fbo_2", "object": "billing.feedback_option"}}
        )
        assert details.feedback_option == FeedbackOptionRef("fbo_2")

    def test_none_and_empty(self):
        """No details, or all-null details, mean the customer did not answer."""
        assert CancellationDetails.from_stripe(None) == CancellationDetails()
        empty = CancellationDetails.from_stripe(
            {"comment": None, "feedback": None, "feedback_option": None, "reason": None}
        )
        assert not empty.answered

    def test_reason_only_is_not_an_answer(self):
        """Stripe's own reason alone does not count as customer feedback."""
        details = CancellationDetails.from_stripe({"reason": "payment_failed"})
        assert details.reason is CancellationReason.PAYMENT_FAILED
        assert not details.answered

    @pytest.mark.parametrize(
        ("data", "path"),
        [
            ({"feedback": ""}, "cancellation_details.feedback"),
            ({"reason": "x\x00"}, "cancellation_details.reason"),
            ({"feedback": "x" * 300}, "cancellation_details.feedback"),
            ({"comment": 3}, "cancellation_details.comment"),
            ([], "cancellation_details"),
        ],
    )
    def test_bad_shapes_name_the_path(self, data, path):
        """An unreadable value or a wrong type raises StripeObjectError at its path."""
        with pytest.raises(StripeObjectError) as info:
            CancellationDetails.from_stripe(data)
        assert info.value.path == path

    def test_unknown_values_are_kept_as_values(self):
        """A feedback or reason Stripe added later is read as an unknown value
        (its raw string, known false), not refused; parse() still refuses it."""
        details = CancellationDetails.from_stripe(
            {"feedback": "bored", "reason": "too_expensive"}
        )
        assert details.feedback == "bored"
        assert isinstance(details.feedback, CancellationFeedback)
        assert not details.feedback.known
        assert details.reason == "too_expensive"
        assert not details.reason.known
        assert CancellationFeedback.UNUSED.known
        assert details.answered
        with pytest.raises(InvalidParameterError):
            CancellationFeedback.parse("bored")

    @given(
        st.dictionaries(
            st.sampled_from(["comment", "feedback", "feedback_option", "reason", "x"]),
            st.one_of(
                st.none(),
                st.text(max_size=10),
                st.integers(),
                st.sampled_from([m.value for m in CancellationFeedback]),
                st.sampled_from([m.value for m in CancellationReason]),
                st.dictionaries(st.sampled_from(["id", "object"]), st.text(max_size=5)),
            ),
        )
    )
    def test_any_shape_parses_or_raises_cancelflow_error(self, data):
        """Any dict either parses or raises a CancelflowError, never KeyError/TypeError."""
        try:
            details = CancellationDetails.from_stripe(data)
        except CancelflowError:
            return
        assert details.feedback is None or details.feedback.value == data["feedback"]
        assert details.reason is None or details.reason.value == data["reason"]


class TestLabels:
    def test_english_is_stripes_portal_wording(self):
        """English labels are the portal's, with the typographic apostrophe."""
        labels = FeedbackLabels()
        assert labels.label("too_expensive") == "It’s too expensive"
        assert labels.label(CancellationFeedback.OTHER, "en") == "Other reason"

    def test_french_is_exact(self):
        """French labels are exactly Stripe's French portal wording."""
        labels = FeedbackLabels()
        assert {m.value: text for m, text in labels.all("fr").items()} == FRENCH
        assert "’" in labels.label("unused", "fr")
        assert "'" not in "".join(FRENCH.values())

    def test_region_falls_back_to_language_then_english(self):
        """fr-CA uses French; an unknown locale uses English."""
        labels = FeedbackLabels()
        assert labels.label("unused", "fr-CA") == "Je n’en ai plus besoin"
        assert labels.label("unused", "FR") == "Je n’en ai plus besoin"
        assert labels.label("unused", "ja") == "I no longer need it"

    def test_locale_spellings_meet(self):
        """A locale added as pt-BR is found as pt_br or PT-br, and fr_CA falls back to fr."""
        labels = FeedbackLabels().with_locale("pt-BR", {"unused": "Não preciso mais"})
        assert labels.label("unused", "pt_br") == "Não preciso mais"
        assert labels.label("unused", "PT-br") == "Não preciso mais"
        assert "pt-BR" in labels.locales
        assert labels.label("unused", "fr_CA") == "Je n’en ai plus besoin"

    @pytest.mark.parametrize("locales", ["fr", 5, None, {"fr": "Autre"}, {5: {}}])
    def test_bad_locales_are_refused_by_name(self, locales):
        """FeedbackLabels(locales=…) needs {locale: {feedback: label}}."""
        with pytest.raises(InvalidParameterError) as info:
            FeedbackLabels(locales)
        assert info.value.field == "locales"

    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: FeedbackLabels({"fr": {5: "x"}}), "locales[fr][5]"),
            (lambda: FeedbackLabels({"fr": {"other": ""}}), "locales[fr][other]"),
            (lambda: FeedbackLabels().with_locale("de", 5), "labels"),
            (lambda: FeedbackLabels().with_locale("de", {"nope": "x"}), "labels[nope]"),
        ],
    )
    def test_bad_labels_are_refused_by_name(self, build, field):
        """Every label is a known feedback value with a non-empty text."""
        with pytest.raises(InvalidParameterError) as info:
            build()
        assert info.value.field == field

    def test_with_locale_adds_and_overrides(self):
        """with_locale adds a locale, partially, without changing the original."""
        base = FeedbackLabels()
        german = base.with_locale("de", {"too_expensive": "Zu teuer"})
        assert german.label("too_expensive", "de-AT") == "Zu teuer"
        assert german.label("unused", "de") == "I no longer need it"
        assert base.label("too_expensive", "de") == "It’s too expensive"
        custom = german.with_locale("fr", {CancellationFeedback.OTHER: "Autre"})
        assert custom.label("other", "fr") == "Autre"
        assert custom.label("unused", "fr") == "Je n’en ai plus besoin"

    @pytest.mark.parametrize(
        ("locale", "labels", "field"),
        [
            ("de", {"bored": "Langweilig"}, "labels[bored]"),
            ("de", {"unused": "  "}, "labels[unused]"),
            ("", {"unused": "x"}, "locale"),
            (None, {"unused": "x"}, "locale"),
            ("de", {"unused": None}, "labels[unused]"),
        ],
    )
    def test_bad_overrides_refused(self, locale, labels, field):
        """Unknown feedback values, blank or non-string labels and locales are refused."""
        with pytest.raises(InvalidParameterError) as info:
            FeedbackLabels().with_locale(locale, labels)
        assert info.value.field == field

    def test_labels_are_read_only(self):
        """The label tables cannot be mutated in place."""
        labels = FeedbackLabels()
        with pytest.raises(TypeError):
            labels.locales["en"][CancellationFeedback.OTHER] = "x"  # type: ignore[index]

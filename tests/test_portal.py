"""PortalSession and PortalConfiguration: frozen views of billing_portal objects."""

from __future__ import annotations

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import (
    CancellationFeedback,
    CancelMode,
    PortalConfiguration,
    PortalSession,
    ProrationBehavior,
)
from cancelflow.exceptions import CancelflowError, StripeObjectError
from recording import RecordingHTTPClient, configuration_json

SESSION_FORM = {
    "customer": "cus_1",
    "flow_data[type]": "subscription_cancel",
    "flow_data[subscription_cancel][subscription]": "sub_1",
    "flow_data[subscription_cancel][retention][coupon_offer][coupon]": "SAVE20",
    "flow_data[after_completion][type]": "redirect",
    "flow_data[after_completion][redirect][return_url]": "https://example.com/bye",
    "return_url": "https://example.com/account",
    "locale": "fr",
}


def session_json(**over):
    return {**RecordingHTTPClient()._session(SESSION_FORM), **over}


class TestSession:
    def test_cancel_flow_facts(self):
        """The flow's subscription, coupon and after_completion are read."""
        s = PortalSession.from_stripe(session_json())
        assert s.id == "bps_1"
        assert s.url.startswith("https://billing.stripe.com/p/session/")
        assert (s.customer, s.flow_type, s.subscription, s.coupon) == (
            "cus_1",
            "subscription_cancel",
            "sub_1",
            "SAVE20",
        )
        assert s.after_completion == "redirect"
        assert (s.return_url, s.locale, s.configuration) == (
            "https://example.com/account",
            "fr",
            "bpc_default",
        )

    def test_url_is_not_in_repr(self):
        """The session URL logs the customer in, so repr leaves it out."""
        s = PortalSession.from_stripe(session_json())
        assert s.url not in repr(s)
        assert "bps_1" in repr(s)

    def test_plain_session(self):
        """A session without flow has no flow facts."""
        s = PortalSession.from_stripe(session_json(flow=None))
        assert s.flow_type is None
        assert s.subscription is None
        assert s.coupon is None

    def test_expanded_configuration_and_stripe_object(self):
        """An expanded configuration gives its id; a StripeObject parses the same."""
        data = session_json(configuration={"id": "bpc_9", "object": "x"})
        assert PortalSession.from_stripe(data).configuration == "bpc_9"
        assert PortalSession.from_stripe(
            stripe.convert_to_stripe_object(data)
        ) == PortalSession.from_stripe(data)

    def test_wrong_object(self):
        """Another object type is refused."""
        with pytest.raises(StripeObjectError, match=r"billing_portal\.session"):
            PortalSession.from_stripe(session_json(object="customer"))


class TestConfiguration:
    def test_cancel_facts(self):
        """The subscription_cancel feature is read into typed values."""
        c = PortalConfiguration.from_stripe(
            configuration_json(mode="immediately", reasons=["too_expensive", "other"])
        )
        assert c.id == "bpc_1"
        assert c.active
        assert c.is_default
        cancel = c.subscription_cancel
        assert cancel.enabled
        assert cancel.mode is CancelMode.IMMEDIATELY
        assert cancel.proration_behavior is ProrationBehavior.NONE
        assert cancel.cancellation_reason.enabled
        assert cancel.cancellation_reason.options == (
            CancellationFeedback.TOO_EXPENSIVE,
            CancellationFeedback.OTHER,
        )
        assert c.raw["features"]["invoice_history"] == {"enabled": True}

    def test_feedback_options_ids_or_objects(self):
        """Custom feedback options are ids, expanded or not."""
        data = configuration_json()
        data["features"]["subscription_cancel"]["cancellation_reason"][
            "feedback_options"
        ] = [
            "fbo_1",
            {"id": "fbo_2", "object": "billing.feedback_option"},
        ]
        c = PortalConfiguration.from_stripe(data)
        assert c.subscription_cancel.cancellation_reason.feedback_options == (
            "fbo_1",
            "fbo_2",
        )

    def test_raw_is_a_copy_outside_equality(self):
        """raw is a plain copy, not compared, hashed or shown."""
        data = configuration_json()
        c = PortalConfiguration.from_stripe(data)
        data["features"]["invoice_history"]["enabled"] = False
        assert c.raw["features"]["invoice_history"]["enabled"] is True
        other = PortalConfiguration.from_stripe({**configuration_json(), "updated": 1})
        assert c == other
        assert hash(c) == hash(other)
        assert "raw=" not in repr(c)
        assert "invoice_history" not in repr(c)

    def test_unknown_values_name_their_path(self):
        """An unknown mode raises StripeObjectError at its path; an unknown reason
        option (Stripe adds feedback values) is kept as an unknown value, and an
        unreadable one is refused at its path."""
        data = configuration_json()
        data["features"]["subscription_cancel"]["mode"] = "sometimes"
        with pytest.raises(StripeObjectError) as info:
            PortalConfiguration.from_stripe(data)
        assert info.value.path == "configuration.features.subscription_cancel.mode"
        config = PortalConfiguration.from_stripe(configuration_json(reasons=["bored"]))
        (option,) = config.subscription_cancel.cancellation_reason.options
        assert option == "bored"
        assert not option.known
        data = configuration_json(reasons=[""])
        with pytest.raises(StripeObjectError) as info:
            PortalConfiguration.from_stripe(data)
        assert info.value.path.endswith("cancellation_reason.options[0]")

    def test_missing_features_default_to_disabled(self):
        """A configuration without features reads as cancel disabled."""
        c = PortalConfiguration.from_stripe(
            {
                "id": "bpc_2",
                "object": "billing_portal.configuration",
                "active": True,
                "is_default": False,
            }
        )
        assert not c.subscription_cancel.enabled

    @given(
        st.sampled_from(["active", "is_default", "features", "id", "object"]),
        st.one_of(
            st.none(), st.booleans(), st.integers(), st.text(max_size=4), st.just({})
        ),
    )
    def test_any_field_value_parses_or_raises_cancelflow_error(self, key, value):
        """Replacing any top field with any value parses or raises CancelflowError."""
        try:
            c = PortalConfiguration.from_stripe({**configuration_json(), key: value})
        except CancelflowError:
            return
        assert c.id == (value if key == "id" else "bpc_1")

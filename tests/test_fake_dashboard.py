"""The Dashboard: the customer portal page saves the account's default configuration."""

from __future__ import annotations

import pytest
import stripe
from tests.fake_support import client, event_types, fake

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import Dashboard
from cancelflow.testing._resources.portal_sessions import NO_DEFAULT_CONFIGURATION

__all__ = ["client", "fake"]

CANCEL = {"subscription_cancel": {"enabled": True}}


class TestPortalSettings:
    def test_a_new_account_has_no_default(self, fake, client):
        """Nothing saved: no default, and a session without configuration is refused."""
        assert isinstance(fake.dashboard, Dashboard)
        assert fake.dashboard.portal_configuration is None
        client.v1.billing_portal.configurations.create(params={"features": CANCEL})
        customer = client.v1.customers.create().id
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(params={"customer": customer})
        assert info.value.error.message == NO_DEFAULT_CONFIGURATION
        assert "\u2019" in NO_DEFAULT_CONFIGURATION  # the raw capture's apostrophe

    def test_the_first_save_creates_the_default(self, fake, client):
        """Saving the page creates the default configuration, which sessions then use."""
        saved = fake.dashboard.save_portal_settings(
            features=CANCEL, default_return_url="https://example.com/account"
        )
        assert saved["is_default"] is True
        assert saved["features"]["subscription_cancel"]["enabled"] is True
        assert saved["features"]["invoice_history"]["enabled"] is False  # defaults
        assert event_types(fake) == ["billing_portal.configuration.created"]
        assert fake.backend.events.store.by_id[
            fake.backend.events.store.order.ids[-1]
        ].obj["request"] == {"id": None, "idempotency_key": None}
        customer = client.v1.customers.create().id
        session = client.v1.billing_portal.sessions.create(
            params={"customer": customer}
        )
        assert session.configuration == saved["id"]
        assert session.return_url == "https://example.com/account"

    def test_a_later_save_updates_the_same_configuration(self, fake, client):
        """A second save changes the default in place and emits configuration.updated."""
        first = fake.dashboard.save_portal_settings(features=CANCEL)
        fake.clock.advance(60)
        second = fake.dashboard.save_portal_settings(
            features={"subscription_cancel": {"mode": "immediately"}}, name="Main"
        )
        assert second["id"] == first["id"]
        assert second["features"]["subscription_cancel"] == {
            **first["features"]["subscription_cancel"],
            "mode": "immediately",
        }
        assert (second["name"], second["updated"]) == ("Main", first["created"] + 60)
        assert event_types(fake)[-1] == "billing_portal.configuration.updated"
        assert len(fake.backend.portal_configurations) == 1

    def test_the_api_updates_the_default_and_never_creates_one(self, fake, client):
        """API-made configurations are not the default; the API can update the saved one."""
        made = client.v1.billing_portal.configurations.create(
            params={"features": CANCEL}
        )
        assert made.is_default is False
        saved = fake.dashboard.save_portal_settings(features=CANCEL)
        updated = client.v1.billing_portal.configurations.update(
            saved["id"], params={"metadata": {"managed_by": "cancelflow"}}
        )
        assert updated.is_default is True
        assert fake.dashboard.portal_configuration["metadata"] == {
            "managed_by": "cancelflow"
        }
        defaults = client.v1.billing_portal.configurations.list(
            params={"is_default": True}
        )
        assert [c.id for c in defaults.data] == [saved["id"]]
        assert (
            client.v1.billing_portal.configurations.retrieve(made.id).is_default
            is False
        )

    def test_what_it_returns_is_a_copy(self, fake):
        """Changing the returned dict changes nothing in the account."""
        saved = fake.dashboard.save_portal_settings(features=CANCEL)
        saved["features"]["subscription_cancel"]["enabled"] = False
        assert fake.dashboard.portal_configuration["features"]["subscription_cancel"][
            "enabled"
        ]

    def test_reset_forgets_the_saved_settings(self, fake):
        """reset() gives an account whose portal page was never saved."""
        fake.dashboard.save_portal_settings(features=CANCEL)
        fake.reset()
        assert fake.dashboard.portal_configuration is None
        assert "portal_configuration=None" in repr(fake.dashboard)


class TestRefusals:
    @pytest.mark.parametrize(
        ("settings", "param"),
        [
            (
                {"features": {"subscription_cancel": {"mode": "later"}}},
                "features[subscription_cancel][mode]",
            ),
            (
                {"features": {"subscription_cancl": {"enabled": True}}},
                "features[subscription_cancl]",
            ),
            ({"default_return_url": "not a url"}, "default_return_url"),
            ({"colour": "blue"}, "colour"),
            (
                {
                    "features": {
                        "subscription_cancel": {
                            "proration_behavior": "create_prorations"
                        }
                    }
                },
                "features[subscription_cancel][proration_behavior]",
            ),
        ],
    )
    def test_what_stripe_refuses_is_refused_by_name(self, fake, settings, param):
        """A value the API would refuse is a FakeStripeError naming the parameter."""
        with pytest.raises(FakeStripeError) as caught:
            fake.dashboard.save_portal_settings(**settings)
        assert f"({param})" in str(caught.value)
        assert fake.dashboard.portal_configuration is None

    @pytest.mark.parametrize("name", ["active", "expand"])
    def test_api_only_parameters_are_not_on_the_page(self, fake, name):
        """active and expand are API parameters, not portal settings."""
        with pytest.raises(FakeStripeError, match=f"no '{name}'"):
            fake.dashboard.save_portal_settings(**{name: False})

    def test_a_refused_save_keeps_the_saved_settings(self, fake):
        """A refused second save leaves the default as it was."""
        fake.dashboard.save_portal_settings(features=CANCEL)
        with pytest.raises(FakeStripeError):
            fake.dashboard.save_portal_settings(
                features={"subscription_cancel": {"mode": "soon"}}
            )
        saved = fake.dashboard.portal_configuration
        assert saved["features"]["subscription_cancel"]["mode"] == "at_period_end"

"""Portal configurations and sessions on FakeStripe: defaults, rules, every flow type."""

from __future__ import annotations

import pytest
import stripe
from tests.fake_support import (
    cancel_config,
    client,
    default_cancel_config,
    event_types,
    fake,
    price,
    subscription,
)

from cancelflow.testing._resources.portal_sessions import NO_DEFAULT_CONFIGURATION

__all__ = ["client", "fake"]


def cancel_flow(sub_id, **extra):
    return {
        "type": "subscription_cancel",
        "subscription_cancel": {"subscription": sub_id, **extra},
    }


class TestConfigurations:
    def test_defaults(self, client):
        """A new configuration has Stripe's defaults and is never the account's default."""
        config = client.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": True}}}
        )
        cancel = config.features.subscription_cancel
        assert (cancel.enabled, cancel.mode, cancel.proration_behavior) == (
            False,
            "at_period_end",
            "none",
        )
        assert cancel.cancellation_reason.options == [
            "too_expensive",
            "missing_features",
            "switched_service",
            "unused",
            "other",
        ]
        assert config.features.invoice_history.enabled is True
        assert (config.is_default, config.active, config.login_page.url) == (
            False,
            True,
            None,
        )
        second = client.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": False}}}
        )
        assert second.is_default is False

    def test_features_is_required(self, client):
        """features is required on create (from the TypedDict)."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.configurations.create(params={"name": "x"})
        assert (info.value.code, info.value.param) == ("parameter_missing", "features")

    def test_always_invoice_is_refused_on_cancel(self, client):
        """proration_behavior=always_invoice on subscription_cancel is an error."""
        with pytest.raises(stripe.InvalidRequestError) as info:
            cancel_config(
                client, mode="immediately", proration_behavior="always_invoice"
            )
        assert info.value.param == "features[subscription_cancel][proration_behavior]"

    def test_create_prorations_needs_immediately(self, client):
        """create_prorations is only compatible with mode=immediately."""
        with pytest.raises(stripe.InvalidRequestError):
            cancel_config(client, proration_behavior="create_prorations")
        config = cancel_config(
            client, mode="immediately", proration_behavior="create_prorations"
        )
        assert (
            config.features.subscription_cancel.proration_behavior
            == "create_prorations"
        )

    def test_update_merges_features_and_emits(self, fake, client):
        """An update merges nested features, bumps updated and emits configuration.updated."""
        config = cancel_config(client)
        fake.clock.advance(60)
        updated = client.v1.billing_portal.configurations.update(
            config.id,
            params={
                "features": {
                    "subscription_cancel": {
                        "mode": "immediately",
                        "cancellation_reason": {"enabled": True, "options": ["other"]},
                    }
                },
                "login_page": {"enabled": True},
            },
        )
        cancel = updated.features.subscription_cancel
        assert (cancel.enabled, cancel.mode, cancel.cancellation_reason.options) == (
            True,
            "immediately",
            ["other"],
        )
        assert updated.updated == config.created + 60
        assert updated.login_page.url.startswith(
            "https://billing.stripe.com/p/login/test_"
        )
        assert event_types(fake)[-2:] == [
            "billing_portal.configuration.created",
            "billing_portal.configuration.updated",
        ]

    def test_feedback_options_must_be_active(self, client):
        """Feedback options in a configuration must exist and be active."""
        option = client.v1.billing.feedback_options.create(
            params={"description": "Moving"}
        )
        config = cancel_config(
            client,
            cancellation_reason={
                "enabled": True,
                "options": ["other"],
                "feedback_options": [option.id],
            },
        )
        assert (
            config.features.subscription_cancel.cancellation_reason.feedback_options
            == [option.id]
        )
        client.v1.billing.feedback_options.deactivate(option.id)
        with pytest.raises(stripe.InvalidRequestError, match="inactive"):
            cancel_config(
                client,
                cancellation_reason={
                    "enabled": True,
                    "options": ["other"],
                    "feedback_options": [option.id],
                },
            )
        with pytest.raises(stripe.InvalidRequestError) as info:
            cancel_config(
                client,
                cancellation_reason={
                    "enabled": True,
                    "options": ["other"],
                    "feedback_options": ["fo_nope"],
                },
            )
        assert info.value.http_status == 404

    def test_default_cannot_be_deactivated(self, fake, client):
        """The default configuration stays active (UNCONFIRMED rule); others can be deactivated."""
        default = default_cancel_config(fake)
        other = cancel_config(client)
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.billing_portal.configurations.update(
                default["id"], params={"active": False}
            )
        assert (
            client.v1.billing_portal.configurations.update(
                other.id, params={"active": False}
            ).active
            is False
        )

    def test_list_filters(self, fake, client):
        """Configurations filter by is_default and active."""
        default = default_cancel_config(fake)
        other = cancel_config(client)
        assert [
            c.id
            for c in client.v1.billing_portal.configurations.list(
                params={"is_default": True}
            ).data
        ] == [default["id"]]
        assert [
            c.id
            for c in client.v1.billing_portal.configurations.list(
                params={"is_default": False}
            ).data
        ] == [other.id]

    def test_other_features(self, client):
        """subscription_update products, subscription_pause intervals and allowed updates round-trip."""
        product = client.v1.products.create(params={"name": "P"}).id
        p = price(client, product=product)
        config = client.v1.billing_portal.configurations.create(
            params={
                "features": {
                    "customer_update": {
                        "enabled": True,
                        "allowed_updates": ["email", "address"],
                    },
                    "subscription_update": {
                        "enabled": True,
                        "default_allowed_updates": ["price"],
                        "products": [{"product": product, "prices": [p.id]}],
                    },
                    "subscription_pause": {
                        "enabled": True,
                        "duration": {
                            "type": "interval_options",
                            "interval_options": [{"interval": "month"}],
                        },
                    },
                },
                "business_profile": {"headline": "Acme"},
                "default_return_url": "https://example.com/account",
            }
        )
        assert config.features.customer_update.allowed_updates == ["email", "address"]
        assert (
            config.features.subscription_update.products[0].adjustable_quantity.minimum
            == 1
        )
        assert (
            config.features.subscription_pause.duration.interval_options[
                0
            ].interval_count
            == 1
        )
        assert config.business_profile.headline == "Acme"


class TestSessions:
    def test_no_default_configuration(self, client):
        """Without a saved configuration, Stripe's test-mode message (attested verbatim)."""
        customer = client.v1.customers.create().id
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(params={"customer": customer})
        assert info.value.error.message == NO_DEFAULT_CONFIGURATION
        assert info.value.http_status == 400

    def test_cancel_deep_link_with_retention(self, fake, client):
        """A subscription_cancel session records the flow, coupon, locale and return URLs."""
        config = default_cancel_config(fake)
        sub = subscription(client)
        coupon = client.v1.coupons.create(params={"percent_off": 20})
        session = client.v1.billing_portal.sessions.create(
            params={
                "customer": sub.customer,
                "return_url": "https://example.com/account",
                "locale": "fr",
                "flow_data": {
                    **cancel_flow(
                        sub.id,
                        retention={
                            "type": "coupon_offer",
                            "coupon_offer": {"coupon": coupon.id},
                        },
                    ),
                    "after_completion": {
                        "type": "redirect",
                        "redirect": {"return_url": "https://example.com/bye"},
                    },
                },
            }
        )
        assert session.url.startswith("https://billing.stripe.com/p/session/test_")
        assert (session.configuration, session.locale, session.return_url) == (
            config["id"],
            "fr",
            "https://example.com/account",
        )
        assert (
            session.flow.subscription_cancel.retention.coupon_offer.coupon == coupon.id
        )
        assert (
            session.flow.after_completion.redirect.return_url
            == "https://example.com/bye"
        )
        record = fake.backend.portal_sessions.find(session.url + "?x=1")
        assert record is fake.backend.portal_sessions.find(session.id)
        assert (record.subscription_id, record.coupon_id, record.customer_id) == (
            sub.id,
            coupon.id,
            sub.customer,
        )
        assert record.after_completion == {
            "hosted_confirmation": None,
            "redirect": {"return_url": "https://example.com/bye"},
            "type": "redirect",
        }
        assert (
            fake.backend.portal_sessions.find(
                "https://billing.stripe.com/p/session/test_nope"
            )
            is None
        )
        assert event_types(fake)[-1] == "billing_portal.session.created"

    def test_default_return_url_and_after_completion_default(self, client):
        """return_url falls back to the configuration's; after_completion defaults to the portal."""
        config = client.v1.billing_portal.configurations.create(
            params={
                "features": {"subscription_cancel": {"enabled": True}},
                "default_return_url": "https://example.com/home",
            }
        )
        sub = subscription(client)
        session = client.v1.billing_portal.sessions.create(
            params={
                "customer": sub.customer,
                "configuration": config.id,
                "flow_data": cancel_flow(sub.id),
            }
        )
        assert session.return_url == "https://example.com/home"
        assert session.flow.after_completion.type == "portal_homepage"
        assert session.flow.after_completion.redirect is None

    @pytest.mark.parametrize(
        ("setup", "param", "status"),
        [
            (
                lambda c, sub, other: cancel_flow("sub_nope"),
                "flow_data[subscription_cancel][subscription]",
                404,
            ),
            (
                lambda c, sub, other: cancel_flow(other.id),
                "flow_data[subscription_cancel][subscription]",
                400,
            ),
            (
                lambda c, sub, other: (
                    c.v1.subscriptions.cancel(sub.id),
                    cancel_flow(sub.id),
                )[1],
                "flow_data[subscription_cancel][subscription]",
                400,
            ),
            (
                lambda c, sub, other: (
                    c.v1.subscriptions.update(
                        sub.id, params={"cancel_at_period_end": True}
                    ),
                    cancel_flow(sub.id),
                )[1],
                "flow_data[subscription_cancel][subscription]",
                400,
            ),
            (
                lambda c, sub, other: cancel_flow(
                    sub.id,
                    retention={
                        "type": "coupon_offer",
                        "coupon_offer": {"coupon": "nope"},
                    },
                ),
                "flow_data[subscription_cancel][retention][coupon_offer][coupon]",
                404,
            ),
            (
                lambda c, sub, other: cancel_flow(
                    sub.id,
                    retention={
                        "type": "coupon_offer",
                        "coupon_offer": {
                            "coupon": c.v1.coupons.create(
                                params={"amount_off": 5, "currency": "eur"}
                            ).id
                        },
                    },
                ),
                "flow_data[subscription_cancel][retention][coupon_offer][coupon]",
                400,
            ),
            (
                lambda c, sub, other: {"type": "subscription_cancel"},
                "flow_data[subscription_cancel]",
                400,
            ),
            (
                lambda c, sub, other: {
                    "type": "subscription_cancel",
                    "subscription_cancel": {
                        "retention": {
                            "type": "coupon_offer",
                            "coupon_offer": {"coupon": "c"},
                        }
                    },
                },
                "flow_data[subscription_cancel][subscription]",
                400,
            ),
            (
                lambda c, sub, other: {
                    **cancel_flow(sub.id),
                    "subscription_update": {"subscription": sub.id},
                },
                "flow_data[subscription_update]",
                400,
            ),
            (
                lambda c, sub, other: {
                    **cancel_flow(sub.id),
                    "after_completion": {"type": "redirect"},
                },
                "flow_data[after_completion][redirect]",
                400,
            ),
            (
                lambda c, sub, other: {
                    **cancel_flow(sub.id),
                    "after_completion": {
                        "type": "hosted_confirmation",
                        "hosted_confirmation": {"custom_message": "x" * 501},
                    },
                },
                "flow_data[after_completion][hosted_confirmation][custom_message]",
                400,
            ),
            (
                lambda c, sub, other: {
                    **cancel_flow(sub.id),
                    "type": "subscription_pause",
                    "subscription_pause": {"subscription": sub.id},
                },
                "flow_data[subscription_cancel]",
                400,
            ),
        ],
        ids=[
            "missing",
            "other-customer",
            "canceled",
            "scheduled",
            "no-coupon",
            "coupon-currency",
            "no-object",
            "no-subscription",
            "other-object",
            "redirect-needs-url",
            "message-too-long",
            "mixed",
        ],
    )
    def test_cancel_flow_refusals(self, fake, client, setup, param, status):
        """Each reason to refuse a cancel deep link answers Stripe's error on the right param."""
        default_cancel_config(fake)
        sub = subscription(client)
        other = subscription(client)
        flow = setup(client, sub, other)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(
                params={"customer": sub.customer, "flow_data": flow}
            )
        assert (info.value.param, info.value.http_status) == (param, status)

    def test_cancel_disabled_in_configuration(self, client):
        """A configuration with subscription_cancel disabled refuses the cancel flow."""
        config = client.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": True}}}
        )
        sub = subscription(client)
        with pytest.raises(
            stripe.InvalidRequestError, match="subscription_cancel"
        ) as info:
            client.v1.billing_portal.sessions.create(
                params={
                    "customer": sub.customer,
                    "configuration": config.id,
                    "flow_data": cancel_flow(sub.id),
                }
            )
        assert info.value.param == "flow_data[type]"

    def test_explicit_and_inactive_configuration(self, fake, client):
        """An explicit configuration must exist and be active."""
        default_cancel_config(fake)
        inactive = cancel_config(client)
        client.v1.billing_portal.configurations.update(
            inactive.id, params={"active": False}
        )
        customer = client.v1.customers.create().id
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(
                params={"customer": customer, "configuration": "bpc_nope"}
            )
        assert (info.value.http_status, info.value.param) == (404, "configuration")
        with pytest.raises(stripe.InvalidRequestError, match="not active"):
            client.v1.billing_portal.sessions.create(
                params={"customer": customer, "configuration": inactive.id}
            )

    def test_customer_rules(self, fake, client):
        """customer is required and must exist; customer_account is not modeled."""
        default_cancel_config(fake)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(params={})
        assert (info.value.code, info.value.param) == ("parameter_missing", "customer")
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})
        assert info.value.http_status == 404
        with pytest.raises(stripe.InvalidRequestError, match="customer_account"):
            client.v1.billing_portal.sessions.create(
                params={"customer_account": "acct_1"}
            )

    def test_other_flow_types(self, fake, client):
        """update, update_confirm, pause, payment method and customer update flows validate."""
        product = client.v1.products.create(params={"name": "P"}).id
        current, target = (
            price(client, product=product),
            price(client, product=product, interval="year"),
        )
        fake.dashboard.save_portal_settings(
            features={
                "subscription_update": {
                    "enabled": True,
                    "default_allowed_updates": ["price"],
                    "products": [
                        {"product": product, "prices": [current.id, target.id]}
                    ],
                },
                "subscription_pause": {"enabled": True},
                "payment_method_update": {"enabled": True},
                "customer_update": {"enabled": True, "allowed_updates": ["email"]},
            }
        )
        sub = subscription(client, items=[{"price": current.id}])
        item = sub["items"].data[0].id
        flows = [
            {
                "type": "subscription_update",
                "subscription_update": {"subscription": sub.id},
            },
            {
                "type": "subscription_update_confirm",
                "subscription_update_confirm": {
                    "subscription": sub.id,
                    "items": [{"id": item, "price": target.id}],
                },
            },
            {
                "type": "subscription_pause",
                "subscription_pause": {"subscription": sub.id},
            },
            {"type": "payment_method_update"},
            {"type": "customer_update"},
        ]
        for flow in flows:
            session = client.v1.billing_portal.sessions.create(
                params={"customer": sub.customer, "flow_data": flow}
            )
            assert session.flow.type == flow["type"]
        confirm = client.v1.billing_portal.sessions.create(
            params={"customer": sub.customer, "flow_data": flows[1]}
        )
        assert confirm.flow.subscription_update_confirm["items"][0].price == target.id
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(
                params={
                    "customer": sub.customer,
                    "flow_data": {
                        "type": "subscription_update_confirm",
                        "subscription_update_confirm": {
                            "subscription": sub.id,
                            "items": [{"id": "si_nope"}],
                        },
                    },
                }
            )
        assert (
            info.value.param == "flow_data[subscription_update_confirm][items][0][id]"
        )
        with pytest.raises(stripe.InvalidRequestError, match="cancel"):
            client.v1.billing_portal.sessions.create(
                params={"customer": sub.customer, "flow_data": cancel_flow(sub.id)}
            )


class TestUrls:
    """Stripe refuses return URLs that are not URLs, naming the parameter."""

    NOT_URLS = ("not a url", "example.com/back", "/relative", "https://", "mailto:a@b")

    @pytest.mark.parametrize("bad", NOT_URLS)
    def test_session_return_url(self, fake, client, bad):
        """A top-level return_url that is not a URL is a 400 naming return_url."""
        sub = subscription(client)
        default_cancel_config(fake)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(
                params={"customer": sub.customer, "return_url": bad}
            )
        assert (info.value.http_status, info.value.param) == (400, "return_url")
        assert "Not a valid URL" in str(info.value)

    def test_after_completion_redirect_return_url(self, fake, client):
        """A redirect after completion to a non-URL is refused, and no session is made."""
        sub = subscription(client)
        default_cancel_config(fake)
        flow = {
            **cancel_flow(sub.id),
            "after_completion": {
                "type": "redirect",
                "redirect": {"return_url": "not a url"},
            },
        }
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(
                params={"customer": sub.customer, "flow_data": flow}
            )
        assert info.value.http_status == 400
        assert info.value.param == "flow_data[after_completion][redirect][return_url]"
        assert len(fake.backend.portal_sessions) == 0

    def test_url_is_checked_before_the_customer(self, fake, client):
        """A bad URL is a parameter error, found before an unknown customer's 404."""
        default_cancel_config(fake)
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.sessions.create(
                params={"customer": "cus_nope", "return_url": "nope"}
            )
        assert (info.value.http_status, info.value.param) == (400, "return_url")

    @pytest.mark.parametrize(
        "good",
        [
            "https://example.com/account?tab=billing#top",
            "http://localhost:8000/back",
            "https://[::1]:8443/back",
        ],
    )
    def test_urls_are_accepted(self, fake, client, good):
        """Absolute URLs with a host, localhost and IPv6 included, are accepted."""
        sub = subscription(client)
        default_cancel_config(fake)
        flow = {
            **cancel_flow(sub.id),
            "after_completion": {"type": "redirect", "redirect": {"return_url": good}},
        }
        session = client.v1.billing_portal.sessions.create(
            params={"customer": sub.customer, "return_url": good, "flow_data": flow}
        )
        assert session.return_url == good
        assert session.flow.after_completion.redirect.return_url == good

    @pytest.mark.parametrize(
        ("params", "param"),
        [
            ({"default_return_url": "not a url"}, "default_return_url"),
            (
                {"business_profile": {"privacy_policy_url": "privacy"}},
                "business_profile[privacy_policy_url]",
            ),
            (
                {"business_profile": {"terms_of_service_url": "terms of service"}},
                "business_profile[terms_of_service_url]",
            ),
        ],
    )
    def test_configuration_urls(self, fake, client, params, param):
        """Configuration URLs are checked on create and update; "" still unsets on update."""
        features = {"features": {"subscription_cancel": {"enabled": True}}}
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.configurations.create(
                params={**features, **params}
            )
        assert (info.value.http_status, info.value.param) == (400, param)
        assert len(fake.backend.portal_configurations) == 0
        config = client.v1.billing_portal.configurations.create(
            params={
                **features,
                "default_return_url": "https://example.com/home",
                "business_profile": {
                    "privacy_policy_url": "https://example.com/privacy",
                    "terms_of_service_url": "https://example.com/terms",
                },
            }
        )
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.billing_portal.configurations.update(config.id, params=params)
        assert info.value.param == param
        unset = client.v1.billing_portal.configurations.update(
            config.id,
            params={
                "default_return_url": "",
                "business_profile": {"privacy_policy_url": ""},
            },
        )
        assert unset.default_return_url is None
        assert unset.business_profile.privacy_policy_url is None
        assert (
            unset.business_profile.terms_of_service_url == "https://example.com/terms"
        )

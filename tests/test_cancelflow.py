"""Cancelflow end to end: through stripe-python to the recording client, sync and async."""

from __future__ import annotations

import asyncio

import pytest

from cancelflow import (
    AllowedHosts,
    Cancelflow,
    CancelLink,
    HostedConfirmation,
    PortalHomepage,
    PortalLink,
    Redirect,
    StripeGateway,
)
from cancelflow.exceptions import (
    CancelLinkRefusedError,
    CouponCurrencyMismatchError,
    CouponForeverAmountOffError,
    CouponNotApplicableError,
    CouponNotFoundError,
    CouponNotValidError,
    DisallowedURLError,
    InvalidParameterError,
    StripeInvalidRequestError,
    StripeResourceMissingError,
    StripeServerError,
    SubscriptionAlreadyScheduledError,
    SubscriptionNotCancelableError,
    SubscriptionNotFoundError,
    SubscriptionOwnershipError,
)
from recording import (
    API_KEY,
    NOW,
    RecordingHTTPClient,
    coupon_json,
    error_json,
    subscription_json,
)

SESSIONS = "/v1/billing_portal/sessions"


@pytest.fixture(name="recorder")
def _recorder():
    rec = RecordingHTTPClient()
    rec.subscriptions["sub_1"] = subscription_json(customer="cus_1", currency="eur")
    rec.coupons["SAVE20"] = coupon_json("SAVE20", percent_off=20.0)
    return rec


@pytest.fixture(name="flow")
def _flow(recorder):
    return Cancelflow(
        recorder.client(),
        allowed_hosts=["example.com"],
        return_url="https://example.com/account",
        clock=lambda: NOW,
    )


@pytest.fixture(name="make_link", params=["sync", "async"])
def _make_link(request, flow):
    """create_cancel_link, called the sync or the async way."""

    def call(target=None, **kwargs):
        target = target or flow
        if request.param == "sync":
            return target.create_cancel_link(**kwargs)
        return asyncio.run(target.create_cancel_link_async(**kwargs))

    return call


def session_posts(recorder):
    return recorder.calls("post", SESSIONS)


class TestCreated:
    def test_exact_form_fields_with_coupon(self, make_link, recorder):
        """Stripe receives exactly the subscription_cancel flow with the coupon offer."""
        link = make_link(
            customer="cus_1",
            subscription="sub_1",
            coupon="SAVE20",
            after_completion=Redirect("https://example.com/cancelled"),
            locale="fr",
        )
        (post,) = session_posts(recorder)
        assert post.form == {
            "customer": "cus_1",
            "flow_data[type]": "subscription_cancel",
            "flow_data[subscription_cancel][subscription]": "sub_1",
            "flow_data[subscription_cancel][retention][type]": "coupon_offer",
            "flow_data[subscription_cancel][retention][coupon_offer][coupon]": "SAVE20",
            "flow_data[after_completion][type]": "redirect",
            "flow_data[after_completion][redirect][return_url]": (
                "https://example.com/cancelled"
            ),
            "return_url": "https://example.com/account",
            "locale": "fr",
        }
        assert post.headers["Idempotency-Key"].startswith("cancelflow-")
        assert isinstance(link, CancelLink)
        assert link.url == "https://billing.stripe.com/p/session/test_0001secret"
        assert (link.session_id, link.subscription_id, link.customer_id) == (
            "bps_1",
            "sub_1",
            "cus_1",
        )
        assert link.coupon_id == "SAVE20"
        assert link.coupon is not None
        assert link.coupon.percent_off == 20.0
        assert link.session.coupon == "SAVE20"

    def test_order_of_calls(self, make_link, recorder):
        """The subscription, then the coupon, are read before the session is made."""
        make_link(customer="cus_1", subscription="sub_1", coupon="SAVE20")
        assert [(r.method, r.path) for r in recorder.requests] == [
            ("get", "/v1/subscriptions/sub_1"),
            ("get", "/v1/coupons/SAVE20"),
            ("post", SESSIONS),
        ]

    def test_without_coupon(self, make_link, recorder):
        """Without a coupon no retention is sent and no coupon is fetched."""
        link = make_link(
            customer="cus_1",
            subscription="sub_1",
            after_completion=HostedConfirmation("Merci, à bientôt"),
        )
        (post,) = session_posts(recorder)
        assert not any("retention" in key for key in post.form)
        assert post.form[
            "flow_data[after_completion][hosted_confirmation][custom_message]"
        ] == ("Merci, à bientôt")
        assert recorder.calls("get", "/v1/coupons") == []
        assert link.coupon is None
        assert link.coupon_id is None

    def test_defaults_and_overrides(self, recorder):
        """Constructor defaults apply; call arguments override them."""
        flow = Cancelflow(
            recorder.client(),
            allowed_hosts=AllowedHosts(["example.com", "*.example.com"]),
            return_url="https://example.com/account",
            locale="de",
            after_completion=PortalHomepage(),
            configuration="bpc_42",
            on_behalf_of="acct_42",
        )
        flow.create_cancel_link(customer="cus_1", subscription="sub_1")
        flow.create_cancel_link(
            customer="cus_1",
            subscription="sub_1",
            return_url="https://app.example.com/billing",
            locale="en-GB",
            after_completion=Redirect("https://app.example.com/bye"),
        )
        first, second = (p.form for p in session_posts(recorder))
        assert first["return_url"] == "https://example.com/account"
        assert first["locale"] == "de"
        assert first["flow_data[after_completion][type]"] == "portal_homepage"
        assert first["configuration"] == "bpc_42"
        assert first["on_behalf_of"] == "acct_42"
        assert second["return_url"] == "https://app.example.com/billing"
        assert second["locale"] == "en-GB"
        assert second["flow_data[after_completion][redirect][return_url]"] == (
            "https://app.example.com/bye"
        )

    def test_accepts_a_gateway(self, recorder):
        """A StripeGateway (with its own key factory) can be passed instead of a client."""
        gateway = StripeGateway(recorder.client(), idempotency_key=lambda: "fixed-key")
        flow = Cancelflow(gateway, allowed_hosts=["example.com"])
        assert flow.gateway is gateway
        assert flow.allowed_hosts == AllowedHosts(["example.com"])
        flow.create_cancel_link(customer="cus_1", subscription="sub_1")
        assert session_posts(recorder)[0].headers["Idempotency-Key"] == "fixed-key"

    def test_repr_shows_no_secret(self, flow, make_link):
        """Neither the flow nor the link shows the key or the session URL in repr."""
        link = make_link(customer="cus_1", subscription="sub_1")
        assert API_KEY not in repr(flow)
        assert "example.com" in repr(flow)
        assert link.url not in repr(link)


class TestRefusedBeforeStripe:
    @pytest.mark.parametrize(
        ("kwargs", "error", "field"),
        [
            ({"return_url": "https://evil.com/"}, DisallowedURLError, "return_url"),
            (
                {"after_completion": Redirect("https://example.com@evil.com/")},
                DisallowedURLError,
                "flow_data[after_completion][redirect][return_url]",
            ),
            ({"locale": "klingon"}, InvalidParameterError, "locale"),
            (
                {"after_completion": HostedConfirmation("x" * 501)},
                InvalidParameterError,
                "flow_data[after_completion][hosted_confirmation][custom_message]",
            ),
            (
                {"coupon": "bad coupon"},
                InvalidParameterError,
                "flow_data[subscription_cancel][retention][coupon_offer][coupon]",
            ),
            (
                {"subscription": "cus_1"},
                InvalidParameterError,
                "flow_data[subscription_cancel][subscription]",
            ),
        ],
    )
    def test_bad_input_makes_no_request(
        self, make_link, recorder, kwargs, error, field
    ):
        """Bad input is refused with its field before any request to Stripe."""
        args = {"customer": "cus_1", "subscription": "sub_1", **kwargs}
        with pytest.raises(error) as info:
            make_link(**args)
        assert info.value.field == field
        assert recorder.requests == []

    def test_bad_defaults_refused_at_construction(self, recorder):
        """Defaults are checked once, when Cancelflow is built."""
        client = recorder.client()
        with pytest.raises(DisallowedURLError):
            Cancelflow(
                client, allowed_hosts=["example.com"], return_url="http://example.com"
            )
        with pytest.raises(DisallowedURLError):
            Cancelflow(
                client,
                allowed_hosts=["example.com"],
                after_completion=Redirect("https://evil.com"),
            )
        with pytest.raises(InvalidParameterError, match="locale"):
            Cancelflow(client, allowed_hosts=["example.com"], locale="xx")
        with pytest.raises(InvalidParameterError, match="configuration"):
            Cancelflow(client, allowed_hosts=["example.com"], configuration="cfg")
        with pytest.raises(InvalidParameterError, match="on_behalf_of"):
            Cancelflow(client, allowed_hosts=["example.com"], on_behalf_of="cus_1")
        with pytest.raises(InvalidParameterError, match="allowed_hosts"):
            Cancelflow(client, allowed_hosts=["https://example.com"])
        assert recorder.requests == []


class TestRefusedSubscription:
    def test_not_found(self, make_link, recorder):
        """A missing subscription is refused with SubscriptionNotFoundError (a LookupError)."""
        with pytest.raises(SubscriptionNotFoundError) as info:
            make_link(customer="cus_1", subscription="sub_404")
        assert isinstance(info.value, LookupError)
        assert info.value.subscription_id == "sub_404"
        assert isinstance(info.value.__cause__, StripeResourceMissingError)
        assert session_posts(recorder) == []

    def test_another_customers_subscription(self, make_link, recorder):
        """Someone else's subscription is refused without naming its owner."""
        recorder.subscriptions["sub_2"] = subscription_json(
            "sub_2", customer="cus_owner_secret", status="canceled"
        )
        with pytest.raises(SubscriptionOwnershipError) as info:
            make_link(customer="cus_1", subscription="sub_2")
        assert "cus_owner_secret" not in str(info.value)
        assert "canceled" not in str(info.value)  # nothing about its state either
        assert session_posts(recorder) == []

    @pytest.mark.parametrize("status", ["canceled", "incomplete_expired"])
    def test_ended(self, make_link, recorder, status):
        """An ended subscription is refused with its status."""
        recorder.subscriptions["sub_1"] = subscription_json(status=status)
        with pytest.raises(SubscriptionNotCancelableError) as info:
            make_link(customer="cus_1", subscription="sub_1")
        assert info.value.status == status
        assert status in str(info.value)
        assert session_posts(recorder) == []

    @pytest.mark.parametrize(
        ("over", "cancel_at"),
        [
            ({"cancel_at_period_end": True, "cancel_at": NOW + 100}, NOW + 100),
            ({"cancel_at_period_end": True}, NOW + 30 * 86_400),
            ({"cancel_at": NOW + 500, "billing_mode": "flexible"}, NOW + 500),
        ],
    )
    def test_already_scheduled(self, make_link, recorder, over, cancel_at):
        """A subscription already scheduled (classic or flexible) is refused, says
        when, and points to the portal homepage."""
        recorder.subscriptions["sub_1"] = subscription_json(**over)
        with pytest.raises(SubscriptionAlreadyScheduledError) as info:
            make_link(customer="cus_1", subscription="sub_1")
        assert info.value.cancel_at == cancel_at
        assert "already scheduled to cancel on 20" in str(info.value)
        assert "create_portal_link" in str(info.value)
        assert session_posts(recorder) == []

    def test_every_refusal_is_a_cancel_link_refusal(self, make_link, recorder):
        """Refusals share CancelLinkRefusedError, so one except clause catches them."""
        with pytest.raises(CancelLinkRefusedError):
            make_link(customer="cus_1", subscription="sub_404")

    def test_other_stripe_errors_pass_through_mapped(self, make_link, recorder):
        """A Stripe failure that is not a refusal stays a StripeAPIError."""
        recorder.fail_next(
            "get", "/v1/subscriptions/", 500, error_json("boom", error_type="api_error")
        )
        with pytest.raises(StripeServerError):
            make_link(customer="cus_1", subscription="sub_1")


class TestRefusedCoupon:
    @pytest.mark.parametrize(
        ("coupon", "error"),
        [
            (coupon_json("C", valid=False), CouponNotValidError),
            (
                coupon_json("C", max_redemptions=5, times_redeemed=5),
                CouponNotValidError,
            ),
            (coupon_json("C", redeem_by=NOW - 10), CouponNotValidError),
            (coupon_json("C", products=["prod_other"]), CouponNotApplicableError),
            (
                coupon_json("C", amount_off=500, currency="usd"),
                CouponCurrencyMismatchError,
            ),
            (
                coupon_json("C", amount_off=500, currency="eur", duration="forever"),
                CouponForeverAmountOffError,
            ),
        ],
    )
    def test_coupon_problems(self, make_link, recorder, coupon, error):
        """Each coupon problem is refused with its error, before any session."""
        recorder.coupons["C"] = coupon
        with pytest.raises(error) as info:
            make_link(customer="cus_1", subscription="sub_1", coupon="C")
        assert info.value.coupon_id == "C"
        assert info.value.subscription_id == "sub_1"
        assert session_posts(recorder) == []

    def test_coupon_not_found(self, make_link, recorder):
        """A coupon that does not exist is refused with CouponNotFoundError."""
        with pytest.raises(CouponNotFoundError) as info:
            make_link(customer="cus_1", subscription="sub_1", coupon="NOPE")
        assert isinstance(info.value, LookupError)
        assert info.value.coupon_id == "NOPE"
        assert session_posts(recorder) == []

    def test_amount_coupon_in_subscription_currency_is_offered(
        self, make_link, recorder
    ):
        """An amount_off coupon with an option in the subscription's currency fits."""
        recorder.coupons["EUR5"] = coupon_json(
            "EUR5", amount_off=600, currency="usd", currency_options={"eur": 500}
        )
        link = make_link(customer="cus_1", subscription="sub_1", coupon="EUR5")
        assert link.coupon is not None
        assert link.coupon.amount_off_in("eur") == 500

    def test_clock_decides_redeem_by(self, recorder):
        """redeem_by is compared with the injected clock."""
        recorder.coupons["C"] = coupon_json("C", redeem_by=NOW + 60)
        early = Cancelflow(recorder.client(), allowed_hosts=[], clock=lambda: NOW)
        late = Cancelflow(recorder.client(), allowed_hosts=[], clock=lambda: NOW + 61)
        assert early.create_cancel_link(
            customer="cus_1", subscription="sub_1", coupon="C"
        )
        with pytest.raises(CouponNotValidError, match="redeem_by"):
            late.create_cancel_link(customer="cus_1", subscription="sub_1", coupon="C")

    def test_stripe_refusing_the_session_is_mapped(self, make_link, recorder):
        """If Stripe still refuses the session, its error keeps Stripe's param."""
        recorder.fail_next(
            "post",
            SESSIONS,
            400,
            error_json(
                "No such coupon: 'SAVE20'",
                code="resource_missing",
                param="flow_data[subscription_cancel][retention][coupon_offer][coupon]",
            ),
        )
        with pytest.raises(StripeInvalidRequestError) as info:
            make_link(customer="cus_1", subscription="sub_1", coupon="SAVE20")
        assert info.value.param == (
            "flow_data[subscription_cancel][retention][coupon_offer][coupon]"
        )


class TestPortalLink:
    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_homepage_session(self, flow, recorder, mode):
        """create_portal_link makes a plain portal session: no flow_data."""
        if mode == "sync":
            link = flow.create_portal_link(customer="cus_1", locale="fr-ca")
        else:
            link = asyncio.run(flow.create_portal_link_async(customer="cus_1"))
        (post,) = session_posts(recorder)
        assert not any(key.startswith("flow_data") for key in post.form)
        assert post.form["return_url"] == "https://example.com/account"
        assert isinstance(link, PortalLink)
        assert link.customer_id == "cus_1"
        assert link.session.flow_type is None
        assert link.url not in repr(link)

    def test_the_alternative_for_scheduled_subscriptions(self, flow, recorder):
        """After an already-scheduled refusal, the portal link works for the customer."""
        recorder.subscriptions["sub_1"] = subscription_json(cancel_at_period_end=True)
        with pytest.raises(SubscriptionAlreadyScheduledError):
            flow.create_cancel_link(customer="cus_1", subscription="sub_1")
        assert flow.create_portal_link(customer="cus_1").url.startswith("https://")

    def test_bad_input(self, flow, recorder):
        """A bad customer id or URL is refused before Stripe."""
        with pytest.raises(InvalidParameterError):
            flow.create_portal_link(customer="sub_1")
        with pytest.raises(DisallowedURLError):
            flow.create_portal_link(customer="cus_1", return_url="https://evil.com")
        assert recorder.requests == []

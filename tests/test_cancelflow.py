"""Cancelflow through stripe-python to the recording client, sync and async.

Here: the exact form fields and headers Stripe receives, the order of calls,
and refusals that must make no request at all. The flows against a stateful
Stripe account (links a portal can open, refusals caused by real objects) run
on FakeStripe in ``test_cancelflow_fake.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from cancelflow import (
    AllowedHosts,
    Cancelflow,
    CancelLink,
    HostedConfirmation,
    MemoryLedger,
    PortalHomepage,
    PortalLink,
    Redirect,
    StripeGateway,
)
from cancelflow.exceptions import (
    CouponNotFoundError,
    CouponNotValidError,
    DisallowedURLError,
    InvalidParameterError,
    StripeInvalidRequestError,
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
    @pytest.mark.parametrize("status", ["incomplete_expired"])
    def test_ended(self, make_link, recorder, status):
        """An ended subscription is refused with its status (FakeStripe models no
        incomplete_expired; canceled is tested in test_cancelflow_fake.py)."""
        recorder.subscriptions["sub_1"] = subscription_json(status=status)
        with pytest.raises(SubscriptionNotCancelableError) as info:
            make_link(customer="cus_1", subscription="sub_1")
        assert info.value.status == status
        assert status in str(info.value)
        assert session_posts(recorder) == []


class TestRefusedCoupon:
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
        # the coupon's cached facts were forgotten: the next link fetches them
        before = len(recorder.calls("get", "/v1/coupons/"))
        make_link(customer="cus_1", subscription="sub_1", coupon="SAVE20")
        assert len(recorder.calls("get", "/v1/coupons/")) == before + 1


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

    def test_bad_input(self, flow, recorder):
        """A bad customer id or URL is refused before Stripe."""
        with pytest.raises(InvalidParameterError):
            flow.create_portal_link(customer="sub_1")
        with pytest.raises(DisallowedURLError):
            flow.create_portal_link(customer="cus_1", return_url="https://evil.com")
        assert recorder.requests == []


def test_an_mrr_no_ledger_can_store_still_records_the_link(recorder):
    """A subscription whose items' MRR adds up beyond 64 bits (each item within
    range) still gets its cancel link recorded, without an MRR, instead of
    losing the link Stripe made."""
    sub = subscription_json(customer="cus_1", unit_amount=2**50, quantity=2**4)
    item = sub["items"]["data"][0]
    sub["items"]["data"] = [{**item, "id": f"si_{n}"} for n in range(2**10)]
    recorder.subscriptions["sub_1"] = sub
    ledger = MemoryLedger()
    flow = Cancelflow(
        recorder.client(),
        allowed_hosts=["example.com"],
        clock=lambda: NOW,
        ledger=ledger,
    )
    link = flow.create_cancel_link(customer="cus_1", subscription="sub_1")
    (record,) = ledger.links()
    assert record.session_id == link.session_id
    assert record.mrr is None


class ConcurrentRecorder(RecordingHTTPClient):
    """Answers the subscription only once the coupon's request has started, so
    that a flow asking for them one after the other never finishes."""

    def __init__(self) -> None:
        super().__init__()
        self.coupon_started: asyncio.Event | None = None

    async def request_async(self, method, url, headers, post_data=None):
        if self.coupon_started is None:
            self.coupon_started = asyncio.Event()
        if "/v1/coupons/" in url:
            self.coupon_started.set()
        elif "/v1/subscriptions/" in url:
            await asyncio.wait_for(self.coupon_started.wait(), timeout=10)
        return self._handle(method, url, headers, post_data)


class TestRoundTrips:
    def test_sync_takes_the_coupon_from_a_fresh_cache(self, flow, recorder):
        """The first link reads subscription, coupon, session (3 requests); a
        later one, with the coupon's facts fresh in the cache, reads 2."""
        flow.create_cancel_link(customer="cus_1", subscription="sub_1", coupon="SAVE20")
        assert len(recorder.requests) == 3
        recorder.requests.clear()
        link = flow.create_cancel_link(
            customer="cus_1", subscription="sub_1", coupon="SAVE20"
        )
        assert [(r.method, r.path) for r in recorder.requests] == [
            ("get", "/v1/subscriptions/sub_1"),
            ("post", SESSIONS),
        ]
        assert link.coupon_id == "SAVE20"

    def test_a_stale_cache_is_refreshed(self, recorder):
        """Past coupon_ttl the coupon is read again."""
        flow = Cancelflow(
            recorder.client(), allowed_hosts=["example.com"], coupon_ttl=0
        )
        for _ in range(2):
            flow.create_cancel_link(
                customer="cus_1", subscription="sub_1", coupon="SAVE20"
            )
        assert len(recorder.calls("get", "/v1/coupons/")) == 2

    def test_async_fetches_subscription_and_coupon_at_once(self):
        """The async link asks for the coupon while the subscription is on its
        way (the recorder answers the subscription only after the coupon's
        request started): two requests on the critical path."""
        recorder = ConcurrentRecorder()
        recorder.subscriptions["sub_1"] = subscription_json(customer="cus_1")
        recorder.coupons["SAVE20"] = coupon_json("SAVE20", percent_off=20.0)
        flow = Cancelflow(recorder.client(), allowed_hosts=["example.com"])
        link = asyncio.run(
            flow.create_cancel_link_async(
                customer="cus_1", subscription="sub_1", coupon="SAVE20"
            )
        )
        assert link.coupon_id == "SAVE20"
        assert [r.path for r in recorder.requests][-1] == SESSIONS
        assert len(recorder.requests) == 3
        recorder.requests.clear()  # warm: no coupon request at all
        asyncio.run(
            flow.create_cancel_link_async(
                customer="cus_1", subscription="sub_1", coupon="SAVE20"
            )
        )
        assert [r.path for r in recorder.requests] == [
            "/v1/subscriptions/sub_1",
            SESSIONS,
        ]

    def test_the_subscription_decides_before_the_coupon(self, make_link, recorder):
        """Fetched together or not, a missing or foreign subscription is the
        error, not the coupon's problem."""
        with pytest.raises(SubscriptionNotFoundError):
            make_link(customer="cus_1", subscription="sub_404", coupon="NOPE")
        with pytest.raises(SubscriptionOwnershipError):
            make_link(customer="cus_2", subscription="sub_1", coupon="NOPE")
        with pytest.raises(CouponNotFoundError):
            make_link(customer="cus_1", subscription="sub_1", coupon="NOPE")
        assert session_posts(recorder) == []

    def test_a_missing_coupon_is_not_remembered(self, make_link, recorder):
        """A coupon created right after a refusal is found by the next link."""
        with pytest.raises(CouponNotFoundError):
            make_link(customer="cus_1", subscription="sub_1", coupon="LATER")
        recorder.coupons["LATER"] = coupon_json("LATER", percent_off=10.0)
        assert (
            make_link(customer="cus_1", subscription="sub_1", coupon="LATER").coupon_id
            == "LATER"
        )

"""Cancelflow end to end on FakeStripe: real objects, real refusals, sync and async.

The exact form fields Stripe receives are asserted through the recording
client in ``test_cancelflow.py``; here Cancelflow runs against a stateful
Stripe account, so each refusal comes from objects in the state that causes
it, and each link is a session the fake portal can open.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from cancelflow import (
    Cancelflow,
    HostedConfirmation,
    MemoryLedger,
    PortalLink,
    Redirect,
)
from cancelflow.exceptions import (
    CancelLinkRefusedError,
    CouponCurrencyMismatchError,
    CouponForeverAmountOffError,
    CouponNotApplicableError,
    CouponNotFoundError,
    CouponNotValidError,
    LedgerError,
    LinkNotRecordedError,
    StripeInvalidRequestError,
    StripeResourceMissingError,
    StripeServerError,
    SubscriptionAlreadyScheduledError,
    SubscriptionNotCancelableError,
    SubscriptionNotFoundError,
    SubscriptionOwnershipError,
)
from cancelflow.testing import FakeStripe


class Shop:
    """A fake account with a product, a monthly EUR price and saved portal settings."""

    def __init__(self, *, configure: bool = True) -> None:
        self.fake = FakeStripe()
        self.client = self.fake.client()
        self.product = self.client.v1.products.create(params={"name": "Pro"}).id
        self.price = self.client.v1.prices.create(
            params={
                "currency": "eur",
                "unit_amount": 1500,
                "recurring": {"interval": "month"},
                "product": self.product,
            }
        ).id
        if configure:  # the account's default configuration, saved in the Dashboard
            self.fake.dashboard.save_portal_settings(
                features={"subscription_cancel": {"enabled": True}}
            )
        self.flow = Cancelflow(
            self.client,
            allowed_hosts=["example.com"],
            return_url="https://example.com/account",
            clock=self.fake.clock.now,
        )

    def subscribe(
        self, mode: str = "classic", customer: str | None = None
    ) -> tuple[str, str]:
        customer = customer or self.client.v1.customers.create().id
        sub = self.client.v1.subscriptions.create(
            params={
                "customer": customer,
                "items": [{"price": self.price}],
                "billing_mode": {"type": mode},
            }
        )
        return customer, sub.id

    def coupon(self, **params) -> str:
        return self.client.v1.coupons.create(params={"duration": "once", **params}).id

    @property
    def sessions(self) -> int:
        return len(self.fake.backend.portal_sessions)


@pytest.fixture(name="shop")
def _shop() -> Shop:
    return Shop()


@pytest.fixture(name="make_link", params=["sync", "async"])
def _make_link(request, shop):
    """create_cancel_link on the shop's Cancelflow, called the sync or the async way."""

    def call(**kwargs):
        if request.param == "sync":
            return shop.flow.create_cancel_link(**kwargs)
        return asyncio.run(shop.flow.create_cancel_link_async(**kwargs))

    return call


class TestCreated:
    def test_the_link_opens_the_cancel_page_with_the_offer(self, shop, make_link):
        """The link is a portal session the customer can open on the cancel page, with the coupon."""
        customer, sub = shop.subscribe()
        coupon = shop.coupon(id="SAVE20", percent_off=20)
        link = make_link(
            customer=customer,
            subscription=sub,
            coupon=coupon,
            after_completion=Redirect("https://example.com/cancelled"),
            locale="fr",
        )
        assert (link.subscription_id, link.customer_id, link.coupon_id) == (
            sub,
            customer,
            "SAVE20",
        )
        assert link.coupon is not None
        assert link.coupon.percent_off == 20.0
        visit = shop.fake.portal.visit(link.url)
        assert visit.session_id == link.session_id
        assert (visit.flow_type, visit.subscription_id) == ("subscription_cancel", sub)
        assert visit.coupon_id == "SAVE20"
        assert visit.locale == "fr"
        assert visit.return_url == "https://example.com/account"
        assert visit.after_completion["redirect"] == {
            "return_url": "https://example.com/cancelled"
        }

    def test_without_coupon_and_with_a_hosted_confirmation(self, shop, make_link):
        """Without a coupon the page offers none; the confirmation message is kept."""
        customer, sub = shop.subscribe()
        link = make_link(
            customer=customer,
            subscription=sub,
            after_completion=HostedConfirmation("Merci, à bientôt"),
        )
        visit = shop.fake.portal.visit(link.url)
        assert (link.coupon, visit.coupon_id) == (None, None)
        assert visit.after_completion["hosted_confirmation"] == {
            "custom_message": "Merci, à bientôt"
        }

    def test_amount_coupon_with_an_option_in_the_currency(self, shop, make_link):
        """An amount_off coupon with a currency option in EUR fits an EUR subscription."""
        customer, sub = shop.subscribe()
        coupon = shop.coupon(
            id="EUR5",
            amount_off=600,
            currency="usd",
            currency_options={"eur": {"amount_off": 500}},
        )
        link = make_link(customer=customer, subscription=sub, coupon=coupon)
        assert link.coupon is not None
        assert link.coupon.amount_off_in("eur") == 500


class TestRefusedSubscription:
    def test_not_found(self, shop, make_link):
        """A subscription the account does not have: SubscriptionNotFoundError, no session."""
        customer, _ = shop.subscribe()
        with pytest.raises(SubscriptionNotFoundError) as info:
            make_link(customer=customer, subscription="sub_missing")
        assert isinstance(info.value, LookupError)
        assert info.value.subscription_id == "sub_missing"
        assert isinstance(info.value.__cause__, StripeResourceMissingError)
        assert shop.sessions == 0

    def test_another_customers_subscription(self, shop, make_link):
        """Someone else's (ended) subscription is refused without naming its owner or state."""
        owner, sub = shop.subscribe()
        shop.client.v1.subscriptions.cancel(sub)
        stranger = shop.client.v1.customers.create().id
        with pytest.raises(SubscriptionOwnershipError) as info:
            make_link(customer=stranger, subscription=sub)
        assert owner not in str(info.value)
        assert "canceled" not in str(info.value)
        assert shop.sessions == 0

    def test_ended(self, shop, make_link):
        """A canceled subscription is refused with its status."""
        customer, sub = shop.subscribe()
        shop.client.v1.subscriptions.cancel(sub)
        with pytest.raises(SubscriptionNotCancelableError) as info:
            make_link(customer=customer, subscription=sub)
        assert info.value.status == "canceled"
        assert shop.sessions == 0

    def test_ended_by_time(self, shop, make_link):
        """A subscription that reached its scheduled end is refused as ended."""
        customer, sub = shop.subscribe()
        shop.client.v1.subscriptions.update(sub, params={"cancel_at_period_end": True})
        shop.fake.clock.advance(dt.timedelta(days=40))
        with pytest.raises(SubscriptionNotCancelableError):
            make_link(customer=customer, subscription=sub)

    @pytest.mark.parametrize(
        ("mode", "params"),
        [
            ("classic", {"cancel_at_period_end": True}),
            ("flexible", {"cancel_at": "max_period_end"}),
        ],
    )
    def test_already_scheduled(self, shop, make_link, mode, params):
        """Scheduled in either billing mode: refused with the date, pointing to the homepage."""
        customer, sub = shop.subscribe(mode)
        scheduled = shop.client.v1.subscriptions.update(sub, params=params)
        with pytest.raises(SubscriptionAlreadyScheduledError) as info:
            make_link(customer=customer, subscription=sub)
        assert info.value.cancel_at == scheduled.cancel_at
        assert "already scheduled to cancel on 2026-02-01" in str(info.value)
        assert "create_portal_link" in str(info.value)
        assert shop.sessions == 0

    def test_every_refusal_is_a_cancel_link_refusal(self, shop, make_link):
        """Refusals share CancelLinkRefusedError, so one except clause catches them."""
        customer, _ = shop.subscribe()
        with pytest.raises(CancelLinkRefusedError):
            make_link(customer=customer, subscription="sub_missing")

    def test_server_errors_stay_stripe_errors(self, shop, make_link):
        """A 500 from Stripe is a StripeServerError, not a refusal."""
        customer, sub = shop.subscribe()
        shop.fake.faults.fail_next("subscriptions.retrieve", "api_error")
        with pytest.raises(StripeServerError):
            make_link(customer=customer, subscription=sub)
        assert not issubclass(StripeServerError, CancelLinkRefusedError)


class TestRefusedCoupon:
    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({"percent_off": 10, "max_redemptions": 1}, CouponNotValidError),
            ({"percent_off": 10, "applies_to": "other"}, CouponNotApplicableError),
            ({"amount_off": 500, "currency": "usd"}, CouponCurrencyMismatchError),
            (
                {"amount_off": 500, "currency": "eur", "duration": "forever"},
                CouponForeverAmountOffError,
            ),
        ],
    )
    def test_coupon_problems(self, shop, make_link, params, error):
        """Each coupon the subscription cannot take is refused before any session."""
        customer, sub = shop.subscribe()
        if params.get("applies_to") == "other":
            other = shop.client.v1.products.create(params={"name": "Other"}).id
            params = {**params, "applies_to": {"products": [other]}}
        coupon = shop.coupon(id="C", **params)
        if "max_redemptions" in params:  # use it up on another subscription
            _, used = shop.subscribe()
            shop.client.v1.subscriptions.update(
                used, params={"discounts": [{"coupon": coupon}]}
            )
        with pytest.raises(error) as info:
            make_link(customer=customer, subscription=sub, coupon=coupon)
        assert (info.value.coupon_id, info.value.subscription_id) == ("C", sub)
        assert shop.sessions == 0

    def test_past_redeem_by_on_the_fake_clock(self, shop, make_link):
        """A coupon past its redeem_by (the fake clock has moved) is not valid."""
        customer, sub = shop.subscribe()
        coupon = shop.coupon(
            id="SOON", percent_off=10, redeem_by=shop.fake.clock.now() + 3600
        )
        assert make_link(customer=customer, subscription=sub, coupon=coupon).url
        _, later_sub = shop.subscribe(customer=customer)
        shop.fake.clock.advance(7200)
        with pytest.raises(CouponNotValidError, match="redeem_by"):
            make_link(customer=customer, subscription=later_sub, coupon=coupon)

    def test_coupon_not_found(self, shop, make_link):
        """A coupon the account does not have is refused with CouponNotFoundError."""
        customer, sub = shop.subscribe()
        with pytest.raises(CouponNotFoundError) as info:
            make_link(customer=customer, subscription=sub, coupon="NOPE")
        assert isinstance(info.value, LookupError)
        assert shop.sessions == 0


class TestStripeRefusesTheSession:
    def test_no_portal_configuration(self):
        """Without a saved portal configuration, Stripe's own refusal comes through."""
        shop = Shop(configure=False)
        customer, sub = shop.subscribe()
        with pytest.raises(
            StripeInvalidRequestError, match="save your customer portal"
        ):
            shop.flow.create_cancel_link(customer=customer, subscription=sub)

    def test_cancel_disabled_in_the_configuration(self):
        """A configuration that does not allow cancels makes Stripe refuse the deep link."""
        shop = Shop(configure=False)
        shop.fake.dashboard.save_portal_settings(
            features={"invoice_history": {"enabled": True}}
        )
        customer, sub = shop.subscribe()
        with pytest.raises(StripeInvalidRequestError) as info:
            shop.flow.create_cancel_link(customer=customer, subscription=sub)
        assert info.value.param == "flow_data[type]"


class TestPortalLink:
    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_homepage_for_a_scheduled_subscription(self, shop, mode):
        """After an already-scheduled refusal, the homepage link lets the customer renew."""
        customer, sub = shop.subscribe()
        shop.client.v1.subscriptions.update(sub, params={"cancel_at_period_end": True})
        with pytest.raises(SubscriptionAlreadyScheduledError):
            shop.flow.create_cancel_link(customer=customer, subscription=sub)
        if mode == "sync":
            link = shop.flow.create_portal_link(customer=customer, locale="fr")
        else:
            link = asyncio.run(shop.flow.create_portal_link_async(customer=customer))
        assert isinstance(link, PortalLink)
        visit = shop.fake.portal.visit(link.url)
        assert visit.flow_type is None
        visit.renew()
        assert not shop.client.v1.subscriptions.retrieve(sub).cancel_at_period_end


class FailingLedger(MemoryLedger):
    """A ledger whose store is down when a link is recorded."""

    def record_link(self, link):
        raise LedgerError("the ledger's disk is full")


@pytest.mark.parametrize("way", ["sync", "async"])
def test_a_ledger_failure_hands_the_link_over(shop, way):
    """When the ledger cannot record the link, the error carries the valid link and its record."""
    flow = Cancelflow(
        shop.client,
        allowed_hosts=["example.com"],
        return_url="https://example.com/account",
        clock=shop.fake.clock.now,
        ledger=FailingLedger(),
    )
    customer, sub = shop.subscribe()
    with pytest.raises(LinkNotRecordedError, match="disk is full") as caught:
        if way == "sync":
            flow.create_cancel_link(customer=customer, subscription=sub)
        else:
            asyncio.run(
                flow.create_cancel_link_async(customer=customer, subscription=sub)
            )
    error = caught.value
    assert isinstance(error, LedgerError)
    assert error.record.session_id == error.link.session_id
    visit = shop.fake.portal.visit(error.link.url)  # the session is real and usable
    assert visit.subscription_id == sub
    later = MemoryLedger()
    later.record_link(error.record)
    assert [link.session_id for link in later.links()] == [error.link.session_id]


# -- a managed portal configuration (portal configuration as code) ------------------------

MANAGED = """
[configurations.cancel-page.features.subscription_cancel]
enabled = true
mode = "immediately"

[configurations.cancel-page.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "other"]
"""


def _counted(shop: Shop):
    import stripe

    from fake_support import Counting

    counter = Counting(shop.fake.http_client)
    return stripe.StripeClient("sk_test_counted", http_client=counter), counter


@pytest.mark.parametrize("way", ["sync", "async"])
def test_a_managed_configuration_is_looked_up_once(way):
    """Cancelflow given a declared configuration finds its bpc_ id once, then every
    session (cancel links and portal links) uses it."""
    from cancelflow import apply_portal_config, parse_portal_config

    shop = Shop()
    config = parse_portal_config(MANAGED)
    applied = apply_portal_config(shop.client, config)
    client, counter = _counted(shop)
    flow = Cancelflow(
        client,
        allowed_hosts=["example.com"],
        configuration=config["cancel-page"],
        clock=shop.fake.clock.now,
    )
    assert flow.configuration is None
    assert "<managed 'cancel-page'>" in repr(flow)
    links = []
    for _ in range(2):
        customer, sub = shop.subscribe()
        if way == "sync":
            links.append(flow.create_cancel_link(customer=customer, subscription=sub))
        else:
            links.append(
                asyncio.run(
                    flow.create_cancel_link_async(customer=customer, subscription=sub)
                )
            )
    home = flow.create_portal_link(customer=links[0].customer_id)
    expected = applied.configuration_ids["cancel-page"]
    assert flow.configuration == expected
    assert [link.session.configuration for link in links] == [expected, expected]
    assert home.session.configuration == expected
    lists = [
        c for c in counter.calls if c == ("get", "/v1/billing_portal/configurations")
    ]
    assert len(lists) == 1
    visit = shop.fake.portal.visit(links[1].url)
    assert list(visit.cancellation_reasons) == ["too_expensive", "other"]


def test_a_managed_configuration_not_applied_yet_is_refused():
    """Without an apply, no configuration carries the key: a clear error, no session."""
    from cancelflow import parse_portal_config
    from cancelflow.exceptions import ManagedConfigurationNotFoundError

    shop = Shop()
    flow = Cancelflow(
        shop.client,
        allowed_hosts=["example.com"],
        configuration=parse_portal_config(MANAGED)["cancel-page"],
    )
    customer, sub = shop.subscribe()
    with pytest.raises(
        ManagedConfigurationNotFoundError, match="apply the file"
    ) as caught:
        flow.create_cancel_link(customer=customer, subscription=sub)
    assert caught.value.key_path == "configurations.cancel-page"
    assert isinstance(caught.value, LookupError)
    assert not [
        e
        for e in shop.fake.backend.events.store.by_id.values()
        if e.obj["type"] == "billing_portal.session.created"
    ]


def test_an_inactive_managed_configuration_is_refused():
    """A managed configuration someone deactivated is not used silently."""
    from cancelflow import apply_portal_config, parse_portal_config
    from cancelflow.exceptions import ManagedConfigurationNotFoundError

    shop = Shop()
    config = parse_portal_config(MANAGED)
    applied = apply_portal_config(shop.client, config)
    shop.client.v1.billing_portal.configurations.update(
        applied.configuration_ids["cancel-page"], params={"active": False}
    )
    flow = Cancelflow(
        shop.client, allowed_hosts=["example.com"], configuration=config["cancel-page"]
    )
    with pytest.raises(ManagedConfigurationNotFoundError, match="is inactive"):
        flow.create_portal_link(customer=shop.subscribe()[0])


def test_a_managed_default_configuration_resolves_to_the_default():
    """A declaration matched as the default resolves to the account's default id."""
    from cancelflow import parse_portal_config

    shop = Shop()
    default = shop.client.v1.billing_portal.configurations.list(
        params={"is_default": True}
    ).data[0]
    config = parse_portal_config('[configurations.main]\nmatch = "default"\n')
    flow = Cancelflow(
        shop.client, allowed_hosts=["example.com"], configuration=config["main"]
    )
    link = flow.create_portal_link(customer=shop.subscribe()[0])
    assert link.session.configuration == default.id


def test_configuration_of_another_kind_is_refused():
    """A configuration that is neither an id nor a declaration is refused by name."""
    from cancelflow import parse_portal_config
    from cancelflow.exceptions import InvalidParameterError

    shop = Shop()
    with pytest.raises(
        InvalidParameterError, match="expected a bpc_… id or a PortalConfigSpec"
    ):
        Cancelflow(
            shop.client,
            allowed_hosts=["example.com"],
            configuration=parse_portal_config(MANAGED),  # type: ignore[arg-type]
        )


def test_two_configurations_with_the_managed_key_are_not_guessed_between():
    """If two configurations carry the key, Cancelflow says so instead of picking one."""
    from cancelflow import parse_portal_config
    from cancelflow.exceptions import PortalConfigMatchError

    shop = Shop()
    for _ in range(2):
        shop.client.v1.billing_portal.configurations.create(
            params={
                "features": {"subscription_cancel": {"enabled": True}},
                "metadata": {"cancelflow_config": "cancel-page"},
            }
        )
    flow = Cancelflow(
        shop.client,
        allowed_hosts=["example.com"],
        configuration=parse_portal_config(MANAGED)["cancel-page"],
    )
    with pytest.raises(PortalConfigMatchError, match="2 configurations carry"):
        flow.create_portal_link(customer=shop.subscribe()[0])
    assert flow.configuration is None

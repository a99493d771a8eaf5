"""Hypothesis strategies for tests against FakeStripe (``pip install cancelflow[testing]``).

* `customers` — ``customers.create`` parameters.
* `subscription_shapes` — `SubscriptionShape`: billing mode,
  currency, items (interval, count, amount, quantity) and trial; its
  `create` makes the product, prices and
  subscription on a fake (or any ``stripe.StripeClient``).
* `portal_configurations` — ``billing_portal.configurations.create``
  parameters whose cancel feature is valid for Stripe (mode, prorations,
  reasons).
* `portal_scenarios` — `PortalScenario`: a subscription, a
  configuration, maybe a retention coupon, what the customer does on the
  cancel page (cancel with a reason, redeem the offer, leave), maybe a
  renewal on the homepage, and time passing; `run`
  plays it on a fake and returns the events.
* `event_sequences` — the events of such a scenario played on a fresh
  FakeStripe: for property tests of webhook handlers.

Every strategy draws only what Stripe (and the fake) accept, so a failing
example is a bug in the code under test, not in the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
from hypothesis import strategies as st

from cancelflow.testing._fake import FakeStripe

if TYPE_CHECKING:
    import stripe

__all__ = [
    "CURRENCIES",
    "REASONS",
    "ItemShape",
    "PortalScenario",
    "SubscriptionShape",
    "customers",
    "event_sequences",
    "portal_configurations",
    "portal_scenarios",
    "subscription_shapes",
]

JSON = dict[str, Any]

CURRENCIES: Final = ("usd", "eur", "gbp", "jpy")
"""The currencies drawn by default."""
REASONS: Final = (
    "too_expensive",
    "missing_features",
    "switched_service",
    "unused",
    "customer_service",
    "too_complex",
    "low_quality",
    "other",
)
"""Stripe's eight cancellation reasons (wire values, in the portal's order)."""
_INTERVALS: Final = (("day", 7), ("week", 4), ("month", 12), ("year", 1))
"""Each interval with the largest ``interval_count`` drawn."""
_LOCALES: Final = ("en", "fr", "de", "es", "ja")
_COUNTRIES: Final = ("US", "FR", "DE", "GB", "JP", "CA")


# -- customers --------------------------------------------------------------------------


def customers() -> st.SearchStrategy[JSON]:
    """Parameters for ``customers.create``: email, name, locales, country, metadata.

    Returns:
        A strategy of parameter dicts.

    Example:
        ```python
        from hypothesis import given, settings

        from cancelflow.testing import strategies

        @settings(max_examples=3, database=None, deadline=None)
        @given(strategies.customers())
        def check(value):
            assert isinstance(value, dict)

        check()
        ```
    """
    name = st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
        min_size=1,
        max_size=40,
    ).filter(str.strip)
    email = st.from_regex(r"\A[a-z][a-z0-9.]{0,15}@example\.(com|org|fr)\Z")
    metadata = st.dictionaries(
        st.from_regex(r"\A[a-z][a-z0-9_]{0,19}\Z"),
        st.text(
            st.characters(codec="utf-8", exclude_categories=["Cs"]),
            min_size=1,  # "" unsets a key
            max_size=50,
        ),
        max_size=3,
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "email": email,
            "name": name,
            "preferred_locales": st.lists(
                st.sampled_from(_LOCALES), min_size=1, max_size=2, unique=True
            ),
            "address": st.builds(lambda c: {"country": c}, st.sampled_from(_COUNTRIES)),
            "metadata": metadata,
        },
    )


# -- subscriptions ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ItemShape:
    """One subscription item: its recurring price and quantity.

    Attributes:
        interval: ``day``, ``week``, ``month`` or ``year``.
        interval_count: bill every *interval_count* intervals.
        unit_amount: the price, in the currency's minor unit.
        quantity: how many.
    """

    interval: str
    interval_count: int
    unit_amount: int
    quantity: int


@attrs.frozen(kw_only=True)
class SubscriptionShape:
    """What a subscription looks like, before it exists.

    Attributes:
        billing_mode: ``classic`` (all items bill on one interval) or ``flexible``.
        currency: the prices' currency.
        items: one or more items.
        trial_days: a trial of this many days, or ``None``.
    """

    billing_mode: str
    currency: str
    items: tuple[ItemShape, ...]
    trial_days: int | None

    def create_params(self, customer: str, prices: Sequence[str]) -> JSON:
        """Return `subscriptions.create` parameters for this shape.

        Args:
            customer: the `cus_…` id.
            prices: one `price_…` id per item, in order.

        Returns:
            The parameters.
        """
        params: JSON = {
            "customer": customer,
            "billing_mode": {"type": self.billing_mode},
            "items": [
                {"price": price, "quantity": item.quantity}
                for price, item in zip(prices, self.items, strict=True)
            ],
        }
        if self.trial_days is not None:
            params["trial_period_days"] = self.trial_days
        return params

    def create(
        self, client: stripe.StripeClient, *, customer: str | None = None
    ) -> stripe.Subscription:
        """Create a product, one price per item, a customer (unless given) and the subscription.

        Args:
            client: a `stripe.StripeClient` (of a `FakeStripe`, usually).
            customer: the `cus_…` id; a new customer when `None`.

        Returns:
            The `stripe.Subscription` created.
        """
        if customer is None:
            customer = client.v1.customers.create().id
        product = client.v1.products.create(params={"name": "Plan"}).id
        prices = [
            client.v1.prices.create(
                params={
                    "currency": self.currency,
                    "unit_amount": item.unit_amount,
                    "product": product,
                    "recurring": {
                        "interval": item.interval,
                        "interval_count": item.interval_count,
                    },
                }
            ).id
            for item in self.items
        ]
        return client.v1.subscriptions.create(
            params=self.create_params(customer, prices)  # type: ignore[arg-type]
        )


@st.composite
def _item(draw: st.DrawFn, interval: tuple[str, int] | None) -> ItemShape:
    name, most = interval if interval is not None else draw(st.sampled_from(_INTERVALS))
    count = draw(st.integers(1, most)) if interval is None else most
    return ItemShape(
        interval=name,
        interval_count=count,
        unit_amount=draw(st.integers(50, 100_000)),
        quantity=draw(st.integers(1, 20)),
    )


@st.composite
def _shape(
    draw: st.DrawFn,
    billing_modes: Sequence[str],
    currencies: Sequence[str],
    max_items: int,
    trials: bool,
) -> SubscriptionShape:
    mode = draw(st.sampled_from(billing_modes))
    size = draw(st.integers(1, max_items))
    if mode == "classic":  # one interval for every item
        name, most = draw(st.sampled_from(_INTERVALS))
        shared = (name, draw(st.integers(1, most)))
        items = [draw(_item(shared)) for _ in range(size)]
    else:
        items = [draw(_item(None)) for _ in range(size)]
    trial = draw(st.one_of(st.none(), st.integers(1, 30))) if trials else None
    return SubscriptionShape(
        billing_mode=mode,
        currency=draw(st.sampled_from(currencies)),
        items=tuple(items),
        trial_days=trial,
    )


def subscription_shapes(
    *,
    billing_modes: Sequence[str] = ("classic", "flexible"),
    currencies: Sequence[str] = CURRENCIES,
    max_items: int = 3,
    trials: bool = True,
) -> st.SearchStrategy[SubscriptionShape]:
    """`SubscriptionShape` values: billing modes, intervals, quantities, trials, currencies.

    In classic mode every item shares one interval (Stripe's rule); in
    flexible mode items mix intervals. ``trials=False`` draws no trials.

    Args:
        billing_modes: the billing modes to draw from.
        currencies: the currencies to draw from.
        max_items: the most items a subscription has.
        trials: whether some subscriptions start with a trial.

    Returns:
        A strategy of [`SubscriptionShape`][cancelflow.testing.strategies.SubscriptionShape]s.

    Example:
        ```python
        from hypothesis import given, settings

        from cancelflow.testing import strategies

        @settings(max_examples=3, database=None, deadline=None)
        @given(strategies.subscription_shapes(currencies=["eur"], trials=False))
        def check(value):
            assert value.currency == "eur" and 1 <= len(value.items) <= 3

        check()
        ```
    """
    return _shape(tuple(billing_modes), tuple(currencies), max_items, trials)


# -- portal configurations --------------------------------------------------------------


@st.composite
def _configuration(draw: st.DrawFn, cancel_enabled: bool | None) -> JSON:
    mode = draw(st.sampled_from(("at_period_end", "immediately")))
    proration = (
        draw(st.sampled_from(("none", "create_prorations")))
        if mode == "immediately"
        else "none"
    )
    reasons_on = draw(st.booleans())
    options = draw(st.lists(st.sampled_from(REASONS), min_size=1, unique=True))
    enabled = draw(st.booleans()) if cancel_enabled is None else cancel_enabled
    return {
        "features": {
            "subscription_cancel": {
                "enabled": enabled,
                "mode": mode,
                "proration_behavior": proration,
                "cancellation_reason": {"enabled": reasons_on, "options": options},
            }
        }
    }


def portal_configurations(
    *, cancel_enabled: bool | None = True
) -> st.SearchStrategy[JSON]:
    """``billing_portal.configurations.create`` parameters for the cancel feature.

    Draws ``mode`` (``at_period_end``/``immediately``), a ``proration_behavior``
    Stripe accepts with it, and reasons (on or off, a non-empty subset of
    `REASONS`). ``cancel_enabled=None`` also draws a disabled cancel.

    Args:
        cancel_enabled: whether the cancel feature is on; `None` draws both.

    Returns:
        A strategy of parameter dicts.

    Example:
        ```python
        from hypothesis import given, settings

        from cancelflow.testing import strategies

        @settings(max_examples=3, database=None, deadline=None)
        @given(strategies.portal_configurations())
        def check(value):
            assert value["features"]["subscription_cancel"]["enabled"] is True

        check()
        ```
    """
    return _configuration(cancel_enabled)


# -- portal scenarios -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PortalScenario:
    """One customer's visit to a cancel deep link, and what happens after.

    Attributes:
        subscription: the subscription's shape.
        configuration: the portal configuration's create parameters.
        coupon: the retention coupon's create parameters (with ``id``), or ``None``.
        action: ``cancel``, ``accept_offer`` or ``abandon``.
        feedback: the reason picked when cancelling (``None``: none).
        comment: the free text (only with ``other``).
        renew: whether the customer then renews on the portal's homepage
            (only after a cancel at period end).
        wait_days: the days that pass before the visit (the session is
            created just before it).
        then_days: the days that pass after everything.
    """

    subscription: SubscriptionShape
    configuration: JSON
    coupon: JSON | None
    action: str
    feedback: str | None
    comment: str | None
    renew: bool
    wait_days: int
    then_days: int

    def run(self, fake: FakeStripe | None = None) -> list[JSON]:
        """Play the scenario on a fake account and return its events.

        The events are every event the account emitted, oldest first, as
        ``events.list`` returns them (dicts), setup included.

        Args:
            fake: the account to play it on; a fresh `FakeStripe` when `None`.

        Returns:
            Every event the account emitted, oldest first.
        """
        fake = FakeStripe() if fake is None else fake
        client = fake.client()
        events = fake.backend.events.store
        first = len(events.order.ids)
        config = client.v1.billing_portal.configurations.create(
            params=self.configuration  # type: ignore[arg-type]
        )
        if self.coupon is not None:
            client.v1.coupons.create(params=self.coupon)  # type: ignore[arg-type]
        customer = client.v1.customers.create().id
        sub = self.subscription.create(client, customer=customer)
        fake.clock.advance(self.wait_days * 86_400)
        flow: JSON = {
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": sub.id},
        }
        if self.coupon is not None:
            flow["subscription_cancel"]["retention"] = {
                "type": "coupon_offer",
                "coupon_offer": {"coupon": self.coupon["id"]},
            }
        params: Any = {
            "customer": customer,
            "configuration": config.id,
            "flow_data": flow,
        }
        session = client.v1.billing_portal.sessions.create(params=params)
        visit = fake.portal.visit(session.url)
        if self.action == "cancel":
            visit.cancel(feedback=self.feedback, comment=self.comment)
        elif self.action == "accept_offer":
            visit.accept_offer()
        else:
            visit.abandon()
        if self.renew:
            fake.clock.advance(3600)
            home = client.v1.billing_portal.sessions.create(
                params={"customer": customer, "configuration": config.id}
            )
            fake.portal.visit(home.url).renew(sub.id)
        fake.clock.advance(self.then_days * 86_400)
        return [events.by_id[i].obj for i in events.order.ids[first:]]


def _coupon(currency: str) -> st.SearchStrategy[JSON]:
    percent = st.fixed_dictionaries(
        {
            "id": st.just("RETAIN"),
            "percent_off": st.integers(5, 100),
            "duration": st.sampled_from(("once", "forever")),
        }
    )
    repeating = st.fixed_dictionaries(
        {
            "id": st.just("RETAIN"),
            "percent_off": st.integers(5, 100),
            "duration": st.just("repeating"),
            "duration_in_months": st.integers(1, 6),
        }
    )
    amount = st.fixed_dictionaries(
        {
            "id": st.just("RETAIN"),
            "amount_off": st.integers(1, 5000),
            "currency": st.just(currency),
            "duration": st.just("once"),
        }
    )
    return st.one_of(percent, repeating, amount)


@st.composite
def _scenario(
    draw: st.DrawFn, shapes: st.SearchStrategy[SubscriptionShape]
) -> PortalScenario:
    shape = draw(shapes)
    configuration = draw(portal_configurations(cancel_enabled=True))
    cancel = configuration["features"]["subscription_cancel"]
    coupon = draw(st.one_of(st.none(), _coupon(shape.currency)))
    actions = ["cancel", "abandon"] + (["accept_offer"] if coupon else [])
    action = draw(st.sampled_from(actions))
    feedback = comment = None
    reasons = cancel["cancellation_reason"]
    if action == "cancel" and reasons["enabled"]:
        feedback = draw(st.one_of(st.none(), st.sampled_from(reasons["options"])))
        if feedback == "other":
            comment = draw(
                st.one_of(
                    st.none(),
                    st.text(
                        st.characters(codec="utf-8", exclude_categories=["Cs"]),
                        min_size=1,
                        max_size=200,
                    ),
                )
            )
    renew = (
        action == "cancel" and cancel["mode"] == "at_period_end" and draw(st.booleans())
    )
    return PortalScenario(
        subscription=shape,
        configuration=configuration,
        coupon=coupon,
        action=action,
        feedback=feedback,
        comment=comment,
        renew=renew,
        wait_days=draw(st.integers(0, 20)),
        then_days=draw(st.integers(0, 70)),
    )


def portal_scenarios(
    shapes: st.SearchStrategy[SubscriptionShape] | None = None,
) -> st.SearchStrategy[PortalScenario]:
    """`PortalScenario` values: every outcome of a cancel deep link.

    *shapes* draws the subscriptions (`subscription_shapes` by default;
    pass ``subscription_shapes(trials=False)`` to leave trials out).

    Args:
        shapes: the strategy of subscriptions.

    Returns:
        A strategy of [`PortalScenario`][cancelflow.testing.strategies.PortalScenario]s.

    Example:
        ```python
        from hypothesis import given, settings

        from cancelflow.testing import strategies

        @settings(max_examples=2, database=None, deadline=None)
        @given(strategies.portal_scenarios())
        def check(value):
            assert value.run()  # the events it emitted

        check()
        ```
    """
    return _scenario(subscription_shapes() if shapes is None else shapes)


def event_sequences(
    scenarios: st.SearchStrategy[PortalScenario] | None = None,
) -> st.SearchStrategy[list[JSON]]:
    """The events of a portal scenario played on a fresh FakeStripe (oldest first).

    Feed them to a webhook handler in order, shuffled
    (``st.permutations``) or with repeats to test that it copes the way
    Stripe's delivery requires.

    Args:
        scenarios: the strategy of scenarios; `portal_scenarios()` by default.

    Returns:
        A strategy of event lists (dicts, as `events.list` returns them).

    Example:
        ```python
        from hypothesis import given, settings

        from cancelflow.testing import strategies

        @settings(max_examples=2, database=None, deadline=None)
        @given(strategies.event_sequences())
        def check(value):
            assert all(event["object"] == "event" for event in value)

        check()
        ```
    """
    return (portal_scenarios() if scenarios is None else scenarios).map(
        lambda scenario: scenario.run()
    )

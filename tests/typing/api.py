"""Type-checked, never run: every public name used the way users use it.

``mypy --strict tests/typing`` must pass. Sections are per module; append yours.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping

import stripe
from stripe.params.billing_portal import SessionCreateParams

import cancelflow
from cancelflow import (
    LOCALES,
    AfterCompletion,
    AllowedHosts,
    BillingMode,
    Cancelflow,
    CancelflowError,
    CancellationDetails,
    CancellationFeedback,
    CancellationReason,
    CancellationReasonFeature,
    CancelLink,
    CancelMode,
    Coupon,
    CouponDuration,
    CouponProblem,
    CustomerSnapshot,
    DiscountRef,
    FeedbackLabels,
    FeedbackOptionRef,
    HostedConfirmation,
    PortalConfiguration,
    PortalHomepage,
    PortalLink,
    PortalSession,
    ProrationBehavior,
    Redirect,
    StripeGateway,
    SubscriptionCancelFeature,
    SubscriptionItemSnapshot,
    SubscriptionSnapshot,
    SubscriptionStatus,
    build_cancel_session_params,
    build_portal_session_params,
    exceptions,
)

version: str = cancelflow.__version__

# -- reasons ------------------------------------------------------------------------------


def reasons() -> None:
    feedback: CancellationFeedback = CancellationFeedback.parse("too_expensive")
    reason: CancellationReason = CancellationReason.PAYMENT_FAILED
    details = CancellationDetails.from_stripe({"feedback": "other"})
    option: FeedbackOptionRef | None = details.feedback_option
    answered: bool = details.answered
    labels: FeedbackLabels = FeedbackLabels().with_locale("de", {feedback: "Zu teuer"})
    text: str = labels.label(feedback, "fr-CA")
    table: dict[CancellationFeedback, str] = labels.all("fr")
    del reason, option, answered, text, table


# -- subscriptions, coupons, customers ------------------------------------------------


def models(sub: stripe.Subscription, cus: stripe.Customer, cou: stripe.Coupon) -> None:
    snap = SubscriptionSnapshot.from_stripe(sub)
    status: SubscriptionStatus = snap.status
    mode: BillingMode = snap.billing_mode
    items: tuple[SubscriptionItemSnapshot, ...] = snap.items
    discounts: tuple[DiscountRef, ...] = snap.discounts
    terms: tuple[str, float | None, int | None] | None = DiscountRef(
        "di_1", "C", "forever", 25.0, None
    ).terms
    mrr: int = snap.mrr
    scheduled: bool = snap.scheduled_to_cancel
    coupon = Coupon.from_stripe(cou)
    duration: CouponDuration = coupon.duration
    problems: list[CouponProblem] = coupon.problems(snap, now=0)
    customer = CustomerSnapshot.from_stripe(cus)
    country: str | None = customer.country
    tenure: int | None = customer.tenure_days(0)
    del (
        status,
        mode,
        items,
        discounts,
        terms,
        mrr,
        scheduled,
        duration,
        problems,
        country,
        tenure,
    )


# -- deep links ----------------------------------------------------------------------------


def deep_links() -> SessionCreateParams:
    hosts = AllowedHosts(["example.com", "*.example.com"])
    url: str = hosts.check("https://example.com/a", field="return_url")
    entries: tuple[str, ...] = hosts.hosts
    locales: tuple[str, ...] = LOCALES
    after: AfterCompletion = Redirect("https://example.com/bye")
    other: AfterCompletion = HostedConfirmation("Merci")
    home: AfterCompletion = PortalHomepage()
    del url, entries, locales, other, home
    build_portal_session_params(customer="cus_1", allowed_hosts=hosts)
    return build_cancel_session_params(
        customer="cus_1",
        subscription="sub_1",
        allowed_hosts=hosts,
        coupon="SAVE20",
        after_completion=after,
        locale="fr",
    )


# -- gateway ----------------------------------------------------------------------------------


def gateway(client: stripe.StripeClient, params: SessionCreateParams) -> None:
    gw = StripeGateway(client, idempotency_key=lambda: "key")
    session: PortalSession = gw.create_portal_session(params)
    snap: SubscriptionSnapshot = gw.retrieve_subscription("sub_1")
    customer: CustomerSnapshot = gw.retrieve_customer("cus_1")
    coupon: Coupon = gw.retrieve_coupon("SAVE20")
    subs: Iterator[SubscriptionSnapshot] = gw.iter_subscriptions(status="all")
    configs: list[PortalConfiguration] = gw.list_portal_configurations(active=True)
    config = gw.update_portal_configuration("bpc_1", {"active": True})
    created = gw.create_portal_configuration(
        {"features": {"subscription_cancel": {"enabled": True}}}
    )
    cancel: SubscriptionCancelFeature = config.subscription_cancel
    mode: CancelMode = cancel.mode
    proration: ProrationBehavior = cancel.proration_behavior
    reason: CancellationReasonFeature = cancel.cancellation_reason
    raw: Mapping[str, object] = created.raw
    del session, snap, customer, coupon, subs, configs, mode, proration, reason, raw


async def gateway_async(gw: StripeGateway, params: SessionCreateParams) -> None:
    session: PortalSession = await gw.create_portal_session_async(params)
    snap: SubscriptionSnapshot = await gw.retrieve_subscription_async("sub_1")
    customer: CustomerSnapshot = await gw.retrieve_customer_async("cus_1")
    coupon: Coupon = await gw.retrieve_coupon_async("SAVE20")
    subs: AsyncIterator[SubscriptionSnapshot] = gw.iter_subscriptions_async()
    async for sub in subs:
        del sub
    configs = await gw.list_portal_configurations_async()
    updated = await gw.update_portal_configuration_async("bpc_1", {"active": False})
    created = await gw.create_portal_configuration_async({"features": {}})
    del session, snap, customer, coupon, configs, updated, created


# -- the entry point ---------------------------------------------------------------------


def entry_point(client: stripe.StripeClient) -> str:
    flow = Cancelflow(
        client,
        allowed_hosts=["example.com"],
        return_url="https://example.com/account",
        locale="fr",
        after_completion=PortalHomepage(),
    )
    try:
        link: CancelLink = flow.create_cancel_link(
            customer="cus_1", subscription="sub_1", coupon="SAVE20"
        )
    except exceptions.SubscriptionAlreadyScheduledError:
        portal: PortalLink = flow.create_portal_link(customer="cus_1")
        return portal.url
    except exceptions.CancelLinkRefusedError as refused:
        return refused.subscription_id
    except CancelflowError as err:
        return str(err)
    offered: Coupon | None = link.coupon
    del offered
    return link.url


async def entry_point_async(flow: Cancelflow) -> str:
    link = await flow.create_cancel_link_async(customer="cus_1", subscription="sub_1")
    portal = await flow.create_portal_link_async(customer="cus_1")
    return link.url + portal.url


# -- webhooks, typed events, ledger ------------------------------------------------------


def webhooks(body: bytes, header: str | None, tmp: str) -> list[str]:
    verifier: cancelflow.SignatureVerifier = cancelflow.SignatureVerifier(
        ["whsec_old", "whsec_new"], tolerance=300, future_tolerance=60
    )
    timestamp: int = verifier.verify(body, header)
    signed: str = cancelflow.sign_webhook(body, "whsec_new", timestamp=timestamp)
    ledger: cancelflow.Ledger = cancelflow.SQLiteLedger(tmp, synchronous="FULL")
    memory: cancelflow.Ledger = cancelflow.MemoryLedger()
    pg: cancelflow.Ledger = cancelflow.PostgresLedger(
        "postgresql://u@h/db", schema="cf"
    )
    handler = cancelflow.WebhookHandler(["whsec_new"], ledger=ledger, tolerance=300)
    events: list[cancelflow.CancellationEvent] = handler.handle_webhook(body, signed)
    events += cancelflow.handle_webhook(
        body, header, secrets="whsec_new", ledger=memory
    )
    events += cancelflow.parse_event(body)
    lines: list[str] = []
    for event in events:
        kind: cancelflow.EventKind = event.kind
        lines.append(f"{kind.value}: {event.describe()}")
        match event:
            case cancelflow.CancellationScheduled():
                when: int | None = event.effective_at
                mode: cancelflow.BillingMode = event.billing_mode
                lines.append(f"{when} {mode}")
            case cancelflow.FeedbackReceived():
                fb: cancelflow.CancellationFeedback | None = event.feedback
                lines.append(f"{fb} {event.comment} {event.feedback_option}")
            case cancelflow.CancellationWithdrawn():
                lines.append(str(event.previous_effective_at))
            case cancelflow.SubscriptionEnded():
                why: cancelflow.CancellationReason | None = event.reason
                lines.append(f"{why} {event.ended_at}")
            case cancelflow.OfferRedeemed():
                lines.append(f"{event.discount_id} {event.coupon_id}")
            case cancelflow.NotAboutCancellation():
                lines.append(event.event_type)
    built = cancelflow.CancellationScheduled(
        event_id="evt_1",
        event_type="customer.subscription.updated",
        created=1,
        subscription_id="sub_1",
        customer_id=None,
        billing_mode=cancelflow.BillingMode.FLEXIBLE,
    )
    moved: cancelflow.CancellationScheduled = built.replace(effective_at=2)
    names: tuple[str, ...] = moved.fields
    kwargs: dict[str, object] = moved.as_kwargs()
    lines.append(f"{names} {kwargs}")
    frozen: type[AttributeError] = exceptions.FrozenEventError
    with contextlib.suppress(frozen):
        built.effective_at = 3  # type: ignore[misc]
    recorded: bool = ledger.record_events(events)
    events = ledger.record_new_events(events)
    problem = cancelflow.LedgerProblem.from_delivery(
        b"{}", exceptions.UnstorableEventError("no", event_id="evt_1"), received_at=1
    )
    kept: bool = ledger.record_problem(problem)
    problems: list[cancelflow.LedgerProblem] = ledger.problems()
    lines.append(f"{kept} {problems[0].describe()} {problems[0].body!r}")
    ledger.record_link(
        cancelflow.LinkRecord(
            session_id="bps_1",
            subscription_id="sub_1",
            customer_id="cus_1",
            created=1,
            offered_coupon="SAVE20",
            arm="offer",
            decision={"rule": "default"},
            mrr=1500,
            currency="eur",
            experiment="spring",
            offer_discount=300,
            offer_months=1,
        )
    )
    cases: list[cancelflow.Case] = ledger.cases(customer_id="cus_1")
    for case in cases:
        state: cancelflow.CaseState = case.state
        lines.append(
            f"{state} {case.mrr} {case.saved_by_offer} {case.customer_initiated}"
        )
    history = ledger.customer_history("cus_1")
    offered_at: int | None = history.last_offered_at
    folded: list[cancelflow.Case] = cancelflow.fold_cases(ledger.links(), events)
    import datetime as dt

    pruned: int = ledger.prune_processed_events(older_than=dt.timedelta(days=30))
    flow = Cancelflow(
        stripe.StripeClient("sk_test"), allowed_hosts=["example.com"], ledger=ledger
    )
    lines.append(f"{recorded} {offered_at} {len(folded)} {pruned} {flow!r} {pg!r}")
    ledger.close()
    return lines


async def webhooks_async(
    handler: cancelflow.WebhookHandler, body: bytes, header: str
) -> int:
    events = await handler.handle_webhook_async(body, header)
    return len(events) + handler.ledger.processed_count() if handler.ledger else 0


# -- cancelflow.testing: FakeStripe core -------------------------------------------


def fake_stripe_core() -> list[str]:
    import datetime as dt

    from cancelflow.testing import (
        Dashboard,
        FakeClock,
        FakeStripe,
        Latency,
        RetrySchedule,
        WebhookDelivery,
        WebhookEndpoint,
    )

    fake = FakeStripe(start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), seed=1)
    client: stripe.StripeClient = fake.client()
    own = stripe.StripeClient("sk_test_x", http_client=fake.http_client)
    with fake.install(api_key="sk_test_x") as installed:
        same: FakeStripe = installed

    def handler(body: bytes, headers: Mapping[str, str]) -> int:
        return 200 if headers.get("stripe-signature") and body else 400

    secret: str = fake.add_webhook_endpoint(
        handler,
        events=["customer.subscription.*"],
        duplicates=0.1,
        out_of_order=True,
        seed=3,
        expect_failures=False,
    )
    loud = FakeStripe(webhook_errors="raise")
    quiet = FakeStripe(webhook_errors="record", id_tag="run2_")
    with fake.hold_webhooks():
        client.v1.customers.create(params={"email": "a@example.com"})
    endpoints: list[WebhookEndpoint] = fake.webhook_endpoints
    deliveries: list[WebhookDelivery] = endpoints[0].deliveries
    raised: BaseException | None = deliveries[0].exception
    expecting: bool = endpoints[0].expect_failures
    ok: bool = all(d.ok for d in deliveries) and not endpoints[0].failures
    clock: FakeClock = fake.clock
    now: int = clock.advance(dt.timedelta(days=31))
    later: int = clock.advance_to(now + 60)
    when: dt.datetime = clock.now_datetime()
    fake.set_latency(0.05, routes={"subscriptions.retrieve": dt.timedelta(seconds=1)})
    latency: Latency = fake.latency
    delay: float = latency.for_operation("customers.create") + latency.default
    slow: bool = latency.active and bool(latency.routes)
    fake.set_latency()
    dashboard: Dashboard = fake.dashboard
    saved: dict[str, object] = dashboard.save_portal_settings(
        features={"subscription_cancel": {"enabled": True}}, name="Main"
    )
    default: dict[str, object] | None = dashboard.portal_configuration
    dashboard.retry_schedule = RetrySchedule(days=(3, 5, 7), then="unpaid")
    schedule: RetrySchedule = dashboard.retry_schedule
    last: int = schedule.last_day + len(schedule.days)
    fake.fail_next_renewal("cus_1", attempts=2)
    fake.fail_next_renewal("cus_1")
    fake.reset()
    return [
        secret,
        str(ok),
        str(later),
        when.isoformat(),
        repr(same),
        repr(own),
        str(delay),
        str(slow),
        str(saved["id"]),
        str(default),
        repr(loud),
        repr(quiet),
        repr(raised),
        str(expecting),
        schedule.then,
        str(last),
    ]


# -- retention policy ------------------------------------------------------------------


def retention_policy(snapshot: cancelflow.SubscriptionSnapshot, path: str) -> list[str]:
    from cancelflow import (
        AllOf,
        AnyOf,
        Arm,
        BacktestRecord,
        BacktestReport,
        Condition,
        CouponCache,
        CouponSource,
        CustomerFacts,
        CustomerHistory,
        Decision,
        DecisionContext,
        Experiment,
        Guard,
        GuardBlock,
        Guards,
        NoOffer,
        Not,
        Offer,
        OfferHistory,
        Outcome,
        Predicate,
        Range,
        RetentionPolicy,
        Rule,
        Segment,
        backtest,
        backtest_file,
        dump_policy,
        experiment_bucket,
        load_policy,
        parse_policy,
        read_history,
        records_from_ledger,
        records_from_stripe,
    )
    from cancelflow.exceptions import HistoryFileError, PolicyError

    def big(context: DecisionContext) -> bool:
        return context.mrr > 10_000 and context.tenure_days is not None

    segment: Condition = Segment(
        interval="year", mrr=Range(min=5_000), countries=["FR"]
    )
    combined: Condition = AllOf([segment, Not(Segment(trialing=True))]) | AnyOf([])
    combined = combined & ~Segment(predicate=Predicate("big", big))
    experiment = Experiment(
        "e", [Arm("holdout", 10), Arm("ten", 90, Offer("TEN"))], salt="s"
    )
    arm, bucket = experiment.assign("cus_1")
    outcome: Outcome = experiment
    policy = RetentionPolicy(
        rules=[
            Rule("annual", combined, Offer("X", replace_discount=True)),
            Rule("exp", Segment(), outcome),
            Rule("none", Segment(), NoOffer()),
        ],
        guards=Guards(multi_item=False, cooldown_days=30),
        name="p",
    )
    cache = CouponCache(lambda coupon_id: None, ttl=60.0, max_entries=10)
    source: CouponSource = cache
    customer: CustomerFacts = cancelflow.CustomerSnapshot(id="cus_1", country="FR")
    decision: Decision = policy.decide(
        snapshot,
        now=1,
        customer=customer,
        history=CustomerHistory(attempts=1),
        coupons=source,
    )
    offers: OfferHistory = cancelflow.MemoryLedger()
    _last: int | None = offers.customer_history("cus_1").last_offered_at
    blocks: tuple[GuardBlock, ...] = decision.blocked_by
    guards: frozenset[Guard] = decision.guards
    again: Decision = Decision.from_json(decision.to_json())
    loaded: RetentionPolicy = parse_policy(dump_policy(policy), predicates={"big": big})
    from_file: RetentionPolicy = load_policy(path)
    records: list[BacktestRecord] = list(read_history(path, now=1))
    report: BacktestReport = backtest(loaded, records, coupons={}, forever_months=6)
    report = BacktestReport.merge(
        [report, backtest_file(loaded, path, coupons=cache, now=1, workers=2)]
    )
    snapshots: dict[str, cancelflow.SubscriptionSnapshot] = {}
    both = [
        *records_from_stripe(StripeGateway(stripe.StripeClient("sk_test_x")), now=1),
        *records_from_ledger(cancelflow.MemoryLedger(), snapshots.get),
    ]
    errors: tuple[type[Exception], ...] = (PolicyError, HistoryFileError)
    return [
        decision.explain(),
        again.rule,
        str(bucket),
        arm.name,
        repr(blocks),
        repr(guards),
        repr(from_file),
        report.render_text(),
        str(experiment_bucket("s", "cus_1")),
        str(len(both)),
        repr(errors),
    ]


# -- cancelflow.testing: portal, time, faults, fixtures, strategies --------------------


def fake_stripe_portal_and_faults(client: stripe.StripeClient, url: str) -> list[str]:
    import datetime as dt

    from hypothesis import strategies as st

    from cancelflow.exceptions import (
        PortalCancelDisabledError,
        PortalError,
        PortalFlowFinishedError,
        PortalOfferError,
        PortalReasonNotOfferedError,
        PortalSessionExpiredError,
        PortalSessionNotFoundError,
        PortalSubscriptionError,
    )
    from cancelflow.testing import (
        FakeStripe,
        Fault,
        Faults,
        InjectedFault,
        Portal,
        PortalOutcome,
        PortalVisit,
        WebhookDelivery,
    )
    from cancelflow.testing.strategies import (
        CURRENCIES,
        REASONS,
        ItemShape,
        PortalScenario,
        SubscriptionShape,
        customers,
        event_sequences,
        portal_configurations,
        portal_scenarios,
        subscription_shapes,
    )

    fake = FakeStripe(seed=3)
    portal: Portal = fake.portal
    portal.unused_session_ttl = dt.timedelta(minutes=10)
    portal.idle_timeout = dt.timedelta(hours=2)
    portal.feedback_delay = dt.timedelta(0)
    visit: PortalVisit = portal.visit(url)
    shown: list[str | None] = [
        visit.session_id,
        visit.customer,
        visit.flow_type,
        visit.subscription_id,
        visit.coupon_id,
        visit.locale,
        visit.return_url,
        visit.cancel_mode,
        visit.proration_behavior,
    ]
    reasons: tuple[str, ...] = visit.cancellation_reasons
    labels: dict[str, str] = visit.reason_labels
    options: dict[str, str] = visit.feedback_options
    flags: list[bool] = [visit.cancel_enabled, visit.reasons_enabled, visit.is_open]
    sub: dict[str, object] | None = visit.subscription
    coupon: dict[str, object] | None = visit.coupon
    after: dict[str, object] | None = visit.after_completion
    config: dict[str, object] = visit.configuration
    listed: list[dict[str, object]] = visit.subscriptions
    try:
        outcome: PortalOutcome = visit.cancel(feedback="other", comment="bye")
        outcome = visit.cancel(feedback_option="fo_1", subscription="sub_1")
        outcome = visit.accept_offer()
        outcome = visit.renew("sub_1")
    except (
        PortalSessionNotFoundError,
        PortalSessionExpiredError,
        PortalFlowFinishedError,
        PortalCancelDisabledError,
        PortalReasonNotOfferedError,
        PortalSubscriptionError,
        PortalOfferError,
    ) as err:
        shown.append(str(err))
        raise PortalError(str(err)) from err
    visit.abandon()
    events: tuple[dict[str, object], ...] = outcome.events
    types: list[str] = outcome.event_types
    redirect: str | None = outcome.redirect_url
    done: list[PortalOutcome] = visit.outcomes

    faults: Faults = fake.faults
    faults.fail_next("subscriptions.retrieve", "rate_limit", times=2)
    faults.fail_next("*", message="down")
    faults.fail_next("customers.list", kind="connection_error")
    pending: list[Fault] = faults.pending
    injected: list[InjectedFault] = faults.injected
    faults.clear()
    retried: list[WebhookDelivery] = fake.retry_failed_webhooks()
    attempts = [d.attempt for d in retried]

    shape_strategy: st.SearchStrategy[SubscriptionShape] = subscription_shapes(
        billing_modes=["classic"], currencies=CURRENCIES, max_items=2, trials=False
    )
    shape = SubscriptionShape(
        billing_mode="classic",
        currency="eur",
        items=(
            ItemShape(interval="month", interval_count=1, unit_amount=900, quantity=1),
        ),
        trial_days=None,
    )
    created: stripe.Subscription = shape.create(client, customer="cus_1")
    params: dict[str, object] = shape.create_params("cus_1", ["price_1"])
    scenarios: st.SearchStrategy[PortalScenario] = portal_scenarios(shape_strategy)
    sequences: st.SearchStrategy[list[dict[str, object]]] = event_sequences(scenarios)
    others = [customers(), portal_configurations(cancel_enabled=None)]
    return [
        *[s or "" for s in shown],
        *reasons,
        *labels,
        *options,
        str(flags),
        str(sub),
        str(coupon),
        str(after),
        str(config),
        str(listed),
        str(events),
        *types,
        str(redirect),
        str(done),
        str(pending),
        str(injected),
        str(attempts),
        created.id,
        str(params),
        str(sequences),
        str(others),
        *REASONS,
    ]


# -- the error tree ----------------------------------------------------------------------


def reports(
    client: stripe.StripeClient, ledger: cancelflow.Ledger, path: str
) -> list[object]:
    """Reports from a ledger and from Stripe, their figures and their outputs."""
    report: cancelflow.Report = cancelflow.report_from_ledger(
        ledger, since=0, until=2_000_000_000, horizon_months=12, comments=10, now=1
    )
    heard: list[cancelflow.ScanProgress] = []
    waits: list[cancelflow.RateLimitWait] = []
    from_stripe: cancelflow.Report = cancelflow.report_from_stripe(
        client,
        checkpoint=path,
        on_progress=heard.append,
        on_rate_limit=waits.append,
        max_retries=3,
        sleep=lambda seconds: None,
        page_size=100,
    )
    summary: cancelflow.ReportSummary = report.summary
    found: list[object] = [
        summary.cases,
        summary.mrr_lost.get("eur"),
        from_stripe.source,
    ]
    for row in (
        *report.reasons,
        *report.tenure,
        *report.months,
        *report.feedback_options,
    ):
        breakdown: cancelflow.Breakdown = row
        found += [breakdown.key, breakdown.count, breakdown.share, breakdown.known]
    for price in report.prices:
        priced: cancelflow.PriceBreakdown = price
        found += [priced.product_id, priced.price_id]
    for comment in report.comments:
        written: cancelflow.CommentRow = comment
        found += [written.comment, written.at, written.customer_id]
    withdrawn: cancelflow.WithdrawnFigures = report.withdrawn
    found.append(withdrawn.count)
    for offer in report.offers:
        offered: cancelflow.OfferFigures = offer
        rate: cancelflow.Rate = offered.save
        found += [offered.coupon, rate.rate, rate.low, rate.high]
    for arm in report.arms:
        figures: cancelflow.ArmFigures = arm
        lift: cancelflow.Lift | None = figures.lift
        found += [figures.arm, figures.holdout, lift.difference if lift else None]
    for revenue in report.revenue:
        kept: cancelflow.RevenueFigures = revenue
        found += [kept.net, kept.cancelled_later]
    found += [cancelflow.Rate.of(1, 2).rate, heard[0].pages if heard else 0]
    found += [wait.describe() for wait in waits]
    text: str = report.render("text", locale="fr")
    report.write(path, "html", locale="en")
    data: dict[str, object] = report.to_json_data()
    page: cancelflow.SubscriptionPage = cancelflow.StripeGateway(
        client
    ).list_subscriptions_page(status="all", created_before=1, page_size=10)
    found += [text, data, page.last_id, page.has_more, page.objects]
    return found


def errors(error: Exception) -> list[object]:
    from cancelflow.exceptions import (
        CancelLinkRefusedError,
        CouponCurrencyMismatchError,
        CouponForeverAmountOffError,
        CouponNotApplicableError,
        CouponNotFoundError,
        CouponNotValidError,
        CouponRefusedError,
        DisallowedURLError,
        EventPayloadError,
        FakeStripeError,
        HistoryFileError,
        InvalidInputError,
        InvalidParameterError,
        LedgerError,
        LinkNotRecordedError,
        MalformedSignatureHeaderError,
        ManagedConfigurationNotFoundError,
        MissingSignatureHeaderError,
        NoV1SignatureError,
        PolicyError,
        PortalConfigApplyError,
        PortalConfigError,
        PortalConfigInvalidError,
        PortalConfigMatchError,
        SignatureMismatchError,
        SignatureVerificationError,
        StripeAPIError,
        StripeAuthenticationError,
        StripeConnectionError,
        StripeIdempotencyError,
        StripeInvalidRequestError,
        StripeObjectError,
        StripePermissionError,
        StripeRateLimitError,
        StripeResourceMissingError,
        StripeServerError,
        SubscriptionAlreadyScheduledError,
        SubscriptionNotCancelableError,
        SubscriptionNotFoundError,
        SubscriptionOwnershipError,
        TimestampOutsideToleranceError,
        WebhookError,
        WebhookHandlerError,
    )

    found: list[object] = []
    if isinstance(error, StripeConnectionError):
        found.append(error.retry_safe)
    if isinstance(error, WebhookHandlerError):
        found += [error.event_id, error.event_type]
    if isinstance(error, InvalidParameterError):  # DisallowedURLError is one
        found += [error.field, error.rule, isinstance(error, DisallowedURLError)]
    if isinstance(error, StripeObjectError):
        found += [error.path, error.problem]
    if isinstance(error, HistoryFileError):
        found += [error.source, error.line, error.problem]
    if isinstance(error, InvalidInputError):
        found.append(isinstance(error, ValueError))
    if isinstance(error, SubscriptionNotCancelableError):
        found.append(error.status)
    if isinstance(error, SubscriptionAlreadyScheduledError):
        found.append(error.cancel_at)
    if isinstance(error, CouponRefusedError):
        coupon_kinds = (
            CouponNotFoundError,
            CouponNotValidError,
            CouponNotApplicableError,
            CouponCurrencyMismatchError,
            CouponForeverAmountOffError,
        )
        found += [error.coupon_id, isinstance(error, coupon_kinds)]
    if isinstance(error, CancelLinkRefusedError):
        refusals = (SubscriptionNotFoundError, SubscriptionOwnershipError)
        found += [error.subscription_id, isinstance(error, refusals)]
    if isinstance(error, StripeAPIError):
        stripe_kinds = (
            StripeInvalidRequestError,
            StripeResourceMissingError,
            StripeAuthenticationError,
            StripePermissionError,
            StripeRateLimitError,
            StripeIdempotencyError,
            StripeConnectionError,
            StripeServerError,
        )
        found += [
            error.code,
            error.param,
            error.http_status,
            error.request_id,
            error.stripe_type,
            isinstance(error, stripe_kinds),
        ]
    if isinstance(error, TimestampOutsideToleranceError):
        found.append(error.timestamp)
    if isinstance(error, SignatureVerificationError):
        signature_kinds = (
            MissingSignatureHeaderError,
            MalformedSignatureHeaderError,
            NoV1SignatureError,
            SignatureMismatchError,
        )
        found.append(isinstance(error, signature_kinds))
    if isinstance(error, WebhookError | LedgerError | FakeStripeError):
        found.append(isinstance(error, EventPayloadError))
    if isinstance(error, PolicyError):
        found += [error.key_path, error.problem]
    if isinstance(error, PortalConfigError):
        portal_kinds = (
            PortalConfigInvalidError,
            PortalConfigMatchError,
            ManagedConfigurationNotFoundError,
        )
        found += [error.key_path, error.problem, isinstance(error, portal_kinds)]
    if isinstance(error, PortalConfigApplyError):
        applied: tuple[str, ...] = error.applied
        found += [applied, error.not_applied]
    if isinstance(error, LinkNotRecordedError):
        link: cancelflow.CancelLink = error.link
        record: cancelflow.LinkRecord = error.record
        found += [link.url, record.session_id]
    return found


# -- cancelflow.testing: the served fake ----------------------------------------------


def fake_stripe_served() -> list[str]:
    from pathlib import Path

    from cancelflow.exceptions import FakeServerStateError
    from cancelflow.testing import FakeServer, FakeStripe, ForwardedDelivery

    fake = FakeStripe()
    with fake.serve(
        host="127.0.0.1",
        port=0,
        forward_to=["http://127.0.0.1:8000/webhooks"],
        webhook_secret="whsec_x",
    ) as url:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
        client.v1.customers.create(params={"email": "a@example.com"})
    server = FakeServer(
        fake,
        host="127.0.0.1",
        port=0,
        forward_to=(),
        webhook_secret=None,
        webhook_attempts=3,
        webhook_backoff=0.5,
    )
    base: str = server.start()
    port: int = server.port
    done: bool = server.wait_for_webhooks(timeout=1.0)
    deliveries: list[ForwardedDelivery] = server.deliveries
    first = deliveries[0] if deliveries else None
    facts: list[object] = (
        []
        if first is None
        else [first.url, first.event_id, first.event_type, first.attempt, first.status]
    )
    ok: bool = first is None or (first.ok and first.error is None)
    server.stop(webhook_grace=1.0)
    try:
        kept = FakeServer.with_state(
            Path("fake.json"),
            host="127.0.0.1",
            port=0,
            forward_to=["http://127.0.0.1:8000/webhooks"],
            webhook_secret=None,
            webhook_attempts=8,
            webhook_backoff=1.0,
        )
    except FakeServerStateError as err:
        return [str(err)]
    path: Path | None = kept.state_path
    same: FakeStripe = kept.fake
    return [
        base,
        str(port),
        str(done),
        str(ok),
        repr(facts),
        server.url,
        server.api_key,
        server.webhook_secret,
        repr(server.forward_to),
        str(path),
        str(kept.replayed),
        repr(same),
        kept.host,
    ]


def portal_config_as_code(client: stripe.StripeClient, path: str) -> list[object]:
    from cancelflow import (
        AdjustableQuantitySpec,
        ApplyResult,
        BillingCycleAnchor,
        BusinessProfileSpec,
        CancellationReasonSpec,
        ConfigMatch,
        ConfigurationPlan,
        CustomerUpdateField,
        CustomerUpdateSpec,
        FeaturesSpec,
        FeedbackOption,
        FeedbackOptionPlan,
        FieldChange,
        InvoiceHistorySpec,
        LoginPageSpec,
        PauseDurationSpec,
        PauseDurationType,
        PauseInterval,
        PauseIntervalSpec,
        PaymentMethodUpdateSpec,
        PlanAction,
        PortalConfigFile,
        PortalConfigPlan,
        PortalConfigSpec,
        ProductSpec,
        ScheduleCondition,
        SubscriptionCancelSpec,
        SubscriptionPauseSpec,
        SubscriptionUpdateField,
        SubscriptionUpdateSpec,
        TrialUpdateBehavior,
        apply_portal_config,
        dump_portal_config,
        export_portal_config,
        load_portal_config,
        parse_portal_config,
        plan_portal_config,
    )

    spec = PortalConfigSpec(
        key="cancel-page",
        match=ConfigMatch.METADATA,
        name="Cancel page",
        default_return_url="https://example.com/account",
        metadata={"team": "billing"},
        business_profile=BusinessProfileSpec(headline="Billing"),
        login_page=LoginPageSpec(enabled=False),
        features=FeaturesSpec(
            subscription_cancel=SubscriptionCancelSpec(
                enabled=True,
                mode=cancelflow.CancelMode.AT_PERIOD_END,
                proration_behavior=cancelflow.ProrationBehavior.NONE,
                cancellation_reason=CancellationReasonSpec(
                    enabled=True,
                    options=frozenset({cancelflow.CancellationFeedback.OTHER}),
                    feedback_options=("Too many emails",),
                ),
            ),
            customer_update=CustomerUpdateSpec(
                enabled=True, allowed_updates=frozenset({CustomerUpdateField.EMAIL})
            ),
            invoice_history=InvoiceHistorySpec(enabled=True),
            payment_method_update=PaymentMethodUpdateSpec(enabled=True),
            subscription_pause=SubscriptionPauseSpec(
                enabled=True,
                duration=PauseDurationSpec(
                    type=PauseDurationType.INTERVAL_OPTIONS,
                    interval_options=(
                        PauseIntervalSpec(
                            interval=PauseInterval.MONTH, interval_count=1
                        ),
                    ),
                ),
            ),
            subscription_update=SubscriptionUpdateSpec(
                enabled=True,
                default_allowed_updates=frozenset({SubscriptionUpdateField.PRICE}),
                products=(
                    ProductSpec(
                        product="prod_1",
                        prices=("price_1",),
                        adjustable_quantity=AdjustableQuantitySpec(
                            enabled=True, maximum=5
                        ),
                    ),
                ),
                billing_cycle_anchor=BillingCycleAnchor.UNCHANGED,
                schedule_at_period_end=frozenset(
                    {ScheduleCondition.SHORTENING_INTERVAL}
                ),
                trial_update_behavior=TrialUpdateBehavior.END_TRIAL,
            ),
        ),
    )
    config: PortalConfigFile = PortalConfigFile([spec])
    same: PortalConfigFile = parse_portal_config(dump_portal_config(config))
    loaded: PortalConfigFile = load_portal_config(path)
    plan: PortalConfigPlan = plan_portal_config(client, config)
    first: ConfigurationPlan = plan.configurations[0]
    change: FieldChange = first.changes[0]
    options: tuple[FeedbackOptionPlan, ...] = plan.feedback_options
    action: PlanAction = first.action
    result: ApplyResult = apply_portal_config(client, config, plan=plan)
    exported: PortalConfigFile = export_portal_config(
        client, configuration="cancel-page"
    )
    params: dict[str, object] = spec.to_params({"Too many emails": "fo_1"}, create=True)
    back: PortalConfigSpec = PortalConfigSpec.from_stripe(
        params, feedback_labels={"fo_1": "Too many emails"}, key="cancel-page"
    )
    option = FeedbackOption.from_stripe(
        {"id": "fo_1", "description": "x", "status": "active"}
    )
    gateway = cancelflow.StripeGateway(client)
    listed: list[FeedbackOption] = gateway.list_feedback_options(active=True)
    made: FeedbackOption = gateway.create_feedback_option("x", idempotency_key="k")
    gone: FeedbackOption = gateway.deactivate_feedback_option(made.id)
    one: cancelflow.PortalConfiguration = gateway.retrieve_portal_configuration("bpc_1")
    flow = cancelflow.Cancelflow(
        client, allowed_hosts=["example.com"], configuration=loaded["cancel-page"]
    )
    resolved: str | None = flow.configuration
    return [
        same == loaded,
        plan.in_step,
        plan.render(),
        plan.summary(),
        plan.counts(),
        plan.unmanaged,
        change.describe(),
        options,
        action.value,
        result.writes,
        result.applied,
        result.configuration_ids,
        exported.keys(),
        config["cancel-page"].feedback_labels(),
        spec.to_data(),
        spec.declared(),
        back.key,
        option.active,
        option.deactivated_at,
        listed,
        gone.active,
        one.name,
        one.metadata,
        resolved,
        config.to_toml(),
        len(config),
        [s.key for s in config],
    ]

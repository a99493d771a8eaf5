"""cancelflow: own the cancellation path of Stripe's customer portal.

Send a customer straight to one subscription's cancel page (optionally with a
retention coupon chosen by a policy you write as code), then turn Stripe's
webhooks into typed events (scheduled, feedback, withdrawn, ended, offer
redeemed) recorded in a ledger of cancellation cases:

```python
import stripe
from cancelflow import Cancelflow, SQLiteLedger, WebhookHandler

ledger = SQLiteLedger("cancelflow.db")
flow = Cancelflow(
    stripe.StripeClient(api_key),
    allowed_hosts=["example.com"],
    return_url="https://example.com/account",
    ledger=ledger,
)
webhooks = WebhookHandler(webhook_secret, ledger=ledger)


def cancel_clicked(customer_id, subscription_id):  # your "Cancel" button
    link = flow.create_cancel_link(customer=customer_id, subscription=subscription_id)
    return link.url  # redirect the customer there


def stripe_webhook(body, signature):  # your webhook endpoint: raw body, header
    for event in webhooks.handle_webhook(body, signature):
        print(event.describe())
```

Also here: :class:`RetentionPolicy` (rules, guards, experiments; TOML files
with :func:`load_policy`), :func:`backtest`, the ledgers (:class:`MemoryLedger`,
:class:`SQLiteLedger`, :class:`PostgresLedger`). Every error is a
:class:`cancelflow.exceptions.CancelflowError`. :mod:`cancelflow.testing` has
an in-memory Stripe for your tests, and ``cancelflow demo`` runs the whole path
offline. Importing cancelflow is cheap: it does not import ``stripe``.
"""

from __future__ import annotations

from importlib import import_module

from cancelflow import exceptions
from cancelflow.exceptions import CancelflowError

# For maintainers: each public name is loaded from its private module the first
# time it is used, so that ``import cancelflow`` imports neither ``stripe`` nor
# the models. A new public name goes in three places: the ``TYPE_CHECKING``
# imports (for type checkers), ``_LAZY`` (name → module) and the sorted
# ``__all__``; ``tests/test_import_cost.py`` checks that they agree (see
# CONTRIBUTING.md).
#
# Not ``typing.TYPE_CHECKING``: importing typing alone (with re, enum, ...) would
# cost more than the rest of ``import cancelflow``. Type checkers treat any
# ``TYPE_CHECKING`` name as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from cancelflow._backtest.backtest import BacktestRecord, BacktestReport, backtest
    from cancelflow._backtest.jsonl import read_history
    from cancelflow._backtest.parallel import backtest_file
    from cancelflow._backtest.sources import records_from_ledger, records_from_stripe
    from cancelflow._links.cancelflow import Cancelflow, CancelLink, PortalLink
    from cancelflow._links.coupon_cache import CouponCache
    from cancelflow._links.deeplink import (
        LOCALES,
        AfterCompletion,
        HostedConfirmation,
        PortalHomepage,
        Redirect,
        build_cancel_session_params,
        build_portal_session_params,
    )
    from cancelflow._links.urls import AllowedHosts
    from cancelflow._outcomes.events import (
        CancellationEvent,
        CancellationScheduled,
        CancellationWithdrawn,
        EventKind,
        FeedbackReceived,
        NotAboutCancellation,
        OfferRedeemed,
        SubscriptionEnded,
        parse_event,
    )
    from cancelflow._outcomes.ledger import (
        Case,
        CaseState,
        Ledger,
        LedgerProblem,
        LinkRecord,
        fold_cases,
    )
    from cancelflow._outcomes.ledger_memory import MemoryLedger
    from cancelflow._outcomes.ledger_postgres import PostgresLedger
    from cancelflow._outcomes.ledger_sqlite import SQLiteLedger
    from cancelflow._outcomes.signature import SignatureVerifier, sign_webhook
    from cancelflow._outcomes.webhooks import WebhookHandler, handle_webhook
    from cancelflow._policy.context import CustomerFacts, DecisionContext
    from cancelflow._policy.decision import Decision
    from cancelflow._policy.experiments import (
        Arm,
        Experiment,
        experiment_bucket,
    )
    from cancelflow._policy.guards import (
        CouponSource,
        Guard,
        GuardBlock,
        Guards,
    )
    from cancelflow._policy.history import CustomerHistory, OfferHistory
    from cancelflow._policy.offers import NoOffer, Offer
    from cancelflow._policy.policy import (
        Outcome,
        RetentionPolicy,
        Rule,
    )
    from cancelflow._policy.segments import (
        AllOf,
        AnyOf,
        Condition,
        Not,
        Predicate,
        Range,
        Segment,
    )
    from cancelflow._policy.toml import (
        dump_policy,
        load_policy,
        parse_policy,
    )
    from cancelflow._portal_config.apply import (
        ApplyResult,
        apply_portal_config,
        export_portal_config,
        plan_portal_config,
    )
    from cancelflow._portal_config.files import (
        PortalConfigFile,
        dump_portal_config,
        load_portal_config,
        parse_portal_config,
    )
    from cancelflow._portal_config.model import (
        AdjustableQuantitySpec,
        BillingCycleAnchor,
        BusinessProfileSpec,
        CancellationReasonSpec,
        ConfigMatch,
        CustomerUpdateField,
        CustomerUpdateSpec,
        FeaturesSpec,
        InvoiceHistorySpec,
        LoginPageSpec,
        PauseDurationSpec,
        PauseDurationType,
        PauseInterval,
        PauseIntervalSpec,
        PaymentMethodUpdateSpec,
        PortalConfigSpec,
        ProductSpec,
        ScheduleCondition,
        SubscriptionCancelSpec,
        SubscriptionPauseSpec,
        SubscriptionUpdateField,
        SubscriptionUpdateSpec,
        TrialUpdateBehavior,
    )
    from cancelflow._portal_config.plan import (
        ConfigurationPlan,
        FeedbackOptionPlan,
        FieldChange,
        PlanAction,
        PortalConfigPlan,
    )
    from cancelflow._reports.ledger_report import report_from_ledger
    from cancelflow._reports.model import (
        ArmFigures,
        Breakdown,
        CommentRow,
        Lift,
        OfferFigures,
        PriceBreakdown,
        Rate,
        Report,
        ReportSummary,
        RevenueFigures,
        WithdrawnFigures,
    )
    from cancelflow._reports.stripe_report import (
        RateLimitWait,
        ScanProgress,
        report_from_stripe,
    )
    from cancelflow._stripe.coupon import Coupon, CouponDuration, CouponProblem
    from cancelflow._stripe.customer import CustomerSnapshot
    from cancelflow._stripe.details import CancellationDetails, FeedbackOptionRef
    from cancelflow._stripe.feedback_option import (
        FeedbackOption,
    )
    from cancelflow._stripe.gateway import StripeGateway, SubscriptionPage
    from cancelflow._stripe.labels import FeedbackLabels
    from cancelflow._stripe.portal import (
        CancellationReasonFeature,
        CancelMode,
        PortalConfiguration,
        PortalSession,
        ProrationBehavior,
        SubscriptionCancelFeature,
    )
    from cancelflow._stripe.reasons import CancellationFeedback, CancellationReason
    from cancelflow._stripe.subscription import (
        DiscountRef,
        SubscriptionItemSnapshot,
        SubscriptionSnapshot,
    )
    from cancelflow._stripe.subscription_data import BillingMode, SubscriptionStatus
#: Where each lazily loaded public name lives.
_LAZY: dict[str, str] = {
    "AdjustableQuantitySpec": "cancelflow._portal_config.model",
    "AfterCompletion": "cancelflow._links.deeplink",
    "AllOf": "cancelflow._policy.segments",
    "AllowedHosts": "cancelflow._links.urls",
    "AnyOf": "cancelflow._policy.segments",
    "ApplyResult": "cancelflow._portal_config.apply",
    "Arm": "cancelflow._policy.experiments",
    "ArmFigures": "cancelflow._reports.model",
    "BacktestRecord": "cancelflow._backtest.backtest",
    "BacktestReport": "cancelflow._backtest.backtest",
    "BillingCycleAnchor": "cancelflow._portal_config.model",
    "BillingMode": "cancelflow._stripe.subscription_data",
    "Breakdown": "cancelflow._reports.model",
    "BusinessProfileSpec": "cancelflow._portal_config.model",
    "CancelLink": "cancelflow._links.cancelflow",
    "CancelMode": "cancelflow._stripe.portal",
    "Cancelflow": "cancelflow._links.cancelflow",
    "CancellationDetails": "cancelflow._stripe.details",
    "CancellationEvent": "cancelflow._outcomes.events",
    "CancellationFeedback": "cancelflow._stripe.reasons",
    "CancellationReason": "cancelflow._stripe.reasons",
    "CancellationReasonFeature": "cancelflow._stripe.portal",
    "CancellationReasonSpec": "cancelflow._portal_config.model",
    "CancellationScheduled": "cancelflow._outcomes.events",
    "CancellationWithdrawn": "cancelflow._outcomes.events",
    "Case": "cancelflow._outcomes.ledger",
    "CaseState": "cancelflow._outcomes.ledger",
    "CommentRow": "cancelflow._reports.model",
    "Condition": "cancelflow._policy.segments",
    "ConfigMatch": "cancelflow._portal_config.model",
    "ConfigurationPlan": "cancelflow._portal_config.plan",
    "Coupon": "cancelflow._stripe.coupon",
    "CouponCache": "cancelflow._links.coupon_cache",
    "CouponDuration": "cancelflow._stripe.coupon",
    "CouponProblem": "cancelflow._stripe.coupon",
    "CouponSource": "cancelflow._policy.guards",
    "CustomerFacts": "cancelflow._policy.context",
    "CustomerHistory": "cancelflow._policy.history",
    "CustomerSnapshot": "cancelflow._stripe.customer",
    "CustomerUpdateField": "cancelflow._portal_config.model",
    "CustomerUpdateSpec": "cancelflow._portal_config.model",
    "Decision": "cancelflow._policy.decision",
    "DecisionContext": "cancelflow._policy.context",
    "DiscountRef": "cancelflow._stripe.subscription",
    "EventKind": "cancelflow._outcomes.events",
    "Experiment": "cancelflow._policy.experiments",
    "FeaturesSpec": "cancelflow._portal_config.model",
    "FeedbackLabels": "cancelflow._stripe.labels",
    "FeedbackOption": "cancelflow._stripe.feedback_option",
    "FeedbackOptionPlan": "cancelflow._portal_config.plan",
    "FeedbackOptionRef": "cancelflow._stripe.details",
    "FeedbackReceived": "cancelflow._outcomes.events",
    "FieldChange": "cancelflow._portal_config.plan",
    "Guard": "cancelflow._policy.guards",
    "GuardBlock": "cancelflow._policy.guards",
    "Guards": "cancelflow._policy.guards",
    "HostedConfirmation": "cancelflow._links.deeplink",
    "InvoiceHistorySpec": "cancelflow._portal_config.model",
    "LOCALES": "cancelflow._links.deeplink",
    "Ledger": "cancelflow._outcomes.ledger",
    "LedgerProblem": "cancelflow._outcomes.ledger",
    "Lift": "cancelflow._reports.model",
    "LinkRecord": "cancelflow._outcomes.ledger",
    "LoginPageSpec": "cancelflow._portal_config.model",
    "MemoryLedger": "cancelflow._outcomes.ledger_memory",
    "NoOffer": "cancelflow._policy.offers",
    "Not": "cancelflow._policy.segments",
    "NotAboutCancellation": "cancelflow._outcomes.events",
    "Offer": "cancelflow._policy.offers",
    "OfferFigures": "cancelflow._reports.model",
    "OfferHistory": "cancelflow._policy.history",
    "OfferRedeemed": "cancelflow._outcomes.events",
    "Outcome": "cancelflow._policy.policy",
    "PauseDurationSpec": "cancelflow._portal_config.model",
    "PauseDurationType": "cancelflow._portal_config.model",
    "PauseInterval": "cancelflow._portal_config.model",
    "PauseIntervalSpec": "cancelflow._portal_config.model",
    "PaymentMethodUpdateSpec": "cancelflow._portal_config.model",
    "PlanAction": "cancelflow._portal_config.plan",
    "PortalConfigFile": "cancelflow._portal_config.files",
    "PortalConfigPlan": "cancelflow._portal_config.plan",
    "PortalConfigSpec": "cancelflow._portal_config.model",
    "PortalConfiguration": "cancelflow._stripe.portal",
    "PortalHomepage": "cancelflow._links.deeplink",
    "PortalLink": "cancelflow._links.cancelflow",
    "PortalSession": "cancelflow._stripe.portal",
    "PostgresLedger": "cancelflow._outcomes.ledger_postgres",
    "Predicate": "cancelflow._policy.segments",
    "PriceBreakdown": "cancelflow._reports.model",
    "ProductSpec": "cancelflow._portal_config.model",
    "ProrationBehavior": "cancelflow._stripe.portal",
    "Range": "cancelflow._policy.segments",
    "Rate": "cancelflow._reports.model",
    "RateLimitWait": "cancelflow._reports.stripe_report",
    "Redirect": "cancelflow._links.deeplink",
    "Report": "cancelflow._reports.model",
    "ReportSummary": "cancelflow._reports.model",
    "RetentionPolicy": "cancelflow._policy.policy",
    "RevenueFigures": "cancelflow._reports.model",
    "Rule": "cancelflow._policy.policy",
    "SQLiteLedger": "cancelflow._outcomes.ledger_sqlite",
    "ScanProgress": "cancelflow._reports.stripe_report",
    "ScheduleCondition": "cancelflow._portal_config.model",
    "Segment": "cancelflow._policy.segments",
    "SignatureVerifier": "cancelflow._outcomes.signature",
    "StripeGateway": "cancelflow._stripe.gateway",
    "SubscriptionCancelFeature": "cancelflow._stripe.portal",
    "SubscriptionCancelSpec": "cancelflow._portal_config.model",
    "SubscriptionEnded": "cancelflow._outcomes.events",
    "SubscriptionItemSnapshot": "cancelflow._stripe.subscription",
    "SubscriptionPage": "cancelflow._stripe.gateway",
    "SubscriptionPauseSpec": "cancelflow._portal_config.model",
    "SubscriptionSnapshot": "cancelflow._stripe.subscription",
    "SubscriptionStatus": "cancelflow._stripe.subscription_data",
    "SubscriptionUpdateField": "cancelflow._portal_config.model",
    "SubscriptionUpdateSpec": "cancelflow._portal_config.model",
    "TrialUpdateBehavior": "cancelflow._portal_config.model",
    "WebhookHandler": "cancelflow._outcomes.webhooks",
    "WithdrawnFigures": "cancelflow._reports.model",
    "apply_portal_config": "cancelflow._portal_config.apply",
    "backtest": "cancelflow._backtest.backtest",
    "backtest_file": "cancelflow._backtest.parallel",
    "build_cancel_session_params": "cancelflow._links.deeplink",
    "build_portal_session_params": "cancelflow._links.deeplink",
    "dump_policy": "cancelflow._policy.toml",
    "dump_portal_config": "cancelflow._portal_config.files",
    "experiment_bucket": "cancelflow._policy.experiments",
    "export_portal_config": "cancelflow._portal_config.apply",
    "fold_cases": "cancelflow._outcomes.ledger",
    "handle_webhook": "cancelflow._outcomes.webhooks",
    "load_policy": "cancelflow._policy.toml",
    "load_portal_config": "cancelflow._portal_config.files",
    "parse_event": "cancelflow._outcomes.events",
    "parse_policy": "cancelflow._policy.toml",
    "parse_portal_config": "cancelflow._portal_config.files",
    "plan_portal_config": "cancelflow._portal_config.apply",
    "read_history": "cancelflow._backtest.jsonl",
    "records_from_ledger": "cancelflow._backtest.sources",
    "records_from_stripe": "cancelflow._backtest.sources",
    "report_from_ledger": "cancelflow._reports.ledger_report",
    "report_from_stripe": "cancelflow._reports.stripe_report",
    "sign_webhook": "cancelflow._outcomes.signature",
}

__all__ = [
    "LOCALES",
    "AdjustableQuantitySpec",
    "AfterCompletion",
    "AllOf",
    "AllowedHosts",
    "AnyOf",
    "ApplyResult",
    "Arm",
    "ArmFigures",
    "BacktestRecord",
    "BacktestReport",
    "BillingCycleAnchor",
    "BillingMode",
    "Breakdown",
    "BusinessProfileSpec",
    "CancelLink",
    "CancelMode",
    "Cancelflow",
    "CancelflowError",
    "CancellationDetails",
    "CancellationEvent",
    "CancellationFeedback",
    "CancellationReason",
    "CancellationReasonFeature",
    "CancellationReasonSpec",
    "CancellationScheduled",
    "CancellationWithdrawn",
    "Case",
    "CaseState",
    "CommentRow",
    "Condition",
    "ConfigMatch",
    "ConfigurationPlan",
    "Coupon",
    "CouponCache",
    "CouponDuration",
    "CouponProblem",
    "CouponSource",
    "CustomerFacts",
    "CustomerHistory",
    "CustomerSnapshot",
    "CustomerUpdateField",
    "CustomerUpdateSpec",
    "Decision",
    "DecisionContext",
    "DiscountRef",
    "EventKind",
    "Experiment",
    "FeaturesSpec",
    "FeedbackLabels",
    "FeedbackOption",
    "FeedbackOptionPlan",
    "FeedbackOptionRef",
    "FeedbackReceived",
    "FieldChange",
    "Guard",
    "GuardBlock",
    "Guards",
    "HostedConfirmation",
    "InvoiceHistorySpec",
    "Ledger",
    "LedgerProblem",
    "Lift",
    "LinkRecord",
    "LoginPageSpec",
    "MemoryLedger",
    "NoOffer",
    "Not",
    "NotAboutCancellation",
    "Offer",
    "OfferFigures",
    "OfferHistory",
    "OfferRedeemed",
    "Outcome",
    "PauseDurationSpec",
    "PauseDurationType",
    "PauseInterval",
    "PauseIntervalSpec",
    "PaymentMethodUpdateSpec",
    "PlanAction",
    "PortalConfigFile",
    "PortalConfigPlan",
    "PortalConfigSpec",
    "PortalConfiguration",
    "PortalHomepage",
    "PortalLink",
    "PortalSession",
    "PostgresLedger",
    "Predicate",
    "PriceBreakdown",
    "ProductSpec",
    "ProrationBehavior",
    "Range",
    "Rate",
    "RateLimitWait",
    "Redirect",
    "Report",
    "ReportSummary",
    "RetentionPolicy",
    "RevenueFigures",
    "Rule",
    "SQLiteLedger",
    "ScanProgress",
    "ScheduleCondition",
    "Segment",
    "SignatureVerifier",
    "StripeGateway",
    "SubscriptionCancelFeature",
    "SubscriptionCancelSpec",
    "SubscriptionEnded",
    "SubscriptionItemSnapshot",
    "SubscriptionPage",
    "SubscriptionPauseSpec",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
    "SubscriptionUpdateField",
    "SubscriptionUpdateSpec",
    "TrialUpdateBehavior",
    "WebhookHandler",
    "WithdrawnFigures",
    "apply_portal_config",
    "backtest",
    "backtest_file",
    "build_cancel_session_params",
    "build_portal_session_params",
    "dump_policy",
    "dump_portal_config",
    "exceptions",
    "experiment_bucket",
    "export_portal_config",
    "fold_cases",
    "handle_webhook",
    "load_policy",
    "load_portal_config",
    "parse_event",
    "parse_policy",
    "parse_portal_config",
    "plan_portal_config",
    "read_history",
    "records_from_ledger",
    "records_from_stripe",
    "report_from_ledger",
    "report_from_stripe",
    "sign_webhook",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        loaded = import_module(module)
        # Load (and fix up) every public name of that module at once.
        for other, where in _LAZY.items():
            if where == module:
                globals()[other] = _fix_module(getattr(loaded, other))
        return globals()[name]
    if name == "__version__":
        from importlib.metadata import version

        return version("cancelflow")
    msg = f"module 'cancelflow' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _fix_module(obj: Any) -> Any:
    """Show public classes as ``cancelflow.Name`` (reprs, docs, pickles)."""
    if isinstance(obj, type) and obj.__module__.startswith("cancelflow._"):
        obj.__module__ = "cancelflow"
    return obj

"""cancelflow: own the cancellation path of Stripe's customer portal.

Importing this package is cheap: it does not import ``stripe`` (about 200 ms
and 40 MB), and it does not even import the models. Each public name is loaded
from its private module the first time it is used (``cancelflow.Cancelflow``,
``from cancelflow import Cancelflow``); the gateway imports ``stripe`` only
when it talks to Stripe.

Adding a public name: import it in the ``TYPE_CHECKING`` block (for type
checkers), add it to ``_LAZY`` (name → module) and to the sorted ``__all__``.
``tests/test_import_cost.py`` checks that the three agree.
"""

from __future__ import annotations

from importlib import import_module

from cancelflow import exceptions
from cancelflow.exceptions import CancelflowError

# Not ``typing.TYPE_CHECKING``: importing typing alone (with re, enum, ...) would
# cost more than the rest of ``import cancelflow``. Type checkers treat any
# ``TYPE_CHECKING`` name as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from cancelflow._backtest import BacktestRecord, BacktestReport, backtest
    from cancelflow._backtest_file import backtest_file
    from cancelflow._cancelflow import Cancelflow, CancelLink, PortalLink
    from cancelflow._context import CustomerFacts, DecisionContext
    from cancelflow._coupon import Coupon, CouponDuration, CouponProblem
    from cancelflow._coupon_cache import CouponCache
    from cancelflow._customer import CustomerSnapshot
    from cancelflow._decision import Decision
    from cancelflow._deeplink import (
        LOCALES,
        AfterCompletion,
        HostedConfirmation,
        PortalHomepage,
        Redirect,
        build_cancel_session_params,
        build_portal_session_params,
    )
    from cancelflow._details import CancellationDetails, FeedbackOptionRef
    from cancelflow._events import (
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
    from cancelflow._experiments import (
        Arm,
        Experiment,
        experiment_bucket,
    )
    from cancelflow._gateway import StripeGateway
    from cancelflow._guards import (
        CouponSource,
        Guard,
        GuardBlock,
        Guards,
    )
    from cancelflow._history import CustomerHistory, OfferHistory
    from cancelflow._history_jsonl import read_history
    from cancelflow._history_sources import records_from_ledger, records_from_stripe
    from cancelflow._labels import FeedbackLabels
    from cancelflow._ledger import (
        Case,
        CaseState,
        Ledger,
        LinkRecord,
        fold_cases,
    )
    from cancelflow._ledger_memory import MemoryLedger
    from cancelflow._ledger_postgres import PostgresLedger
    from cancelflow._ledger_sqlite import SQLiteLedger
    from cancelflow._offers import NoOffer, Offer
    from cancelflow._policy import (
        Outcome,
        RetentionPolicy,
        Rule,
    )
    from cancelflow._policy_toml import (
        dump_policy,
        load_policy,
        parse_policy,
    )
    from cancelflow._portal import (
        CancellationReasonFeature,
        CancelMode,
        PortalConfiguration,
        PortalSession,
        ProrationBehavior,
        SubscriptionCancelFeature,
    )
    from cancelflow._reasons import CancellationFeedback, CancellationReason
    from cancelflow._segments import (
        AllOf,
        AnyOf,
        Condition,
        Not,
        Predicate,
        Range,
        Segment,
    )
    from cancelflow._signature import SignatureVerifier, sign_webhook
    from cancelflow._subscription import (
        DiscountRef,
        SubscriptionItemSnapshot,
        SubscriptionSnapshot,
    )
    from cancelflow._subscription_data import BillingMode, SubscriptionStatus
    from cancelflow._urls import AllowedHosts
    from cancelflow._webhooks import WebhookHandler, handle_webhook
#: Where each lazily loaded public name lives.
_LAZY: dict[str, str] = {
    "AfterCompletion": "cancelflow._deeplink",
    "AllOf": "cancelflow._segments",
    "AllowedHosts": "cancelflow._urls",
    "AnyOf": "cancelflow._segments",
    "Arm": "cancelflow._experiments",
    "BacktestRecord": "cancelflow._backtest",
    "BacktestReport": "cancelflow._backtest",
    "BillingMode": "cancelflow._subscription_data",
    "CancelLink": "cancelflow._cancelflow",
    "CancelMode": "cancelflow._portal",
    "Cancelflow": "cancelflow._cancelflow",
    "CancellationDetails": "cancelflow._details",
    "CancellationEvent": "cancelflow._events",
    "CancellationFeedback": "cancelflow._reasons",
    "CancellationReason": "cancelflow._reasons",
    "CancellationReasonFeature": "cancelflow._portal",
    "CancellationScheduled": "cancelflow._events",
    "CancellationWithdrawn": "cancelflow._events",
    "Case": "cancelflow._ledger",
    "CaseState": "cancelflow._ledger",
    "Condition": "cancelflow._segments",
    "Coupon": "cancelflow._coupon",
    "CouponCache": "cancelflow._coupon_cache",
    "CouponDuration": "cancelflow._coupon",
    "CouponProblem": "cancelflow._coupon",
    "CouponSource": "cancelflow._guards",
    "CustomerFacts": "cancelflow._context",
    "CustomerHistory": "cancelflow._history",
    "CustomerSnapshot": "cancelflow._customer",
    "Decision": "cancelflow._decision",
    "DecisionContext": "cancelflow._context",
    "DiscountRef": "cancelflow._subscription",
    "EventKind": "cancelflow._events",
    "Experiment": "cancelflow._experiments",
    "FeedbackLabels": "cancelflow._labels",
    "FeedbackOptionRef": "cancelflow._details",
    "FeedbackReceived": "cancelflow._events",
    "Guard": "cancelflow._guards",
    "GuardBlock": "cancelflow._guards",
    "Guards": "cancelflow._guards",
    "HostedConfirmation": "cancelflow._deeplink",
    "LOCALES": "cancelflow._deeplink",
    "Ledger": "cancelflow._ledger",
    "LinkRecord": "cancelflow._ledger",
    "MemoryLedger": "cancelflow._ledger_memory",
    "NoOffer": "cancelflow._offers",
    "Not": "cancelflow._segments",
    "NotAboutCancellation": "cancelflow._events",
    "Offer": "cancelflow._offers",
    "OfferHistory": "cancelflow._history",
    "OfferRedeemed": "cancelflow._events",
    "Outcome": "cancelflow._policy",
    "PortalConfiguration": "cancelflow._portal",
    "PortalHomepage": "cancelflow._deeplink",
    "PortalLink": "cancelflow._cancelflow",
    "PortalSession": "cancelflow._portal",
    "PostgresLedger": "cancelflow._ledger_postgres",
    "Predicate": "cancelflow._segments",
    "ProrationBehavior": "cancelflow._portal",
    "Range": "cancelflow._segments",
    "Redirect": "cancelflow._deeplink",
    "RetentionPolicy": "cancelflow._policy",
    "Rule": "cancelflow._policy",
    "SQLiteLedger": "cancelflow._ledger_sqlite",
    "Segment": "cancelflow._segments",
    "SignatureVerifier": "cancelflow._signature",
    "StripeGateway": "cancelflow._gateway",
    "SubscriptionCancelFeature": "cancelflow._portal",
    "SubscriptionEnded": "cancelflow._events",
    "SubscriptionItemSnapshot": "cancelflow._subscription",
    "SubscriptionSnapshot": "cancelflow._subscription",
    "SubscriptionStatus": "cancelflow._subscription_data",
    "WebhookHandler": "cancelflow._webhooks",
    "backtest": "cancelflow._backtest",
    "backtest_file": "cancelflow._backtest_file",
    "build_cancel_session_params": "cancelflow._deeplink",
    "build_portal_session_params": "cancelflow._deeplink",
    "dump_policy": "cancelflow._policy_toml",
    "experiment_bucket": "cancelflow._experiments",
    "fold_cases": "cancelflow._ledger",
    "handle_webhook": "cancelflow._webhooks",
    "load_policy": "cancelflow._policy_toml",
    "parse_event": "cancelflow._events",
    "parse_policy": "cancelflow._policy_toml",
    "read_history": "cancelflow._history_jsonl",
    "records_from_ledger": "cancelflow._history_sources",
    "records_from_stripe": "cancelflow._history_sources",
    "sign_webhook": "cancelflow._signature",
}

__all__ = [
    "LOCALES",
    "AfterCompletion",
    "AllOf",
    "AllowedHosts",
    "AnyOf",
    "Arm",
    "BacktestRecord",
    "BacktestReport",
    "BillingMode",
    "CancelLink",
    "CancelMode",
    "Cancelflow",
    "CancelflowError",
    "CancellationDetails",
    "CancellationEvent",
    "CancellationFeedback",
    "CancellationReason",
    "CancellationReasonFeature",
    "CancellationScheduled",
    "CancellationWithdrawn",
    "Case",
    "CaseState",
    "Condition",
    "Coupon",
    "CouponCache",
    "CouponDuration",
    "CouponProblem",
    "CouponSource",
    "CustomerFacts",
    "CustomerHistory",
    "CustomerSnapshot",
    "Decision",
    "DecisionContext",
    "DiscountRef",
    "EventKind",
    "Experiment",
    "FeedbackLabels",
    "FeedbackOptionRef",
    "FeedbackReceived",
    "Guard",
    "GuardBlock",
    "Guards",
    "HostedConfirmation",
    "Ledger",
    "LinkRecord",
    "MemoryLedger",
    "NoOffer",
    "Not",
    "NotAboutCancellation",
    "Offer",
    "OfferHistory",
    "OfferRedeemed",
    "Outcome",
    "PortalConfiguration",
    "PortalHomepage",
    "PortalLink",
    "PortalSession",
    "PostgresLedger",
    "Predicate",
    "ProrationBehavior",
    "Range",
    "Redirect",
    "RetentionPolicy",
    "Rule",
    "SQLiteLedger",
    "Segment",
    "SignatureVerifier",
    "StripeGateway",
    "SubscriptionCancelFeature",
    "SubscriptionEnded",
    "SubscriptionItemSnapshot",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
    "WebhookHandler",
    "backtest",
    "backtest_file",
    "build_cancel_session_params",
    "build_portal_session_params",
    "dump_policy",
    "exceptions",
    "experiment_bucket",
    "fold_cases",
    "handle_webhook",
    "load_policy",
    "parse_event",
    "parse_policy",
    "read_history",
    "records_from_ledger",
    "records_from_stripe",
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

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
from typing import TYPE_CHECKING, Any

from cancelflow import exceptions
from cancelflow.exceptions import CancelflowError

if TYPE_CHECKING:
    from cancelflow._cancelflow import Cancelflow, CancelLink, PortalLink
    from cancelflow._coupon import Coupon, CouponDuration, CouponProblem
    from cancelflow._customer import CustomerSnapshot
    from cancelflow._deeplink import (
        LOCALES,
        AfterCompletion,
        HostedConfirmation,
        PortalHomepage,
        Redirect,
        build_cancel_session_params,
        build_portal_session_params,
    )
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
    from cancelflow._gateway import StripeGateway
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
    from cancelflow._portal import (
        CancellationReasonFeature,
        CancelMode,
        PortalConfiguration,
        PortalSession,
        ProrationBehavior,
        SubscriptionCancelFeature,
    )
    from cancelflow._reasons import (
        CancellationDetails,
        CancellationFeedback,
        CancellationReason,
        FeedbackLabels,
        FeedbackOptionRef,
    )
    from cancelflow._signature import SignatureVerifier, sign_webhook
    from cancelflow._subscription import (
        BillingMode,
        DiscountRef,
        SubscriptionItemSnapshot,
        SubscriptionSnapshot,
        SubscriptionStatus,
    )
    from cancelflow._urls import AllowedHosts
    from cancelflow._webhooks import WebhookHandler, handle_webhook

#: Where each lazily loaded public name lives.
_LAZY: dict[str, str] = {
    "AfterCompletion": "cancelflow._deeplink",
    "AllowedHosts": "cancelflow._urls",
    "BillingMode": "cancelflow._subscription",
    "CancelLink": "cancelflow._cancelflow",
    "CancelMode": "cancelflow._portal",
    "Cancelflow": "cancelflow._cancelflow",
    "CancellationDetails": "cancelflow._reasons",
    "CancellationEvent": "cancelflow._events",
    "CancellationFeedback": "cancelflow._reasons",
    "CancellationReason": "cancelflow._reasons",
    "CancellationReasonFeature": "cancelflow._portal",
    "CancellationScheduled": "cancelflow._events",
    "CancellationWithdrawn": "cancelflow._events",
    "Case": "cancelflow._ledger",
    "CaseState": "cancelflow._ledger",
    "Coupon": "cancelflow._coupon",
    "CouponDuration": "cancelflow._coupon",
    "CouponProblem": "cancelflow._coupon",
    "CustomerSnapshot": "cancelflow._customer",
    "DiscountRef": "cancelflow._subscription",
    "EventKind": "cancelflow._events",
    "FeedbackLabels": "cancelflow._reasons",
    "FeedbackOptionRef": "cancelflow._reasons",
    "FeedbackReceived": "cancelflow._events",
    "HostedConfirmation": "cancelflow._deeplink",
    "LOCALES": "cancelflow._deeplink",
    "Ledger": "cancelflow._ledger",
    "LinkRecord": "cancelflow._ledger",
    "MemoryLedger": "cancelflow._ledger_memory",
    "NotAboutCancellation": "cancelflow._events",
    "OfferRedeemed": "cancelflow._events",
    "PortalConfiguration": "cancelflow._portal",
    "PortalHomepage": "cancelflow._deeplink",
    "PortalLink": "cancelflow._cancelflow",
    "PortalSession": "cancelflow._portal",
    "PostgresLedger": "cancelflow._ledger_postgres",
    "ProrationBehavior": "cancelflow._portal",
    "Redirect": "cancelflow._deeplink",
    "SQLiteLedger": "cancelflow._ledger_sqlite",
    "SignatureVerifier": "cancelflow._signature",
    "StripeGateway": "cancelflow._gateway",
    "SubscriptionCancelFeature": "cancelflow._portal",
    "SubscriptionEnded": "cancelflow._events",
    "SubscriptionItemSnapshot": "cancelflow._subscription",
    "SubscriptionSnapshot": "cancelflow._subscription",
    "SubscriptionStatus": "cancelflow._subscription",
    "WebhookHandler": "cancelflow._webhooks",
    "build_cancel_session_params": "cancelflow._deeplink",
    "build_portal_session_params": "cancelflow._deeplink",
    "fold_cases": "cancelflow._ledger",
    "handle_webhook": "cancelflow._webhooks",
    "parse_event": "cancelflow._events",
    "sign_webhook": "cancelflow._signature",
}

__all__ = [
    "LOCALES",
    "AfterCompletion",
    "AllowedHosts",
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
    "Coupon",
    "CouponDuration",
    "CouponProblem",
    "CustomerSnapshot",
    "DiscountRef",
    "EventKind",
    "FeedbackLabels",
    "FeedbackOptionRef",
    "FeedbackReceived",
    "HostedConfirmation",
    "Ledger",
    "LinkRecord",
    "MemoryLedger",
    "NotAboutCancellation",
    "OfferRedeemed",
    "PortalConfiguration",
    "PortalHomepage",
    "PortalLink",
    "PortalSession",
    "PostgresLedger",
    "ProrationBehavior",
    "Redirect",
    "SQLiteLedger",
    "SignatureVerifier",
    "StripeGateway",
    "SubscriptionCancelFeature",
    "SubscriptionEnded",
    "SubscriptionItemSnapshot",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
    "WebhookHandler",
    "build_cancel_session_params",
    "build_portal_session_params",
    "exceptions",
    "fold_cases",
    "handle_webhook",
    "parse_event",
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

"""Test helpers for code that uses cancelflow and Stripe (``cancelflow.testing``).

:class:`FakeStripe` is an in-memory Stripe test-mode account that the host's
unchanged stripe-python code talks to. Importing this package does not import
``stripe``; a FakeStripe imports it when first used.
"""

from __future__ import annotations

from cancelflow.testing._clock import FakeClock
from cancelflow.testing._fake import FakeStripe
from cancelflow.testing._faults import Fault, Faults, InjectedFault
from cancelflow.testing._portal import Portal, PortalOutcome, PortalVisit
from cancelflow.testing._webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "FakeClock",
    "FakeStripe",
    "Fault",
    "Faults",
    "InjectedFault",
    "Portal",
    "PortalOutcome",
    "PortalVisit",
    "WebhookDelivery",
    "WebhookEndpoint",
]


def _fix_module() -> None:
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("cancelflow.testing._"):
            obj.__module__ = "cancelflow.testing"


_fix_module()

"""Test helpers for code that uses cancelflow and Stripe (``cancelflow.testing``).

:class:`FakeStripe` is an in-memory Stripe test-mode account that the host's
unchanged stripe-python code talks to. Importing this package is cheap: it
imports neither ``stripe`` nor the fake itself (pytest loads
``cancelflow.testing._pytest_plugin`` in every run of a project that installs
cancelflow); each public name is loaded from its private module on first use,
and a FakeStripe imports ``stripe`` when first used.

Adding a public name: import it in the ``TYPE_CHECKING`` block, add it to
``_LAZY`` (name → module) and to the sorted ``__all__``.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: keep the import cheap

if TYPE_CHECKING:
    from typing import Any

    from cancelflow.testing._clock import FakeClock
    from cancelflow.testing._fake import FakeStripe
    from cancelflow.testing._faults import Fault, Faults, InjectedFault
    from cancelflow.testing._portal import Portal, PortalOutcome, PortalVisit
    from cancelflow.testing._server.forward import ForwardedDelivery
    from cancelflow.testing._server.server import FakeServer
    from cancelflow.testing._webhooks import WebhookDelivery, WebhookEndpoint

_LAZY = {
    "FakeClock": "cancelflow.testing._clock",
    "FakeServer": "cancelflow.testing._server.server",
    "FakeStripe": "cancelflow.testing._fake",
    "Fault": "cancelflow.testing._faults",
    "Faults": "cancelflow.testing._faults",
    "ForwardedDelivery": "cancelflow.testing._server.forward",
    "InjectedFault": "cancelflow.testing._faults",
    "Portal": "cancelflow.testing._portal",
    "PortalOutcome": "cancelflow.testing._portal",
    "PortalVisit": "cancelflow.testing._portal",
    "WebhookDelivery": "cancelflow.testing._webhooks",
    "WebhookEndpoint": "cancelflow.testing._webhooks",
}

__all__ = [
    "FakeClock",
    "FakeServer",
    "FakeStripe",
    "Fault",
    "Faults",
    "ForwardedDelivery",
    "InjectedFault",
    "Portal",
    "PortalOutcome",
    "PortalVisit",
    "WebhookDelivery",
    "WebhookEndpoint",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'cancelflow.testing' has no attribute {name!r}"
        raise AttributeError(msg)
    loaded = import_module(module)
    for other, where in _LAZY.items():  # every public name of that module at once
        if where == module:
            obj = getattr(loaded, other)
            if isinstance(obj, type) and obj.__module__.startswith(
                "cancelflow.testing._"
            ):
                obj.__module__ = "cancelflow.testing"
            globals()[other] = obj
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""Test your Stripe code without Stripe: an in-memory account behind stripe-python.

:class:`FakeStripe` is a Stripe test-mode account in memory. Your own,
unchanged stripe-python code talks to it (through :meth:`FakeStripe.client`,
or everywhere inside :meth:`FakeStripe.install`); it keeps objects and their
state, drives the customer portal (:attr:`FakeStripe.portal`), moves its clock
(:attr:`FakeStripe.clock`) and delivers signed webhooks to your handlers:

```python
from cancelflow.testing import FakeStripe

fake = FakeStripe()
client = fake.client()  # a stripe.StripeClient
received = []
fake.add_webhook_endpoint(lambda body, headers: received.append(body))
customer = client.v1.customers.create(params={"email": "ada@example.com"})
assert customer.id.startswith("cus_")
assert received  # customer.created, signed
```

With pytest, installing cancelflow adds the ``fake_stripe`` and
``stripe_client`` fixtures (a fresh account per test); a webhook handler that
raises fails the test that caused it. :mod:`cancelflow.testing.strategies`
has Hypothesis strategies of Stripe-shaped data.
"""

from __future__ import annotations

from importlib import import_module

# For maintainers: importing this package imports neither ``stripe`` nor the
# fake (pytest loads ``cancelflow.testing._pytest_plugin`` in every run of a
# project that installs cancelflow); each public name is loaded from its private
# module on first use. A new public name goes in the ``TYPE_CHECKING`` block,
# in ``_LAZY`` (name → module) and in the sorted ``__all__``.
TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: keep the import cheap

if TYPE_CHECKING:
    from typing import Any

    from cancelflow.testing._clock import FakeClock
    from cancelflow.testing._dashboard import Dashboard
    from cancelflow.testing._fake import FakeStripe
    from cancelflow.testing._faults import Fault, Faults, InjectedFault
    from cancelflow.testing._latency import Latency
    from cancelflow.testing._portal import Portal, PortalOutcome, PortalVisit
    from cancelflow.testing._retries import RetrySchedule
    from cancelflow.testing._server.forward import ForwardedDelivery
    from cancelflow.testing._server.server import FakeServer
    from cancelflow.testing._webhooks import WebhookDelivery, WebhookEndpoint

_LAZY = {
    "Dashboard": "cancelflow.testing._dashboard",
    "FakeClock": "cancelflow.testing._clock",
    "FakeServer": "cancelflow.testing._server.server",
    "FakeStripe": "cancelflow.testing._fake",
    "Fault": "cancelflow.testing._faults",
    "Faults": "cancelflow.testing._faults",
    "ForwardedDelivery": "cancelflow.testing._server.forward",
    "InjectedFault": "cancelflow.testing._faults",
    "Latency": "cancelflow.testing._latency",
    "Portal": "cancelflow.testing._portal",
    "PortalOutcome": "cancelflow.testing._portal",
    "PortalVisit": "cancelflow.testing._portal",
    "RetrySchedule": "cancelflow.testing._retries",
    "WebhookDelivery": "cancelflow.testing._webhooks",
    "WebhookEndpoint": "cancelflow.testing._webhooks",
}

__all__ = [
    "Dashboard",
    "FakeClock",
    "FakeServer",
    "FakeStripe",
    "Fault",
    "Faults",
    "ForwardedDelivery",
    "InjectedFault",
    "Latency",
    "Portal",
    "PortalOutcome",
    "PortalVisit",
    "RetrySchedule",
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

"""The in-memory Stripe account behind a FakeStripe (strictly private).

`Backend` owns the state of one fake account: the clock, the id
counters, every resource's store (``backend.customers``,
``backend.subscriptions``, …), the event log, webhook endpoints and
idempotency keys. Every state change is a *backend operation* — a method of a
resource store such as ``backend.subscriptions.schedule_cancel(...)`` — that
changes records and emits the events Stripe would. The HTTP handlers call
those operations; so do the portal driver and the clock's advance hooks.

Events are delivered to webhook endpoints when the outermost
`Backend.operation` block ends, so a handler that calls back into the
fake always sees a finished change.

Extending the fake (portal driver, clock effects, faults):

* A state change is a method of the resource store that replaces records
  (``record.obj = {**record.obj, ...}``; never mutate a stored dict, events
  hold references to them) and emits through ``backend.emit(type, obj)`` or
  ``backend.emit_updated(type, before, after)`` (Stripe's
  ``previous_attributes``). Call it inside ``with backend.operation():`` so
  its events are delivered once it is done; outside any request the events'
  ``request`` is ``{"id": null, "idempotency_key": null}``.
* An API call is a `Route` in the
  resource module's ``ROUTES`` (listed in ``_api.ROUTES``): method, path,
  stripe-python params TypedDict, handler, operation name and the modeled
  parameters.
* Time: register ``clock.add_advance_hook(hook)`` when the backend is built;
  ``hook(target)`` steps the clock with ``clock._move_to(t)`` through what is
  due (``subscriptions.renew``, ``end_trial``, ``cancel_now(ended_at=...)``,
  ``remove_discount``) in order.
* Faults: append to ``backend.interceptors`` a callable ``(call) -> None``; it
  runs for every routed, validated request before the idempotency replay and
  the handler, and may raise `ApiError`
  (any status and type) or ``stripe.APIConnectionError``.
* Listeners: ``backend.listeners`` are called with every event right after
  it is emitted (the timeline learns what is due from them).

Built in: ``backend.timeline`` (what time drives, see ``_timeline``),
``backend.faults`` (``_faults``), ``backend.portal`` (the portal driver,
``_portal``) and ``backend.dashboard`` (settings outside the API, ``_dashboard``).
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from cancelflow.testing._clock import FakeClock
from cancelflow.testing._dashboard import Dashboard
from cancelflow.testing._errors import ApiError
from cancelflow.testing._events import EventLog, previous_attributes
from cancelflow.testing._expand import NOT_INCLUDABLE
from cancelflow.testing._faults import Faults
from cancelflow.testing._idempotency import IdempotencyStore
from cancelflow.testing._portal import Portal
from cancelflow.testing._resources._common import Store
from cancelflow.testing._resources.coupons import Coupons
from cancelflow.testing._resources.customers import Customers
from cancelflow.testing._resources.discounts import Discounts
from cancelflow.testing._resources.feedback_options import FeedbackOptions
from cancelflow.testing._resources.invoices import Invoices
from cancelflow.testing._resources.portal_configurations import PortalConfigurations
from cancelflow.testing._resources.portal_sessions import PortalSessions
from cancelflow.testing._resources.prices import Prices
from cancelflow.testing._resources.products import Products
from cancelflow.testing._resources.subscriptions import Subscriptions
from cancelflow.testing._routing import Call
from cancelflow.testing._timeline import Timeline
from cancelflow.testing._webhooks import Webhooks

__all__ = ["Backend", "Interceptor"]

JSON = dict[str, Any]
Interceptor = Callable[[Call], None]
"""Runs before a routed request executes; may raise ``ApiError`` (or any
exception, which stripe-python then sees from the HTTP client)."""

_ALPHABET: Final = string.ascii_letters + string.digits
_NO_REQUEST: Final[JSON] = {"id": None, "idempotency_key": None}


class Backend:
    """One fake Stripe account in memory."""

    #: The tag in the account's ids (``cus_`` + tag + counter); a class default
    #: so that an account pickled before it existed reads back.
    id_tag: str = "fake"

    def __init__(
        self,
        *,
        clock: FakeClock,
        webhooks: Webhooks,
        api_version: str,
        seed: int,
        id_tag: str = "fake",
    ) -> None:
        self.id_tag = id_tag
        self.clock = clock
        self.webhooks = webhooks
        self.api_version = api_version
        self.rng = random.Random(seed)  # noqa: S311 - deterministic tokens for tests
        self.lock = threading.RLock()
        self.idempotency = IdempotencyStore()
        self.interceptors: list[Interceptor] = []
        self.listeners: list[Callable[[JSON], None]] = []
        self._counters: dict[str, int] = {}
        self._request: JSON = _NO_REQUEST
        self._depth = 0
        self.events = EventLog(
            api_version=api_version,
            clock=clock.now,
            new_id=self.new_id,
            request=lambda: self._request,
            on_emit=webhooks.enqueue,
        )
        self.customers = Customers(self)
        self.products = Products(self)
        self.prices = Prices(self)
        self.coupons = Coupons(self)
        self.discounts = Discounts(self)
        self.subscriptions = Subscriptions(self)
        self.portal_configurations = PortalConfigurations(self)
        self.portal_sessions = PortalSessions(self)
        self.feedback_options = FeedbackOptions(self)
        self.invoices = Invoices(self)
        self.timeline = Timeline(self)
        self.faults = Faults(self)
        self.portal = Portal(self)
        self.dashboard = Dashboard(self)

    # -- ids and time ------------------------------------------------------------

    def now(self) -> int:
        return self.clock.now()

    def new_id(self, prefix: str) -> str:
        """The next id with *prefix* (``cus`` → ``cus_fake0000000001``): deterministic."""
        count = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = count
        return f"{prefix}_{self.id_tag}{count:010d}"

    def request_count(self) -> int:
        """How many request ids (``req_…``) have been handed out."""
        return self._counters.get("req", 0)

    def set_request_count(self, count: int) -> None:
        """Make the next request id ``req_…{count + 1}`` (a served fake replaying its
        journal gives each replayed request the id it had)."""
        self._counters["req"] = count

    def token(self, length: int = 24) -> str:
        """A random-looking token from the account's seeded generator."""
        return "".join(self.rng.choice(_ALPHABET) for _ in range(length))

    # -- operations and events ---------------------------------------------------

    @contextmanager
    def operation(
        self, *, request_id: str | None = None, idempotency_key: str | None = None
    ) -> Iterator[None]:
        """Group state changes; deliver their events when the outermost block ends.

        *request_id* and *idempotency_key* fill the ``request`` of the events
        emitted inside (``null`` for automatic changes: the clock, the portal).
        """
        with self.lock:
            outer_request = self._request
            if request_id is not None:
                self._request = {"id": request_id, "idempotency_key": idempotency_key}
            elif self._depth == 0:
                self._request = _NO_REQUEST
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                self._request = outer_request
                if self._depth == 0:
                    self.webhooks.flush()

    def emit(self, type_: str, obj: JSON, previous: JSON | None = None) -> JSON:
        """Emit one event about *obj* (a rendered snapshot); return the event."""
        event = self.events.emit(type_, obj, previous)
        for listener in self.listeners:
            listener(event)
        return event

    def emit_updated(self, type_: str, before: JSON, after: JSON) -> JSON | None:
        """Emit ``*.updated`` with Stripe's ``previous_attributes``, if anything changed."""
        previous = previous_attributes(before, after)
        if not previous:
            return None
        return self.emit(type_, after, previous)

    # -- lookups for expand ------------------------------------------------------

    def lookup(self, object_id: str, field: str) -> JSON:
        """The rendered object *object_id* names, for ``expand`` of *field*."""
        if field == "coupon":
            return self.coupons.render(self.coupons.get(object_id, param="expand"))
        prefix = object_id.split("_", 1)[0]
        finder = self._finders().get(prefix)
        if finder is None:
            raise ApiError.not_modeled(
                f"expanding {field} ({object_id})", param="expand"
            )
        return finder(object_id)

    def include(self, obj: JSON, field: str) -> Any:
        """An includable *field* of *obj* (``NOT_INCLUDABLE`` if it has none)."""
        stores: dict[str, Any] = {
            "coupon": self.coupons,
            "customer": self.customers,
            "price": self.prices,
        }
        store = stores.get(obj.get("object", ""))
        return NOT_INCLUDABLE if store is None else store.include(obj, field)

    def _customer_for_expand(self, customer_id: str) -> JSON:
        record = Store.get(self.customers, customer_id, param="expand")
        if record.deleted:  # a deleted customer expands to its stub, as in Stripe
            return {"id": customer_id, "object": "customer", "deleted": True}
        return self.customers.render(record)

    def _finders(self) -> dict[str, Callable[[str], JSON]]:
        return {
            "cus": self._customer_for_expand,
            "sub": lambda i: self.subscriptions.render(
                self.subscriptions.get(i, param="expand")
            ),
            "price": lambda i: self.prices.render(self.prices.get(i, param="expand")),
            "prod": lambda i: self.products.render(
                self.products.get(i, param="expand")
            ),
            "di": lambda i: self.discounts.render(
                self.discounts.get(i, param="expand")
            ),
            "bpc": lambda i: self.portal_configurations.render(
                self.portal_configurations.get(i, param="expand")
            ),
            "fo": lambda i: self.feedback_options.render(
                self.feedback_options.get(i, param="expand")
            ),
            "in": lambda i: self.invoices.render(self.invoices.get(i, param="expand")),
        }

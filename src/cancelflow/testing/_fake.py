"""``FakeStripe``: an in-memory Stripe account that stripe-python talks to."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing._clock import FakeClock
from cancelflow.testing._latency import NO_LATENCY, Latency, latency_of
from cancelflow.testing._webhooks import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookHandler,
    Webhooks,
)

if TYPE_CHECKING:
    import stripe

    from cancelflow.testing._backend import Backend
    from cancelflow.testing._dashboard import Dashboard
    from cancelflow.testing._faults import Faults
    from cancelflow.testing._headers import Headers
    from cancelflow.testing._http import FakeHTTPClient
    from cancelflow.testing._portal import Portal
    from cancelflow.testing._server.server import FakeServer

__all__ = ["FakeStripe"]

DEFAULT_API_KEY: Final = "sk_test_cancelflow_fake"
_SUPPORTED_STRIPE: Final = ((16, 1), (17, 0))
"""stripe-python versions whose private default-client hook ``install()`` patches
(from, up to but excluding)."""

_install_lock = threading.Lock()
_installed: FakeStripe | None = None


class FakeStripe:
    """A fresh, empty Stripe test-mode account in memory.

    The host's own, unchanged stripe-python code runs against it: through
    `client` (a ``stripe.StripeClient`` wired to the fake), through
    `http_client` (for code that takes an HTTP client), or through
    `install` (global ``stripe.*`` calls, and every ``stripe.StripeClient``
    built inside the block). Objects, errors, idempotency, pagination and
    events behave like Stripe's for the API version the installed
    stripe-python pins; what the fake does not model is refused with an error
    that names it.

    Args:
        start: where the fake clock starts (an aware ``datetime`` or unix
            seconds); ``2026-01-01T00:00:00Z`` by default.
        seed: seeds every generated token, session URL and webhook secret, so
            that a run can be replayed exactly. Ids are counters
            (``cus_fake0000000001``) either way.
        webhook_errors: what happens when a webhook handler (see
            `add_webhook_endpoint`) raises, beyond the failed delivery
            Stripe would record: ``"report"`` (the default) fails the running
            test under cancelflow's pytest plugin and does nothing more outside
            pytest; ``"raise"`` raises a
            [`WebhookHandlerError`][cancelflow.exceptions.WebhookHandlerError] (the handler's
            exception as its cause) from the call that delivered the event;
            ``"record"`` only records the failure, as Stripe does.

    Creating one costs next to nothing: the account is built on first use.

    Raises:
        FakeStripeError: *webhook_errors* is none of the three.
    """

    def __init__(
        self,
        *,
        start: dt.datetime | int | None = None,
        seed: int = 0,
        webhook_errors: Literal["report", "record", "raise"] = "report",
    ) -> None:
        self._webhooks = Webhooks(webhook_errors)
        self.clock = FakeClock(start)
        self._seed = seed
        self._backend: Backend | None = None
        self._http_client: FakeHTTPClient | None = None
        self._backend_hooks: list[Callable[[Backend], None]] = []
        self._latency = NO_LATENCY

    def __repr__(self) -> str:
        return f"<FakeStripe clock={self.clock.now_datetime().isoformat()}>"

    # -- plugging in -----------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The account's state and its operations (for extensions of the fake)."""
        backend = self._backend
        if backend is None:
            import stripe

            from cancelflow.testing._backend import Backend

            backend = self._backend = Backend(
                clock=self.clock,
                webhooks=self._webhooks,
                api_version=stripe.api_version,
                seed=self._seed,
            )
            for hook in tuple(self._backend_hooks):
                hook(backend)
        return backend

    def _on_backend(self, hook: Callable[[Backend], None]) -> None:
        """Run *hook(backend)* now if the account exists, and on every (re)built one.

        A served fake uses it to point session URLs at itself and to forward
        webhooks, also after :meth:`reset`.
        """
        self._backend_hooks.append(hook)
        if self._backend is not None:
            hook(self._backend)

    def _off_backend(self, hook: Callable[[Backend], None]) -> None:
        self._backend_hooks.remove(hook)

    @property
    def http_client(self) -> FakeHTTPClient:
        """The ``stripe.HTTPClient`` behind the fake (sync and async)."""
        client = self._http_client
        if client is None:
            from cancelflow.testing._http import FakeHTTPClient

            client = self._http_client = FakeHTTPClient(self._dispatch, self._delay)
        return client

    def _delay(self, method: str, url: str) -> float:
        latency = self._latency
        if not latency.routes:
            return latency.default
        from cancelflow.testing._api import operation_name

        return latency.for_operation(operation_name(method, url))

    def _dispatch(
        self, method: str, url: str, headers: Any, post_data: str | None
    ) -> tuple[str, int, Headers]:
        from cancelflow.testing._api import handle

        return handle(self.backend, method, url, headers, post_data)

    def client(
        self, api_key: str = DEFAULT_API_KEY, **options: Any
    ) -> stripe.StripeClient:
        """A ``stripe.StripeClient`` wired to the fake (sync and ``*_async`` calls).

        *options* go to ``stripe.StripeClient`` (``stripe_version``,
        ``max_network_retries``, …); ``http_client`` is the fake's.

        Args:
            api_key: the key the client sends (any `sk_test_…` works).
            **options: more `stripe.StripeClient` options (`stripe_version`,
                `max_network_retries`, …); `http_client` is the fake's.

        Returns:
            The `stripe.StripeClient`.
        """
        import stripe

        return stripe.StripeClient(api_key, http_client=self.http_client, **options)

    @contextlib.contextmanager
    def install(self, *, api_key: str | None = None) -> Iterator[FakeStripe]:
        """Route all of stripe-python to the fake inside the block.

        Sets ``stripe.default_http_client`` (global ``stripe.Customer.create(...)``
        style calls) and patches stripe-python's private default-client factory
        so that any ``stripe.StripeClient(key)`` the host builds inside the
        block uses the fake too. With *api_key*, also sets ``stripe.api_key``.
        Everything is restored on exit, also when the block raises. Only one
        FakeStripe can be installed at a time.

        Args:
            api_key: also set `stripe.api_key` to this inside the block.

        Returns:
            A context manager that gives this fake.

        Raises:
            FakeStripeError: another FakeStripe is installed, or the installed
                stripe-python's private hook is not one this version knows.
        """
        global _installed  # noqa: PLW0603 - the one process-wide patch, guarded
        import stripe
        from stripe import _http_client as hooks

        _check_stripe_version(stripe.VERSION, hooks)
        with _install_lock:
            if _installed is not None:
                raise FakeStripeError(
                    "a FakeStripe is already installed; leave its install() block first "
                    "(installs do not nest, and only one can be active per process)"
                )
            _installed = self
        saved = (
            stripe.default_http_client,
            stripe.api_key,
            hooks._default_sync_client,
            hooks._default_async_client,
        )
        fake_client = self.http_client

        def factory(*_args: object, **_kwargs: object) -> FakeHTTPClient:
            return fake_client

        stripe.default_http_client = fake_client
        hooks._default_sync_client = factory
        hooks._default_async_client = factory
        if api_key is not None:
            stripe.api_key = api_key
        try:
            yield self
        finally:
            (
                stripe.default_http_client,
                stripe.api_key,
                hooks._default_sync_client,
                hooks._default_async_client,
            ) = saved
            with _install_lock:
                _installed = None

    def serve(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        forward_to: Sequence[str] = (),
        webhook_secret: str | None = None,
    ) -> FakeServer:
        """Serve this account over HTTP on loopback, with the portal's pages.

        ``with fake.serve() as url:`` starts the server on a free port of
        127.0.0.1 and gives its base URL (``http://127.0.0.1:PORT``) for
        ``stripe.StripeClient(key, base_addresses={"api": url})``, ``curl`` or any
        language's Stripe SDK; portal sessions' ``url`` opens the cancel page in a
        browser. The in-process account and the served one are the same: what
        one changes, the other sees. The server stops when the block ends.

        Args:
            host: the interface to listen on. Anything but loopback is logged
                as a warning: the fake has no real authentication.
            port: the TCP port (``0``: a free one).
            forward_to: URLs to POST every event to, signed (see
                `FakeServer.webhook_secret`), with retries.
            webhook_secret: the ``whsec_…`` secret that signs forwarded events
                (one is generated otherwise).

        Returns:
            The [`FakeServer`][cancelflow.testing.FakeServer], not started yet;
            its context manager starts it and yields the URL.

        Example:
            ```python
            import stripe

            from cancelflow.testing import FakeStripe

            fake = FakeStripe()
            with fake.serve() as url:
                client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
                made = client.v1.customers.create(params={"email": "ada@example.com"})
            assert fake.client().v1.customers.retrieve(made.id).email == "ada@example.com"
            ```
        """
        from cancelflow.testing._server.server import FakeServer

        return FakeServer(
            self,
            host=host,
            port=port,
            forward_to=forward_to,
            webhook_secret=webhook_secret,
        )

    # -- latency ---------------------------------------------------------------------

    @property
    def latency(self) -> Latency:
        """The delay added to each request (none unless `set_latency` was called)."""
        return self._latency

    def set_latency(
        self,
        seconds: float | dt.timedelta = 0.0,
        *,
        routes: Mapping[str, float | dt.timedelta] | None = None,
    ) -> None:
        """Delay every request by *seconds*, or single operations by their own delay.

        The delay is spent in the fake's HTTP client before the request
        reaches the account, as a network would spend it: ``time.sleep`` for
        sync calls, ``await asyncio.sleep`` for ``*_async`` calls (so
        concurrent requests overlap), outside the account's lock. A request
        abandoned during its delay (a host's timeout) has changed nothing.
        The fake clock does not move. Each retry stripe-python makes is
        delayed again. ``set_latency()`` with no arguments removes every delay.

        Args:
            seconds: the delay of every request (a number of seconds or a
                ``timedelta``).
            routes: delays per operation, by the names fault injection uses
                (``"subscriptions.retrieve"``, ``"billing_portal.sessions.create"``);
                they replace *seconds* for those operations.

        Raises:
            FakeStripeError: a negative or non-finite delay, or an operation
                the fake does not model.

        Example:
            ```python
            import asyncio

            from cancelflow.testing import FakeStripe

            fake = FakeStripe()
            fake.set_latency(0.5, routes={"customers.list": 0.0})
            client = fake.client()
            client.v1.customers.list()                      # no delay
            try:                                            # the host's own timeout
                asyncio.run(asyncio.wait_for(
                    client.v1.customers.create_async(), timeout=0.01))
            except TimeoutError:
                pass
            assert client.v1.customers.list().data == []    # it never reached Stripe
            assert fake.clock.now() == fake.clock.start     # the fake clock did not move
            ```
        """
        self._latency = latency_of(seconds, routes)

    # -- the account -----------------------------------------------------------------

    @property
    def portal(self) -> Portal:
        """The customer portal: ``fake.portal.visit(session.url)`` acts as the customer."""
        return self.backend.portal

    @property
    def dashboard(self) -> Dashboard:
        """Settings made in Stripe's Dashboard, not the API (fake-only calls).

        ``fake.dashboard.save_portal_settings(features=...)`` saves the
        customer portal's settings, which creates the account's default
        configuration (sessions created without ``configuration`` need it,
        as in Stripe).
        """
        return self.backend.dashboard

    @property
    def faults(self) -> Faults:
        """Planned failures: ``fake.faults.fail_next("subscriptions.retrieve", "rate_limit")``."""
        return self.backend.faults

    def reset(self) -> None:
        """Forget everything: objects, events, idempotency keys, webhook endpoints.

        The clock goes back to where it started, and the latency to none.
        """
        self.clock._reset()
        self._latency = NO_LATENCY
        self._webhooks = Webhooks(self._webhooks.errors)
        self._backend = None

    def fail_next_renewal(self, customer: str, *, attempts: int | None = None) -> None:
        """Make the customer's next renewal payment fail (fake-only: a declining card).

        The next renewal of one of the customer's subscriptions (a period end,
        or a trial's end) gets an invoice whose payment fails: the
        subscription becomes `past_due`, and the payment is retried on the
        account's retry schedule
        ([`fake.dashboard.retry_schedule`][cancelflow.testing.Dashboard.retry_schedule]);
        when the last try has failed the subscription is canceled, marked
        `unpaid` or left `past_due`, as the schedule says. Each step emits the
        events Stripe would (`invoice.created`, `invoice.finalized`,
        `invoice.payment_failed`, `customer.subscription.updated`, …), as
        time advances. Only subscriptions that charge automatically are
        affected; the switch is used up by that one renewal.

        Args:
            customer: the `cus_…` id.
            attempts: how many payment attempts fail before one succeeds (the
                subscription then becomes `active` again); `None`, the
                default, for every attempt.

        Raises:
            FakeStripeError: no such customer, or *attempts* is not a whole
                number ≥ 1.

        Example:
            ```python
            import datetime as dt

            from cancelflow.testing import FakeStripe

            fake = FakeStripe()
            client = fake.client()
            price = client.v1.prices.create(params={
                "currency": "eur", "unit_amount": 900,
                "recurring": {"interval": "month"}, "product_data": {"name": "Pro"}})
            customer = client.v1.customers.create().id
            sub = client.v1.subscriptions.create(
                params={"customer": customer, "items": [{"price": price.id}]})
            fake.fail_next_renewal(customer)
            fake.clock.advance(dt.timedelta(days=32))
            assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
            ```
        """
        backend = self.backend
        given: object = customer  # untyped test code may pass anything
        record = (
            backend.customers.store.by_id.get(customer)
            if isinstance(given, str)
            else None
        )
        if record is None or record.deleted:
            raise FakeStripeError(
                f"fail_next_renewal: this fake account has no customer {given!r}"
            )
        count: object = attempts
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise FakeStripeError(
                "fail_next_renewal: attempts is how many payment attempts fail, a "
                f"whole number ≥ 1 (or None for all); got {count!r}"
            )
        backend.invoices.fail_next_renewal(customer, attempts)

    def add_webhook_endpoint(
        self,
        handler: WebhookHandler,
        *,
        secret: str | None = None,
        events: Iterable[str] | None = None,
        duplicates: float = 0.0,
        out_of_order: bool = False,
        seed: int | None = None,
        expect_failures: bool = False,
    ) -> str:
        """Deliver the account's events to a handler, as a webhook endpoint.

        *handler(body, headers)* gets the raw JSON body and a ``Stripe-Signature``
        header that ``stripe.Webhook.construct_event(body, headers["Stripe-Signature"],
        secret)`` accepts. It may return an HTTP status (≥ 300 counts as a
        failed delivery, nothing more). An exception is recorded as a failed
        delivery (status 500), as Stripe would, and does not break the API call
        that emitted the event; unless *expect_failures*, it is also reported:
        under cancelflow's pytest plugin the test fails, naming the event and
        showing the traceback (see the FakeStripe's ``webhook_errors``).

        Args:
            handler: called as `handler(body, headers)` for each delivery.
            secret: the ``whsec_…`` secret to sign with (one is generated otherwise).
            events: the event types to deliver (``*`` wildcards allowed); all by default.
            duplicates: the probability of delivering an event a second time.
            out_of_order: deliver each batch of events shuffled (use
                `hold_webhooks` to batch several API calls).
            seed: seeds the duplicates and shuffling (the FakeStripe's seed by default).
            expect_failures: the handler raising is part of the test: only
                record it (the pytest plugin does not fail the test).

        Returns:
            The endpoint's `whsec_…` signing secret.

        Example:
            ```python
            from cancelflow.testing import FakeStripe

            fake = FakeStripe(webhook_errors="record")  # never more than Stripe
            fake.add_webhook_endpoint(lambda body, headers: 1 / 0)
            fake.client().v1.customers.create()
            assert fake.webhook_endpoints[0].failures
            ```
        """
        backend = self.backend
        if secret is None:
            secret = "whsec_" + backend.token(32)
        self._webhooks.add(
            handler,
            secret=secret,
            events=None if events is None else frozenset(events),
            duplicates=duplicates,
            out_of_order=out_of_order,
            seed=self._seed if seed is None else seed,
            expect_failures=expect_failures,
        )
        return secret

    @property
    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """The endpoints added so far, each with its ``deliveries``."""
        return list(self._webhooks.endpoints)

    def hold_webhooks(self) -> contextlib.AbstractContextManager[None]:
        """Hold deliveries until the block ends, then deliver them in one batch.

        Returns:
            A context manager.
        """
        return self._webhooks.hold()

    def retry_failed_webhooks(self) -> list[WebhookDelivery]:
        """Deliver again each event an endpoint has not accepted yet (Stripe retries).

        Stripe retries a failed delivery for up to three days with an
        exponential back-off; the fake retries when you call this, once per
        call, with a fresh signature. Returns the new deliveries (their
        ``attempt`` counts from 2).

        Returns:
            The new deliveries (their `attempt` counts from 2).
        """
        events = self.backend.events.store.by_id
        return self._webhooks.retry_failed(lambda event_id: events[event_id].obj)


def _check_stripe_version(version: str, hooks: Any) -> None:
    try:
        parts = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        parts = (0, 0)
    low, high = _SUPPORTED_STRIPE
    if not low <= parts < high or not (
        callable(getattr(hooks, "_default_sync_client", None))
        and callable(getattr(hooks, "_default_async_client", None))
    ):
        raise FakeStripeError(
            f"FakeStripe.install() patches a private hook of stripe-python and knows "
            f"versions {low[0]}.{low[1]} to before {high[0]}.{high[1]}; the installed "
            f"stripe is {version}. Pass fake.client() or fake.http_client to your code "
            "instead (public API), or upgrade cancelflow."
        )

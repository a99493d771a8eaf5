"""The main entry point: `Cancelflow` creates checked cancel links.

How a cancel link is made — one flow, written once, for sync and async
------------------------------------------------------------------------

`Cancelflow._cancel_link_flow` is a generator that lists the steps in
order. Pure steps are plain calls; each I/O step is ``yield from io(sync,
async_)``, which hands both forms of the call to a driver. `run` runs the
flow with the sync calls, `run_async` awaits the async ones, so the two
public methods cannot drift apart. An exception raised by an I/O call is
thrown back into the flow at the ``yield``, where a step may catch it (this is
how "no such subscription" becomes `SubscriptionNotFoundError`).

To add a step (a retention policy choosing the coupon, a ledger recording the
link), add it to the flow at the right place: a pure step as a call, an I/O
step with ``yield from io(...)``. Nothing else changes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Generator, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar, cast

import attrs

from cancelflow._format import format_time
from cancelflow._ids import check_id
from cancelflow._links.coupon_cache import CouponCache
from cancelflow._links.deeplink import (
    AfterCompletion,
    build_cancel_session_params,
    build_portal_session_params,
    check_after_completion,
    check_locale,
)
from cancelflow._links.urls import AllowedHosts, as_allowed_hosts
from cancelflow._outcomes.ledger import Ledger, LinkRecord
from cancelflow._policy.history import EMPTY_HISTORY, CustomerHistory
from cancelflow._stripe.coupon import Coupon, CouponDuration, CouponProblem
from cancelflow._stripe.gateway import StripeGateway
from cancelflow._stripe.portal import PortalSession
from cancelflow._stripe.read import out_of_range
from cancelflow._stripe.subscription import SubscriptionSnapshot
from cancelflow.exceptions import (
    CouponCurrencyMismatchError,
    CouponForeverAmountOffError,
    CouponNotApplicableError,
    CouponNotFoundError,
    CouponNotValidError,
    CouponRefusedError,
    InvalidParameterError,
    LedgerError,
    LinkNotRecordedError,
    ManagedConfigurationNotFoundError,
    PortalConfigMatchError,
    StripeInvalidRequestError,
    StripeResourceMissingError,
    SubscriptionAlreadyScheduledError,
    SubscriptionNotCancelableError,
    SubscriptionNotFoundError,
    SubscriptionOwnershipError,
)

if TYPE_CHECKING:
    import stripe
    from stripe.params.billing_portal import SessionCreateParams

    # The policy's modules load when a link first needs a decision: a host
    # that imports Cancelflow without a policy does not pay for them.
    from cancelflow._policy.context import CustomerFacts
    from cancelflow._policy.decision import Decision
    from cancelflow._policy.policy import RetentionPolicy
    from cancelflow._portal_config.model import PortalConfigSpec

__all__ = ["CancelLink", "Cancelflow", "PortalLink"]

T = TypeVar("T")
A = TypeVar("A")


# -- the flow machinery ----------------------------------------------------------


@attrs.frozen
class IO:
    """One I/O step of a flow, in both forms: *sync* and *async_* make the same
    request."""

    sync: Callable[[], Any]
    async_: Callable[[], Awaitable[Any]]


Flow: TypeAlias = Generator[IO, Any, T]


def io(sync: Callable[[], T], async_: Callable[[], Awaitable[T]]) -> Flow[T]:
    """Run one I/O step inside a flow: ``result = yield from io(f, f_async)``."""
    result = yield IO(sync, async_)
    return cast("T", result)


def run(flow: Flow[T]) -> T:
    """Drive *flow* with the sync form of each I/O step."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            step = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as done:
            return cast("T", done.value)
        try:
            value, error = step.sync(), None
        except Exception as exc:  # noqa: BLE001 - thrown back into the flow
            value, error = None, exc


async def run_async(flow: Flow[T]) -> T:
    """Drive *flow*, awaiting the async form of each I/O step."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            step = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as done:
            return cast("T", done.value)
        try:
            value, error = await step.async_(), None
        except Exception as exc:  # noqa: BLE001 - thrown back into the flow
            value, error = None, exc


# -- results -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CancelLink:
    """A cancel link Stripe created for one customer and one subscription.

    Redirect the customer to `url` (or embed it) right away: portal
    sessions are short-lived. The URL logs the customer into their portal,
    so it is left out of ``repr``.

    Attributes:
        url: the portal URL that opens on the subscription's cancel page.
        session_id: the ``bps_…`` portal session id.
        subscription_id: the subscription the page cancels.
        customer_id: the customer the session is for.
        coupon: the retention coupon offered on the page, or ``None``.
        created: when Stripe created the session (unix seconds).
        session: everything Stripe said about the session.
        decision: the retention policy's decision, when a policy chose the
            coupon (``decision.explain()`` says why).
    """

    url: str = attrs.field(repr=False)
    session_id: str
    subscription_id: str
    customer_id: str
    coupon: Coupon | None = None
    created: int
    session: PortalSession = attrs.field(repr=False)
    decision: Decision | None = None

    @property
    def coupon_id(self) -> str | None:
        """The offered coupon's id, or ``None``."""
        return self.coupon.id if self.coupon else None


@attrs.frozen(kw_only=True)
class PortalLink:
    """A link to the portal's homepage (no flow), for one customer.

    Attributes:
        url: the portal URL (left out of ``repr``, like `CancelLink.url`).
        session_id: the ``bps_…`` portal session id.
        customer_id: the customer the session is for.
        created: when Stripe created the session (unix seconds).
        session: everything Stripe said about the session.
    """

    url: str = attrs.field(repr=False)
    session_id: str
    customer_id: str
    created: int
    session: PortalSession = attrs.field(repr=False)


# -- the pure checks ----------------------------------------------------------------


def check_subscription(snapshot: SubscriptionSnapshot, *, customer: str) -> None:
    """Refuse a cancel link for *snapshot* unless *customer* may cancel it now.

    Ownership is checked first, so nothing about another customer's
    subscription (its state included) is revealed.

    Raises:
        SubscriptionOwnershipError: it is another customer's subscription.
        SubscriptionNotCancelableError: it is ``canceled`` or ``incomplete_expired``.
        SubscriptionAlreadyScheduledError: it is already scheduled to cancel.
    """
    sid = snapshot.id
    if snapshot.customer != customer:
        raise SubscriptionOwnershipError(
            f"subscription {sid} does not belong to customer {customer}; no cancel "
            "link was created. Take subscription ids from this customer's own records.",
            subscription_id=sid,
        )
    if snapshot.ended:
        raise SubscriptionNotCancelableError(
            f"subscription {sid} has already ended (status {snapshot.status.value}); "
            "there is nothing left to cancel.",
            subscription_id=sid,
            status=snapshot.status.value,
        )
    if snapshot.scheduled_to_cancel:
        when = snapshot.cancel_effective_at
        at = f" on {format_time(when, seconds=False)}" if when is not None else ""
        raise SubscriptionAlreadyScheduledError(
            f"subscription {sid} is already scheduled to cancel{at}. Send the customer "
            "to the portal homepage instead (Cancelflow.create_portal_link), where "
            "they can see the date and renew it.",
            subscription_id=sid,
            cancel_at=when,
        )


_PROBLEM_ERRORS: Final[dict[CouponProblem, type[CouponRefusedError]]] = {
    CouponProblem.NOT_VALID: CouponNotValidError,
    CouponProblem.USED_UP: CouponNotValidError,
    CouponProblem.PAST_REDEEM_BY: CouponNotValidError,
    CouponProblem.NOT_APPLICABLE: CouponNotApplicableError,
    CouponProblem.CURRENCY_MISMATCH: CouponCurrencyMismatchError,
    CouponProblem.FOREVER_AMOUNT_OFF: CouponForeverAmountOffError,
}


def _offer_months(coupon: Coupon | None) -> int | None:
    """How many months *coupon* discounts; ``None`` for ``forever`` (or none)."""
    if coupon is None or coupon.duration is CouponDuration.FOREVER:
        return None
    return coupon.months()


def check_coupon(coupon: Coupon, snapshot: SubscriptionSnapshot, *, now: int) -> None:
    """Refuse to offer *coupon* on *snapshot* at *now* if it cannot apply.

    The error is the one for the first of `Coupon.problems`; its message
    lists them all.

    Raises:
        CouponNotValidError: not valid, used up, or past ``redeem_by``.
        CouponNotApplicableError: ``applies_to`` excludes the products.
        CouponCurrencyMismatchError: ``amount_off`` in another currency.
        CouponForeverAmountOffError: ``amount_off`` with ``duration=forever``.
    """
    problems = coupon.problems(snapshot, now=now)
    if not problems:
        return
    kind = _PROBLEM_ERRORS[problems[0]]
    reasons = "; ".join(p.explanation for p in problems)
    raise kind(
        f"coupon {coupon.id} cannot be offered on subscription {snapshot.id}: "
        f"{reasons}. Offer another coupon, or none.",
        subscription_id=snapshot.id,
        coupon_id=coupon.id,
    )


def _storable(amount: int | None) -> int | None:
    """*amount*, or ``None`` when no ledger could store it (beyond 64 bits: an
    amount × quantity no real subscription reaches), so that the link that
    Stripe already created is still recorded."""
    return None if amount is None or out_of_range(amount) else amount


@attrs.frozen
class Fetched:
    """The outcome of one concurrent request: its value, or what it raised."""

    value: Any = None
    error: Exception | None = None

    def get(self) -> Any:
        """The value, or raise the request's error."""
        if self.error is not None:
            raise self.error
        return self.value


async def _fetched(call: Awaitable[Any]) -> Fetched:
    """Await *call*; its value or its error, so that a concurrent request's
    failure does not abandon the other."""
    try:
        return Fetched(await call)
    except Exception as exc:  # noqa: BLE001 - handed back, raised by Fetched.get
        return Fetched(error=exc)


def _coupon_not_found(coupon_id: str, subscription: str) -> CouponNotFoundError:
    return CouponNotFoundError(
        f"no coupon {coupon_id} exists in this Stripe account; create it "
        "first, or offer another one.",
        subscription_id=subscription,
        coupon_id=coupon_id,
    )


async def _in_thread(call: Callable[[A], T], argument: A) -> T:
    """Run a blocking ledger call off the event loop."""
    import asyncio

    return await asyncio.to_thread(call, argument)


# -- the entry point ------------------------------------------------------------------


class Cancelflow:
    """Creates cancel links: built once by the application, then shared.

    Args:
        client: the application's ``stripe.StripeClient`` (or a
            `StripeGateway` around one).
        allowed_hosts: where return and redirect URLs may point; an
            `AllowedHosts` or a list of host names. Take it from the
            application's settings, never from a request.
        return_url: the default top-level ``return_url`` of every session.
        locale: the default portal locale (one of `LOCALES`).
        after_completion: the default ``after_completion`` of cancel links.
        configuration: the portal configuration every session uses: a
            ``bpc_…`` id, or a configuration declared in a portal
            configuration file (``load_portal_config(path)["key"]``), found
            in the account on first use (one list request) and remembered;
            Stripe's default configuration when ``None``.
        on_behalf_of: a connected ``acct_…`` account for every session.
        clock: returns the current time in unix seconds (coupon ``redeem_by``
            is checked against it).
        ledger: where to record every cancel link created (a
            `Ledger`), so that the outcomes that webhooks
            bring later are linked to it; ``None`` records nothing.
        policy: the `RetentionPolicy` that chooses the
            coupon of a cancel link created without one; ``None``: no coupon
            unless the caller gives one.
        coupon_ttl: how long a coupon's facts are cached, in seconds (a
            `CouponCache`), for the coupons a policy chooses and the ones a
            caller passes; a coupon that does not exist is not remembered.

    Raises:
        InvalidParameterError: a default breaks a rule (checked here, once).
    """

    __slots__ = (
        "_after_completion",
        "_allowed_hosts",
        "_clock",
        "_configuration",
        "_coupons",
        "_gateway",
        "_ledger",
        "_locale",
        "_managed",
        "_on_behalf_of",
        "_policy",
        "_return_url",
    )

    def __init__(
        self,
        client: stripe.StripeClient | StripeGateway,
        *,
        allowed_hosts: AllowedHosts | Iterable[str],
        return_url: str | None = None,
        locale: str | None = None,
        after_completion: AfterCompletion | None = None,
        configuration: str | PortalConfigSpec | None = None,
        on_behalf_of: str | None = None,
        clock: Callable[[], float] = time.time,
        ledger: Ledger | None = None,
        policy: RetentionPolicy | None = None,
        coupon_ttl: float = 300.0,
    ) -> None:
        self._ledger = ledger
        self._policy = policy
        self._gateway = (
            client if isinstance(client, StripeGateway) else StripeGateway(client)
        )
        self._allowed_hosts = as_allowed_hosts(allowed_hosts)
        self._return_url = (
            None
            if return_url is None
            else self._allowed_hosts.check(return_url, field="return_url")
        )
        self._locale = None if locale is None else check_locale(locale)
        if after_completion is not None:  # check it once, here
            check_after_completion(after_completion, self._allowed_hosts)
        self._after_completion = after_completion
        self._configuration: str | None = None
        self._managed: PortalConfigSpec | None = None
        if configuration is not None and not isinstance(configuration, str):
            from cancelflow._portal_config.model import PortalConfigSpec

            if not isinstance(configuration, PortalConfigSpec):
                raise InvalidParameterError(
                    "configuration",
                    "expected a bpc_… id or a PortalConfigSpec (a portal configuration "
                    f"file's config['key']), got a {type(configuration).__name__}",
                )
            self._managed = configuration
        elif configuration is not None:
            self._configuration = check_id(
                configuration, "configuration", prefix="bpc_"
            )
        self._on_behalf_of = (
            None
            if on_behalf_of is None
            else check_id(on_behalf_of, "on_behalf_of", prefix="acct_")
        )
        self._clock = clock
        gateway = self._gateway
        self._coupons = CouponCache(gateway.retrieve_coupon, ttl=coupon_ttl)

    def __repr__(self) -> str:
        configuration = (
            f"<managed {self._managed.key!r}>"
            if self._managed is not None and self._configuration is None
            else repr(self._configuration)
        )
        return (
            f"Cancelflow(allowed_hosts={self._allowed_hosts!r}, "
            f"return_url={self._return_url!r}, locale={self._locale!r}, "
            f"configuration={configuration})"
        )

    def _resolve_configuration(self) -> Flow[None]:
        """Find the managed configuration's ``bpc_…`` id, once (then it is kept)."""
        managed = self._managed
        if managed is None or self._configuration is not None:
            return
        from cancelflow._portal_config.model import ConfigMatch
        from cancelflow._portal_config.plan import find_configuration

        gateway = self._gateway
        configurations = yield from io(
            gateway.list_portal_configurations,
            gateway.list_portal_configurations_async,
        )
        try:
            found = find_configuration(managed, configurations)
        except PortalConfigMatchError as err:
            if managed.match is ConfigMatch.METADATA:
                raise  # two configurations carry its key: not a missing one
            found = None
            reason = err.problem
        else:
            reason = "no configuration in the account carries its key; apply the file"
        if found is not None and not found.active:
            reason = f"{found.id} is inactive"
            found = None
        if found is None:
            raise ManagedConfigurationNotFoundError(
                f"the managed portal configuration {managed.key!r} is not in this "
                f"account: {reason} (cancelflow config apply FILE); no session was "
                "created",
                key_path=f"configurations.{managed.key}",
            )
        self._configuration = found.id

    @property
    def configuration(self) -> str | None:
        """The ``bpc_…`` id the sessions use.

        ``None`` means Stripe's default configuration, or a declared configuration
        that has not been looked up yet (it is, on the first session).

        Returns:
            The id, or ``None``.
        """
        return self._configuration

    @property
    def gateway(self) -> StripeGateway:
        """The `StripeGateway` every Stripe call goes through."""
        return self._gateway

    @property
    def allowed_hosts(self) -> AllowedHosts:
        """Where return and redirect URLs may point."""
        return self._allowed_hosts

    def _now(self) -> int:
        return int(self._clock())

    # -- cancel links ------------------------------------------------------------

    def create_cancel_link(
        self,
        *,
        customer: str,
        subscription: str,
        coupon: str | None = None,
        return_url: str | None = None,
        after_completion: AfterCompletion | None = None,
        locale: str | None = None,
        policy: RetentionPolicy | None = None,
    ) -> CancelLink:
        """Create a portal session that opens on a subscription's cancel page.

        Before asking Stripe for the session, the subscription is retrieved
        and must be the customer's, not ended and not already scheduled to
        cancel; a coupon must exist and fit the subscription. Arguments left
        out use the defaults given to `Cancelflow`.

        A coupon's facts come from the coupon cache while fresh (`coupon_ttl`),
        so a link usually waits for two Stripe requests, one after the other:
        the subscription, then the session. The async twin fetches a coupon
        the cache lacks at the same time as the subscription.

        Without a coupon, the retention policy (this call's, or the one given
        to `Cancelflow`) chooses it: the customer's history comes from the
        ledger, their facts from Stripe when a rule needs them, the coupon's
        facts from a cache. The decision is on the result and recorded in the
        ledger with the link.

        Args:
            customer: the `cus_…` id of the signed-in customer (from your
                session, never from the request).
            subscription: the `sub_…` id to cancel; it must be `customer`'s.
            coupon: a coupon to offer as a retention offer; bypasses the policy.
            return_url: the link back to your site; the default when `None`.
            after_completion: what the portal does after the cancel
                ([`Redirect`][cancelflow.Redirect],
                [`HostedConfirmation`][cancelflow.HostedConfirmation],
                [`PortalHomepage`][cancelflow.PortalHomepage]).
            locale: the portal's language (one of [`LOCALES`][cancelflow.LOCALES]).
            policy: the [`RetentionPolicy`][cancelflow.RetentionPolicy] for this
                call, instead of the one given to `Cancelflow`.

        Returns:
            The [`CancelLink`][cancelflow.CancelLink]: redirect the customer to
            its `url`.

        Raises:
            InvalidParameterError: an argument breaks a rule (no Stripe call).
            DisallowedURLError: a URL is not allowed (no Stripe call).
            CancelLinkRefusedError: one of its subclasses says why no link was
                created (not found, another customer's, ended, already
                scheduled, or a coupon that cannot be offered).
            StripeAPIError: Stripe answered with an error.
            LinkNotRecordedError: the link was created but the ledger could not
                record it (only with a ``ledger``); the link is on the error.
            PolicyError: a custom predicate of the policy raised.
        """
        flow = self._cancel_link_flow(
            customer=customer,
            subscription=subscription,
            coupon=coupon,
            return_url=return_url,
            after_completion=after_completion,
            locale=locale,
            policy=policy,
        )
        return run(flow)

    async def create_cancel_link_async(
        self,
        *,
        customer: str,
        subscription: str,
        coupon: str | None = None,
        return_url: str | None = None,
        after_completion: AfterCompletion | None = None,
        locale: str | None = None,
        policy: RetentionPolicy | None = None,
    ) -> CancelLink:
        """Create a cancel link without blocking: the async twin of `create_cancel_link`.

        It runs the same checks, raises the same errors, and calls Stripe with
        stripe-python's `*_async` methods (install the `async` extra).

        Args:
            customer: as for `create_cancel_link`.
            subscription: as for `create_cancel_link`.
            coupon: as for `create_cancel_link`.
            return_url: as for `create_cancel_link`.
            after_completion: as for `create_cancel_link`.
            locale: as for `create_cancel_link`.
            policy: as for `create_cancel_link`.

        Returns:
            The [`CancelLink`][cancelflow.CancelLink].
        """
        flow = self._cancel_link_flow(
            customer=customer,
            subscription=subscription,
            coupon=coupon,
            return_url=return_url,
            after_completion=after_completion,
            locale=locale,
            policy=policy,
        )
        return await run_async(flow)

    def _cancel_link_flow(
        self,
        *,
        customer: str,
        subscription: str,
        coupon: str | None,
        return_url: str | None,
        after_completion: AfterCompletion | None,
        locale: str | None,
        policy: RetentionPolicy | None = None,
    ) -> Flow[CancelLink]:
        gateway = self._gateway

        def params_for(coupon_id: str | None) -> SessionCreateParams:
            return build_cancel_session_params(
                customer=customer,
                subscription=subscription,
                coupon=coupon_id,
                allowed_hosts=self._allowed_hosts,
                return_url=return_url if return_url is not None else self._return_url,
                after_completion=after_completion
                if after_completion is not None
                else self._after_completion,
                locale=locale if locale is not None else self._locale,
                configuration=self._configuration,
                on_behalf_of=self._on_behalf_of,
            )

        # 0. Check every argument before anything is sent to Stripe.
        params_for(coupon)

        # 1. Load the subscription. The async form also fetches the caller's
        #    coupon at the same time, unless the cache has it: two requests on
        #    the critical path (subscription, then session) instead of three.
        fresh, _ = self._coupons.cached(coupon) if coupon is not None else (True, None)
        early = None if fresh else coupon
        try:
            snapshot, prefetched = yield from io(
                partial(self._load, subscription),
                partial(self._load_async, subscription, early),
            )
        except StripeResourceMissingError as err:
            raise SubscriptionNotFoundError(
                f"no subscription {subscription} exists in this Stripe account "
                "(test and live mode have separate objects).",
                subscription_id=subscription,
            ) from err

        # 2. Check ownership and state.
        check_subscription(snapshot, customer=customer)

        # 3. Choose the coupon: the caller's, else the retention policy's.
        coupon_id = coupon
        decision: Decision | None = None
        offered: Coupon | None = None
        policy = policy if policy is not None else self._policy
        if coupon_id is None and policy is not None:
            decision, offered = yield from self._decide(policy, snapshot)
            coupon_id = decision.coupon

        # 4. Check the coupon against the subscription: the caller's coupon
        #    from the cache when fresh (else as fetched in step 1, or now).
        if coupon_id is not None and offered is None:
            offered = yield from self._coupon_facts(
                coupon_id,
                subscription,
                prefetched if coupon_id == early else None,
            )
        if offered is not None:
            check_coupon(offered, snapshot, now=self._now())

        # 5. Build the session parameters (a managed configuration is looked up
        #    once, then remembered).
        yield from self._resolve_configuration()
        params = params_for(coupon_id)

        # 6. Create the session.
        try:
            session = yield from io(
                partial(gateway.create_portal_session, params),
                partial(gateway.create_portal_session_async, params),
            )
        except StripeInvalidRequestError as err:
            if coupon_id is not None and (err.param or "").endswith("[coupon]"):
                # The cached facts were stale (the coupon changed or went away
                # within the cache's ttl): the next link fetches them again.
                self._coupons.invalidate(coupon_id)
            raise

        # 7. The result.
        link = CancelLink(
            url=session.url,
            session_id=session.id,
            subscription_id=snapshot.id,
            customer_id=session.customer,
            coupon=offered,
            created=session.created,
            session=session,
            decision=decision,
        )

        # 8. Record the link, so that the case its webhooks open is linked to it.
        #    The session exists whatever the ledger does: a failure hands the
        #    link over on the error rather than losing it.
        if self._ledger is not None:
            record = LinkRecord(
                session_id=session.id,
                subscription_id=snapshot.id,
                customer_id=session.customer,
                created=session.created,
                livemode=session.livemode,
                offered_coupon=offered.id if offered else None,
                arm=decision.arm if decision else None,
                decision=decision.to_dict() if decision else None,
                mrr=_storable(snapshot.mrr),
                currency=snapshot.currency,
                experiment=decision.experiment if decision else None,
                offer_discount=_storable(
                    offered.monthly_discount(snapshot.mrr, snapshot.currency)
                )
                if offered
                else None,
                offer_months=_offer_months(offered),
            )
            try:
                yield from io(
                    partial(self._ledger.record_link, record),
                    partial(_in_thread, self._ledger.record_link, record),
                )
            except LedgerError as err:
                raise LinkNotRecordedError(
                    f"the cancel link {session.id} was created, but the ledger could "
                    f"not record it ({err}); redirect the customer to error.link.url "
                    "and record error.record later with ledger.record_link()",
                    link=link,
                    record=record,
                ) from err
        return link

    def _load(self, subscription: str) -> tuple[SubscriptionSnapshot, None]:
        """Step 1, sync: the subscription alone (the coupon comes later, from
        the cache when it can)."""
        return self._gateway.retrieve_subscription(subscription), None

    async def _load_async(
        self, subscription: str, coupon: str | None
    ) -> tuple[SubscriptionSnapshot, Fetched | None]:
        """Step 1, async: the subscription and, at the same time, *coupon*.

        Both requests run to their end; the subscription's error, if any, is
        raised first (it decides before any coupon problem). The coupon's
        outcome, error included, is handed to step 4.
        """
        gateway = self._gateway
        if coupon is None:
            return await gateway.retrieve_subscription_async(subscription), None
        import asyncio

        loaded, fetched = await asyncio.gather(
            _fetched(gateway.retrieve_subscription_async(subscription)),
            _fetched(gateway.retrieve_coupon_async(coupon)),
        )
        return loaded.get(), fetched

    def _coupon_facts(
        self, coupon_id: str, subscription: str, prefetched: Fetched | None
    ) -> Flow[Coupon]:
        """The caller's coupon: fresh from the cache, else as *prefetched*, else
        fetched now; remembered in the cache when found.

        Raises:
            CouponNotFoundError: Stripe has no such coupon (not cached: a
                coupon created a moment later is found by the next link).
        """
        fresh, cached = self._coupons.cached(coupon_id)
        if fresh and cached is not None:
            return cached
        gateway = self._gateway
        try:
            if prefetched is not None:
                found = prefetched.get()
            else:
                found = yield from io(
                    partial(gateway.retrieve_coupon, coupon_id),
                    partial(gateway.retrieve_coupon_async, coupon_id),
                )
        except StripeResourceMissingError as err:
            self._coupons.invalidate(coupon_id)
            raise _coupon_not_found(coupon_id, subscription) from err
        self._coupons.remember(coupon_id, found)
        return found  # type: ignore[no-any-return]

    def _decide(
        self, policy: RetentionPolicy, snapshot: SubscriptionSnapshot
    ) -> Flow[tuple[Decision, Coupon | None]]:
        """Run the retention policy: history from the ledger, the customer from
        Stripe if a rule needs it, the proposed coupon's facts from the cache
        (fetched through the gateway when stale). Returns the decision and the
        offered coupon's facts."""
        from cancelflow._policy.context import DecisionContext

        gateway = self._gateway
        history: CustomerHistory = EMPTY_HISTORY
        if self._ledger is not None:
            history = yield from io(
                partial(self._ledger.customer_history, snapshot.customer),
                partial(_in_thread, self._ledger.customer_history, snapshot.customer),
            )
        customer: CustomerFacts | None = None
        if policy.uses_customer:
            customer = yield from io(
                partial(gateway.retrieve_customer, snapshot.customer),
                partial(gateway.retrieve_customer_async, snapshot.customer),
            )
        context = DecisionContext(
            snapshot, now=self._now(), customer=customer, history=history
        )
        facts: dict[str, Coupon | None] = {}
        proposed = policy.proposal(context)
        if proposed is not None and policy.guards.coupon:
            fresh, coupon = self._coupons.cached(proposed.coupon)
            if not fresh:
                try:
                    coupon = yield from io(
                        partial(gateway.retrieve_coupon, proposed.coupon),
                        partial(gateway.retrieve_coupon_async, proposed.coupon),
                    )
                except StripeResourceMissingError:
                    coupon = None
                self._coupons.remember(proposed.coupon, coupon)
            facts[proposed.coupon] = coupon
        decision = policy.decide_context(context, facts.get)
        offered = facts.get(decision.coupon) if decision.coupon else None
        return decision, offered

    # -- portal homepage links ------------------------------------------------------

    def create_portal_link(
        self,
        *,
        customer: str,
        return_url: str | None = None,
        locale: str | None = None,
    ) -> PortalLink:
        """Create a portal session on the portal's homepage for a customer.

        This is the way forward for a subscription that is already scheduled
        to cancel: the homepage shows the date and lets the customer renew.

        Args:
            customer: the `cus_…` id of the signed-in customer.
            return_url: the link back to your site; the default when `None`.
            locale: the portal's language (one of [`LOCALES`][cancelflow.LOCALES]).

        Returns:
            The [`PortalLink`][cancelflow.PortalLink].

        Raises:
            InvalidParameterError: an argument breaks a rule (no Stripe call).
            DisallowedURLError: a URL is not allowed (no Stripe call).
            StripeAPIError: Stripe answered with an error.
        """
        return run(self._portal_link_flow(customer, return_url, locale))

    async def create_portal_link_async(
        self,
        *,
        customer: str,
        return_url: str | None = None,
        locale: str | None = None,
    ) -> PortalLink:
        """Create a homepage link without blocking: the async twin of `create_portal_link`.

        Args:
            customer: as for `create_portal_link`.
            return_url: as for `create_portal_link`.
            locale: as for `create_portal_link`.

        Returns:
            The [`PortalLink`][cancelflow.PortalLink].
        """
        return await run_async(self._portal_link_flow(customer, return_url, locale))

    def _portal_link_flow(
        self, customer: str, return_url: str | None, locale: str | None
    ) -> Flow[PortalLink]:
        check_id(customer, "customer", prefix="cus_")
        yield from self._resolve_configuration()
        params = build_portal_session_params(
            customer=customer,
            allowed_hosts=self._allowed_hosts,
            return_url=return_url if return_url is not None else self._return_url,
            locale=locale if locale is not None else self._locale,
            configuration=self._configuration,
            on_behalf_of=self._on_behalf_of,
        )
        session = yield from io(
            partial(self._gateway.create_portal_session, params),
            partial(self._gateway.create_portal_session_async, params),
        )
        return PortalLink(
            url=session.url,
            session_id=session.id,
            customer_id=session.customer,
            created=session.created,
            session=session,
        )

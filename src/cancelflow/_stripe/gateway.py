"""The only place cancelflow talks to Stripe.

`StripeGateway` wraps a ``stripe.StripeClient`` the host built (never the
global ``stripe.api_key``), calls only ``client.v1.*``, turns Stripe's objects
into cancelflow's frozen models and every ``stripe.StripeError`` into a
`StripeAPIError` subclass. ``stripe`` itself is
imported only when an error has to be mapped, so importing this module costs
nothing more than cancelflow's models.

Every call has a sync form and an ``_async`` twin. A private method of the
same name (``_retrieve_coupon``) checks the arguments and describes the call
once, as a `_Request` (action, retry advice, the stripe-python method in both
forms, its arguments and the parsing of the answer); the sync twin sends it,
the async twin awaits it, so the two cannot drift apart.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import attrs

from cancelflow._ids import check_id
from cancelflow._redact import redact
from cancelflow._stripe.coupon import Coupon
from cancelflow._stripe.customer import CustomerSnapshot
from cancelflow._stripe.feedback_option import FeedbackOption
from cancelflow._stripe.portal import PortalConfiguration, PortalSession
from cancelflow._stripe.read import plain
from cancelflow._stripe.subscription import SubscriptionSnapshot
from cancelflow.exceptions import (
    InvalidParameterError,
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
)

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions
    from stripe.params import CouponRetrieveParams, SubscriptionListParams
    from stripe.params.billing import FeedbackOptionListParams
    from stripe.params.billing_portal import (
        ConfigurationCreateParams,
        ConfigurationListParams,
        ConfigurationUpdateParams,
        SessionCreateParams,
    )

__all__ = ["StripeGateway", "SubscriptionPage", "map_stripe_error", "redact"]

T = TypeVar("T")


@functools.cache
def request_option_keys() -> frozenset[str]:
    """The keys of stripe-python's ``RequestOptions``, read from stripe-python.

    The params TypedDicts inherit them, but ``StripeClient`` would send them as
    *form fields* if they were put in ``params``; the gateway refuses them
    there. (The fake's parameter schema excludes the same keys, read the same
    way.)
    """
    from stripe import RequestOptions

    return RequestOptions.__required_keys__ | RequestOptions.__optional_keys__


#: ``status`` values ``GET /v1/subscriptions`` accepts.
SUBSCRIPTION_LIST_STATUSES: Final = frozenset(
    {
        "active",
        "all",
        "canceled",
        "ended",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
    }
)


def _coupon_params() -> CouponRetrieveParams:
    # ``applies_to`` and ``currency_options`` are "expandable" coupon fields:
    # without them a product-restricted or multi-currency coupon looks universal.
    return {"expand": ["applies_to", "currency_options"]}


def new_idempotency_key() -> str:
    """A fresh ``Idempotency-Key`` (a random UUID with a cancelflow prefix)."""
    return f"cancelflow-{uuid.uuid4()}"


@attrs.frozen
class Retry:
    """Whether a request that may not have reached Stripe can be sent again,
    and the sentence that says so in a connection error."""

    safe: bool
    advice: str


#: A read changes nothing.
READ: Final = Retry(True, "Nothing was changed; retrying is safe.")
#: A portal session that was created but never used expires on its own.
NEW_SESSION: Final = Retry(
    True,
    "If the session was created anyway it expires unused; retrying is safe.",
)
#: Creating a configuration twice makes two.
NEW_CONFIGURATION: Final = Retry(
    False,
    "It may have been created anyway: list the portal configurations before "
    "retrying, or a retry may create a second one.",
)
#: An update sets the same values again.
UPDATE: Final = Retry(True, "Retrying is safe: the update sets the same values.")
#: Creating a feedback option twice makes two.
NEW_FEEDBACK_OPTION: Final = Retry(
    False,
    "It may have been created anyway: list the feedback options before retrying, "
    "or a retry may create a second one.",
)
#: Deactivating twice changes nothing more.
DEACTIVATE: Final = Retry(
    True, "Retrying is safe: deactivating it again changes nothing."
)


def _network_detail(message: str) -> str:
    """What stripe-python says the network did (``ConnectTimeout: …``), from its
    ``(Network error: …)`` suffix; the whole message when there is none."""
    _, found, detail = message.rpartition("(Network error: ")
    text = detail.rstrip(")") if found else message
    return " ".join(text.split()).rstrip(". ")


def _connection_error(
    err: stripe.StripeError, action: str, retry: Retry
) -> StripeConnectionError:
    detail = _network_detail(err.user_message or str(err) or type(err).__name__)
    timed_out = "timeout" in detail.lower() or "timed out" in detail.lower()
    what = (
        "Stripe did not answer in time" if timed_out else "Stripe could not be reached"
    )
    return StripeConnectionError(
        redact(f"{what} to {action} ({detail}). {retry.advice}"),
        retry_safe=retry.safe,
        request_id=err.request_id,
        cause_type=type(err).__name__,
    )


def map_stripe_error(
    err: stripe.StripeError, action: str, *, retry: Retry = READ
) -> StripeAPIError:
    """The `StripeAPIError` for a stripe-python error.

    *action* says what cancelflow was doing ("retrieve subscription sub_1").
    The message, code, param, HTTP status, request id, Stripe's error type and
    the stripe class's name (``cause_type``) are kept; anything shaped like an
    API key is redacted from each of them. Raise it without chaining *err*
    (see :func:`_call`).
    A connection error or timeout (Stripe never answered) becomes a
    `StripeConnectionError` that says so and,
    from *retry*, whether sending the request again is safe.
    """
    import stripe

    if isinstance(err, stripe.APIConnectionError):
        return _connection_error(err, action, retry)

    error = err.error
    code = err.code or (error.code if error is not None else None)
    param = getattr(err, "param", None) or (error.param if error is not None else None)
    stripe_type = error.type if error is not None else None
    status = err.http_status
    kind: type[StripeAPIError]
    hint = ""
    if isinstance(err, stripe.IdempotencyError):
        kind = StripeIdempotencyError
    elif isinstance(err, stripe.RateLimitError):
        kind, hint = StripeRateLimitError, " Retry later, with backoff."
    elif isinstance(err, stripe.InvalidRequestError):
        kind = (
            StripeResourceMissingError
            if code == "resource_missing"
            else StripeInvalidRequestError
        )
    elif isinstance(err, stripe.AuthenticationError):
        kind = StripeAuthenticationError
        hint = " Check the API key given to stripe.StripeClient."
    elif isinstance(err, stripe.PermissionError):
        kind = StripePermissionError
        hint = " A restricted key needs write access to billing portal sessions."
    elif isinstance(err, stripe.APIError):
        kind, hint = StripeServerError, " Retrying is safe."
    else:
        kind = StripeAPIError
    message = (err.user_message or type(err).__name__).rstrip(". ")
    where = f" (param {param})" if param else ""
    return kind(
        redact(f"Stripe refused to {action}{where}: {message}.{hint}"),
        code=code,
        param=param,
        http_status=status,
        request_id=err.request_id,
        stripe_type=stripe_type,
        cause_type=type(err).__name__,
    )


def _mapped(err: Exception, action: str, retry: Retry) -> StripeAPIError | None:
    """Ours for a ``stripe.StripeError``; ``None`` for any other exception."""
    import stripe

    if not isinstance(err, stripe.StripeError):
        return None
    return map_stripe_error(err, action, retry=retry)


def _call(
    action: str, retry: Retry, fn: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """``fn(*args, **kwargs)``, with a ``stripe.StripeError`` turned into ours.

    The mapped error is raised *after* the ``except`` block, so that it chains
    neither the stripe exception (``__cause__``) nor its context
    (``__context__``): stripe's own message can carry the caller's values
    unredacted, and ``logging.exception`` prints every chained exception.
    """
    try:
        return fn(*args, **kwargs)
    except Exception as err:
        mapped = _mapped(err, action, retry)
        if mapped is None:
            raise
    raise mapped


async def _acall(
    action: str,
    retry: Retry,
    fn: Callable[..., Awaitable[T]],
    /,
    *args: Any,
    **kwargs: Any,
) -> T:
    """Async twin of :func:`_call`."""
    try:
        return await fn(*args, **kwargs)
    except Exception as err:
        mapped = _mapped(err, action, retry)
        if mapped is None:
            raise
    raise mapped


@attrs.frozen
class _Request(Generic[T]):
    """One Stripe call, described once and sent by either twin of a method.

    *call* and *call_async* are the two forms of one stripe-python method;
    *parse* reads Stripe's answer into a cancelflow model. With *every_page*
    the answer is a list's first page: every page is read, and *parse* gets
    the objects of all of them as one list.
    """

    action: str
    retry: Retry
    call: Callable[..., Any]
    call_async: Callable[..., Awaitable[Any]]
    parse: Callable[[Any], T]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = attrs.field(factory=dict)
    every_page: bool = False

    def send(self) -> T:
        """Make the call with stripe-python's sync client."""
        answer = _call(self.action, self.retry, self.call, *self.args, **self.kwargs)
        if self.every_page:
            answer = _call(self.action, self.retry, list, answer.auto_paging_iter())
        return self.parse(answer)

    async def send_async(self) -> T:
        """Make the call with stripe-python's async client."""
        answer = await _acall(
            self.action, self.retry, self.call_async, *self.args, **self.kwargs
        )
        if self.every_page:
            page = answer

            async def every() -> list[Any]:
                return [o async for o in page.auto_paging_iter()]

            answer = await _acall(self.action, self.retry, every)
        return self.parse(answer)


def _each(parse: Callable[[Any], T]) -> Callable[[list[Any]], list[T]]:
    """*parse* applied to each object of a list."""
    return lambda objs: [parse(o) for o in objs]


def _check_params(params: Mapping[str, Any], field: str) -> None:
    """Refuse, before any request, params stripe-python would mis-send or fail
    on: request options among them, and what `_sendable` refuses."""
    if not isinstance(params, Mapping):
        raise InvalidParameterError(field, "must be a dict of Stripe parameters")
    found = sorted(request_option_keys() & params.keys())
    if found:
        raise InvalidParameterError(
            f"{field}[{found[0]}]",
            "is a request option, not a parameter; stripe-python would send it as "
            "a form field (cancelflow sets the idempotency key itself)",
        )
    _sendable(params, field)


#: Deeper than any Stripe parameter nests (``flow_data[subscription_cancel]
#: [retention][coupon_offer][coupon]`` is five levels).
MAX_PARAM_DEPTH: Final = 32


def _sendable(value: object, field: str) -> None:
    """Refuse what stripe-python cannot form-encode: a lone surrogate in a text
    or a key (``UnicodeEncodeError``), or nesting deeper than
    `MAX_PARAM_DEPTH` (``RecursionError``); the error names the path."""
    stack: list[tuple[object, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            _encodable(item, path)
        elif isinstance(item, Mapping | list | tuple):
            if depth >= MAX_PARAM_DEPTH:
                raise InvalidParameterError(
                    path,
                    f"nests more than {MAX_PARAM_DEPTH} levels deep; Stripe's "
                    "parameters nest a few levels at most",
                )
            pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
            for key, sub in pairs:
                if isinstance(key, str):
                    _encodable(key, f"{path} (a key)")
                stack.append((sub, f"{path}[{key}]", depth + 1))


def _encodable(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidParameterError(
            path,
            f"contains a lone surrogate (U+{ord(text[exc.start]):04X}), which "
            "cannot be sent to Stripe as text",
        ) from None


def _subscription_list_params(
    customer: str | None, status: str | None, price: str | None, page_size: int
) -> SubscriptionListParams:
    params: SubscriptionListParams = {
        "limit": page_size,
        "expand": ["data.discounts.source.coupon"],
    }
    given: object = page_size
    if not isinstance(given, int) or isinstance(given, bool):
        raise InvalidParameterError(
            "limit", f"page_size must be an integer, got {type(given).__name__}"
        )
    if not 1 <= page_size <= 100:
        raise InvalidParameterError("limit", "page_size must be between 1 and 100")
    if customer is not None:
        params["customer"] = check_id(customer, "customer", prefix="cus_")
    if price is not None:
        params["price"] = check_id(price, "price")
    if status is not None:
        if status not in SUBSCRIPTION_LIST_STATUSES:
            allowed = ", ".join(sorted(SUBSCRIPTION_LIST_STATUSES))
            raise InvalidParameterError("status", f"{status!r} is not one of {allowed}")
        params["status"] = status
    return params


@attrs.frozen
class SubscriptionPage:
    """One page of ``GET /v1/subscriptions``, each subscription as plain JSON.

    Attributes:
        objects: the subscriptions (dicts, as Stripe sent them), newest first.
        has_more: whether Stripe has more after the last one.
    """

    objects: tuple[Mapping[str, Any], ...]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        """The last subscription's id: the cursor of the next page."""
        if not self.objects:
            return None
        value = self.objects[-1].get("id")
        return value if isinstance(value, str) else None


def _check_client(_: object, __: object, client: Any) -> None:
    if not hasattr(client, "v1"):
        # Never echo the value: it might be an API key passed by mistake.
        raise InvalidParameterError(
            "client",
            f"expected a stripe.StripeClient, got a {type(client).__name__}; build "
            "one with stripe.StripeClient(api_key)",
        )


@attrs.frozen(repr=False)
class StripeGateway:
    """Stripe's API as cancelflow uses it, over a ``stripe.StripeClient``.

    Args:
        client: the host's ``stripe.StripeClient``; cancelflow never reads the
            global ``stripe.api_key``.
        idempotency_key: makes the ``Idempotency-Key`` of each POST; called
            once per call (per attempt), so a new attempt never replays an
            earlier, possibly expired, session.

    Every method raises a `StripeAPIError`
    subclass when Stripe answers with an error, and
    `StripeObjectError` when its answer does not
    have the expected shape.
    """

    client: stripe.StripeClient = attrs.field(validator=_check_client)
    idempotency_key: Callable[[], str] = new_idempotency_key

    def __repr__(self) -> str:
        return f"StripeGateway(client=<{type(self.client).__name__}>)"

    def _post_options(self, idempotency_key: str | None = None) -> RequestOptions:
        if idempotency_key is None:
            return {"idempotency_key": self.idempotency_key()}
        return {"idempotency_key": _check_idempotency_key(idempotency_key)}

    # -- subscriptions -----------------------------------------------------------

    def _retrieve_subscription(
        self, subscription: str
    ) -> _Request[SubscriptionSnapshot]:
        check_id(subscription, "subscription", prefix="sub_")
        subscriptions = self.client.v1.subscriptions
        return _Request(
            f"retrieve subscription {subscription}",
            READ,
            subscriptions.retrieve,
            subscriptions.retrieve_async,
            SubscriptionSnapshot.from_stripe,
            (subscription,),
            {"params": {"expand": ["discounts.source.coupon"]}},
        )

    def retrieve_subscription(self, subscription: str) -> SubscriptionSnapshot:
        """Retrieve a subscription: `GET /v1/subscriptions/{id}`, discounts expanded.

        Each discount comes with its coupon (`expand[]=discounts.source.coupon`),
        so that the snapshot's MRR knows a `forever` coupon's terms.

        Args:
            subscription: the `sub_…` id.

        Returns:
            Its [`SubscriptionSnapshot`][cancelflow.SubscriptionSnapshot].
        """
        return self._retrieve_subscription(subscription).send()

    async def retrieve_subscription_async(
        self, subscription: str
    ) -> SubscriptionSnapshot:
        """Async twin of `retrieve_subscription` (stripe-python's async client).

        Args:
            subscription: as for `retrieve_subscription`.

        Returns:
            As for `retrieve_subscription`.
        """
        return await self._retrieve_subscription(subscription).send_async()

    def iter_subscriptions(
        self,
        *,
        customer: str | None = None,
        status: str | None = None,
        price: str | None = None,
        page_size: int = 100,
    ) -> Iterator[SubscriptionSnapshot]:
        """List the subscriptions matching the filters, page after page.

        Stripe's default (`status=None`) lists the subscriptions that are not
        canceled; `status="all"` lists every one. `GET /v1/subscriptions`, with
        `data.discounts.source.coupon` expanded.

        Args:
            customer: only this `cus_…` customer's.
            status: only this status, or `"all"`.
            price: only subscriptions to this `price_…`.
            page_size: subscriptions per request (1 to 100).

        Returns:
            An iterator of [`SubscriptionSnapshot`][cancelflow.SubscriptionSnapshot]s.

        Raises:
            InvalidParameterError: a bad filter or page size (no request is made).
            StripeAPIError: Stripe answered with an error.
        """
        params = _subscription_list_params(customer, status, price, page_size)
        page = _call(
            "list subscriptions", READ, self.client.v1.subscriptions.list, params=params
        )
        items = iter(page.auto_paging_iter())
        while True:
            obj = _call("list subscriptions", READ, next, items, None)
            if obj is None:
                return
            yield SubscriptionSnapshot.from_stripe(obj)

    async def iter_subscriptions_async(
        self,
        *,
        customer: str | None = None,
        status: str | None = None,
        price: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[SubscriptionSnapshot]:
        """Async twin of `iter_subscriptions` (stripe-python's async client).

        Args:
            customer: as for `iter_subscriptions`.
            status: as for `iter_subscriptions`.
            price: as for `iter_subscriptions`.
            page_size: as for `iter_subscriptions`.

        Returns:
            As for `iter_subscriptions` (an async iterator).
        """
        params = _subscription_list_params(customer, status, price, page_size)
        page = await _acall(
            "list subscriptions",
            READ,
            self.client.v1.subscriptions.list_async,
            params=params,
        )
        items = page.auto_paging_iter()
        while True:
            try:
                obj = await _acall("list subscriptions", READ, items.__anext__)
            except StopAsyncIteration:
                return
            yield SubscriptionSnapshot.from_stripe(obj)

    def list_subscriptions_page(
        self,
        *,
        status: str = "all",
        created_before: int | None = None,
        starting_after: str | None = None,
        page_size: int = 100,
    ) -> SubscriptionPage:
        """One page of ``GET /v1/subscriptions``, newest first, as plain JSON.

        For scans that must survive an interruption: the caller keeps the
        page's `last_id` and passes it back as *starting_after*
        (`iter_subscriptions` pages on its own, but hides the cursor). The
        subscriptions stay plain JSON, so that a caller can read values a newer
        API version adds.

        Args:
            status: Stripe's ``status`` filter (``"all"`` includes canceled).
            created_before: only subscriptions created before this time
                (``created[lt]``, unix seconds).
            starting_after: the cursor: the last id of the previous page.
            page_size: 1 to 100.

        Returns:
            The [`SubscriptionPage`][cancelflow.SubscriptionPage].

        Raises:
            InvalidParameterError: a bad filter or cursor.
            StripeAPIError: Stripe refused (``StripeRateLimitError`` on 429).
        """
        params = _subscription_list_params(None, status, None, page_size)
        del params["expand"]  # discounts are not needed here
        if created_before is not None:
            given: object = created_before
            if not isinstance(given, int) or isinstance(given, bool):
                raise InvalidParameterError("created_before", "must be unix seconds")
            params["created"] = {"lt": created_before}
        if starting_after is not None:
            params["starting_after"] = check_id(
                starting_after, "starting_after", prefix="sub_"
            )
        page = _call(
            "list subscriptions", READ, self.client.v1.subscriptions.list, params=params
        )
        return SubscriptionPage(
            objects=tuple(_plain_object(o) for o in page.data),
            has_more=bool(page.has_more),
        )

    # -- customers and coupons ---------------------------------------------------

    def _retrieve_customer(self, customer: str) -> _Request[CustomerSnapshot]:
        check_id(customer, "customer", prefix="cus_")
        customers = self.client.v1.customers
        return _Request(
            f"retrieve customer {customer}",
            READ,
            customers.retrieve,
            customers.retrieve_async,
            CustomerSnapshot.from_stripe,
            (customer,),
        )

    def retrieve_customer(self, customer: str) -> CustomerSnapshot:
        """Retrieve a customer: `GET /v1/customers/{id}`.

        Args:
            customer: the `cus_…` id.

        Returns:
            Its [`CustomerSnapshot`][cancelflow.CustomerSnapshot].
        """
        return self._retrieve_customer(customer).send()

    async def retrieve_customer_async(self, customer: str) -> CustomerSnapshot:
        """Async twin of `retrieve_customer` (stripe-python's async client).

        Args:
            customer: as for `retrieve_customer`.

        Returns:
            As for `retrieve_customer`.
        """
        return await self._retrieve_customer(customer).send_async()

    def _retrieve_coupon(self, coupon: str) -> _Request[Coupon]:
        check_id(coupon, "coupon")
        coupons = self.client.v1.coupons
        return _Request(
            f"retrieve coupon {coupon}",
            READ,
            coupons.retrieve,
            coupons.retrieve_async,
            Coupon.from_stripe,
            (coupon,),
            {"params": _coupon_params()},
        )

    def retrieve_coupon(self, coupon: str) -> Coupon:
        """Retrieve a coupon: `GET /v1/coupons/{id}`.

        `applies_to` and `currency_options` are expanded (Stripe leaves both out
        otherwise).

        Args:
            coupon: the coupon's id.

        Returns:
            Its [`Coupon`][cancelflow.Coupon].
        """
        return self._retrieve_coupon(coupon).send()

    async def retrieve_coupon_async(self, coupon: str) -> Coupon:
        """Async twin of `retrieve_coupon` (stripe-python's async client).

        Args:
            coupon: as for `retrieve_coupon`.

        Returns:
            As for `retrieve_coupon`.
        """
        return await self._retrieve_coupon(coupon).send_async()

    # -- portal sessions -----------------------------------------------------------

    def _create_portal_session(
        self, params: SessionCreateParams
    ) -> _Request[PortalSession]:
        _check_params(params, "params")
        sessions = self.client.v1.billing_portal.sessions
        return _Request(
            "create a portal session",
            NEW_SESSION,
            sessions.create,
            sessions.create_async,
            PortalSession.from_stripe,
            kwargs={"params": params, "options": self._post_options()},
        )

    def create_portal_session(self, params: SessionCreateParams) -> PortalSession:
        """Create a portal session: `POST /v1/billing_portal/sessions`.

        Sent with a fresh idempotency key. Build `params` with
        [`build_cancel_session_params`][cancelflow.build_cancel_session_params].

        Args:
            params: the session's parameters.

        Returns:
            The [`PortalSession`][cancelflow.PortalSession]; its `url` logs the
            customer in.

        Raises:
            InvalidParameterError: *params* is not a dict, carries request
                options, or holds text stripe-python cannot send (no request
                is made).
            StripeAPIError: Stripe answered with an error.
        """
        return self._create_portal_session(params).send()

    async def create_portal_session_async(
        self, params: SessionCreateParams
    ) -> PortalSession:
        """Async twin of `create_portal_session` (stripe-python's async client).

        Args:
            params: as for `create_portal_session`.

        Returns:
            As for `create_portal_session`.
        """
        return await self._create_portal_session(params).send_async()

    # -- portal configurations -------------------------------------------------------

    def _list_portal_configurations(
        self, *, active: bool | None, is_default: bool | None
    ) -> _Request[list[PortalConfiguration]]:
        params = _configuration_list_params(active, is_default)
        configurations = self.client.v1.billing_portal.configurations
        return _Request(
            "list portal configurations",
            READ,
            configurations.list,
            configurations.list_async,
            _each(PortalConfiguration.from_stripe),
            kwargs={"params": params},
            every_page=True,
        )

    def list_portal_configurations(
        self, *, active: bool | None = None, is_default: bool | None = None
    ) -> list[PortalConfiguration]:
        """List every portal configuration (all pages), optionally filtered.

        Args:
            active: only active (`True`) or inactive (`False`) ones.
            is_default: only the default one (`True`) or the others (`False`).

        Returns:
            The [`PortalConfiguration`][cancelflow.PortalConfiguration]s.

        Raises:
            InvalidParameterError: a filter is not `True`, `False` or `None`.
            StripeAPIError: Stripe answered with an error.
        """
        return self._list_portal_configurations(
            active=active, is_default=is_default
        ).send()

    async def list_portal_configurations_async(
        self, *, active: bool | None = None, is_default: bool | None = None
    ) -> list[PortalConfiguration]:
        """Async twin of `list_portal_configurations` (stripe-python's async client).

        Args:
            active: as for `list_portal_configurations`.
            is_default: as for `list_portal_configurations`.

        Returns:
            As for `list_portal_configurations`.
        """
        return await self._list_portal_configurations(
            active=active, is_default=is_default
        ).send_async()

    def _retrieve_portal_configuration(
        self, configuration: str
    ) -> _Request[PortalConfiguration]:
        check_id(configuration, "configuration", prefix="bpc_")
        configurations = self.client.v1.billing_portal.configurations
        return _Request(
            f"retrieve portal configuration {configuration}",
            READ,
            configurations.retrieve,
            configurations.retrieve_async,
            PortalConfiguration.from_stripe,
            (configuration,),
        )

    def retrieve_portal_configuration(self, configuration: str) -> PortalConfiguration:
        """Retrieve a portal configuration: ``GET /v1/billing_portal/configurations/{id}``.

        Args:
            configuration: its ``bpc_…`` id.

        Returns:
            The configuration.

        Raises:
            InvalidParameterError: *configuration* is not a ``bpc_…`` id (no request
                is made).
            StripeAPIError: Stripe answered with an error.
        """
        return self._retrieve_portal_configuration(configuration).send()

    async def retrieve_portal_configuration_async(
        self, configuration: str
    ) -> PortalConfiguration:
        """Async twin of `retrieve_portal_configuration`.

        Args:
            configuration: its ``bpc_…`` id.

        Returns:
            The configuration.

        Raises:
            InvalidParameterError: *configuration* is not a ``bpc_…`` id (no request
                is made).
            StripeAPIError: Stripe answered with an error.
        """
        return await self._retrieve_portal_configuration(configuration).send_async()

    def _create_portal_configuration(
        self, params: ConfigurationCreateParams, idempotency_key: str | None
    ) -> _Request[PortalConfiguration]:
        _check_params(params, "params")
        options = self._post_options(idempotency_key)
        configurations = self.client.v1.billing_portal.configurations
        return _Request(
            "create a portal configuration",
            NEW_CONFIGURATION,
            configurations.create,
            configurations.create_async,
            PortalConfiguration.from_stripe,
            kwargs={"params": params, "options": options},
        )

    def create_portal_configuration(
        self, params: ConfigurationCreateParams, *, idempotency_key: str | None = None
    ) -> PortalConfiguration:
        """Create a portal configuration (``POST /v1/billing_portal/configurations``).

        A configuration created through the API is never the account's default.

        Args:
            params: stripe-python's ``ConfigurationCreateParams``.
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The configuration Stripe created.

        Raises:
            InvalidParameterError: *params* carries request options or text
                stripe-python cannot send (a lone surrogate, nesting beyond 32
                levels), or the key is not a valid idempotency key (no request
                is made).
            StripeAPIError: Stripe answered with an error.
        """
        return self._create_portal_configuration(params, idempotency_key).send()

    async def create_portal_configuration_async(
        self, params: ConfigurationCreateParams, *, idempotency_key: str | None = None
    ) -> PortalConfiguration:
        """Async twin of `create_portal_configuration`.

        A configuration created through the API is never the account's default.

        Args:
            params: stripe-python's ``ConfigurationCreateParams``.
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The configuration Stripe created.

        Raises:
            InvalidParameterError: *params* carries request options or text
                stripe-python cannot send (a lone surrogate, nesting beyond 32
                levels), or the key is not a valid idempotency key (no request
                is made).
            StripeAPIError: Stripe answered with an error.
        """
        return await self._create_portal_configuration(
            params, idempotency_key
        ).send_async()

    def _update_portal_configuration(
        self,
        configuration: str,
        params: ConfigurationUpdateParams,
        idempotency_key: str | None,
    ) -> _Request[PortalConfiguration]:
        check_id(configuration, "configuration", prefix="bpc_")
        _check_params(params, "params")
        options = self._post_options(idempotency_key)
        configurations = self.client.v1.billing_portal.configurations
        return _Request(
            f"update portal configuration {configuration}",
            UPDATE,
            configurations.update,
            configurations.update_async,
            PortalConfiguration.from_stripe,
            (configuration,),
            {"params": params, "options": options},
        )

    def update_portal_configuration(
        self,
        configuration: str,
        params: ConfigurationUpdateParams,
        *,
        idempotency_key: str | None = None,
    ) -> PortalConfiguration:
        """Update a portal configuration: ``POST /v1/billing_portal/configurations/{id}``.

        Args:
            configuration: its ``bpc_…`` id.
            params: stripe-python's ``ConfigurationUpdateParams``.
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The configuration as Stripe now holds it.

        Raises:
            InvalidParameterError: an argument breaks a rule (no request is made).
            StripeAPIError: Stripe answered with an error.
        """
        return self._update_portal_configuration(
            configuration, params, idempotency_key
        ).send()

    async def update_portal_configuration_async(
        self,
        configuration: str,
        params: ConfigurationUpdateParams,
        *,
        idempotency_key: str | None = None,
    ) -> PortalConfiguration:
        """Async twin of `update_portal_configuration`.

        Args:
            configuration: its ``bpc_…`` id.
            params: stripe-python's ``ConfigurationUpdateParams``.
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The configuration as Stripe now holds it.

        Raises:
            InvalidParameterError: an argument breaks a rule (no request is made).
            StripeAPIError: Stripe answered with an error.
        """
        return await self._update_portal_configuration(
            configuration, params, idempotency_key
        ).send_async()

    # -- feedback options ------------------------------------------------------------

    def _list_feedback_options(
        self, active: bool | None
    ) -> _Request[list[FeedbackOption]]:
        feedback_options = self.client.v1.billing.feedback_options
        return _Request(
            "list feedback options",
            READ,
            feedback_options.list,
            feedback_options.list_async,
            _each(FeedbackOption.from_stripe),
            kwargs={"params": _feedback_option_list_params(active)},
            every_page=True,
        )

    def list_feedback_options(
        self, *, active: bool | None = None
    ) -> list[FeedbackOption]:
        """List every custom feedback option, all pages: ``GET /v1/billing/feedback_options``.

        Args:
            active: only active (``True``) or deactivated (``False``) ones; all when ``None``.

        Returns:
            The feedback options, newest first (Stripe's order).

        Raises:
            InvalidParameterError: *active* is not `True`, `False` or `None`.
            StripeAPIError: Stripe answered with an error.
        """
        return self._list_feedback_options(active).send()

    async def list_feedback_options_async(
        self, *, active: bool | None = None
    ) -> list[FeedbackOption]:
        """Async twin of `list_feedback_options`.

        Args:
            active: only active (``True``) or deactivated (``False``) ones; all when ``None``.

        Returns:
            The feedback options, newest first (Stripe's order).

        Raises:
            InvalidParameterError: *active* is not `True`, `False` or `None`.
            StripeAPIError: Stripe answered with an error.
        """
        return await self._list_feedback_options(active).send_async()

    def _create_feedback_option(
        self, description: str, idempotency_key: str | None
    ) -> _Request[FeedbackOption]:
        _check_description(description)
        options = self._post_options(idempotency_key)
        feedback_options = self.client.v1.billing.feedback_options
        return _Request(
            "create a feedback option",
            NEW_FEEDBACK_OPTION,
            feedback_options.create,
            feedback_options.create_async,
            FeedbackOption.from_stripe,
            kwargs={"params": {"description": description}, "options": options},
        )

    def create_feedback_option(
        self, description: str, *, idempotency_key: str | None = None
    ) -> FeedbackOption:
        """Create a custom feedback option (``POST /v1/billing/feedback_options``).

        Args:
            description: the label customers see (1 to 100 characters).
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The feedback option Stripe created.

        Raises:
            InvalidParameterError: the description or the key breaks a rule (no
                request is made).
            StripeAPIError: Stripe answered with an error.
        """
        return self._create_feedback_option(description, idempotency_key).send()

    async def create_feedback_option_async(
        self, description: str, *, idempotency_key: str | None = None
    ) -> FeedbackOption:
        """Async twin of `create_feedback_option`.

        Args:
            description: the label customers see (1 to 100 characters).
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The feedback option Stripe created.

        Raises:
            InvalidParameterError: the description or the key breaks a rule (no
                request is made).
            StripeAPIError: Stripe answered with an error.
        """
        return await self._create_feedback_option(
            description, idempotency_key
        ).send_async()

    def _deactivate_feedback_option(
        self, option: str, idempotency_key: str | None
    ) -> _Request[FeedbackOption]:
        check_id(option, "feedback_option")
        options = self._post_options(idempotency_key)
        feedback_options = self.client.v1.billing.feedback_options
        return _Request(
            f"deactivate feedback option {option}",
            DEACTIVATE,
            feedback_options.deactivate,
            feedback_options.deactivate_async,
            FeedbackOption.from_stripe,
            (option,),
            {"options": options},
        )

    def deactivate_feedback_option(
        self, option: str, *, idempotency_key: str | None = None
    ) -> FeedbackOption:
        """Deactivate a feedback option: ``POST /v1/billing/feedback_options/{id}/deactivate``.

        A deactivated option can no longer be offered, and there is no way back.

        Args:
            option: the option's id.
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The option, now inactive.

        Raises:
            InvalidParameterError: an argument breaks a rule (no request is made).
            StripeAPIError: Stripe answered with an error.
        """
        return self._deactivate_feedback_option(option, idempotency_key).send()

    async def deactivate_feedback_option_async(
        self, option: str, *, idempotency_key: str | None = None
    ) -> FeedbackOption:
        """Async twin of `deactivate_feedback_option`.

        A deactivated option can no longer be offered, and there is no way back.

        Args:
            option: the option's id.
            idempotency_key: the ``Idempotency-Key`` to send (at most 255 printable
                ASCII characters) instead of the gateway's fresh one.

        Returns:
            The option, now inactive.

        Raises:
            InvalidParameterError: an argument breaks a rule (no request is made).
            StripeAPIError: Stripe answered with an error.
        """
        return await self._deactivate_feedback_option(
            option, idempotency_key
        ).send_async()


def _plain_object(obj: object) -> Mapping[str, Any]:
    value = plain(obj)
    if not isinstance(value, Mapping):
        raise StripeObjectError("subscriptions.data[]", "expected an object")
    return value


def _configuration_list_params(
    active: bool | None, is_default: bool | None
) -> ConfigurationListParams:
    _check_filter(active, "active")
    _check_filter(is_default, "is_default")
    params: ConfigurationListParams = {"limit": 100}
    if active is not None:
        params["active"] = active
    if is_default is not None:
        params["is_default"] = is_default
    return params


def _feedback_option_list_params(active: bool | None) -> FeedbackOptionListParams:
    _check_filter(active, "active")
    params: FeedbackOptionListParams = {"limit": 100}
    if active is not None:
        params["status"] = "active" if active else "inactive"
    return params


def _check_filter(value: object, field: str) -> None:
    """Refuse a yes/no filter that is not `True`, `False` or `None` (no filter)."""
    if value is not None and not isinstance(value, bool):
        raise InvalidParameterError(
            field, f"must be True, False or None, got {type(value).__name__}"
        )


#: Stripe's documented limit of a feedback option's ``description``.
FEEDBACK_OPTION_MAX: Final = 100
#: Stripe's documented limit of an ``Idempotency-Key``.
IDEMPOTENCY_KEY_MAX: Final = 255


def _check_description(description: object) -> None:
    if not isinstance(description, str) or not description.strip():
        raise InvalidParameterError("description", "must be a non-empty string")
    if len(description) > FEEDBACK_OPTION_MAX:
        raise InvalidParameterError(
            "description", f"must be at most {FEEDBACK_OPTION_MAX} characters"
        )
    _encodable(description, "description")


def _check_idempotency_key(key: object) -> str:
    if (
        not isinstance(key, str)
        or not key
        or len(key) > IDEMPOTENCY_KEY_MAX
        or not key.isascii()
        or not key.isprintable()
    ):
        raise InvalidParameterError(
            "idempotency_key",
            f"must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters",
        )
    return key

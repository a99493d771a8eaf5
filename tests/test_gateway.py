"""StripeGateway through the real stripe-python, with a recording HTTP client."""

from __future__ import annotations

import asyncio
import itertools

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import (
    AllowedHosts,
    CancelMode,
    Coupon,
    CustomerSnapshot,
    PortalConfiguration,
    StripeGateway,
    SubscriptionSnapshot,
    build_cancel_session_params,
)
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
from recording import (
    API_KEY,
    RecordingHTTPClient,
    configuration_json,
    coupon_json,
    customer_json,
    error_json,
    subscription_json,
)

PARAMS = build_cancel_session_params(
    customer="cus_1",
    subscription="sub_1",
    coupon="SAVE20",
    allowed_hosts=AllowedHosts(["example.com"]),
    return_url="https://example.com/account",
)


@pytest.fixture(name="recorder")
def _recorder():
    rec = RecordingHTTPClient()
    rec.subscriptions["sub_1"] = subscription_json(
        discounts=[{"id": "di_1", "object": "discount", "source": {"coupon": "SAVE20"}}]
    )
    rec.coupons["SAVE20"] = coupon_json(products=["prod_1"])
    rec.customers["cus_1"] = customer_json()
    return rec


@pytest.fixture(name="gateway")
def _gateway(recorder):
    return StripeGateway(recorder.client())


class TestReads:
    def test_retrieve_subscription_expands_discounts(self, gateway, recorder):
        """A subscription is fetched with discounts expanded and parsed."""
        snap = gateway.retrieve_subscription("sub_1")
        assert isinstance(snap, SubscriptionSnapshot)
        assert snap.coupon_ids == {"SAVE20"}
        (req,) = recorder.requests
        assert (req.method, req.path) == ("get", "/v1/subscriptions/sub_1")
        assert req.query == {"expand[0]": "discounts.source.coupon"}
        assert req.headers["Authorization"] == f"Bearer {API_KEY}"
        assert "Idempotency-Key" not in req.headers

    def test_retrieve_coupon_expands_restrictions(self, gateway, recorder):
        """A coupon is fetched with applies_to and currency_options expanded."""
        coupon = gateway.retrieve_coupon("SAVE20")
        assert isinstance(coupon, Coupon)
        assert coupon.applies_to_products == {"prod_1"}
        assert recorder.requests[0].query == {
            "expand[0]": "applies_to",
            "expand[1]": "currency_options",
        }

    def test_retrieve_customer(self, gateway, recorder):
        """A customer is fetched and reduced to its segment facts."""
        customer = gateway.retrieve_customer("cus_1")
        assert isinstance(customer, CustomerSnapshot)
        assert customer.country == "FR"
        assert recorder.requests[0].path == "/v1/customers/cus_1"

    def test_async_reads(self, gateway, recorder):
        """The async twins make the same requests and return the same values."""

        async def go():
            return (
                await gateway.retrieve_subscription_async("sub_1"),
                await gateway.retrieve_coupon_async("SAVE20"),
                await gateway.retrieve_customer_async("cus_1"),
            )

        snap, coupon, customer = asyncio.run(go())
        assert snap == gateway.retrieve_subscription("sub_1")
        assert coupon == gateway.retrieve_coupon("SAVE20")
        assert customer == gateway.retrieve_customer("cus_1")
        assert [r.query for r in recorder.requests[:3]] == [
            r.query for r in recorder.requests[3:]
        ]

    @pytest.mark.parametrize("bad", ["", "sub_1/../../v1/customers", "cus_1"])
    def test_bad_ids_never_reach_stripe(self, gateway, recorder, bad):
        """An empty, path-like or wrong-prefix id is refused before any request."""
        with pytest.raises(InvalidParameterError):
            gateway.retrieve_subscription(bad)
        assert recorder.requests == []


class TestSessions:
    def test_form_fields_and_idempotency_header(self, gateway, recorder):
        """The session is POSTed with Stripe's form fields; the idempotency key
        travels as a header, never as a form field."""
        session = gateway.create_portal_session(PARAMS)
        (req,) = recorder.requests
        assert req.method == "post"
        assert req.path == "/v1/billing_portal/sessions"
        assert req.form == {
            "customer": "cus_1",
            "flow_data[type]": "subscription_cancel",
            "flow_data[subscription_cancel][subscription]": "sub_1",
            "flow_data[subscription_cancel][retention][type]": "coupon_offer",
            "flow_data[subscription_cancel][retention][coupon_offer][coupon]": "SAVE20",
            "return_url": "https://example.com/account",
        }
        assert req.headers["Idempotency-Key"].startswith("cancelflow-")
        assert session.coupon == "SAVE20"
        assert session.subscription == "sub_1"

    def test_fresh_key_per_attempt(self, gateway, recorder):
        """Two attempts with the same parameters carry two different keys."""
        gateway.create_portal_session(PARAMS)
        asyncio.run(gateway.create_portal_session_async(PARAMS))
        gateway.create_portal_session(PARAMS)
        keys = [r.headers["Idempotency-Key"] for r in recorder.requests]
        assert len(set(keys)) == 3

    def test_custom_key_factory(self, recorder):
        """A key factory is called once per POST and its keys are sent."""
        counter = itertools.count(1)
        gateway = StripeGateway(
            recorder.client(), idempotency_key=lambda: f"k{next(counter)}"
        )
        gateway.create_portal_session(PARAMS)
        gateway.create_portal_session(PARAMS)
        assert [r.headers["Idempotency-Key"] for r in recorder.requests] == ["k1", "k2"]

    @pytest.mark.parametrize("option", ["idempotency_key", "api_key", "stripe_account"])
    def test_request_options_in_params_refused(self, gateway, recorder, option):
        """Request options inside params would be sent as form fields: refused."""
        with pytest.raises(InvalidParameterError) as info:
            gateway.create_portal_session({**PARAMS, option: "x"})
        assert info.value.field == f"params[{option}]"
        assert recorder.requests == []


ERRORS = [
    (404, error_json("No such subscription: 'sub_1'", code="resource_missing", param="id"),
     StripeResourceMissingError, "resource_missing", "id", "invalid_request_error"),
    (400, error_json("Invalid locale", code="parameter_invalid_string", param="locale"),
     StripeInvalidRequestError, "parameter_invalid_string", "locale", "invalid_request_error"),
    (400, error_json("Keys for idempotent requests can only be used with the same "
                     "parameters", error_type="idempotency_error"),
     StripeIdempotencyError, None, None, "idempotency_error"),
    (401, error_json("Invalid API Key provided: sk_test_********************0000",
                     error_type="invalid_request_error"),
     StripeAuthenticationError, None, None, "invalid_request_error"),
    (403, error_json("The provided key does not have access", error_type="invalid_request_error"),
     StripePermissionError, None, None, "invalid_request_error"),
    (429, error_json("Too many requests", code="rate_limit"),
     StripeRateLimitError, "rate_limit", None, "invalid_request_error"),
    (500, error_json("An unknown error occurred", error_type="api_error"),
     StripeServerError, None, None, "api_error"),
    (409, error_json("Conflict", error_type="invalid_request_error", code="lock_timeout"),
     StripeServerError, "lock_timeout", None, "invalid_request_error"),
    (402, error_json("Your card was declined.", error_type="card_error", code="card_declined"),
     StripeAPIError, "card_declined", None, "card_error"),
]  # fmt: skip


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "body", "kind", "code", "param", "stype"), ERRORS
    )
    def test_each_stripe_error_is_mapped(
        self, *, gateway, recorder, status, body, kind, code, param, stype
    ):
        """Each Stripe error becomes its cancelflow class, keeping code, param,
        status, request id, type and the stripe class's name, without chaining
        the stripe exception (neither as cause nor as context)."""
        recorder.fail_next("get", "/v1/subscriptions/", status, body)
        with pytest.raises(StripeAPIError) as info:
            gateway.retrieve_subscription("sub_1")
        err = info.value
        assert type(err) is kind
        assert (err.code, err.param, err.http_status, err.stripe_type) == (
            code,
            param,
            status,
            stype,
        )
        assert err.request_id == "req_1"
        assert err.__cause__ is None
        assert err.__context__ is None
        assert err.cause_type is not None
        assert err.cause_type.endswith("Error")
        assert not isinstance(err, stripe.StripeError)
        assert body["error"]["message"].split(":")[0] in str(err)

    def test_connection_error(self, gateway, recorder):
        """A network failure becomes StripeConnectionError with no status, saying
        Stripe could not be reached (not that it refused) and that retrying a
        session is safe."""
        recorder.connection_failures = 1
        with pytest.raises(StripeConnectionError) as info:
            gateway.create_portal_session(PARAMS)
        assert info.value.http_status is None
        message = str(info.value)
        assert message.startswith("Stripe could not be reached to create a portal")
        assert "Stripe refused" not in message
        assert "retrying is safe" in message
        assert info.value.retry_safe

    def test_unreachable_stripe_through_a_real_http_client(self):
        """With nothing listening where Stripe should be, a read says Stripe could
        not be reached, what the network said, and that retrying is safe."""
        import socket

        with socket.socket() as sock:  # a free local port, closed again
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": f"http://127.0.0.1:{port}"},
            http_client=stripe.RequestsClient(timeout=5),
        )
        with pytest.raises(StripeConnectionError) as info:
            StripeGateway(client).retrieve_subscription("sub_1")
        message = str(info.value)
        assert message.startswith(
            "Stripe could not be reached to retrieve subscription sub_1 (ConnectionError"
        )
        assert "Unexpected error communicating" not in message
        assert message.endswith("Nothing was changed; retrying is safe.")
        assert info.value.retry_safe

    @pytest.mark.parametrize(
        ("call", "safe", "advice"),
        [
            (lambda g: g.retrieve_coupon("SAVE20"), True, "Nothing was changed"),
            (
                lambda g: g.create_portal_configuration({}),
                False,
                "list the portal configurations before retrying",
            ),
            (
                lambda g: g.update_portal_configuration("bpc_1", {}),
                True,
                "the update sets the same values",
            ),
        ],
    )
    def test_a_timeout_says_whether_retrying_is_safe(
        self, gateway, recorder, call, safe, advice
    ):
        """A timeout says Stripe did not answer in time, and whether the call can
        be made again."""
        recorder.connection_failures = 1
        recorder.connection_message = (
            "Unexpected error communicating with Stripe.\n\n(Network error: "
            "ReadTimeout: HTTPSConnectionPool(host='api.stripe.com', port=443): "
            "Read timed out. (read timeout=80))"
        )
        with pytest.raises(StripeConnectionError) as info:
            call(gateway)
        message = str(info.value)
        assert message.startswith("Stripe did not answer in time to ")
        assert "(ReadTimeout: HTTPSConnectionPool" in message
        assert advice in message
        assert info.value.retry_safe is safe

    def test_async_errors_are_mapped_too(self, gateway, recorder):
        """The async twins map errors the same way."""
        recorder.fail_next(
            "post", "/v1/billing_portal/sessions", 429, error_json("Slow down")
        )
        with pytest.raises(StripeRateLimitError):
            asyncio.run(gateway.create_portal_session_async(PARAMS))

    def test_keys_are_redacted_from_messages(self, gateway, recorder):
        """A key echoed in Stripe's message never reaches ours."""
        recorder.fail_next(
            "get",
            "/v1/coupons/",
            401,
            error_json(f"Invalid API Key provided: {API_KEY}"),
        )
        with pytest.raises(StripeAuthenticationError) as info:
            gateway.retrieve_coupon("SAVE20")
        assert API_KEY not in str(info.value)
        assert API_KEY not in repr(info.value)
        assert "sk_test_[redacted]" in str(info.value)

    def test_parse_errors_are_ours(self, gateway, recorder):
        """A malformed answer raises StripeObjectError, not AttributeError."""
        recorder.subscriptions["sub_2"] = {"id": "sub_2", "object": "subscription"}
        with pytest.raises(StripeObjectError) as info:
            gateway.retrieve_subscription("sub_2")
        assert info.value.path == "subscription.status"


class TestPagination:
    def test_iter_subscriptions_follows_pages(self, recorder):
        """All 250 subscriptions come back over 3 pages using starting_after."""
        recorder.subscriptions.clear()
        for n in range(250):
            recorder.subscriptions[f"sub_{n:03d}"] = subscription_json(f"sub_{n:03d}")
        gateway = StripeGateway(recorder.client())
        ids = [s.id for s in gateway.iter_subscriptions(customer="cus_1", status="all")]
        assert ids == [f"sub_{n:03d}" for n in range(250)]
        queries = [r.query for r in recorder.requests]
        assert len(queries) == 3
        assert queries[0] == {
            "limit": "100",
            "expand[0]": "data.discounts.source.coupon",
            "customer": "cus_1",
            "status": "all",
        }
        assert queries[1]["starting_after"] == "sub_099"
        assert queries[2]["starting_after"] == "sub_199"

    def test_async_iteration(self, recorder):
        """The async iterator yields the same subscriptions, page after page."""
        for n in range(5):
            recorder.subscriptions[f"sub_x{n}"] = subscription_json(f"sub_x{n}")
        gateway = StripeGateway(recorder.client())

        async def collect():
            return [s.id async for s in gateway.iter_subscriptions_async(page_size=2)]

        assert asyncio.run(collect()) == [
            s.id for s in gateway.iter_subscriptions(page_size=2)
        ]
        assert (
            sum(r.path == "/v1/subscriptions" for r in recorder.requests) == 6
        )  # 6 subscriptions, 3 pages, twice

    def test_default_status_is_left_to_stripe(self, recorder):
        """Without a status no `status` is sent (Stripe's default: not canceled);
        with one, it is sent as given."""
        gateway = StripeGateway(recorder.client())
        list(gateway.iter_subscriptions())
        list(gateway.iter_subscriptions(status="past_due"))
        first, second = (r.query for r in recorder.requests)
        assert "status" not in first
        assert second["status"] == "past_due"

    def test_error_on_a_later_page_is_mapped(self, recorder):
        """A failure while fetching page 2 raises our error mid-iteration."""
        for n in range(3):
            recorder.subscriptions[f"sub_y{n}"] = subscription_json(f"sub_y{n}")
        gateway = StripeGateway(recorder.client())
        items = gateway.iter_subscriptions(page_size=2)
        assert next(items).id == "sub_1"
        assert next(items).id == "sub_y0"
        recorder.fail_next(
            "get", "/v1/subscriptions", 500, error_json("boom", error_type="api_error")
        )
        with pytest.raises(StripeServerError):
            next(items)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"status": "gone"}, "status"),
            ({"page_size": 0}, "limit"),
            ({"customer": "sub_1"}, "customer"),
        ],
    )
    def test_bad_filters(self, gateway, recorder, kwargs, field):
        """Bad list filters are refused before any request."""
        with pytest.raises(InvalidParameterError) as info:
            list(gateway.iter_subscriptions(**kwargs))
        assert info.value.field == field
        assert recorder.requests == []


class TestConfigurations:
    def test_list_all_pages_and_filters(self, gateway, recorder):
        """Every configuration is listed across pages, with filters as Stripe's."""
        for n in range(130):
            recorder.configurations[f"bpc_{n}"] = configuration_json(
                f"bpc_{n}", is_default=n == 0
            )
        configs = gateway.list_portal_configurations(active=True)
        assert len(configs) == 130
        assert all(isinstance(c, PortalConfiguration) for c in configs)
        assert recorder.requests[0].query == {"limit": "100", "active": "true"}
        assert len(recorder.requests) == 2
        asyncio.run(gateway.list_portal_configurations_async(is_default=True))
        assert recorder.requests[-1].query == {"limit": "100", "is_default": "true"}

    def test_create_and_update(self, gateway, recorder):
        """Create and update send Stripe's form fields with an idempotency header."""
        created = gateway.create_portal_configuration(
            {
                "features": {
                    "subscription_cancel": {
                        "enabled": True,
                        "mode": "immediately",
                        "proration_behavior": "create_prorations",
                        "cancellation_reason": {"enabled": True, "options": ["other"]},
                    }
                }
            }
        )
        assert created.subscription_cancel.mode is CancelMode.IMMEDIATELY
        form = recorder.requests[0].form
        assert (
            form["features[subscription_cancel][cancellation_reason][options][0]"]
            == "other"
        )
        assert form["features[subscription_cancel][enabled]"] == "true"
        updated = asyncio.run(
            gateway.update_portal_configuration_async(
                created.id,
                {"features": {"subscription_cancel": {"mode": "at_period_end"}}},
            )
        )
        assert updated.subscription_cancel.mode is CancelMode.AT_PERIOD_END
        again = gateway.update_portal_configuration(created.id, {"active": False})
        assert not again.active
        assert (
            asyncio.run(gateway.create_portal_configuration_async({"features": {}})).id
            != created.id
        )
        assert all("Idempotency-Key" in r.headers for r in recorder.requests)
        assert (
            recorder.requests[1].path
            == f"/v1/billing_portal/configurations/{created.id}"
        )

    def test_update_missing_configuration(self, gateway):
        """Updating an unknown configuration raises StripeResourceMissingError."""
        with pytest.raises(StripeResourceMissingError):
            gateway.update_portal_configuration("bpc_nope", {"active": True})


class TestSafety:
    def test_repr_has_no_key(self, gateway):
        """The gateway's repr never shows the API key."""
        assert API_KEY not in repr(gateway)
        assert repr(gateway) == "StripeGateway(client=<StripeClient>)"

    def test_a_key_string_is_not_a_client(self):
        """Passing the key itself is refused without echoing it."""
        with pytest.raises(InvalidParameterError) as info:
            StripeGateway(API_KEY)  # type: ignore[arg-type]
        assert API_KEY not in str(info.value)
        assert "stripe.StripeClient" in str(info.value)

    def test_global_api_key_is_never_used(self, recorder, monkeypatch):
        """Requests carry the client's key even when stripe.api_key is set."""
        monkeypatch.setattr(stripe, "api_key", "sk_test_globalKEYglobalKEY")
        StripeGateway(recorder.client()).retrieve_subscription("sub_1")
        assert recorder.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


class TestEdges:
    def test_other_exceptions_are_not_masked(self, recorder):
        """An exception that is not a Stripe error passes through unchanged."""

        def broken(*args, **kwargs):
            raise RuntimeError("transport bug")

        recorder.request = broken
        with pytest.raises(RuntimeError, match="transport bug"):
            StripeGateway(recorder.client()).retrieve_subscription("sub_1")

    def test_params_must_be_a_mapping(self, gateway, recorder):
        """Params that are not a dict are refused before any request."""
        with pytest.raises(InvalidParameterError, match="dict of Stripe parameters"):
            gateway.create_portal_session([("customer", "cus_1")])  # type: ignore[arg-type]
        assert recorder.requests == []

    def test_price_filter_and_overlong_id(self, gateway, recorder):
        """The price filter is sent as Stripe's `price`; an id over 5000 characters
        is refused."""
        assert list(gateway.iter_subscriptions(price="price_1"))
        assert recorder.requests[0].query["price"] == "price_1"
        with pytest.raises(InvalidParameterError, match="5001 characters"):
            gateway.retrieve_coupon("C" * 5001)


def test_request_options_come_from_stripe_python():
    """The keys refused in params are stripe-python's RequestOptions keys, and
    the fake's schema leaves out the very same set."""
    from cancelflow._stripe.gateway import request_option_keys
    from cancelflow.testing._schema import request_option_keys as fake_keys

    expected = (
        stripe.RequestOptions.__required_keys__
        | stripe.RequestOptions.__optional_keys__
    )
    assert request_option_keys() == expected == fake_keys()
    assert "idempotency_key" in expected
    gateway = StripeGateway(RecordingHTTPClient().client())
    for key in sorted(expected):
        with pytest.raises(InvalidParameterError, match="request option"):
            gateway.create_portal_session({**PARAMS, key: "x"})  # type: ignore[misc]


SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)


def _with_surrogate() -> st.SearchStrategy[str]:
    """Text holding a lone surrogate somewhere (stripe-python cannot encode it)."""
    return st.builds(
        lambda a, bad, b: a + bad + b,
        st.text(max_size=5),
        SURROGATES,
        st.text(max_size=5),
    )


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": "x"}
    for _ in range(depth):
        value = {"a": value}
    return value


class TestHostileInput:
    """Every public call refuses hostile input with an error naming it, before
    any request (stripe-python would raise UnicodeEncodeError, RecursionError or
    TypeError, or send a wrong filter)."""

    @pytest.mark.parametrize(
        "description", [None, 5, b"Too many emails", ["x"], "", "   ", "x" * 101]
    )
    def test_bad_feedback_option_descriptions(self, gateway, recorder, description):
        """A description that is not 1 to 100 characters of text is refused."""
        for create in (
            gateway.create_feedback_option,
            lambda d: asyncio.run(gateway.create_feedback_option_async(d)),
        ):
            with pytest.raises(InvalidParameterError) as info:
                create(description)
            assert info.value.field == "description"
        assert recorder.requests == []

    @given(description=_with_surrogate())
    def test_a_lone_surrogate_in_a_description_is_refused(self, description):
        """A description holding a lone surrogate is refused by name."""
        recorder = RecordingHTTPClient()
        gateway = StripeGateway(recorder.client())
        with pytest.raises(InvalidParameterError, match="lone surrogate") as info:
            gateway.create_feedback_option(description)
        assert info.value.field == "description"
        assert recorder.requests == []

    @pytest.mark.parametrize(
        "key", ["", "k" * 256, "k\x00", "clé", "k\ud800", "two words\n", 5, b"k"]
    )
    def test_bad_idempotency_keys(self, gateway, recorder, key):
        """An explicit idempotency key must be 1 to 255 printable ASCII characters."""
        calls = (
            lambda: gateway.create_feedback_option("Too slow", idempotency_key=key),
            lambda: gateway.deactivate_feedback_option("fo_1", idempotency_key=key),
            lambda: gateway.create_portal_configuration({}, idempotency_key=key),
            lambda: gateway.update_portal_configuration(
                "bpc_1", {}, idempotency_key=key
            ),
        )
        for call in calls:
            with pytest.raises(InvalidParameterError) as info:
                call()
            assert info.value.field == "idempotency_key"
        assert recorder.requests == []

    @pytest.mark.parametrize("option", ["", "fo_\ud800", "fo_a/b", "fo_ 1", 5, None])
    def test_bad_feedback_option_ids(self, gateway, recorder, option):
        """Deactivating refuses what is not a Stripe id."""
        with pytest.raises(InvalidParameterError) as info:
            gateway.deactivate_feedback_option(option)
        assert info.value.field == "feedback_option"
        assert recorder.requests == []

    @given(text=_with_surrogate(), in_key=st.booleans(), nested=st.booleans())
    def test_a_lone_surrogate_in_params_is_refused(self, text, in_key, nested):
        """A lone surrogate in a value or a key of params is refused, its path named."""
        recorder = RecordingHTTPClient()
        gateway = StripeGateway(recorder.client())
        metadata = {text: "v"} if in_key else {"k": text}
        params = {"features": {"x": [metadata]}} if nested else {"metadata": metadata}
        where = "params[features][x][0]" if nested else "params[metadata]"
        for send in (
            lambda: gateway.create_portal_configuration(params),  # type: ignore[arg-type]
            lambda: gateway.update_portal_configuration("bpc_1", params),  # type: ignore[arg-type]
            lambda: gateway.create_portal_session(params),  # type: ignore[arg-type]
        ):
            with pytest.raises(InvalidParameterError, match="lone surrogate") as info:
                send()
            assert info.value.field.startswith(where)
            assert not any(0xD800 <= ord(c) <= 0xDFFF for c in str(info.value))
        assert recorder.requests == []

    @pytest.mark.parametrize("depth", [33, 200, 5000])
    def test_deeply_nested_params_are_refused(self, gateway, recorder, depth):
        """Params nested deeper than Stripe's ever are refused, not a RecursionError."""
        params = {"metadata": _nested(depth)}
        with pytest.raises(InvalidParameterError, match="levels deep") as info:
            gateway.create_portal_configuration(params)  # type: ignore[arg-type]
        assert info.value.field.startswith("params[metadata][a]")
        with pytest.raises(InvalidParameterError, match="levels deep"):
            asyncio.run(gateway.create_portal_configuration_async(params))  # type: ignore[arg-type]
        assert recorder.requests == []

    def test_params_as_deep_as_stripe_nests_are_sent(self, gateway, recorder):
        """A session's params, five levels deep, go through the check unchanged."""
        params = build_cancel_session_params(
            customer="cus_1",
            subscription="sub_1",
            coupon="SAVE20",
            allowed_hosts=AllowedHosts(["example.com"]),
        )
        gateway.create_portal_session(params)
        sent = recorder.requests[0].form
        assert sent[
            "flow_data[subscription_cancel][retention][coupon_offer][coupon]"
        ] == ("SAVE20")

    @pytest.mark.parametrize("value", ["no", "true", 0, 1, [], "<b>x</b>"])
    def test_yes_no_filters_must_be_booleans(self, gateway, recorder, value):
        """A list filter that is not True, False or None is refused by name."""
        calls = {
            "active": (
                lambda: gateway.list_feedback_options(active=value),
                lambda: asyncio.run(gateway.list_feedback_options_async(active=value)),
                lambda: gateway.list_portal_configurations(active=value),
            ),
            "is_default": (
                lambda: gateway.list_portal_configurations(is_default=value),
            ),
        }
        for field, sends in calls.items():
            for send in sends:
                with pytest.raises(InvalidParameterError) as info:
                    send()
                assert info.value.field == field
        assert recorder.requests == []

    @pytest.mark.parametrize("page_size", ["5", 1.5, None, True, 2**70])
    def test_page_sizes_must_be_integers_in_range(self, gateway, recorder, page_size):
        """A page size that is not an integer from 1 to 100 is refused by name."""
        with pytest.raises(InvalidParameterError) as info:
            list(gateway.iter_subscriptions(page_size=page_size))
        assert info.value.field == "limit"
        with pytest.raises(InvalidParameterError) as info:
            gateway.list_subscriptions_page(page_size=page_size)
        assert info.value.field == "limit"
        assert recorder.requests == []

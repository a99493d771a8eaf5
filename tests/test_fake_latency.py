"""Latency: FakeStripe delays requests (fixed or per operation) without moving its clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import stripe
from tests.fake_support import client, fake

from cancelflow.exceptions import FakeStripeError
from cancelflow.testing import FakeStripe, Latency
from cancelflow.testing import _http as http_module

__all__ = ["client", "fake"]


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """Every delay the fake's HTTP client waits, recorded instead of slept."""
    record: list[tuple[str, float]] = []

    def sleep(seconds: float) -> None:
        record.append(("sync", seconds))

    async def sleep_async(seconds: float) -> None:
        record.append(("async", seconds))

    monkeypatch.setattr(http_module, "_sleep", sleep)
    monkeypatch.setattr(http_module, "_sleep_async", sleep_async)
    return record


class TestFixed:
    def test_no_latency_by_default(self, fake, client, slept):
        """A fresh fake adds no delay at all."""
        client.v1.customers.create()
        assert slept == []
        assert fake.latency == Latency()
        assert not fake.latency.active

    def test_every_sync_request_waits(self, fake, client, slept):
        """set_latency(seconds) delays each sync request once, by that much."""
        fake.set_latency(0.05)
        customer = client.v1.customers.create()
        client.v1.customers.retrieve(customer.id)
        assert slept == [("sync", 0.05), ("sync", 0.05)]

    def test_async_requests_await_their_delay(self, fake, client, slept):
        """*_async calls await an asyncio sleep instead of blocking the loop."""
        fake.set_latency(dt.timedelta(milliseconds=50))

        async def fan_out() -> list[stripe.Customer]:
            return await asyncio.gather(
                *(client.v1.customers.create_async() for _ in range(3))
            )

        assert len(asyncio.run(fan_out())) == 3
        assert slept == [("async", 0.05)] * 3

    def test_the_fake_clock_does_not_move(self, fake, client, slept):
        """Latency is wall-clock time only: created stays the fake clock's now."""
        fake.set_latency(30)
        customer = client.v1.customers.create()
        assert customer.created == fake.clock.now() == fake.clock.start
        assert slept == [("sync", 30.0)]

    def test_each_retry_is_delayed_again(self, fake, slept):
        """stripe-python's retries after a connection error each pay the delay."""
        fake.set_latency(0.01)
        fake.faults.fail_next("customers.list", kind="connection_error")
        assert fake.client(max_network_retries=1).v1.customers.list().data == []
        assert slept == [("sync", 0.01), ("sync", 0.01)]

    def test_set_latency_without_arguments_removes_it(self, fake, client, slept):
        """set_latency() goes back to no delay; reset() does too."""
        fake.set_latency(1, routes={"customers.create": 2})
        fake.set_latency()
        client.v1.customers.create()
        fake.set_latency(1)
        fake.reset()
        fake.client().v1.customers.create()
        assert slept == []


class TestPerRoute:
    def test_operations_get_their_own_delay(self, fake, client, slept):
        """routes= sets one operation's delay; the others get the default."""
        fake.set_latency(0.01, routes={"customers.retrieve": 0.2})
        customer = client.v1.customers.create()
        client.v1.customers.retrieve(customer.id)
        client.v1.customers.list()
        assert slept == [("sync", 0.01), ("sync", 0.2), ("sync", 0.01)]
        assert fake.latency.for_operation("customers.retrieve") == 0.2
        assert fake.latency.for_operation(None) == 0.01

    def test_a_route_only_delay(self, fake, client, slept):
        """With no default, only the named operation waits."""
        fake.set_latency(routes={"billing_portal.configurations.list": 0.3})
        client.v1.customers.list()
        client.v1.billing_portal.configurations.list()
        assert slept == [("sync", 0.3)]
        assert fake.latency.active

    def test_an_unrouted_request_gets_the_default(self, fake, slept):
        """A path the fake does not route still pays the default delay."""
        fake.set_latency(0.02, routes={"customers.list": 0.5})
        _body, status, _headers = fake.http_client.request(
            "get",
            "https://api.stripe.com/v1/nothing_here",
            {"Authorization": "Bearer sk_test_1"},
        )
        assert status == 404
        assert slept == [("sync", 0.02)]

    def test_the_latency_is_frozen(self, fake):
        """fake.latency is a value: its routes cannot be changed behind the fake's back."""
        fake.set_latency(routes={"customers.list": 0.5})
        with pytest.raises(TypeError):
            fake.latency.routes["customers.list"] = 1.0  # type: ignore[index]


class TestRefusals:
    @pytest.mark.parametrize(
        ("seconds", "words"),
        [
            (-1, "≥ 0"),
            (float("nan"), "finite"),
            (float("inf"), "finite"),
            ("0.1", "got str"),
            (True, "got bool"),
        ],
    )
    def test_bad_delays_are_refused_by_name(self, seconds, words):
        """A delay that is not a finite number ≥ 0 is a FakeStripeError naming it."""
        with pytest.raises(FakeStripeError, match="seconds") as caught:
            FakeStripe().set_latency(seconds)
        assert words in str(caught.value)

    def test_unknown_operations_are_refused_with_a_suggestion(self):
        """A misspelt operation is refused, with the close names suggested."""
        with pytest.raises(FakeStripeError, match=r"did you mean customers\.retrieve"):
            FakeStripe().set_latency(routes={"customers.retreive": 0.1})

    def test_a_bad_route_delay_names_its_operation(self):
        """routes={'x': -1} names routes['x'] in the error."""
        with pytest.raises(FakeStripeError, match=r"routes\['customers.list'\]"):
            FakeStripe().set_latency(routes={"customers.list": -1})

    @pytest.mark.parametrize("routes", [["customers.list"], {"*": 0.1}, {1: 0.1}])
    def test_routes_must_map_operation_names(self, routes):
        """routes must be a mapping of operation names ('*' is seconds=)."""
        with pytest.raises(FakeStripeError, match="routes"):
            FakeStripe().set_latency(routes=routes)

    def test_a_refused_setting_keeps_the_old_one(self, fake):
        """A refused set_latency leaves the previous latency in place."""
        fake.set_latency(0.3)
        with pytest.raises(FakeStripeError):
            fake.set_latency(-2)
        assert fake.latency.default == 0.3

"""WebhookHandler: verify, parse and record in one call; and the link Cancelflow records."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cancelflow
from cancelflow import (
    Cancelflow,
    CancellationScheduled,
    CaseState,
    FeedbackReceived,
    MemoryLedger,
    NotAboutCancellation,
    OfferRedeemed,
    SQLiteLedger,
    WebhookHandler,
    handle_webhook,
    sign_webhook,
)
from cancelflow.exceptions import (
    EventPayloadError,
    InvalidParameterError,
    LedgerError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    WebhookError,
)
from recording import NOW, RecordingHTTPClient, coupon_json, subscription_json
from stripe_events import SubSim, links_for, scenario

SECRET = "whsec_handler_test"


def deliver(
    event: dict, secret: str = SECRET, *, t: int | None = None
) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    return body, sign_webhook(body, secret, timestamp=t)


def test_handle_records_and_returns_typed_events():
    """A signed delivery comes back as typed events and lands in the ledger."""
    ledger = MemoryLedger()
    handler = WebhookHandler(SECRET, ledger=ledger)
    s = SubSim()
    events = handler.handle_webhook(*deliver(s.schedule_with_feedback("unused")))
    assert [type(e) for e in events] == [CancellationScheduled, FeedbackReceived]
    (case,) = ledger.cases()
    assert case.state is CaseState.SCHEDULED


# -- one redemption, one OfferRedeemed --------------------------------------------------

REDEEMING = [
    e for k in ("saved", "withdrawn", "noise") for n in range(3) for e in scenario(k, n)
]
# Two redemptions of the same subscription: a second cancel attempt, a second offer.
_TWICE = SubSim("sub_twice", "cus_twice")
_TWICE.redeem("coupon_save20")
_TWICE.tick(40 * 86_400).redeem("coupon_again")
REDEEMING += _TWICE.events
REDEEMING_LINKS = links_for(REDEEMING)


@settings(max_examples=60)
@given(
    order=st.permutations(range(len(REDEEMING))),
    dupes=st.lists(st.integers(0, len(REDEEMING) - 1), max_size=12),
)
def test_one_redemption_gives_one_offer_redeemed(order, dupes):
    """Whatever the delivery order and duplicates, each redemption comes out of
    the handler as exactly one OfferRedeemed, and the ledger's redemptions are
    those events."""
    ledger = MemoryLedger()
    for link in REDEEMING_LINKS:
        ledger.record_link(link)
    handler = WebhookHandler(SECRET, ledger=ledger)
    stream = []
    for n in [*order, *dupes]:
        stream.extend(handler.handle_webhook(*deliver(REDEEMING[n])))
    offers = [e for e in stream if isinstance(e, OfferRedeemed)]
    keys = [(e.subscription_id, e.discount_id) for e in offers]
    assert len(keys) == len(set(keys))
    # every discount a Stripe event reported, told once
    reported = {
        (e.subscription_id, e.discount_id)
        for raw in REDEEMING
        for e in cancelflow.parse_event(raw)
        if isinstance(e, OfferRedeemed)
    }
    assert set(keys) == reported
    assert len(reported) == 5  # 3 "saved" subscriptions, one twice-saved, ...
    # the ledger counts the redemptions the stream told, each once
    cases = ledger.cases()
    redeemed = [
        (c.subscription_id, c.redeemed_discount) for c in cases if c.redeemed_discount
    ]
    assert len(redeemed) == len(set(redeemed))
    assert set(redeemed) <= set(keys)
    saved = sum(c.state is CaseState.SAVED for c in cases)
    assert saved == len(redeemed)
    assert cases == cancelflow.fold_cases(
        REDEEMING_LINKS, [e for raw in REDEEMING for e in cancelflow.parse_event(raw)]
    )


def test_a_redemption_reported_twice_reaches_the_host_once():
    """customer.discount.created then customer.subscription.updated for one
    discount: the handler returns the OfferRedeemed once, with its coupon."""
    handler = WebhookHandler(SECRET, ledger=MemoryLedger())
    created, updated = SubSim().redeem()
    (offer,) = handler.handle_webhook(*deliver(created))
    assert isinstance(offer, OfferRedeemed)
    assert offer.coupon_id == "coupon_save20"
    assert handler.handle_webhook(*deliver(updated)) == []


def test_without_a_ledger_each_delivery_is_read_on_its_own():
    """With no ledger nothing is remembered: both events of a redemption give an
    OfferRedeemed with the same discount (the documented behaviour)."""
    handler = WebhookHandler(SECRET)
    created, updated = SubSim().redeem()
    first = handler.handle_webhook(*deliver(created))
    second = handler.handle_webhook(*deliver(updated))
    assert [e.discount_id for e in first + second] == [first[0].discount_id] * 2  # type: ignore[attr-defined]


def test_duplicate_delivery_returns_nothing():
    """A re-delivered event is recorded once; the second call returns an empty list."""
    handler = WebhookHandler(SECRET, ledger=MemoryLedger())
    event = SubSim().schedule()
    assert handler.handle_webhook(*deliver(event))
    assert handler.handle_webhook(*deliver(event)) == []


def test_without_ledger_it_only_verifies_and_parses():
    """With no ledger every delivery is returned, duplicates too."""
    handler = WebhookHandler(SECRET)
    event = SubSim().invoice_paid()
    assert [type(e) for e in handler.handle_webhook(*deliver(event))] == [
        NotAboutCancellation
    ]
    assert handler.handle_webhook(*deliver(event))


def test_bad_deliveries_record_nothing():
    """A forged or stale delivery raises a WebhookError and keeps nothing, not
    even as a problem; an unreadable but signed one is kept as a problem."""
    ledger = MemoryLedger()
    handler = WebhookHandler(SECRET, ledger=ledger, clock=lambda: NOW)
    event = SubSim().schedule()
    with pytest.raises(SignatureMismatchError):
        handler.handle_webhook(*deliver(event, "whsec_other", t=NOW))
    with pytest.raises(TimestampOutsideToleranceError):
        handler.handle_webhook(*deliver(event, t=NOW - 301))
    assert ledger.problems() == []
    body = b'{"not": "an event"}'
    assert handler.handle_webhook(body, sign_webhook(body, SECRET, timestamp=NOW)) == []
    assert ledger.processed_count() == 0
    assert not ledger.is_processed(event["id"])
    assert ledger.cases() == []
    assert ledger.links() == []
    (problem,) = ledger.problems()
    assert problem.key.startswith("sha256:")
    assert problem.error == "EventPayloadError"
    assert problem.body == body
    assert problem.received_at == NOW


def test_unreadable_delivery_without_a_ledger_raises():
    """Without a ledger to keep it in, an unreadable signed delivery raises
    EventPayloadError (the host answers 400)."""
    handler = WebhookHandler(SECRET, clock=lambda: NOW)
    body = b'{"not": "an event"}'
    with pytest.raises(EventPayloadError):
        handler.handle_webhook(body, sign_webhook(body, SECRET, timestamp=NOW))


@pytest.mark.parametrize("body", [None, {"id": "evt_1"}, ["x"], 5, 3.5, object()])
def test_a_body_that_is_not_bytes_or_text_is_refused_by_name(body):
    """None, a dict, a list, an int (which bytes() would read as zero bytes) or
    any other non-bytes, non-str body is an InvalidParameterError naming it."""
    handler = WebhookHandler(SECRET, ledger=MemoryLedger())
    with pytest.raises(InvalidParameterError) as info:
        handler.handle_webhook(body, "t=1,v1=00")
    assert info.value.field == "body"
    assert type(body).__name__ in info.value.rule
    with pytest.raises(InvalidParameterError):
        handle_webhook(body, "t=1,v1=00", secrets=SECRET)
    with pytest.raises(InvalidParameterError):
        asyncio.run(handler.handle_webhook_async(body, "t=1,v1=00"))
    with pytest.raises(InvalidParameterError):
        sign_webhook(body, SECRET)
    assert handler.ledger.problems() == []


def test_ledger_failure_is_retryable(tmp_path):
    """When the ledger fails the call raises LedgerError, and the re-delivery succeeds."""
    with SQLiteLedger(tmp_path / "l.db") as ledger:
        handler = WebhookHandler(SECRET, ledger=ledger)
        body, header = deliver(SubSim().schedule())
        ledger._conn.execute("ALTER TABLE cancelflow_cases RENAME TO moved")
        with pytest.raises(LedgerError):
            handler.handle_webhook(body, header)
        ledger._conn.execute("ALTER TABLE moved RENAME TO cancelflow_cases")
        assert handler.handle_webhook(body, header)
        assert len(ledger.cases()) == 1


def test_async_twin():
    """handle_webhook_async gives the same events and records them once."""
    ledger = MemoryLedger()
    handler = WebhookHandler(SECRET, ledger=ledger)
    body, header = deliver(SubSim().schedule())
    first = asyncio.run(handler.handle_webhook_async(body, header))
    again = asyncio.run(handler.handle_webhook_async(body, header))
    assert [type(e) for e in first] == [CancellationScheduled]
    assert again == []
    assert len(ledger.cases()) == 1


def test_module_level_convenience():
    """cancelflow.handle_webhook verifies with the given secrets, rotated ones included."""
    body, header = deliver(SubSim().schedule(), "whsec_new")
    events = handle_webhook(body, header, secrets=["whsec_old", "whsec_new"])
    assert isinstance(events[0], CancellationScheduled)
    with pytest.raises(WebhookError):
        handle_webhook(body, header, secrets="whsec_old")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"secrets": None}, "secrets"),
        ({"secrets": 5}, "secrets"),
        ({"secrets": b"whsec_x"}, "secrets"),
        ({"secrets": []}, "secrets"),
        ({"secrets": SECRET, "ledger": 5}, "ledger"),
        ({"secrets": SECRET, "ledger": "ledger.db"}, "ledger"),
    ],
)
def test_bad_construction_is_refused_by_name(kwargs, field):
    """A handler without a usable secret or ledger is refused at start-up."""
    secrets = kwargs.pop("secrets")
    with pytest.raises(InvalidParameterError) as info:
        WebhookHandler(secrets, **kwargs)
    assert info.value.field == field


def test_a_ledger_without_record_problem_is_refused_at_start_up():
    """A host-written ledger that cannot keep a poison event fails when the handler is built."""

    class OnlyRecords:
        def record_new_events(self, events):
            return list(events)

    with pytest.raises(InvalidParameterError) as info:
        WebhookHandler(SECRET, ledger=OnlyRecords())  # type: ignore[arg-type]
    assert info.value.field == "ledger"
    assert "record_problem" in str(info.value)


def test_sqlite_ledger_needs_a_path():
    """SQLiteLedger refuses a path that is not a string or PathLike."""
    with pytest.raises(InvalidParameterError) as info:
        SQLiteLedger(5)  # type: ignore[arg-type]
    assert info.value.field == "path"


def test_repr_hides_secrets():
    """The handler's repr shows neither secret."""
    handler = WebhookHandler(["whsec_aaa111", "whsec_bbb222"], ledger=MemoryLedger())
    assert "aaa111" not in repr(handler)
    assert "bbb222" not in repr(handler)


def test_webhook_path_does_not_import_stripe_or_psycopg():
    """Importing cancelflow and handling a delivery into SQLite imports neither stripe nor psycopg."""
    body, header = deliver(SubSim().schedule())
    code = (
        "import sys, cancelflow\n"
        f"h = cancelflow.WebhookHandler({SECRET!r}, ledger=cancelflow.SQLiteLedger(':memory:'))\n"
        f"events = h.handle_webhook({body!r}, {header!r})\n"
        "assert events and 'stripe' not in sys.modules and 'psycopg' not in sys.modules, sorted(sys.modules)\n"
        "cancelflow.PostgresLedger\n"
        "assert 'psycopg' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- Cancelflow records its links --------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_cancelflow_records_the_link(mode):
    """A Cancelflow with a ledger records each cancel link it creates, with coupon and MRR."""
    rec = RecordingHTTPClient()
    rec.subscriptions["sub_1"] = subscription_json(customer="cus_1", currency="eur")
    rec.coupons["SAVE20"] = coupon_json("SAVE20", percent_off=20.0)
    ledger = MemoryLedger()
    flow = Cancelflow(
        rec.client(),
        allowed_hosts=["example.com"],
        return_url="https://example.com/a",
        clock=lambda: NOW,
        ledger=ledger,
    )
    kwargs = {"customer": "cus_1", "subscription": "sub_1", "coupon": "SAVE20"}
    link = (
        flow.create_cancel_link(**kwargs)
        if mode == "sync"
        else asyncio.run(flow.create_cancel_link_async(**kwargs))
    )
    (record,) = ledger.links()
    assert (record.session_id, record.subscription_id, record.customer_id) == (
        link.session_id,
        "sub_1",
        "cus_1",
    )
    assert record.created == link.created
    assert record.offered_coupon == "SAVE20"
    assert record.currency == "eur"
    assert record.mrr is not None
    (case,) = ledger.cases()
    assert (case.state, case.link_session_id) == (CaseState.OPENED, link.session_id)
    assert ledger.customer_history("cus_1").last_offered_at == link.created


def test_cancelflow_without_ledger_records_nothing():
    """The ledger argument is optional (no recording, same link)."""
    rec = RecordingHTTPClient()
    rec.subscriptions["sub_1"] = subscription_json(customer="cus_1", currency="eur")
    flow = Cancelflow(
        rec.client(),
        allowed_hosts=["example.com"],
        return_url="https://example.com/a",
        clock=lambda: NOW,
    )
    assert flow.create_cancel_link(customer="cus_1", subscription="sub_1").session_id
    assert cancelflow.Cancelflow is Cancelflow

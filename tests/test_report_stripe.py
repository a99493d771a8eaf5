"""Reports straight from Stripe: pagination, 429 back-off, checkpoints, unknown values."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest

from cancelflow import RateLimitWait, ScanProgress, StripeGateway, report_from_stripe
from cancelflow._reports.stripe_report import _record
from cancelflow.exceptions import (
    InvalidParameterError,
    StripeObjectError,
    StripeRateLimitError,
    StripeServerError,
)
from cancelflow.testing import FakeStripe
from stripe_events import subscription_json

START = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
FEEDBACK = ["too_expensive", "unused", "other", "missing_features", None]


@pytest.fixture
def account():
    """An account with 12 subscriptions: 9 scheduled or canceled a minute apart, 3 active."""
    fake = FakeStripe(start=START, seed=3)
    client = fake.client()
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    subs = []
    for _ in range(12):
        customer = client.v1.customers.create()
        sub = client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}]}
        )
        subs.append(sub)
        fake.clock.advance(dt.timedelta(hours=1))
    for n, sub in enumerate(subs[:9]):
        feedback = FEEDBACK[n % len(FEEDBACK)]
        details = {} if feedback is None else {"feedback": feedback}
        if feedback == "other":
            details["comment"] = f"note {n}"
        if n % 2:
            client.v1.subscriptions.cancel(
                sub.id, params={"cancellation_details": details} if details else None
            )
        else:
            params = {"cancel_at_period_end": True}
            if details:
                params["cancellation_details"] = details
            client.v1.subscriptions.update(sub.id, params=params)
        fake.clock.advance(60)
    return fake, client


def scan(client, **kw):
    kw.setdefault("now", 0)
    kw.setdefault("page_size", 4)
    kw.setdefault("sleep", lambda seconds: None)
    return report_from_stripe(client, **kw)


def test_counts_cancellations_over_several_pages(account):
    """Scheduled and canceled subscriptions are read over three pages, with their reasons."""
    _, client = account
    pages = []
    got = scan(client, on_progress=pages.append)
    assert got.summary.cancellations == 9
    assert (got.summary.scheduled, got.summary.ended) == (5, 4)
    assert {r.key: r.count for r in got.reasons} == {
        "too_expensive": 2, "unused": 2, "other": 2, "missing_features": 2, None: 1,
    }  # fmt: skip
    assert dict(got.summary.mrr_lost) == {"eur": 9000}
    assert [c.comment for c in got.comments] == ["note 7", "note 2"]
    assert [(p.pages, p.subscriptions, p.done) for p in pages] == [
        (1, 4, False), (2, 8, False), (3, 12, True),
    ]  # fmt: skip
    assert pages[-1].cancellations == 9 and pages[-1].oldest_created is not None


def test_a_window_limits_by_cancellation_time(account):
    """Only cancellations requested inside [since, until) count."""
    _fake, client = account
    first = int(START.timestamp()) + 12 * 3600
    got = scan(client, since=first + 60, until=first + 4 * 60)
    assert got.summary.cancellations == 3


def test_backs_off_on_429_and_says_so(account):
    """Two 429s on a page: waits 1 s then 2 s, says so each time, and the report is complete."""
    fake, client = account
    waits, said = [], []
    fake.faults.fail_next("subscriptions.list", kind="rate_limit", times=2)
    got = scan(client, sleep=waits.append, on_rate_limit=said.append)
    assert waits == [1.0, 2.0]
    assert said == [
        RateLimitWait(attempt=1, delay=1.0, max_retries=8),
        RateLimitWait(attempt=2, delay=2.0, max_retries=8),
    ]
    assert said[1].describe() == (
        "Stripe is rate limiting requests (HTTP 429); waiting 2 s before retry 2 of 8"
    )
    assert got == scan(client)


def test_gives_up_after_max_retries(account, tmp_path):
    """Still rate limited after max_retries: StripeRateLimitError, with the checkpoint kept."""
    fake, client = account
    waits = []
    fake.faults.fail_next("subscriptions.list", kind="rate_limit", times=4)
    with pytest.raises(StripeRateLimitError):
        scan(client, max_retries=3, sleep=waits.append)
    assert waits == [1.0, 2.0, 4.0]
    assert [1.0 * 2 ** (n - 1) for n in (1, 6, 7, 9)] == [1.0, 32.0, 64.0, 256.0]
    assert RateLimitWait(attempt=9, delay=32.0, max_retries=9).delay == 32.0


def test_resumes_after_an_interruption(account, tmp_path):
    """A failure on page 2 leaves a checkpoint; the next run continues from it and equals a clean run."""
    fake, client = account
    path = tmp_path / "scan.json"

    def break_after_first_page(progress: ScanProgress) -> None:
        if progress.pages == 1 and not progress.resumed:
            fake.faults.fail_next("subscriptions.list", kind="api_error")

    with pytest.raises(StripeServerError):
        scan(client, checkpoint=path, on_progress=break_after_first_page)
    saved = json.loads(path.read_text())
    assert (saved["format"], saved["pages"], saved["subscriptions"]) == (
        "cancelflow.report-checkpoint",
        1,
        4,
    )
    assert saved["cursor"].startswith("sub_")
    before = len(fake.faults.injected)
    heard = []
    resumed = scan(client, checkpoint=path, on_progress=heard.append)
    assert heard[0].resumed and heard[0].pages == 1
    assert heard[-1].pages == 3 and heard[-1].done
    assert resumed == scan(client)
    assert not path.exists()  # a finished scan removes its checkpoint
    assert len(fake.faults.injected) == before


def test_a_checkpoint_of_another_scan_is_refused(account, tmp_path):
    """A checkpoint written for another window is not silently mixed in."""
    _, client = account
    path = tmp_path / "scan.json"
    path.write_text(
        json.dumps(
            {
                "format": "cancelflow.report-checkpoint",
                "version": 1,
                "query": {
                    "since": 1,
                    "until": None,
                    "horizon_months": 12,
                    "comments": 100,
                },
                "cursor": None,
                "cube": {},
            }
        )
    )
    with pytest.raises(InvalidParameterError, match="other options"):
        scan(client, checkpoint=path)
    path.write_text("{not json")
    with pytest.raises(InvalidParameterError, match="not a report checkpoint"):
        scan(client, checkpoint=path)


def test_flexible_mode_schedules_are_placed_at_their_end():
    """A portal cancel in flexible mode leaves canceled_at empty: it counts at cancel_at, then at its end."""
    fake = FakeStripe(start=START)
    client = fake.client()
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Flex"},
        }
    )
    customer = client.v1.customers.create()
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "billing_mode": {"type": "flexible"},
        }
    )
    fake.dashboard.save_portal_settings(
        features={
            "subscription_cancel": {
                "enabled": True,
                "mode": "at_period_end",
                "cancellation_reason": {"enabled": True, "options": ["unused"]},
            }
        }
    )
    session = client.v1.billing_portal.sessions.create(
        params={
            "customer": customer.id,
            "flow_data": {
                "type": "subscription_cancel",
                "subscription_cancel": {"subscription": sub.id},
            },
        }
    )
    fake.portal.visit(session.url).cancel("unused")
    pending = client.v1.subscriptions.retrieve(sub.id)
    assert pending.canceled_at is None and pending.cancel_at is not None
    now = int(fake.clock.now())
    got = scan(client)
    assert (got.summary.scheduled, got.reasons[0].key) == (1, "unused")
    assert (
        scan(client, until=now + 60).summary.cancellations == 0
    )  # placed at cancel_at
    assert scan(client, since=pending.cancel_at).summary.cancellations == 1
    created_with_an_end = {**_record_ready(pending), "cancellation_details": None}
    assert _record(created_with_an_end) is None


def _record_ready(obj):
    return obj.to_dict()


def test_unknown_feedback_and_involuntary_ends_from_stripe():
    """A feedback value from a newer API is kept as it is; a payment-failure end is involuntary."""
    sub = subscription_json("sub_n", "cus_n", currency="jpy", unit_amount=990)
    sub.update(
        status="canceled",
        canceled_at=1_780_000_100,
        ended_at=1_780_000_100,
        cancellation_details={
            "comment": None,
            "feedback": "too_slow",
            "feedback_option": {"id": "fo_1", "object": "billing.feedback_option"},
            "reason": "cancellation_requested",
        },
    )
    record = _record(sub)
    assert record is not None
    assert (record["feedback"], record["option"], record["initiated"]) == (
        "too_slow",
        "fo_1",
        True,
    )
    assert (record["mrr"], record["currency"], record["state"]) == (990, "jpy", "ended")
    sub["cancellation_details"]["reason"] = "payment_failed"
    assert _record(sub)["initiated"] is False
    active = subscription_json("sub_a", "cus_a")
    assert _record(active) is None
    scheduled_without_request = {**active, "cancel_at": 1_790_000_000}
    assert _record(scheduled_without_request) is None  # no canceled_at: not a request
    with pytest.raises(StripeObjectError):
        _record({"id": 5, "status": "canceled", "canceled_at": 1})


def test_bad_options_are_refused(account):
    """max_retries and the window are checked before any call to Stripe."""
    _fake, client = account
    with pytest.raises(InvalidParameterError, match="max_retries"):
        scan(client, max_retries=-1)
    with pytest.raises(InvalidParameterError, match="until"):
        scan(client, since=10, until=5)


def test_gateway_pages_carry_the_cursor(account):
    """list_subscriptions_page returns plain JSON, has_more and the last id as the cursor."""
    _, client = account
    gateway = StripeGateway(client)
    first = gateway.list_subscriptions_page(page_size=5)
    assert len(first.objects) == 5 and first.has_more
    assert isinstance(first.objects[0], dict)
    second = gateway.list_subscriptions_page(page_size=5, starting_after=first.last_id)
    assert {s["id"] for s in first.objects}.isdisjoint(s["id"] for s in second.objects)
    none = gateway.list_subscriptions_page(created_before=0)
    assert (none.objects, none.has_more, none.last_id) == ((), False, None)
    with pytest.raises(InvalidParameterError, match="starting_after"):
        gateway.list_subscriptions_page(starting_after="cus_1")
    with pytest.raises(InvalidParameterError, match="created_before"):
        gateway.list_subscriptions_page(created_before="soon")  # type: ignore[arg-type]
    assert attrs.has(type(first))


@pytest.mark.parametrize("index", [0, 11])
def test_a_bad_subscription_is_named_by_page_and_item(account, index):
    """A subscription Stripe sent wrongly, cancelled or not, is named by its page and
    item: the scan's own reading of ``created`` included."""
    _, client = account
    everything = StripeGateway(client).list_subscriptions_page(page_size=100).objects
    target = sorted(everything, key=lambda o: o["created"])[index]["id"]

    class Garbled(StripeGateway):
        def list_subscriptions_page(self, **kw):
            page = super().list_subscriptions_page(**kw)
            objects = [dict(o) for o in page.objects]
            for obj in objects:
                if obj["id"] == target:
                    obj["created"] = "yesterday"
            return attrs.evolve(page, objects=tuple(objects))

    with pytest.raises(StripeObjectError, match=r"subscriptions page 1, item \d+: "):
        scan(Garbled(client), page_size=100)

"""The ledger's pure core: how typed events and links fold into cases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import (
    BillingMode,
    CancellationFeedback,
    CancellationReason,
    CaseState,
    LinkRecord,
    MemoryLedger,
    fold_cases,
    parse_event,
)
from cancelflow._outcomes.events import EventKind, _AboutSubscription
from cancelflow._outcomes.ledger import (
    REDEMPTION_WINDOW,
    canonical_json,
    canonical_json_strings,
    check_batch,
    cutoff,
    history_from,
)
from cancelflow._policy.history import CustomerHistory
from cancelflow.exceptions import InvalidParameterError
from stripe_events import DAY, SCENARIOS, SubSim, links_for, scenario


def typed(raw_events):
    return [e for raw in raw_events for e in parse_event(raw)]


def link(
    sim: SubSim,
    *,
    at: int,
    coupon: str | None = "coupon_save20",
    session: str = "bps_1",
    **kw,
) -> LinkRecord:
    return LinkRecord(
        session_id=session,
        subscription_id=sim.id,
        customer_id=sim.customer,
        created=at,
        offered_coupon=coupon,
        arm="offer" if coupon else "holdout",
        decision={"arm": "offer" if coupon else "holdout"},
        mrr=2000,
        currency="eur",
        **kw,
    )


class TestReportFields:
    def test_case_keeps_main_item_start_and_offer_terms(self):
        """A case takes the main price, product and start date from its events and the experiment and offer terms from its link."""
        s = SubSim()
        start = s.now
        s.tick(5).schedule()
        offered = link(
            s, at=start, experiment="spring", offer_discount=400, offer_months=3
        )
        (case,) = fold_cases([offered], typed(s.events))
        assert (case.price_id, case.product_id, case.started_at) == (
            "price_basic",
            "prod_basic",
            s.sub["start_date"],
        )
        assert (case.experiment, case.offer_discount, case.offer_months) == (
            "spring",
            400,
            3,
        )

    def test_link_experiment_defaults_to_the_decisions(self):
        """A link without an experiment takes the one its decision names, and only a string."""

        def made(decision, **kw):
            return LinkRecord(
                session_id="bps_1",
                subscription_id="sub_1",
                customer_id="cus_1",
                created=1,
                decision=decision,
                **kw,
            )

        assert made({"experiment": "spring"}).experiment == "spring"
        assert made({"experiment": 7}).experiment is None
        assert made(["x"]).experiment is None
        assert made({"experiment": "a"}, experiment="b").experiment == "b"

    def test_main_item_is_the_largest_monthly_amount(self):
        """The report's price is the item with the most MRR, the first of equals, none without items."""
        from cancelflow._stripe.subscription_data import main_item

        def item(price, amount, interval="month"):
            return {
                "price_id": price,
                "unit_amount": amount,
                "quantity": 1,
                "interval": interval,
                "interval_count": 1,
                "usage_type": "licensed",
            }

        assert (
            main_item([item("a", 1000), item("b", 13000, "year"), item("c", 1000)])[
                "price_id"
            ]
            == "b"
        )
        assert main_item([item("a", 1000), item("c", 1000)])["price_id"] == "a"
        assert main_item([item("a", None), item("b", None)])["price_id"] == "a"
        assert main_item([]) is None


class TestFold:
    def test_link_schedule_feedback_end(self):
        """A deep link, its schedule, the late feedback and the period end form one ended case."""
        s = SubSim()
        start = s.now
        s.tick(5).schedule()
        s.tick(7).feedback("other", comment="Trop cher")
        s.now = s.period_end
        s.end()
        (case,) = fold_cases([link(s, at=start)], typed(s.events))
        assert case.state is CaseState.ENDED
        assert case.id == "case_bps_1"
        assert (case.link_session_id, case.offered_coupon, case.arm) == (
            "bps_1",
            "coupon_save20",
            "offer",
        )
        assert case.decision == {"arm": "offer"}
        assert case.scheduled_at == start + 5
        assert case.effective_at == s.period_end
        assert case.billing_mode is BillingMode.CLASSIC
        assert (case.feedback, case.comment) == (
            CancellationFeedback.OTHER,
            "Trop cher",
        )
        assert case.feedback_at == start + 12
        assert (case.ended_at, case.ended_reason) == (
            s.period_end,
            CancellationReason.CANCELLATION_REQUESTED,
        )
        assert (case.mrr, case.currency) == (2000, "eur")
        assert case.event_ids == tuple(sorted(e["id"] for e in s.events))
        assert case.closed and case.customer_initiated and not case.saved_by_offer

    def test_redeemed_offer_saves(self):
        """Redeeming the offered coupon closes the case as saved, the two events counted once."""
        s = SubSim()
        start = s.now
        s.tick(30).redeem("coupon_save20")
        (case,) = fold_cases([link(s, at=start)], typed(s.events))
        assert case.state is CaseState.SAVED
        assert case.saved_by_offer
        assert case.redeemed_coupon == "coupon_save20"
        assert case.redeemed_discount.startswith("di_")
        assert case.redeemed_at == start + 30

    def test_another_coupon_is_not_the_offer(self):
        """A discount with a coupon other than the one offered does not save the case."""
        s = SubSim()
        start = s.now
        s.tick(30).redeem("coupon_unrelated")
        (case,) = fold_cases([link(s, at=start)], typed(s.events))
        assert case.state is CaseState.OPENED
        assert case.redeemed_discount is None

    def test_discount_after_a_link_without_offer_is_not_a_save(self):
        """A link that offered nothing (a holdout) is not saved by a later discount."""
        s = SubSim()
        start = s.now
        s.tick(30).redeem("coupon_save20")
        (case,) = fold_cases([link(s, at=start, coupon=None)], typed(s.events))
        assert case.state is CaseState.OPENED
        assert case.redeemed_discount is None

    def test_the_offered_coupon_much_later_is_not_a_save(self):
        """The offered coupon applied long after the link (by support, say) is not the offer redeemed."""
        s = SubSim()
        start = s.now
        s.tick(REDEMPTION_WINDOW + 1).redeem("coupon_save20")
        (case,) = fold_cases([link(s, at=start)], typed(s.events))
        assert case.state is CaseState.OPENED
        assert case.redeemed_at is None
        s2 = SubSim()
        start = s2.now
        s2.tick(REDEMPTION_WINDOW).redeem("coupon_save20")
        (case,) = fold_cases([link(s2, at=start)], typed(s2.events))
        assert case.state is CaseState.SAVED

    def test_discount_without_an_attempt_is_ignored(self):
        """A discount when no cancellation is under way makes no case."""
        s = SubSim()
        s.redeem()
        assert fold_cases([], typed(s.events)) == []

    def test_withdrawal(self):
        """A renewal after the schedule closes the case as withdrawn."""
        s = SubSim(mode="flexible")
        s.schedule()
        s.tick(DAY).renew()
        (case,) = fold_cases([], typed(s.events))
        assert case.state is CaseState.WITHDRAWN
        assert case.withdrawn_at == s.now
        assert case.link_session_id is None
        assert case.id == f"case_{s.events[0]['id']}"

    def test_offer_then_renewal_is_saved(self):
        """A scheduled case where the offer was redeemed before the renewal counts as saved."""
        s = SubSim()
        start = s.now
        s.tick(5).schedule()
        s.tick(5).redeem()
        s.tick(5).renew()
        (case,) = fold_cases([link(s, at=start)], typed(s.events))
        assert case.state is CaseState.SAVED

    def test_two_attempts_are_two_cases(self):
        """Schedule, renew, schedule again: two cases, the second still open."""
        events = typed(scenario("two_attempts", 0))
        first, second = fold_cases([], events)
        assert first.state is CaseState.WITHDRAWN
        assert first.feedback is CancellationFeedback.TOO_COMPLEX
        assert second.state is CaseState.SCHEDULED
        assert second.feedback is CancellationFeedback.MISSING_FEATURES
        assert not second.closed

    def test_immediate_cancel_then_feedback(self):
        """An immediate cancel and the feedback that follows are one ended case."""
        (case,) = fold_cases([], typed(scenario("immediate", 0)))
        assert case.state is CaseState.ENDED
        assert case.scheduled_at is None
        assert case.feedback is CancellationFeedback.SWITCHED_SERVICE

    def test_payment_failure_is_not_customer_initiated(self):
        """An end for a failed payment, with no link or schedule, is a case no customer started."""
        (case,) = fold_cases([], typed(scenario("payment_failed", 0)))
        assert case.ended_reason is CancellationReason.PAYMENT_FAILED
        assert not case.customer_initiated

    def test_abandoned_link_is_not_ended_by_a_payment_failure(self):
        """An involuntary end opens its own case instead of closing an old, untouched link."""
        s = SubSim()
        start = s.now
        s.tick(40 * DAY).end(reason="payment_failed")
        abandoned, ended = fold_cases([link(s, at=start)], typed(s.events))
        assert abandoned.state is CaseState.OPENED
        assert ended.state is CaseState.ENDED

    def test_an_end_reported_twice_is_one_end(self):
        """An update to status=canceled and the deleted event make one ended case."""
        s = SubSim()
        s.schedule()
        s.tick(60)._update(status="canceled", ended_at=s.now)
        s.tick(1).end()
        (case,) = fold_cases([], typed(s.events))
        assert case.state is CaseState.ENDED
        assert case.ended_at == s.now - 1

    def test_feedback_before_any_schedule_opens_a_case(self):
        """Feedback seen without its schedule (yet) still records an attempt."""
        s = SubSim()
        s.schedule()
        s.tick(7).feedback("unused")
        (case,) = fold_cases([], typed(s.events[1:]))
        assert case.state is CaseState.SCHEDULED
        assert case.feedback is CancellationFeedback.UNUSED

    def test_withdrawal_without_a_seen_schedule(self):
        """A renewal whose schedule was never seen still makes a withdrawn case."""
        s = SubSim()
        s.schedule()
        s.tick(DAY).renew()
        (case,) = fold_cases([], typed(s.events[1:]))
        assert case.state is CaseState.WITHDRAWN

    def test_not_about_cancellation_is_ignored(self):
        """Neutral events make no case."""
        assert fold_cases([], typed(scenario("noise", 0))) == []

    def test_case_description(self):
        """str(case) names the state, feedback, offer and reason."""
        (case,) = fold_cases([], typed(scenario("ended_at_period_end", 1)))
        assert "ended" in str(case)
        assert "Trop cher pour nous" in str(case)
        assert "cancellation_requested" in str(case)


class TestHistory:
    def test_history_counts_attempts_offers_and_redemptions(self):
        """Attempts exclude involuntary ends; last offer and redemption are the latest."""
        raw = [e for k in SCENARIOS for n in range(15) for e in scenario(k, n)]
        links = links_for(raw)
        cases = fold_cases(links, typed(raw))
        seen = []
        for customer in sorted({c.customer_id for c in cases}):
            h = history_from(customer, cases, links)
            mine = [c for c in cases if c.customer_id == customer]
            offers = [
                x.created
                for x in links
                if x.customer_id == customer and x.offered_coupon
            ]
            assert h.attempts == sum(1 for c in mine if c.customer_initiated)
            assert h.last_redeemed_at == max(
                (c.redeemed_at for c in mine if c.redeemed_at), default=None
            )
            assert h.last_offered_at == max(offers, default=None)
            seen.append(h)
        assert any(h.last_offered_at for h in seen)
        assert any(h.last_redeemed_at for h in seen)
        assert sum(h.attempts for h in seen) < len(
            cases
        )  # payment failures are not attempts
        assert history_from("cus_unknown", cases, links) == CustomerHistory()


class TestValidation:
    def test_decision_must_be_json(self):
        """A decision that is not JSON data is refused."""
        with pytest.raises(InvalidParameterError):
            LinkRecord(
                session_id="bps",
                subscription_id="s",
                customer_id="c",
                created=1,
                decision={"x": object()},
            )

    def test_decision_is_copied(self):
        """The stored decision is a private copy (later changes to the caller's dict do not leak in)."""
        decision = {"arm": "a"}
        rec = LinkRecord(
            session_id="bps",
            subscription_id="s",
            customer_id="c",
            created=1,
            decision=decision,
        )
        decision["arm"] = "b"
        assert rec.decision == {"arm": "a"}

    def test_batch_must_be_one_event(self):
        """Recording needs the non-empty typed events of one Stripe event."""
        a = typed(scenario("noise", 0))
        with pytest.raises(InvalidParameterError):
            check_batch([])
        with pytest.raises(InvalidParameterError):
            check_batch(a)
        with pytest.raises(InvalidParameterError):
            check_batch(["evt_1"])

    def test_unknown_event_kind_is_refused(self):
        """An event kind the fold does not handle raises naming it, instead of
        being dropped."""

        class Mystery(_AboutSubscription):
            __slots__ = ()
            kind = EventKind.NOT_ABOUT_CANCELLATION

        event = Mystery(
            event_id="evt_1",
            event_type="customer.subscription.updated",
            created=1,
            subscription_id="sub_1",
            customer_id="cus_1",
        )
        with pytest.raises(InvalidParameterError, match="Mystery"):
            fold_cases([], [event])

    def test_prune_keeps_stripe_retry_window(self):
        """Processed ids cannot be pruned younger than Stripe's 3-day retry window."""
        with pytest.raises(InvalidParameterError):
            cutoff(dt.timedelta(days=2), 0)
        assert cutoff(dt.timedelta(days=30), 100 * DAY) == 70 * DAY


# -- order independence ------------------------------------------------------------------

RAW = [e for k in SCENARIOS for n in range(3) for e in scenario(k, n)]
LINKS = links_for(RAW)
EXPECTED = fold_cases(LINKS, typed(RAW))


@settings(max_examples=60)
@given(
    order=st.permutations(range(len(RAW))),
    dupes=st.lists(st.integers(0, len(RAW) - 1), max_size=30),
    link_at=st.integers(0, len(RAW)),
)
def test_any_arrival_order_gives_the_same_ledger(order, dupes, link_at):
    """Events delivered in any order, with duplicates, and links recorded at any point, give the same cases."""
    ledger = MemoryLedger()
    deliveries = [RAW[i] for i in order] + [RAW[i] for i in dupes]
    for n, raw in enumerate(deliveries):
        if n == link_at:
            for x in LINKS:
                ledger.record_link(x)
        ledger.record_events(parse_event(raw))
    for x in LINKS:
        ledger.record_link(x)
    assert ledger.cases() == EXPECTED
    assert ledger.processed_count() == len({e["id"] for e in RAW})


@settings(max_examples=60)
@given(order=st.permutations(range(len(RAW))))
def test_fold_is_a_function_of_the_set(order):
    """fold_cases gives the same cases for any order of its inputs."""
    events = typed([RAW[i] for i in order])
    assert fold_cases(reversed(LINKS), events + events[:5]) == EXPECTED


@settings(max_examples=200)
@given(ids=st.lists(st.text(max_size=8), max_size=5))
def test_canonical_json_strings_is_canonical_json(ids):
    """The event_ids fast path writes exactly what canonical_json writes."""
    assert canonical_json_strings(ids) == canonical_json(ids)


@settings(max_examples=60)
@given(st.data())
def test_history_before_an_instant_sees_only_the_earlier_past(data):
    """history_from(before=t) equals the history of the cases and links before t."""
    raw = [e for k in SCENARIOS for n in range(2) for e in scenario(k, n)]
    links = links_for(raw)
    cases = fold_cases(links, [e for r in raw for e in parse_event(r)])
    customer = data.draw(st.sampled_from(sorted({c.customer_id for c in cases})))
    times = sorted(
        {c.opened_at for c in cases}
        | {c.redeemed_at for c in cases if c.redeemed_at is not None}
        | {link.created for link in links}
    )
    at = data.draw(st.sampled_from(times)) + data.draw(st.integers(-1, 1))
    expected_cases = [c for c in cases if c.opened_at < at]
    seen = history_from(customer, cases, links, before=at)
    assert seen.attempts == history_from(customer, expected_cases, links).attempts
    offered = [
        link.created
        for link in links
        if link.customer_id == customer and link.offered_coupon and link.created < at
    ]
    assert seen.last_offered_at == max(offered, default=None)
    assert seen.last_redeemed_at is None or seen.last_redeemed_at < at
    assert history_from(customer, cases, links, before=None) == history_from(
        customer, cases, links
    )

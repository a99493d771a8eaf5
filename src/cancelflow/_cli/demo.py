"""``cancelflow demo``: the whole cancellation path, offline, in a few seconds.

Everything goes through the public API a host application uses, against
``cancelflow.testing.FakeStripe`` instead of Stripe: a product, a price,
customers and subscriptions; a portal configuration that asks for reasons,
declared in TOML and applied as a team applies its own file; a
retention policy deciding who is offered a coupon (with its explanation);
cancel links from `Cancelflow`; customers acting on the
portal (one redeems the offer, one cancels with "other" and a comment, one
cancels then renews); time passing the period end; and every signed webhook
verified by `WebhookHandler` into a ledger, printed as
typed events, then a summary.

The output is deterministic: the fake's clock starts at a fixed instant and
its ids and tokens are seeded. Run again on the same ``--ledger`` file, the demo
tags its account's ids with the run (``cus_run2_0000000001``), so that its
story does not mix with the earlier runs' (which the ledger keeps); it refuses,
before doing anything, a ledger that holds data the demo did not write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import textwrap
from collections import Counter
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

from cancelflow._cli.main import Context, UsageError, writing
from cancelflow._format import format_amount, format_count, format_time

if TYPE_CHECKING:
    from stripe.params import SubscriptionCreateParams

    from cancelflow._outcomes.events import CancellationEvent
    from cancelflow._outcomes.ledger import Ledger

__all__ = ["register", "run_demo"]

START: Final = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
REPORT_HTML: Final = "cancelflow-demo-report.html"

#: The demo's portal configuration, as a team keeps it in its repository
#: (``cancelflow config apply portal.toml``; docs/how-to/portal-config-as-code.md).
PORTAL_TOML: Final = """\
[configurations.cancel-page.features.subscription_cancel]
enabled = true
mode = "at_period_end"

[configurations.cancel-page.features.subscription_cancel.cancellation_reason]
enabled = true
options = ["too_expensive", "missing_features", "switched_service", "unused", "other"]
"""
_WIDTH: Final = 88
#: The id tags of the demo's runs: ``fake`` for the first, then ``run2_``, …
_RUN_TAG: Final = re.compile(r"(?:bps|sub)_(fake|run[0-9]+_)[0-9]{10}")


def register(subparsers: Any, name: str) -> None:
    """Add ``cancelflow demo`` to the command line."""
    parser = subparsers.add_parser(
        name,
        help="run the whole cancellation path offline, on a fake Stripe",
        description=(
            "Run cancel links, a retention policy, the customer portal, time passing "
            "and verified webhooks into a ledger, against cancelflow's in-memory "
            "FakeStripe: no Stripe key, no network. Prints what happens and a summary."
        ),
    )
    parser.add_argument(
        "--ledger",
        metavar="PATH",
        help="record into a SQLite ledger at PATH (default: in memory)",
    )
    parser.add_argument(
        "--report-html",
        metavar="PATH",
        default=REPORT_HTML,
        help=f"where to write the HTML report (default {REPORT_HTML})",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace, ctx: Context) -> int:
    from cancelflow import MemoryLedger, SQLiteLedger

    ledger = MemoryLedger() if args.ledger is None else SQLiteLedger(args.ledger)
    with ledger:
        run_demo(ctx.stdout, ledger=ledger, report_html=args.report_html)
    return 0


def run_tag(ledger: Ledger) -> tuple[str, int]:
    """The id tag of a new demo run on *ledger*, and how many runs it holds.

    Raises:
        UsageError: the ledger holds links or cases the demo did not write.
    """
    tags: set[str] = set()
    for found in [
        *(link.session_id for link in ledger.links()),
        *(case.subscription_id for case in ledger.cases()),
    ]:
        match = _RUN_TAG.fullmatch(found)
        if match is None:
            raise UsageError(
                f"the ledger holds cancellation data that cancelflow demo did not "
                f"write ({found}); the demo records only into a new ledger file or "
                "one it wrote: give another --ledger path"
            )
        tags.add(match.group(1))
    runs = len(tags)
    return ("fake" if runs == 0 else f"run{runs + 1}_"), runs


def run_demo(out: TextIO, *, ledger: Ledger, report_html: str | None = None) -> None:
    """Play the demo, printing to *out* and recording outcomes into *ledger*.

    It ends with the text report of the ledger, and writes the HTML report to
    *report_html* (if given). On a ledger that already holds earlier runs, the
    account's ids carry this run's tag, and the ledger section shows this run's
    cases (the report covers every run).

    Raises:
        UsageError: the ledger holds data the demo did not write (nothing is
            done).
    """
    tag, earlier = run_tag(ledger)
    import cancelflow
    from cancelflow import (
        Cancelflow,
        CancellationFeedback,
        NoOffer,
        Offer,
        Redirect,
        RetentionPolicy,
        Rule,
        Segment,
        WebhookHandler,
        apply_portal_config,
        parse_portal_config,
    )
    from cancelflow.testing import FakeStripe

    def say(text: str = "", indent: int = 0) -> None:
        pad = " " * indent
        if not text:
            print(file=out)
            return
        for line in textwrap.wrap(
            text, _WIDTH, initial_indent=pad, subsequent_indent=pad + "  "
        ):
            print(line, file=out)

    received: list[CancellationEvent] = []
    others: Counter[str] = Counter()

    def endpoint(body: bytes, headers: Any) -> int:
        for event in webhooks.handle_webhook(body, headers["Stripe-Signature"]):
            if isinstance(event, cancelflow.NotAboutCancellation):
                others[event.event_type] += 1
            else:
                received.append(event)
        return 200

    def show_events() -> None:
        for event in received:
            say(f"{type(event).__name__}: {event.describe()}", 6)
        if others:
            counted = ", ".join(
                f"{kind} ×{n}" if n > 1 else kind for kind, n in sorted(others.items())
            )
            say(f"(and, not about cancelling: {counted})", 6)
        received.clear()
        others.clear()

    # -- the account ---------------------------------------------------------------
    fake = FakeStripe(start=START, seed=2026, id_tag=tag)
    client = fake.client()
    secret = fake.add_webhook_endpoint(
        endpoint, events=["customer.subscription.*", "customer.discount.*"]
    )
    webhooks = WebhookHandler(secret, ledger=ledger)

    say(
        "cancelflow demo: the cancellation path, offline, on cancelflow.testing.FakeStripe"
    )
    start = format_time(fake.clock.now(), seconds=False)
    say(f"(no Stripe key, no network; the fake clock starts at {start})")
    if earlier:
        say(
            f"(the ledger holds {format_count(earlier, 'earlier demo run')}; this "
            f"one's ids are tagged {tag})"
        )
    say()
    price = client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    client.v1.coupons.create(
        params={
            "id": "STAY20",
            "name": "20 % off",
            "percent_off": 20,
            "duration": "once",
        }
    )
    portal_file = parse_portal_config(PORTAL_TOML)
    portal = portal_file["cancel-page"]
    applied = apply_portal_config(client, portal_file)
    config_id = applied.configuration_ids["cancel-page"]
    cancel = portal.features.subscription_cancel if portal.features else None
    reason = cancel.cancellation_reason if cancel else None
    reasons = [
        r.value for r in CancellationFeedback if reason and r in (reason.options or ())
    ]
    say("1. The Stripe account")
    say(
        f"product Pro at 15.00 EUR a month ({price.id}); coupon STAY20: 20 % off, once",
        3,
    )
    say(
        f"portal configuration {config_id}: applied from the demo's TOML file "
        f"({applied.writes} write); it cancels at period end, asking why",
        3,
    )
    say(f"({', '.join(reasons)})", 6)
    people: list[tuple[str, str, Literal["classic", "flexible"], int | None]] = [
        ("Ada", "ada@example.com", "classic", None),
        ("Ben", "ben@example.com", "flexible", None),
        ("Chloé", "chloe@example.com", "classic", 14),
    ]
    subs: dict[str, tuple[str, str]] = {}
    for name, email, mode, trial_days in people:
        customer = client.v1.customers.create(params={"name": name, "email": email})
        params: SubscriptionCreateParams = {
            "customer": customer.id,
            "items": [{"price": price.id}],
            "billing_mode": {"type": mode},
        }
        if trial_days is not None:
            params["trial_period_days"] = trial_days
        sub = client.v1.subscriptions.create(params=params)
        subs[name] = (customer.id, sub.id)
        say(f"{name}: {customer.id}, {sub.id} ({mode} billing mode, {sub.status})", 3)
    show_events()
    say()

    # -- the policy and the cancel links --------------------------------------------
    policy = RetentionPolicy(
        name="demo",
        rules=[
            Rule("no offer during trials", Segment(trialing=True), NoOffer()),
            Rule("monthly plans", Segment(interval="month"), Offer("STAY20")),
        ],
    )
    flow = Cancelflow(
        client,
        allowed_hosts=["example.com"],
        return_url="https://example.com/account",
        after_completion=Redirect("https://example.com/goodbye"),
        policy=policy,
        ledger=ledger,
        clock=fake.clock.now,
        configuration=portal,  # the declared configuration, found by its key
    )
    fake.clock.advance(dt.timedelta(days=9))
    say(
        f"2. Nine days later ({_at(fake)}), each customer clicks 'Cancel': "
        "Cancelflow asks the policy, then Stripe"
    )
    links = {}
    for name, (customer_id, sub_id) in subs.items():
        link = flow.create_cancel_link(customer=customer_id, subscription=sub_id)
        links[name] = link
        offer = f"offers {link.coupon_id}" if link.coupon_id else "offers nothing"
        say(f"{name}: portal session {link.session_id} {offer}", 3)
        assert link.decision is not None  # a policy always decides
        say(link.decision.explain(), 6)
    say()

    # -- the customers on the portal ---------------------------------------------------
    fake.clock.advance(dt.timedelta(minutes=2))
    say(
        f"3. Two minutes later ({_at(fake)}), on Stripe's portal (driven by fake.portal)"
    )
    ada = fake.portal.visit(links["Ada"].url)
    say(
        f"Ada sees reasons {', '.join(ada.cancellation_reasons)} and the offer "
        f"{ada.coupon_id}; she takes it",
        3,
    )
    ada.accept_offer()
    show_events()
    ben = fake.portal.visit(links["Ben"].url)
    outcome = ben.cancel(feedback="other", comment="Moving to a spreadsheet")
    say(
        f"Ben cancels: 'other', \"Moving to a spreadsheet\"; Stripe redirects him to "
        f"{outcome.redirect_url}",
        3,
    )
    show_events()
    chloe = fake.portal.visit(links["Chloé"].url)
    say(
        "Chloé (trialing: no offer, and no MRR until her trial converts) cancels: "
        "too_expensive",
        3,
    )
    chloe.cancel(feedback="too_expensive")
    show_events()
    fake.clock.advance(dt.timedelta(hours=2))
    home = flow.create_portal_link(customer=subs["Chloé"][0])
    say(
        f"Two hours later ({_at(fake)}) she changes her mind and renews on the "
        "portal's homepage",
        3,
    )
    fake.portal.visit(home.url).renew()
    show_events()
    say()

    # -- time passes -----------------------------------------------------------------
    before = _at(fake)
    fake.clock.advance(dt.timedelta(days=31))
    say(f"4. The fake clock advances 31 days, from {before} to {_at(fake)}")
    show_events()
    say()

    # -- the ledger ------------------------------------------------------------------
    say("5. The ledger (one case per cancellation attempt)")
    names = {sub_id: name for name, (_, sub_id) in subs.items()}
    cases = [case for case in ledger.cases() if case.subscription_id in names]
    for case in cases:
        detail = ""
        if case.feedback is not None:
            detail = f", reason {case.feedback.value}"
        if case.comment:
            detail += f', comment "{case.comment}"'
        if case.redeemed_coupon:
            detail += f", redeemed {case.redeemed_coupon}"
        say(
            f"{names.get(case.subscription_id, case.subscription_id)}: "
            f"{case.state.value}{detail}",
            3,
        )
    states = Counter(case.state.value for case in cases)
    saved_mrr = sum(case.mrr or 0 for case in cases if case.state.value == "saved")
    feedback = Counter(
        case.feedback.value for case in cases if case.feedback is not None
    )
    comments = [case.comment for case in cases if case.comment]
    say()
    say("Summary")
    say(
        f"cases: {len(cases)} · saved {states['saved']} · withdrawn "
        f"{states['withdrawn']} · ended {states['ended']} · still scheduled "
        f"{states['scheduled']} · no action {states['opened']}",
        3,
    )
    say(f"MRR saved by the offer: {format_amount(saved_mrr, 'eur')}", 3)
    say(
        "reasons: "
        + (", ".join(f"{k} {v}" for k, v in sorted(feedback.items())) or "none"),
        3,
    )
    say("comments: " + ("; ".join(f'"{c}"' for c in comments) or "none"), 3)
    deliveries = fake.webhook_endpoints[0].deliveries
    say(
        f"webhooks: {len(deliveries)} signed deliveries, "
        f"{sum(d.ok for d in deliveries)} verified and recorded",
        3,
    )
    problems = ledger.problems()
    say(
        f"problems: {len(problems)} deliveries kept as problems (never recorded)"
        if problems
        else "problems: none (no delivery had to be kept aside)",
        3,
    )
    for problem in problems:
        say(problem.describe(), 5)

    # -- the report ------------------------------------------------------------------
    say()
    say(
        "6. The report (cancelflow report; figures computed by the ledger's store"
        + (f", over all {earlier + 1} runs it holds)" if earlier else ")")
    )
    say()
    report = cancelflow.report_from_ledger(ledger, now=fake.clock.now())
    out.write(report.render("text"))
    if report_html is not None:
        with writing(report_html):
            report.write(report_html, "html")
        say()
        say(f"The same report as a web page: {report_html}")


def _at(fake: Any) -> str:
    """The fake clock's time, to the minute."""
    return format_time(fake.clock.now(), seconds=False)

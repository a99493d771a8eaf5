"""A small data set whose report figures are computed by hand (not a test module).

Nine cases around T = 1_780_000_000 (2026-05-28 20:26:40 UTC), in EUR, USD and
JPY, built from realistic webhook events (``stripe_events.SubSim``) and cancel
links, so that every store folds them into cases itself:

=====  ========  ====================================================  =========
case   currency  what happens                                          state
=====  ========  ====================================================  =========
A      EUR 20    link (STAY20, spring/twenty), offer redeemed          saved
A2     EUR 20    40 days later, cancels anyway: too_expensive          scheduled
B      EUR 20    link (spring/control holdout), too_expensive, ends    ended
C      EUR 30    no link, "other" + a <script> comment, price_pro      scheduled
D      USD 15    link (STAY20, spring/twenty), leaves the page         opened
E      JPY 1000  no link, unused, then renews                          withdrawn
F      EUR 20    payment failed: Stripe ends it                        ended, involuntary
G      USD 15    link (holdout), missing_features + an <img> comment   scheduled
H      EUR 10    link (STAY20, spring/twenty), too_expensive           scheduled
=====  ========  ====================================================  =========

``tests/test_reports.py`` writes out the expected figures next to the asserts.
"""

from __future__ import annotations

from typing import Any

from cancelflow import LinkRecord, parse_event
from stripe_events import DAY, SubSim

T = 1_780_000_000
SINCE = T - 1
UNTIL = T + 45 * DAY
SCRIPT_COMMENT = "<script>alert('x')</script> too slow"
IMG_COMMENT = '=HYPERLINK("http://evil") "><img src=x onerror=alert(1)>'


def _sim(
    name: str, *, start_days: int, currency: str = "eur", amount: int = 2000
) -> SubSim:
    sim = SubSim(
        f"sub_{name}", f"cus_{name}", now=T, currency=currency, unit_amount=amount
    )
    sim.sub["start_date"] = T - start_days * DAY
    return sim


def _link(
    sim: SubSim,
    at: int,
    *,
    coupon: str | None,
    arm: str,
    discount: int | None = None,
) -> LinkRecord:
    return LinkRecord(
        session_id=f"bps_{sim.id[4:]}_{at}",
        subscription_id=sim.id,
        customer_id=sim.customer,
        created=at,
        offered_coupon=coupon,
        arm=arm,
        decision={"experiment": "spring", "arm": arm},
        mrr=sim.sub["items"]["data"][0]["price"]["unit_amount"],
        currency=sim.sub["currency"],
        offer_discount=discount,
        offer_months=1 if coupon else None,
    )


def build() -> tuple[list[LinkRecord], list[dict[str, Any]]]:
    """The links and the raw Stripe events of the data set."""
    links: list[LinkRecord] = []
    sims: list[SubSim] = []

    a = _sim("a", start_days=400)
    links.append(_link(a, T, coupon="STAY20", arm="twenty", discount=400))
    a.tick(60).redeem("STAY20")
    a.now = T + 40 * DAY
    a.schedule_with_feedback("too_expensive")
    sims.append(a)

    b = _sim("b", start_days=20)
    links.append(_link(b, T + 1000, coupon=None, arm="control"))
    b.tick(1060).schedule()
    b.tick(10).feedback("too_expensive")
    b.now = b.period_end
    b.end()
    sims.append(b)

    c = _sim("c", start_days=100, amount=3000)
    item = c.sub["items"]["data"][0]
    item["price"] = {**item["price"], "id": "price_pro", "product": "prod_pro"}
    c.tick(2000).schedule()
    c.tick(5).feedback("other", comment=SCRIPT_COMMENT)
    sims.append(c)

    d = _sim("d", start_days=10, currency="usd", amount=1500)
    links.append(_link(d, T + 3000, coupon="STAY20", arm="twenty", discount=300))
    sims.append(d)

    e = _sim("e", start_days=800, currency="jpy", amount=1000)
    e.tick(4000).schedule_with_feedback("unused")
    e.tick(4000).renew()
    sims.append(e)

    f = _sim("f", start_days=300)
    f.tick(5000).end(reason="payment_failed")
    sims.append(f)

    g = _sim("g", start_days=200, currency="usd", amount=1500)
    links.append(_link(g, T + 6000, coupon=None, arm="control"))
    g.tick(6060).schedule_with_feedback("missing_features")
    g.tick(10).feedback("missing_features", comment=IMG_COMMENT)
    sims.append(g)

    h = _sim("h", start_days=50, amount=1000)
    links.append(_link(h, T + 7000, coupon="STAY20", arm="twenty", discount=200))
    h.tick(7060).schedule_with_feedback("too_expensive")
    sims.append(h)

    return links, [event for sim in sims for event in sim.events]


def fill(ledger: Any) -> Any:
    """Record the data set into *ledger* (any store); return it."""
    links, raw = build()
    for link in links:
        ledger.record_link(link)
    for event in raw:
        ledger.record_events(parse_event(event))
    return ledger

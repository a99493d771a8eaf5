"""Hostile input, as Hypothesis strategies and as fixed examples (not a test module).

Each strategy draws one class of input that an adversarial review found to break
something once: integers beyond 64 bits, text no store can keep (U+0000, lone
surrogates), enum values Stripe may add later, key-shaped secrets hidden in other
text, international host names that IDNA 2003 and browsers read differently,
allowed-host entries over public suffixes, deeply nested TOML, and webhook bodies
that are not bytes. The property tests of each module add these to their own
strategies, so that the neighbours of each case are covered too.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

#: Characters no ledger store can keep: PostgreSQL refuses U+0000 in text and
#: JSONB, and a lone surrogate cannot be encoded as UTF-8 (SQLite).
UNSTORABLE_CHARS = ("\x00", "\ud800", "\udbff", "\udc00", "\udfff")


def big_ints() -> st.SearchStrategy[int]:
    """Integers just outside, and far outside, the signed 64-bit range."""
    return st.one_of(
        st.sampled_from([INT64_MAX + 1, INT64_MIN - 1, 2**64, -(2**64), 10**30]),
        st.integers(min_value=INT64_MAX + 1, max_value=2**200),
        st.integers(min_value=-(2**200), max_value=INT64_MIN - 1),
    )


def edge_ints() -> st.SearchStrategy[int]:
    """Integers at the edges of the signed 64-bit range (storable)."""
    return st.sampled_from([INT64_MAX, INT64_MIN, INT64_MAX - 1, 0, -1])


def unstorable_texts(max_size: int = 6) -> st.SearchStrategy[str]:
    """Text holding at least one U+0000 or lone surrogate."""
    return st.builds(
        lambda a, bad, b: a + bad + b,
        st.text(max_size=max_size),
        st.sampled_from(UNSTORABLE_CHARS),
        st.text(max_size=max_size),
    )


def unknown_enum_values(
    known: set[str] | frozenset[str] = frozenset(),
) -> st.SearchStrategy[str]:
    """Snake-case words Stripe could add to an enum (not in *known*)."""
    return st.from_regex(r"[a-z][a-z_]{2,24}", fullmatch=True).filter(
        lambda v: v not in known
    )


_KEY_BODY = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def key_shaped(draw: st.DrawFn) -> tuple[str, str]:
    """``(text, secret_body)``: an API key or webhook secret inside other text.

    The key may sit after an underscore, a letter or a digit (``cus_sk_live_…``,
    ``key=_sk_live_…``) and a webhook secret may hold ``+``, ``/`` and ``=``.
    *secret_body* is the part that must never be shown.
    """
    kind = draw(
        st.sampled_from(["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"])
    )
    alphabet = _KEY_BODY + ("+/=" if kind == "whsec_" else "")
    body = draw(st.text(alphabet=alphabet, min_size=12, max_size=40))
    # the body must not be readable as something else: start it with letters
    body = "Zq" + body
    before = draw(st.sampled_from(["", " ", "_", "cus_", "x", "9", "key=", "=", "'"]))
    after = draw(st.sampled_from(["", " ", "'", ".", ": no such coupon", "\n"]))
    return f"{before}{kind}{body}{after}", body


#: Hosts that IDNA 2003 (Python's ``idna`` codec) maps to *another* host than
#: browsers do (UTS 46 non-transitional): ``ß`` and ``ς`` are kept, a ZWJ is
#: refused where it has no context.
IDN_DEVIATIONS = {
    "straße.de": "xn--strae-oqa.de",
    "faß.de": "xn--fa-hia.de",
    "βόλος.com": "xn--nxasmm1c.com",
    "ςαν.gr": "xn--mxayn.gr",
}


def idn_hosts() -> st.SearchStrategy[str]:
    """International host names, in every spelling a browser accepts for them."""
    labels = st.sampled_from(
        [
            "straße",
            "faß",
            "βόλος",
            "müller",
            "ñandú",
            "日本語",
            "пример",
            "ab",
            "xn--strae-oqa",
        ]
    )
    tlds = st.sampled_from(["de", "com", "jp", "рф", "co.uk"])
    dots = st.sampled_from([".", "\u3002", "\uff0e", "\uff61"])
    return st.builds(
        lambda label, dot, tld, upper: (label.upper() if upper else label) + dot + tld,
        labels,
        dots,
        tlds,
        st.booleans(),
    )


#: Allowed-host entries that are, or wildcard, a public suffix.
PUBLIC_SUFFIX_ENTRIES = (
    "com",
    "*.com",
    "co.uk",
    "*.co.uk",
    "github.io",
    "*.github.io",
    "*.herokuapp.com",
    "*.ck",
    "foo.ck",
    "*.xn--p1ai",
    "*.рф",
    "*.COM",
    "*.com.",
)


def deep_toml(min_depth: int = 65, max_depth: int = 600) -> st.SearchStrategy[str]:
    """A policy whose segment nests ``all``/``any``/``not`` or plain arrays
    deeper than any policy needs."""

    def build(depth: int, shape: str) -> str:
        if shape == "all":
            inner = "{ all = [ " * depth + "{}" + " ] }" * depth
        elif shape == "not":
            inner = "{ not = " * depth + "{}" + " }" * depth
        else:
            inner = "{ prices = " + "[" * depth + "]" * depth + " }"
        return f'[[rules]]\nname = "deep"\nno_offer = true\nsegment = {inner}\n'

    return st.builds(
        build,
        st.integers(min_depth, max_depth),
        st.sampled_from(["all", "not", "array"]),
    )


def non_bodies() -> st.SearchStrategy[Any]:
    """Values a careless host might pass as a webhook body: not bytes, not text."""
    return st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
        st.lists(st.integers(), max_size=3),
        st.tuples(st.integers()),
    )


def hostile_leaves() -> st.SearchStrategy[Any]:
    """JSON leaves of every hostile class (to mix into a JSON strategy)."""
    return st.one_of(big_ints(), edge_ints(), unstorable_texts(), unknown_enum_values())


# -- fixed hostile deliveries ---------------------------------------------------------


def deep_json(depth: int) -> bytes:
    """A JSON body nested *depth* lists deep."""
    return ("[" * depth + "]" * depth).encode()


def _set(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return event


def hostile_deliveries(
    base: dict[str, Any], discount: dict[str, Any]
) -> list[tuple[str, bytes]]:
    """``(name, body)`` of hostile variants of a subscription update *base* and
    a ``customer.discount.created`` *discount*: one per class and field the
    ledger stores. Every variant has its own event id."""
    sub_paths: list[tuple[str, tuple[Any, ...], Any]] = [
        ("created_2_63", ("created",), INT64_MAX + 1),
        ("cancel_at_2_63", ("data", "object", "cancel_at"), INT64_MAX + 1),
        (
            "period_end_2_64",
            ("data", "object", "items", "data", 0, "current_period_end"),
            2**64,
        ),
        ("canceled_at_min", ("data", "object", "canceled_at"), INT64_MIN - 1),
        ("previous_cancel_at", ("data", "previous_attributes", "cancel_at"), 10**30),
        (
            "amount_times_quantity",
            ("data", "object", "items", "data", 0, "quantity"),
            2**62,
        ),
        ("customer_surrogate", ("data", "object", "customer"), "cus_\ud800"),
        ("subscription_nul", ("data", "object", "id"), "sub_\x00x"),
        ("currency_nul", ("data", "object", "currency"), "e\x00r"),
        (
            "comment_nul",
            ("data", "object", "cancellation_details", "comment"),
            "too\x00much",
        ),
        (
            "comment_surrogate",
            ("data", "object", "cancellation_details", "comment"),
            "x\udfffy",
        ),
        (
            "option_surrogate",
            ("data", "object", "cancellation_details", "feedback_option"),
            "fbo_\udc00",
        ),
        ("unknown_status", ("data", "object", "status"), "suspended"),
        (
            "unknown_feedback",
            ("data", "object", "cancellation_details", "feedback"),
            "too_slow",
        ),
        (
            "unknown_reason",
            ("data", "object", "cancellation_details", "reason"),
            "fraud_suspected",
        ),
        ("unknown_mode", ("data", "object", "billing_mode", "type"), "hybrid"),
        ("empty_feedback", ("data", "object", "cancellation_details", "feedback"), ""),
    ]
    out: list[tuple[str, bytes]] = []
    for n, (name, path, value) in enumerate(sub_paths):
        event = json.loads(json.dumps(base))
        event["id"] = f"evt_hostile_{n}"
        event["data"]["object"]["id"] = f"sub_hostile_{n}"
        _set(event, path, value)
        if name == "amount_times_quantity":
            event["data"]["object"]["items"]["data"][0]["price"]["unit_amount"] = 2**40
        out.append((name, json.dumps(event).encode()))
    for n, (name, path, value) in enumerate(
        [
            ("event_id_surrogate", ("id",), "evt_\ud800"),
            ("coupon_nul", ("data", "object", "source", "coupon"), "co\x00"),
            (
                "discount_subscription_nul",
                ("data", "object", "subscription"),
                "sub_\x00",
            ),
        ]
    ):
        event = json.loads(json.dumps(discount))
        event["id"] = f"evt_hostile_discount_{n}"
        _set(event, path, value)
        out.append((name, json.dumps(event).encode()))
    old = json.loads(json.dumps(base))
    old["id"] = "evt_hostile_2019"
    old["api_version"] = "2019-12-03"
    for item in old["data"]["object"]["items"]["data"]:
        item["plan"] = {"id": item["price"]["id"], "object": "plan", "amount": 2000}
        del item["price"]
    out.append(("plan_without_price", json.dumps(old).encode()))
    out.append(("not_json", b"{not json"))
    out.append(("not_utf8", b'{"id": "\xff"}'))
    out.append(("deep_json", deep_json(100_000)))
    out.append(("a_list", b"[1, 2]"))
    return out

"""The JSON reader Obj: each accessor's fast path agrees with its general checks."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import CancellationFeedback, SubscriptionStatus
from cancelflow._stripe.read import (
    INT64_MAX,
    INT64_MIN,
    Obj,
    describe,
    frozen_map,
    plain,
    storable_text,
    to_member,
    unstorable,
)
from cancelflow.exceptions import StripeObjectError
from hostile import big_ints, edge_ints, unknown_enum_values, unstorable_texts


class StripeLike:
    """Not a mapping, but has ``to_dict`` (how stripe-python objects are recognised)."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def to_dict(self) -> dict:
        return self.data


class Text(str):
    """A str subclass: not the exact type, so the general path reads it."""

    __slots__ = ()


class Number(int):
    """An int subclass: not the exact type, so the general path reads it."""


leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.builds(Text, st.text(max_size=5))
    | st.builds(Number, st.integers())
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.dictionaries(st.just("id"), inner, min_size=1).map(StripeLike)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3).map(OrderedDict)
    ),
    max_leaves=8,
)


def result(call):
    """What a read gives: ("ok", value) or ("error", message)."""
    try:
        value = call()
    except StripeObjectError as exc:
        return ("error", str(exc))
    if isinstance(value, Obj):
        return ("ok", ("Obj", dict(value.data), value.path))
    return ("ok", (type(value), value))


def general(o: Obj, key: str, name: str):
    """The accessor *name* read only through the general checks (no fast path)."""
    typed = {
        "string": (str, "a string", True),
        "opt_string": (str, "a string", False),
        "integer": (int, "an integer", True),
        "opt_integer": (int, "an integer", False),
    }
    if name in typed:
        kind, label, required = typed[name]
        value = o._typed(key, kind, label, required=required)
        if kind is int and value is not None and not INT64_MIN <= value <= INT64_MAX:
            raise StripeObjectError(
                o.where(key),
                "outside the range of a signed 64-bit integer (−2⁶³ … 2⁶³−1), "
                "which every Stripe integer fits and every ledger store needs",
            )
        return value
    if name == "boolean":
        return bool(o._typed(key, bool, "a boolean", required=True))
    if name == "boolean_default":
        value = o._typed(key, bool, "a boolean", required=False)
        return False if value is None else bool(value)
    raise AssertionError(name)


@settings(max_examples=300)
@given(value=values, missing=st.booleans())
def test_scalar_fast_paths_agree_with_the_general_checks(value, missing):
    """string, opt_string, integer, opt_integer and boolean read any value as _typed
    does (integers then checked against the signed 64-bit range)."""
    o = Obj({} if missing else {"k": value}, "sub")
    for name in ("string", "opt_string", "integer", "opt_integer", "boolean"):
        assert result(lambda n=name: getattr(o, n)("k")) == result(
            lambda n=name: general(o, "k", n)
        ), name
    assert result(lambda: o.boolean("k", default=False)) == result(
        lambda: general(o, "k", "boolean_default")
    )


def slow_of(value: object, path: str) -> Obj:
    """Obj.of as it read before its fast path."""
    value = plain(value)
    if not isinstance(value, Mapping):
        raise StripeObjectError(path, f"expected an object, got {describe(value)}")
    return Obj(value, path)


def slow_obj(o: Obj, key: str, *, required: bool) -> Obj | None:
    """obj/opt_obj as they read before their fast paths."""
    value = plain(o._get(key, required=required))
    if value is None and not required:
        return None
    if not isinstance(value, Mapping):
        raise StripeObjectError(
            o.where(key), f"expected an object, got {describe(value)}"
        )
    return Obj(value, o.where(key))


def slow_id(o: Obj, key: str) -> str | None:
    """opt_id_of as it read before its fast path."""
    value = plain(o._get(key, required=False))
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return Obj(value, o.where(key)).string("id")
    raise StripeObjectError(
        o.where(key), f"expected an id or an object, got {describe(value)}"
    )


@settings(max_examples=300)
@given(value=values, missing=st.booleans(), path=st.sampled_from(["", "sub"]))
def test_object_and_id_fast_paths_agree_with_the_general_checks(value, missing, path):
    """obj, opt_obj, opt_id_of and Obj.of read any value as the general checks do."""
    o = Obj({} if missing else {"k": value}, path)
    assert result(lambda: o.obj("k")) == result(lambda: slow_obj(o, "k", required=True))
    assert result(lambda: o.opt_obj("k")) == result(
        lambda: slow_obj(o, "k", required=False)
    )
    assert result(lambda: o.opt_id_of("k")) == result(lambda: slow_id(o, "k"))
    assert result(lambda: Obj.of(value, path)) == result(lambda: slow_of(value, path))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda o: o.string("n"), "sub.n: expected a string, got null"),
        (lambda o: o.integer("b"), "sub.b: expected an integer, got a boolean"),
        (lambda o: o.boolean("i"), "sub.i: expected a boolean, got an integer"),
        (lambda o: o.obj("missing"), "sub.missing: missing"),
        (
            lambda o: o.opt_id_of("i"),
            "sub.i: expected an id or an object, got an integer",
        ),
    ],
)
def test_errors_name_the_path(call, message):
    """A value of the wrong type raises StripeObjectError naming its path."""
    o = Obj({"n": None, "b": True, "i": 3}, "sub")
    with pytest.raises(StripeObjectError) as info:
        call(o)
    assert str(info.value) == message


def test_frozen_map_copies_and_shares_the_empty_map():
    """frozen_map gives a read-only copy; every empty map is one shared empty map."""
    source = {"plan": "pro"}
    frozen = frozen_map(source)
    source["plan"] = "free"
    assert dict(frozen) == {"plan": "pro"}
    with pytest.raises(TypeError):
        frozen["plan"] = "x"  # type: ignore[index]
    assert frozen_map({}) is frozen_map(MappingProxyType({}))
    assert dict(frozen_map({})) == {}
    with pytest.raises(TypeError):
        frozen_map({})["a"] = "b"  # type: ignore[index]


# -- hostile classes ---------------------------------------------------------------------


@settings(max_examples=100)
@given(value=big_ints())
def test_integers_beyond_64_bits_are_refused_at_their_path(value):
    """integer() and opt_integer() refuse any integer outside the signed 64-bit
    range, on the fast path's neighbours too, naming the path."""
    o = Obj({"n": value}, "thing")
    for read in (o.integer, o.opt_integer):
        with pytest.raises(StripeObjectError) as info:
            read("n")
        assert info.value.path == "thing.n"
        assert "64-bit" in info.value.problem


@given(value=edge_ints())
def test_integers_at_the_edges_are_read(value):
    """The largest and smallest 64-bit integers are read unchanged."""
    o = Obj({"n": value}, "thing")
    assert o.integer("n") == o.opt_integer("n") == value
    assert INT64_MIN <= value <= INT64_MAX


@settings(max_examples=100)
@given(text=unstorable_texts())
def test_storable_text_escapes_exactly_what_no_store_keeps(text):
    """storable_text leaves nothing unstorable, changes nothing else, and is
    the identity on text that needed no change."""
    assert unstorable(text) is not None
    escaped = storable_text(text)
    assert unstorable(escaped) is None
    escaped.encode("utf-8")
    assert storable_text(escaped) == escaped


@settings(max_examples=100)
@given(value=unknown_enum_values({m.value for m in SubscriptionStatus}))
def test_unknown_values_of_stripe_enums_are_values(value):
    """to_member keeps an unknown value of a Stripe enum as a value equal to
    its string, known false, that pickles back equal; the enum's own call stays
    strict."""
    member = to_member(SubscriptionStatus, value, "status")
    assert member == value
    assert isinstance(member, SubscriptionStatus)
    assert not member.known
    assert pickle.loads(pickle.dumps(member)) == member
    assert to_member(SubscriptionStatus, "active", "s") is SubscriptionStatus.ACTIVE
    with pytest.raises(ValueError):
        SubscriptionStatus(value)


@pytest.mark.parametrize("value", ["", "x\x00", "a\ud800", "x" * 256])
def test_unreadable_enum_values_are_refused(value):
    """An empty value, one holding text no store can keep, or one longer than
    255 characters is refused at its path."""
    with pytest.raises(StripeObjectError) as info:
        to_member(CancellationFeedback, value, "details.feedback")
    assert info.value.path == "details.feedback"


@settings(max_examples=200)
@given(
    value=st.one_of(
        st.sampled_from([m.value for m in SubscriptionStatus]),
        unknown_enum_values({m.value for m in SubscriptionStatus}),
        st.sampled_from(["", "x\x00", "a\ud800", "x" * 256]),
    )
)
def test_member_fast_path_agrees_with_to_member(value):
    """Obj.member (which skips building the path for a known value) gives what
    to_member gives, or raises the same error at the same path."""

    def outcome(read):
        try:
            got = read()
        except StripeObjectError as exc:
            return ("error", exc.path, str(exc))
        return ("member", got, type(got), got.known)

    o = Obj({"status": value}, "subscription")
    assert outcome(lambda: o.member("status", SubscriptionStatus)) == outcome(
        lambda: to_member(SubscriptionStatus, value, "subscription.status")
    )

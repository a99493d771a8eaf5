"""The fake's form decoder: the inverse of stripe-python's form encoding."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from cancelflow.testing._form import decode

_MISSING = object()


def encode(params: dict[str, Any]) -> str:
    """Exactly what stripe-python sends (``_api_requestor.request_raw``)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


def wire(value: Any, *, in_list: bool = False) -> Any:
    """What a value looks like after encoding and decoding: strings, or gone.

    stripe-python writes ``true``/``false`` for a boolean, except directly inside
    a list that is a hash value, where it writes Python's ``True``/``False``.
    """
    if value is None:
        return _MISSING
    if isinstance(value, bool) and not in_list:
        return "true" if value else "false"
    if isinstance(value, dict):
        out = {k: wire(v) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not _MISSING}
        return out or _MISSING
    if isinstance(value, list):
        items = [wire(v, in_list=not in_list) for v in value]
        return items or _MISSING
    return str(value)


# A key named "metadata" is always a hash of strings (the decoder reads its
# digit keys as hash keys, as Stripe does); `metadata` below generates those.
names = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
    lambda n: n != "metadata"
)
map_keys = st.text(
    st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
leaves = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
metadata = st.dictionaries(map_keys, st.text(max_size=10), max_size=4)
values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children.filter(lambda v: v not in ({}, [])), min_size=1, max_size=3),
        st.dictionaries(names, children, min_size=1, max_size=3),
    ),
    max_leaves=12,
)
params = st.builds(
    lambda body, meta: {**body, **({"metadata": meta} if meta else {})},
    st.dictionaries(names, values, max_size=5),
    metadata,
)


@settings(max_examples=150)
@given(params)
def test_decode_inverts_stripe_python_encoding(params: dict[str, Any]) -> None:
    """decode(encode(p)) gives p back, with every leaf as the string that was sent."""
    expected = wire(params)
    assert decode(encode(params)) == ({} if expected is _MISSING else expected)


def test_metadata_keys_that_are_digits_stay_hash_keys() -> None:
    """metadata[0]=x is a hash key, not a list index (schema-aware decoding)."""
    assert decode("metadata[0]=x&metadata[1]=y") == {"metadata": {"0": "x", "1": "y"}}
    assert decode("items[0][metadata][0]=x") == {"items": [{"metadata": {"0": "x"}}]}


def test_indexed_arrays_and_nested_hashes() -> None:
    """Indexed arrays become lists, brackets become nested dicts, blanks stay blank."""
    body = "expand[0]=a&expand[1]=b&items[0][price]=p&items[1][quantity]=2&discounts=&a[b][c]=1"
    assert decode(body) == {
        "expand": ["a", "b"],
        "items": [{"price": "p"}, {"quantity": "2"}],
        "discounts": "",
        "a": {"b": {"c": "1"}},
    }


def test_legacy_empty_brackets_append() -> None:
    """The legacy a[]=x form appends, as Stripe accepts it."""
    assert decode("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}


def test_top_level_digit_keys_stay_keys() -> None:
    """Digit names at the top level are parameter names, not a list."""
    assert decode("0=a&1=b") == {"0": "a", "1": "b"}


def test_sparse_indexes_stay_a_hash() -> None:
    """Absurdly sparse indexes do not allocate a huge list."""
    assert decode("a[999999]=x") == {"a": {"999999": "x"}}


def test_empty_body() -> None:
    """No body, no parameters."""
    assert decode("") == {}

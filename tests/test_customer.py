"""CustomerSnapshot: the few customer facts offers may be segmented by."""

from __future__ import annotations

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import CustomerSnapshot
from cancelflow.exceptions import CancelflowError, StripeObjectError
from recording import NOW, customer_json


def test_from_stripe_keeps_segment_facts_only():
    """Country, locales, created and metadata are kept; no e-mail or name."""
    snap = CustomerSnapshot.from_stripe(customer_json(country="fr"))
    assert snap == CustomerSnapshot(
        id="cus_1",
        created=NOW - 400 * 86_400,
        country="FR",
        preferred_locales=("fr", "en"),
        metadata={"plan": "pro"},
    )
    assert snap.preferred_locale == "fr"
    assert "jenny" not in repr(snap).lower()
    assert not hasattr(snap, "email")


def test_stripe_object_parses_like_dict():
    """A stripe-python Customer gives the same snapshot as its JSON."""
    data = customer_json()
    assert CustomerSnapshot.from_stripe(
        stripe.convert_to_stripe_object(data)
    ) == CustomerSnapshot.from_stripe(data)


def test_no_address_and_no_locales():
    """A customer without address or locales has no country and no locale."""
    data = {**customer_json(country=None), "preferred_locales": None}
    snap = CustomerSnapshot.from_stripe(data)
    assert snap.country is None
    assert snap.preferred_locales == ()
    assert snap.preferred_locale is None


def test_deleted_customer():
    """Stripe's deleted-customer stub parses with deleted=True and no tenure."""
    snap = CustomerSnapshot.from_stripe(
        {"id": "cus_1", "object": "customer", "deleted": True}
    )
    assert snap.deleted
    assert snap.tenure_days(NOW) is None


def test_tenure_days():
    """Tenure is whole days since creation, never negative."""
    snap = CustomerSnapshot(id="cus_1", created=NOW)
    assert snap.tenure_days(NOW + 86_399) == 0
    assert snap.tenure_days(NOW + 10 * 86_400) == 10
    assert snap.tenure_days(NOW - 86_400) == 0


@pytest.mark.parametrize(
    ("over", "path"),
    [
        ({"object": "subscription"}, "customer.object"),
        ({"created": None}, "customer.created"),
        ({"preferred_locales": ["fr", 3]}, "customer.preferred_locales[1]"),
        ({"address": "FR"}, "customer.address"),
        ({"metadata": {"a": 1}}, "customer.metadata.a"),
    ],
)
def test_bad_shapes(over, path):
    """Bad fields raise StripeObjectError naming the path."""
    with pytest.raises(StripeObjectError) as info:
        CustomerSnapshot.from_stripe({**customer_json(), **over})
    assert info.value.path == path


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "object",
                "created",
                "address",
                "preferred_locales",
                "metadata",
                "deleted",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=4),
            st.lists(st.text(max_size=3) | st.integers(), max_size=2),
            st.dictionaries(
                st.sampled_from(["country", "x"]), st.text(max_size=3) | st.none()
            ),
        ),
    )
)
def test_any_shape_parses_or_raises_cancelflow_error(data):
    """Any customer-shaped dict parses or raises CancelflowError, never KeyError/TypeError."""
    try:
        snap = CustomerSnapshot.from_stripe(data)
    except CancelflowError:
        return
    assert snap.id == data["id"]

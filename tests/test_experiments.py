"""Experiments: the documented bucketing hash, arm ranges, shares and validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cancelflow import Arm, Experiment, Offer, experiment_bucket
from cancelflow.exceptions import InvalidParameterError, PolicyError

# Fixed vectors of bucketing v1. They must never change: a change would move
# customers between arms of running experiments.
VECTORS = [
    ("monthly-2026", "cus_NffrFeUfNV2Hib", 6020),
    ("monthly-2026", "cus_1", 6317),
    ("q3", "cus_1", 297),
    ("", "", 1850),
    ("é", "cus_ü", 3074),
    ("ab", "c", 923),
    ("a", "bc", 3302),
]


@pytest.mark.parametrize(("salt", "customer", "bucket"), VECTORS)
def test_known_vectors(salt, customer, bucket):
    """experiment_bucket gives the published value for each fixed vector."""
    assert experiment_bucket(salt, customer) == bucket


@pytest.mark.parametrize(("salt", "customer"), [(None, "cus_1"), ("s", 42)])
def test_bucket_of_a_non_string_is_refused(salt, customer):
    """experiment_bucket refuses a non-string salt or id with InvalidParameterError."""
    with pytest.raises(InvalidParameterError):
        experiment_bucket(salt, customer)


def test_length_prefix_separates_salt_and_id():
    """("ab", "c") and ("a", "bc") land in different buckets (no concatenation)."""
    assert experiment_bucket("ab", "c") != experiment_bucket("a", "bc")


@settings(max_examples=200)
@given(st.text(), st.text())
def test_bucket_matches_the_written_spec(salt, customer):
    """The bucket is SHA-256 over length-prefixed UTF-8, 8 bytes big-endian, mod 10,000."""
    import hashlib

    def prefixed(text: str) -> bytes:
        data = text.encode("utf-8", "surrogatepass")
        return len(data).to_bytes(4, "big") + data

    digest = hashlib.sha256(prefixed(salt) + prefixed(customer)).digest()
    expected = int.from_bytes(digest[:8], "big") % 10_000
    assert experiment_bucket(salt, customer) == expected
    assert 0 <= expected < 10_000


def test_experiment_uses_its_salt_or_name():
    """An experiment hashes its salt, or its name when it has no salt."""
    named = Experiment("q3", [Arm("a", 1)])
    salted = Experiment("other", [Arm("a", 1)], salt="q3")
    assert named.bucket("cus_1") == salted.bucket("cus_1") == 297
    assert named.effective_salt == "q3"


def test_arms_own_consecutive_ranges():
    """Arms own bucket ranges in order, proportional to their weights."""
    experiment = Experiment(
        "e", [Arm("holdout", 10), Arm("a", 45, Offer("A")), Arm("b", 45, Offer("B"))]
    )
    assert [experiment.share(a) for a in experiment.arms] == [0.1, 0.45, 0.45]
    for customer in (f"cus_{n}" for n in range(500)):
        arm, bucket = experiment.assign(customer)
        expected = "holdout" if bucket < 1_000 else ("a" if bucket < 5_500 else "b")
        assert arm.name == expected


def test_zero_weight_arm_gets_no_one():
    """An arm with weight 0 is never assigned."""
    experiment = Experiment("e", [Arm("off", 0, Offer("X")), Arm("on", 1)])
    assert {experiment.assign(f"cus_{n}")[0].name for n in range(300)} == {"on"}
    assert experiment.share(experiment.arms[0]) == 0


def test_arm_shares_over_100000_ids_are_within_one_percent():
    """Over 100,000 ids, each arm's share is within 1 % of its weight's share."""
    experiment = Experiment(
        "shares",
        [Arm("holdout", 5), Arm("a", 30, Offer("A")), Arm("b", 65, Offer("B"))],
    )
    counts = {arm.name: 0 for arm in experiment.arms}
    for n in range(100_000):
        counts[experiment.assign(f"cus_{n:08d}")[0].name] += 1
    for arm in experiment.arms:
        assert abs(counts[arm.name] / 100_000 - arm.weight / 100) < 0.01


def test_holdout_flag():
    """An arm without an offer is a holdout."""
    assert Arm("h", 1).holdout
    assert not Arm("o", 1, Offer("X")).holdout
    assert Experiment("e", [Arm("h", 1), Arm("o", 1, Offer("X"))]).coupon_ids == {"X"}


@pytest.mark.parametrize(
    ("build", "key_path"),
    [
        (lambda: Arm("", 1), "name"),
        (lambda: Arm("a", -1), "weight"),
        (lambda: Arm("a", 1.5), "weight"),
        (lambda: Arm("a", True), "weight"),
        (lambda: Arm("a", 1, "COUPON"), "offer"),
        (lambda: Experiment("", [Arm("a", 1)]), "name"),
        (lambda: Experiment("e", [Arm("a", 1)], salt=""), "salt"),
        (lambda: Experiment("e", []), "arms"),
        (lambda: Experiment("e", [Arm("a", 0)]), "arms"),
        (lambda: Experiment("e", [Arm("a", 1), Arm("a", 2)]), "arms[1].name"),
        (lambda: Experiment("e", [Arm("a", 1), "b"]), "arms[1]"),
        (lambda: Experiment("e", None), "arms"),
        (lambda: Experiment("e", "ab"), "arms"),
    ],
)
def test_invalid_experiments(build, key_path):
    """Invalid arms and experiments raise PolicyError naming the key."""
    with pytest.raises(PolicyError) as info:
        build()
    assert info.value.key_path == key_path

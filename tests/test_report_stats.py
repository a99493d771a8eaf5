"""The report's intervals: Wilson's for a proportion, Newcombe's hybrid score for a difference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cancelflow import Rate
from cancelflow._reports.stats import Z95, newcombe_interval, wilson_interval

# Newcombe (1998), "Interval estimation for the difference between independent
# proportions", Statistics in Medicine 17:873-890, Table II, method 10.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_TABLE_II)
def test_newcombe_matches_the_published_examples(counts, interval):
    """Method 10 of Newcombe's paper gives his Table II, to four decimals."""
    difference, low, high = newcombe_interval(*counts)
    assert difference == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(low, 4), round(high, 4)) == interval


def test_wilson_matches_a_textbook_value():
    """81 of 263 gives the Wilson interval 0.2553 to 0.3662 (Newcombe 1998's single-proportion example)."""
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert pytest.approx(1.959964) == Z95


def test_no_trials_has_no_interval():
    """Zero trials: no rate and no interval; bad counts are refused."""
    assert wilson_interval(0, 0) is None
    assert newcombe_interval(1, 2, 0, 0) is None
    assert Rate.of(0, 0) == Rate(successes=0, trials=0, rate=None, low=None, high=None)
    with pytest.raises(ValueError, match="between 0 and 3"):
        wilson_interval(4, 3)


@given(st.integers(0, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_rate_within_zero_and_one(counts):
    """The interval holds the observed rate and stays inside [0, 1]."""
    successes, trials = counts
    found = wilson_interval(successes, trials)
    if trials == 0:
        assert found is None
        return
    low, high = found
    assert 0.0 <= low <= successes / trials <= high <= 1.0


@given(
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_newcombe_contains_the_difference_within_minus_one_and_one(first, second):
    """The interval holds the observed difference, inside [-1, 1], and mirrors when the groups swap."""
    difference, low, high = newcombe_interval(*first, *second)
    assert -1.0 - 1e-12 <= low <= difference <= high <= 1.0 + 1e-12
    back = newcombe_interval(*second, *first)
    assert back[1] == pytest.approx(-high) and back[2] == pytest.approx(-low)

"""utils.checks.symptoms: what the difference between a wrong result and the right one suggests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils.checks.framework import Mistake
from utils.checks.symptoms import close, expect_close, likely_cause

RIGHT = np.array([[0.2, -1.3, 0.7], [1.1, 0.4, -0.6], [-0.9, 2.0, 0.3]])


@pytest.mark.parametrize(
    ("got", "phrase"),
    [
        (RIGHT.T, "the right one transposed"),
        (-RIGHT, "the opposite sign everywhere"),
        (RIGHT / 4, "your values are 1/4 times the right ones everywhere: a normalisation is missing or extra"),
        (RIGHT * 2.5, "your values are 2.5 times the right ones"),
        (RIGHT + 0.25, "your values are all 0.25 above the right ones"),
        (RIGHT - 0.5, "your values are all 0.5 below the right ones"),
    ],
    ids=["transposed", "negated", "a quarter", "a factor", "above", "below"],
)
def test_a_recognisable_difference_is_named(got, phrase):
    assert phrase in likely_cause(got, RIGHT)


def test_logarithms_in_another_base_are_named_only_for_logarithms():
    bits = np.array([1.5, 2.25, 0.75])
    assert "the natural logarithm (nats) where the exercise asks for log2 (bits)" in likely_cause(
        bits * math.log(2), bits, logs=True)
    assert "log10 where the exercise asks for log2" in likely_cause(bits * math.log10(2), bits, logs=True)
    assert "normalisation" in likely_cause(bits * math.log(2), bits)


def test_normalised_along_another_axis_is_named():
    scores = np.random.default_rng(0).random((2, 3, 4))
    right = scores / scores.sum(axis=-1, keepdims=True)
    wrong = scores / scores.sum(axis=-2, keepdims=True)
    assert "sum to 1 along axis -2, the right ones along axis -1" in likely_cause(wrong, right)


@pytest.mark.parametrize(
    ("got", "wanted"),
    [(RIGHT, RIGHT), (np.zeros(3), RIGHT[0]), (RIGHT[:2], RIGHT), (np.array([np.nan, 1.0, 2.0]), RIGHT[0]),
     (RIGHT[0], np.zeros(3)), ("text", RIGHT), (np.array([0.3, -0.2, 5.0]), RIGHT[0])],
    ids=["right", "all zero", "another shape", "NaN", "right is zero", "not numbers", "no pattern"],
)
def test_nothing_is_claimed_where_nothing_is_recognisable(got, wanted):
    assert likely_cause(got, wanted) is None


def test_float32_rounding_is_close_and_a_real_difference_is_not():
    assert close(RIGHT.astype(np.float32), RIGHT)
    assert not close(RIGHT + 1e-3, RIGHT)
    assert not close(RIGHT[0], RIGHT)


def test_expect_close_passes_float32_and_names_the_cause_or_the_largest_difference():
    expect_close(RIGHT.astype(np.float32), RIGHT, "your matrix")
    with pytest.raises(Mistake, match=r"^your matrix: your result is the right one transposed.*Hint\.$"):
        expect_close(RIGHT.T, RIGHT, "your matrix", hint="Hint.")
    with pytest.raises(Mistake, match=r"^your matrix is wrong: largest difference 0\.5 at index \(1, 2\)"):
        wrong = RIGHT.copy()
        wrong[1, 2] += 0.5
        expect_close(wrong, RIGHT, "your matrix")
    with pytest.raises(Mistake, match="contains NaN or infinity"):
        expect_close(np.full((3, 3), np.nan), RIGHT, "your matrix")
    with pytest.raises(Mistake, match=r"has shape \(2, 3\), expected \(3, 3\)"):
        expect_close(RIGHT[:2], RIGHT, "your matrix")

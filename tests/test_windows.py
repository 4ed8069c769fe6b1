"""utils.data.windows.make_windows: inputs and targets cut from a series, the target never inside its window."""

from __future__ import annotations

import numpy as np
import pytest

from utils.data.windows import make_windows


def test_windows_and_targets_of_a_short_series():
    X, y = make_windows(np.arange(6), window=3)
    np.testing.assert_array_equal(X, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [3, 4, 5])


def test_horizon_moves_the_target_further_ahead():
    X, y = make_windows(np.arange(10) * 10, window=2, horizon=3)
    np.testing.assert_array_equal(X, [[0, 10], [10, 20], [20, 30], [30, 40], [40, 50], [50, 60]])
    np.testing.assert_array_equal(y, [40, 50, 60, 70, 80, 90])


@pytest.mark.parametrize(
    ("length", "window", "horizon"), [(10, 3, 1), (12, 4, 3), (5, 4, 1), (20, 1, 6), (7, 1, 1)]
)
def test_shapes_and_the_defining_formula(length, window, horizon):
    series = np.random.default_rng(0).normal(size=length)
    X, y = make_windows(series, window, horizon)
    n = length - window - horizon + 1
    assert X.shape == (n, window)
    assert y.shape == (n,)
    for i in range(n):
        np.testing.assert_array_equal(X[i], series[i : i + window])
        assert y[i] == series[i + window + horizon - 1]
    assert y[-1] == series[-1], "the last window must use the final value as its target"


def test_a_target_is_never_inside_its_window():
    X, y = make_windows(np.arange(50, dtype=float), window=7, horizon=1)
    assert np.all(y > X.max(axis=1))


def test_multivariate_series_keeps_its_features():
    series = np.arange(16).reshape(8, 2)
    X, y = make_windows(series, window=3, horizon=2)
    assert X.shape == (4, 3, 2)
    assert y.shape == (4, 2)
    np.testing.assert_array_equal(X[1], series[1:4])
    np.testing.assert_array_equal(y[1], series[5])


def test_accepts_a_list_and_keeps_the_dtype():
    X, y = make_windows([1.5, 2.5, 3.5, 4.5], window=2)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(y, [3.5, 4.5])


def test_input_series_is_not_modified():
    series = np.arange(8.0)
    X, _ = make_windows(series, window=3)
    X[:] = -1.0
    np.testing.assert_array_equal(series, np.arange(8.0))


@pytest.mark.parametrize(
    ("length", "window", "horizon", "needs"),
    [(3, 3, 1, 4), (5, 4, 2, 6), (0, 1, 1, 2), (9, 5, 5, 10)],
)
def test_too_short_series_says_how_many_steps_it_needs(length, window, horizon, needs):
    with pytest.raises(ValueError, match=rf"length {length} is too short.*needs at least {needs} steps"):
        make_windows(np.zeros(length), window, horizon)


@pytest.mark.parametrize("shape", [(), (2, 3, 4)])
def test_series_must_be_one_or_two_dimensional(shape):
    with pytest.raises(ValueError, match=r"shape \(T,\) or \(T, features\)"):
        make_windows(np.zeros(shape), window=1)


@pytest.mark.parametrize(("window", "horizon"), [(0, 1), (-2, 1), (3, 0), (3, -1)])
def test_window_and_horizon_must_be_at_least_one(window, horizon):
    with pytest.raises(ValueError, match=rf"at least 1, got window={window}, horizon={horizon}"):
        make_windows(np.arange(20), window, horizon)

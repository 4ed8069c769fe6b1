"""utils.tasks.forecasting and utils.data.windows.forecast_windows: split, normalisation, windows, baselines, MAE.

The windows are tested on series whose values are their own positions, so that every number
in X and Y says which step it came from: off-by-one errors, targets inside their window and
gaps that are bridged instead of skipped all show up as wrong positions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.tasks.forecasting import (
    denormalise,
    fit_normalisation,
    forecast_mae,
    hour_of_day_features,
    normalise_splits,
    persistence_forecast,
    seasonal_naive_forecast,
    split_by_time,
)
from utils.data.windows import complete_window_starts, forecast_windows, make_windows


def positions(length: int, channels: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Inputs whose channel c holds 100 * c + t at step t, and a target that holds t."""
    steps = np.arange(length, dtype=float)
    return np.stack([steps + 100 * c for c in range(channels)], axis=1), steps.copy()


# Windows --------------------------------------------------------------------------------------


def test_windows_of_a_complete_series():
    inputs, target = positions(10)
    X, Y = forecast_windows(inputs, target, window=3, horizon=2)
    assert X.shape == (6, 3, 2) and Y.shape == (6, 2)
    np.testing.assert_array_equal(X[0], [[0, 100], [1, 101], [2, 102]])
    np.testing.assert_array_equal(Y, [[3, 4], [4, 5], [5, 6], [6, 7], [7, 8], [8, 9]])


@pytest.mark.parametrize(("window", "horizon"), [(1, 1), (3, 1), (4, 3), (24, 24), (7, 5)])
def test_first_target_is_window_plus_horizon_minus_one_steps_after_the_first_input(window, horizon):
    inputs, target = positions(60)
    X, Y = forecast_windows(inputs, target, window, horizon)
    assert X[0, 0, 0] == 0
    assert Y[0, 0] == window, "the first target step follows the window's last step"
    assert Y[0, -1] - X[0, 0, 0] == window + horizon - 1
    assert len(X) == 60 - window - horizon + 1
    assert Y[-1, -1] == 59, "the last window must use the final step as its last target"


def test_a_target_is_never_inside_its_window():
    inputs, target = positions(80)
    X, Y = forecast_windows(inputs, target, window=24, horizon=24)
    assert np.all(Y.min(axis=1) > X[:, :, 0].max(axis=1))
    np.testing.assert_array_equal(np.diff(Y, axis=1), 1.0)  # consecutive steps, in order


def test_one_step_forecast_agrees_with_make_windows():
    inputs, target = positions(30, channels=1)
    X, Y = forecast_windows(inputs, target, window=5, horizon=1)
    X_ref, y_ref = make_windows(target, window=5, horizon=1)
    np.testing.assert_array_equal(X[:, :, 0], X_ref)
    np.testing.assert_array_equal(Y[:, 0], y_ref)


def test_a_one_dimensional_input_is_one_channel():
    _, target = positions(12)
    X, Y = forecast_windows(target, target, window=4, horizon=2)
    assert X.shape == (7, 4, 1) and Y.shape == (7, 2)


def test_gaps_are_skipped_not_bridged():
    inputs, target = positions(20)
    inputs[8] = np.nan  # a missing hour: every channel and the target
    target[8] = np.nan
    X, Y = forecast_windows(inputs, target, window=3, horizon=2)
    # Window i reads i..i+2 and predicts i+3, i+4; step 8 rules out i = 4..8.
    starts = X[:, 0, 0].astype(int)
    np.testing.assert_array_equal(starts, [0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15])
    np.testing.assert_array_equal(X[:, :, 0] - starts[:, None], np.tile(np.arange(3), (len(X), 1)))
    np.testing.assert_array_equal(Y - starts[:, None], np.tile([3, 4], (len(X), 1)))
    assert not np.isnan(X).any() and not np.isnan(Y).any()
    # Bridging would have made a window whose values jump over the gap.
    assert np.all(np.diff(X[:, :, 0], axis=1) == 1)


def test_a_missing_input_channel_skips_the_window_but_a_missing_target_only_where_it_is_a_target():
    inputs, target = positions(12)
    inputs[5, 1] = np.nan  # one companion channel missing at step 5
    starts = complete_window_starts(inputs, target, window=2, horizon=1)
    # Windows 4 and 5 read step 5; window 3 only predicts it, with the target present.
    np.testing.assert_array_equal(starts, [0, 1, 2, 3, 6, 7, 8, 9])
    inputs, target = positions(12)
    target[5] = np.nan  # the target alone is missing at step 5: only windows predicting step 5 go
    starts = complete_window_starts(inputs, target, window=2, horizon=1)
    np.testing.assert_array_equal(starts, [0, 1, 2, 4, 5, 6, 7, 8, 9])


def test_windows_at_the_edges_of_a_gap_are_kept():
    inputs, target = positions(10, channels=1)
    inputs[4], target[4] = np.nan, np.nan
    starts = complete_window_starts(inputs, target, window=2, horizon=2)
    # Window 0 ends its targets at step 3, window 5 starts its inputs at step 5: both are kept.
    np.testing.assert_array_equal(starts, [0, 5, 6])


def test_windows_are_copies():
    inputs, target = positions(10)
    X, Y = forecast_windows(inputs, target, window=3)
    X[:] = -1
    Y[:] = -1
    np.testing.assert_array_equal(inputs, positions(10)[0])


@pytest.mark.parametrize(
    ("length", "window", "horizon", "needs"), [(4, 3, 2, 5), (10, 8, 3, 11), (0, 1, 1, 2)]
)
def test_too_short_series_says_how_many_steps_it_needs(length, window, horizon, needs):
    inputs, target = positions(length)
    with pytest.raises(ValueError, match=rf"length {length} is too short.*at least {needs} steps"):
        forecast_windows(inputs, target, window, horizon)


@pytest.mark.parametrize(("window", "horizon"), [(0, 1), (3, 0), (-1, 2)])
def test_window_and_horizon_must_be_at_least_one(window, horizon):
    with pytest.raises(ValueError, match=r"must be at least 1"):
        forecast_windows(*positions(10), window, horizon)


def test_inputs_and_target_must_have_the_same_length():
    inputs, target = positions(10)
    with pytest.raises(ValueError, match=r"inputs has 10 rows, target 9"):
        forecast_windows(inputs, target[:-1], 3)


def test_target_must_be_one_series():
    inputs, _ = positions(10)
    with pytest.raises(ValueError, match=r"target must be one series.*pick one column"):
        forecast_windows(inputs, inputs, 3)
    with pytest.raises(ValueError, match=r"inputs must have shape"):
        forecast_windows(np.zeros((10, 2, 2)), np.zeros(10), 3)


def test_no_complete_window_is_a_clear_error():
    inputs, target = positions(10)
    target[::3] = np.nan
    with pytest.raises(ValueError, match=r"no window of 3 \+ 3 steps is free of missing values"):
        forecast_windows(inputs, target, window=3, horizon=3)


# Split by time --------------------------------------------------------------------------------


def hourly_frame(start: str = "2013-01-01", hours: int = 24 * 10, tz: str | None = "UTC") -> pd.DataFrame:
    index = pd.date_range(start, periods=hours, freq="h", tz=tz, name="time")
    return pd.DataFrame({"temp_c": np.arange(hours, dtype=float), "wind": 1.0}, index=index)


def test_split_by_time_is_chronological_and_half_open():
    frame = hourly_frame()
    train, validation, test = split_by_time(frame, "2013-01-06", "2013-01-08 12:00")
    assert len(train) + len(validation) + len(test) == len(frame)
    assert train.index[-1] < validation.index[0] and validation.index[-1] < test.index[0]
    assert validation.index[0] == pd.Timestamp("2013-01-06", tz="UTC")
    assert test.index[0] == pd.Timestamp("2013-01-08 12:00", tz="UTC")
    assert train.index[-1] == pd.Timestamp("2013-01-05 23:00", tz="UTC")
    assert len(train) == 5 * 24 and len(validation) == 60


def test_split_boundaries_in_another_time_zone_are_converted():
    frame = hourly_frame()
    _, validation, _ = split_by_time(frame, pd.Timestamp("2013-01-06", tz="America/New_York"), "2013-01-09")
    assert validation.index[0] == pd.Timestamp("2013-01-06 05:00", tz="UTC")


def test_split_of_a_frame_without_time_zone():
    train, _, _ = split_by_time(hourly_frame(tz=None), "2013-01-02", "2013-01-03")
    assert len(train) == 24


@pytest.mark.parametrize(
    ("validation_start", "test_start", "message"),
    [("2013-01-08", "2013-01-06", r"must come before test_start"),
     ("2012-12-01", "2013-01-06", r"the train split is empty"),
     ("2013-01-06", "2013-02-01", r"the test split is empty"),
     ("2013-01-06 00:10", "2013-01-06 00:50", r"the validation split is empty")],
)
def test_bad_boundaries_are_clear_errors(validation_start, test_start, message):
    with pytest.raises(ValueError, match=message):
        split_by_time(hourly_frame(), validation_start, test_start)


def test_split_needs_a_time_index_in_order():
    frame = hourly_frame()
    with pytest.raises(ValueError, match=r"DatetimeIndex"):
        split_by_time(frame.reset_index(drop=True), "2013-01-02", "2013-01-03")
    with pytest.raises(ValueError, match=r"sort it first"):
        split_by_time(frame.iloc[::-1], "2013-01-02", "2013-01-03")
    with pytest.raises(ValueError, match=r"has a time zone but the frame's index has none"):
        split_by_time(hourly_frame(tz=None), pd.Timestamp("2013-01-02", tz="UTC"), "2013-01-03")


# Normalisation --------------------------------------------------------------------------------


def test_statistics_come_from_train_only_and_ignore_missing_values():
    train = np.array([[1.0, 10.0], [3.0, np.nan], [np.nan, 30.0], [5.0, 20.0]])
    mean, std = fit_normalisation(train)
    np.testing.assert_allclose(mean, [3.0, 20.0])
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), np.sqrt(200 / 3)])
    validation, test = np.array([[100.0, 0.0]]), np.array([[-7.0, np.nan], [3.0, 20.0]])
    train_z, validation_z, test_z, mean2, std2 = normalise_splits(train, validation, test)
    np.testing.assert_allclose(mean2, mean)
    np.testing.assert_allclose(validation_z, (validation - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(test_z[1], [0.0, 0.0], atol=1e-7)
    assert np.isnan(test_z[0, 1]) and np.isnan(train_z[1, 1]), "NaN must stay NaN"
    np.testing.assert_allclose(np.nanmean(train_z, axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(np.nanstd(train_z, axis=0), 1.0, rtol=1e-6)


def test_a_constant_channel_gets_std_one():
    mean, std = fit_normalisation(np.array([[2.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_allclose(std, [1.0, 1.0])
    np.testing.assert_allclose(mean, [2.0, 2.0])


def test_denormalise_undoes_normalise():
    rng = np.random.default_rng(0)
    splits = [rng.normal(15, 8, (n, 3)) for n in (50, 20, 20)]
    train_z, validation_z, test_z, mean, std = normalise_splits(*splits)
    for original, scaled in zip(splits, (train_z, validation_z, test_z), strict=True):
        np.testing.assert_allclose(denormalise(scaled, mean, std), original, rtol=1e-5)


def test_normalise_accepts_data_frames():
    frame = hourly_frame()
    train, validation, test = split_by_time(frame, "2013-01-06", "2013-01-08")
    train_z, *_ = normalise_splits(train, validation, test)
    assert train_z.shape == train.shape


def test_normalisation_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"channel\(s\) \[1\] of train hold no values"):
        fit_normalisation(np.array([[1.0, np.nan], [2.0, np.nan]]))
    with pytest.raises(ValueError, match=r"shape \(T, channels\)"):
        fit_normalisation(np.zeros(5))
    with pytest.raises(ValueError, match=r"the same channels"):
        normalise_splits(np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((4, 2)))


# Baselines and MAE ----------------------------------------------------------------------------


def test_persistence_repeats_the_last_value_of_the_target_channel():
    inputs, target = positions(40)
    X, Y = forecast_windows(inputs, target, window=24, horizon=3)
    forecast = persistence_forecast(X, channel=0, horizon=3)
    assert forecast.shape == Y.shape
    np.testing.assert_array_equal(forecast, np.repeat(Y[:, :1] - 1, 3, axis=1))
    np.testing.assert_array_equal(persistence_forecast(X, channel=1, horizon=1)[:, 0], X[:, -1, 1])


@pytest.mark.parametrize(("window", "horizon"), [(24, 1), (24, 24), (48, 24), (30, 5)])
def test_seasonal_naive_is_the_same_hour_one_period_earlier(window, horizon):
    inputs, target = positions(120)
    X, Y = forecast_windows(inputs, target, window, horizon)
    forecast = seasonal_naive_forecast(X, channel=0, horizon=horizon)
    assert forecast.shape == Y.shape
    np.testing.assert_array_equal(forecast, Y - 24)


def test_seasonal_naive_with_another_period():
    inputs, target = positions(40)
    X, Y = forecast_windows(inputs, target, window=10, horizon=3)
    np.testing.assert_array_equal(seasonal_naive_forecast(X, 0, horizon=3, period=7), Y - 7)


def test_baselines_are_computed_on_the_same_windows_as_the_targets():
    inputs, target = positions(100)
    target[50] = np.nan
    inputs[50] = np.nan
    X, Y = forecast_windows(inputs, target, window=24, horizon=2)
    np.testing.assert_array_equal(persistence_forecast(X, 0, 2)[:, 0], Y[:, 0] - 1)
    np.testing.assert_array_equal(seasonal_naive_forecast(X, 0, 2), Y - 24)


def test_baseline_errors_name_the_problem():
    X = np.zeros((5, 12, 2))
    with pytest.raises(ValueError, match=r"fewer than period=24"):
        seasonal_naive_forecast(X, 0, horizon=1)
    with pytest.raises(ValueError, match=r"between 1 and period=24"):
        seasonal_naive_forecast(np.zeros((5, 48, 2)), 0, horizon=25)
    with pytest.raises(ValueError, match=r"channel=2 does not exist: the windows have 2 channels"):
        persistence_forecast(X, channel=2)
    with pytest.raises(ValueError, match=r"shape \(n, window, channels\)"):
        persistence_forecast(np.zeros((5, 12)), channel=0)
    with pytest.raises(ValueError, match=r"horizon must be at least 1"):
        persistence_forecast(X, channel=0, horizon=0)


def test_mae_is_in_the_data_units():
    truth = np.array([[0.0, 1.0], [2.0, -1.0]])
    prediction = truth + np.array([[0.5, -1.0], [0.0, 0.5]])
    assert forecast_mae(prediction, truth, mean=12.0, std=4.0) == pytest.approx(4.0 * 2.0 / 4)
    np.testing.assert_allclose(forecast_mae(prediction, truth, 12.0, 4.0, per_step=True), [1.0, 3.0])
    assert forecast_mae(truth, truth, 12.0, 4.0) == 0.0


def test_mae_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"\(4, 1\) but truth \(4,\).*broadcast"):
        forecast_mae(np.zeros((4, 1)), np.zeros(4), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"mean\[channel\], std\[channel\]"):
        forecast_mae(np.zeros(4), np.zeros(4), np.zeros(3), np.ones(3))


def test_hour_of_day_features_are_a_circle():
    index = pd.date_range("2013-03-01", periods=48, freq="h", tz="UTC")
    features = hour_of_day_features(index)
    assert features.shape == (48, 2)
    np.testing.assert_allclose(np.hypot(features[:, 0], features[:, 1]), 1.0)
    np.testing.assert_allclose(features[0], [0.0, 1.0], atol=1e-12)  # midnight
    np.testing.assert_allclose(features[6], [1.0, 0.0], atol=1e-12)  # 06:00
    np.testing.assert_allclose(features[:24], features[24:])
    local = hour_of_day_features(index.tz_convert("America/New_York"))
    np.testing.assert_allclose(local[5], [0.0, 1.0], atol=1e-12)  # 05:00 UTC is midnight in New York (EST)
    with pytest.raises(ValueError, match=r"DatetimeIndex"):
        hour_of_day_features(pd.RangeIndex(3))

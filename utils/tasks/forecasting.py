"""Forecasting an hourly series: a chronological split, train-only normalisation, baselines, MAE.

The order matters and each step guards against a leak from the future:

1. :func:`split_by_time` cuts the hourly frame at two dates, so validation and test follow
   the training period (no shuffling: neighbouring hours are nearly equal).
2. :func:`normalise_splits` fits one mean and standard deviation per channel on the
   training split only and applies them to all three splits.
3. :func:`utils.data.windows.forecast_windows` cuts each split into input windows and targets.
4. :func:`persistence_forecast` and :func:`seasonal_naive_forecast` read their forecasts from
   those same windows, so every model is scored on exactly the same targets, and
   :func:`forecast_mae` scores them in the data's own units (°C) after undoing the
   normalisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.data.sequences import standardise


def split_by_time(
    frame: pd.DataFrame, validation_start: str | pd.Timestamp, test_start: str | pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cut a time-indexed frame into ``(train, validation, test)`` at two boundaries.

    Train is every row before ``validation_start``, validation the rows from
    ``validation_start`` up to (not including) ``test_start``, test the rows from
    ``test_start`` on. Boundaries without a time zone are read in the index's time zone
    (UTC for :func:`utils.data.loaders.load_nyc_weather`).
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError(f"frame needs a DatetimeIndex (one timestamp per row), "
                         f"got {type(frame.index).__name__}.")
    if not frame.index.is_monotonic_increasing:
        raise ValueError("frame's index is not in time order: sort it first (frame.sort_index()).")
    bounds = []
    for name, value in (("validation_start", validation_start), ("test_start", test_start)):
        stamp = pd.Timestamp(value)
        if frame.index.tz is not None:
            zone = frame.index.tz
            stamp = stamp.tz_localize(zone) if stamp.tz is None else stamp.tz_convert(zone)
        elif stamp.tz is not None:
            raise ValueError(f"{name}={value!r} has a time zone but the frame's index has none.")
        bounds.append(stamp)
    validation_at, test_at = bounds
    if not validation_at < test_at:
        raise ValueError(f"validation_start ({validation_at}) must come before test_start ({test_at}).")
    parts = (frame[frame.index < validation_at],
             frame[(frame.index >= validation_at) & (frame.index < test_at)],
             frame[frame.index >= test_at])
    for name, part in zip(("train", "validation", "test"), parts, strict=True):
        if part.empty:
            raise ValueError(f"the {name} split is empty: the frame runs from {frame.index[0]} to "
                             f"{frame.index[-1]}; choose boundaries inside that range.")
    return parts


def fit_normalisation(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel (column) of ``train``, ignoring NaN.

    A channel that is constant in training gets a standard deviation of 1, so that
    normalising never divides by zero.
    """
    train = np.asarray(train, dtype=np.float64)
    if train.ndim != 2:
        raise ValueError(f"train must have shape (T, channels), got {train.shape}.")
    empty = np.flatnonzero(np.all(np.isnan(train), axis=0))
    if len(empty):
        raise ValueError(f"channel(s) {empty.tolist()} of train hold no values (all NaN): drop them "
                         "or choose a training period where they were recorded.")
    mean, std = np.nanmean(train, axis=0), np.nanstd(train, axis=0)
    return mean, np.where(std > 0, std, 1.0)


def normalise_splits(
    train: np.ndarray, validation: np.ndarray, test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(train_z, validation_z, test_z, mean, std)``: all splits scaled with the train statistics.

    Each split has shape ``(T_split, channels)``; ``x_z = (x - mean) / std`` per channel with
    ``mean`` and ``std`` from :func:`fit_normalisation` on ``train``. NaN stays NaN.
    """
    arrays = [np.asarray(split, dtype=np.float64) for split in (train, validation, test)]
    widths = {array.shape[1:] for array in arrays}
    if len(widths) != 1 or arrays[0].ndim != 2:
        raise ValueError("train, validation and test must each have shape (T, channels) with the same "
                         f"channels; got {[array.shape for array in arrays]}.")
    mean, std = fit_normalisation(arrays[0])
    train_z, validation_z, test_z = standardise(arrays, mean, std)
    return train_z, validation_z, test_z, mean, std


def denormalise(values_z: np.ndarray, mean: float | np.ndarray, std: float | np.ndarray) -> np.ndarray:
    """Undo the normalisation: ``values_z * std + mean`` (back to the data's units)."""
    return np.asarray(values_z, dtype=np.float64) * std + mean


def forecast_mae(
    prediction_z: np.ndarray, truth_z: np.ndarray, mean: float, std: float, *, per_step: bool = False
) -> float | np.ndarray:
    """Mean absolute error in the data's units of normalised forecasts ``(n, horizon)``.

    Both arrays are denormalised with the target channel's ``mean`` and ``std`` first.
    ``per_step=True`` returns one MAE per forecast step (column) instead of their mean.
    """
    prediction_z, truth_z = np.asarray(prediction_z), np.asarray(truth_z)
    if prediction_z.shape != truth_z.shape:
        raise ValueError(f"prediction has shape {prediction_z.shape} but truth {truth_z.shape}: they must "
                         "match exactly (a (n, 1) against (n,) pair would broadcast to (n, n)).")
    if np.ndim(mean) != 0 or np.ndim(std) != 0:
        raise ValueError("mean and std must be the target channel's two numbers (mean[channel], "
                         f"std[channel]), got shapes {np.shape(mean)} and {np.shape(std)}.")
    errors = np.abs(denormalise(prediction_z, mean, std) - denormalise(truth_z, mean, std))
    if per_step:
        return errors.reshape(len(errors), -1).mean(axis=0)
    return float(errors.mean())


def _target_channel(X: np.ndarray, channel: int) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must hold windows of shape (n, window, channels), got {X.shape}.")
    if not -X.shape[2] <= channel < X.shape[2]:
        raise ValueError(f"channel={channel} does not exist: the windows have {X.shape[2]} channels.")
    return X[:, :, channel]


def persistence_forecast(X: np.ndarray, channel: int, horizon: int = 1) -> np.ndarray:
    """Forecast every one of the next ``horizon`` steps as the last value in the window.

    Returns ``(n, horizon)``, read from channel ``channel`` of the windows ``X``.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}.")
    last = _target_channel(X, channel)[:, -1]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive_forecast(X: np.ndarray, channel: int, horizon: int = 1, period: int = 24) -> np.ndarray:
    """Forecast each of the next ``horizon`` steps as the value one ``period`` earlier.

    With hourly data and ``period=24``: the same hour yesterday. Step ``k`` (0-based) after a
    window of length ``w`` is forecast by the window's step ``w - period + k``, so the window
    must be at least ``period`` long and ``horizon`` at most ``period``.
    """
    values = _target_channel(X, channel)
    window = values.shape[1]
    if not 1 <= horizon <= period:
        raise ValueError(f"horizon must be between 1 and period={period}, got {horizon}: beyond one "
                         "period the value a period earlier is not in the window yet.")
    if window < period:
        raise ValueError(f"the windows hold {window} steps, fewer than period={period}: the value one "
                         "period before the first forecast step is not in them. Use a longer window.")
    return values[:, window - period : window - period + horizon]


def hour_of_day_features(index: pd.DatetimeIndex) -> np.ndarray:
    """Hour of day as a point on a circle, ``(T, 2)``: ``sin`` and ``cos`` of ``2 pi hour / 24``.

    23:00 and 00:00 end up as close as 00:00 and 01:00. The hour is read in the index's time
    zone (convert it to local time first if the daily cycle should follow the clock).
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"index must be a DatetimeIndex, got {type(index).__name__}.")
    angle = 2 * np.pi * (index.hour.to_numpy() + index.minute.to_numpy() / 60) / 24
    return np.stack([np.sin(angle), np.cos(angle)], axis=1)

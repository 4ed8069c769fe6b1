"""Sliding windows over a time series, for many-to-one forecasting.

:func:`make_windows` cuts a complete series (chapter 1); :func:`forecast_windows` cuts
several input channels and a multi-step target from a series with missing values, skipping
every window that touches one (chapter 5).
"""

from __future__ import annotations

import numpy as np


def make_windows(series: np.ndarray, window: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``series`` into input windows and the value ``horizon`` steps after each.

    For a series of length ``T`` (shape ``(T,)`` or ``(T, features)``) this returns
    ``X`` of shape ``(n, window, ...)`` and ``y`` of shape ``(n, ...)`` with
    ``n = T - window - horizon + 1``, where ``X[i] = series[i : i + window]`` and
    ``y[i] = series[i + window + horizon - 1]``: the target is never inside its window.
    """
    series = np.asarray(series)
    if series.ndim not in (1, 2):
        raise ValueError(f"series must have shape (T,) or (T, features), got {series.shape}.")
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be at least 1, got window={window}, horizon={horizon}.")
    n = len(series) - window - horizon + 1
    if n < 1:
        raise ValueError(
            f"a series of length {len(series)} is too short for window={window} and "
            f"horizon={horizon}: it needs at least {window + horizon} steps."
        )
    starts = np.arange(n)
    X = series[starts[:, None] + np.arange(window)[None, :]]
    y = series[starts + window + horizon - 1]
    return X, y


def _as_2d(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as an array ``(T, channels)``; a 1-D series becomes one channel."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{name} must have shape (T,) or (T, channels), got {values.shape}.")
    return values


def complete_window_starts(
    inputs: np.ndarray, target: np.ndarray, window: int, horizon: int = 1
) -> np.ndarray:
    """Start positions of the forecasting windows that touch no missing value (NaN).

    Window ``i`` reads the inputs at steps ``i .. i + window - 1`` and predicts the target at
    steps ``i + window .. i + window + horizon - 1``. It is kept when none of those inputs (any
    channel) and none of those targets is NaN. Windows are skipped, never bridged: a position
    ``i`` always refers to the same steps of the original series, gaps or not.
    """
    inputs = _as_2d(inputs, "inputs")
    target = np.asarray(target)
    if target.ndim != 1:
        raise ValueError(f"target must be one series of shape (T,), got {target.shape}: pick one column.")
    if len(inputs) != len(target):
        raise ValueError(f"inputs and target must cover the same steps: inputs has {len(inputs)} rows, "
                         f"target {len(target)}. Take both from the same rows of one frame.")
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be at least 1, got window={window}, horizon={horizon}.")
    n = len(target) - window - horizon + 1
    if n < 1:
        raise ValueError(f"a series of length {len(target)} is too short for window={window} and "
                         f"horizon={horizon}: it needs at least {window + horizon} steps.")
    # Running counts of missing steps: bad[a:b].sum() == counts[b] - counts[a].
    bad_inputs = np.concatenate([[0], np.cumsum(np.isnan(inputs.astype(float)).any(axis=1))])
    bad_target = np.concatenate([[0], np.cumsum(np.isnan(target.astype(float)))])
    starts = np.arange(n)
    inputs_ok = bad_inputs[starts + window] == bad_inputs[starts]
    target_ok = bad_target[starts + window + horizon] == bad_target[starts + window]
    return starts[inputs_ok & target_ok]


def forecast_windows(
    inputs: np.ndarray, target: np.ndarray, window: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Input windows of several channels and the next ``horizon`` values of a target series.

    ``inputs`` has shape ``(T, channels)`` (or ``(T,)``) and ``target`` shape ``(T,)``, NaN
    where a value is missing. Returns ``X`` of shape ``(n, window, channels)`` and ``Y`` of
    shape ``(n, horizon)`` with ``X[j] = inputs[i : i + window]`` and
    ``Y[j, k] = target[i + window + k]`` for the ``j``-th start ``i`` of
    :func:`complete_window_starts`: only windows without a missing value are kept, and the
    target always starts the step after its window ends.
    """
    starts = complete_window_starts(inputs, target, window, horizon)
    if len(starts) == 0:
        raise ValueError(f"no window of {window} + {horizon} steps is free of missing values (NaN): "
                         "use a shorter window, or a stretch of the series with fewer gaps.")
    inputs, target = _as_2d(inputs, "inputs"), np.asarray(target)
    X = inputs[starts[:, None] + np.arange(window)[None, :]]
    Y = target[starts[:, None] + window + np.arange(horizon)[None, :]]
    return X, Y

"""Sliding windows over a time series, for many-to-one forecasting."""

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

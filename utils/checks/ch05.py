"""Checkers for chapter 5: sequence tasks on real data.

Exercises 5.1 and 5.2 (forecasting) come first: a normalisation fitted on the training split
only (5.1), and windows with a multi-step target over a series with gaps (5.2; its checker is
written first in this file because 5.1's reuses nothing from it). Later exercises
(sequence classification and labelling) follow in their own section below.

The forecasting checkers feed series whose values are their own positions (channel ``c``
holds ``t + 100 c`` at step ``t``), so that every number in the learner's answer says which
step it came from, and the diagnostic can say "the target is inside its window" or "this
window jumps over a gap" rather than only "wrong values". A last case of random readings
makes an answer that builds its windows from the step numbers rather than the data fail, and
a case with 1-D inputs covers the other input form the exercise allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from utils.checks.framework import Mistake, as_array, call, checker, expect_shape, kind_of, named_mistake
from utils.checks.symptoms import ATOL, RTOL, expect_close
from utils.tasks.forecasting import fit_normalisation
from utils.tasks.labelling import precision_recall_f1, word_start_labels
from utils.data.windows import complete_window_starts, forecast_windows

# Exercises 5.1 and 5.2: forecasting ==============================================================

# Exercise 5.2 (windows) ------------------------------------------------------------------------

_CHANNEL_STEP = 100.0  # channel c holds t + 100 c at step t
_TARGET_OFFSET = 1000.0  # a target series distinct from the inputs holds t + 1000


def _window_case(length: int, channels: int, *, gap_rows: tuple[int, ...] = (),
                 gap_channel: tuple[int, ...] = (), distinct_target: bool = False, one_d: bool = False,
                 random: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and target that hold their own positions, with NaN where a case puts a gap.

    ``gap_rows`` are missing hours (every channel and the target), ``gap_channel`` steps where
    only the last input channel is missing (a companion reading, while the target is present).
    ``one_d`` gives the inputs of one channel as a 1-D array ``(T,)``, as the exercise allows;
    ``random`` (a seed) gives random readings instead of positions, so that an answer that builds
    its windows from the step numbers rather than from the data fails.
    """
    steps = np.arange(length, dtype=float)
    inputs = np.stack([steps + _CHANNEL_STEP * c for c in range(channels)], axis=1)
    target = steps + (_TARGET_OFFSET if distinct_target else 0.0)
    if random is not None:
        rng = np.random.default_rng(random)
        inputs, target = np.round(rng.normal(0.0, 1.0, (length, channels)), 3), np.round(rng.normal(0.0, 1.0, length), 3)
    for row in gap_rows:
        inputs[row], target[row] = np.nan, np.nan
    for row in gap_channel:
        inputs[row, -1] = np.nan
    return (inputs[:, 0] if one_d else inputs), target


_WINDOW_CASES = [
    # length, channels, window, horizon, gaps, what the case is, in words
    (12, 2, 3, 1, {}, "a complete series of 12 steps, 2 channels, window=3, horizon=1"),
    (15, 3, 4, 3, {}, "a complete series of 15 steps, 3 channels, window=4, horizon=3"),
    (20, 2, 3, 2, {"gap_rows": (9,)}, "20 steps with a missing hour at step 9, window=3, horizon=2"),
    (16, 2, 2, 2, {"gap_channel": (6,)},
     "16 steps where only channel 1 is missing at step 6 (the target is present), window=2, horizon=2"),
    (10, 1, 1, 1, {"distinct_target": True}, "a target that is not one of the inputs, window=1, horizon=1"),
    (30, 2, 4, 3, {"gap_rows": (0, 14, 15, 29)},
     "30 steps missing at steps 0, 14, 15 and 29 (both ends and a two-hour gap), window=4, horizon=3"),
    (14, 1, 3, 2, {"gap_rows": (6,), "distinct_target": True, "one_d": True},
     "1-D inputs of shape (14,) (one channel) with a missing hour at step 6, window=3, horizon=2"),
    (25, 3, 3, 2, {"gap_rows": (8,), "gap_channel": (16,), "random": 52},
     "25 steps of random readings (not their positions), 3 channels, missing at step 8 and channel 2 at "
     "step 16, window=3, horizon=2"),
]


def _pair_of_arrays(result: Any, on: str) -> tuple[np.ndarray, np.ndarray]:
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the pair (X, Y)?")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake(f"return the pair (X, Y), two arrays; you returned {kind_of(result)} ({on}).")
    return as_array(result[0], "X"), as_array(result[1], "Y")


def _window_shapes(X: np.ndarray, Y: np.ndarray, window: int, horizon: int, channels: int, on: str) -> None:
    """Name the shape mistakes: channels dropped or transposed, Y without its steps axis."""
    if X.ndim == 3 and X.shape[1:] == (channels, window) and channels != window:
        raise Mistake(f"X has shape {X.shape}: each window must be (window, channels) = ({window}, {channels}), "
                      f"time first and channels last, as Keras's recurrent layers read it ({on}).")
    if X.ndim != 3 or X.shape[1:] != (window, channels):
        raise Mistake(f"X has shape {X.shape}, expected (n, window, channels) = (n, {window}, {channels}): "
                      f"every window keeps all the input channels ({on}).")
    if Y.ndim == 1:
        if horizon == 1:
            raise Mistake(f"Y has shape {Y.shape}: keep one column per forecast step, shape (n, horizon) = "
                          f"(n, 1) here, so that 1-step and 24-step forecasts have the same layout ({on}).")
        raise Mistake(f"Y has one value per window, but horizon={horizon} asks for the next {horizon} steps: "
                      f"Y[i] = target[start + window : start + window + horizon], shape (n, {horizon}) ({on}).")
    if Y.ndim != 2 or Y.shape[1] != horizon:
        raise Mistake(f"Y has shape {Y.shape}, expected (n, horizon) = (n, {horizon}): one column per "
                      f"forecast step ({on}).")
    if len(X) != len(Y):
        raise Mistake(f"X holds {len(X)} windows but Y {len(Y)} targets: one row of Y per window ({on}).")


def _window_starts(X: np.ndarray, window: int, channels: int, on: str) -> np.ndarray | None:
    """The step each window starts at, read from its values; ``None`` if they are not positions."""
    first = X[:, :, 0]
    expected_channels = first[:, :, None] + _CHANNEL_STEP * np.arange(channels)[None, None, :]
    if not np.allclose(X, expected_channels) or not np.allclose(first, np.round(first)):
        return None
    steps = np.diff(first, axis=1)
    if window > 1 and np.any(steps > 1):
        j = int(np.argwhere(steps > 1)[0][0])
        raise Mistake(f"window {j} jumps over a gap: it reads steps {first[j].astype(int).tolist()}. Removing "
                      "the missing rows and then cutting windows glues the hours before and after a gap "
                      "together; keep every row and skip the windows that touch a missing value instead "
                      f"({on}).")
    if window > 1 and not np.all(steps == 1):
        return None
    return first[:, 0].astype(int)


def _target_alignment(Y: np.ndarray, starts: np.ndarray, window: int, horizon: int, distinct: bool,
                      on: str) -> None:
    """Name the mistakes in where each row of Y starts and how its steps follow each other."""
    if distinct and np.all(Y < _TARGET_OFFSET - 0.5):
        raise Mistake(f"Y holds values of the inputs, not of `target`: read the targets from the target "
                      f"series you are given ({on}; the inputs here hold their own step numbers, so Y may "
                      "also be step numbers that were never looked up in `target`).")
    positions = Y - (_TARGET_OFFSET if distinct else 0.0)
    if horizon > 1:
        steps = np.diff(positions, axis=1)
        if np.allclose(steps, -1):
            raise Mistake(f"the forecast steps of Y are in reverse order: Y[i, k] is the target k + 1 steps "
                          f"after the window, k = 0 .. horizon - 1 ({on}).")
        if np.allclose(steps, 0):
            raise Mistake(f"every column of Y holds the same value: Y[i, k] is the target k + 1 steps after "
                          f"the window, so the {horizon} columns are {horizon} consecutive steps ({on}).")
    offsets = positions[:, 0] - (starts + window)
    if np.allclose(offsets, offsets[0]) and offsets[0] != 0:
        offset = int(round(offsets[0]))
        first = f"for the window of steps {starts[0]}..{starts[0] + window - 1} the first target is step " \
                f"{starts[0] + window}, you gave step {starts[0] + window + offset}"
        if offset < 0:
            raise Mistake(f"the target is inside its window (the leak that gives the model the answer): {first}. "
                          f"Y[i] = target[start + window : start + window + horizon] ({on}).")
        if horizon > 1 and offset == horizon - 1:
            raise Mistake(f"your targets start horizon - 1 = {offset} steps late: {first}. In chapter 1 the "
                          "horizon said how far ahead one target lay; here Y holds all the next `horizon` "
                          f"steps, the first one right after the window ({on}).")
        raise Mistake(f"the targets are off by {offset:+d} step{'s' if abs(offset) > 1 else ''}: {first} "
                      f"({on}).")


def _window_selection(starts: np.ndarray, expected: np.ndarray, length: int, window: int, horizon: int,
                      on: str) -> None:
    """Name the mistakes in which windows were kept: the last one, one too many skipped, order."""
    if np.array_equal(np.sort(starts), expected) and not np.array_equal(starts, expected):
        raise Mistake(f"your windows are not in time order: keep them sorted by their start ({on}).")
    missing = np.setdiff1d(expected, starts)
    extra = np.setdiff1d(starts, expected)
    if len(missing):
        start = int(missing[-1] if missing[-1] == expected[-1] else missing[0])
        if start == length - window - horizon:
            raise Mistake(f"the last window is missing: it starts at step {start} and its last target is the "
                          f"series' final step {length - 1}. Starts run from 0 to length - window - horizon "
                          f"inclusive ({on}).")
        raise Mistake(f"you skipped the window that starts at step {start}, but its inputs (steps {start}.."
                      f"{start + window - 1}, every channel) and its targets (steps {start + window}.."
                      f"{start + window + horizon - 1}, target only) have no missing value. Check the inputs "
                      f"over the window's steps and the target over the forecast steps ({on}).")
    if len(extra):
        start = int(extra[0])
        raise Mistake(f"you kept the window that starts at step {start}, which touches a missing value: skip "
                      f"every window whose inputs or targets contain NaN ({on}).")


def _read_from_steps(X: np.ndarray, Y: np.ndarray, inputs: np.ndarray, target: np.ndarray, starts: np.ndarray,
                     window: int, horizon: int, on: str) -> None:
    """On readings that are not positions: name windows built from step numbers or from the wrong series."""
    steps = np.arange(window)[None, :] + starts[:, None]
    futures = np.arange(horizon)[None, :] + starts[:, None] + window
    if X.shape[:2] == steps.shape and np.allclose(X, steps[:, :, None]):
        raise Mistake(f"X holds step numbers (i, i + 1, ...), not the readings: X[j] = inputs[i : i + window] "
                      f"for the j-th complete window i ({on}).")
    if Y.shape == futures.shape:
        if np.allclose(Y, futures):
            raise Mistake(f"Y holds step numbers (i + window, ...), not the values of `target`: Y[j] = "
                          f"target[i + window : i + window + horizon] ({on}).")
        if np.allclose(Y, inputs[futures, 0], equal_nan=True):
            raise Mistake(f"Y holds values of the inputs, not of `target`: read the targets from the target "
                          f"series you are given ({on}).")


@checker("5.2", "windows with a multi-step target")
def check_forecast_windows(answer: Callable[..., Any]) -> int:
    """``(X, Y)`` of complete windows: inputs ``[i, i+w)``, targets ``[i+w, i+w+h)``, gaps skipped."""
    for length, channels, window, horizon, gaps, described in _WINDOW_CASES:
        on = f"on {described}"
        inputs, target = _window_case(length, channels, **gaps)
        X_ref, Y_ref = forecast_windows(inputs, target, window, horizon)
        expected_starts = complete_window_starts(inputs, target, window, horizon)
        X, Y = _pair_of_arrays(call(answer, inputs.copy(), target.copy(), window, horizon, on=described), on)
        if X.size == 0 or Y.size == 0:
            raise Mistake(f"your function returned no windows (X has shape {X.shape}, Y shape {Y.shape}) {on}; "
                          f"{len(X_ref)} windows there touch no missing value.")
        if inputs.ndim == 1 and X.shape == (len(X), window):
            raise Mistake(f"X has shape {X.shape}: with 1-D inputs (one channel) each window still has its "
                          f"channels axis, shape (n, window, 1) = (n, {window}, 1), as a recurrent layer reads "
                          f"it. Reshape the inputs to (T, 1) first ({on}).")
        _window_shapes(X, Y, window, horizon, channels, on)
        if np.isnan(X).any() or np.isnan(Y).any():
            raise Mistake(f"some of your windows contain NaN: a window that touches a missing value (in its "
                          f"inputs or its targets) must be skipped, not kept ({on}).")
        if "random" in gaps:
            if len(X) == len(expected_starts):
                _read_from_steps(X, Y, inputs, target, expected_starts, window, horizon, on)
        else:
            starts = _window_starts(X, window, channels, on)
            if starts is not None:
                _target_alignment(Y, starts, window, horizon, bool(gaps.get("distinct_target")), on)
                _window_selection(starts, expected_starts, length, window, horizon, on)
        expect_shape(X, X_ref.shape, "X", f"({on})")
        expect_close(X, X_ref, f"X {on}", hint="X[j] = inputs[i : i + window] for the j-th complete window i.")
        expect_close(Y, Y_ref, f"Y {on}", hint="Y[j, k] = target[i + window + k] for the j-th complete window i.")
    return len(_WINDOW_CASES)


# Exercise 5.1 (normalisation) ------------------------------------------------------------------


def _normalisation_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    """Splits whose levels differ (as seasons do), with gaps, a constant channel, different scales."""
    rng = np.random.default_rng(52)

    def readings(n: int, level: list[float], spread: list[float]) -> np.ndarray:
        return np.asarray(level) + np.asarray(spread) * rng.normal(size=(n, len(level)))

    warm = readings(12, [20.0, 1010.0], [4.0, 6.0]), readings(5, [12.0, 1016.0], [3.0, 8.0]), \
        readings(6, [3.0, 1022.0], [5.0, 9.0])
    gappy = [split.copy() for split in (readings(14, [15.0, 60.0, 4.0], [8.0, 15.0, 2.0]),
                                        readings(6, [9.0, 70.0, 5.0], [5.0, 12.0, 2.5]),
                                        readings(7, [2.0, 65.0, 6.0], [6.0, 10.0, 3.0]))]
    gappy[0][3] = np.nan  # a missing hour in train
    gappy[0][8, 1] = np.nan  # one missing reading in train
    gappy[2][[1, 4]] = np.nan  # missing hours in test
    constant = readings(10, [10.0, 0.0], [3.0, 0.0]), readings(4, [8.0, 0.0], [3.0, 1.0]), \
        readings(4, [5.0, 0.0], [3.0, 2.0])
    return [
        (*warm, "a warm training period, a cooler validation and a cold test split (2 channels)"),
        (*gappy, "splits with missing hours (NaN rows) and one missing reading (3 channels)"),
        (*constant, "a channel that is constant (always 0) in training"),
    ]


def _five(result: Any, on: str) -> tuple[np.ndarray, ...]:
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` "
                      "(train_z, validation_z, test_z, mean, std)?")
    if not isinstance(result, (tuple, list)) or len(result) != 5:
        raise Mistake(f"return five things, (train_z, validation_z, test_z, mean, std); you returned "
                      f"{kind_of(result)} ({on}).")
    names = ("train_z", "validation_z", "test_z", "mean", "std")
    return tuple(as_array(value, f"your {name}") for value, name in zip(result, names, strict=True))


def _statistic_shape(value: np.ndarray, name: str, train: np.ndarray, on: str) -> np.ndarray:
    channels = train.shape[1]
    if value.size == channels and value.ndim <= 2:
        return value.reshape(channels)
    if value.ndim == 0 or value.size == 1:
        raise Mistake(f"your {name} is one number for all channels: fit one {name} per channel (column), "
                      f"np.nan{name}(train, axis=0), because temperature, pressure and wind have different "
                      f"scales ({on}).")
    if value.size == len(train):
        raise Mistake(f"your {name} has one value per row (time step), shape {value.shape}: take it over time, "
                      f"axis=0, to get one {name} per channel, shape ({channels},) ({on}).")
    raise Mistake(f"your {name} has shape {value.shape}, expected ({channels},): one per channel ({on}).")


def _other_data(train: np.ndarray, validation: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    """The data that statistics are wrongly fitted on, described in words."""
    return {
        "all the data (train, validation and test together)": np.concatenate([train, validation, test]),
        "the test split": test,
        "the validation split": validation,
        "train and validation together": np.concatenate([train, validation]),
    }


def _fitted_on(mean: np.ndarray, std: np.ndarray, train: np.ndarray, validation: np.ndarray,
               test: np.ndarray, on: str) -> None:
    """Name the data the statistics were fitted on, or the way they were computed, when it is wrong."""
    if np.isnan(mean).any() or np.isnan(std).any():
        raise Mistake(f"your mean or std contains NaN: np.mean and np.std return NaN when a value is missing. "
                      f"Use np.nanmean and np.nanstd, which skip the missing hours ({on}).")
    right_mean, right_std = fit_normalisation(train)
    candidates = _other_data(train, validation, test)
    if not np.allclose(mean, right_mean):
        if np.allclose(mean, right_std) and np.allclose(std, right_mean):
            raise Mistake(f"you returned std before mean: return (train_z, validation_z, test_z, mean, std) "
                          f"({on}).")
        for where, data in candidates.items():
            if np.allclose(mean, np.nanmean(data, axis=0)):
                raise Mistake(f"your mean was fitted on {where}. Fit the statistics on the training split only: "
                              "anything computed from later data leaks the future into the model's inputs, "
                              f"and the test score stops being a fair estimate ({on}).")
        complete = train[~np.isnan(train).any(axis=1)]
        if len(complete) < len(train) and np.allclose(mean, complete.mean(axis=0)):
            raise Mistake(f"your mean skips every row in which any channel is missing (as dropna does), which "
                          f"throws away the readings that are there: skip only the missing values themselves, "
                          f"np.nanmean(train, axis=0) ({on}).")
        expect_close(mean, right_mean, f"your mean {on}", hint="The mean of each channel over the training rows.")
    raw_std = np.nanstd(train, axis=0)
    sample_std = np.nanstd(train, axis=0, ddof=1)
    constant = raw_std == 0
    if np.any(constant) and np.any(std[constant] == 0):
        channel = int(np.flatnonzero(constant & (std == 0))[0])
        raise Mistake(f"channel {channel} is constant in training, so its std is 0 and dividing by it gives "
                      f"infinity or NaN: use a std of 1 for such a channel ({on}).")
    allowed = [right_std, np.where(constant, 1.0, sample_std)]  # np.std or pandas' .std(), both fine
    if any(np.allclose(std, candidate) for candidate in allowed):
        return
    if np.allclose(std[~constant], raw_std[~constant] ** 2):
        raise Mistake(f"your std is the variance: take its square root (np.nanstd, not np.nanvar) ({on}).")
    for where, data in candidates.items():
        if np.allclose(std, np.nanstd(data, axis=0)):
            raise Mistake(f"your std was fitted on {where}. Fit mean and std on the training split only ({on}).")
    expect_close(std, right_std, f"your std {on}", hint="The standard deviation of each channel over the "
                 "training rows (1 for a constant channel).")


def _scaled_split(got: np.ndarray, split: np.ndarray, name: str, mean: np.ndarray, std: np.ndarray,
                  splits: tuple[np.ndarray, np.ndarray, np.ndarray], on: str) -> None:
    """Compare one normalised split with ``(split - mean) / std`` and name the usual slips."""
    if got.shape != split.shape:
        if got.ndim == 2 and len(got) == int(np.sum(~np.isnan(split).any(axis=1))) < len(split):
            raise Mistake(f"your {name}_z has {len(got)} rows but {name} has {len(split)}: you dropped the rows "
                          "with missing values. Keep every hour (NaN stays NaN) so that the rows stay aligned "
                          f"with time; the windows skip the gaps later ({on}).")
        expect_shape(got, split.shape, f"your {name}_z", f"Normalising keeps the shape of {name} ({on}).")
    missing = np.isnan(split)
    if np.any(np.isnan(got) != missing):
        raise Mistake(f"your {name}_z has numbers where {name} is missing, or NaN where it is not: a missing value "
                      f"must stay NaN after normalising, so that the windows can skip it ({on}).")
    expected = (split - mean) / std
    if np.allclose(got[~missing], expected[~missing], atol=1e-5):
        return
    slips = [
        ((split - mean / std), f"operator precedence: {name} - mean / std divides only the mean. Write "
                               f"({name} - mean) / std"),
        ((split - mean), f"your {name}_z is centred but not scaled: divide by std as well"),
        ((split / std), f"your {name}_z is scaled but not centred: subtract the mean first"),
        ((split - mean) * std, f"you multiplied by std: normalising divides, (x - mean) / std; multiplying is "
                               "how it is undone"),
    ]
    for where, data in _other_data(*splits).items():
        other_mean, other_std = fit_normalisation(data)
        if np.allclose(got[~missing], ((split - other_mean) / other_std)[~missing], atol=1e-5):
            slips.append((got, f"your {name}_z was normalised with statistics fitted on {where}, not with the "
                               f"training mean and std that you return: fit on train only and use those"))
    own_mean, own_std = fit_normalisation(split)
    if name != "train":
        slips.insert(0, ((split - own_mean) / own_std,
                         f"you normalised {name} with its own mean and std. Every split must use the training "
                         f"statistics: with its own, each split is centred on its own average, so a cold test "
                         f"month looks like an average one and the same temperature maps to different numbers "
                         f"in different splits"))
    for wrong, message in slips:
        if np.allclose(got[~missing], wrong[~missing], atol=1e-5):
            raise Mistake(f"{message} ({on}).")
    expect_close(np.where(missing, 0.0, got), np.where(missing, 0.0, expected), f"your {name}_z {on}",
                 atol=1e-5, hint=f"{name}_z = ({name} - mean) / std with the training mean and std.")


@checker("5.1", "normalisation fitted on train only")
def check_normalise_splits(answer: Callable[..., Any]) -> int:
    """Per-channel statistics of train (NaN skipped) applied to all three splits, NaN kept."""
    n_checks = 0
    for train, validation, test, described in _normalisation_cases():
        on = f"on {described}"
        result = call(answer, train.copy(), validation.copy(), test.copy(), on=described)
        train_z, validation_z, test_z, mean, std = _five(result, on)
        mean = _statistic_shape(mean, "mean", train, on)
        std = _statistic_shape(std, "std", train, on)
        _fitted_on(mean, std, train, validation, test, on)
        for got, split, name in ((train_z, train, "train"), (validation_z, validation, "validation"),
                                 (test_z, test, "test")):
            _scaled_split(got, split, name, mean, std, (train, validation, test), on)
        # Undoing the normalisation with what was returned must give the data back.
        for got, split in ((validation_z, validation), (test_z, test)):
            restored = np.where(np.isnan(split), 0.0, got * std + mean)
            expect_close(restored, np.nan_to_num(split), f"z * std + mean {on}", atol=1e-4,
                         hint="The mean and std you return must be the ones you normalised with.")
        n_checks += 1
    return n_checks


# Exercises 5.3 and 5.4: sequence labelling ======================================================
# Word starts in text whose whitespace was removed (utils.tasks.labelling), and the scores of the rare
# class over the real steps of a padded batch.

# Exercise 5.3 -----------------------------------------------------------------------------------

_LABEL_TEXTS = [
    "a cat sat",
    "Lists are mutable;\nsets  are\tnot.",
    "  The  *for* statement\n\n   for x in y:\n",
    "x",
    "I  O",
]


def _characters(value: Any, on: str) -> str:
    if isinstance(value, (list, tuple)) and all(isinstance(char, str) for char in value):
        if any(len(char) != 1 for char in value):
            raise Mistake(f"you returned a list of {type(value[0]).__name__}s that are words, not characters "
                          f"({on}); return the characters as one str: ''.join(words).")
        value = "".join(value)
    if not isinstance(value, str):
        raise Mistake(f"the characters should be a str (the text without its whitespace); you returned "
                      f"{type(value).__name__} ({on}).")
    return value


def _labels_per_word(words: list[str], mark: Callable[[int], list[int]]) -> list[int]:
    return [label for word in words for label in mark(len(word))]


def _label_suspects(text: str) -> list[tuple[list[int], str]]:
    words = text.split()
    starts = _labels_per_word(words, lambda n: [1] + [0] * (n - 1))
    after_whitespace = [int(i > 0 and text[i - 1].isspace()) for i, char in enumerate(text) if not char.isspace()]
    return [
        (_labels_per_word(words, lambda n: [0] * (n - 1) + [1]),
         "you marked the last character of each word (where a word ends); the label is 1 where a word starts, "
         "at its first character."),
        (after_whitespace,
         "the first word has no start label: a character is a word start when it begins a word, also when no "
         "whitespace comes before it (the very first character of the text)."),
        (starts[1:] + [0],
         "your labels are shifted one step to the left: you marked the character before each word start."),
        ([0] + starts[:-1],
         "your labels are shifted one step to the right: you marked the character after each word start."),
        ([1 - label for label in starts],
         "your labels are inverted: 1 must mark a word start (the rare class), 0 every other character."),
    ]


@checker("5.3", "word-start labels from text")
def check_word_start_labels(answer: Callable[..., Any]) -> int:
    """``(characters, labels)`` of texts with runs of spaces, newlines and tabs, with the mistake named."""
    n_checks = 0
    for text in _LABEL_TEXTS:
        on = f"text {text!r}"
        expected_chars, expected = word_start_labels(text)
        result = call(answer, text, on=on)
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` (characters, labels)?")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Mistake(f"return the pair (characters, labels); you returned {kind_of(result)} ({on}).")
        chars = _characters(result[0], on)
        if chars != expected_chars:
            if chars == text.replace(" ", ""):
                raise Mistake(f"you removed only the spaces: newlines and tabs separate words too, so they must go "
                              f"as well (text.split() with no argument splits on all whitespace). On {on} you "
                              f"returned {chars!r}, expected {expected_chars!r}.")
            raise Mistake(f"your characters are {chars!r}, expected {expected_chars!r} ({on}): keep every "
                          "character that is not whitespace, in order, and nothing else.")
        labels = as_array(result[1], "your labels")
        if labels.ndim == 1 and len(labels) == len(text) != len(expected):
            raise Mistake(f"you returned a label for every character of the original text ({len(text)}), "
                          f"whitespace included; there is one label per character that remains "
                          f"({len(expected)} on {on}).")
        split_on_space = [_labels_per_word(spaced.split(" "), lambda n: [1] + [0] * max(n - 1, 0))
                          for spaced in (text, re.sub(r"\s", " ", text))]
        if labels.ndim == 1 and len(labels) != len(expected) and labels.tolist() in split_on_space:
            raise Mistake(f"an empty word got a label: text.split(' ') returns '' between two spaces in a row, "
                          f"and '' has no character to label. Split with text.split() ({on}).")
        expect_shape(labels, expected.shape, f"your labels ({on})", "There is one label per character that remains.")
        n_checks += 1
        if np.array_equal(labels, expected):
            continue
        for wrong, message in _label_suspects(text):
            if np.array_equal(labels, wrong):
                raise Mistake(f"{message} (Seen on {on}: expected {expected.tolist()}.)")
        expect_close(labels, expected.astype(float), f"your labels for {on}",
                     hint="A character gets 1 when it is the first character of a word, 0 otherwise.")
    return n_checks


# Exercise 5.4 -----------------------------------------------------------------------------------


def _scores_case(labels: list, predicted: list, mask: list | None, on: str, how: str = "given") -> tuple[Any, ...]:
    """One case: the arrays, the mask the scores use, how the mask is passed, the case in words.

    ``how`` is "given" (the mask is passed; an all-true one when ``mask`` is None), "none" (``None`` is
    passed) or "omitted" (the function is called with two arguments).
    """
    labels_a, predicted_a = np.array(labels, dtype=np.int64), np.array(predicted, dtype=np.int64)
    mask_a = np.ones(labels_a.shape, dtype=bool) if mask is None else np.array(mask, dtype=bool)
    return labels_a, predicted_a, mask_a, how, on


def _f1_cases() -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(54)
    labels = (rng.random((6, 20)) < 0.2).astype(np.int64)
    predicted = np.where(rng.random((6, 20)) < 0.8, labels, 1 - labels)
    mask = np.arange(20)[None, :] < rng.integers(8, 21, size=6)[:, None]
    predicted[~mask] = rng.integers(0, 2, size=int((~mask).sum()))
    cube_labels = (rng.random((2, 3, 4)) < 0.3).astype(np.int64)
    cube_predicted = np.where(rng.random((2, 3, 4)) < 0.75, cube_labels, 1 - cube_labels)
    return [
        _scores_case([0, 1, 1, 0, 0, 0, 1, 0, 1, 1], [0, 1, 0, 0, 1, 0, 1, 0, 0, 0], None,
                     "one row of 10 steps, every step real (mask=None)", how="none"),
        _scores_case([1, 0, 0, 1, 0, 1, 0, 0], [1, 1, 0, 0, 0, 0, 1, 0], None,
                     "one row of 8 steps, every step real"),
        # Padded steps chosen so that ignoring the mask, inverting it, or applying it to one array only
        # each give different scores, and the message can say which.
        _scores_case([[1, 0, 1, 0, 1, 1], [0, 1, 0, 0, 1, 0]], [[1, 1, 1, 0, 0, 1], [0, 1, 0, 1, 1, 1]],
                     [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]], "a padded batch of 2 rows of 6 steps"),
        _scores_case([[1, 0, 0, 0, 1], [0, 1, 0, 0, 0]], [[1, 0, 0, 1, 1], [0, 1, 0, 1, 1]],
                     [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]],
                     "a padded batch of 2 rows whose padded steps hold labels and predictions of 1"),
        (labels, predicted, mask, "given", "a padded batch of 6 rows of 20 steps"),
        _scores_case([[0, 1, 0, 1], [1, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 0, 1]], [[1, 1, 1, 1], [1, 1, 1, 0]],
                     "a batch where no real step is predicted as the rare class (precision is 0 by convention)"),
        _scores_case([0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], None,
                     "a row without any true rare step (recall is 0 by convention)"),
        _scores_case(cube_labels, cube_predicted, None,
                     "a 3-D array of shape (2, 3, 4) with no mask argument (every step counts)", how="omitted"),
    ]


def _f1_from(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _f1_suspects(labels: np.ndarray, predicted: np.ndarray, mask: np.ndarray) -> list[tuple[tuple[float, ...], str]]:
    precision, recall, _ = precision_recall_f1(labels, predicted, mask)
    accuracy = float(np.mean(labels[mask] == predicted[mask]))
    suspects = [
        ((recall, precision, _f1_from(recall, precision)),
         "precision and recall are swapped: precision = hits / predicted rare steps (how many of your 1s are "
         "right), recall = hits / true rare steps (how many of the true 1s you found)."),
        (precision_recall_f1(1 - labels, 1 - predicted, mask),
         "these are the scores of the common class (label 0): score the rare class, label 1."),
        ((accuracy, accuracy, accuracy),
         "all three numbers are the per-step accuracy (the share of steps where the prediction equals the "
         "label). Precision = hits / steps predicted 1, recall = hits / steps that are truly 1, where a hit is "
         "a step predicted 1 whose label is 1; F1 = 2 P R / (P + R)."),
        ((precision, recall, accuracy),
         "your F1 is the per-step accuracy; F1 is the harmonic mean of precision and recall, "
         "2 P R / (P + R), which always predicting 0 cannot raise."),
        ((precision, recall, (precision + recall) / 2),
         "your F1 is the arithmetic mean of precision and recall; it is their harmonic mean, 2 P R / (P + R)."),
        (precision_recall_f1(labels, predicted),
         "the mask is ignored: padded steps were scored. Count only the steps where mask is True "
         "(for example labels[mask] and predicted[mask])."),
        (precision_recall_f1(labels * mask, predicted),
         "the mask was applied to the labels but not to the predictions, so a 1 predicted at a padded step "
         "counts as a false positive. Leave padded steps out of every count."),
        (precision_recall_f1(labels, predicted * mask),
         "the mask was applied to the predictions but not to the labels, so a true 1 at a padded step counts "
         "as missed. Leave padded steps out of every count."),
    ]
    if not mask.all():
        suspects.insert(0, (precision_recall_f1(labels, predicted, ~mask),
                            "the mask is inverted: you scored the padded steps and left out the real ones. mask "
                            "is True at the steps to count (for example labels[mask], not labels[~mask])."))
    return suspects


@checker("5.4", "precision, recall and F1 of the rare class")
def check_precision_recall_f1(answer: Callable[..., Any]) -> int:
    """``(precision, recall, f1)`` on padded batches and edge cases, with the mistake named."""
    n_checks = 0
    for labels, predicted, mask, how, on in _f1_cases():
        expected = np.array(precision_recall_f1(labels, predicted, mask))
        masks = {"given": (mask.copy(),), "none": (None,), "omitted": ()}[how]
        result = call(answer, labels.copy(), predicted.copy(), *masks, on=on)
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` (precision, recall, f1)?")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise Mistake(f"return three numbers (precision, recall, f1); you returned {kind_of(result)} "
                          f"({on}).")
        got = as_array(result, "your (precision, recall, f1)")
        expect_shape(got, (3,), "your (precision, recall, f1)", "Return three plain numbers.")
        n_checks += 1
        if not np.all(np.isfinite(got)):
            raise Mistake(f"you returned {got.tolist()} on {on}: a share with nothing to count is 0 by the "
                          "exercise's convention (no predicted 1: precision 0; no true 1: recall 0; F1 0 when "
                          "both are 0).")
        if np.allclose(got, expected, rtol=RTOL, atol=ATOL):
            continue
        if np.allclose(got, 100 * expected, rtol=RTOL, atol=100 * ATOL):
            raise Mistake(f"you returned percentages ({got.tolist()} on {on}); return shares between 0 and 1.")
        message = named_mistake(got, _f1_suspects(labels, predicted, mask),
                                lambda a, b: bool(np.allclose(a, b, rtol=RTOL, atol=ATOL)))
        if message:
            raise Mistake(f"{message} (Seen on {on}.)")
        padded = "" if mask.all() else " Count only the steps where mask is True."
        if not got.any() and how != "given":
            padded = (" Without a mask every step counts; you counted none (a mask made of None, or an "
                      "inverted one, keeps no step).")
        elif not got.any() and mask.all():
            padded = (" If your function counted no step: mask is True at every step here, so an inverted mask "
                      "(labels[~mask]) keeps nothing; count the steps where mask is True.")
        definitions = {"precision": "Precision = hits / steps predicted 1 (a hit: predicted 1 and labelled 1).",
                       "recall": "Recall = hits / steps labelled 1 (a hit: predicted 1 and labelled 1)."}
        for k, name in enumerate(("precision", "recall")):
            expect_close(got[k:k + 1], expected[k:k + 1], f"your {name} on {on}", hint=definitions[name] + padded)
        expect_close(got[2:], np.array([_f1_from(got[0], got[1])]), f"your F1 on {on}",
                     hint="Your precision and recall are right; F1 = 2 P R / (P + R).")
    return n_checks

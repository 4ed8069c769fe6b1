"""Checkers for chapter 2: one recurrent step, the parameter count, a masked batch, recordings reversed.

Exercise 2.1 writes one step of the simple recurrence in NumPy, 2.2 counts the parameters of a
recurrent layer and its output layer, 2.3 (stretch) runs the recurrence over a padded, masked
batch and returns each sequence's final state, and 2.4 (an experiment) plays the recordings of a
padded batch backwards, keeping their padding at the end, to test a trained speaker model on them.

For 2.4 the checker computes what the plausible wrong answers return (the whole padded time axis
reversed, so that the padding comes first; the batch axis or the coefficients reversed instead of
the frames; every axis flipped; the recordings returned unchanged; one frame too few or the
padding pulled in; the lengths counted along the wrong axis of the mask; the padding overwritten
with zeros) and names the one the learner's answer matches. One case has as many recordings as
frames, so that lengths taken from ``mask.sum(axis=0)`` give wrong values instead of a crash, one
has no padding, one is a float32 batch of 12 coefficients as in the notebook, and one is padded
with a value other than zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.models.cells import masked_final_state, rnn_forward, rnn_parameter_count, rnn_step
from utils.checks.framework import Mistake, as_array, call, checker, expect_shape, kind_of, named_mistake
from utils.checks.symptoms import ATOL, RTOL, expect_close
from utils.data.sequences import pad_batch, reverse_padded


def _weights(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random U (d x n), W (d x d) and b (d) of a size where tanh is far from linear."""
    return rng.normal(0, 0.8, (d, n)), rng.normal(0, 0.8, (d, d)), rng.normal(0, 0.8, d)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


@checker("2.1", "one recurrent step in NumPy")
def check_rnn_step(answer: Callable[..., Any]) -> int:
    """``s_t = tanh(U x_t + W s_{t-1} + b)`` for single vectors, with ``n != d`` and ``n == d``."""
    rng = np.random.default_rng(21)
    n_checks = 0
    for n, d in [(3, 3), (3, 5), (6, 2)]:
        U, W, b = _weights(rng, n, d)
        x_t, s_prev = rng.normal(0, 1, n), rng.uniform(-0.9, 0.9, d)
        on = f"x_t of shape ({n},), s_prev of shape ({d},), U {U.shape}, W {W.shape}, b ({d},)"
        expected = rnn_step(x_t, s_prev, U, W, b)
        result = call(answer, x_t.copy(), s_prev.copy(), U.copy(), W.copy(), b.copy(), on=on)
        got = as_array(result, "your s_t")
        if got.size == d and got.shape != (d,):
            raise Mistake(f"your s_t has shape {got.shape}, expected ({d},): return a plain vector of the "
                          f"{d} state values, like s_prev ({on}).")
        expect_shape(got, (d,), "your s_t", f"The new state has as many values as the old one ({on}).")
        z = U @ x_t + W @ s_prev + b
        wrong = {
            "ignores the previous state": np.tanh(U @ x_t + b),
            "W transposed": np.tanh(U @ x_t + W.T @ s_prev + b),
            "U transposed": np.tanh(U.T @ x_t + W @ s_prev + b) if n == d else None,
            "swapped": np.tanh(U @ s_prev + W @ x_t + b) if n == d else None,
            "no bias": np.tanh(U @ x_t + W @ s_prev),
            "sigmoid": _sigmoid(z),
            "relu": np.maximum(z, 0.0),
            "no activation": z,
            "bias subtracted": np.tanh(U @ x_t + W @ s_prev - b),
            "residual": np.tanh(z) + s_prev,
            "tanh of the state": np.tanh(U @ x_t + W @ np.tanh(s_prev) + b),
        }
        if not _same(got, expected):
            match = named_mistake(got, [(value, name) for name, value in wrong.items()], _same)
            messages = {
                "ignores the previous state": "your state ignores the previous state: changing s_{t-1} did "
                "not change the output. Add the recurrent term W @ s_prev.",
                "W transposed": "a transposed weight: you used W^T s_{t-1}. In course notation row i of W "
                "holds the weights into state unit i, so the term is W @ s_prev (Keras's "
                "recurrent_kernel is the transposed one, used as s_prev @ recurrent_kernel).",
                "U transposed": "a transposed weight: you used U^T x_t. U has shape (d, n), so U @ x_t "
                "maps the n inputs to the d state units (Keras's kernel is U^T, used as x_t @ kernel).",
                "swapped": "x_t and s_{t-1} are swapped: U multiplies the input x_t and W the previous "
                "state s_{t-1}.",
                "no bias": "the bias b is missing: s_t = tanh(U x_t + W s_{t-1} + b).",
                "sigmoid": "wrong activation: your output matches the logistic sigmoid; the simple RNN "
                "uses tanh, whose values lie in (-1, 1) and are centred on 0.",
                "relu": "wrong activation: your output matches relu; the simple RNN uses tanh.",
                "no activation": "the activation is missing: you returned U x_t + W s_{t-1} + b; apply "
                "np.tanh to it.",
                "bias subtracted": "you subtracted the bias: s_t = tanh(U x_t + W s_{t-1} + b), with + b.",
                "residual": "you added s_{t-1} to the new state (a residual connection): the new state is "
                "tanh(U x_t + W s_{t-1} + b) itself; the old one enters only through W.",
                "tanh of the state": "you applied tanh to s_{t-1} again: the previous state is already a tanh "
                "output; use it as it is, W @ s_prev.",
            }
            if match is not None:
                raise Mistake(f"{messages[match]} ({on})")
            expect_close(got, expected, f"your s_t for {on}",
                         hint="s_t = np.tanh(U @ x_t + W @ s_prev + b).")
        # The same weights with a different previous state must give a different new state.
        other = rng.uniform(-0.9, 0.9, d)
        expected_moved = rnn_step(x_t, other, U, W, b)
        moved = as_array(call(answer, x_t.copy(), other.copy(), U.copy(), W.copy(), b.copy(),
                              on=f"another s_prev ({on})"), "your s_t")
        if _same(moved, got):
            raise Mistake("your state ignores the previous state: changing s_{t-1} did not change the "
                          f"output ({on}).")
        expect_close(moved, expected_moved, f"your s_t for another s_prev ({on})",
                     hint="The result must depend only on the arguments: do not keep values between calls.")
        n_checks += 2
    U, W, b = _weights(rng, 4, 3)
    expected_first = np.tanh(U @ np.ones(4) + b)
    first = as_array(call(answer, np.ones(4), np.zeros(3), U.copy(), W.copy(), b.copy(),
                          on="the first step, s_0 = 0"), "your s_1")
    expect_close(first, expected_first, "your s_1 from s_0 = 0",
                 hint="With s_0 = 0 the first state is tanh(U x_1 + b).")
    return n_checks + 1


def _count_formulas(n: int, d: int, k: int) -> dict[str, int]:
    """The right count and plausible wrong ones, by the mistake that gives them."""
    right = rnn_parameter_count(n, d, k)
    return {
        "right": right,
        "no b": right - d,
        "no c": right - k,
        "no biases": right - d - k,
        "no W": right - d * d,
        "W as d x n": right - d * d + d * n,
        "U as d x d": right - d * n + d * d,
        "V as k x k": right - k * d + k * k,
        "no output layer": right - k * d - k,
        "recurrent layer twice": right + d * n + d * d + d,
        "two biases": right + d,
        "V as k x n": right - k * d + k * n,
    }


_COUNT_MESSAGES = {
    "no b": "the bias b of the recurrent layer (d numbers) is missing.",
    "no c": "the output bias c (k numbers) is missing.",
    "no biases": "both biases are missing: b has d numbers and c has k.",
    "no W": "the recurrent matrix W (d x d) is missing: it is what carries the state from step to step.",
    "W as d x n": "W has shape d x d (it maps the previous state to the new one), not d x n.",
    "U as d x d": "U has shape d x n (it maps the n inputs to the d state units), not d x d.",
    "V as k x k": "V has shape k x d (it maps the d state units to the k outputs).",
    "no output layer": "you counted only the recurrent layer (U, W, b); add the output layer "
    "V (k x d) and c (k).",
    "recurrent layer twice": "you counted the recurrent layer twice; U, W and b exist once.",
    "two biases": "you counted two biases for the recurrent layer (as Keras's GRU has with reset_after=True): "
    "the simple recurrent layer has one, b (d numbers).",
    "V as k x n": "V has shape k x d (it reads the d state units), not k x n: the output layer never sees the input.",
}


@checker("2.2", "parameters of a recurrent network")
def check_rnn_parameter_count(answer: Callable[..., Any]) -> int:
    """``dn + d^2 + d + kd + k`` for several sizes, with the mistake named when one formula explains it."""
    cases = [(3, 5, 7), (12, 64, 9), (1, 1, 1), (103, 128, 103), (7, 2, 4)]
    given: list[float] = []
    for n, d, k in cases:
        value = call(answer, n, d, k, on=f"n={n}, d={d}, k={k}")
        if value is None:
            raise Mistake("your function returned None: did you forget to `return` the count?")
        number = as_array(value, "your count")
        if number.shape != ():
            raise Mistake("return one number, the total count; you returned an array of shape "
                          f"{number.shape}.")
        given.append(float(number))
    expected = [rnn_parameter_count(*case) for case in cases]
    if given == [float(e) for e in expected]:
        return len(cases)
    for name, message in _COUNT_MESSAGES.items():
        if all(g == _count_formulas(*case)[name] for g, case in zip(given, cases, strict=True)):
            n, d, k = cases[0]
            raise Mistake(f"{message} For n={n}, d={d}, k={k} you gave {given[0]:g}, expected {expected[0]}.")
    index = next(i for i, (g, e) in enumerate(zip(given, expected, strict=True)) if g != e)
    n, d, k = cases[index]
    raise Mistake(f"for n={n}, d={d}, k={k} you gave {given[index]:g}, expected {expected[index]} = "
                  f"U ({d}x{n}) + W ({d}x{d}) + b ({d}) + V ({k}x{d}) + c ({k}).")


def _batch(rng: np.random.Generator, lengths: list[int], T: int, n: int, padding: str, fill: str):
    X = rng.normal(0, 1, (len(lengths), T, n))
    mask = np.zeros((len(lengths), T), dtype=bool)
    for row, length in enumerate(lengths):
        steps = slice(0, length) if padding == "post" else slice(T - length, T)
        mask[row, steps] = True
    if fill == "zeros":
        X = np.where(mask[..., None], X, 0.0)
    else:  # leftovers: large values where there is no data, as in a buffer that was never cleared
        X = np.where(mask[..., None], X, 5.0)
    return X, mask


@checker("2.3", "the final state of a masked batch")
def check_masked_final_state(answer: Callable[..., Any]) -> int:
    """The state after each row's last real step, for padding after and before the data."""
    rng = np.random.default_rng(23)
    n, d, T = 3, 4, 6
    U, W, b = _weights(rng, n, d)
    cases = [
        ([6, 6], "post", "zeros", "a batch without padding"),
        ([6, 3, 1], "post", "junk", "padding with non-zero values after the data"),
        ([6, 4, 2, 1], "post", "zeros", "padding with zeros after the data"),
        ([6, 5, 2], "pre", "zeros", "padding before the data"),
    ]
    for lengths, padding, fill, described in cases:
        X, mask = _batch(rng, lengths, T, n, padding, fill)
        on = f"{described}, lengths {lengths}"
        expected = masked_final_state(X, mask, U, W, b)
        result = call(answer, X.copy(), mask.copy(), U.copy(), W.copy(), b.copy(), on=on)
        got = as_array(result, "your final states")
        if got.shape == (len(lengths), T, d):
            raise Mistake(f"you returned a state for every step, shape {got.shape}; return only the state "
                          f"after each sequence's last real step, shape {expected.shape} ({on}).")
        expect_shape(got, expected.shape, "your final states",
                     f"One state of {d} values per sequence ({on}).")
        if _same(got, expected):
            continue
        unmasked = rnn_forward(X, U, W, b)[:, -1]
        zero_inputs = rnn_forward(np.where(mask[..., None], X, 0.0), U, W, b)[:, -1]
        if _same(got, unmasked):
            raise Mistake(f"the mask is ignored: the padded steps changed your final state ({on}). At a step "
                          "where mask is False, keep s_{t-1} unchanged.")
        if mask.all() and np.allclose(got, 0.0):
            raise Mistake(f"your final states are all zero on {on}: no step was run, as if the mask were "
                          "inverted. mask is True at the real steps (the data), so without padding every "
                          "step updates the state.")
        if not mask.all() and _same(got, masked_final_state(X, ~mask, U, W, b)):
            raise Mistake(f"the mask is inverted: your recurrence ran at the padded steps and kept the state "
                          f"at the real ones. mask is True at the real steps (the data) and False at the "
                          f"padding ({on}).")
        for name, batched in (("W", masked_final_state(X, mask, U, W.T, b)),
                              ("U", masked_final_state(X, mask, U.T, W, b) if U.shape[0] == U.shape[1] else None)):
            if batched is not None and _same(got, batched):
                raise Mistake(f"a transposed weight in the batched step: with one sequence per row, the "
                              f"{'recurrent' if name == 'W' else 'input'} term is "
                              f"{'s @ W.T' if name == 'W' else 'x_t @ U.T'} (the row form of "
                              f"{'W @ s' if name == 'W' else 'U @ x_t'}), not {'s @ W' if name == 'W' else 'x_t @ U'} "
                              f"({on}).")
        if _same(got, zero_inputs):
            raise Mistake(f"you set the padded inputs to zero but still applied the recurrence there: "
                          f"tanh(W s + b) changes the state even for x = 0 ({on}). Keep s_{{t-1}} "
                          "unchanged at padded steps.")
        padded_rows = [row for row, length in enumerate(lengths) if length < T]
        if padding == "post" and padded_rows and np.allclose(got[padded_rows], 0.0):
            raise Mistake(f"the final state of every padded sequence is zero: you reset the state at padded "
                          f"steps ({on}). A padded step must carry the state through unchanged.")
        if padding == "pre":
            by_length = np.stack([rnn_forward(X[row], U, W, b)[length - 1]
                                  for row, length in enumerate(lengths)])
            if _same(got, by_length):
                raise Mistake(f"your answer assumes the padding comes after the data: it fails when the "
                              f"padding comes first ({on}). Carry the state through masked steps instead "
                              "of reading it at index length - 1.")
        expect_close(got, expected, f"your final states for {on}",
                     hint="Where mask[:, t] is True, s_t = tanh(U x_t + W s_{t-1} + b); "
                     "elsewhere s_t = s_{t-1}.")
    return len(cases)


# Exercise 2.4: the recordings played backwards ==================================================


def _reversal_cases() -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(x, mask, description): padded batches with the padding after the data, of distinct values."""
    rng = np.random.default_rng(24)

    def case(lengths: list[int], T: int, n: int, value: float = 0.0, dtype: type = np.float64
             ) -> tuple[np.ndarray, np.ndarray, str]:
        recordings = [rng.normal(0.0, 1.0, (length, n)) for length in lengths]
        x, mask = pad_batch(recordings, length=T, value=value)  # float32, padding after the data
        kind = "float32 " if dtype == np.float32 else ""
        padded = f"padded with {value:g} to {T} frames" if min(lengths) < T else f"all {T} frames long, no padding"
        return x.astype(dtype), mask, f"a {kind}batch x of shape {x.shape}, recordings of {lengths} frames {padded}"

    return [case([3, 1, 4, 2, 4], 5, 3), case([4, 4], 4, 2), case([6, 2, 7, 4], 7, 12, dtype=np.float32),
            case([4, 1, 2], 5, 2, value=9.0)]


def _reversed_by_lengths(x: np.ndarray, lengths: np.ndarray, *, cut: str = "real") -> np.ndarray | None:
    """``x`` with row i's first ``lengths[i]`` frames reversed, the way a learner's loop over rows does it."""
    out = x.copy()
    T = x.shape[1]
    for row, length in enumerate(lengths):
        length = int(length)
        if cut == "real":
            out[row, :length] = x[row, :length][::-1]
        elif cut == "one late":  # x[i, L:0:-1]: starts on the first padded frame, misses frame 0
            if length >= T:
                return None
            out[row, :length] = x[row, length:0:-1]
        elif cut == "whole row, then cut":  # x[i, ::-1][:L]
            out[row, :length] = x[row, ::-1][:length]
    return out


def _reversal_suspects(x: np.ndarray, mask: np.ndarray, expected: np.ndarray) -> list[tuple[np.ndarray | None, str]]:
    B, T, n = x.shape
    lengths = mask.sum(axis=1)
    padded = not mask.all()
    return [
        (x[:, ::-1], "your padding comes first: you reversed the whole padded time axis (x[:, ::-1]), so each "
                     "shorter recording now starts with its padded frames and its real frames no longer sit where "
                     "the mask says. Reverse only the real frames of each recording, x[i, :L][::-1] with "
                     "L = mask[i].sum(), and leave the padding at the end."),
        (x[::-1], "you reversed the order of the recordings (the batch axis, x[::-1]): reverse the order of the "
                  "frames within each recording, along the time axis (axis 1)."),
        (x[..., ::-1], f"you reversed the {n} coefficients of every frame (the last axis, x[..., ::-1]): reverse the "
                       "order of the frames (axis 1) and keep each frame's coefficients as they are."),
        (x[::-1, ::-1, ::-1], "you flipped every axis (np.flip(x) without an axis): reverse only the time axis "
                              "(axis 1), and only the real frames of each recording."),
        (x[:, ::-1, ::-1] if padded else None,
         "you reversed the coefficients as well as the whole time axis: reverse only the order of the real frames."),
        (expected[..., ::-1], f"you reversed the {n} coefficients of each frame as well as the frames: keep each "
                              "frame's coefficients as they are and reverse only the order of the frames."),
        (x.copy(), "your recordings came back unchanged: no real frame moved. mask is True at the real frames (if "
                   "you reversed where it is False, you reversed the padding); reverse x[i, :L] with "
                   "L = mask[i].sum()."),
        (_reversed_by_lengths(x, lengths, cut="one late"),
         "your reversed recordings are off by one: each starts with its first padded frame and loses its first real "
         "frame, as x[i, L:0:-1] does (the stop index 0 is excluded). Take x[i, :L][::-1], or x[i, L - 1::-1]."),
        (_reversed_by_lengths(x, lengths - 1),
         "your reversal is one frame short: the last real frame of each recording stayed in place. x[i, :L] holds all "
         "L = mask[i].sum() real frames; reverse all of them."),
        (_reversed_by_lengths(x, lengths, cut="whole row, then cut") if padded else None,
         "you reversed the whole row and kept its first L frames (x[i, ::-1][:L]): those are the padding and the "
         "last real frames. Reverse the real frames alone, x[i, :L][::-1]."),
        (_reversed_by_lengths(x, mask.sum(axis=0)[:B]) if B <= T else None,
         "your lengths are counted along the wrong axis: mask.sum(axis=0) counts, for each frame, how many recordings "
         "are real there. The length of recording i is its number of real frames, mask[i].sum() (mask.sum(axis=1))."),
        (np.where(mask[..., None], expected, 0.0) if padded and np.any(x[~mask] != 0.0) else None,
         f"you overwrote the padding with zeros (this batch pads with {x[~mask].flat[0] if padded else 0:g}): leave "
         "the padded frames as they were. Start from a copy of x and reverse only the real frames in it."),
    ]


def _reversed_batch(result: Any, x: np.ndarray, on: str) -> np.ndarray:
    """The learner's reversed batch as a float array of x's shape, or a sentence saying what came back instead."""
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the reversed batch?")
    if isinstance(result, tuple) and len(result) == 2:
        raise Mistake(f"return the reversed batch alone, one array of shape {x.shape}; you returned "
                      f"{kind_of(result)}. The mask does not change, since the padding stays at the end (on {on}).")
    if isinstance(result, (list, tuple)) and len({np.shape(item) for item in result}) > 1:
        raise Mistake(f"you returned one array per recording, of different lengths ({kind_of(result)}): return the "
                      f"padded batch, one array of shape {x.shape} with the padding after the reversed frames "
                      f"(on {on}).")
    got = as_array(result, "your reversed batch")
    expect_shape(got, x.shape, "your reversed batch",
                 f"Return an array of the shape of x: every recording keeps its {x.shape[1]} frames of "
                 f"{x.shape[2]} coefficients, its real frames reversed and its padding after them (on {on}).")
    return got


@checker("2.4", "the recordings played backwards")
def check_reverse_padded(answer: Callable[..., Any]) -> int:
    """Row i's real frames ``x[i, :L][::-1]``, then its padding unchanged, for several padded batches."""
    cases = _reversal_cases()
    for x, mask, on in cases:
        got = _reversed_batch(call(answer, x.copy(), mask.copy(), on=on), x, on)
        expected = reverse_padded(x, mask).astype(np.float64)
        if _same(got, expected):
            continue
        message = named_mistake(got, _reversal_suspects(x.astype(np.float64), mask, expected), _same)
        if message:
            raise Mistake(f"{message} (Seen on {on}.)")
        if not np.all(np.isfinite(got)):
            raise Mistake(f"your reversed batch contains NaN or infinity (on {on}): it holds the same values as x, "
                          "in another order.")
        wrong = np.abs(got - expected) > 1e-6
        row, frame, coefficient = (int(i) for i in np.argwhere(wrong)[0])
        length, T = int(mask[row].sum()), x.shape[1]
        padding = {0: "(it has no padding)", 1: "followed by its padded frame as it was"}.get(
            T - length, f"followed by its {T - length} padded frames as they were")
        raise Mistake(f"recording {row} (of {length} real frames) is wrong on {on}: at frame {frame}, coefficient "
                      f"{coefficient} you returned {got[row, frame, coefficient]:.6g}, expected "
                      f"{expected[row, frame, coefficient]:.6g}. Its frames should be x[{row}, :{length}][::-1], "
                      f"{padding}.")
    return len(cases)

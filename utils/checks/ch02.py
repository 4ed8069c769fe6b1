"""Checkers for chapter 2: one recurrent step, the parameter count, a masked batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.cells import masked_final_state, rnn_forward, rnn_parameter_count, rnn_step
from utils.checking import Mistake, as_array, call, checker, expect_close, expect_shape, named_mistake


def _weights(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random U (d x n), W (d x d) and b (d) of a size where tanh is far from linear."""
    return rng.normal(0, 0.8, (d, n)), rng.normal(0, 0.8, (d, d)), rng.normal(0, 0.8, d)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-6))


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

"""Checkers for chapter 3: one backward step, the BPTT gradient of W, clipping by global norm.

Each checker compares the learner's answer with the reference in :mod:`utils.bptt` on
several inputs and, when it differs, tests it against the wrong answers learners
plausibly write (a transposed weight, a missing tanh derivative, only the last step's
term, clipping each array on its own...) so that the message names the mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from utils.bptt import backward_step, clip_by_global_norm, global_norm, grad_W
from utils.checking import (
    Mistake, as_array, call, checker, expect_close, expect_shape, kind_of, named_mistake,
)

_TOLERANCE = 1e-8


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=_TOLERANCE))


def _diagnose(got: np.ndarray, suspects: Sequence[tuple[np.ndarray, str]], on: str) -> None:
    """Raise the message of the wrong answer that ``got`` equals, if the input tells it apart."""
    message = named_mistake(got, suspects, _same)
    if message:
        raise Mistake(f"{message} (Seen on {on}.)")


# Exercise 3.1 -----------------------------------------------------------------------------------


def _backward_step_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    rng = np.random.default_rng(31)
    cases = []
    for d, described in [(3, "d = 3"), (4, "d = 4, with states close to -1, 0 and 1")]:
        grad_s = rng.normal(size=d)
        s = rng.uniform(-0.9, 0.9, size=d)
        if d == 4:
            s = np.array([-0.98, 0.0, 0.5, 0.97])
        W = rng.normal(size=(d, d))
        cases.append((grad_s, s, W, described))
    cases.append((np.array([0.7]), np.array([0.6]), np.array([[1.5]]), "d = 1 (a single unit)"))
    return cases


@checker("3.1", "one backward step")
def check_backward_step(answer: Callable[..., Any]) -> int:
    """``backward_step(grad_s, s, W) = W^T ((1 - s^2) * grad_s)`` on 1-D vectors."""
    cases = _backward_step_cases()
    for grad_s, s, W, described in cases:
        on = f"grad_s, s of shape ({len(s)},) and W of shape {W.shape} ({described})"
        expected = backward_step(grad_s, s, W)
        got = as_array(call(answer, grad_s.copy(), s.copy(), W.copy(), on=on), "your gradient")
        expect_shape(got, expected.shape, "your gradient",
                     f"dL/ds_(t-1) has one entry per state unit ({on}).")
        if _same(got, expected):
            continue
        derivative = 1.0 - s**2
        _diagnose(got, [
            (W @ (derivative * grad_s),
             "a transposed weight: you multiplied by W, but the gradient flows back through W^T "
             "(W.T @ v, or v @ W in NumPy)."),
            (W.T @ grad_s,
             "missing the tanh derivative (1 - s^2): the gradient passes through s_t = tanh(a_t) "
             "before it reaches W, so multiply grad_s by 1 - s**2 first."),
            (W @ grad_s,
             "missing the tanh derivative (1 - s^2), and a transposed weight: the step is "
             "W^T ((1 - s^2) * grad_s)."),
            (W.T @ ((1.0 - s) * grad_s),
             "the tanh derivative is 1 - s**2 (with s = tanh(a)), not 1 - s."),
            (W.T @ ((1.0 - np.tanh(s) ** 2) * grad_s),
             "you applied tanh to s again: s is already tanh(a_t), so the derivative is 1 - s**2, "
             "not 1 - tanh(s)**2."),
            (derivative * (W.T @ grad_s),
             "the derivative (1 - s^2) is applied after W^T: it belongs to step t, so multiply "
             "grad_s by it first and then by W^T."),
            (-expected, "the sign is flipped: the chain rule here has no minus sign."),
        ], on)
        expect_close(got, expected, f"your gradient ({on})", atol=1e-8,
                     hint="dL/ds_(t-1) = W^T ((1 - s_t^2) * dL/ds_t).")
    return len(cases)


# Exercise 3.2 -----------------------------------------------------------------------------------


def _sequence(steps: int, d: int, seed: int, *, last_only: bool = False, s0: bool = False):
    """States (T+1, d) of a real tanh recurrence, direct gradients (T, d) and W."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 0.8, (d, d))
    states = np.zeros((steps + 1, d))
    if s0:
        states[0] = rng.uniform(-0.8, 0.8, d)
    for t in range(1, steps + 1):
        states[t] = np.tanh(W @ states[t - 1] + rng.normal(size=d))
    direct = rng.normal(size=(steps, d))
    if last_only:
        direct[:-1] = 0.0
    return states, direct, W


def _grad_w_variant(states: np.ndarray, direct: np.ndarray, W: np.ndarray, mistake: str) -> np.ndarray:
    """The gradient of W as one plausible mistake computes it."""
    steps = direct.shape[0]
    dW = np.zeros_like(W)
    carry = np.zeros(W.shape[0])
    for t in range(steps, 0, -1):
        g = direct[t - 1] + (0.0 if mistake == "no recurrence" else carry)
        delta = g if mistake == "no derivative" else (1.0 - states[t] ** 2) * g
        previous = states[t] if mistake == "pairs s_t" else states[t - 1]
        term = np.outer(previous, delta) if mistake == "transposed outer" else np.outer(delta, previous)
        if not (mistake == "skips the first step" and t == 1):
            dW += term
        if mistake == "last only":
            return dW
        carry = W @ delta if mistake == "carry through W" else W.T @ delta
    return dW


@checker("3.2", "the BPTT gradient of W")
def check_grad_W(answer: Callable[..., Any]) -> int:
    """``grad_W(states, direct, W)``: sum over steps of ``delta_t s_{t-1}^T``, delta carried back."""
    cases = [
        (_sequence(5, 3, 1), "T = 5, d = 3, a loss at every step"),
        (_sequence(6, 4, 2, last_only=True), "T = 6, d = 4, a loss at the last step only"),
        (_sequence(4, 3, 3, s0=True), "T = 4, d = 3, a non-zero initial state s_0"),
        (_sequence(1, 2, 4), "T = 1 (a single step)"),
    ]
    for (states, direct, W), described in cases:
        on = f"states {states.shape}, direct {direct.shape}, W {W.shape} ({described})"
        expected = grad_W(states, direct, W)
        got = as_array(call(answer, states.copy(), direct.copy(), W.copy(), on=on), "your dL/dW")
        expect_shape(got, expected.shape, "your dL/dW", f"It has the shape of W ({on}).")
        if _same(got, expected):
            continue
        suspects = {
            "last only": "your gradient forgets the earlier steps: it equals the last step's term "
                         "only. W is used at every step, so dL/dW sums delta_t s_(t-1)^T over t = 1 .. T.",
            "no recurrence": "no gradient flows back through time: each step uses only its own loss "
                             "term. The gradient at s_t must also carry W^T delta_(t+1) from the later "
                             "steps (g_t = direct_t + W^T delta_(t+1)).",
            "transposed outer": "your gradient is transposed: dL/dW = sum_t delta_t s_(t-1)^T "
                                "(np.outer(delta, s_prev)); row i belongs to the unit that receives.",
            "carry through W": "a transposed weight in the backward recursion: the gradient flows from "
                               "s_t back to s_(t-1) through W^T (W.T @ delta), not W.",
            "no derivative": "missing the tanh derivative (1 - s^2): delta_t = (1 - s_t^2) * g_t.",
            "pairs s_t": "you paired delta_t with s_t; W multiplies the previous state, so the term "
                         "is delta_t s_(t-1)^T (states[t - 1]).",
            "skips the first step": "the first step's term delta_1 s_0^T is missing: the sum runs over "
                                    "t = 1 .. T, and states[0] = s_0 need not be zero.",
        }
        _diagnose(got, [(_grad_w_variant(states, direct, W, name), text) for name, text in suspects.items()], on)
        expect_close(got, expected, f"your dL/dW ({on})", atol=1e-8,
                     hint="Go backwards: g = direct[t-1] + carry, delta = (1 - states[t]**2) * g, "
                          "dW += outer(delta, states[t-1]), carry = W.T @ delta.")
    return len(cases)


# Exercise 3.3 -----------------------------------------------------------------------------------


@checker("3.3", "clipping by global norm")
def check_clip_by_global_norm(answer: Callable[..., Any]) -> int:
    """Every array scaled by ``min(1, max_norm / global_norm)``; inputs left unchanged."""
    big = [np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]]), np.array([0.0, 7.2, 9.6])]  # norms 5, 12; global 13
    cases = [
        (big, 5.0, "two arrays with global norm 13 and max_norm 5"),
        ([np.array([[0.5, -0.5], [1.0, 0.0]]), np.array([0.1])], 5.0, "a global norm below max_norm"),
        ([np.array([0.6, 0.8])], 1.0, "a global norm exactly equal to max_norm"),
        ([np.full((2, 2), 30.0), np.array([-1.0, 2.0]), np.array([[0.5]])], 2.0,
         "three arrays of very different sizes"),
        ([np.zeros((2, 3)), np.zeros(3)], 1.0, "all-zero gradients"),
        ([np.arange(-6.0, 6.0).reshape(2, 3, 2) / 2, np.array([1.5, -2.0])], 2.0,
         "a 3-D array (a convolution kernel) next to a vector"),
    ]
    for grads, max_norm, described in cases:
        originals = [g.copy() for g in grads]
        expected = clip_by_global_norm(grads, max_norm)
        on = f"{described} (shapes {[g.shape for g in grads]}, max_norm={max_norm})"
        inputs = [g.copy() for g in grads]
        # The inputs are compared here rather than in `call`, for a message about gradients.
        result = call(answer, inputs, max_norm, on=on, unchanged=False)
        if len(inputs) != len(originals) or any(
                not (isinstance(a, np.ndarray) and a.shape == b.shape and np.array_equal(a, b))
                for a, b in zip(inputs, originals, strict=True)):
            raise Mistake("you changed the gradients passed in (an in-place *= ?); return new arrays "
                          "and leave the inputs as they were.")
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` the clipped list?")
        if isinstance(result, np.ndarray) or not isinstance(result, (list, tuple)) or len(result) != len(grads):
            raise Mistake(f"return a list with one array per gradient ({len(grads)} here), in the same "
                          f"order and shapes, not {kind_of(result)} ({on}).")
        got = [as_array(g, f"clipped gradient {i}") for i, g in enumerate(result)]
        for i, (g, original) in enumerate(zip(got, grads, strict=True)):
            expect_shape(g, original.shape, f"clipped gradient {i}", f"Keep each array's shape ({on}).")
        if not all(np.all(np.isfinite(g)) for g in got):
            raise Mistake(f"{described} gave NaN or infinity: the norm is 0 there, so divide only when "
                          "the norm exceeds max_norm (and then it is not 0).")
        if all(_same(g, e) for g, e in zip(got, expected, strict=True)):
            continue
        total = global_norm(grads)
        per_array = [g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-300)) for g in grads]
        if all(_same(g, e) for g, e in zip(got, per_array, strict=True)):
            raise Mistake("you clipped each gradient separately, not by the global norm: take one norm "
                          "over all arrays together and scale them all by the same factor, so the "
                          "direction of the whole update is kept.")
        if total < max_norm and total > 0 and abs(global_norm(got) - max_norm) < 1e-6:
            raise Mistake(f"you scaled up gradients below the threshold ({on}: global norm {total:.3g} "
                          f"< {max_norm:g}): clipping only ever shrinks, by min(1, max_norm / norm).")
        if all(_same(g, np.clip(o, -max_norm, max_norm)) for g, o in zip(got, grads, strict=True)):
            raise Mistake("you clipped each value (like np.clip, Keras's clipvalue), not the norm: scale "
                          "every array by max_norm / global_norm when the norm is too large.")
        summed = sum(float(np.linalg.norm(g)) for g in grads)
        by_sum = [g * min(1.0, max_norm / summed) for g in grads]
        if all(_same(g, e) for g, e in zip(got, by_sum, strict=True)):
            raise Mistake("the global norm is sqrt(sum of every squared entry of every array); you added "
                          "up the norms of the arrays instead.")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            expect_close(g, e, f"clipped gradient {i} ({on})", atol=1e-8,
                         hint="scale = min(1, max_norm / sqrt(sum of squares of all entries)).")
    return len(cases)

"""Checkers for chapter 3: one backward step (3.1), the BPTT gradient of W (3.2), clipping by
global norm (3.3) and the per-step factor of the Jacobian norms (3.4, an experiment: how the
scale of the input weights changes how fast the gradient vanishes).

Each checker compares the learner's answer with the reference in :mod:`utils.training.bptt` on
several inputs and, when it differs, tests it against the wrong answers learners
plausibly write (a transposed weight, a missing tanh derivative, only the last step's
term, clipping each array on its own, a line fitted to the norms instead of their logarithms,
the slope returned without exponentiating...) so that the message names the mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from utils.training.bptt import backward_step, clip_by_global_norm, global_norm, grad_W, per_step_factor
from utils.checks.framework import Mistake, as_array, call, checker, expect_shape, kind_of, named_mistake
from utils.checks.symptoms import ATOL, RTOL, expect_close

def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal within float32 rounding: a gradient computed in float32 is right, a wrong one misses by 1e-2 or more."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


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
            (W.T @ (s * (1.0 - s) * grad_s),
             "you used the logistic sigmoid's derivative, s (1 - s): for s = tanh(a) it is 1 - s**2."),
        ], on)
        expect_close(got, expected, f"your gradient ({on})", hint="dL/ds_(t-1) = W^T ((1 - s_t^2) * dL/ds_t).")
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
        variants = [(_grad_w_variant(states, direct, W, name), text) for name, text in suspects.items()]
        steps = direct.shape[0]
        if steps > 1:
            variants.append((expected / steps, f"your gradient is the right one divided by T = {steps} (a mean over the "
                                               "steps): the loss is the sum of the steps' losses, so dL/dW is the sum "
                                               "of their terms."))
        _diagnose(got, variants, on)
        expect_close(got, expected, f"your dL/dW ({on})",
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
            if global_norm(grads) == 0:
                raise Mistake(f"{described} gave NaN or infinity: the norm is 0 there, so divide only when "
                              "the norm exceeds max_norm (and then it is not 0).")
            zero = [i for i, g in enumerate(grads) if not np.any(g)]
            raise Mistake(f"{described} gave NaN or infinity, although the global norm is {global_norm(grads):.3g}: "
                          + (f"gradient {zero[0]} is all zeros, and a norm taken per array divides 0 by 0 there. "
                             if zero else "")
                          + "Divide by the one global norm, and only when it exceeds max_norm.")
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
        squares = total ** 2
        scaled = {
            "you left out the square root: the global norm is sqrt(sum of the squares of every entry), not the sum "
            "of the squares itself.": min(1.0, max_norm / squares) if squares else 1.0,
            "your scale is upside down, norm / max_norm: a gradient that is too large is multiplied by "
            "max_norm / norm (below 1).": min(1.0, total / max_norm),
        }
        for message, scale in scaled.items():
            if all(_same(g, o * scale) for g, o in zip(got, grads, strict=True)):
                raise Mistake(f"{message} (Seen on {on}.)")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            expect_close(g, e, f"clipped gradient {i} ({on})",
                         hint="scale = min(1, max_norm / sqrt(sum of squares of all entries)).")
    return len(cases)


# Exercise 3.4 -----------------------------------------------------------------------------------


def _factor_cases() -> list[tuple[np.ndarray, str]]:
    """Noisy exponential norms: 1-D, several rows with different sizes and slopes, as many rows as
    distances (an axis mix-up gives a wrong value instead of an error), the minimum of two
    distances, and one sequence given as a single row."""
    rng = np.random.default_rng(34)

    def rows(start: Sequence[float], factor: Sequence[float], distances: int, noise: float) -> np.ndarray:
        j = np.arange(1, distances + 1)
        noisy = rng.normal(0.0, noise, (len(start), distances))
        return np.exp(np.log(start)[:, None] + np.log(factor)[:, None] * j + noisy)

    return [
        (rows([1.8], [0.7], 6, 0.15)[0], "one sequence of 6 distances, shape (6,), a vanishing gradient"),
        (rows([0.2, 1.0, 5.0], [1.1, 1.25, 1.3], 7, 0.1),
         "3 sequences of 7 distances, shape (3, 7), an exploding gradient, rows of very different sizes"),
        (rows([0.5, 2.0, 1.0, 0.3], [0.8, 0.95, 0.9, 0.85], 4, 0.1),
         "4 sequences of 4 distances, shape (4, 4)"),
        (np.array([0.9, 0.5]), "the fewest distances, two: shape (2,)"),
        (rows([3.0], [0.97], 5, 0.05), "one sequence given as one row, shape (1, 5)"),
    ]


def _factor_suspects(norms: np.ndarray) -> list[tuple[float | None, str]]:
    """What the plausible wrong answers return on ``norms``, each with the message that names it."""
    table = np.atleast_2d(norms)
    n_rows, n_distances = table.shape
    logs = np.log(table)
    mean_logs = logs.mean(axis=0)
    j = np.arange(1, n_distances + 1, dtype=float)
    slope, intercept = np.polyfit(j, mean_logs, 1)
    several = n_rows > 1

    def factor(x: np.ndarray, y: np.ndarray) -> float:
        return math.exp(np.polyfit(x, y, 1)[0])

    fit = "fit np.log(norms) against the distances 1 .. J with np.polyfit(distances, logs, 1)"
    bases = ("the logarithm you fitted and the power you undid it with have different bases: use np.log "
             "with np.exp (or np.log10 with 10 ** slope).")
    with np.errstate(all="ignore"):
        return [
            (factor(j, table.mean(axis=0)),
             "you fitted a line to the norms themselves, not to their logarithms: an exponential decay is "
             f"a straight line only on a log scale, so {fit}."),
            (slope,
             "you returned the slope of ln(norm), which is the logarithm of the factor: return "
             "np.exp(slope)."),
            (slope / math.log(10),
             "you returned the slope of log10(norm), in decades per step (as in section 3's table): the "
             "factor per step is 10 ** slope."),
            (math.exp(slope / math.log(10)), bases),
            (math.exp(slope / math.log(2)), bases),
            (10.0**slope, bases),
            (math.exp(-slope),
             "your factor is the inverse of the right one (the sign of the slope is flipped, or the "
             "distances run backwards): norms[..., 0] is distance 1, the nearest step, and the factor is "
             "exp(+slope)."),
            (1.0 - math.exp(slope),
             "you returned 1 - factor, the fraction lost per step: return the factor itself, below 1 when "
             "the gradient vanishes and above 1 when it explodes."),
            (math.exp((mean_logs[-1] - mean_logs[0]) / (n_distances - 1)),
             f"you used only the first and the last distance: {fit}, through all {n_distances} distances, "
             "so that one noisy norm does not decide."),
            (math.exp(float(j @ mean_logs) / float(j @ j)),
             "you forced the fitted line through ln(norm) = 0 at distance 0 (no intercept): fit the "
             "intercept too, np.polyfit(distances, logs, 1)."),
            (float(np.mean(table[:, 1:] / table[:, :-1])),
             f"you averaged the ratios of neighbouring norms: {fit} instead (least squares on the "
             "logarithms)."),
            (math.exp(intercept),
             "you exponentiated the intercept: np.polyfit(x, y, 1) returns [slope, intercept], so the slope "
             "is element [0]."),
            (factor(mean_logs, j),
             "you fitted the distances against ln(norm): np.polyfit(x, y, 1) takes the distances (x) first "
             "and ln(norm) (y) second."),
            (factor(j, np.log(table.mean(axis=0))) if several else None,
             "you averaged the norms over the sequences before taking logarithms: take np.log of every norm "
             "first, then the mean over the rows (axis 0), so that the largest row does not dominate."),
            (factor(j, logs[0]) if several else None,
             f"you used only the first sequence (row 0): average ln(norm) over all {n_rows} rows at each "
             "distance, then fit."),
            (float(np.mean([factor(j, row) for row in logs])) if several else None,
             "you averaged the factors of the rows: average ln(norm) over the rows (or the slopes) first, "
             "then exponentiate once."),
            (factor(np.arange(1, n_rows + 1), logs.mean(axis=1)) if several else None,
             "you averaged over the distances (axis 1): each row of norms is one sequence and each column "
             "one distance, so average ln(norm) over axis 0, the sequences."),
            (factor(np.arange(1, logs.size + 1), logs.ravel()) if several else None,
             "you flattened the rows into one long sequence: every row starts again at distance 1, so "
             "average ln(norm) over the rows at each distance (or repeat the distances 1 .. J for every "
             "row)."),
        ]


def _same_factor(got: float, wanted: float) -> bool:
    """Equal within float32 rounding of the logarithms and the fit (the suspects differ by 1e-2 or more)."""
    return math.isclose(got, wanted, rel_tol=RTOL, abs_tol=ATOL)


def _one_factor(result: Any, norms: np.ndarray, on: str) -> float:
    """The learner's factor as a float, or a sentence saying what came back instead."""
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the factor?")
    wanted = "return one number, the factor per step, a float"
    array = np.asarray(result)
    if isinstance(result, (bool, np.bool_, str, bytes)) or array.dtype.kind not in "iuf":
        raise Mistake(f"{wanted}; you returned {kind_of(result)} (on {on}).")
    if array.ndim and array.size == 1:
        raise Mistake(f"you returned one value inside a container ({kind_of(result)}): return the number "
                      f"itself, float(factor) (on {on}).")
    if array.ndim:
        rows, distances = np.atleast_2d(norms).shape
        per = {(rows,): "one value per sequence", (distances,): "one value per distance",
               (distances - 1,): "one value per step between neighbouring distances"}
        what = per.get(array.shape, "several values") if rows != distances else "several values"
        raise Mistake(f"you returned {what} ({kind_of(result)}): {wanted}, for all the sequences together "
                      f"(on {on}).")
    return float(array)


@checker("3.4", "the per-step factor of the gradient")
def check_per_step_factor(answer: Callable[..., Any]) -> int:
    """``exp`` of the least-squares slope of the mean ``ln(norm)`` over the rows, against distances 1 .. J."""
    cases = _factor_cases()
    for norms, described in cases:
        on = f"norms of {described}"
        got = _one_factor(call(answer, norms.copy(), on=on), norms, on)
        expected = per_step_factor(norms)
        if _same_factor(got, expected):
            continue
        seen = f"(Seen on {on}: you returned {got:.6g}, expected {expected:.6g}.)"
        message = named_mistake(got, _factor_suspects(norms), _same_factor)
        if message:
            raise Mistake(f"{message} {seen}")
        if not math.isfinite(got):
            raise Mistake(f"you returned {got} on {on}: every norm is positive, so the factor is a positive "
                          "number.")
        raise Mistake(f"your factor is {got:.6g} on {on}, expected {expected:.6g}: take np.log of the "
                      "norms, average them over the rows (axis 0) if there are several sequences, fit a "
                      "line against the distances 1 .. J with np.polyfit(distances, logs, 1) and return "
                      "np.exp(slope).")
    return len(cases)

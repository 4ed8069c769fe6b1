"""utils.checks.ch03: each checker passes the reference, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them (loops, NumPy one-liners),
independently of the checker's own list of suspects; each test asserts on the phrase of the
diagnostic that names that mistake.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from checkerfailures import assert_named, failure

from utils.training import bptt
from utils.checks.ch03 import (
    check_backward_step, check_clip_by_global_norm, check_grad_W, check_per_step_factor,
)


# Exercise 3.1: one backward step ----------------------------------------------------------------


def step_with_a_loop(grad_s, s, W):
    d = len(s)
    out = np.zeros(d)
    for j in range(d):
        for i in range(d):
            out[j] += W[i, j] * (1 - s[i] ** 2) * grad_s[i]
    return out


def step_transposed(grad_s, s, W):
    return W @ ((1 - s**2) * grad_s)


def step_without_derivative(grad_s, s, W):
    return W.T @ grad_s


def step_one_minus_s(grad_s, s, W):
    return W.T @ ((1 - s) * grad_s)


def step_tanh_again(grad_s, s, W):
    return W.T @ ((1 - np.tanh(s) ** 2) * grad_s)


def step_derivative_after(grad_s, s, W):
    return (1 - s**2) * (W.T @ grad_s)


def step_outer_product(grad_s, s, W):
    return np.outer(W.T @ grad_s, 1 - s**2)


def step_off_by_a_bit(grad_s, s, W):
    return W.T @ ((1 - s**2) * grad_s) + 0.01


def test_backward_step_alternative_correct_answer_passes(capsys):
    check_backward_step(step_with_a_loop)
    assert "passed all 3 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (step_transposed, ["a transposed weight", "W^T"]),
        (step_without_derivative, ["missing the tanh derivative (1 - s^2)"]),
        (step_one_minus_s, ["1 - s**2", "not 1 - s."]),
        (step_tanh_again, ["you applied tanh to s again"]),
        (step_derivative_after, ["applied after W^T"]),
        (step_outer_product, ["shape (3, 3), expected (3,)", "one entry per state unit"]),
        (step_off_by_a_bit, ["your values are all 0.01 above the right ones", "W^T ((1 - s_t^2) * dL/ds_t)"]),
    ],
)
def test_backward_step_mistakes_are_named(answer, phrases):
    message = failure(check_backward_step, answer)
    assert message.startswith("Exercise 3.1 (one backward step): ")
    for phrase in phrases:
        assert phrase in message


# Exercise 3.2: the BPTT gradient of W -----------------------------------------------------------


def grad_w_forwards_then_backwards(states, direct, W):
    # Collect the deltas backwards first, then add the terms up in time order.
    T = len(direct)
    deltas = [None] * (T + 1)
    carry = np.zeros(len(W))
    for t in range(T, 0, -1):
        deltas[t] = (1 - states[t] ** 2) * (direct[t - 1] + carry)
        carry = W.T @ deltas[t]
    return sum(np.outer(deltas[t], states[t - 1]) for t in range(1, T + 1))


def grad_w_last_step_only(states, direct, W):
    T = len(direct)
    delta = (1 - states[T] ** 2) * direct[T - 1]
    return np.outer(delta, states[T - 1])


def grad_w_without_recurrence(states, direct, W):
    dW = np.zeros_like(W)
    for t in range(1, len(direct) + 1):
        dW += np.outer((1 - states[t] ** 2) * direct[t - 1], states[t - 1])
    return dW


def grad_w_transposed(states, direct, W):
    return bptt.grad_W(states, direct, W).T


def grad_w_carry_through_w(states, direct, W):
    dW, carry = np.zeros_like(W), np.zeros(len(W))
    for t in range(len(direct), 0, -1):
        delta = (1 - states[t] ** 2) * (direct[t - 1] + carry)
        dW += np.outer(delta, states[t - 1])
        carry = W @ delta
    return dW


def grad_w_without_derivative(states, direct, W):
    dW, carry = np.zeros_like(W), np.zeros(len(W))
    for t in range(len(direct), 0, -1):
        delta = direct[t - 1] + carry
        dW += np.outer(delta, states[t - 1])
        carry = W.T @ delta
    return dW


def grad_w_pairs_current_state(states, direct, W):
    dW, carry = np.zeros_like(W), np.zeros(len(W))
    for t in range(len(direct), 0, -1):
        delta = (1 - states[t] ** 2) * (direct[t - 1] + carry)
        dW += np.outer(delta, states[t])
        carry = W.T @ delta
    return dW


def grad_w_stops_before_the_first_step(states, direct, W):
    dW, carry = np.zeros_like(W), np.zeros(len(W))
    for t in range(len(direct), 1, -1):  # leaves out t = 1
        delta = (1 - states[t] ** 2) * (direct[t - 1] + carry)
        dW += np.outer(delta, states[t - 1])
        carry = W.T @ delta
    return dW


def grad_w_mean_over_time(states, direct, W):
    return bptt.grad_W(states, direct, W) / len(direct)


def grad_w_as_a_vector(states, direct, W):
    return bptt.grad_W(states, direct, W).ravel()


def test_grad_w_alternative_correct_answer_passes(capsys):
    check_grad_W(grad_w_forwards_then_backwards)
    assert "passed all 4 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (grad_w_last_step_only, ["forgets the earlier steps", "the last step's term only"]),
        (grad_w_without_recurrence, ["no gradient flows back through time", "W^T delta_(t+1)"]),
        (grad_w_transposed, ["your gradient is transposed"]),
        (grad_w_carry_through_w, ["a transposed weight in the backward recursion"]),
        (grad_w_without_derivative, ["missing the tanh derivative (1 - s^2)"]),
        (grad_w_pairs_current_state, ["you paired delta_t with s_t", "s_(t-1)"]),
        (grad_w_stops_before_the_first_step, ["the first step's term delta_1 s_0^T is missing"]),
        (grad_w_as_a_vector, ["shape (9,), expected (3, 3)", "the shape of W"]),
        (grad_w_mean_over_time, ["the right one divided by T = 5 (a mean over the steps)"]),
    ],
)
def test_grad_w_mistakes_are_named(answer, phrases):
    message = failure(check_grad_W, answer)
    assert message.startswith("Exercise 3.2 (the BPTT gradient of W): ")
    for phrase in phrases:
        assert phrase in message


def test_stopping_before_the_first_step_is_caught_by_the_non_zero_initial_state():
    message = failure(check_grad_W, grad_w_stops_before_the_first_step)
    assert "non-zero initial state" in message


# Exercise 3.3: clipping by global norm ----------------------------------------------------------


def clip_with_math(grads, max_norm):
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    if norm <= max_norm:
        return [g.copy() for g in grads]
    return [g * (max_norm / norm) for g in grads]


def clip_each_separately(grads, max_norm):
    out = []
    for g in grads:
        norm = np.linalg.norm(g)
        out.append(g * max_norm / norm if norm > max_norm else g)
    return out


def clip_always_rescales(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * max_norm / norm for g in grads]


def clip_values(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def clip_sum_of_norms(grads, max_norm):
    norm = sum(np.linalg.norm(g) for g in grads)
    return [g * min(1.0, max_norm / norm) for g in grads]


def clip_in_place(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    for g in grads:
        g *= min(1.0, max_norm / norm)
    return grads


def clip_nan_on_zeros(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(norm > max_norm, max_norm / norm, 1.0) if norm > 0 else max_norm / norm * 0
    return [g * scale for g in grads]


def clip_concatenated(grads, max_norm):
    flat = np.concatenate([g.ravel() for g in grads])
    return flat * min(1.0, max_norm / np.linalg.norm(flat))


def clip_squared_norm(grads, max_norm):
    squared = sum(np.sum(g**2) for g in grads)
    return [g * min(1.0, max_norm / squared) for g in grads]


def test_clip_alternative_correct_answer_passes(capsys):
    check_clip_by_global_norm(clip_with_math)
    assert "passed all 6 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (clip_each_separately, ["you clipped each gradient separately, not by the global norm"]),
        (clip_always_rescales, ["you scaled up gradients below the threshold", "global norm 1.23 < 5"]),
        (clip_values, ["you clipped each value", "clipvalue"]),
        (clip_sum_of_norms, ["you added up the norms of the arrays"]),
        (clip_in_place, ["you changed the gradients passed in"]),
        (clip_nan_on_zeros, ["all-zero gradients gave NaN or infinity"]),
        (clip_concatenated, ["return a list with one array per gradient", "not ndarray"]),
        (clip_squared_norm, ["you left out the square root"]),
    ],
)
def test_clip_mistakes_are_named(answer, phrases):
    message = failure(check_clip_by_global_norm, answer)
    assert message.startswith("Exercise 3.3 (clipping by global norm): ")
    for phrase in phrases:
        assert phrase in message


# Inputs left alone, every shape of gradient, empty results -------------------------------------------


def step_scales_grad_s_in_place(grad_s, s, W):
    grad_s *= 1 - s**2
    return W.T @ grad_s


def grad_w_accumulates_into_direct(states, direct, W):
    dW = np.zeros_like(W)
    for t in range(len(direct), 0, -1):
        delta = (1 - states[t] ** 2) * direct[t - 1]
        dW += np.outer(delta, states[t - 1])
        if t > 1:
            direct[t - 2] += W.T @ delta  # carries the gradient back by writing into the input
    return dW


def clip_by_trace_for_matrices(grads, max_norm):
    squares = [np.trace(g.T @ g) if g.ndim == 2 else g @ g for g in grads]  # 1-D and 2-D only
    norm = np.sqrt(sum(squares))
    return [g * min(1.0, max_norm / norm) if norm > 0 else g.copy() for g in grads]


def clip_returns_nothing(grads, max_norm):
    return []


@pytest.mark.parametrize(
    ("check", "answer", "phrases"),
    [
        (check_backward_step, step_scales_grad_s_in_place, ["changed its input `grad_s` in place"]),
        (check_grad_W, grad_w_accumulates_into_direct, ["changed its input `direct` in place"]),
        (check_clip_by_global_norm, clip_by_trace_for_matrices, ["raised ValueError", "a 3-D array"]),
        (check_clip_by_global_norm, clip_returns_nothing, ["one array per gradient (2 here)", "list of 0 items"]),
    ],
)
def test_newly_caught_mistakes_are_named(check, answer, phrases):
    message = failure(check, answer)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


# Exercise 3.4: the per-step factor of the gradient ----------------------------------------------


def factor_with(norms, *, fit="logs", log=np.log, power=np.exp, rows="mean of logs", index=0,
                distances="forwards", returns="factor"):
    """A learner's per-step factor, with one option per plausible slip."""
    if np.ndim(norms) == 1 and rows == "axis 1":
        rows = "mean of logs"  # a learner who averages over axis 1 does it for 2-D norms only
    table = np.atleast_2d(np.asarray(norms, dtype=float))
    J = table.shape[1]
    j = np.arange(1, J + 1) if distances == "forwards" else np.arange(J, 0, -1)
    if rows == "log of mean":
        y = log(table.mean(axis=0))
    elif rows == "first":
        y = log(table[0])
    elif rows == "axis 1":
        y, j = log(table).mean(axis=1), np.arange(1, len(table) + 1)
    elif rows == "flattened":
        y, j = log(table).ravel(), np.arange(1, table.size + 1)
    elif fit == "norms":
        y = table.mean(axis=0)
    else:
        y = log(table).mean(axis=0)
    if rows == "mean of factors":
        return float(np.mean([power(np.polyfit(j, log(row), 1)[0]) for row in table]))
    if returns == "per row":
        return np.array([power(np.polyfit(j, log(row), 1)[0]) for row in table])
    if fit == "swapped":
        coefficient = np.polyfit(y, j, 1)[index]
    else:
        coefficient = np.polyfit(j, y, 1)[index]
    value = coefficient if power is None else power(coefficient)
    return {"factor": value, "one minus": 1 - value, "list": [value]}[returns]


def factor_by_hand(norms):
    # Least squares written out, on the pooled points of every row.
    table = np.atleast_2d(norms)
    x = np.tile(np.arange(1.0, table.shape[1] + 1), table.shape[0])
    y = np.log(table).ravel()
    slope = ((x - x.mean()) @ (y - y.mean())) / ((x - x.mean()) @ (x - x.mean()))
    return math.exp(slope)


def factor_in_log10(norms):
    return 10 ** np.polyfit(np.arange(norms.shape[-1]), np.log10(np.atleast_2d(norms)).mean(axis=0), 1)[0]


def factor_from_endpoints(norms):
    logs = np.log(np.atleast_2d(norms)).mean(axis=0)
    return math.exp((logs[-1] - logs[0]) / (len(logs) - 1))


def factor_through_the_origin(norms):
    logs = np.log(np.atleast_2d(norms)).mean(axis=0)
    j = np.arange(1, len(logs) + 1)
    return math.exp(np.sum(j * logs) / np.sum(j * j))


def factor_from_ratios(norms):
    table = np.atleast_2d(norms)
    return float(np.mean(table[:, 1:] / table[:, :-1]))


def test_per_step_factor_alternative_correct_answers_pass(capsys):
    answers = (factor_with, factor_by_hand, factor_in_log10,
               lambda norms: factor_with(norms, log=np.log2, power=lambda s: 2.0**s))
    for answer in answers:
        check_per_step_factor(answer)
    assert capsys.readouterr().out.count("passed all 5 checks") == len(answers)


_TITLE_34 = "Exercise 3.4 (the per-step factor of the gradient): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda n: factor_with(n, fit="norms"), ["fitted a line to the norms themselves", "shape (6,)"]),
        (lambda n: factor_with(n, power=None), ["the logarithm of the factor", "np.exp(slope)"]),
        (lambda n: factor_with(n, log=np.log10, power=None), ["decades per step", "10 ** slope"]),
        (lambda n: factor_with(n, log=np.log10), ["different bases"]),
        (lambda n: factor_with(n, power=lambda s: 10.0**s), ["different bases"]),
        (lambda n: factor_with(n, log=np.log2), ["different bases"]),
        (lambda n: factor_with(n, power=lambda s: np.exp(-s)), ["the inverse of the right one"]),
        (lambda n: factor_with(n, distances="backwards"), ["the inverse of the right one", "run backwards"]),
        (lambda n: factor_with(n, returns="one minus"), ["1 - factor, the fraction lost per step"]),
        (factor_from_endpoints, ["only the first and the last distance", "all 6 distances"]),
        (factor_through_the_origin, ["through ln(norm) = 0 at distance 0"]),
        (factor_from_ratios, ["averaged the ratios of neighbouring norms"]),
        (lambda n: factor_with(n, index=1), ["exponentiated the intercept", "element [0]"]),
        (lambda n: factor_with(n, fit="swapped"), ["fitted the distances against ln(norm)"]),
        (lambda n: factor_with(n, rows="log of mean"), ["averaged the norms over the sequences before",
                                                         "shape (3, 7)"]),
        (lambda n: factor_with(n, rows="first"), ["only the first sequence (row 0)", "all 3 rows"]),
        (lambda n: factor_with(n, rows="mean of factors"), ["averaged the factors of the rows"]),
        (lambda n: factor_with(n, rows="axis 1"), ["averaged over the distances (axis 1)"]),
        (lambda n: factor_with(n, rows="flattened"), ["flattened the rows into one long sequence"]),
        (lambda n: factor_with(n, returns="per row"),
         ["one value inside a container (ndarray of shape (1,))"]),
        (lambda n: factor_with(n, returns="per row") if n.ndim == 2 else factor_with(n),
         ["one value per sequence (ndarray of shape (3,))", "for all the sequences together", "(3, 7)"]),
        (lambda n: factor_with(n, returns="list"), ["one value inside a container (list of 1 item)"]),
        (lambda n: f"{factor_with(n):.3f}", ["return one number", "you returned str"]),
        (lambda n: np.log(n), ["one value per distance (ndarray of shape (6,))"]),
        (lambda n: None, ["returned None", "forget to `return` the factor"]),
        (lambda n: factor_with(n) + 0.01, ["your factor is 0.718", "expected 0.708", "np.exp(slope)"]),
        (lambda n: float("nan"), ["you returned nan", "a positive number"]),
    ],
    ids=["norms", "no exp", "decades", "log10 with exp", "ln with 10**", "log2 with exp", "sign", "backwards",
         "one minus", "endpoints", "origin", "ratios", "intercept", "swapped", "log of mean", "first row",
         "mean of factors", "axis 1", "flattened", "per row", "per row, 2-D", "list of one", "string",
         "per distance", "None", "off", "NaN"],
)
def test_per_step_factor_mistakes_are_named(answer, phrases):
    assert_named(check_per_step_factor, answer, _TITLE_34, phrases)


def test_per_step_factor_stub_and_changed_norms(capsys):
    def stub(norms):
        raise NotImplementedError

    check_per_step_factor(stub)
    assert "not attempted yet" in capsys.readouterr().out

    def logs_in_place(norms):
        np.log(norms, out=norms)  # the caller's array
        distances = np.arange(1, norms.shape[-1] + 1)
        return math.exp(np.polyfit(distances, np.atleast_2d(norms).mean(axis=0), 1)[0])

    assert "changed its input `norms` in place" in failure(check_per_step_factor, logs_in_place)


def test_per_step_factor_that_handles_one_sequence_only_is_told_about_rows():
    def one_dimensional_only(norms):
        return math.exp(np.polyfit(np.arange(1, len(norms) + 1), np.log(norms), 1)[0])

    message = failure(check_per_step_factor, one_dimensional_only)
    assert "shape (3, 7)" in message and "raised TypeError" in message


# Issue 31: gradients computed in float32 pass; mistakes that got only the generic message are named


def test_float32_answers_pass(capsys):
    check_backward_step(lambda g, s, W: W.astype(np.float32).T @ ((1 - s.astype(np.float32) ** 2) * g.astype(np.float32)))
    check_grad_W(lambda states, direct, W: bptt.grad_W(states.astype(np.float32), direct.astype(np.float32),
                                                       W.astype(np.float32)))
    check_per_step_factor(lambda norms: float(np.float32(bptt.per_step_factor(np.asarray(norms, dtype=np.float32)))))
    assert capsys.readouterr().out.count("passed") == 3


def test_backward_step_with_the_sigmoid_derivative_is_named():
    message = failure(check_backward_step, lambda g, s, W: W.T @ (s * (1 - s) * g))
    assert "the logistic sigmoid's derivative, s (1 - s)" in message


def test_backward_step_off_by_a_factor_says_so():
    message = failure(check_backward_step, lambda g, s, W: 2 * W.T @ ((1 - s**2) * g))
    assert "your values are 2 times the right ones everywhere" in message


def test_clip_with_the_scale_upside_down_is_named():
    def upside_down(grads, max_norm):
        norm = np.sqrt(sum(float((g ** 2).sum()) for g in grads))
        return [g * min(1.0, norm / max_norm) for g in grads]

    assert "your scale is upside down" in failure(check_clip_by_global_norm, upside_down)


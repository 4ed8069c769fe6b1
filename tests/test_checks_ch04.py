"""utils.checks.ch04: each checker passes the reference, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them (slicing the stacked
weights by hand), independently of the checker's own list of suspects; each test asserts on
the phrase of the diagnostic that names that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from checkerfailures import assert_named, failure

from utils.models import gated
from utils.checks.ch04 import check_gradient_reach, check_gru_step, check_lstm_step, check_parameter_count


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# Exercise 4.1: one LSTM step --------------------------------------------------------------------


def lstm_by_blocks(x_t, s_prev, c_prev, U, W, b, order="ifco", keep="f", add="i", out="tanh", gates=sigmoid,
                   candidate=np.tanh):
    """An LSTM step written gate by gate, with one thing changeable, as a learner might."""
    d = len(s_prev)
    pre = {name: U[k * d:(k + 1) * d] @ x_t + W[k * d:(k + 1) * d] @ s_prev + b[k * d:(k + 1) * d]
           for k, name in enumerate(order)}
    i, f, o, g = gates(pre["i"]), gates(pre["f"]), gates(pre["o"]), candidate(pre["c"])
    c_t = {"f": f * c_prev, "none": c_prev, "1-f": (1 - f) * c_prev}[keep] + {"i": i, "1-f": 1 - f}[add] * g
    s_t = {"tanh": o * np.tanh(c_t), "linear": o * c_t, "old": o * np.tanh(c_prev), "no gate": np.tanh(c_t)}[out]
    return s_t, c_t


def lstm_einsum(x_t, s_prev, c_prev, U, W, b):
    i, f, g, o = np.split(np.einsum("gn,n->g", U, x_t) + np.einsum("gd,d->g", W, s_prev) + b, 4)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return [sigmoid(o) * np.tanh(c_t), c_t]


def test_lstm_step_alternative_correct_answers_pass(capsys):
    check_lstm_step(lambda *args: lstm_by_blocks(*args))
    check_lstm_step(lstm_einsum)
    assert capsys.readouterr().out.count("passed all 3 checks") == 2


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *a: lstm_by_blocks(*a, order="ifoc"),
         ["gate blocks are in the wrong order", "candidate (c) from the rows of o",
          "output gate (o) from the rows of c", "i, f, c, o", "c: rows 2d:3d"]),
        (lambda *a: lstm_by_blocks(*a, order="fico"),
         ["wrong order", "input gate (i) from the rows of f", "forget gate (f) from the rows of i"]),
        (lambda *a: lstm_by_blocks(*a, keep="none"), ["the forget gate is missing", "Gers et al., 2000"]),
        (lambda *a: lstm_by_blocks(*a, keep="1-f"), ["(1 - f_t)", "fraction of the old cell state"]),
        (lambda *a: lstm_by_blocks(*a, add="1-f"), ["coupled the input gate to the forget gate"]),
        (lambda *a: lstm_by_blocks(*a, out="linear"), ["tanh on the cell state is missing"]),
        (lambda *a: lstm_by_blocks(*a, out="old"), ["uses the old cell state c_{t-1}"]),
        (lambda *a: lstm_by_blocks(*a, out="no gate"), ["the output gate is missing"]),
        (lambda *a: lstm_by_blocks(*a, candidate=sigmoid), ["the candidate g_t uses the sigmoid"]),
        (lambda *a: lstm_by_blocks(*a, gates=np.tanh), ["the gates use tanh"]),
        (lambda x, s, c, U, W, b: lstm_by_blocks(x, s, c, U, W, 0 * b), ["the biases are missing"]),
        (lambda x, s, c, U, W, b: lstm_by_blocks(x, s, c, U, np.concatenate(
            [blk.T for blk in np.split(W, 4)]), b), ["a transposed recurrent weight"]),
        (lambda *a: lstm_by_blocks(*a)[::-1], ["you returned (c_t, s_t)"]),
        (lambda x, s, c, U, W, b: (lstm_by_blocks(x, s, c, U, W, b)[0], np.zeros(len(s))),
         ["your c_t for", "largest difference", "c_t = f_t * c_{t-1}"]),
        (lambda x, s, c, U, W, b: (lstm_by_blocks(x, s, c, U, W, b)[0] * 2, lstm_by_blocks(x, s, c, U, W, b)[1]),
         ["your s_t for", "Your c_t is right"]),
        (lambda *a: np.stack(lstm_by_blocks(*a)), ["return the pair (s_t, c_t)", "ndarray"]),
        (lambda *a: tuple(v[:, None] for v in lstm_by_blocks(*a)), ["shape (2, 1), expected (2,)"]),
    ],
)
def test_lstm_step_mistakes_are_named(answer, phrases):
    message = failure(check_lstm_step, answer)
    assert message.startswith("Exercise 4.1 (one LSTM step in NumPy): ")
    for phrase in phrases:
        assert phrase in message


def test_lstm_step_in_keras_layout_crashes_with_the_input_named():
    def keras_layout(x_t, s_prev, c_prev, U, W, b):
        return gated.lstm_step(x_t, s_prev, c_prev, U.T.T.T, W, b)  # x_t @ U.T with U transposed

    message = failure(check_lstm_step, keras_layout)
    assert "raised ValueError" in message and "U (8, 3)" in message


# Exercise 4.2: one GRU step ---------------------------------------------------------------------


def gru_by_blocks(x_t, s_prev, U, W, b, reset_after, order="zrh", reset="right", keep="z", inner_bias=True,
                  second_bias=True, candidate=np.tanh, update=True):
    """A GRU step written gate by gate, with one thing changeable, as a learner might."""
    d = len(s_prev)
    rows = {name: slice(k * d, (k + 1) * d) for k, name in enumerate(order)}
    if reset_after:
        b_x, b_s = b[0], (b[1] if second_bias else np.zeros_like(b[1]))
    else:
        b_x, b_s = b, np.zeros_like(b)
    z = sigmoid(U[rows["z"]] @ x_t + b_x[rows["z"]] + W[rows["z"]] @ s_prev + b_s[rows["z"]])
    r = sigmoid(U[rows["r"]] @ x_t + b_x[rows["r"]] + W[rows["r"]] @ s_prev + b_s[rows["r"]])
    from_x = U[rows["h"]] @ x_t + b_x[rows["h"]]
    W_h, b_h = W[rows["h"]], b_s[rows["h"]]
    where = reset if reset != "right" else ("after" if reset_after else "before")
    if where == "after":
        recurrent = r * (W_h @ s_prev + b_h) if inner_bias else r * (W_h @ s_prev) + b_h
    elif where == "before":
        recurrent = W_h @ (r * s_prev) + b_h
    else:  # no reset at all, or the reset gate on the input term or on the candidate's value
        recurrent = W_h @ s_prev + b_h
    h = candidate((r if where == "input" else 1.0) * from_x + recurrent)
    if where == "candidate":
        h = r * h
    if not update:
        return h
    return z * s_prev + (1 - z) * h if keep == "z" else (1 - z) * s_prev + z * h


def test_gru_step_alternative_correct_answer_passes(capsys):
    check_gru_step(gru_by_blocks)
    assert "passed all 6 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *a: gru_by_blocks(*a, reset="after"),
         ["reset gate is in the wrong place", "reset_after=False", "that is reset_after=True"]),
        (lambda *a: gru_by_blocks(*a, reset="before" if a[-1] else "right"),
         ["reset gate is in the wrong place", "with reset_after=True", "that is reset_after=False"]),
        (lambda *a: gru_by_blocks(*a, reset="none"), ["the reset gate is missing"]),
        (lambda *a: gru_by_blocks(*a, keep="1-z"), ["update gate's convention is reversed", "Cho et al., 2014"]),
        (lambda *a: gru_by_blocks(*a, order="rzh"),
         ["wrong order", "update gate (z) from the rows of r", "PyTorch stores its GRU blocks as r, z, n"]),
        (lambda *a: gru_by_blocks(*a, order="hrz"), ["wrong order", "candidate (h) from the rows of z"]),
        (lambda *a: gru_by_blocks(*a, inner_bias=False), ["recurrent bias b'_h sits outside the reset gate"]),
        (lambda *a: gru_by_blocks(*a, second_bias=False), ["recurrent-side biases b[1] are missing"]),
        (lambda x, s, U, W, b, ra: gated.gru_step(x, s, U, W, b, ra) + 0.01, ["your values are all 0.01 above",
                                                                              "z, r, h"]),
    ],
)
def test_gru_step_mistakes_are_named(answer, phrases):
    message = failure(check_gru_step, answer)
    assert message.startswith("Exercise 4.2 (one GRU step in NumPy, both conventions): ")
    for phrase in phrases:
        assert phrase in message


def test_gru_step_reset_on_the_input_or_the_candidate_and_other_suspects():
    on_input = failure(check_gru_step, lambda *a: gru_by_blocks(*a, reset="input"))
    assert "not on the input's term" in on_input
    on_candidate = failure(check_gru_step, lambda *a: gru_by_blocks(*a, reset="candidate"))
    assert "multiplied the candidate's value by r_t" in on_candidate
    assert "the update gate is missing" in failure(check_gru_step, lambda *a: gru_by_blocks(*a, update=False))
    assert "the candidate uses the sigmoid" in failure(check_gru_step, lambda *a: gru_by_blocks(*a, candidate=sigmoid))


def test_gru_step_with_the_wrong_bias_layout_crashes_with_the_input_named():
    def one_bias_row(x_t, s_prev, U, W, b, reset_after):
        return gated.gru_step(x_t, s_prev, U, W, b, reset_after=False)

    message = failure(check_gru_step, one_bias_row)
    assert "raised ValueError" in message and "reset_after=True" in message


def test_gru_step_returning_a_column():
    message = failure(check_gru_step, lambda *a: gated.gru_step(*a)[:, None])
    assert "shape (2, 1), expected (2,)" in message


# Exercise 4.3: parameter counts -----------------------------------------------------------------


def counts(lstm=None, gru_after=None, gru_before=None, simple=None):
    """A learner's count with one formula replaced; the others right."""
    def block(n, d):
        return d * n + d * d + d

    formulas = {
        "lstm": lstm or (lambda n, d: 4 * block(n, d)),
        "gru_after": gru_after or (lambda n, d: 3 * block(n, d) + 3 * d),
        "gru_before": gru_before or (lambda n, d: 3 * block(n, d)),
        "simple": simple or block,
    }

    def parameter_count(cell, n, d, reset_after=True):
        if cell == "gru":
            return formulas["gru_after" if reset_after else "gru_before"](n, d)
        return formulas[cell](n, d)

    return parameter_count


def test_parameter_count_alternative_correct_answer_passes(capsys):
    check_parameter_count(counts())
    check_parameter_count(lambda cell, n, d, reset_after=True: float(gated.parameter_count(cell, n, d, reset_after)))
    assert capsys.readouterr().out.count("passed all 16 checks") == 2


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (counts(lstm=lambda n, d: 3 * (d * n + d * d + d)), ["four blocks (i, f, c, o)", "is a gate missing",
                                                             "cell='lstm', n=3, d=5 you gave 135, expected 180"]),
        (counts(lstm=lambda n, d: d * n + d * d + d), ["you counted one block: the LSTM has four"]),
        (counts(lstm=lambda n, d: 4 * (d * n + d * d) + d), ["its own bias: 4d biases"]),
        (counts(lstm=lambda n, d: 4 * (d * n + d * d + d) + 3 * d), ["no peephole weights"]),
        (counts(lstm=lambda n, d: 4 * (d * n + d * d + 2 * d)), ["only the GRU with reset_after=True"]),
        (counts(lstm=lambda n, d: 4 * (d * n + d * n + d)), ["has shape d x d", "not d x n"]),
        (counts(lstm=lambda n, d: 4 * (d * n + d * d + d) + d), ["the cell state is not a parameter"]),
        (counts(gru_after=lambda n, d: 3 * (d * n + d * d + d)),
         ["with reset_after=True every GRU block has two biases", "cell='gru', reset_after=True"]),
        (counts(gru_after=lambda n, d: 4 * (d * n + d * d + d) + 4 * d), ["three blocks (z, r, h), not four"]),
        (counts(gru_after=lambda n, d: 2 * (d * n + d * d + 2 * d)), ["the candidate has its own"]),
        (counts(gru_before=lambda n, d: 3 * (d * n + d * d + 2 * d)),
         ["with reset_after=False the GRU has one bias per block", "reset_after=False, n=3, d=5"]),
        (counts(gru_before=lambda n, d: 4 * (d * n + d * d + d)), ["three blocks (z, r, h), not four"]),
        (counts(simple=lambda n, d: 4 * (d * n + d * d + d)), ["a simple RNN layer has one block"]),
        (counts(simple=lambda n, d: d * n + d * d), ["the simple RNN's bias b (d numbers) is missing"]),
        (counts(lstm=lambda n, d: 4 * (d * n + d * d + d) + 1), ["you gave 181, expected 180", "4 blocks"]),
        (counts(gru_after=lambda n, d: 0), ["you gave 0, expected 150", "plus 3d recurrent-side biases"]),
        (lambda cell, n, d, reset_after=True: np.array([n, d]), ["return one number", "shape (2,)"]),
    ],
)
def test_parameter_count_mistakes_are_named(answer, phrases):
    message = failure(check_parameter_count, answer)
    assert message.startswith("Exercise 4.3 (parameters of LSTM and GRU layers): ")
    for phrase in phrases:
        assert phrase in message


def test_parameter_count_without_reset_after_argument():
    def three_arguments(cell, n, d):
        return gated.parameter_count(cell, n, d)

    assert "raised TypeError" in failure(check_parameter_count, three_arguments)


def test_parameter_count_that_ignores_reset_after():
    def ignores(cell, n, d, reset_after=True):
        return gated.parameter_count(cell, n, d, True)

    assert "with reset_after=False the GRU has one bias per block" in failure(check_parameter_count, ignores)


# Exercise 4.4: how far back the gradient reaches ------------------------------------------------


def reach_loop(log_gradients, drop):
    """A right answer written as a loop over the distances."""
    reach = 0
    for k, value in enumerate(log_gradients):
        if value - log_gradients[0] >= -drop:
            reach = k
    return reach


def reach_from_the_end(log_gradients, drop):
    """A right answer that walks back from the far end and stops at the first distance within drop."""
    logs = np.asarray(log_gradients)
    for k in range(len(logs) - 1, -1, -1):
        if logs[0] - logs[k] <= drop:
            return k


def reach_in_norms(log_gradients, drop):
    """A right answer that goes back to norms: within a factor 10 ** drop."""
    norms = 10.0 ** np.asarray(log_gradients, dtype=float)
    return np.flatnonzero(norms * 10.0 ** drop >= norms[0]).max()    # an np.int64


def test_gradient_reach_alternative_correct_answers_pass(capsys):
    for answer in (reach_loop, reach_from_the_end, reach_in_norms, lambda logs, drop: float(gated.gradient_reach(logs, drop))):
        check_gradient_reach(answer)
    assert capsys.readouterr().out.count("passed all 6 checks") == 4


def reach_with(log_gradients, drop, *, start="first", rule="last within", compare=">=", threshold="log"):
    """A learner's reach with one slip: where the fall is measured from, which distance is returned, how."""
    logs = np.asarray(log_gradients, dtype=float)
    base = {"first": logs[0], "last": logs[-1], "max": logs.max()}[start]
    limit = {"log": base - drop, "norms": base - drop, "divided": base / 10 ** drop,
             "log10 drop": base - np.log10(drop)}[threshold]
    values = 10 ** logs if threshold == "norms" else logs  # norms compared with a log10 threshold
    if compare == ">=":
        within = values >= limit
    elif compare == ">":
        within = values > limit
    else:  # "abs"
        within = np.abs(values - base) <= drop
    if rule == "last within":
        return int(np.nonzero(within)[0][-1])
    if rule == "first below":
        return int(np.argmax(~within))
    if rule == "first stretch":
        return int(np.argmax(~within)) - 1 if not within.all() else len(logs) - 1
    if rule == "count":
        return int(within.sum())
    if rule == "count - 1":
        return int(np.count_nonzero(within)) - 1
    if rule == "plus one":
        return int(np.nonzero(within)[0][-1]) + 1
    if rule == "minus one":
        return int(np.nonzero(within)[0][-1]) - 1
    if rule == "time":
        return len(logs) - 1 - int(np.nonzero(within)[0][-1])
    raise ValueError(rule)


def reach_in_time_order(log_gradients, drop):
    """Takes the array to run over time, t = 1 .. T: the last entry is distance 0."""
    logs = np.asarray(log_gradients)[::-1]
    return int(np.nonzero(logs >= logs[0] - drop)[0].max())


_TITLE_44 = "Exercise 4.4 (how far back the gradient reaches): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda logs, drop: reach_with(logs, drop, start="last"), ["from the wrong end of the array",
                                                                    "you returned 15, expected 11"]),
        (reach_in_time_order, ["from the wrong end of the array", "log_gradients[0] is the gradient of the last input"]),
        (lambda logs, drop: reach_with(logs, drop, rule="first below"), ["the first distance at which the gradient",
                                                                          "still within drop"]),
        (lambda logs, drop: reach_with(logs, drop, rule="first stretch"),
         ["you stopped at the first dip", "comes back within drop", "not monotone", "you returned 5"]),
        (lambda logs, drop: reach_with(logs, drop, rule="count"), ["you counted the distances within drop"]),
        (lambda logs, drop: reach_with(logs, drop, rule="count - 1"), ["you counted the distances within drop"]),
        (lambda logs, drop: reach_with(logs, drop, rule="plus one"), ["one step too large", "not k + 1"]),
        (lambda logs, drop: reach_with(logs, drop, rule="minus one"), ["one step too small"]),
        (lambda logs, drop: reach_with(logs, drop, rule="time"), ["T - 1 - k", "counted from the start"]),
        (lambda logs, drop: reach_with(logs, drop, threshold="divided"), ["divided log_gradients[0] by 10 ** drop",
                                                                          "a subtraction"]),
        (lambda logs, drop: reach_with(logs, drop, threshold="norms"), ["compared the norms 10 ** log_gradients"]),
        (lambda logs, drop: reach_with(logs, drop, threshold="log10 drop"), ["you took log10(drop)"]),
        (lambda logs, drop: reach_with(logs, drop, start="max"), ["from the largest value of the curve"]),
        (lambda logs, drop: reach_with(logs, drop, compare=">"), ["fallen by exactly drop", "not >",
                                                                   "8 distances", "drop=0.5"]),
        (lambda logs, drop: reach_with(logs, drop, compare="abs"), ["grows by more than drop", "without abs",
                                                                     "drop=2"]),
        (lambda logs, drop: gated.gradient_reach(logs, drop) - 10, ["your reach is 1 on", "expected 11"]),
        (lambda logs, drop: len(logs) + 2, ["not a distance of this curve", "from 0 to T - 1 = 15"]),
        (lambda logs, drop: np.nonzero(logs >= logs[0] - drop)[0], ["return one distance", "ndarray of shape (9,)"]),
        (lambda logs, drop: logs >= logs[0] - drop, ["return one distance", "whole mask"]),
        (lambda logs, drop: logs[gated.gradient_reach(logs, drop)], ["you returned 0.6, which is not a whole number",
                                                                     "not a log10 value"]),
        (lambda logs, drop: bool(gated.gradient_reach(logs, drop)), ["a truth value"]),
        (lambda logs, drop: np.zeros(0), ["an empty array"]),
    ],
)
def test_gradient_reach_mistakes_are_named(answer, phrases):
    assert_named(check_gradient_reach, answer, _TITLE_44, phrases)


def test_gradient_reach_that_writes_into_its_input():
    def sorts_in_place(log_gradients, drop):
        reach = gated.gradient_reach(log_gradients, drop)
        log_gradients.sort()
        return reach

    assert "changed its input `log_gradients` in place" in failure(check_gradient_reach, sorts_in_place)


# Inputs left alone, unfinished answers, empty results ------------------------------------------------


def lstm_updates_the_cell_in_place(x_t, s_prev, c_prev, U, W, b):
    d = len(s_prev)
    a = U @ x_t + W @ s_prev + b
    i, f, g, o = sigmoid(a[:d]), sigmoid(a[d:2 * d]), np.tanh(a[2 * d:3 * d]), sigmoid(a[3 * d:])
    c_prev *= f
    c_prev += i * g
    return o * np.tanh(c_prev), c_prev


def gru_reset_before_only(x_t, s_prev, U, W, b, reset_after):
    if reset_after:
        raise NotImplementedError("the reset_after=True variant")
    return gated.gru_step(x_t, s_prev, U, W, b, reset_after)


def _unfinished():
    raise NotImplementedError


def count_without_gru_yet(cell, n, d, reset_after=True):
    block = d * n + d * d + d
    if cell == "simple":
        return block
    if cell == "lstm":
        return 4 * block
    raise NotImplementedError


@pytest.mark.parametrize(
    ("check", "answer", "phrases"),
    [
        (check_lstm_step, lstm_updates_the_cell_in_place, ["changed its input `c_prev` in place"]),
        (check_lstm_step, lambda *a: (np.zeros(0), gated.lstm_step(*a)[1]), ["your s_t is empty", "no values"]),
        (check_gru_step, gru_reset_before_only,
         ["unfinished", "NotImplementedError on reset_after=True, n=3, d=2", "the 3 earlier cases passed"]),
        (check_gradient_reach, lambda logs, drop: gated.gradient_reach(logs, drop) if len(logs) > 1 else _unfinished(),
         ["unfinished", "NotImplementedError on log_gradients of 1 distances", "the 5 earlier cases passed"]),
        (check_parameter_count, count_without_gru_yet,
         ["unfinished", "NotImplementedError on cell='gru', reset_after=True, n=3, d=5", "earlier cases passed"]),
    ],
)
def test_newly_caught_mistakes_are_named(check, answer, phrases):
    message = failure(check, answer)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


# Issue 31: steps computed in float32 pass; a difference with a recognisable shape is named


def test_float32_steps_pass(capsys):
    def f32(*arrays):
        return [np.asarray(a, dtype=np.float32) for a in arrays]

    check_lstm_step(lambda *a: gated.lstm_step(*f32(*a)))
    check_gru_step(lambda x, s, U, W, b, reset_after: gated.gru_step(*f32(x, s, U, W, b), reset_after))
    assert capsys.readouterr().out.count("passed") == 2


def test_gru_step_with_the_sign_flipped_says_so():
    message = failure(check_gru_step, lambda *a: -gated.gru_step(*a))
    assert "your result is the right one with the opposite sign everywhere" in message

"""utils.checks.ch02: each checker passes the reference, tolerates a stub and names each mistake.

The wrong answers below are the kind a learner writes; each test asserts on the phrase of
the diagnostic that points at that particular mistake.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from checkerfailures import assert_named, failure

from utils.models.cells import masked_final_state, rnn_forward, rnn_parameter_count, rnn_step
from utils.checks.ch02 import (check_masked_final_state, check_reverse_padded, check_rnn_parameter_count,
                               check_rnn_step)
from utils.data.sequences import reverse_padded


# Exercise 2.1: one step -------------------------------------------------------------------------


def step_with_einsum(x_t, s_prev, U, W, b):
    return np.tanh(np.einsum("dn,n->d", U, x_t) + np.einsum("de,e->d", W, s_prev) + b)


def step_without_state(x_t, s_prev, U, W, b):
    return np.tanh(U @ x_t + b)


def step_w_transposed(x_t, s_prev, U, W, b):
    return np.tanh(U @ x_t + W.T @ s_prev + b)


def step_keras_layout_for_u(x_t, s_prev, U, W, b):
    return np.tanh(x_t @ U + W @ s_prev + b)


def step_swapped(x_t, s_prev, U, W, b):
    return np.tanh(U @ s_prev + W @ x_t + b)


def step_without_bias(x_t, s_prev, U, W, b):
    return np.tanh(U @ x_t + W @ s_prev)


def step_sigmoid(x_t, s_prev, U, W, b):
    return 1 / (1 + np.exp(-(U @ x_t + W @ s_prev + b)))


def step_relu(x_t, s_prev, U, W, b):
    return np.maximum(0, U @ x_t + W @ s_prev + b)


def step_linear(x_t, s_prev, U, W, b):
    return U @ x_t + W @ s_prev + b


def step_as_column(x_t, s_prev, U, W, b):
    return np.tanh(U @ x_t[:, None] + W @ s_prev[:, None] + b[:, None])


def step_bias_twice(x_t, s_prev, U, W, b):
    return np.tanh(U @ x_t + W @ s_prev + 2 * b)


def step_remembers_first_state(x_t, s_prev, U, W, b, _memory={}):  # noqa: B006 - the learner's cache
    key = (x_t.tobytes(), U.tobytes())
    _memory.setdefault(key, s_prev)
    return np.tanh(U @ x_t + W @ _memory[key] + b)


def step_ignores_zero_state(x_t, s_prev, U, W, b):
    if not s_prev.any():
        return np.tanh(U @ x_t)
    return np.tanh(U @ x_t + W @ s_prev + b)


def test_rnn_step_alternative_correct_answer_passes(capsys):
    check_rnn_step(step_with_einsum)
    assert "passed all 7 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (step_without_state, ["ignores the previous state", "changing s_{t-1} did not change the output"]),
        (step_w_transposed, ["a transposed weight", "W^T s_{t-1}", "W @ s_prev"]),
        (step_keras_layout_for_u, ["a transposed weight", "U^T x_t"]),
        (step_swapped, ["x_t and s_{t-1} are swapped"]),
        (step_without_bias, ["the bias b is missing"]),
        (step_sigmoid, ["wrong activation", "sigmoid", "tanh"]),
        (step_relu, ["wrong activation", "relu"]),
        (step_linear, ["the activation is missing", "np.tanh"]),
        (step_as_column, ["shape (3, 1), expected (3,)", "plain vector"]),
        (step_bias_twice, ["largest difference", "np.tanh(U @ x_t + W @ s_prev + b)"]),
        (step_remembers_first_state, ["ignores the previous state"]),
        (step_ignores_zero_state, ["s_1 from s_0 = 0", "tanh(U x_1 + b)"]),
    ],
)
def test_rnn_step_mistakes_are_named(answer, phrases):
    message = failure(check_rnn_step, answer)
    assert message.startswith("Exercise 2.1 (one recurrent step in NumPy): ")
    for phrase in phrases:
        assert phrase in message


def test_rnn_step_that_crashes_on_non_square_weights():
    def square_only(x_t, s_prev, U, W, b):
        if U.shape[0] != U.shape[1]:
            raise ValueError("matmul: size mismatch")
        return rnn_step(x_t, s_prev, U, W, b)

    message = failure(check_rnn_step, square_only)
    assert "raised ValueError" in message
    assert "U (5, 3)" in message


def test_rnn_step_depending_on_more_than_its_arguments():
    calls = []

    def drifts(x_t, s_prev, U, W, b):
        calls.append(1)
        return rnn_step(x_t, s_prev, U, W, b) + (0.1 if len(calls) == 2 else 0.0)

    message = failure(check_rnn_step, drifts)
    assert "another s_prev" in message
    assert "do not keep values between calls" in message


# Exercise 2.2: parameter count ------------------------------------------------------------------


def count_as_float(n, d, k):
    return float(d * n + d * d + d + k * d + k)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda n, d, k: d * n + d * d + k * d + k,
         ["bias b of the recurrent layer", "gave 82, expected 87"]),
        (lambda n, d, k: d * n + d * d + d + k * d, ["output bias c"]),
        (lambda n, d, k: d * n + d * d + k * d, ["both biases are missing"]),
        (lambda n, d, k: d * n + d + k * d + k, ["recurrent matrix W (d x d) is missing"]),
        (lambda n, d, k: 2 * d * n + d + k * d + k, ["W has shape d x d", "not d x n"]),
        (lambda n, d, k: 2 * d * d + d + k * d + k, ["U has shape d x n"]),
        (lambda n, d, k: d * n + d * d + d + k * k + k, ["V has shape k x d"]),
        (lambda n, d, k: d * n + d * d + d, ["only the recurrent layer", "V (k x d) and c (k)"]),
        (lambda n, d, k: 2 * (d * n + d * d + d) + k * d + k, ["counted the recurrent layer twice"]),
        (lambda n, d, k: d * n + d * d + d + k * d + k + 1, ["for n=3, d=5, k=7 you gave 88, expected 87",
                                                             "U (5x3) + W (5x5)"]),
        (lambda n, d, k: np.array([d * n, d * d, d, k * d, k]), ["return one number", "shape (5,)"]),
        (lambda n, d, k: "87", ["for n=12, d=64, k=9 you gave 87"]),
    ],
)
def test_rnn_parameter_count_mistakes_are_named(answer, phrases):
    message = failure(check_rnn_parameter_count, answer)
    assert message.startswith("Exercise 2.2 (parameters of a recurrent network): ")
    for phrase in phrases:
        assert phrase in message


def test_rnn_parameter_count_accepts_a_float_count(capsys):
    check_rnn_parameter_count(count_as_float)
    assert "passed all 5 checks" in capsys.readouterr().out


def test_rnn_parameter_count_that_needs_a_sequence_length():
    def per_step(n, d, k, T):
        return T * (d * n + d * d + d + k * d + k)

    assert "raised TypeError" in failure(check_rnn_parameter_count, per_step)


# Exercise 2.3: masked final state ---------------------------------------------------------------


def masked_with_a_loop(X, mask, U, W, b):
    final = []
    for x_row, m_row in zip(X, mask, strict=True):
        s = np.zeros(W.shape[0])
        for x_t, real in zip(x_row, m_row, strict=True):
            if real:
                s = np.tanh(U @ x_t + W @ s + b)
        final.append(s)
    return np.array(final)


def masked_ignores_mask(X, mask, U, W, b):
    return rnn_forward(X, U, W, b)[:, -1]


def masked_resets_state(X, mask, U, W, b):
    s = np.zeros((X.shape[0], W.shape[0]))
    for t in range(X.shape[1]):
        s = np.where(mask[:, t, None], np.tanh(X[:, t] @ U.T + s @ W.T + b), 0.0)
    return s


def masked_assumes_post_padding(X, mask, U, W, b):
    states = rnn_forward(X, U, W, b)
    return states[np.arange(len(X)), mask.sum(axis=1) - 1]


def masked_zeroes_inputs_only(X, mask, U, W, b):
    return rnn_forward(np.where(mask[..., None], X, 0.0), U, W, b)[:, -1]


def masked_returns_every_state(X, mask, U, W, b):
    return rnn_forward(X, U, W, b)


def masked_transposed_w(X, mask, U, W, b):
    return masked_final_state(X, mask, U, W.T, b)


def test_masked_final_state_alternative_correct_answer_passes(capsys):
    check_masked_final_state(masked_with_a_loop)
    assert "passed all 4 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (masked_ignores_mask, ["the mask is ignored", "padding with non-zero values after the data",
                               "keep s_{t-1} unchanged"]),
        (masked_resets_state, ["reset the state at padded steps", "carry the state through unchanged"]),
        (masked_assumes_post_padding,
         ["assumes the padding comes after the data", "padding before the data"]),
        (masked_zeroes_inputs_only, ["set the padded inputs to zero but still applied the recurrence",
                                     "non-zero values after the data"]),
        (masked_returns_every_state, ["a state for every step", "shape (2, 6, 4)", "shape (2, 4)"]),
        (masked_transposed_w, ["a transposed weight in the batched step", "s @ W.T", "a batch without padding"]),
        (lambda X, mask, U, W, b: masked_final_state(X, mask, U, W, b)[:1],
         ["shape (1, 4), expected (2, 4)"]),
    ],
)
def test_masked_final_state_mistakes_are_named(answer, phrases):
    message = failure(check_masked_final_state, answer)
    assert message.startswith("Exercise 2.3 (the final state of a masked batch): ")
    for phrase in phrases:
        assert phrase in message


# Inputs left alone, inverted masks, empty results, unfinished answers --------------------------------


def step_updates_the_state_in_place(x_t, s_prev, U, W, b):
    s_prev[:] = np.tanh(U @ x_t + W @ s_prev + b)  # "update the state" by writing into the argument
    return s_prev


def step_adds_into_the_bias(x_t, s_prev, U, W, b):
    b += U @ x_t + W @ s_prev
    return np.tanh(b)


def masked_with_the_where_swapped(X, mask, U, W, b):
    state = np.zeros((X.shape[0], W.shape[0]))
    for t in range(X.shape[1]):
        candidate = np.tanh(X[:, t] @ U.T + state @ W.T + b)
        state = np.where(mask[:, t, None], state, candidate)  # the branches the wrong way round
    return state


def masked_skipping_true_steps(X, mask, U, W, b):
    final = []
    for x_row, m_row in zip(X, mask, strict=True):
        s = np.zeros(W.shape[0])
        for x_t, padded in zip(x_row, m_row, strict=True):  # reads the mask as "is padding"
            if not padded:
                s = np.tanh(U @ x_t + W @ s + b)
        final.append(s)
    return np.array(final)


def masked_post_padding_only(X, mask, U, W, b):
    if not mask[:, 0].all():
        raise NotImplementedError("padding before the data: later")
    lengths = mask.sum(axis=1)
    return rnn_forward(X, U, W, b)[np.arange(len(X)), lengths - 1]


def masked_inverted_after_the_first_case(X, mask, U, W, b):
    return masked_final_state(X, mask if mask.all() else ~mask, U, W, b)


def masked_nothing_returned(X, mask, U, W, b):
    return np.zeros((0, W.shape[0]))


@pytest.mark.parametrize(
    ("check", "answer", "phrases"),
    [
        (check_rnn_step, step_updates_the_state_in_place, ["changed its input `s_prev` in place", "copy"]),
        (check_rnn_step, step_adds_into_the_bias, ["changed its input `b` in place"]),
        (check_masked_final_state, masked_with_the_where_swapped,
         ["as if the mask were inverted", "True at the real steps", "a batch without padding"]),
        (check_masked_final_state, masked_skipping_true_steps, ["mask were inverted"]),
        (check_masked_final_state, masked_inverted_after_the_first_case,
         ["the mask is inverted", "padding with non-zero values after the data"]),
        (check_masked_final_state, masked_post_padding_only,
         ["unfinished", "NotImplementedError on padding before the data", "the 3 earlier cases passed"]),
        (check_masked_final_state, masked_nothing_returned,
         ["your final states is empty", "returned no values", "a batch without padding"]),
    ],
)
def test_newly_caught_mistakes_are_named(check, answer, phrases):
    message = failure(check, answer)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


# Exercise 2.4: the recordings played backwards ------------------------------------------------------

_TITLE_24 = "Exercise 2.4 (the recordings played backwards): "


def reverse_with_a_loop(x, mask):
    out = x.copy()
    for i, length in enumerate(mask.sum(axis=1)):
        out[i, :length] = x[i, length - 1 :: -1] if length else x[i, :0]
    return out


def reverse_with_take_along_axis(x, mask):
    lengths = mask.sum(axis=1, keepdims=True)                       # (B, 1)
    steps = np.arange(x.shape[1])[None, :]                          # (1, T)
    source = np.where(steps < lengths, lengths - 1 - steps, steps)  # (B, T): where each frame comes from
    return np.take_along_axis(x, source[..., None], axis=1)


def reverse_as_a_list_of_rows(x, mask):
    return [np.concatenate([row[real][::-1], row[~real]]) for row, real in zip(x, mask, strict=True)]


def reverse_rows(x, mask, *, lengths_axis=1, cut="real"):
    """A learner's loop over the recordings, with one option per plausible slip."""
    out = x.copy()
    for i, length in enumerate(mask.sum(axis=lengths_axis)[: len(x)]):
        if cut == "real":
            out[i, :length] = x[i, :length][::-1]
        elif cut == "stop at 0":
            out[i, :length] = x[i, length:0:-1]
        elif cut == "one short":
            out[i, : length - 1] = x[i, : length - 1][::-1]
        elif cut == "whole row, then cut":
            out[i, :length] = x[i, ::-1][:length]
    return out


def reverse_into_zeros(x, mask):
    out = np.zeros_like(x)
    for i, length in enumerate(mask.sum(axis=1)):
        out[i, :length] = x[i, :length][::-1]
    return out


def reverse_the_padding(x, mask):
    out = x.copy()
    for i, row in enumerate(mask):
        padded = np.flatnonzero(~row)
        out[i, padded] = x[i, padded[::-1]]
    return out


def reverse_in_place(x, mask):
    for i, length in enumerate(mask.sum(axis=1)):
        x[i, :length] = x[i, :length][::-1]
    return x


def reverse_and_return_the_mask(x, mask):
    return reverse_padded(x, mask), mask


def reverse_unpadded(x, mask):
    return [row[real][::-1] for row, real in zip(x, mask, strict=True)]


def test_reverse_padded_alternative_correct_answers_pass(capsys):
    answers = (reverse_with_a_loop, reverse_with_take_along_axis, reverse_as_a_list_of_rows, reverse_rows,
               lambda x, mask: reverse_padded(x, mask).astype(np.float32))
    for answer in answers:
        check_reverse_padded(answer)
    assert capsys.readouterr().out.count("passed all 4 checks") == len(answers)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda x, mask: x[:, ::-1], ["your padding comes first", "x[:, ::-1]", "x[i, :L][::-1]",
                                      "recordings of [3, 1, 4, 2, 4] frames padded with 0 to 5 frames"]),
        (lambda x, mask: np.flip(x, axis=1), ["your padding comes first"]),
        (lambda x, mask: x[::-1], ["reversed the order of the recordings", "the batch axis"]),
        (lambda x, mask: x[..., ::-1], ["reversed the 3 coefficients of every frame", "the last axis"]),
        (lambda x, mask: np.flip(x), ["flipped every axis", "np.flip(x) without an axis"]),
        (lambda x, mask: x[:, ::-1, ::-1], ["the coefficients as well as the whole time axis"]),
        (lambda x, mask: reverse_padded(x, mask)[..., ::-1], ["coefficients of each frame as well as the frames"]),
        (lambda x, mask: x.copy(), ["came back unchanged", "mask is True at the real frames"]),
        (reverse_the_padding, ["came back unchanged", "you reversed the padding"]),
        (functools.partial(reverse_rows, cut="stop at 0"), ["off by one", "x[i, L:0:-1]", "x[i, L - 1::-1]"]),
        (functools.partial(reverse_rows, cut="one short"), ["one frame short", "last real frame"]),
        (functools.partial(reverse_rows, cut="whole row, then cut"), ["x[i, ::-1][:L]", "padding and the last"]),
        (functools.partial(reverse_rows, lengths_axis=0), ["counted along the wrong axis", "mask.sum(axis=1)"]),
        (reverse_into_zeros, ["overwrote the padding with zeros", "pads with 9", "copy of x"]),
        (reverse_in_place, ["changed its input `x` in place"]),
        (reverse_and_return_the_mask, ["return the reversed batch alone", "tuple of 2 items",
                                       "mask does not change"]),
        (reverse_unpadded, ["one array per recording, of different lengths (list of 5 items)", "shape (5, 5, 3)"]),
        (lambda x, mask: reverse_padded(x, mask)[:, :4], ["shape (5, 4, 3), expected (5, 5, 3)"]),
        (lambda x, mask: reverse_padded(x, mask)[None], ["shape (1, 5, 5, 3)"]),
        (lambda x, mask: None, ["returned None", "the reversed batch"]),
        (lambda x, mask: np.full(x.shape, np.nan), ["NaN or infinity"]),
        (lambda x, mask: reverse_padded(x, mask) + (x.shape[-1] == 12), ["recording 0 (of 6 real frames)",
                                                                          "float32 batch x of shape (4, 7, 12)",
                                                                          "x[0, :6][::-1]",
                                                                          "followed by its padded frame as it was"]),
    ],
    ids=["whole axis", "np.flip axis 1", "batch axis", "channels", "every axis", "time and channels",
         "frames and channels", "unchanged", "padding reversed", "stop at 0", "one short", "whole row cut",
         "axis 0 lengths", "zeros", "in place", "tuple", "unpadded list", "cut", "extra axis", "None", "NaN", "off"],
)
def test_reverse_padded_mistakes_are_named(answer, phrases):
    assert_named(check_reverse_padded, answer, _TITLE_24, phrases)


def test_reverse_padded_stub_is_not_attempted(capsys):
    def stub(x, mask):
        raise NotImplementedError

    check_reverse_padded(stub)
    assert "not attempted yet" in capsys.readouterr().out


# Issue 31: mistakes that got only the generic message


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (lambda x, s, U, W, b: np.tanh(U @ x + W @ s - b), "you subtracted the bias"),
        (lambda x, s, U, W, b: np.tanh(U @ x + W @ s + b) + s, "a residual connection"),
        (lambda x, s, U, W, b: np.tanh(U @ x + W @ np.tanh(s) + b), "you applied tanh to s_{t-1} again"),
    ],
    ids=["bias subtracted", "residual", "tanh of the state"],
)
def test_rnn_step_issue_31_mistakes_are_named(answer, phrase):
    assert phrase in failure(check_rnn_step, answer)


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (lambda n, d, k: d * n + d * d + 2 * d + k * d + k, "you counted two biases for the recurrent layer"),
        (lambda n, d, k: d * n + d * d + d + k * n + k, "V has shape k x d"),
    ],
    ids=["two biases", "V as k x n"],
)
def test_rnn_parameter_count_issue_31_mistakes_are_named(answer, phrase):
    assert phrase in failure(check_rnn_parameter_count, answer)


def test_rnn_step_in_float32_passes(capsys):
    check_rnn_step(lambda x, s, U, W, b: np.tanh(*(np.float32(1) * (U.astype(np.float32) @ x.astype(np.float32)
                                                                   + W.astype(np.float32) @ s.astype(np.float32)
                                                                   + b.astype(np.float32)),)))
    assert "passed" in capsys.readouterr().out

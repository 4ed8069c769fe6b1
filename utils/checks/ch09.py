"""Checkers for chapter 9: transformers.

Exercise 9.1 writes scaled dot-product attention in NumPy (``softmax(q k^T / sqrt(dk)) v`` with a
boolean mask, True where a query may look, returning the output and the weights), 9.2 the causal
mask of a decoder, 9.3 the split of a (B, T, H * dh) batch into H heads (B, H, T, dh), 9.4 the
``call`` of a Keras decoder block with its causal and memory masks, and 9.5 (the chapter's
experiment) the bits per character of a language model that may read only the last ``context``
characters.

Each checker computes what the plausible wrong answers return on its inputs and names the one the
learner's answer matches, when the input tells it apart from the others:

- 9.1: the scale left out, dk instead of sqrt(dk), a product with sqrt(dk), sqrt(dv); k used without
  its transpose, the scores transposed (k q^T), the softmax over the queries (axis -2); the mask
  ignored, inverted, transposed, applied after the softmax, or given scores of 0 instead of -inf; the
  scores returned as weights, the weights returned as the output, (weights, output) swapped, a lone
  array; np.exp overflowing on large scores. Its first case is one sequence with as many queries as
  keys and as the depth of the keys (q @ k then runs and the softmax over the queries keeps the
  shape), with a causal mask and values of another depth, so that each slip gives its own weights;
  the others are batched, 3-D and 4-D, with more keys than queries, a padding mask (B, 1, Tk), a
  (Tq, Tk) mask shared by every sequence and head, no mask, and scores of about 800.
- 9.2: the diagonal left out, one step of the future let in, the upper triangle (the transpose), the
  mask of the future (True where a query must not look), all True, all False, the diagonal alone, an
  additive (0 / -inf) mask, values other than 0 and 1, a 1-D mask, an extra axis and a side one too
  long or too short. The first length, 5, tells all of them apart; lengths 1, 2 and 8 follow.
- 9.3: a reshape straight to (B, H, T, dh) without the transpose, the transpose left out, the heads
  interleaved (head h given every H-th column), (B, H, dh, T), the number of heads and their depth
  swapped, the heads stacked in front of the batch. Sizes differ from each other except where T == H
  (the missing transpose keeps the shape) and T == dh ((B, H, dh, T) keeps it), so that those mistakes
  give an array of the right shape with wrong values that can be named; a last case has one head.
- 9.4: by behaviour, on the learner's own sublayers with random weights (layer normalisations and
  biases included): a change of x at position 4 must not reach the outputs before it (the causal
  mask), a change of the memory at padded source positions must change nothing (the memory mask),
  and the output must equal the sublayers wired as the chapter says, within float32 rounding, with a
  boolean, a float and no memory mask. The batch (3) differs from the heads (2) and the decoder's
  length (6) from the source's (5), so that a (B, Tx) mask used without its query axis fails, and
  is named when the block runs without a mask; post-norm, a residual left out, the memory
  normalised, a stale query, the masks swapped or the causal mask also on cross-attention are named.
- 9.5: the window ending one character early, or late (then it holds the target), ids[p] predicted
  instead of ids[p + 1], the logits of the window's first position, every position of the window
  scored, nats, a sum, the perplexity, the logits taken as probabilities (no softmax) or divided by
  their sum, the softmax over the windows or over the window positions, an array instead of a float.
  The model is synthetic: position t's logits add up a fixed random table's rows for the last 4
  characters up to t, so that the bits depend on how many characters the window holds and on which
  they are, and its logits are positive so that their log is finite. It records the shapes it was
  given: windows of another width than ``context`` (one character short, one too many, the whole text)
  are named from the widths before any value. Calling the model once per window is not a mistake.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from keras import layers, ops

from utils.checks.framework import Mistake, call, checker, expect_array, named_mistake
from utils.checks.ch06 import _LN2, _log2_softmax, _one_number, _picked
from utils.checks.ch07 import _parts, _reason, _same
from utils.checks.ch08 import (_NEGATIVE, _bits, _close, _float32_exact, _largest_difference, _no_return,
                               _not_a_tuple, _same_number, _softmax, raised_hint, same_on_twin)
from utils.checks.symptoms import likely_cause
from utils.tasks.lm import bits_per_character, bits_with_context, context_windows
from utils.models.transformer import causal_mask, scaled_dot_product_attention, split_heads

# Exercise 9.1: scaled dot-product attention ======================================================

_Attention = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]  # q, k, v, mask

_SHAPES = ("q is (..., Tq, dk), k (..., Tk, dk) and v (..., Tk, dv), with any number of leading (batch, head) "
           "axes: transpose only the last two axes of k, np.swapaxes(k, -1, -2) (k.T reverses every axis of a 3-D "
           "array), take the softmax over axis=-1 with keepdims=True, and use the mask as it is: it broadcasts "
           "against the (..., Tq, Tk) scores.")


def _attention_cases() -> list[tuple[_Attention, str, bool]]:
    """(q, k, v, mask), the case in words and whether its scores are large (see the module docstring)."""
    rng = np.random.default_rng(91)

    def normal(*shape: int) -> np.ndarray:
        return _float32_exact(rng.normal(0.0, 1.0, shape))

    def large(*shape: int) -> np.ndarray:  # whole numbers: the first component makes every score 1600 / 2
        x = rng.integers(-2, 3, shape).astype(np.float64)
        x[..., 0] = 40.0
        return x

    padding = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0]], dtype=bool)[:, None, :]
    cases = [
        ("one sequence", (normal(4, 4), normal(4, 4), normal(4, 3), causal_mask(4)), "a causal mask (4, 4)"),
        ("a batch", (normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 6), padding),
         f"a padding mask (2, 1, 5) {_bits(padding[:, 0])}"),
        ("a batch of 3 heads", (normal(2, 3, 4, 5), normal(2, 3, 6, 5), normal(2, 3, 6, 2), causal_mask(4, 6)),
         "a (Tq, Tk) mask (4, 6) for every sequence and head, causal_mask(4, 6)"),
        ("a batch", (normal(3, 2, 6), normal(3, 4, 6), normal(3, 4, 3), None), "mask=None"),
        ("large scores (about 800)", (large(2, 3, 4), large(2, 5, 4), normal(2, 5, 2), padding),
         f"a padding mask (2, 1, 5) {_bits(padding[:, 0])}"),
    ]
    return [((q, k, v, mask), f"{label}: q {q.shape}, k {k.shape}, v {v.shape} and {masked}", label.startswith("large"))
            for label, (q, k, v, mask), masked in cases]


def _reference_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`utils.models.transformer.scaled_dot_product_attention` in float32, as float64 ``(output, weights)``.

    Every array gets a leading axis and the mask the scores' full shape: the reference's masked softmax
    reads a 2-D mask as a (B, Tk) key mask, not as a (Tq, Tk) one.
    """
    q32, k32, v32 = (np.asarray(a, dtype=np.float32)[None] for a in (q, k, v))
    full = None if mask is None else np.broadcast_to(mask, (*q32.shape[:-1], k32.shape[-2]))
    output, weights = scaled_dot_product_attention(q32, k32, v32, full)
    return (ops.convert_to_numpy(output)[0].astype(np.float64), ops.convert_to_numpy(weights)[0].astype(np.float64))


_NO_TRANSPOSE = ("your scores use k without transposing it: scores[i, j] is the dot product of query i with key j, "
                 "q @ k^T, so swap the last two axes of k, np.swapaxes(k, -1, -2) (k.T for one sequence). q @ k only "
                 "ran because the keys are as many as their depth here.")
_SCORES_TRANSPOSED = ("your scores are transposed (k @ q^T): rows are the queries and columns the keys, q @ k^T, so "
                      "that each query's weights over the keys lie along the last axis.")
_MASK_TRANSPOSED = ("your mask is transposed: mask[i, j] says whether query i (row i of the scores) may look at key j "
                    "(column j); use it as it is, np.where(mask, scores, -np.inf).")


def _masked(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    return scores if mask is None else np.where(mask, scores, -np.inf)


# What each mistake that fits only a square input does on any input (weights, or an exception): a suspect named on
# the square case must do the same on a rectangular twin, or another mistake gave its weights there.
_SQUARE_ATTENTION = {
    _NO_TRANSPOSE: lambda q, k, v, m: _softmax(_masked(q @ k / math.sqrt(q.shape[-1]), m)),
    _SCORES_TRANSPOSED: lambda q, k, v, m: _check_weights_fit(
        _softmax(_masked(k @ np.swapaxes(q, -1, -2) / math.sqrt(q.shape[-1]), m)), v),
    _MASK_TRANSPOSED: lambda q, k, v, m: _softmax(np.where(np.swapaxes(m, -1, -2), q @ np.swapaxes(k, -1, -2)
                                                           / math.sqrt(q.shape[-1]), -np.inf)),
}


def _check_weights_fit(weights: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The weights, after the product with v that a learner's answer goes on to compute (it raises if they do not fit)."""
    weights @ v
    return weights


def _attention_suspects(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None
                        ) -> list[tuple[np.ndarray | None, str]]:
    """What the plausible wrong answers give as weights on this input, each with its message."""
    dk, dv, tq, tk = q.shape[-1], v.shape[-1], q.shape[-2], k.shape[-2]
    raw = q @ np.swapaxes(k, -1, -2)
    scores = raw / math.sqrt(dk)
    keep = None if mask is None else np.broadcast_to(mask, scores.shape)
    scale = f"divide q @ k^T by sqrt(dk) = sqrt({dk}), dk = q.shape[-1] the depth of the queries and keys"
    suspects: list[tuple[np.ndarray | None, str]] = [
        (_softmax(raw, keep), f"your scores are not scaled: {scale}. Without it the scores grow with the depth "
                              "and the softmax saturates."),
        (_softmax(raw / dk, keep), f"you divided the scores by dk = {dk}: the scale is its square root, {scale}."),
        (_softmax(raw * math.sqrt(dk), keep), f"you multiplied the scores by sqrt(dk): {scale}."),
        (_softmax(raw / math.sqrt(dv), keep) if dv != dk else None,
         f"you scaled by sqrt(dv) = sqrt({dv}), the depth of the values: {scale}."),
        (_softmax(q @ k / math.sqrt(dk), keep) if tk == dk else None, _NO_TRANSPOSE),
        (_softmax(k @ np.swapaxes(q, -1, -2) / math.sqrt(dk), keep) if tq == tk else None, _SCORES_TRANSPOSED),
        (_softmax(raw / math.sqrt(tk), keep) if tk != dk else None,
         f"you scaled by sqrt(Tk) = sqrt({tk}), the number of keys: {scale}."),
    ]
    wrong_axis = ("your softmax runs over the queries (axis -2): each query's weights over the keys must sum to 1, "
                  "so normalise over the last axis, axis=-1, with keepdims=True.")
    returned_scores = ("you returned the (scaled, masked) scores as the weights: the weights are their softmax over "
                       "the keys, and the output is the weights times v.")
    suspects += [(scores, returned_scores)]
    fills = (-np.inf, _NEGATIVE)
    if keep is None:
        return [*suspects, (_softmax(scores, axis=-2), wrong_axis)]
    inverted = ("your mask is the wrong way round: the weight went where the mask forbids it. The course's masks are "
                "True where a query may look (as Keras's attention_mask), so keep the scores where the mask is "
                "True: np.where(mask, scores, -np.inf).")
    transposed = _MASK_TRANSPOSED
    suspects += [
        (_softmax(scores), "your weights ignore the mask: keys the mask forbids got weight. Replace their scores by "
                           "-np.inf (or -1e9) before the softmax, np.where(mask, scores, -np.inf), so that their "
                           "weight is 0."),
        (np.where(keep, _softmax(scores), 0.0),
         "you applied the mask after the softmax: the forbidden keys' weights are 0 but the others sum to less than "
         "1, because the forbidden keys took their share of the normalisation. Mask the scores before the softmax, "
         "np.where(mask, scores, -np.inf)."),
        (_softmax(scores, keep, fill=0.0),
         "you set the masked scores to 0 (scores * mask), but a score of 0 still gets weight exp(0) in the softmax: "
         "give the masked scores -np.inf (or -1e9), so that their weight is exactly 0."),
        (_softmax(scores + _NEGATIVE * keep), inverted),
        *[(np.where(keep, scores, fill), returned_scores) for fill in (*fills, 0.0)],
    ]
    square = mask.shape[-2:] == (tq, tk) and tq == tk
    for fill in fills:
        suspects += [(_softmax(scores, ~keep, fill=fill), inverted),
                     (np.where(~keep, _softmax(scores, ~keep, fill=fill), 0.0), inverted),
                     (_softmax(scores, keep, axis=-2, fill=fill), wrong_axis),
                     (np.where(keep, _softmax(scores, keep, axis=-2, fill=fill), 0.0), wrong_axis)]
        if square:
            across = np.broadcast_to(np.swapaxes(mask, -1, -2), scores.shape)
            suspects += [(_softmax(scores, across, fill=fill), transposed),
                         (np.where(across, _softmax(scores, across, fill=fill), 0.0), transposed)]
    return suspects


def _attention_result(result: Any, out_shape: tuple[int, ...], weights_shape: tuple[int, ...],
                      expected_weights: np.ndarray, on: str) -> tuple[np.ndarray, np.ndarray]:
    """The learner's (output, weights) as float arrays of the right shapes, or a sentence saying what came back."""
    if result is not None and not isinstance(result, (tuple, list)):
        lone = {out_shape: "only the output", weights_shape: "only the weights"}.get(np.shape(result))
        if lone:
            raise Mistake(f"you returned {lone}, one array of shape {np.shape(result)}: return the tuple (output, "
                          "weights), `return output, weights` (the weights are what the heat maps draw) "
                          f"(on {on}).")
    output, weights = _parts(result, ("output", "weights"), on)
    output = expect_array(output, "your output", hint=f"(on {on})")
    weights = expect_array(weights, "your weights", hint=f"(on {on})")
    if output.shape == weights_shape and weights.shape == out_shape:
        raise Mistake(f"you returned (weights, output): the output comes first, `return output, weights` (on {on}, "
                      f"where the output is (..., Tq, dv) = {out_shape} and the weights (..., Tq, Tk) = "
                      f"{weights_shape}).")
    if output.shape != out_shape:
        if _close(output, expected_weights):
            raise Mistake(f"your output is the weights themselves: multiply them by the values, output = weights @ v, "
                          f"of shape (..., Tq, dv) = {out_shape} (on {on}).")
        raise Mistake(f"your output has shape {output.shape}, expected (..., Tq, dv) = {out_shape}: one row of depth "
                      f"dv for every query, output = weights @ v (on {on}). {_SHAPES}")
    if weights.shape != weights_shape:
        raise Mistake(f"your weights have shape {weights.shape}, expected (..., Tq, Tk) = {weights_shape}: one "
                      f"weight for every query and key (on {on}). {_SHAPES}")
    return output, weights


def _wrong_attention_weights(got: np.ndarray, expected: np.ndarray, arrays: _Attention, on: str, large: bool,
                             answer: Callable[..., Any]) -> str:
    """The message for weights that differ from the reference's: a named mistake or what is wrong with them."""
    if large and not np.all(np.isfinite(got)) and _right_when_small(answer, arrays):
        return (f"your weights contain NaN or infinity on {on}, but are right on the same input with every score "
                "lowered by 800 (the same softmax): large scores break your computation, as np.exp overflows "
                "(np.exp(800) is inf, and inf / inf is NaN). Subtract each row's maximum before np.exp, "
                "scores - scores.max(axis=-1, keepdims=True): the largest exponent is then 0.")
    message = named_mistake(got, _attention_suspects(*arrays), _close)
    if message in _SQUARE_ATTENTION and not same_on_twin(answer, _SQUARE_ATTENTION[message], _RECTANGULAR_TWIN,
                                                          pick=lambda result: result[1]):
        message = None  # it gave those weights only because the input is square: another mistake
    if message:
        return f"{message} (Seen on {on}.)"
    if not np.all(np.isfinite(got)):
        return (f"your weights contain NaN or infinity on {on}. NaN comes from 0 / 0 or inf / inf: a row whose keys "
                "are all masked (is True an allowed key in your code?) or np.exp of large scores (subtract each "
                "row's maximum first).")
    mask = arrays[3]
    if mask is not None:
        forbidden = np.abs(np.where(np.broadcast_to(mask, got.shape), 0.0, got))
        if forbidden.max() > 0:
            where = tuple(int(i) for i in np.unravel_index(int(np.argmax(forbidden)), got.shape))
            return (f"your weights on masked keys are not 0 (the largest is {float(forbidden.max()):.3g}, at index "
                    f"{where}, on {on}): a key the mask forbids gets weight exactly 0. Replace its score by -np.inf "
                    "(or -1e9) before the softmax.")
    sums = got.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-5, rtol=0.0):
        row = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(sums - 1.0))), sums.shape))
        return (f"the weights of each query must sum to 1 over its keys; row {row} of yours sums to "
                f"{float(sums[row]):.6g} (on {on}). Divide np.exp of the scores by their sum over the last axis.")
    cause = likely_cause(got, expected)
    rule = ("The weights are the softmax over the keys (axis -1) of q @ k^T / sqrt(dk), the masked scores replaced by "
            "-np.inf.")
    return (f"{cause} (Seen on {on}.) {rule}" if cause else
            f"your weights are wrong on {on}: {_largest_difference(got, expected)}. {rule}")


# A rectangular twin of the first (square) case: 3 queries, 5 keys of depth 4, values of depth 2, a causal mask.
_RECTANGULAR_TWIN = (np.linspace(-1.0, 1.0, 12).reshape(3, 4), np.linspace(1.0, -1.0, 20).reshape(5, 4) ** 3,
                     np.linspace(0.0, 2.0, 10).reshape(5, 2), causal_mask(3, 5))


def _right_when_small(answer: Callable[..., Any], arrays: _Attention) -> bool:
    """Whether the answer is right on the large case with its scores lowered by 800 (the first components of q and
    k, which add 40 * 40 / sqrt(dk) = 800 to every score, set to 0): then only their size broke it."""
    q, k, v, mask = arrays
    small_q = q.copy()
    small_q[..., 0] = 0.0
    try:
        result = answer(small_q, k.copy(), v.copy(), None if mask is None else mask.copy())
        weights = np.asarray(result[1], dtype=float)
    except Exception:  # the learner's code may raise anything: then the size was not the only problem
        return False
    return _close(weights, _reference_attention(small_q, k, v, mask)[1])


@checker("9.1", "scaled dot-product attention")
def check_scaled_dot_product_attention(answer: Callable[..., Any]) -> int:
    """``(softmax(q k^T / sqrt(dk)) v, weights)`` with and without masks, for 2-D, 3-D and 4-D inputs."""
    cases = _attention_cases()
    for arrays, on, large in cases:
        q, k, v, mask = arrays
        try:
            result = call(answer, *(None if a is None else a.copy() for a in arrays), on=on)
        except Mistake as mistake:
            if not str(mistake).startswith("your function raised"):
                raise
            raise Mistake(raised_hint(mistake, _SHAPES)) from None
        expected_output, expected_weights = _reference_attention(q, k, v, mask)
        output, weights = _attention_result(result, expected_output.shape, expected_weights.shape, expected_weights,
                                            on)
        allowed = np.ones(weights.shape, dtype=bool) if mask is None else np.broadcast_to(mask, weights.shape)
        if not (_close(weights, expected_weights) and np.all(weights[~allowed] == 0)):
            raise Mistake(_wrong_attention_weights(weights, expected_weights, arrays, on, large, answer))
        if not _close(output, expected_output):
            raise Mistake(f"your weights are right but your output is wrong on {on}: "
                          f"{_largest_difference(output, expected_output)}. The output is the weights times the "
                          "values, weights @ v.")
    return len(cases)


# Exercise 9.2: the causal mask ===================================================================

_MASK_LENGTHS = (5, 1, 2, 8)

_MASK_RULE = ("mask[i, j] is True where query i (row i) may look at key j (column j), that is where j <= i: "
              "np.tril(np.ones((length, length), dtype=bool)), the lower triangle with its diagonal.")


def _mask_suspects(length: int) -> list[tuple[np.ndarray, str]]:
    ones = np.ones((length, length), dtype=bool)
    return [
        (np.tril(ones, k=-1), f"your positions cannot see themselves (j < i, np.tril(..., k=-1)): a position sees "
                              f"itself and the past, j <= i. {_MASK_RULE}"),
        (np.tril(ones, k=1), f"your positions see one step ahead (j <= i + 1, np.tril(..., k=1)): position i may not "
                             f"see i + 1, the character it predicts. {_MASK_RULE}"),
        (np.triu(ones), f"your mask is the upper triangle (transposed): it lets each position see the future and not "
                        f"the past. {_MASK_RULE}"),
        (np.triu(ones, k=1), "your mask is the wrong way round: it is True where a position must NOT look (the "
                             "future). This course's masks are True where attention is allowed, and Keras's "
                             f"attention_mask has the same convention. {_MASK_RULE}"),
        (ones, f"your mask is all True: every position sees the whole sequence, the future included. {_MASK_RULE}"),
        (~ones, f"your mask is all False: no position may look anywhere. {_MASK_RULE}"),
        (np.eye(length, dtype=bool), f"your mask lets each position see only itself: it sees the past too. "
                                     f"{_MASK_RULE}"),
    ]


def _mask_shape_problem(shape: tuple[int, ...], length: int) -> str:
    """What a mask of the wrong shape is, in words."""
    expected = f"expected (length, length) = ({length}, {length})"
    if shape == (length,):
        return (f"your mask is 1-D, shape {shape}, {expected}: one row per query and one column per key, so that "
                "mask[i, j] says whether position i may look at position j.")
    if len(shape) > 2 and [n for n in shape if n != 1] == [n for n in (length, length) if n != 1]:
        return (f"your mask has shape {shape}, {expected}: return it without the extra axes of size 1; the batch and "
                "head axes are added where the mask is used (it broadcasts).")
    if shape in ((length + 1, length + 1), (length - 1, length - 1)):
        side = "too long" if shape[0] > length else "too short"
        return (f"your mask has shape {shape}, {expected}: each side is one {side}. There are `length` positions, "
                "numbered 0 to length - 1: np.ones((length, length)).")
    return f"your mask has shape {shape}, {expected}."


def _mask_values(result: Any, length: int, on: str) -> np.ndarray:
    """The learner's mask as a boolean (length, length) array, or a sentence saying what came back."""
    _no_return(result, "the mask")
    _not_a_tuple(result, "the mask", on)
    got = expect_array(result, "your mask", hint=f"(on {on})")
    if got.shape != (length, length):
        raise Mistake(f"{_mask_shape_problem(got.shape, length)} (Seen on {on}.)")
    if not np.all(np.isin(got, (0.0, 1.0))):
        values = np.unique(got).tolist()
        if np.all(np.isin(got, (0.0, -np.inf))) or (np.all(got <= 0) and got.min() <= -1e4):
            raise Mistake(f"you returned an additive mask, {values} (0 where a position may look, a large negative "
                          "number where it may not): return the boolean mask, True where attention is allowed; the "
                          f"-inf goes in where the mask is applied to the scores. {_MASK_RULE} (Seen on {on}.)")
        raise Mistake(f"your mask holds {values}: a mask holds True and False (or 1 and 0) only. {_MASK_RULE} "
                      f"(Seen on {on}.)")
    return got.astype(bool)


@checker("9.2", "causal mask")
def check_causal_mask(answer: Callable[..., Any]) -> int:
    """The (length, length) boolean lower triangle with its diagonal, for several lengths, 1 included."""
    for length in _MASK_LENGTHS:
        on = f"length={length}"
        got = _mask_values(call(answer, length, on=on), length, on)
        expected = causal_mask(length)
        if _same(got, expected):
            continue
        seen = f"(Seen on {on}: you returned {_bits(got)}.)" if length <= 5 else f"(Seen on {on}.)"
        message = named_mistake(got, _mask_suspects(length), _same)
        if message:
            raise Mistake(f"{message} {seen}")
        where = tuple(int(i) for i in np.argwhere(got != expected)[0])
        raise Mistake(f"your mask is wrong at {where}: {_MASK_RULE} {seen}")
    return len(_MASK_LENGTHS)


# Exercise 9.3: splitting heads ===================================================================

_HEAD_CASES = [(2, 5, 3, 4), (3, 4, 4, 2), (2, 3, 2, 3), (1, 4, 1, 6)]  # B, T, H, dh: distinct, T == H, T == dh, H = 1


def _heads_suspects(x: np.ndarray, heads: int) -> list[tuple[np.ndarray, str]]:
    b, t, d = x.shape
    dh = d // heads
    by_head = x.reshape(b, t, heads, dh)     # (B, T, H, dh): right, before the transpose
    interleaved = x.reshape(b, t, dh, heads)  # column c * H + h in [..., c, h]
    swapped = (f"you swapped the number of heads and their depth: there are heads = {heads} heads, each of depth "
               f"dh = d // heads = {dh}, so reshape to (B, T, heads, d // heads) = {(b, t, heads, dh)}, then "
               "transpose(0, 2, 1, 3).")
    return [
        (x.reshape(b, heads, t, dh),
         f"you reshaped x straight to (B, H, T, dh) without the transpose: reshape only re-cuts the numbers in their "
         f"memory order (time step after time step, each time step's {d} depth values in a row), so head h then holds "
         "a mix of time steps, not columns h*dh .. (h+1)*dh - 1 of every time step. Reshape to (B, T, H, dh) first, "
         "which cuts each time step's depth into H pieces, then move the head axis in front of time: "
         ".transpose(0, 2, 1, 3)."),
        (by_head if t != heads else None,  # when T == H it is the plain reshape above, and that message fits
         "you cut each time step's depth into heads, (B, T, H, dh), but left out the transpose: move the "
         "head axis in front of time, .transpose(0, 2, 1, 3), so that the result is (B, H, T, dh) and each "
         "head is a (T, dh) sequence that attention can run on."),
        (interleaved.transpose(0, 3, 1, 2),
         f"your heads are interleaved: head h got every H-th column (h, h + {heads}, h + {2 * heads}, ...). Head h "
         "gets the contiguous columns h*dh .. (h+1)*dh - 1: reshape to (B, T, H, dh), heads before depth (not (B, T, "
         "dh, H)), then transpose(0, 2, 1, 3)."),
        (by_head.transpose(0, 2, 3, 1), "your heads are (B, H, dh, T), each head transposed: transpose (B, T, H, dh) "
                                        "with (0, 2, 1, 3), not (0, 2, 3, 1), so that time comes before depth."),
        (interleaved, swapped),
        (interleaved.transpose(0, 2, 1, 3), swapped),
        (by_head.transpose(2, 0, 1, 3), "your heads are stacked in front of the batch, (H, B, T, dh) (np.stack of "
                                        "np.split?): the batch axis stays first, (B, H, T, dh): "
                                        "x.reshape(B, T, H, dh).transpose(0, 2, 1, 3)."),
        (by_head.transpose(0, 2, 1, 3)[:, ::-1] if heads > 1 else None,
         "your heads come in reverse order: head 0 must hold the first columns, 0 .. dh - 1, and head H - 1 the last."),
    ]


@checker("9.3", "splitting heads")
def check_split_heads(answer: Callable[..., Any]) -> int:
    """(B, T, H * dh) -> (B, H, T, dh), head h holding depth columns h*dh .. (h+1)*dh - 1, x left unchanged."""
    rng = np.random.default_rng(93)
    for b, t, heads, dh in _HEAD_CASES:
        x = _float32_exact(rng.normal(0.0, 1.0, (b, t, heads * dh)))
        on = f"x of shape (B, T, H * dh) = {x.shape} and heads={heads} (so dh = {dh})"
        result = call(answer, x.copy(), heads, on=on)
        _no_return(result, "the heads")
        _not_a_tuple(result, "the heads", on)
        got = expect_array(result, "your heads", hint=f"(on {on})")
        expected = ops.convert_to_numpy(split_heads(x, heads)).astype(np.float64)
        if _close(got, expected):
            continue
        seen = f"(Seen on {on}: you returned shape {got.shape}, expected (B, H, T, dh) = {expected.shape}.)"
        message = named_mistake(got, _heads_suspects(x, heads), _close)
        if message:
            raise Mistake(f"{message} {seen}")
        if got.shape != expected.shape:
            raise Mistake(f"your heads have shape {got.shape}, expected (B, H, T, dh) = {expected.shape} (on {on}): "
                          "x.reshape(B, T, H, dh).transpose(0, 2, 1, 3).")
        cause = likely_cause(got, expected)
        raise Mistake(f"{cause or 'your heads are wrong on ' + on + ': ' + _largest_difference(got, expected) + '.'} "
                      f"{'(Seen on ' + on + '.) ' if cause else ''}Head h holds columns h*dh .. (h+1)*dh - 1 of every "
                      "time step: result[b, h, t] = x[b, t, h*dh:(h+1)*dh].")
    return len(_HEAD_CASES)


# Exercise 9.4: a decoder block's call, with both masks ===========================================

_BLOCK = dict(depth=8, heads=2, hidden=12)
_BLOCK_BATCH, _BLOCK_STEPS, _BLOCK_SOURCE, _CHANGED_STEP = 3, 6, 5, 4  # B differs from the heads and from 1
_MEMORY_MASK = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 1, 0, 1, 1]], dtype=bool)  # right, left, middle
_BLOCK_PARTS = ("norm_self", "norm_cross", "norm_feed_forward", "self_attention", "cross_attention", "feed_forward")
_BLOCK_TOLERANCE = 1e-4  # float32 blocks agree to about 1e-6; a slip moves the output by 1e-2 or more


def _wired_block(block: Any, x: Any, memory: Any, memory_mask: Any, slip: str = "") -> np.ndarray:
    """The block's own sublayers wired as the chapter's equations say, or with one plausible ``slip``."""
    x, memory = ops.convert_to_tensor(x), ops.convert_to_tensor(memory)
    mask = None if memory_mask is None or slip == "no memory mask" else ops.expand_dims(ops.cast(memory_mask, "bool"), 1)
    if slip == "post-norm":
        x = block.norm_self(x + block.self_attention(x, x, use_causal_mask=True))
        x = block.norm_cross(x + block.cross_attention(x, memory, attention_mask=mask))
        return np.asarray(ops.convert_to_numpy(block.norm_feed_forward(x + block.feed_forward(x))), dtype=np.float64)
    normed = block.norm_self(x)
    keys = memory if slip == "self-attention over memory" else normed
    attended = block.self_attention(normed, keys, use_causal_mask=slip not in ("no causal mask", "self-attention over memory"),
                                    **({"attention_mask": mask} if slip == "memory mask on self-attention" else {}))
    x = attended if slip == "no residual on self-attention" else x + attended
    query = normed if slip == "stale query" else block.norm_cross(x)
    source = block.norm_cross(memory) if slip == "memory normalised" else memory
    crossed = block.cross_attention(query, source, attention_mask=mask, use_causal_mask=slip == "causal cross-attention")
    x = crossed if slip == "no residual on cross-attention" else x + crossed
    fed = block.feed_forward(x if slip == "feed-forward not normalised" else block.norm_feed_forward(x))
    return np.asarray(ops.convert_to_numpy(fed if slip == "no residual on the feed-forward layer" else x + fed),
                      dtype=np.float64)


_BLOCK_SLIPS = {
    "no causal mask": "your self-attention has no causal mask: every position reads the positions after it. Give it "
                      "use_causal_mask=True.",
    "causal cross-attention": "you gave cross-attention the causal mask too: every output position may read the whole "
                              "source, so cross-attention takes only the memory mask.",
    "no memory mask": "your cross-attention ignores the memory mask: the padded source positions got weight. Give it "
                      "attention_mask=memory_mask[:, None, :].",
    "memory mask on self-attention": "you gave the memory mask to self-attention: it masks source positions, so it "
                                     "belongs to cross-attention; self-attention takes the causal mask.",
    "self-attention over memory": "your first attention reads the memory: it is self-attention, queries, keys and "
                                  "values all from the normalised x, with the causal mask.",
    "post-norm": "you normalise after each residual sum (post-norm, x = LN(x + f(x))): this block is pre-norm, "
                 "x = x + f(LN(x)), each sublayer reading its own normalisation of x.",
    "stale query": "your cross-attention's queries are the normalised x from before the self-attention step: normalise "
                   "the updated x again, self.norm_cross(x).",
    "memory normalised": "you normalised the memory with norm_cross: the keys and values are the encoder's outputs as "
                         "they come (the encoder normalised them already); norm_cross is for the queries.",
    "feed-forward not normalised": "your feed-forward layer reads x without its normalisation: "
                                   "x + self.feed_forward(self.norm_feed_forward(x)).",
    "no residual on self-attention": "your self-attention step has no residual connection: "
                                     "x = x + self.self_attention(...), not x = self.self_attention(...).",
    "no residual on cross-attention": "your cross-attention step has no residual connection: "
                                      "x = x + self.cross_attention(...), not x = self.cross_attention(...).",
    "no residual on the feed-forward layer": "your feed-forward step has no residual connection: return "
                                             "x + self.feed_forward(...), not self.feed_forward(...).",
}


def _make_block(answer: Callable[..., Any]) -> Any:
    """The learner's block, made as the notebook makes it; a stub's NotImplementedError goes through (making it
    runs only the given ``__init__``, so it is not an answered case)."""
    described = ", ".join(f"{key}={value}" for key, value in _BLOCK.items())
    try:
        block = answer(*_BLOCK.values())
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code may raise anything
        raise Mistake(f"making your block, {getattr(answer, '__name__', 'it')}({described}), raised "
                      f"{type(error).__name__}: {error}. Keep the __init__ as given.") from None
    if block is None:
        raise Mistake("making your block returned None: pass the class itself, DecoderBlock, and did you forget to "
                      "`return` in a function that makes it?")
    if not isinstance(block, layers.Layer):
        raise Mistake(f"pass your block class, DecoderBlock; calling what you passed gave {type(block).__name__}.")
    missing = [name for name in _BLOCK_PARTS if not isinstance(getattr(block, name, None), layers.Layer)]
    if missing:
        raise Mistake(f"your block has no {missing[0]}: keep the __init__ as given, and write only the call.")
    return block


def _block_output(block: Any, x: np.ndarray, memory: np.ndarray, memory_mask: Any, on: str) -> np.ndarray:
    """The block's output as a float array of x's shape, or a sentence saying what went wrong."""
    try:
        result = block(x, memory, memory_mask=memory_mask)
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code may raise anything
        raise Mistake(_block_error(block, x, memory, memory_mask, error, on)) from None
    if result is None:
        raise Mistake("your call returned None: did you forget to `return` x?")
    if isinstance(result, (tuple, list)):
        raise Mistake(f"your call returned {type(result).__name__} of {len(result)} items: return the block's output "
                      f"alone, one (B, T, d) array ({on}).")
    got = np.asarray(ops.convert_to_numpy(result), dtype=np.float64)
    if got.shape == (*memory.shape[:2], x.shape[-1]) and memory.shape[1] != x.shape[1]:
        raise Mistake(f"your output has shape {got.shape}, one row per source position: cross-attention takes its "
                      "queries from the decoder, self.cross_attention(self.norm_cross(x), memory, ...) (query first, "
                      f"then the keys and values), so the output has x's shape {x.shape} ({on}).")
    if got.shape != x.shape:
        raise Mistake(f"your output has shape {got.shape}, expected x's shape {x.shape}: every sublayer adds to x "
                      f"(on {on}).")
    return got


def _block_error(block: Any, x: np.ndarray, memory: np.ndarray, memory_mask: Any, error: Exception, on: str) -> str:
    """The learner's exception in words; when the block runs without a mask and fails with one, the mask's handling."""
    text = _reason(error)
    raised = f"your block raised {type(error).__name__}: {text}"
    if memory_mask is None:
        return (f"{raised} when called without a memory mask (memory_mask=None, {on}): a block must run without one "
                "too, `if memory_mask is not None:` before using it.")
    try:
        block(x, memory, memory_mask=None)
    except Exception:  # it fails without the mask too: the mask is not the cause
        return f"{raised} ({on})."
    if isinstance(error, (ValueError, TypeError, RuntimeError)) and re.search(r"truth value|ambiguous|as a (python )?bool",
                                                                             text, re.IGNORECASE):
        return (f"{raised}: `if memory_mask:` asks Python for the truth of a whole array. Test whether a mask was "
                f"given, `if memory_mask is not None:` ({on}).")
    if re.search(r"shape|broadcast|dimension|incompatible|size", text, re.IGNORECASE):
        return (f"{raised} when given the memory mask, and runs without it: the mask is (B, Tx) = "
                f"{np.shape(memory_mask)}, one row per sequence, and attention_mask needs an axis for the queries, "
                f"(B, 1, Tx): memory_mask[:, None, :] ({on}).")
    return (f"{raised} when given the memory mask, and runs without it: the memory mask is a boolean (B, Tx) = "
            f"{np.shape(memory_mask)} array, True at real source positions ({on}).")


def _slipped(block: Any, x: np.ndarray, memory: np.ndarray, slip: str) -> np.ndarray | None:
    """What the block gives with one ``slip``, or None where that slip cannot run on this input."""
    try:
        return _wired_block(block, x, memory, _MEMORY_MASK, slip)
    except Exception:  # a slip whose shapes do not fit (a (B, 1, Tx) mask on self-attention) cannot be the answer
        return None


def _randomise_block(block: Any) -> None:
    """Random weights for every sublayer (layer normalisations and biases included)."""
    rng = np.random.default_rng(940)
    for name in _BLOCK_PARTS:
        part = getattr(block, name)
        part.set_weights([rng.normal(1.0 if "norm" in name and k == 0 else 0.0, 0.4, np.shape(w)).astype(np.float32)
                          for k, w in enumerate(part.get_weights())])


def _changed_where(before: np.ndarray, after: np.ndarray) -> tuple[int, int, float] | None:
    """The (sequence, position, size) of the largest change beyond float32 rounding, if any."""
    change = np.abs(after - before).max(axis=-1)
    if change.max() <= _BLOCK_TOLERANCE:
        return None
    b, t = np.unravel_index(int(np.argmax(change)), change.shape)
    return int(b), int(t), float(change[b, t])


@checker("9.4", "a decoder block's call")
def check_decoder_block(answer: Callable[..., Any]) -> int:
    """The learner's ``DecoderBlock`` class against its own sublayers wired as the chapter says, and its masks by
    perturbation: a change at a later position must not reach an earlier output, a change of the memory at padded
    source positions must change nothing. With a boolean, a float and no memory mask."""
    rng = np.random.default_rng(94)
    b, t, tx, d = _BLOCK_BATCH, _BLOCK_STEPS, _BLOCK_SOURCE, _BLOCK["depth"]
    x = rng.normal(0.0, 1.0, (b, t, d)).astype(np.float32)
    memory = rng.normal(0.0, 1.0, (b, tx, d)).astype(np.float32)
    on = (f"x {x.shape}, memory {memory.shape} and a memory mask {_MEMORY_MASK.shape} padding on the right, the left "
          f"and in the middle, {_BLOCK['heads']} heads")
    block = _make_block(answer)
    _block_output(block, x, memory, _MEMORY_MASK, on)       # builds the sublayers the learner's call uses
    try:
        _wired_block(block, x, memory, _MEMORY_MASK)         # ... and any it left out
    except Exception as error:  # a sublayer built for inputs of other shapes
        raise Mistake(f"your call built a sublayer for inputs of another shape than the chapter gives it ({error}): "
                      "self-attention reads the normalised x, cross-attention the normalised x and the memory "
                      f"({on}).") from None
    _randomise_block(block)
    got = _block_output(block, x, memory, _MEMORY_MASK, on)

    later = x.copy()
    later[:, _CHANGED_STEP] = rng.normal(0.0, 2.0, (b, d))
    change = np.abs(_block_output(block, later, memory, _MEMORY_MASK, on) - got)[:, :_CHANGED_STEP].max(axis=(0, 2))
    if change.max() > _BLOCK_TOLERANCE:
        position = int(np.flatnonzero(change > _BLOCK_TOLERANCE)[-1])
        raise Mistake(f"your decoder block ignores the causal mask: changing position {_CHANGED_STEP} of x changed the "
                      f"output at position {position} (by {change[position]:.3g}; every earlier position changed by "
                      f"up to {change.max():.3g}). Self-attention must not read later positions: "
                      f"self.self_attention(normed, normed, use_causal_mask=True) ({on}).")
    padded = memory.copy()
    padded[~_MEMORY_MASK] = rng.normal(0.0, 3.0, (int((~_MEMORY_MASK).sum()), d))
    moved = _changed_where(got, _block_output(block, x, padded.astype(np.float32), _MEMORY_MASK, on))
    if moved:
        sequence, position, size = moved
        hidden = np.flatnonzero(~_MEMORY_MASK[sequence]).tolist()
        raise Mistake(f"your decoder block reads the padding: changing the memory at the padded source positions "
                      f"{hidden} of sequence {sequence} changed its output at position {position} (by {size:.3g}). Give "
                      f"cross-attention the memory mask, attention_mask=memory_mask[:, None, :] ({on}).")
    expected = _wired_block(block, x, memory, _MEMORY_MASK)
    if not _close_block(got, expected):
        message = named_mistake(got, [(_slipped(block, x, memory, slip), text) for slip, text in _BLOCK_SLIPS.items()],
                                _close_block)
        where = np.unravel_index(int(np.argmax(np.abs(got - expected))), got.shape)
        raise Mistake(f"{message} (Seen on {on}.)" if message else
                      f"your block's output differs from its sublayers wired as the chapter says ({on}): the largest "
                      f"difference is {float(np.abs(got - expected)[where]):.3g}, at {tuple(int(i) for i in where)}. "
                      "x = x + self_attention(LN(x), causal); x = x + cross_attention(LN(x), memory, memory mask); "
                      "x = x + feed_forward(LN(x)), each LN its own.")
    for mask, form in ((_MEMORY_MASK.astype(np.float32), "a float 0/1 memory mask"), (None, "memory_mask=None")):
        described = f"{on}, as {form}"
        other = _block_output(block, x, memory, mask, described)
        if not _close_block(other, _wired_block(block, x, memory, mask)):
            raise Mistake(f"your block is right with a boolean memory mask but not with {form}: the largest difference "
                          f"is {float(np.abs(other - _wired_block(block, x, memory, mask)).max()):.3g} ({described}). "
                          + ("Cast it, ops.cast(memory_mask, 'bool'), or let the attention do so."
                             if mask is not None else "Without a mask every source position may be read."))
    return 5


def _close_block(got: np.ndarray, wanted: np.ndarray) -> bool:
    return got.shape == wanted.shape and bool(np.allclose(got, wanted, atol=_BLOCK_TOLERANCE, rtol=_BLOCK_TOLERANCE))


# Exercise 9.5: bits with a limited context =======================================================

_MEMORY = 4  # how many characters (the last ones up to each position) the synthetic model reads


def _logits(tables: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """(N, c, V) positive logits of a causal model: position t adds tables[back][windows[:, t - back]] for
    back = 0 .. min(t, memory - 1), so it reads the last ``memory`` characters of the window up to t."""
    n, c = windows.shape
    logits = np.zeros((n, c, tables.shape[-1]))
    for back in range(min(len(tables), c)):
        logits[:, back:] += tables[back][windows[:, :c - back]]
    return logits


@dataclass
class _Model:
    """The synthetic ``logits_of`` handed to the learner: it records the shapes of the windows it is given."""

    tables: np.ndarray  # (memory, V, V)
    shapes: list[tuple[int, ...]] = field(default_factory=list)

    def __call__(self, windows: Any) -> np.ndarray:
        ids = np.asarray(windows)
        self.shapes.append(ids.shape)
        if ids.ndim != 2:
            raise ValueError(f"logits_of takes a 2-D (N, context) array of ids, one window per row (window[None] "
                             f"for a single window); it was given shape {ids.shape}")
        if ids.dtype.kind == "f" and np.array_equal(ids, np.round(ids)):
            ids = ids.astype(np.int64)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"logits_of takes integer ids; it was given {ids.dtype}")
        return _logits(self.tables, ids)


def _context_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int, str]]:
    """(tables, ids, positions, context, description): text the model itself generated, contexts shorter
    than its memory, of one character and longer, the last case with the first and last positions possible."""
    rng = np.random.default_rng(94)

    def case(vocabulary: int, length: int, context: int, positions: np.ndarray, dtype: type = np.int64
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, str]:
        tables = rng.uniform(0.05, 2.5, (_MEMORY, vocabulary, vocabulary))
        ids = list(rng.integers(0, vocabulary, _MEMORY))
        while len(ids) < length:
            p = np.exp(_log2_softmax(_logits(tables, np.array([ids[-_MEMORY:]]))[0, -1]) * _LN2)
            ids.append(int(rng.choice(vocabulary, p=p)))
        ids = np.array(ids, dtype=dtype)
        return (tables, ids, positions, context,
                f"{len(ids)} ids of a vocabulary of {vocabulary}, positions {positions.tolist()} and context={context}")

    return [case(9, 70, 3, np.array([31, 8, 52, 17, 66, 40, 23, 5, 60, 45, 12, 36])),
            case(7, 40, 1, np.array([3, 20, 11, 35, 27, 7, 16, 30])),
            case(11, 90, 6, np.array([5, 88, 47, 19, 70, 33, 61, 12, 80]), np.int32)]


def _width_problem(shapes: list[tuple[int, ...]], context: int, n_ids: int, on: str) -> str | None:
    """A sentence naming windows of another width than ``context``, if logits_of was given any."""
    wrong = sorted({shape[1] for shape in shapes if len(shape) == 2} - {context})
    if not wrong:
        return None
    width = wrong[0]
    rule = ("the window that ends at position p is ids[p - context + 1 : p + 1], exactly context characters "
            "(the end of a slice is left out, hence p + 1)")
    if width == n_ids:
        problem = ("you ran the model on the whole text: it then reads every character before p, not only the last "
                   "context ones")
    elif width == context - 1:
        problem = f"your windows hold context - 1 = {width} characters, one short: they start one character late"
    elif width == context + 1:
        problem = f"your windows hold context + 1 = {width} characters, one too many"
    else:
        problem = f"you gave logits_of windows of {width} characters, not context = {context}"
    return f"{problem}; {rule}. (Seen on {on}.)"


def _context_suspects(tables: np.ndarray, ids: np.ndarray, positions: np.ndarray, context: int, expected: float
                      ) -> list[tuple[float | None, str]]:
    """What the plausible wrong answers return on this case, each with its message."""
    windows, targets = context_windows(ids, positions, context)
    logits = _logits(tables, windows)
    last = logits[:, -1]
    early = _logits(tables, ids[positions[:, None] + np.arange(-context, 0)])[:, -1]   # ending at p - 1
    late = _logits(tables, ids[positions[:, None] + np.arange(2 - context, 2)])[:, -1]  # ending at p + 1
    following = np.concatenate([windows[:, 1:], targets[:, None]], axis=1)  # the character after each position
    every = ("you scored every position of the window: only its last position reads all context characters, "
             "so take the logits there, logits[:, -1], and score them against ids[p + 1].")
    raw = ("you took the logits as probabilities: they are unnormalised scores, turn them into probabilities with "
           "a softmax over the vocabulary (the last axis) first, -log2 softmax(logits[:, -1])[target].")
    wrong_axis = ("your softmax normalises over the wrong axis: normalise each prediction over the vocabulary, the "
                  "last axis (axis=-1) of logits[:, -1].")
    return [
        (bits_per_character(early, targets),
         "your windows end one character early, at p - 1: the window for position p is ids[p - context + 1 : p + 1], "
         "which ends with ids[p] itself, and predicts ids[p + 1]."),
        (bits_per_character(early, ids[positions]),
         "you predicted ids[p] from the characters before it: the target is the character after position p, "
         "ids[p + 1], predicted from the window ids[p - context + 1 : p + 1], which ends at p."),
        (bits_per_character(last, ids[positions]),
         "you scored ids[p], the window's own last character: the target is the next one, ids[p + 1]."),
        (bits_per_character(late, targets),
         "your windows end one character late, at p + 1, so they hold the target itself: the window for position p is "
         "ids[p - context + 1 : p + 1] and predicts ids[p + 1]."),
        (bits_per_character(logits[:, 0], targets),
         "you used the logits at the window's first position, logits[:, 0], which have read one character: the "
         "prediction of the character after the window is at its last position, logits[:, -1]."),
        (bits_per_character(logits, following), every),
        (bits_per_character(logits, np.repeat(targets[:, None], context, axis=1)), every),
        (expected * _LN2, "your bits are in nats: np.log is the natural logarithm. Divide by ln 2 (or use np.log2)."),
        (expected * len(positions), f"you summed over the {len(positions)} positions: take the mean."),
        (2.0 ** expected, "you returned the perplexity, 2 ** bits: return the bits per character themselves."),
        (-float(np.mean(np.log2(_picked(last, targets)))), raw),
        (-float(np.mean(np.log(_picked(last, targets)))), raw),
        (-float(np.mean(np.log2(_picked(last / last.sum(axis=-1, keepdims=True), targets)))),
         "you divided the logits by their sum, which is not a softmax: exponentiate first, p = exp(z) / sum(exp(z)), "
         "or use a log-softmax."),
        (-float(np.mean(_picked(_log2_softmax(last, axis=0), targets))), wrong_axis),
        (-float(np.mean(_picked(_log2_softmax(logits, axis=1)[:, -1], targets))), wrong_axis),
    ]


@checker("9.5", "bits with a limited context")
def check_bits_with_context(answer: Callable[..., Any]) -> int:
    """The mean -log2 softmax of ``ids[p + 1]`` at the last position of the window ``ids[p - context + 1 : p + 1]``."""
    cases = _context_cases()
    for tables, ids, positions, context, on in cases:
        model = _Model(tables)
        try:
            result = call(answer, model, ids.copy(), positions.copy(), context, on=on)
        except Mistake as mistake:
            problem = _width_problem(model.shapes, context, len(ids), on)
            if problem and str(mistake).startswith("your function raised"):
                raise Mistake(problem) from None
            raise
        problem = _width_problem(model.shapes, context, len(ids), on)
        if problem:
            raise Mistake(problem)
        got = _one_number(result, f"on {on}")
        if not model.shapes:
            raise Mistake(f"your function never called logits_of (on {on}): the bits come from the model's logits for "
                          "the windows ids[p - context + 1 : p + 1].")
        expected = bits_with_context(_Model(tables), ids, positions, context)
        if _same_number(got, expected):
            continue
        seen = f"(Seen on {on}: you returned {got:.6g}, expected {expected:.6g}.)"
        message = named_mistake(got, _context_suspects(tables, ids, positions, context, expected), _same_number)
        if message:
            raise Mistake(f"{message} {seen}")
        raise Mistake(f"your bits are wrong on {on}: you returned {got:.6g}, expected {expected:.6g}. For each "
                      "position p the model reads the window ids[p - context + 1 : p + 1]; its logits at the window's "
                      "last position predict ids[p + 1], and the bits are the mean over the positions of "
                      "-log2 softmax(logits)[ids[p + 1]].")
    return len(cases)

"""Checkers for chapter 8: attention.

Exercise 8.1 writes a masked softmax in NumPy (a softmax over the keys in which the padded keys
get weight exactly 0), 8.2 computes Bahdanau's additive scores ``v . tanh(query[i] W1 + keys[j]
W2)`` for one sequence, 8.3 writes the call of the chapter's attention decoder as a Keras layer,
and 8.4 (an experiment) measures how much attention weight an unmasked model puts on padding.

8.3 is checked by behaviour: the learner's layer is compared with its own sublayers wired as the
equations say (random weights, biases included, within float32 rounding), on sources padded on the
left, in the middle and on the right, with a boolean and a float key mask; the encoder states at
padded positions are then changed, which must change nothing. A mask ignored or inverted, the
queries taken from the embeddings or from the state before the step, [c; s] concatenated the other
way round, the combine layer skipped, the state ignored and a softmax on the logits are named.

Each checker computes what the plausible wrong answers return on its inputs (the mask ignored,
applied after the softmax or the wrong way round, the softmax over the queries, tanh left out or
applied after v, the projections swapped, the share on the real keys, a sum instead of a mean...)
and names the one the learner's answer matches, when the input tells it apart from the others.
The scores and weights are random and distinct, the masks pad in the middle and at both ends, and
the shapes differ from each other, except in one case of each exercise where the queries are as
many as the keys (and in 8.1 as many as the sequences), so that an axis mix-up that would crash
on the other cases gives a wrong value that can be named. 8.1 also has scores of several hundred,
on which a softmax that does not subtract each row's maximum overflows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from keras import layers, ops

from utils.models.attention import additive_scores, masked_softmax, padding_share
from utils.checks.ch07 import _reason
from utils.checks.framework import Mistake, call, checker, expect_array, kind_of, named_mistake
from utils.checks.symptoms import likely_cause

# Shared ==========================================================================================

_ATOL = 1e-6  # the references compute in float32, whose weights and scores are accurate to about 1e-7


def _close(got: np.ndarray, wanted: np.ndarray) -> bool:
    """Same shape and values, NaN equal to NaN (a wrong answer may divide 0 by 0 where a suspect does too)."""
    return got.shape == np.shape(wanted) and bool(np.allclose(got, wanted, atol=_ATOL, rtol=0.0, equal_nan=True))


def _bits(mask: np.ndarray) -> list:
    """A boolean mask as nested lists of 1 (real key) and 0 (padding), short enough for a message."""
    return mask.astype(int).tolist()


def _no_return(result: Any, what: str) -> None:
    if result is None:
        raise Mistake(f"your function returned None: did you forget to `return` {what}?")


def _not_a_tuple(result: Any, what: str, on: str) -> None:
    if isinstance(result, tuple):
        raise Mistake(f"return {what} alone, one array; you returned {kind_of(result)} (on {on}).")


def _largest_difference(got: np.ndarray, expected: np.ndarray) -> str:
    difference = np.abs(got - expected)
    where = np.unravel_index(int(np.argmax(difference)), difference.shape)
    index = tuple(int(i) for i in where)
    return (f"the largest difference is {float(difference[where]):.3g}, at index {index} (you returned "
            f"{got[where]:.6g}, expected {expected[where]:.6g})")


def raised_hint(mistake: Mistake, shapes: str) -> str:
    """A hint for a learner's exception that fits its cause: ``if mask:`` on an array, or shapes that do not fit.

    ``shapes`` is the reminder of the input shapes, added only when the error is about shapes.
    """
    text = str(mistake)
    if re.search(r"truth value of an array|ambiguous", text):
        return (f"{text} `if mask:` asks Python for the truth of a whole array: test whether a mask was given, "
                "`if mask is not None:`, and use the mask itself in np.where.")
    if re.search(r"shape|broadcast|dimension|axis|align|operands|matmul|size", text, re.IGNORECASE):
        return f"{text} {shapes}"
    return text


_CRASH = "raises an exception"


def _outcome(function: Callable[..., Any], args: Sequence[Any], pick: Callable[[Any], Any]) -> Any:
    """What ``function`` gives on ``args``: a float array, _CRASH, or None when it is not written yet."""
    try:
        result = function(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return np.asarray(pick(result), dtype=float)
    except NotImplementedError:
        return None
    except Exception:  # the learner's code may raise anything, and a wrong formula may not run: that is the point
        return _CRASH


def same_on_twin(answer: Callable[..., Any], suspect: Callable[..., Any], args: Sequence[Any],
                 pick: Callable[[Any], Any] = lambda result: result) -> bool:
    """Whether the learner's function does what a suspect does on another input ``args`` (both raise, or both
    give the same values).

    A mistake named only because an input is square (as many queries as keys) may be a different mistake
    that gives the same values on that input; on a rectangular twin the two part ways, so a suspect is
    named only when the answer behaves as it does there too. ``pick`` takes the compared array out of the
    learner's result (the weights of an (output, weights) pair).
    """
    mine, theirs = _outcome(answer, args, pick), _outcome(suspect, args, lambda result: result)
    if mine is None or theirs is None:
        return False
    if isinstance(mine, str) or isinstance(theirs, str):
        return mine is theirs
    return _close(mine, theirs)


# Exercise 8.1: masked softmax ====================================================================

_NEGATIVE = -1e9  # what a learner may give the masked scores instead of -inf


def _softmax(scores: np.ndarray, keep: np.ndarray | None = None, *, axis: int = -1,
             fill: float = -np.inf) -> np.ndarray:
    """The softmax over ``axis`` of the scores, those where ``keep`` is False replaced by ``fill`` first."""
    s = scores if keep is None else np.where(keep, scores, fill)
    with np.errstate(all="ignore"):  # a suspect may divide 0 by 0, as the answer it stands for does
        e = np.exp(s - np.max(s, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)


def _reference_weights(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`utils.models.attention.masked_softmax` on one (Tq, Tk) or a batch of (B, Tq, Tk) scores, as float64."""
    s, m = np.asarray(scores, dtype=np.float32), np.asarray(mask, dtype=bool)
    if s.ndim == 2:  # one sequence: the reference takes a batch
        return _reference_weights(s[None], m[None])[0]
    return ops.convert_to_numpy(masked_softmax(s, m)).astype(np.float64)


def _float32_exact(values: np.ndarray) -> np.ndarray:
    """Float64 values that float32 holds exactly, so that the float32 reference sees the learner's input."""
    return values.astype(np.float32).astype(np.float64)


def _softmax_cases() -> list[tuple[np.ndarray, np.ndarray, str, bool]]:
    """(scores, mask, description, large): 2-D and 3-D scores, masks padding in the middle and at both
    ends, a 2-D and a 3-D case with as many queries as keys (the 3-D one with as many sequences too), a
    float32 case with a sequence without padding and one with a single real key, and scores of several
    hundred on which np.exp overflows."""
    rng = np.random.default_rng(81)

    def scores(*shape: int) -> np.ndarray:
        return _float32_exact(rng.normal(0.0, 1.5, shape))

    masks_c = np.array([[0, 0, 1, 1], [1, 1, 1, 0], [1, 0, 1, 1], [1, 1, 0, 0]], dtype=bool)
    masks_d = np.array([[1, 1, 1, 1, 1], [0, 0, 1, 0, 0], [0, 1, 1, 0, 1]], dtype=bool)
    masks_e = np.array([[0, 1, 1, 0], [1, 1, 0, 1]], dtype=bool)
    offsets = np.array([750.0, 1000.0, 870.0])[:, None]  # each query's scores close to its own offset
    large = _float32_exact(np.round(offsets + rng.normal(0.0, 1.5, (2, 3, 4)), 2))
    return [
        (scores(4, 4), np.array([0, 1, 0, 1], dtype=bool), "2-D scores of shape (4, 4)", False),
        (scores(3, 6), np.array([1, 1, 0, 1, 1, 0], dtype=bool), "2-D scores of shape (3, 6)", False),
        (scores(4, 4, 4), masks_c, "3-D scores of shape (4, 4, 4)", False),
        (scores(3, 2, 5).astype(np.float32), masks_d, "float32 scores of shape (3, 2, 5)", False),
        (large, masks_e, "scores of shape (2, 3, 4) around 750, 870 and 1000", True),
    ]


_ON_QUERIES = ("your mask was applied to the queries (rows) instead of the keys (columns): mask[j] says whether "
               "key j is real, so it masks column j of every row. Give it an axis for the queries in front of "
               "the keys, mask[..., None, :] ((1, Tk) for 2-D scores, (B, 1, Tk) for 3-D ones).")
_NOT_EXPANDED = ("you used the (B, Tk) mask against the (B, Tq, Tk) scores without an axis for the queries: "
                 "NumPy lined it up with the last two axes, so sequence i's mask masked query i of every "
                 "sequence. Write mask[:, None, :] (or mask[..., None, :]) so that each sequence's mask "
                 "masks all of its queries.")
_SOFTMAX_SHAPES = ("The mask is (Tk,) for 2-D scores (Tq, Tk) and (B, Tk) for 3-D scores (B, Tq, Tk): "
                   "mask[..., None, :] gives it an axis for the queries in both cases.")


_RECTANGULAR_2D = (np.linspace(-1.0, 1.0, 15).reshape(3, 5), np.array([1, 0, 1, 1, 0], dtype=bool))
_RECTANGULAR_3D = (np.linspace(-1.0, 1.0, 30).reshape(2, 3, 5), np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 1]], dtype=bool))


def _softmax_suspects(scores: np.ndarray, mask: np.ndarray) -> list[tuple[np.ndarray | None, str]]:
    """What the plausible wrong answers return on these scores and mask, each with its message."""
    s = scores.astype(np.float64)
    tq, tk = s.shape[-2:]
    keys = mask[..., None, :]
    plain = _softmax(s)
    inverted = ("your mask is the wrong way round: the weight went to the padding. The mask is True at the real "
                "keys, so keep the scores where the mask is True: np.where(mask, scores, -np.inf).")
    wrong_axis = ("your softmax runs over the queries (axis -2): each query's weights over the keys must sum to 1, "
                  "so normalise over the last axis, axis=-1, with keepdims=True.")
    on_queries, not_expanded = _ON_QUERIES, _NOT_EXPANDED
    returned_scores = ("you returned the (masked) scores, not the weights: apply the softmax to them, "
                       "np.exp(s - max) / sum over the keys.")
    suspects: list[tuple[np.ndarray | None, str]] = [
        (plain, "your weights ignore the mask: the padded keys got weight. Replace the masked scores by -np.inf "
                "(or -1e9) before the softmax, np.where(mask, scores, -np.inf), so that their weight is 0."),
        (np.where(keys, plain, 0.0),
         "you applied the mask after the softmax: the padded keys' weights are 0 but the others still sum to "
         "less than 1, because the padded keys took their share of the normalisation. Mask the scores before "
         "the softmax, np.where(mask, scores, -np.inf)."),
        (_softmax(s, keys, fill=0.0),
         "you set the masked scores to 0 (scores * mask), but a score of 0 still gets weight exp(0) in the "
         "softmax: give the masked scores -np.inf (or -1e9), so that their weight is exactly 0."),
    ]
    for fill in (-np.inf, _NEGATIVE):
        suspects += [(_softmax(s, ~keys, fill=fill), inverted),
                     (np.where(~keys, _softmax(s, ~keys, fill=fill), 0.0), inverted),
                     (_softmax(s, keys, axis=-2, fill=fill), wrong_axis),
                     (np.where(keys, _softmax(s, keys, axis=-2, fill=fill), 0.0), wrong_axis)]
        if tq == tk:
            rows = mask[..., :, None]
            suspects += [(_softmax(s, rows, fill=fill), on_queries),
                         (np.where(rows, _softmax(s, rows, fill=fill), 0.0), on_queries)]
        if s.ndim == 3 and len(s) == tq:
            crosswise = mask[None]
            suspects += [(_softmax(s, crosswise, fill=fill), not_expanded),
                         (np.where(crosswise, _softmax(s, crosswise, fill=fill), 0.0), not_expanded)]
    suspects += [(s, returned_scores), *[(np.where(keys, s, fill), returned_scores)
                                         for fill in (-np.inf, _NEGATIVE, 0.0)]]
    return suspects


def _softmax_result(result: Any, scores: np.ndarray, on: str) -> np.ndarray:
    """The learner's weights as a float array of the scores' shape, or a sentence saying what came back."""
    _no_return(result, "the weights")
    _not_a_tuple(result, "the weights", on)
    got = expect_array(result, "your weights", hint=f"(on {on})")
    if got.shape == scores.shape:
        return got
    if got.ndim == 0:
        raise Mistake(f"your weights are a single number, expected an array of shape {scores.shape}, the shape of "
                      f"the scores (on {on}).")
    if scores.ndim == 2 and got.shape == (1, *scores.shape):
        raise Mistake(f"your weights have shape {got.shape}, expected {scores.shape} (on {on}): for 2-D scores "
                      "return 2-D weights, without a batch axis.")
    if got.shape == scores.shape[:-1] or got.shape == scores.shape[:-2] + scores.shape[-1:]:
        raise Mistake(f"your weights have shape {got.shape}, expected {scores.shape} (on {on}): you summed (or "
                      "reduced) an axis away. Return one weight for every query and key, the shape of the scores.")
    raise Mistake(f"your weights have shape {got.shape}, expected {scores.shape}, the shape of the scores: one "
                  f"weight for every query and key (on {on}).")


def _wrong_weights(got: np.ndarray, expected: np.ndarray, scores: np.ndarray, mask: np.ndarray, on: str,
                   large: bool, answer: Callable[..., Any]) -> str:
    """The message for weights that differ from the reference's: a named mistake or what is wrong with them.

    A mistake named only because the queries are as many as the keys (or the sequences) is an axis
    mix-up, which crashes on scores of other sizes: it is named only when the answer does crash on
    them, so that another mistake that happens to give the same weights here is not misnamed.
    """
    seen = f"(Seen on {on}, key_mask {_bits(mask)}.)"
    if large and not np.all(np.isfinite(got)) and _right_when_shifted(answer, scores, mask):
        return (f"your weights contain NaN or infinity on {on}, but are right on the same scores minus each row's "
                "maximum (the same softmax): large scores break your computation, as np.exp overflows (np.exp(1000) "
                "is inf, and inf / inf is NaN). Subtract each row's own maximum before np.exp, "
                "s - s.max(axis=-1, keepdims=True): the largest exponent is then 0.")
    message = named_mistake(got, _softmax_suspects(scores, mask), _close)
    square_only = {_ON_QUERIES: lambda s, m: _softmax(s, m[..., :, None]),
                   _NOT_EXPANDED: lambda s, m: _softmax(s, m[None])}
    if message in square_only:  # an axis mix-up that fits only a square input: it must also show on a twin
        twin = _RECTANGULAR_2D if scores.ndim == 2 else _RECTANGULAR_3D
        if not same_on_twin(answer, square_only[message], twin):
            message = None
    if message:
        return f"{message} {seen}"
    padding = ~np.broadcast_to(mask[..., None, :], got.shape)
    if not np.all(np.isfinite(got)):
        return (f"your weights contain NaN or infinity on {on}. NaN comes from 0 / 0 or inf / inf: a row whose "
                "weights are all 0 (are all its keys masked in your code? is True a real key?), -inf - (-inf), or "
                "np.exp of large scores.")
    on_padding = np.abs(np.where(padding, got, 0.0))
    if on_padding.max() > 0:
        largest = float(on_padding.max())
        if largest <= 1e-2 and np.allclose(np.where(padding, 0.0, got), expected, atol=1e-2, rtol=0.0):
            return (f"your weights on padding are not exactly 0 (the largest is {largest:.2g}, on {on}): give "
                    "the masked scores -np.inf or -1e9, or set the weights there to 0.")
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(on_padding)), got.shape))
        return (f"your weights on padding are not 0 (the largest is {largest:.3g}, at index {where}, on {on}, "
                f"key_mask {_bits(mask)}): a masked key gets weight exactly 0. Replace its score by -np.inf (or "
                "-1e9) before the softmax.")
    sums = got.sum(axis=-1)
    if not np.allclose(sums, 1.0, atol=1e-5, rtol=0.0):
        row = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(sums - 1.0))), sums.shape))
        return (f"the weights of each query must sum to 1 over its keys; row {row} of yours sums to "
                f"{float(sums[row]):.6g} (on {on}, key_mask {_bits(mask)}). Divide np.exp of the masked scores "
                "by their sum over the last axis.")
    cause = likely_cause(got, expected)
    return (f"{cause} (Seen on {on}, key_mask {_bits(mask)}.)" if cause else
            f"your weights are wrong on {on}, key_mask {_bits(mask)}: {_largest_difference(got, expected)}. The "
            "weights are the softmax over the keys of the scores, with the masked scores replaced by -np.inf.")


def _right_when_shifted(answer: Callable[..., Any], scores: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the answer is right on the scores minus each row's maximum: then only their size broke it."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    try:
        got = np.asarray(answer(shifted, mask.copy()), dtype=float)
    except Exception:  # the learner's code may raise anything: then the size was not the only problem
        return False
    return got.shape == scores.shape and _close(got, _reference_weights(shifted, mask))


@checker("8.1", "masked softmax")
def check_masked_softmax(answer: Callable[..., Any]) -> int:
    """The softmax over the keys with weight exactly 0 on padding, for 2-D and 3-D scores, small and large."""
    cases = _softmax_cases()
    for scores, mask, described, large in cases:
        on = f"{described} and a mask of shape {mask.shape}"
        try:
            result = call(answer, scores.copy(), mask.copy(), on=on)
        except Mistake as mistake:
            if not str(mistake).startswith("your function raised"):
                raise
            raise Mistake(raised_hint(mistake, _SOFTMAX_SHAPES)) from None
        got = _softmax_result(result, scores, on)
        expected = _reference_weights(scores, mask)
        padding = ~np.broadcast_to(mask[..., None, :], got.shape)
        if _close(got, expected) and np.all(got[padding] == 0):
            continue
        raise Mistake(_wrong_weights(got, expected, scores, mask, on, large, answer))
    return len(cases)


# Exercise 8.2: additive (Bahdanau) scores ========================================================

_Additive = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # query, keys, W1, W2, v


def _additive_cases() -> list[tuple[_Additive, str]]:
    """(query, keys, W1, W2, v) and a description: as many queries as keys of the same depth (so that the
    projections can be swapped and the scores transposed), different sizes everywhere, and one query."""
    rng = np.random.default_rng(82)

    def case(tq: int, tk: int, dq: int, dk: int, units: int) -> tuple[_Additive, str]:
        arrays = (rng.normal(0.0, 1.0, (tq, dq)), rng.normal(0.0, 1.0, (tk, dk)),
                  rng.normal(0.0, 0.7, (dq, units)), rng.normal(0.0, 0.7, (dk, units)), rng.normal(0.0, 1.0, units))
        return arrays, (f"query of shape ({tq}, {dq}), keys ({tk}, {dk}), W1 ({dq}, {units}), W2 ({dk}, {units}), "
                        f"v ({units},)")

    return [case(4, 4, 3, 3, 5), case(3, 6, 4, 2, 5), case(1, 5, 3, 4, 3)]


_SWAPPED = "your projections are swapped: W1 projects the query (query @ W1) and W2 the keys (keys @ W2)."
_ONE_MATRIX = ("you projected the query and the keys with the same matrix: the query goes through W1 (dq, units), "
               "the keys through W2 (dk, units).")
_TRANSPOSED = ("your scores are transposed: rows are queries and columns keys, scores[i, j] is query i's score for "
               "key j. Put the queries' axis first: projected_query[:, None, :] + projected_keys[None, :, :].")
_SQUARE_ADDITIVE = {  # the mistakes that give scores of the right shape only when the queries are as many (or as deep)
    _SWAPPED: lambda q, k, w1, w2, v: np.tanh((q @ w2)[:, None, :] + (k @ w1)[None, :, :]) @ v,
    _ONE_MATRIX: lambda q, k, w1, w2, v: np.tanh((q @ w1)[:, None, :] + (k @ w1)[None, :, :]) @ v,
    _TRANSPOSED: lambda q, k, w1, w2, v: np.tanh((k @ w2)[:, None, :] + (q @ w1)[None, :, :]) @ v,
}


def _additive_suspects(query: np.ndarray, keys: np.ndarray, w1: np.ndarray, w2: np.ndarray, v: np.ndarray
                       ) -> list[tuple[np.ndarray | None, str]]:
    tq, tk = len(query), len(keys)
    pq, pk = query @ w1, keys @ w2
    total = pq[:, None, :] + pk[None, :, :]  # (Tq, Tk, units)
    same_depth = query.shape[1] == keys.shape[1]
    return [
        (total @ v, "your scores have no tanh: scores[i, j] = v . tanh(query[i] @ W1 + keys[j] @ W2); apply np.tanh "
                    "to the sum of the projections before the dot product with v."),
        (np.tanh(total @ v), "you applied tanh after the dot product with v: tanh goes on the sum of the projections, "
                             "one value per unit, and v then weighs the units: np.tanh(...) @ v."),
        (np.tanh((query @ w2)[:, None, :] + (keys @ w1)[None, :, :]) @ v if same_depth else None, _SWAPPED),
        (np.tanh(pq[:, None, :] + (keys @ w1)[None, :, :]) @ v if same_depth else None, _ONE_MATRIX),
        (np.tanh((query @ w2)[:, None, :] + pk[None, :, :]) @ v if same_depth else None, _ONE_MATRIX),
        (np.tanh(pk[:, None, :] + pq[None, :, :]) @ v if tq == tk else None, _TRANSPOSED),
        (np.tanh(total).sum(axis=-1), "you summed tanh over the units without v: v weighs each unit, "
                                      "np.tanh(...) @ v."),
        (np.tanh(pq[:, None, :] * pk[None, :, :]) @ v,
         "you multiplied the projections: additive attention adds them, tanh(query[i] @ W1 + keys[j] @ W2) "
         "(a product is the multiplicative kind, Luong's)."),
        ((np.tanh(pq)[:, None, :] + np.tanh(pk)[None, :, :]) @ v,
         "you applied tanh to each projection separately: tanh(a) + tanh(b) is not tanh(a + b). Add the "
         "projections first, then apply np.tanh."),
        (np.broadcast_to((np.tanh(pq) @ v)[:, None], (tq, tk)),
         "your scores ignore the keys: every key got the same score. Add the keys' projection, keys[j] @ W2, to "
         "each query's before the tanh."),
        (np.broadcast_to((np.tanh(pk) @ v)[None, :], (tq, tk)),
         "your scores ignore the query: every query gave the same scores. Add the query's projection, "
         "query[i] @ W1, to each key's before the tanh."),
        (np.tanh(total) @ v / np.sqrt(len(v)),
         f"you divided the scores by sqrt(units) = sqrt({len(v)}): that is the scaled dot product's scale (chapter "
         "9); additive scores are v . tanh(query[i] @ W1 + keys[j] @ W2), unscaled (v learns their size)."),
    ]


def _additive_shape_problem(got: np.ndarray, arrays: _Additive, expected: np.ndarray) -> str | None:
    """What a result of the wrong shape is, in words, when its shape or its values say so."""
    query, keys, w1, w2, v = arrays
    tq, tk, units = len(query), len(keys), len(v)
    pq, pk = query @ w1, keys @ w2
    rule = ("Give every query its own row: projected_query[:, None, :] + projected_keys[None, :, :] has shape "
            "(Tq, Tk, units), so that every query meets every key.")
    if tq != tk and got.shape == (tk, tq):
        return (f"your scores have shape (Tk, Tq) = {got.shape}: rows are queries, columns keys, so scores[i, j] is "
                f"query i's score for key j, shape (Tq, Tk) = {expected.shape}. {rule}")
    if got.shape == (tq, tk, units):
        return (f"your scores have one value per unit, shape (Tq, Tk, units) = {got.shape}: take the dot product "
                "with v over the units (np.tanh(...) @ v) to get one score per query and key.")
    if got.ndim == 0:
        return (f"your scores are a single number: return one score for every query and key, shape (Tq, Tk) = "
                f"{expected.shape}.")
    if got.ndim == 1:
        suspects = [(expected[0] if tq == 1 else None,
                     f"your scores have shape {got.shape}, expected {expected.shape}: keep the queries' axis, even "
                     "for one query (don't squeeze it)."),
                    (np.tanh(pq + pk) @ v if tq == tk else None,
                     f"your scores have shape {got.shape}, one per query: you added query i's projection to key "
                     f"i's only. {rule}"),
                    (np.tanh(pq) @ v, f"your scores have shape {got.shape}, one per query: they ignore the keys. "
                                      "Add the keys' projection, keys[j] @ W2, to each query's before the tanh."),
                    (np.tanh(pk) @ v, f"your scores have shape {got.shape}, one per key: they ignore the query. "
                                      "Add the query's projection, query[i] @ W1, to each key's before the tanh.")]
        return named_mistake(got, suspects, _close)
    return None


@checker("8.2", "additive attention scores")
def check_additive_scores(answer: Callable[..., Any]) -> int:
    """``scores[i, j] = v . tanh(query[i] W1 + keys[j] W2)`` on square, rectangular and one-query inputs."""
    cases = _additive_cases()
    for arrays, on in cases:
        result = call(answer, *(array.copy() for array in arrays), on=on)
        _no_return(result, "the scores")
        _not_a_tuple(result, "the scores", on)
        got = expect_array(result, "your scores", hint=f"(on {on})")
        expected = additive_scores(*arrays)
        if got.shape != expected.shape:
            problem = _additive_shape_problem(got, arrays, expected)
            raise Mistake(f"{problem} (Seen on {on}.)" if problem else
                          f"your scores have shape {got.shape}, expected (Tq, Tk) = {expected.shape}: one score for "
                          f"every query and key (on {on}).")
        if _close(got, expected):
            continue
        message = named_mistake(got, _additive_suspects(*arrays), _close)
        if message in _SQUARE_ADDITIVE and not same_on_twin(answer, _SQUARE_ADDITIVE[message], cases[1][0]):
            message = None  # it gave those scores only because the input is square: another mistake
        if message:
            raise Mistake(f"{message} (Seen on {on}.)")
        if not np.all(np.isfinite(got)):
            raise Mistake(f"your scores contain NaN or infinity (on {on}).")
        cause = likely_cause(got, expected)
        raise Mistake(f"{cause} (Seen on {on}.) scores[i, j] = v . tanh(query[i] @ W1 + keys[j] @ W2)." if cause else
                      f"your scores are wrong on {on}: {_largest_difference(got, expected)}. scores[i, j] = "
                      "v . tanh(query[i] @ W1 + keys[j] @ W2).")
    return len(cases)


# Exercise 8.3: the attention decoder as a Keras layer ============================================

_LAYER_SIZES = dict(target_size=6, embedding=4, units=4, attention_units=3)  # embedding == units: see below
_KEY_DEPTH, _BATCH, _STEPS, _SOURCE = 6, 3, 4, 5
_KEY_MASK = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 1, 0]], dtype=bool)  # left, none, middle and right
_SUBLAYERS = ("target_embedding", "decoder", "attention", "combine", "output_layer")
_MODEL_TOLERANCE = 1e-4  # float32 logits of a few steps agree to about 1e-6; a wrong wiring misses by 1e-2 or more


def _decoder_inputs(rng: np.random.Generator, mask_dtype: Any) -> tuple[np.ndarray, ...]:
    """Token ids (B, T), the initial state (B, d), the keys (B, Tx, k) and the key mask (B, Tx)."""
    ids = rng.integers(1, _LAYER_SIZES["target_size"], (_BATCH, _STEPS)).astype(np.int32)
    state = rng.uniform(-0.9, 0.9, (_BATCH, _LAYER_SIZES["units"])).astype(np.float32)
    keys = rng.normal(0.0, 1.0, (_BATCH, _SOURCE, _KEY_DEPTH)).astype(np.float32)
    return ids, state, keys, _KEY_MASK.astype(mask_dtype)


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)


def _wired(layer: Any, ids: Any, state: Any, keys: Any, key_mask: Any, slip: str = "") -> tuple[np.ndarray, ...]:
    """The layer's own sublayers wired as the equations say, or with one plausible ``slip``."""
    embedded = layer.target_embedding(ids)
    s, last = layer.decoder(embedded, initial_state=None if slip == "no state" else state)
    query = {"embeddings": embedded,
             "previous": ops.concatenate([ops.expand_dims(ops.convert_to_tensor(state), 1), s[:, :-1]], axis=1)
             }.get(slip, s)
    mask = {"no mask": None, "inverted": ops.logical_not(ops.cast(key_mask, "bool"))}.get(slip, key_mask)
    context, weights = layer.attention(query, keys, keys, key_mask=mask)
    joined = [context, s] if slip == "swapped" else [s, context]
    logits = layer.output_layer(layer.combine(ops.concatenate(joined, axis=-1)))
    return _numpy(logits), _numpy(last), _numpy(weights)


def _layer_result(result: Any, shapes: dict[str, tuple[int, ...]], on: str) -> tuple[np.ndarray, ...]:
    """(logits, last_state, weights) as float arrays of the right shapes, or a sentence saying what came back."""
    names = tuple(shapes)
    if result is None:
        raise Mistake(f"your call returned None: did you forget to `return` ({', '.join(names)})?")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise Mistake(f"your call should return the tuple ({', '.join(names)}); it returned {kind_of(result)} "
                      f"(on {on}).")
    for part, name in zip(result, names, strict=True):
        if part is None:
            raise Mistake(f"your {name} is None: return (logits, last_state, weights) (on {on}).")
    got = tuple(_numpy(part) for part in result)
    found = [part.shape for part in got]
    if sorted(found) == sorted(shapes.values()) and found != list(shapes.values()):
        raise Mistake(f"your call returns the right arrays in another order (shapes {found}): return (logits, "
                      f"last_state, weights), of shapes {list(shapes.values())} (on {on}).")
    b, t, d = _BATCH, _STEPS, _LAYER_SIZES["units"]
    if got[1].shape == (b, t, d):
        raise Mistake(f"your last_state has shape {got[1].shape}, the GRU's states at every step: return its last "
                      f"state, (B, d) = {(b, d)}, the GRU's second output with return_state=True (on {on}).")
    if got[2].shape == (b, t, _KEY_DEPTH):
        raise Mistake(f"your weights have shape {got[2].shape}, the context's: the attention returns (context, "
                      f"weights); return the weights, (B, T, Tx) = {shapes['weights']} (on {on}).")
    for part, (name, shape) in zip(got, shapes.items(), strict=True):
        if part.shape != shape:
            raise Mistake(f"your {name} has shape {part.shape}, expected {shape} (on {on}).")
    return got


def _built_wrong(layer: Any) -> str | None:
    """A wiring that built a sublayer for inputs of another depth than the equations give it, in words."""
    d, k = _LAYER_SIZES["units"], _KEY_DEPTH
    depth = {name: int(getattr(layer, name).kernel.shape[0]) for name in ("combine", "output_layer")
             if getattr(layer, name).built}
    if depth.get("output_layer") == d + k:
        return ("your output layer reads [s_t; c_t] directly: the equations put the combine layer in between, "
                "logits = W_o tanh(W_c [s_t; c_t]): self.output_layer(self.combine(...)).")
    if depth.get("combine") == k:
        return ("your combine layer reads the context c_t alone: it reads s_t and c_t side by side, "
                "ops.concatenate([s, context], axis=-1), so that the output sees the decoder's own state too.")
    if depth.get("combine") == d:
        return ("your combine layer reads the decoder state s_t alone: it reads s_t and c_t side by side, "
                "ops.concatenate([s, context], axis=-1); without c_t the decoder never uses what it attended to.")
    return None


def _padding_moves(layer: Any, inputs: tuple[np.ndarray, ...], logits: np.ndarray, on: str) -> str | None:
    """What changing the keys at padded positions did, in words, if it changed anything beyond float32 rounding."""
    ids, state, keys, key_mask = inputs
    rng = np.random.default_rng(84)
    changed = np.where(np.asarray(key_mask, dtype=bool)[..., None], keys,
                       rng.normal(0.0, 3.0, keys.shape)).astype(np.float32)
    moved = _numpy(_call_layer(layer, (ids, state, changed, key_mask), on)[0])
    difference = np.abs(moved - logits).max(axis=(1, 2))
    if difference.max() > _MODEL_TOLERANCE:
        b = int(np.argmax(difference))
        padded = np.flatnonzero(~np.asarray(key_mask, dtype=bool)[b]).tolist()
        return (f"your decoder reads the padding: changing the encoder states at the padded positions {padded} of "
                f"sequence {b} changed its logits by up to {difference[b]:.3g}. Give the attention the key mask, "
                f"self.attention(s, keys, keys, key_mask=key_mask) (on {on}).")
    return None


def _make_layer(answer: Callable[..., Any], sizes: dict[str, int]) -> Any:
    """The learner's layer, made as the notebook makes it; a stub's NotImplementedError goes through.

    Making the layer runs only the given ``__init__``: it does not count as an answered case, so
    that a ``call`` that still raises NotImplementedError reads as "not attempted yet".
    """
    described = ", ".join(f"{key}={value}" for key, value in sizes.items())
    try:
        return answer(*sizes.values())
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code may raise anything
        raise Mistake(f"making your layer, {getattr(answer, '__name__', 'it')}({described}), raised "
                      f"{type(error).__name__}: {error}. Keep the __init__ as given.") from None


def _call_layer(layer: Any, inputs: tuple[np.ndarray, ...], on: str) -> Any:
    try:
        return layer(*inputs)
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code may raise anything
        raise Mistake(f"calling your layer raised {type(error).__name__}: {_reason(error)} (on {on}).") from None


@checker("8.3", "the attention decoder as a layer")
def check_attention_decoder(answer: Callable[..., Any]) -> int:
    """The learner's ``AttentionDecoder`` class against its own sublayers wired as the equations say.

    The queries' embedding depth equals the decoder's units, so that attending from the embeddings
    instead of the states runs and can be named; the keys have another depth, so that a layer fed
    the wrong input shows in the depth it was built for. After a first call builds the sublayers,
    every weight is drawn at random (biases included) and the layer is called with a boolean and
    with a float 0/1 key mask that pads on the left, in the middle and on the right.
    """
    on = ("token_ids (3, 4), state (3, 4), keys (3, 5, 6) and a key mask (3, 5) padding on the left, in the "
          "middle and on the right")
    layer = _make_layer(answer, _LAYER_SIZES)
    if layer is None:
        raise Mistake("creating your layer returned None: pass the class itself, AttentionDecoder, and did you forget "
                      "to `return` in a function that makes it?")
    if not isinstance(layer, layers.Layer):
        raise Mistake(f"pass your layer class, AttentionDecoder; calling what you passed gave {kind_of(layer)}.")
    missing = [name for name in _SUBLAYERS if not isinstance(getattr(layer, name, None), layers.Layer)]
    if missing:
        raise Mistake(f"your layer has no {missing[0]}: keep the __init__ as given, and write only the call.")
    rng = np.random.default_rng(83)
    n_checks = 0
    for mask_dtype in (bool, np.float32):
        inputs = _decoder_inputs(rng, mask_dtype)
        described = f"{on}, as {np.dtype(mask_dtype).name}"
        shapes = {"logits": (_BATCH, _STEPS, _LAYER_SIZES["target_size"]), "last_state": (_BATCH, _LAYER_SIZES["units"]),
                  "weights": (_BATCH, _STEPS, _SOURCE)}
        _layer_result(_call_layer(layer, inputs, described), shapes, described)
        wrong = _built_wrong(layer)
        if wrong:
            raise Mistake(f"{wrong} (Seen on {described}.)")
        if not n_checks:
            _randomise_all(layer)
        got = _layer_result(_call_layer(layer, inputs, described), shapes, described)
        padding = _padding_moves(layer, inputs, got[0], described)
        expected = _wired(layer, *inputs)
        if padding and _close_model(got[0], _wired(layer, *inputs, slip="inverted")[0]):
            raise Mistake(f"your key mask is the wrong way round: the weight went to the padding. The key mask is 1 "
                          f"(True) at the real positions; pass it on as it is. (Seen on {described}.)")
        if padding:
            raise Mistake(padding)
        if not all(_close_model(g, e) for g, e in zip(got, expected, strict=True)):
            raise Mistake(_wrong_decoder(layer, inputs, got, expected, described))
        n_checks += 2
    return n_checks


def _close_model(got: np.ndarray, wanted: np.ndarray) -> bool:
    return got.shape == wanted.shape and bool(np.allclose(got, wanted, atol=_MODEL_TOLERANCE, rtol=_MODEL_TOLERANCE))


def _randomise_all(layer: Any) -> None:
    """Random weights for every sublayer (biases and the GRU's included), so that none is left at 0 or 1."""
    rng = np.random.default_rng(830)
    for name in _SUBLAYERS:
        sublayer = getattr(layer, name)
        sublayer.set_weights([rng.normal(0.0, 0.6, np.shape(w)).astype(np.float32) for w in sublayer.get_weights()])


def _wrong_decoder(layer: Any, inputs: tuple[np.ndarray, ...], got: tuple[np.ndarray, ...],
                   expected: tuple[np.ndarray, ...], on: str) -> str:
    """The message for a layer whose outputs differ from the equations': the slip it matches, or where it differs."""
    logits, last, weights = got
    if not _close_model(last, expected[1]):
        if _close_model(last, _wired(layer, *inputs, slip="no state")[1]):
            return (f"your GRU ignores the initial state: its last state is that of a GRU started from zeros. Start "
                    f"it from the state, self.decoder(embedded, initial_state=state) (on {on}).")
        return (f"your last_state differs from the GRU's last state, largest difference "
                f"{float(np.abs(last - expected[1]).max()):.3g} (on {on}): return the GRU's second output, "
                "self.decoder(embedded, initial_state=state).")
    suspects = [
        ("no state", "your GRU ignores the initial state: start it from the state, "
                     "self.decoder(embedded, initial_state=state)."),
        ("no mask", "your attention ignores the key mask: the padded positions got weight. Pass it on, "
                    "self.attention(s, keys, keys, key_mask=key_mask)."),
        ("inverted", "your key mask is the wrong way round: the weight went to the padding. The key mask is 1 "
                     "(True) at the real positions; pass it on as it is."),
        ("embeddings", "your attention's queries are the token embeddings: the query is the decoder state after "
                       "the step, s_t, the GRU's first output (Luong's order: step, then attend)."),
        ("previous", "your attention's queries are the states before each step, s_{t-1} (Bahdanau's order): this "
                     "model attends from the state after the step, s_t, the GRU's first output."),
        ("swapped", "you concatenated [c_t; s_t]: the combine layer reads [s_t; c_t], the decoder state first, "
                    "ops.concatenate([s, context], axis=-1)."),
    ]
    versions = [(_wired(layer, *inputs, slip=slip), message) for slip, message in suspects]
    message = named_mistake(got, versions, lambda a, b: all(_close_model(x, y) for x, y in zip(a, b, strict=True)))
    if message is None:  # the logits alone may match, if the weights came back from another place
        message = named_mistake(logits, [(v[0], m) for v, m in versions], _close_model)
    if message:
        return f"{message} (Seen on {on}.)"
    with np.errstate(over="ignore"):
        softmax = np.exp(expected[0] - expected[0].max(axis=-1, keepdims=True))
    if _close_model(logits, softmax / softmax.sum(axis=-1, keepdims=True)):
        return (f"your logits are probabilities (a softmax): return the output layer's logits as they are; the "
                f"loss takes logits (on {on}).")
    if not _close_model(weights, expected[2]):
        return (f"your attention weights differ from the attention's, largest difference "
                f"{float(np.abs(weights - expected[2]).max()):.3g} (on {on}): return the weights that "
                "self.attention(s, keys, keys, key_mask=key_mask) returns with the context.")
    return (f"your logits differ from the equations', largest difference {float(np.abs(logits - expected[0]).max()):.3g} "
            f"(on {on}): s_t from the GRU started at the state, (c_t, weights) from the attention with s_t as the "
            "queries and the keys as keys and values, logits = output_layer(combine([s_t; c_t])).")


# Exercise 8.4: the attention weight on padding ===================================================


def _share_cases() -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(weights, key_mask, description): softmax rows that ignore the mask, so that the share is far from 0
    and from 1. Padding on the left (as the course pads sources) with as many queries as keys, then different
    sizes everywhere in float32 with a sequence without padding and one with a single real key, and padding on
    the right."""
    rng = np.random.default_rng(83)

    def case(lengths: Sequence[int], tq: int, tk: int, side: str, dtype: type = np.float64
             ) -> tuple[np.ndarray, np.ndarray, str]:
        positions = np.arange(tk)[None, :]
        sizes = np.array(lengths)[:, None]
        mask = positions >= tk - sizes if side == "left" else positions < sizes
        weights = _softmax(rng.normal(0.0, 1.2, (len(lengths), tq, tk))).astype(dtype)
        kind = "float32 " if dtype == np.float32 else ""
        return weights, mask, (f"{kind}weights of shape {weights.shape} and sequences of lengths {list(lengths)} "
                               f"padded on the {side}")

    return [case([3, 5, 2], 5, 5, "left"), case([6, 4, 1, 3], 3, 6, "left", np.float32),
            case([5, 2, 7], 2, 7, "right")]


def _share_suspects(weights: np.ndarray, mask: np.ndarray) -> list[tuple[float | None, str]]:
    w = weights.astype(np.float64)
    b, tq, tk = w.shape
    padding = ~mask[:, None, :]
    per_query = (w * padding).sum(axis=-1)  # (B, Tq)
    share = float(per_query.mean())
    real = ("you measured the weight on the real keys: key_mask is True at the real keys, so the padded keys "
            "are ~key_mask (key_mask == False).")
    return [
        (1.0 - share, real),
        (float((w * mask[:, None, :]).sum(axis=-1).mean()), real),
        (float(per_query.sum()), f"you summed over the {b * tq} queries: take their mean, so that the share is "
                                 "between 0 and 1."),
        (float(per_query.sum(axis=-1).mean()), f"you added up the {tq} queries of each sequence: take the mean over "
                                               "the queries too (over all B * Tq rows)."),
        (float((w * padding).mean()), f"you took the mean over every weight, dividing by the {tk} keys too: add up "
                                      "each query's weights on the padded keys, then average over the queries."),
        (float(w[np.broadcast_to(padding, w.shape)].mean()),
         "you averaged the weights of the padded keys: add them up within each query (the total weight that "
         "query puts on padding), then average over the queries."),
        (float((w * padding).sum(axis=-2).mean()) if tq != tk else None,  # the same as the share when tq == tk
         f"your share is the total weight on padding divided by B * Tk = {b * tk}, the number of keys (what adding "
         "up over the queries, .sum(axis=-2).mean(), gives): add up each query's weights over the keys (axis -1), "
         f"then average over the B * Tq = {b * tq} queries."),
        (float((w * ~mask[:, :, None]).sum(axis=-1).mean()) if tq == tk else None,
         "you applied the mask to the queries: key_mask[b, j] says whether key j of sequence b is real, so it "
         "belongs on the last axis of the weights, key_mask[:, None, :]."),
        (float(per_query.max(axis=-1).mean()), "you took each sequence's largest share: take the mean over all "
                                               "the queries of all the sequences."),
        (100.0 * share, "you returned a percentage: return the share itself, between 0 and 1."),
    ]


def _same_number(got: float, wanted: float) -> bool:
    return math.isclose(got, wanted, rel_tol=1e-5, abs_tol=1e-7)  # float32 weights add up to about 1e-7


def _one_number(result: Any, weights: np.ndarray, on: str) -> float:
    """The learner's share as a float, or a sentence saying what came back instead."""
    _no_return(result, "the share")
    wanted = "return one number: the mean over all queries of all sequences"
    array = np.asarray(result)
    if isinstance(result, (bool, np.bool_, str, bytes)) or array.dtype.kind not in "iuf":
        raise Mistake(f"{wanted}, a float; you returned {kind_of(result)} (on {on}).")
    returned = kind_of(result) if isinstance(result, np.ndarray) else f"{kind_of(result)}, shape {array.shape}"
    if array.ndim and array.size == 1:
        raise Mistake(f"you returned one value inside a container ({returned}): return the number itself, a "
                      f"float (float(share)), not in a list or an array (on {on}).")
    if array.ndim:
        b, tq, _ = weights.shape
        per = {(b,): "one value per sequence", (b, tq): "one value per query", (tq,): "one value per query"}
        raise Mistake(f"you returned {per.get(array.shape, 'several values')} ({returned}): {wanted} (on {on}).")
    return float(array)


@checker("8.4", "the attention weight on padding")
def check_padding_share(answer: Callable[..., Any]) -> int:
    """The mean over every query of every sequence of its total weight on padded keys."""
    cases = _share_cases()
    for weights, mask, on in cases:
        got = _one_number(call(answer, weights.copy(), mask.copy(), on=on), weights, on)
        expected = padding_share(weights, mask)
        if _same_number(got, expected):
            continue
        seen = f"(Seen on {on}: you returned {got:.6g}, expected {expected:.6g}.)"
        message = named_mistake(got, _share_suspects(weights, mask), _same_number)
        if message:
            raise Mistake(f"{message} {seen}")
        if not math.isfinite(got):
            raise Mistake(f"you returned {got} on {on}: the share is a number between 0 and 1.")
        raise Mistake(f"your share is {got:.6g} on {on}, expected {expected:.6g}: for each query of each sequence "
                      "add up its weights on the padded keys (where key_mask is False), then take the mean of "
                      "these B * Tq totals.")
    return len(cases)

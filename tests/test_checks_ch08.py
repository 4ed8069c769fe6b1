"""utils.checks.ch08: each checker passes right answers, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them, independently of the
checker's own list of suspects; each test asserts on the phrase of the diagnostic that names
that mistake.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from keras import ops
from checkerfailures import assert_named, failure

from utils.checks.ch08 import check_additive_scores, check_masked_softmax, check_padding_share


def _stub(*args):
    raise NotImplementedError("Exercise: replace this line with your code.")


# ================================================================================================
# Exercise 8.1: masked softmax
# ================================================================================================


def softmax_with(scores, mask, *, fill=-np.inf, rule="before", axis=-1, subtract_max=True, expand="keys",
                 returns="weights"):
    """A learner's masked softmax, with one option per plausible slip."""
    if rule == "inverted":
        mask = ~mask
    keep = {"keys": mask[..., None, :], "queries": mask[..., :, None], "none": mask}[expand]
    if rule in ("ignored", "after", "after, renormalised"):
        masked = scores
    elif fill == 0:
        masked = scores * keep
    else:
        masked = np.where(keep, scores, fill)
    if returns == "scores":
        return masked
    shifted = masked - masked.max(axis=axis, keepdims=True) if subtract_max else masked
    e = np.exp(shifted)
    weights = e / e.sum(axis=axis, keepdims=True)
    if rule in ("after", "after, renormalised"):
        weights = weights * keep
    if rule == "after, renormalised":
        weights = weights / weights.sum(axis=-1, keepdims=True)
    return {"weights": weights, "batched": weights[None], "summed": weights.sum(axis=-1),
            "list": weights.tolist()}[returns]


def softmax_by_adding_a_large_negative(scores, mask):
    scores = scores + np.where(mask[..., None, :], 0.0, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_by_loops(scores, mask):
    if scores.ndim == 2:
        return softmax_by_loops(scores[None], mask[None])[0]
    weights = np.zeros_like(scores)
    for b in range(scores.shape[0]):
        real = np.flatnonzero(mask[b])
        for q in range(scores.shape[1]):
            e = np.exp(scores[b, q, real] - np.max(scores[b, q, real]))
            weights[b, q, real] = e / np.sum(e)
    return weights


def softmax_with_keras_ops(scores, mask):  # returns a tensor of the current backend, in float32
    keep = np.asarray(mask)[..., None, :]
    weights = ops.softmax(ops.where(keep, ops.convert_to_tensor(scores, "float32"), -1e9), axis=-1)
    return ops.where(keep, weights, 0.0)


def test_masked_softmax_alternative_correct_answers_pass(capsys):
    answers = (softmax_with, softmax_by_adding_a_large_negative, softmax_by_loops, softmax_with_keras_ops,
               functools.partial(softmax_with, fill=-1e9), functools.partial(softmax_with, rule="after, renormalised"),
               functools.partial(softmax_with, returns="list"))
    for answer in answers:
        check_masked_softmax(answer)
    assert capsys.readouterr().out.count("passed all 5 checks") == len(answers)


_TITLE_81 = "Exercise 8.1 (masked softmax): "


def only_real_weights(scores, mask):
    weights = softmax_with(scores, mask)
    if scores.ndim == 2:
        return weights[:, mask]
    return [w[:, m] for w, m in zip(weights, mask, strict=True)]  # ragged: the sequences have different lengths


def only_2d(scores, mask):
    keep = mask[None, :]  # (1, Tk): right for one sequence, not for a batch
    e = np.exp(np.where(keep, scores, -np.inf) - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def only_3d(scores, mask):
    keep = mask[:, None, :]  # IndexError on a (Tk,) mask
    return softmax_with(scores, keep[:, 0, :])


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(softmax_with, rule="ignored"), ["ignore the mask", "2-D scores of shape (4, 4)",
                                                           "key_mask [0, 1, 0, 1]"]),
        (functools.partial(softmax_with, rule="after"), ["applied the mask after the softmax", "less than 1"]),
        (functools.partial(softmax_with, fill=0), ["set the masked scores to 0", "exp(0)"]),
        (functools.partial(softmax_with, rule="inverted"), ["mask is the wrong way round"]),
        (functools.partial(softmax_with, axis=-2), ["over the queries (axis -2)", "axis=-1"]),
        (functools.partial(softmax_with, subtract_max=False),
         ["Subtract each row's own maximum before np.exp", "around 750, 870 and 1000"]),
        (functools.partial(softmax_with, returns="scores"), ["returned the (masked) scores, not the weights"]),
        (functools.partial(softmax_with, fill=-30.0), ["your weights on padding are not exactly 0 (the largest is",
                                                       "-np.inf or -1e9"]),
        (functools.partial(softmax_with, expand="queries"), ["applied to the queries (rows) instead of the keys"]),
        (functools.partial(softmax_with, expand="none"), ["without an axis for the queries",
                                                          "3-D scores of shape (4, 4, 4)"]),
        (only_2d, ["without an axis for the queries"]),
        (only_3d, ["raised IndexError", "mask[..., None, :] gives it an axis for the queries"]),
        (functools.partial(softmax_with, returns="batched"), ["shape (1, 4, 4), expected (4, 4)",
                                                              "without a batch axis"]),
        (functools.partial(softmax_with, returns="summed"), ["shape (4,), expected (4, 4)", "reduced"]),
        (only_real_weights, ["your weights have shape (4, 2), expected (4, 4)"]),
        (lambda s, m: None, ["returned None", "forget to `return` the weights"]),
        (lambda s, m: "weights", ["your weights could not be read as an array of numbers"]),
        (lambda s, m: (softmax_with(s, m), s), ["return the weights alone", "tuple of 2 items"]),
        (lambda s, m: 1.0, ["your weights are a single number, expected an array of shape (4, 4)"]),
    ],
    ids=["mask ignored", "mask after", "masked scores 0", "inverted", "wrong axis", "no max", "scores returned",
         "not exactly 0", "mask on queries", "mask not expanded", "only 2-D", "only 3-D", "batch axis", "summed",
         "real keys only", "None", "string", "tuple", "number"],
)
def test_masked_softmax_mistakes_are_named(answer, phrases):
    assert_named(check_masked_softmax, answer, _TITLE_81, phrases)


def test_masked_softmax_ragged_list_gets_a_sentence():
    def ragged(scores, mask):
        if scores.ndim == 2:
            return softmax_with(scores, mask)
        return only_real_weights(scores, mask)

    assert "your weights could not be read as an array of numbers" in failure(check_masked_softmax, ragged)


def test_masked_softmax_wrong_values_get_the_rule():
    def halved(scores, mask):
        return softmax_with(scores, mask) / 2

    message = failure(check_masked_softmax, halved)
    assert "the weights of each query must sum to 1" in message and "sums to 0.5" in message

    def squared(scores, mask):
        w = softmax_with(scores, mask) ** 2
        return w / w.sum(axis=-1, keepdims=True)

    message = failure(check_masked_softmax, squared)
    assert "your weights are wrong on 2-D scores of shape (4, 4)" in message and "largest difference" in message


def test_masked_softmax_changed_scores_are_named():
    def in_place(scores, mask):
        if scores.ndim == 2:
            scores[:, ~mask] = -np.inf  # the caller's array
        return softmax_with(scores, mask)

    assert "changed its input `scores` in place" in failure(check_masked_softmax, in_place)


def test_masked_softmax_unfinished_batches_are_named():
    def no_batches_yet(scores, mask):
        if scores.ndim == 3:
            raise NotImplementedError("batches: later")
        return softmax_with(scores, mask)

    message = failure(check_masked_softmax, no_batches_yet)
    assert "unfinished" in message and "3-D scores of shape (4, 4, 4)" in message


def test_masked_softmax_stub_prints_not_attempted(capsys):
    check_masked_softmax(_stub)
    assert "not attempted yet" in capsys.readouterr().out


# ================================================================================================
# Exercise 8.2: additive (Bahdanau) scores
# ================================================================================================


def scores_with(query, keys, W1, W2, v, *, activation="tanh", combine="add", projections="right",
                layout="queries first", weigh="v", squeeze=False):
    """A learner's additive scores, with one option per plausible slip."""
    wq, wk = {"right": (W1, W2), "swapped": (W2, W1), "W1 twice": (W1, W1), "W2 twice": (W2, W2)}[projections]
    pq, pk = query @ wq, keys @ wk
    a, b = {"queries first": (pq[:, None, :], pk[None, :, :]), "keys first": (pq[None, :, :], pk[:, None, :]),
            "no broadcast": (pq, pk), "query only": (pq, 0.0), "keys only": (0.0, pk)}[layout]
    total = a * b if combine == "multiply" else a + b
    hidden = {"tanh": np.tanh(total), "none": total, "after": total,
              "separately": np.tanh(a) + np.tanh(b)}[activation]
    out = {"v": lambda h: h @ v, "sum": lambda h: h.sum(axis=-1), "none": lambda h: h}[weigh](hidden)
    if activation == "after":
        out = np.tanh(out)
    return np.squeeze(out) if squeeze else out


def scores_by_einsum(query, keys, W1, W2, v):
    hidden = np.tanh(np.einsum("id,du->iu", query, W1)[:, None, :] + np.einsum("jd,du->ju", keys, W2)[None, :, :])
    return np.einsum("iju,u->ij", hidden, v)


def scores_by_loops(query, keys, W1, W2, v):
    scores = np.zeros((len(query), len(keys)))
    for i in range(len(query)):
        for j in range(len(keys)):
            scores[i, j] = v @ np.tanh(query[i] @ W1 + keys[j] @ W2)
    return scores


def scores_in_float32(query, keys, W1, W2, v):
    return scores_with(*(np.asarray(x, dtype=np.float32) for x in (query, keys, W1, W2, v)))


def test_additive_scores_alternative_correct_answers_pass(capsys):
    answers = (scores_with, scores_by_einsum, scores_by_loops, scores_in_float32,
               lambda *a: scores_with(*a).tolist())
    for answer in answers:
        check_additive_scores(answer)
    assert capsys.readouterr().out.count("passed all 3 checks") == len(answers)


_TITLE_82 = "Exercise 8.2 (additive attention scores): "


def transposed_when_rectangular(query, keys, W1, W2, v):  # right on the square case, so the shape names it
    scores = scores_with(query, keys, W1, W2, v)
    return scores if len(query) == len(keys) else scores.T


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(scores_with, activation="none"), ["have no tanh", "query of shape (4, 3)"]),
        (functools.partial(scores_with, activation="after"), ["applied tanh after the dot product with v"]),
        (functools.partial(scores_with, activation="separately"), ["tanh to each projection separately"]),
        (functools.partial(scores_with, projections="swapped"), ["projections are swapped"]),
        (functools.partial(scores_with, projections="W1 twice"), ["with the same matrix"]),
        (functools.partial(scores_with, projections="W2 twice"), ["with the same matrix"]),
        (functools.partial(scores_with, layout="keys first"), ["scores are transposed", "rows are queries"]),
        (transposed_when_rectangular, ["shape (Tk, Tq) = (6, 3): rows are queries, columns keys"]),
        (functools.partial(scores_with, weigh="sum"), ["summed tanh over the units without v"]),
        (functools.partial(scores_with, weigh="none"), ["one value per unit, shape (Tq, Tk, units) = (4, 4, 5)"]),
        (functools.partial(scores_with, combine="multiply"), ["you multiplied the projections"]),
        (functools.partial(scores_with, layout="no broadcast"), ["shape (4,), one per query",
                                                                 "query i's projection to key i's only"]),
        (functools.partial(scores_with, layout="query only"), ["shape (4,), one per query: they ignore the keys"]),
        (functools.partial(scores_with, layout="keys only"), ["shape (4,), one per key: they ignore the query"]),
        (functools.partial(scores_with, squeeze=True), ["shape (5,), expected (1, 5)", "don't squeeze"]),
        (lambda *a: None, ["returned None", "forget to `return` the scores"]),
        (lambda *a: scores_with(*a)[:, :2], ["your scores have shape (4, 2), expected (Tq, Tk) = (4, 4)"]),
        (lambda *a: scores_with(*a).sum(), ["your scores are a single number"]),
        (lambda q, k, W1, W2, v: (scores_with(q, k, W1, W2, v), v), ["return the scores alone", "tuple of 2 items"]),
    ],
    ids=["no tanh", "tanh after v", "tanh separately", "swapped", "W1 twice", "W2 twice", "transposed",
         "transposed shape", "no v", "per unit", "product", "diagonal", "query only", "keys only", "squeezed",
         "None", "cut", "number", "tuple"],
)
def test_additive_scores_mistakes_are_named(answer, phrases):
    assert_named(check_additive_scores, answer, _TITLE_82, phrases)


def test_additive_scores_unknown_mistake_gets_the_rule():
    message = failure(check_additive_scores, lambda *a: scores_with(*a) + 0.1 * (a[0][:, :1] @ a[1][:, :1].T))
    assert "your scores are wrong on query of shape (4, 3)" in message and "the largest difference is" in message


def test_additive_scores_off_by_a_constant_says_so():
    message = failure(check_additive_scores, lambda *a: scores_with(*a) + 0.1)
    assert "your values are all 0.1 above the right ones" in message and "v . tanh(" in message


def test_additive_scores_stub_and_crash():
    check_additive_scores(_stub)

    def swapped_crashes(query, keys, W1, W2, v):  # right on the square case, then the shapes do not fit
        return scores_with(query, keys, W2, W1, v) if len(query) != len(keys) else scores_with(query, keys, W1, W2, v)

    message = failure(check_additive_scores, swapped_crashes)
    assert "your function raised ValueError" in message and "query of shape (3, 4)" in message


# ================================================================================================
# Exercise 8.4: the attention weight on padding
# ================================================================================================


def share_with(weights, key_mask, *, padded="not mask", mask_axis="keys", sum_axis=-1, reduce="mean", scale=1.0):
    """A learner's share of the attention on padding, with one option per plausible slip."""
    padding = ~key_mask if padded == "not mask" else key_mask
    expanded = padding[:, None, :] if mask_axis == "keys" else padding[:, :, None]
    on_padding = weights * expanded
    totals = on_padding.sum(axis=sum_axis)
    value = {"mean": lambda: totals.mean(), "sum": lambda: totals.sum(), "per sequence": lambda: totals.mean(axis=-1),
             "per query": lambda: totals, "max per sequence": lambda: totals.max(axis=-1).mean(),
             "sum per sequence": lambda: totals.sum(axis=-1).mean(), "every entry": lambda: on_padding.mean(),
             "padded entries": lambda: weights[np.broadcast_to(expanded, weights.shape)].mean()}[reduce]()
    return scale * value


def share_by_loops(weights, key_mask):
    totals = []
    for w, m in zip(weights, key_mask, strict=True):
        for row in w:
            totals.append(float(sum(x for x, real in zip(row, m, strict=True) if not real)))
    return sum(totals) / len(totals)


def share_by_einsum(weights, key_mask):
    return np.array(np.einsum("bqk,bk->", weights, (~key_mask).astype(weights.dtype)) / np.prod(weights.shape[:2]),
                    dtype=np.float32)


def test_padding_share_alternative_correct_answers_pass(capsys):
    answers = (share_with, share_by_loops, share_by_einsum, lambda w, m: float(share_with(w, m)),
               lambda w, m: 1 - share_with(w, m, padded="mask"))
    for answer in answers:
        check_padding_share(answer)
    assert capsys.readouterr().out.count("passed all 3 checks") == len(answers)


_TITLE_84 = "Exercise 8.4 (the attention weight on padding): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(share_with, padded="mask"), ["weight on the real keys", "~key_mask",
                                                        "lengths [3, 5, 2] padded on the left"]),
        (lambda w, m: 1 - share_with(w, m), ["weight on the real keys"]),
        (functools.partial(share_with, reduce="sum"), ["you summed over the 15 queries"]),
        (functools.partial(share_with, reduce="sum per sequence"), ["added up the 5 queries of each sequence"]),
        (functools.partial(share_with, reduce="every entry"), ["mean over every weight", "the 5 keys too"]),
        (functools.partial(share_with, reduce="padded entries"), ["averaged the weights of the padded keys"]),
        (functools.partial(share_with, sum_axis=-2), ["divided by B * Tk = 24", ".sum(axis=-2).mean()",
                                                      "shape (4, 3, 6)"]),
        (functools.partial(share_with, mask_axis="queries"), ["applied the mask to the queries"]),
        (functools.partial(share_with, reduce="max per sequence"), ["each sequence's largest share"]),
        (functools.partial(share_with, scale=100.0), ["you returned a percentage"]),
        (functools.partial(share_with, reduce="per sequence"),
         ["one value per sequence (ndarray of shape (3,)):", "return one number: the mean over all queries of all"]),
        (functools.partial(share_with, reduce="per query"), ["one value per query (ndarray of shape (3, 5)"]),
        (lambda w, m: share_with(w, m, reduce="per sequence").tolist(),
         ["one value per sequence (list of 3 items, shape (3,))"]),
        (lambda w, m: [share_with(w, m)], ["one value inside a container (list of 1 item", "the number itself"]),
        (lambda w, m: f"{share_with(w, m):.3f}", ["return one number", "you returned str"]),
        (lambda w, m: share_with(w, m) > 0.1, ["return one number", "you returned bool"]),
        (lambda w, m: None, ["returned None", "forget to `return` the share"]),
        (lambda w, m: share_with(w, m) + 0.05, ["your share is 0.3856", "expected 0.3356"]),
        (lambda w, m: float("nan"), ["you returned nan"]),
    ],
    ids=["inverted", "one minus", "sum", "sum per sequence", "every entry", "padded entries", "summed over queries",
         "mask on queries", "maxima", "percentage", "per sequence", "per query", "list per sequence",
         "list of one", "string", "bool", "None", "off", "NaN"],
)
def test_padding_share_mistakes_are_named(answer, phrases):
    assert_named(check_padding_share, answer, _TITLE_84, phrases)


def test_padding_share_stub_and_changed_mask():
    check_padding_share(_stub)

    def in_place(weights, key_mask):
        np.logical_not(key_mask, out=key_mask)  # the caller's array
        return share_with(weights, key_mask, padded="mask")

    assert "changed its input `key_mask` in place" in failure(check_padding_share, in_place)


# ================================================================================================
# Issue 31: hints that fit their cause, a suspect confirmed on a twin input, a constant factor named
# ================================================================================================


def softmax_that_tests_the_mask(scores, mask):
    if mask:  # the truth of a whole array: ValueError
        pass
    return softmax_with(scores, mask)


def softmax_with_the_global_maximum(scores, mask):
    masked = np.where(np.asarray(mask)[..., None, :] if scores.ndim == 3 else mask, scores, -np.inf).astype(np.float32)
    weights = np.exp(masked - masked.max())  # one maximum for the whole array: far rows underflow to 0 / 0
    return weights / weights.sum(axis=-1, keepdims=True)


def softmax_rows_masked_on_square_scores_only(scores, mask):
    mask = np.asarray(mask, dtype=bool)
    if scores.ndim == 2 and scores.shape[0] == scores.shape[1]:
        mask = mask[:, None]  # a slip that only square scores let through ...
    elif scores.ndim == 3:
        mask = mask[:, None, :]
    masked = np.where(mask, scores, -np.inf)  # ... and right on every other input
    weights = np.exp(masked - masked.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def test_masked_softmax_if_mask_gets_its_own_hint_not_the_shapes():
    message = failure(check_masked_softmax, softmax_that_tests_the_mask)
    assert "`if mask:` asks Python for the truth of a whole array" in message and "is not None" in message
    assert "gives it an axis for the queries" not in message


def test_masked_softmax_shape_crash_keeps_the_shapes_reminder():
    message = failure(check_masked_softmax, lambda scores, mask: softmax_with(scores, mask.reshape(2, -1)))
    assert "raised" in message and "mask[..., None, :] gives it an axis for the queries" in message


def test_masked_softmax_large_scores_are_diagnosed_by_shifting_them():
    message = failure(check_masked_softmax, softmax_with_the_global_maximum)
    assert "right on the same scores minus each row's maximum" in message
    assert "Subtract each row's own maximum" in message


def test_masked_softmax_nan_that_shifting_does_not_cure_gets_no_overflow_hint():
    def nan_on_the_large_case(scores, mask):  # a bug tied to this batch's shape, not to the size of its scores
        weights = softmax_with(scores, mask)
        return np.full_like(weights, np.nan) if scores.shape == (2, 3, 4) else weights

    message = failure(check_masked_softmax, nan_on_the_large_case)
    assert "NaN or infinity" in message and "minus each row's maximum" not in message


def test_masked_softmax_square_only_suspect_needs_the_twin_to_agree():
    message = failure(check_masked_softmax, softmax_rows_masked_on_square_scores_only)
    assert "applied to the queries (rows)" not in message
    assert "2-D scores of shape (4, 4)" in message


def test_additive_scores_scaled_like_a_dot_product_is_named():
    message = failure(check_additive_scores, lambda *a: scores_with(*a) / np.sqrt(len(a[4])))
    assert "you divided the scores by sqrt(units) = sqrt(5)" in message

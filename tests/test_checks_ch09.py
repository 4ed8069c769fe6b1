"""utils.checks.ch09: each checker passes right answers, tolerates a stub and names each mistake.

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

from utils.checks.ch09 import (check_bits_with_context, check_causal_mask, check_scaled_dot_product_attention,
                               check_split_heads)


def _stub(*args):
    raise NotImplementedError("Exercise: replace this line with your code.")


def _all_pass(check, answers, n_checks, capsys):
    """Every answer passes ``check``, which prints its pass line once for each."""
    for answer in answers:
        check(answer)
    assert capsys.readouterr().out.count(f"passed all {n_checks} checks") == len(answers)


# ================================================================================================
# Exercise 9.1: scaled dot-product attention
# ================================================================================================


def attention_with(q, k, v, mask=None, *, scale="sqrt", transpose="swapaxes", axis=-1, masking="where",
                   fill=-np.inf, subtract_max=True, returns="output, weights"):
    """A learner's scaled dot-product attention, with one option per plausible slip."""
    dk, dv = q.shape[-1], v.shape[-1]
    if transpose == "swapaxes":
        scores = q @ np.swapaxes(k, -1, -2)
    elif transpose == ".T":
        scores = q @ k.T
    elif transpose == "none":
        scores = q @ k
    else:  # "k q^T"
        scores = k @ np.swapaxes(q, -1, -2)
    scores = {"sqrt": lambda s: s / np.sqrt(dk), "none": lambda s: s, "dk": lambda s: s / dk,
              "times": lambda s: s * np.sqrt(dk), "dv": lambda s: s / np.sqrt(dv)}[scale](scores)
    if mask is not None:
        if masking == "where":
            scores = np.where(mask, scores, fill)
        elif masking == "inverted":
            scores = np.where(mask, fill, scores)
        elif masking == "inverted, added":
            scores = scores + mask * -1e9
        elif masking == "transposed":
            scores = np.where(np.swapaxes(mask, -1, -2), scores, fill)
        elif masking == "zero":
            scores = scores * mask
        elif masking == "added":
            scores = scores + np.where(mask, 0.0, -1e9)
        elif masking == "expanded":  # as for chapter 8's (B, Tk) key masks
            scores = np.where(mask[..., None, :], scores, fill)
    if returns == "scores":
        return scores @ v, scores
    shifted = scores - scores.max(axis=axis, keepdims=True) if subtract_max else scores
    e = np.exp(shifted)
    weights = e / e.sum(axis=axis, keepdims=True)
    if mask is not None and masking.startswith("after"):
        weights = weights * mask
        if masking == "after, renormalised":
            weights = weights / weights.sum(axis=-1, keepdims=True)
    output = weights @ v
    return {"output, weights": lambda: (output, weights), "weights, output": lambda: (weights, output),
            "output": lambda: output, "weights twice": lambda: (weights, weights),
            "list": lambda: [output.tolist(), weights.tolist()]}[returns]()


def attention_by_einsum(q, k, v, mask=None):
    scores = np.einsum("...id,...jd->...ij", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("...ij,...jd->...id", weights, v), weights


def attention_by_loops(q, k, v, mask=None):
    """One query at a time, over the leading axes flattened: the scores of the allowed keys only."""
    lead, (tq, dk), tk = q.shape[:-2], q.shape[-2:], k.shape[-2]
    allowed = np.broadcast_to(True if mask is None else mask, (*lead, tq, tk)).reshape(-1, tq, tk)
    qs, ks, vs = q.reshape(-1, tq, dk), k.reshape(-1, tk, dk), v.reshape(-1, tk, v.shape[-1])
    weights = np.zeros((len(qs), tq, tk))
    for n in range(len(qs)):
        for i in range(tq):
            keys = np.flatnonzero(allowed[n, i])
            s = np.array([qs[n, i] @ ks[n, j] for j in keys]) / np.sqrt(dk)
            e = np.exp(s - s.max())
            weights[n, i, keys] = e / e.sum()
    output = weights @ vs
    return output.reshape(*lead, tq, -1), weights.reshape(*lead, tq, tk)


def attention_with_keras_ops(q, k, v, mask=None):  # tensors of the current backend, in float32
    q, k, v = (ops.convert_to_tensor(x, "float32") for x in (q, k, v))
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / np.sqrt(q.shape[-1]).astype("float32")
    if mask is not None:
        scores = ops.where(mask, scores, -1e9)
    weights = ops.softmax(scores, axis=-1)
    if mask is not None:
        weights = ops.where(mask, weights, 0.0)
    return ops.matmul(weights, v), weights


def test_attention_alternative_correct_answers_pass(capsys):
    answers = (attention_with, attention_by_einsum, attention_by_loops, attention_with_keras_ops,
               functools.partial(attention_with, fill=-1e9), functools.partial(attention_with, masking="added"),
               functools.partial(attention_with, masking="after, renormalised"),
               functools.partial(attention_with, returns="list"))
    _all_pass(check_scaled_dot_product_attention, answers, 5, capsys)


def attention_scaling_q_in_place(q, k, v, mask=None):
    q /= np.sqrt(q.shape[-1])  # scales the caller's queries
    return attention_with(q, k, v, mask, scale="none")


_TITLE_91 = "Exercise 9.1 (scaled dot-product attention): "


def only_for_one_sequence(q, k, v, mask=None):
    if q.ndim > 2:
        raise NotImplementedError("batches: later")
    return attention_with(q, k, v, mask)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(attention_with, scale="none"), ["your scores are not scaled", "sqrt(dk) = sqrt(4)",
                                                           "one sequence: q (4, 4), k (4, 4), v (4, 3)"]),
        (functools.partial(attention_with, scale="dk"), ["you divided the scores by dk = 4", "its square root"]),
        (functools.partial(attention_with, scale="times"), ["you multiplied the scores by sqrt(dk)"]),
        (functools.partial(attention_with, scale="dv"), ["you scaled by sqrt(dv) = sqrt(3)", "depth of the values"]),
        (functools.partial(attention_with, axis=-2), ["over the queries (axis -2)", "axis=-1"]),
        (functools.partial(attention_with, axis=-2, fill=-1e9), ["over the queries (axis -2)"]),
        (functools.partial(attention_with, masking="ignored"), ["your weights ignore the mask",
                                                                "a causal mask (4, 4)"]),
        (functools.partial(attention_with, masking="inverted"), ["your mask is the wrong way round",
                                                                 "as Keras's attention_mask"]),
        (functools.partial(attention_with, masking="inverted", fill=-1e9), ["your mask is the wrong way round"]),
        (functools.partial(attention_with, masking="inverted, added"), ["your mask is the wrong way round"]),
        (functools.partial(attention_with, masking="transposed"), ["your mask is transposed"]),
        (functools.partial(attention_with, masking="after"), ["applied the mask after the softmax", "less than 1"]),
        (functools.partial(attention_with, masking="zero"), ["set the masked scores to 0", "exp(0)"]),
        (functools.partial(attention_with, masking="expanded"),
         ["your output has shape (4, 4, 3), expected (..., Tq, dv) = (4, 3)", "use the mask as it is"]),
        (functools.partial(attention_with, transpose="none"), ["use k without transposing it",
                                                               "np.swapaxes(k, -1, -2)"]),
        (functools.partial(attention_with, transpose="k q^T"), ["your scores are transposed (k @ q^T)"]),
        (functools.partial(attention_with, transpose=".T"), ["raised ValueError", "a batch: q (2, 3, 4)",
                                                             "k.T reverses every axis"]),
        (functools.partial(attention_with, subtract_max=False),
         ["as np.exp overflows", "right on the same input with every score lowered by 800",
          "large scores (about 800): q (2, 3, 4)"]),
        (functools.partial(attention_with, returns="weights, output"),
         ["you returned (weights, output)", "the output comes first"]),
        (functools.partial(attention_with, returns="output"),
         ["you returned only the output, one array of shape (4, 3)", "return the tuple (output, weights)"]),
        (functools.partial(attention_with, returns="weights twice"),
         ["your output is the weights themselves", "output = weights @ v"]),
        (functools.partial(attention_with, returns="scores"), ["returned the (scaled, masked) scores as the weights"]),
        (lambda q, k, v, mask=None: attention_with(q, k, v, mask)[1], ["you returned only the weights"]),
        (lambda q, k, v, mask=None: (attention_with(q, k, v, mask)[0] * 2, attention_with(q, k, v, mask)[1]),
         ["your weights are right but your output is wrong", "weights @ v"]),
        (lambda q, k, v, mask=None: (attention_with(q, k, v, mask)[0], attention_with(q, k, v, mask)[1] ** 2),
         ["the weights of each query must sum to 1"]),
        (functools.partial(attention_with, fill=-30.0), ["your weights on masked keys are not 0"]),
        (lambda q, k, v, mask=None: None, ["returned None", "forget to `return` (output, weights)"]),
        (lambda q, k, v, mask=None: (*attention_with(q, k, v, mask), q), ["return the tuple (output, weights)"]),
        (only_for_one_sequence, ["unfinished", "a batch: q (2, 3, 4)"]),
        (attention_scaling_q_in_place, ["changed its input `q` in place"]),
    ],
    ids=["no scale", "dk", "times sqrt", "sqrt dv", "wrong axis", "wrong axis -1e9", "mask ignored", "inverted",
         "inverted -1e9", "inverted added", "mask transposed", "mask after", "masked scores 0", "mask expanded",
         "k not transposed",
         "k q^T", "k.T", "no max", "swapped", "output only", "weights as output", "scores", "weights only",
         "output wrong", "weights unnormalised", "not exactly 0", "None", "three", "unfinished",
         "q changed"],
)
def test_attention_mistakes_are_named(answer, phrases):
    assert_named(check_scaled_dot_product_attention, answer, _TITLE_91, phrases)


# ================================================================================================
# Exercise 9.2: the causal mask
# ================================================================================================


def mask_with(length, *, triangle="tril", k=0, size=0, dtype=bool, shape="square", fill=None):
    """A learner's causal mask, with one option per plausible slip."""
    n = length + size
    ones = np.ones((n, n), dtype=dtype)
    mask = {"tril": np.tril, "triu": np.triu}[triangle](ones, k=k) if triangle else ones
    if fill == "zeros":
        mask = np.zeros_like(mask)
    elif fill == "eye":
        mask = np.eye(n, dtype=dtype)
    elif fill == "additive":
        mask = np.where(mask, 0.0, -np.inf)
    return {"square": mask, "row": mask[-1], "batched": mask[None]}[shape]


def mask_by_loops(length):
    return [[j <= i for j in range(length)] for i in range(length)]


def mask_by_comparison(length):
    positions = np.arange(length)
    return positions[None, :] <= positions[:, None]


def test_causal_mask_alternative_correct_answers_pass(capsys):
    answers = (mask_with, mask_by_loops, mask_by_comparison, functools.partial(mask_with, dtype=int),
               functools.partial(mask_with, dtype=np.float32), lambda n: ~np.triu(np.ones((n, n), bool), k=1),
               lambda n: np.tri(n))
    _all_pass(check_causal_mask, answers, 4, capsys)


def mask_from_a_fixed_size(length):  # right for lengths up to 5 only
    return np.tril(np.ones((5, 5), bool))[:length, :length]


_TITLE_92 = "Exercise 9.2 (causal mask): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(mask_with, k=-1), ["cannot see themselves", "j <= i", "length=5",
                                              "[[0, 0, 0, 0, 0], [1, 0, 0, 0, 0]"]),
        (functools.partial(mask_with, k=1), ["see one step ahead", "j <= i + 1"]),
        (functools.partial(mask_with, triangle="triu"), ["upper triangle (transposed)"]),
        (functools.partial(mask_with, triangle="triu", k=1),
         ["wrong way round", "True where a position must NOT look",
          "This course's masks are True where attention is allowed", "Keras's attention_mask has the same convention"]),
        (lambda n: np.triu(np.ones((n, n), bool), k=1).astype(int), ["wrong way round"]),
        (functools.partial(mask_with, triangle=None), ["all True", "the future included"]),
        (functools.partial(mask_with, fill="zeros"), ["all False"]),
        (functools.partial(mask_with, fill="eye"), ["see only itself"]),
        (functools.partial(mask_with, fill="additive"), ["additive mask", "return the boolean mask"]),
        (lambda n: np.tril(np.full((n, n), 2)), ["your mask holds [0.0, 2.0]", "True and False (or 1 and 0)"]),
        (functools.partial(mask_with, shape="row"), ["your mask is 1-D, shape (5,)", "expected (length, length)"]),
        (functools.partial(mask_with, shape="batched"), ["shape (1, 5, 5)", "without the extra axes of size 1"]),
        (functools.partial(mask_with, size=1), ["shape (6, 6)", "one too long"]),
        (functools.partial(mask_with, size=-1), ["shape (4, 4)", "one too short"]),
        (lambda n: None, ["returned None", "forget to `return` the mask"]),
        (lambda n: (mask_with(n), n), ["return the mask alone", "tuple of 2 items"]),
        (lambda n: np.tril(np.ones((n, n), bool)) & (np.arange(n) != 1)[None, :], ["your mask is wrong at (1, 1)"]),
        (mask_from_a_fixed_size, ["shape (5, 5), expected (length, length) = (8, 8)"]),
    ],
    ids=["diagonal left out", "one ahead", "transposed", "inverse", "inverse int", "all True", "all False",
         "identity", "additive", "twos", "1-D", "batched", "one too long", "one too short", "None", "tuple",
         "other", "fixed size"],
)
def test_causal_mask_mistakes_are_named(answer, phrases):
    assert_named(check_causal_mask, answer, _TITLE_92, phrases)


# ================================================================================================
# Exercise 9.3: splitting heads
# ================================================================================================


def heads_with(x, heads, *, how="right"):
    """A learner's split into heads, with one option per plausible slip."""
    b, t, d = x.shape
    dh = d // heads
    return {
        "right": lambda: x.reshape(b, t, heads, dh).transpose(0, 2, 1, 3),
        "reshape only": lambda: x.reshape(b, heads, t, dh),
        "no transpose": lambda: x.reshape(b, t, heads, dh),
        "interleaved": lambda: x.reshape(b, t, dh, heads).transpose(0, 3, 1, 2),
        "depth last": lambda: x.reshape(b, t, heads, dh).transpose(0, 2, 3, 1),
        "swapped counts": lambda: x.reshape(b, t, dh, heads),
        "dh heads": lambda: x.reshape(b, t, dh, heads).transpose(0, 2, 1, 3),
        "split": lambda: np.stack(np.split(x, heads, axis=-1)),
        "list of heads": lambda: np.split(x, heads, axis=-1),
    }[how]()


def heads_by_slicing(x, heads):
    dh = x.shape[-1] // heads
    return np.stack([x[:, :, h * dh:(h + 1) * dh] for h in range(heads)], axis=1)


def heads_by_einops_style(x, heads):
    b, t, d = x.shape
    return np.moveaxis(x.reshape(b, t, heads, d // heads), 2, 1).copy()


def test_split_heads_alternative_correct_answers_pass(capsys):
    answers = (heads_with, heads_by_slicing, heads_by_einops_style,
               lambda x, h: ops.transpose(ops.reshape(x, (*x.shape[:2], h, -1)), (0, 2, 1, 3)),
               lambda x, h: heads_with(x, h).tolist())
    _all_pass(check_split_heads, answers, 4, capsys)


def heads_reshaping_x_in_place(x, heads):
    b, t, d = x.shape
    x.shape = (b, t, heads, d // heads)  # reshapes the caller's array itself
    return x.transpose(0, 2, 1, 3)


_TITLE_93 = "Exercise 9.3 (splitting heads): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(heads_with, how="reshape only"),
         ["without the transpose", "reshape only re-cuts the numbers in their memory order",
          "head h then holds a mix of time steps", "(2, 5, 12)"]),
        (functools.partial(heads_with, how="no transpose"), ["left out the transpose", ".transpose(0, 2, 1, 3)",
                                                             "you returned shape (2, 5, 3, 4)"]),
        (lambda x, h: heads_with(x, h, how="no transpose" if x.shape[1] == h else "right"),
         ["without the transpose", "head h then holds a mix of time steps", "(3, 4, 8)",
          "you returned shape (3, 4, 4, 2)"]),
        (functools.partial(heads_with, how="interleaved"), ["heads are interleaved", "every H-th column"]),
        (functools.partial(heads_with, how="depth last"), ["(B, H, dh, T)", "not (0, 2, 3, 1)"]),
        (lambda x, h: heads_with(x, h, how="depth last" if x.shape[1] == x.shape[2] // h else "right"),
         ["(B, H, dh, T)", "you returned shape (2, 2, 3, 3)"]),
        (functools.partial(heads_with, how="swapped counts"), ["swapped the number of heads and their depth"]),
        (functools.partial(heads_with, how="dh heads"), ["swapped the number of heads and their depth",
                                                         "you returned shape (2, 4, 5, 3)"]),
        (functools.partial(heads_with, how="split"), ["stacked in front of the batch, (H, B, T, dh)"]),
        (functools.partial(heads_with, how="list of heads"), ["stacked in front of the batch"]),
        (lambda x, h: None, ["returned None", "forget to `return` the heads"]),
        (lambda x, h: "heads", ["your heads could not be read as an array of numbers"]),
        (lambda x, h: (heads_with(x, h), h), ["return the heads alone", "tuple of 2 items"]),
        (lambda x, h: heads_with(x, h)[:, :, :-1], ["your heads have shape (2, 3, 4, 4), expected (B, H, T, dh)"]),
        (lambda x, h: heads_with(x, h) * 2, ["your values are 2 times the right ones", "result[b, h, t] = x[b, t,"]),
        (lambda x, h: heads_with(x, h) + np.arange(x.size).reshape(heads_with(x, h).shape) % 3,
         ["your heads are wrong on x of shape", "result[b, h, t] = x[b, t,"]),
        (heads_reshaping_x_in_place, ["changed its input `x` in place"]),
    ],
    ids=["reshape only", "no transpose", "no transpose T == H", "interleaved", "depth last", "depth last T == dh",
         "swapped counts", "dh heads", "stacked", "list of heads", "None", "string", "tuple", "cut", "doubled",
         "added pattern",
         "x changed"],
)
def test_split_heads_mistakes_are_named(answer, phrases):
    assert_named(check_split_heads, answer, _TITLE_93, phrases)


# ================================================================================================
# Exercise 9.5: bits with a limited context
# ================================================================================================


def bits_with(logits_of, ids, positions, context, *, first=1, last=1, target=1, at=-1, score="last",
              log=np.log2, normalise="softmax", axis=-1, reduce="mean"):
    """A learner's bits with a limited context, with one option per plausible slip.

    The window for p is ``ids[p - context + first : p + last]``; the right answer has first = last = 1.
    """
    windows = np.array([ids[p - context + first:p + last] for p in positions])
    targets = np.array([ids[p + target] for p in positions])
    logits = np.asarray(logits_of(windows))
    if score == "every":  # each position against the character after it
        following = np.concatenate([windows[:, 1:], targets[:, None]], axis=1)
        z = logits
    else:
        following = targets
        z = logits[:, at]
    if normalise == "softmax":
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        p = e / e.sum(axis=axis, keepdims=True)
    elif normalise == "sum":
        p = z / z.sum(axis=-1, keepdims=True)
    else:
        p = z
    picked = np.take_along_axis(p, following[..., None], axis=-1)[..., 0]
    nll = -log(picked)
    return {"mean": lambda: float(nll.mean()), "sum": lambda: float(nll.sum()), "array": lambda: nll,
            "perplexity": lambda: float(2 ** nll.mean())}[reduce]()


def bits_softmax_over_the_window(logits_of, ids, positions, context):
    windows = np.array([ids[p - context + 1:p + 1] for p in positions])
    logits = logits_of(windows)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)  # over the window's positions
    return -np.mean(np.log2(p[np.arange(len(positions)), -1, ids[np.asarray(positions) + 1]]))


def bits_one_window_at_a_time(logits_of, ids, positions, context):
    total = 0.0
    for p in positions:
        logits = logits_of(np.asarray(ids[p - context + 1:p + 1])[None])[0, -1]
        log_p = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
        total -= log_p[ids[p + 1]] / np.log(2)
    return total / len(positions)


def bits_by_fancy_indexing(logits_of, ids, positions, context):
    windows = ids[np.asarray(positions)[:, None] + np.arange(-context + 1, 1)]
    z = logits_of(windows)[:, -1, :]
    log_p = z - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)) - z.max(-1, keepdims=True)
    return -np.mean(log_p[np.arange(len(positions)), ids[np.asarray(positions) + 1]]) / np.log(2)


def test_bits_with_context_alternative_correct_answers_pass(capsys):
    answers = (bits_with, bits_one_window_at_a_time, bits_by_fancy_indexing,
               lambda f, ids, ps, c: np.float32(bits_with(f, ids, ps, c)))
    _all_pass(check_bits_with_context, answers, 3, capsys)


def bits_changing_ids_in_place(logits_of, ids, positions, context):
    ids[0] += 1  # the caller's text
    return bits_with(logits_of, ids, positions, context)


_TITLE_95 = "Exercise 9.5 (bits with a limited context): "


def bits_from_the_whole_text(logits_of, ids, positions, context):
    logits = np.asarray(logits_of(np.asarray(ids)[None]))[0]  # every position then reads all that comes before
    return bits_with(lambda windows: logits[positions][:, None, :], ids, positions, context)


def bits_of_1d_windows(logits_of, ids, positions, context):
    rows = [np.asarray(logits_of(ids[p - context + 1:p + 1]))[-1] for p in positions]  # one (context,) window
    return bits_with(lambda windows: np.array(rows)[:, None, :], ids, positions, context)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (functools.partial(bits_with, first=0, last=0), ["end one character early, at p - 1",
                                                          "context=3", "you returned"]),
        (functools.partial(bits_with, first=0, last=0, target=0), ["you predicted ids[p] from the characters"]),
        (functools.partial(bits_with, target=0), ["you scored ids[p], the window's own last character"]),
        (functools.partial(bits_with, first=2, last=2), ["end one character late, at p + 1",
                                                         "hold the target itself"]),
        (functools.partial(bits_with, first=2), ["hold context - 1 = 2 characters, one short", "start one character"]),
        (functools.partial(bits_with, first=0), ["hold context + 1 = 4 characters, one too many"]),
        (bits_from_the_whole_text, ["you ran the model on the whole text"]),
        (functools.partial(bits_with, at=0), ["logits at the window's first position, logits[:, 0]"]),
        (functools.partial(bits_with, score="every"), ["you scored every position of the window"]),
        (functools.partial(bits_with, log=np.log), ["your bits are in nats", "np.log2"]),
        (functools.partial(bits_with, reduce="sum"), ["you summed over the 12 positions"]),
        (functools.partial(bits_with, reduce="perplexity"), ["you returned the perplexity"]),
        (functools.partial(bits_with, normalise="none"), ["you took the logits as probabilities"]),
        (functools.partial(bits_with, normalise="none", log=np.log), ["you took the logits as probabilities"]),
        (functools.partial(bits_with, normalise="sum"), ["divided the logits by their sum"]),
        (functools.partial(bits_with, axis=0), ["softmax normalises over the wrong axis"]),
        (bits_softmax_over_the_window, ["softmax normalises over the wrong axis"]),
        (functools.partial(bits_with, reduce="array"), ["return one number", "ndarray of shape (12,)"]),
        (lambda f, ids, ps, c: [bits_with(f, ids, ps, c)], ["return one number", "list of 1 item"]),
        (lambda f, ids, ps, c: None, ["returned None", "forget to `return` the bits per character"]),
        (lambda f, ids, ps, c: 2.0, ["your function never called logits_of"]),
        (lambda f, ids, ps, c: bits_with(f, ids, ps, c) + 0.1,
         ["your bits are wrong on 70 ids", "you returned 2.36172, expected 2.26172", "mean over the positions"]),
        (bits_of_1d_windows, ["raised ValueError", "logits_of takes a 2-D (N, context) array"]),
        (bits_changing_ids_in_place, ["changed its input `ids` in place"]),
    ],
    ids=["window early", "everything early", "target ids[p]", "window late", "one short", "one too many",
         "whole text", "first position", "every position", "nats", "sum", "perplexity", "no softmax",
         "no softmax, ln", "divided by sum", "wrong axis", "axis of positions", "array", "list", "None",
         "never called", "off", "1-D windows", "ids changed"],
)
def test_bits_with_context_mistakes_are_named(answer, phrases):
    assert_named(check_bits_with_context, answer, _TITLE_95, phrases)


# ================================================================================================
# All four
# ================================================================================================


@pytest.mark.parametrize("check", [check_scaled_dot_product_attention, check_causal_mask, check_split_heads,
                                   check_bits_with_context])
def test_stub_is_not_attempted(capsys, check):
    check(_stub)
    assert "not attempted yet" in capsys.readouterr().out


# ================================================================================================
# Issue 31: hints that fit their cause, a suspect confirmed on a twin input, new mistakes named
# ================================================================================================


def attention_that_tests_the_mask(q, k, v, mask=None):
    if mask:  # the truth of a whole array: ValueError when a mask is given
        pass
    return attention_with(q, k, v, mask)


def attention_transposed_on_square_inputs_only(q, k, v, mask=None):
    output, weights = attention_with(q, k, v, mask)
    if q.shape[-2] == k.shape[-2] and mask is not None and mask.ndim == 2:  # a slip only square inputs let through
        scores = k @ np.swapaxes(q, -1, -2) / np.sqrt(q.shape[-1])
        scores = np.where(mask, scores, -np.inf)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = weights / weights.sum(axis=-1, keepdims=True)
        output = weights @ v
    return output, weights


def test_attention_if_mask_gets_its_own_hint_not_the_shapes():
    message = failure(check_scaled_dot_product_attention, attention_that_tests_the_mask)
    assert "`if mask:` asks Python for the truth of a whole array" in message
    assert "transpose only the last two axes" not in message


def test_attention_scaled_by_the_number_of_keys_is_named():
    def by_keys(q, k, v, mask=None):
        return attention_with(q * np.sqrt(q.shape[-1] / k.shape[-2]), k, v, mask)

    assert "you scaled by sqrt(Tk) = sqrt(5), the number of keys" in failure(check_scaled_dot_product_attention,
                                                                               by_keys)


def test_attention_square_only_suspect_needs_the_twin_to_agree():
    message = failure(check_scaled_dot_product_attention, attention_transposed_on_square_inputs_only)
    assert "your scores are transposed (k @ q^T)" not in message and "one sequence: q (4, 4)" in message


def test_split_heads_in_reverse_order_is_named():
    message = failure(check_split_heads, lambda x, h: heads_with(x, h)[:, ::-1])
    assert "your heads come in reverse order" in message

"""utils.checks.ch06: each checker passes right answers, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them, independently of the
checker's own list of suspects; each test asserts on the phrase of the diagnostic that names
that mistake.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from checkerfailures import failure

from utils.checks.ch06 import check_bits_per_character, check_choose_order, check_sample_from_logits
from utils.models.smoothing import KneserNeyLM


# ================================================================================================
# Exercise 6.1: bits per character
# ================================================================================================


def bits_with(logits, targets, *, log=np.log2, stable=True, axis=-1, reduce=np.mean, pick="target", shift=0,
              probabilities="softmax", result="bits", two_d_only=False):
    """A learner's softmax, then -log p of the targets, with one option per plausible slip."""
    logits, targets = np.asarray(logits, dtype=float), np.asarray(targets)
    if two_d_only and logits.ndim != 2:
        raise NotImplementedError("batches: later")
    if probabilities == "softmax":
        z = logits - logits.max(axis=axis, keepdims=True) if stable else logits
        p = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    elif probabilities == "raw":
        p = logits
    else:  # "by sum"
        p = logits / logits.sum(axis=-1, keepdims=True)
    if pick == "all":
        per_position = -log(p).mean(axis=-1)
    elif pick == "entropy":
        per_position = -(p * log(p)).sum(axis=-1)
    else:
        if shift:
            p, targets = p[..., :-1, :], targets[..., 1:]
        per_position = -log(np.take_along_axis(p, targets[..., None], axis=-1)[..., 0])
    if result == "per position":
        return per_position
    bits = reduce(per_position)
    return 2 ** bits if result == "perplexity" else float(bits)


def bits_by_log_sum_exp(logits, targets):
    logits = np.asarray(logits, dtype=np.float32)  # Keras hands float32 logits
    flat, ids = logits.reshape(-1, logits.shape[-1]), np.asarray(targets).reshape(-1)
    total = 0.0
    for row, target in zip(flat, ids, strict=True):
        total += np.logaddexp.reduce(row) - row[target]
    return total / len(ids) / np.log(2)


def test_bits_per_character_alternative_correct_answers_pass(capsys):
    check_bits_per_character(bits_with)
    check_bits_per_character(bits_by_log_sum_exp)
    assert capsys.readouterr().out.count("passed all 5 checks") == 2


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda z, t: bits_with(z, t, log=np.log), ["in nats", "Divide by ln 2"]),
        (lambda z, t: bits_with(z, t, result="perplexity"), ["perplexity"]),
        (lambda z, t: bits_with(z, t, reduce=np.sum), ["summed over the positions", "take the mean"]),
        (lambda z, t: bits_with(z, t, pick="all"), ["whole vocabulary", "entry of its target"]),
        (lambda z, t: bits_with(z, t, probabilities="raw"), ["log of the raw logits, without a softmax"]),
        (lambda z, t: bits_with(z, t, probabilities="by sum"), ["divided the logits by their sum"]),
        (lambda z, t: bits_with(z, t, stable=False), ["softmax overflows", "large logits", "largest logit"]),
        (lambda z, t: bits_with(z, t, axis=0), ["wrong axis", "axis=-1"]),
        (lambda z, t: bits_with(z, t, shift=1), ["off by one", "logits[t] already predicts targets[t]"]),
        (lambda z, t: bits_with(z, t, pick="entropy"), ["entropy of the prediction", "ignores the targets"]),
        (lambda z, t: bits_with(z, t, result="per position"), ["return one number", "ndarray of shape (7,)"]),
        (lambda z, t: bits_with(z, t, two_d_only=True),
         ["unfinished", "NotImplementedError on a batch of logits of shape (2, 5, 6)", "the 4 earlier cases passed"]),
    ],
    ids=["nats", "perplexity", "sum", "mean over vocabulary", "log of logits", "normalised by the sum",
         "unstable softmax", "axis 0", "off by one", "entropy", "array", "2-D only"],
)
def test_bits_per_character_mistakes_are_named(answer, phrases):
    message = failure(check_bits_per_character, answer)
    assert message.startswith("Exercise 6.1 (bits per character from logits): ")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_bits_per_character_changed_logits_are_named():
    def in_place(logits, targets):
        logits -= logits.max(axis=-1, keepdims=True)  # the caller's array
        return bits_with(logits, targets)

    assert "changed its input `logits` in place" in failure(check_bits_per_character, in_place)


# ================================================================================================
# Exercise 6.3: temperature sampling
# ================================================================================================


def sample_by_inverse_cdf(logits, temperature, rng):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(logits) / temperature
    p = np.exp(z - z.max())
    cdf = np.cumsum(p / p.sum())
    return int(min(np.searchsorted(cdf, rng.random(), side="right"), len(cdf) - 1))


def sample_by_gumbel_max(logits, temperature, rng):
    """The Gumbel-max trick: no softmax at all, and another way of using the generator."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return int(np.argmax(np.asarray(logits) / temperature + rng.gumbel(size=len(logits))))


def sample_with(logits, temperature, rng, *, where="logits", stable=True, draw="rng", check="<= 0",
                returns="id", zero="check"):
    """A learner's sampler, with one option per plausible slip."""
    if check == "<= 0" and temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if check == "== 0" and temperature == 0:
        raise ValueError("temperature 0")
    if check == "assert":
        assert temperature > 0, "temperature must be positive"
    if zero == "greedy" and temperature == 0:
        return int(np.argmax(logits))
    z = np.asarray(logits, dtype=float)
    if where == "logits":
        z = z / temperature
    elif where == "multiplied":
        z = z * temperature
    elif where == "exponent":
        z = z ** (1 / temperature)
    elif where == "python division":
        z = z * (1 / temperature)
    e = np.exp(z - z.max()) if stable else np.exp(z)
    p = e / e.sum()
    if where == "probabilities":
        p = p / temperature
        p = p / p.sum()
    if draw == "greedy":
        choice = int(np.argmax(p))
    elif draw == "global":
        choice = int(np.random.choice(len(p), p=p))
    elif draw == "fresh":
        choice = int(np.random.default_rng().choice(len(p), p=p))
    elif draw == "seed 0":
        choice = int(np.random.default_rng(0).choice(len(p), p=p))
    elif draw == "np.random.seed":
        np.random.seed(0)
        choice = int(np.random.choice(len(p), p=p))
    else:
        choice = int(rng.choice(len(p), p=p))
    if returns == "probabilities":
        return p
    if returns == "probability":
        return float(p[choice])
    if returns == "float":
        return float(choice)
    if returns == "array":
        return np.array([choice])
    return choice


def test_sample_from_logits_alternative_correct_answers_pass(capsys):
    check_sample_from_logits(sample_by_inverse_cdf)
    check_sample_from_logits(sample_by_gumbel_max)
    check_sample_from_logits(sample_with)
    check_sample_from_logits(lambda z, t, rng: np.int64(sample_with(z, t, rng)))
    assert capsys.readouterr().out.count("passed all 9 checks") == 4


def test_sample_from_logits_checker_is_fast():
    start = time.perf_counter()
    check_sample_from_logits(sample_with)
    assert time.perf_counter() - start < 2.0  # under 1 s on a quiet machine


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda z, t, g: sample_with(z, t, g, where="probabilities"), ["temperature has no effect", "before the softmax"]),
        (lambda z, t, g: sample_with(z, t, g, where="ignored"), ["temperature has no effect"]),
        (lambda z, t, g: sample_with(z, t, g, where="multiplied"), ["multiplied the logits by the temperature"]),
        (lambda z, t, g: sample_with(z, t, g, where="exponent"), ["raised the logits to a power"]),
        (lambda z, t, g: sample_with(z, t, g, draw="global"), ["same seed gave different draws", "np.random.choice"]),
        (lambda z, t, g: sample_with(z, t, g, draw="fresh"), ["same seed gave different draws", "`rng`"]),
        (lambda z, t, g: sample_with(z, t, g, draw="seed 0"), ["different seeds gave the same draws", "fixed seed"]),
        (lambda z, t, g: sample_with(z, t, g, draw="np.random.seed"), ["different seeds gave the same draws"]),
        (lambda z, t, g: sample_with(z, t, g, draw="greedy"), ["most likely id (argmax)", "greedy decoding"]),
        (lambda z, t, g: sample_with(z, t, g, stable=False),
         ["large logits", "np.exp overflows", "subtract the largest logit"]),
        (lambda z, t, g: sample_with(z, t, g, returns="probabilities"),
         ["ndarray of shape (6,)", "(the probabilities?)", "draw one id"]),
        (lambda z, t, g: sample_with(z, t, g, returns="probability"), ["returned the float", "(a probability?)"]),
        (lambda z, t, g: sample_with(z, t, g, returns="float"), ["returned the float", "an int"]),
        (lambda z, t, g: sample_with(z, t, g, returns="array"), ["return one id", "ndarray of shape (1,)"]),
        (lambda z, t, g: sample_with(z, t, g, check=None), ["temperature 0", "came from NumPy", "test the temperature"]),
        (lambda z, t, g: sample_with(z, t, g, check="== 0"),
         ["temperature -0.5 must raise ValueError", "returned the id"]),
        (lambda z, t, g: sample_with(z, t, g, check=None, where="python division"),
         ["temperature 0 must raise ValueError", "raised ZeroDivisionError"]),
        (lambda z, t, g: sample_with(z, t, g, check=None, zero="greedy"),
         ["temperature 0 must raise ValueError", "greedy decoding, a separate function"]),
        (lambda z, t, g: sample_with(z, t, g, check="assert"), ["raised AssertionError", "raise ValueError"]),
    ],
    ids=["after the softmax", "temperature ignored", "multiplied", "exponent", "global generator",
         "fresh generator", "fixed seed", "np.random.seed", "greedy", "unstable softmax", "probabilities returned",
         "probability returned", "float id", "array of one id", "no check", "only zero rejected",
         "ZeroDivisionError", "zero as greedy", "assert"],
)
def test_sample_from_logits_mistakes_are_named(answer, phrases):
    message = failure(check_sample_from_logits, answer)
    assert message.startswith("Exercise 6.3 (temperature sampling): ")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_sample_from_logits_changed_logits_are_named():
    def in_place(logits, temperature, rng):
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        logits /= temperature  # the caller's array
        return sample_with(logits, 1.0, rng)

    assert "changed its input `logits` in place" in failure(check_sample_from_logits, in_place)


# ================================================================================================
# Exercise 6.2: choosing the n-gram order
# ================================================================================================


def choose_with(train, validation, vocab, orders, *, scored="validation", history=True, fit="train",
                pick="min by score", keys="order", returns="pair", nats=False):
    """A learner's loop over the orders, with one option per plausible slip."""
    if orders == "fixed":
        orders = range(1, 9)
    scores = {}
    for position, order in enumerate(orders):
        text = {"train": train, "train+validation": train + validation}[fit]
        model = KneserNeyLM(order, vocab).fit(text)
        target = validation if scored == "validation" else train
        if nats:
            score = float(-np.mean(np.log(model.probabilities(target, history=train))))
        else:
            score = model.bits_per_char(target, history=train) if history else model.bits_per_char(target)
        scores[position if keys == "position" else order] = score
    if pick == "min by score":
        best = min(scores, key=scores.get)
    elif pick == "max by score":
        best = max(scores, key=scores.get)
    elif pick == "min":
        best = min(scores)
    elif pick == "max":
        best = max(scores)
    elif pick == "score":
        best = min(scores.values())
    elif pick == "argmin":
        best = int(np.argmin(list(scores.values())))
    if returns == "order":
        return best
    if returns == "scores":
        return scores
    if returns == "list":
        return best, list(scores.values())
    return best, scores


def choose_by_sorting(train, validation, vocab, orders):
    ranked = sorted((KneserNeyLM(k, vocab).fit(train).bits_per_char(validation, history=train), k) for k in orders)
    return ranked[0][1], {k: s for s, k in ranked}


def test_choose_order_alternative_correct_answers_pass(capsys):
    check_choose_order(choose_with)
    check_choose_order(choose_by_sorting)
    assert capsys.readouterr().out.count("passed all 3 checks") == 2


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *a: choose_with(*a, scored="train"), ["scored the training text"]),
        (lambda *a: choose_with(*a, history=False), ["without its history", "history=train"]),
        (lambda *a: choose_with(*a, nats=True), ["in nats"]),
        (lambda *a: choose_with(*a, fit="train+validation"), ["fitted the models on the validation text too"]),
        (lambda *a: choose_with(*a, pick="max by score"), ["highest validation score", "lowest score"]),
        (lambda *a: choose_with(*a, pick="min"), ["returned the lowest order", "min(scores, key=scores.get)"]),
        (lambda *a: choose_with(*a, pick="max"), ["returned the highest order", "compares the keys"]),
        (lambda *a: choose_with(*a, pick="score"), ["returned the best order's score", "instead of the order"]),
        (lambda *a: choose_with(*a, pick="argmin"), ["position of the best order", "orders[i]"]),
        (lambda *a: choose_with(*a, keys="position"), ["keyed by position", "scores[order]"]),
        (lambda t, v, c, o: choose_with(t, v, c, "fixed"),
         ["for the orders [1, 2, 3, 4, 5, 6, 7, 8]", "[1, 2, 3, 4, 5, 6]", "not a fixed range"]),
        (lambda *a: choose_with(*a, returns="order"), ["returned only the order", "(best_order, scores)"]),
        (lambda *a: choose_with(*a, returns="scores"), ["returned only the scores"]),
        (lambda *a: choose_with(*a, returns="list"), ["dict keyed by the order", "list of 6 items"]),
    ],
    ids=["scored on train", "no history", "nats", "fitted on validation too", "argmax", "min of the keys",
         "max of the keys", "score returned", "position returned", "keyed by position", "hard-coded orders",
         "order only", "scores only", "scores as a list"],
)
def test_choose_order_mistakes_are_named(answer, phrases):
    message = failure(check_choose_order, answer)
    assert message.startswith("Exercise 6.2 (choosing the n-gram order on validation data): ")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


# ================================================================================================
# Exercise 6.4: dynamic evaluation
# ================================================================================================


def dynamic_with(predict, learn, ids, chunk, state, *, order="score first", carry=True, learn_state="start",
                 targets_from=1, last=True, pick="targets", step=None):
    """A learner's dynamic-evaluation loop, with one option per plausible slip."""
    scored = []
    stop = len(ids) - 1 if last else len(ids) - 1 - (len(ids) - 1) % chunk
    for begin in range(0, stop, step or chunk):
        targets = ids[begin + targets_from: begin + targets_from + chunk]
        inputs = ids[begin: begin + len(targets)]
        if order == "learn first":
            learn(inputs, targets, state)
        distributions, after = predict(inputs, state)
        chosen = targets if pick == "targets" else inputs
        if pick == "all":
            scored.append(distributions)
        else:
            scored.append(distributions[np.arange(len(targets)), chosen])
        if order == "score first":
            learn(inputs, targets, after if learn_state == "end" else state)
        if carry:
            state = after
    return np.concatenate(scored)


@pytest.mark.parametrize(("options", "phrase"), [
    ({"order": "learn first"}, "learns from a chunk before it scores it"),
    ({"order": "never"}, "never calls learn"),
    ({"carry": False}, "every chunk is read from the initial state"),
    ({"learn_state": "end"}, "not the state its chunk was read from"),
    ({"targets_from": 0}, "learn with the inputs as the targets"),
    ({"last": False}, "calls of predict and learn"),
    ({"pick": "inputs"}, "Pick each target's probability"),
    ({"pick": "all"}, "whole distributions"),
    ({"step": 3}, "chunk k holds the inputs"),
])
def test_dynamic_evaluation_mistakes_are_named(options, phrase):
    from utils.checks.ch06 import check_dynamic_evaluation

    def answer(predict, learn, ids, chunk, state):
        return dynamic_with(predict, learn, ids, chunk, state, **options)

    message = failure(check_dynamic_evaluation, answer)
    assert phrase in message, message


def test_dynamic_evaluation_passes_a_loop_written_another_way(capsys):
    from utils.checks.ch06 import check_dynamic_evaluation

    def answer(predict, learn, ids, chunk, state):
        out, position = [], 0
        while position < len(ids) - 1:
            end = min(position + chunk, len(ids) - 1)
            probabilities, new_state = predict(list(ids[position:end]), state)
            out.extend(probabilities[k, ids[position + 1 + k]] for k in range(end - position))
            learn(ids[position:end], ids[position + 1:end + 1], state)
            position, state = end, new_state
        return out

    check_dynamic_evaluation(answer)
    assert "passed all 4 checks" in capsys.readouterr().out

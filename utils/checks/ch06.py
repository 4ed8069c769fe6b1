"""Checkers for chapter 6: language models and generation.

Exercise 6.1 scores logits against targets in bits per character, 6.2 (an experiment) chooses
the order of a Kneser-Ney n-gram model on validation text, 6.3 draws one id at a temperature
with the learner's generator, and 6.4 writes dynamic evaluation's loop, which scores each chunk
of a text and then lets the model learn from it (in the notebook's order).

Each checker computes what the plausible wrong answers return on its inputs (nats instead of
bits, the sum instead of the mean, the temperature after the softmax, the highest score
instead of the lowest...) and names the one the learner's answer matches, when the input
tells it apart from the others. The sampler is checked by its frequencies over many draws
from seeded generators, with a tolerance that a right sampler passes with overwhelming
probability whatever way it uses the generator. The dynamic-evaluation loop runs a stand-in
model that logs every call, so the order of scoring and learning, the chunks, the targets and
the state handed on are each compared with the right loop's.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from utils.checks.framework import Mistake, as_array, call, checker, kind_of, named_mistake
from utils.tasks.lm import bits_per_character, dynamic_evaluation
from utils.models.smoothing import KneserNeyLM, choose_order
from utils.data.text import CharVocab

# Exercise 6.1: bits per character ================================================================

_LN2 = math.log(2.0)


def _bits_cases() -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Logits, targets and the case in words; targets differ from each other and from their positions."""
    rng = np.random.default_rng(61)
    positive = np.round(rng.uniform(0.2, 4.0, (7, 5)), 3)  # positive, so that log(logits) can be named
    large = 1000.0 + np.round(rng.normal(0.0, 2.0, (6, 4)) * 64) / 64  # exact in float32 too
    batch = np.round(rng.normal(0.0, 1.5, (2, 5, 6)), 3)
    ln3 = math.log(3.0)
    return [
        (positive, np.array([3, 0, 4, 1, 1, 2, 0]), "logits of shape (7, 5) (7 positions, 5 characters)"),
        (np.array([[0.0, 0.0], [5.0, 5.0], [-2.0, -2.0]]), np.array([1, 0, 1]),
         "V=2 with equal scores at every position ([0, 0], [5, 5], [-2, -2]): exactly 1 bit"),
        (np.array([[0.0, ln3], [ln3, 0.0], [0.0, ln3]]), np.array([1, 0, 0]),
         "V=2 with logits [0, ln 3] and [ln 3, 0] (probabilities 1/4 and 3/4): (2 + 2 log2(4/3)) / 3 bits"),
        (large, np.array([2, 3, 0, 0, 1, 3]), "large logits, about 1000, of shape (6, 4)"),
        (batch, np.array([[4, 0, 5, 1, 3], [2, 2, 0, 5, 1]], dtype=np.int32),
         "a batch of logits of shape (2, 5, 6) (2 sequences of 5 positions, 6 characters)"),
    ]


def _log2_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    z = logits - logits.max(axis=axis, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=axis, keepdims=True))) / _LN2


def _picked(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return np.take_along_axis(values, targets[..., None], axis=-1)[..., 0]


def _shifted(logits: np.ndarray, targets: np.ndarray) -> list[float]:
    """Each row of logits scored against the target one position later or earlier (sliced or rolled)."""
    scores = []
    for lo, ta in ((logits, targets), (logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))):
        log_p = _log2_softmax(lo)
        scores += [-float(_picked(log_p[..., :-1, :], ta[..., 1:]).mean()),
                   -float(_picked(log_p[..., 1:, :], ta[..., :-1]).mean())]
        scores += [-float(_picked(log_p, np.roll(ta, shift, axis=-1)).mean()) for shift in (1, -1)]
    return scores


def _bits_suspects(logits: np.ndarray, targets: np.ndarray, expected: float) -> list[tuple[float, str]]:
    log_p = _log2_softmax(logits)
    p = np.exp(log_p * _LN2)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = -float(np.mean(np.log2(_picked(logits, targets))))
        by_sum = -float(np.mean(np.log2(_picked(logits / logits.sum(axis=-1, keepdims=True), targets))))
    suspects = [
        (expected * _LN2, "your score is in nats: np.log is the natural logarithm. Divide by ln 2 (or use "
                          "np.log2) to get bits."),
        (2.0 ** expected, "you returned the perplexity, 2 ** (bits per character); return the bits themselves."),
        (expected * targets.size, "you summed over the positions: take the mean over all of them (divide by the "
                                  "number of positions, B * T for a batch)."),
        (-float(log_p.mean()), "you averaged -log2 p over the whole vocabulary: at each position take only the "
                               "entry of its target, -log2 softmax(logits)[target] (np.take_along_axis)."),
        (raw, "you took the log of the raw logits, without a softmax: logits are unnormalised scores, "
              "turn them into probabilities with a softmax first."),
        (by_sum, "you divided the logits by their sum, which is not a softmax: exponentiate first, "
                 "p = exp(z) / sum(exp(z)), or use a log-softmax."),
        (float(np.mean(-(p * log_p).sum(axis=-1))),
         "you computed the entropy of the prediction, sum over the vocabulary of -p log2 p, which ignores the "
         "targets: the cross-entropy with the targets is -log2 p[target]."),
    ]
    wrong_axis = "your softmax normalises over the wrong axis: normalise over the vocabulary, the last axis (axis=-1)."
    for axis in range(logits.ndim - 1):
        suspects.append((-float(_picked(_log2_softmax(logits, axis=axis), targets).mean()), wrong_axis))
    suspects += [(score, "you scored each row of logits against the target of another position (off by one): "
                         "logits[t] already predicts targets[t], the shift was made when the targets were built.")
                 for score in _shifted(logits, targets)]
    return suspects


def _one_number(result: Any, on: str) -> float:
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the bits per character?")
    if isinstance(result, (list, tuple)) or np.ndim(result) != 0:
        raise Mistake(f"return one number, the mean over all positions; you returned {kind_of(result)} ({on}).")
    return float(as_array(result, "your bits per character"))


@checker("6.1", "bits per character from logits")
def check_bits_per_character(answer: Callable[..., Any]) -> int:
    """The mean of ``-log2 softmax(logits)[target]`` over every position, computed stably."""
    n_checks = 0
    for logits, targets, described in _bits_cases():
        on = f"on {described}"
        expected = bits_per_character(logits, targets)
        got = _one_number(call(answer, logits.copy(), targets.copy(), on=described), on)
        n_checks += 1
        if math.isfinite(got) and abs(got - expected) <= 1e-5 * max(1.0, abs(expected)):
            continue
        if not math.isfinite(got):
            if logits.max() > 500:
                raise Mistake(f"you returned {got} {on}: your softmax overflows, np.exp(1000) is infinite and "
                              "inf / inf is NaN. Subtract each row's largest logit before exponentiating (the "
                              "softmax does not change), or use a log-sum-exp.")
            raise Mistake(f"you returned {got} {on}; the answer, {expected:.6g}, is finite. Did you take the log of "
                          "something that can be 0 or negative, such as the raw logits? Take a softmax first.")
        message = named_mistake(got, _bits_suspects(logits, targets, expected),
                                lambda a, b: math.isfinite(b) and abs(a - b) <= 1e-6 * max(1.0, abs(b)))
        if message:
            raise Mistake(f"{message} (Seen {on}: you returned {got:.6g}, expected {expected:.6g}.)")
        raise Mistake(f"you returned {got:.6g} {on}, expected {expected:.6g}: the mean over all positions of "
                      "-log2 softmax(logits)[target], the softmax taken over the last axis.")
    return n_checks


# Exercise 6.3: temperature sampling ==============================================================

# Positive logits, so that logits ** T can be named, chosen so that at temperatures 0.5 and 2 the
# distributions of the right answer and of each mistake lie at least 0.138 apart (total variation).
_SAMPLE_LOGITS = np.array([2.5, 1.8, 4.9, 2.9, 2.8, 5.0])
_PERMUTED_LOGITS = _SAMPLE_LOGITS[[5, 0, 1, 2, 3, 4]]  # the most likely id moves from 5 to 0
_LARGE_LOGITS = np.array([1000.0, 1001.5, 998.25, 999.5])
_DISTRIBUTION_CASES = [(0.5, 2500, 6201), (1.0, 1000, 6202), (2.0, 2500, 6203)]  # temperature, draws, seed


def _shown(logits: np.ndarray) -> str:
    return "[" + ", ".join(f"{value:g}" for value in logits) + "]"


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _tolerance(n: int) -> float:
    """Total variation a right sampler stays under: its mean is about 0.5 / sqrt(n), its spread 0.25 / sqrt(n)."""
    return 3.0 / math.sqrt(n)


def _one_id(result: Any, size: int, on: str) -> int:
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the id you drew?")
    if isinstance(result, np.ndarray) and result.ndim == 0 and np.issubdtype(result.dtype, np.integer):
        result = int(result)
    if isinstance(result, (bool, np.bool_)):
        raise Mistake(f"your function returned a bool ({result}); return the id drawn, an int from 0 to "
                      f"{size - 1} ({on}).")
    if isinstance(result, (float, np.floating)):
        probability = " (a probability?)" if 0.0 < result < 1.0 else ""
        raise Mistake(f"your function returned the float {result:.6g}{probability}: return the id of the "
                      f"character drawn, an int from 0 to {size - 1}, for example int(rng.choice(len(p), p=p)) "
                      f"({on}).")
    if not isinstance(result, (int, np.integer)):
        if np.shape(result) == (size,):
            raise Mistake(f"your function returned {kind_of(result)}, one value per character (the "
                          f"probabilities?): draw one id from them and return it, an int ({on}).")
        raise Mistake(f"return one id, an int from 0 to {size - 1}; you returned {kind_of(result)} ({on}).")
    if not 0 <= result < size:
        raise Mistake(f"your function returned the id {int(result)}, outside 0..{size - 1}: there are {size} "
                      f"logits, one per character ({on}).")
    return int(result)


def _draws(answer: Callable[..., Any], logits: np.ndarray, temperature: float, seed: int, n: int,
           on: str) -> np.ndarray:
    """``n`` ids from one generator; the first call also checks that the arguments are left alone."""
    rng = np.random.default_rng(seed)
    ids = np.empty(n, dtype=np.int64)
    for k in range(n):
        result = call(answer, logits.copy(), temperature, rng, on=on, unchanged=k == 0)
        ids[k] = _one_id(result, len(logits), on)
    return ids


def _total_variation(ids: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, float]:
    frequencies = np.bincount(ids, minlength=len(p)) / len(ids)
    return frequencies, 0.5 * float(np.abs(frequencies - p).sum())


def _temperature_suspects(logits: np.ndarray, temperature: float) -> list[tuple[np.ndarray, str]]:
    with np.errstate(invalid="ignore", over="ignore"):
        powers = [_softmax(logits ** (1.0 / temperature)), _softmax(logits ** temperature)]
    power = ("you raised the logits to a power: the temperature divides them, softmax(logits / T) (on "
             "probabilities that is p ** (1 / T), renormalised).")
    return [
        (_softmax(logits), "your temperature has no effect: dividing the probabilities by T and renormalising "
                           "gives them back. Divide the logits by T before the softmax: softmax(logits / T)."),
        (_softmax(logits * temperature), "you multiplied the logits by the temperature: divide them, "
                                         "softmax(logits / T), so that T < 1 sharpens and T > 1 flattens."),
        *[(p, power) for p in powers],
        (np.eye(len(logits))[int(np.argmax(logits))],
         "you always return the most likely id (greedy decoding): draw an id at random from softmax(logits / T)."),
        (np.full(len(logits), 1.0 / len(logits)), "every id is drawn equally often: the logits were ignored. "
                                                  "Draw from softmax(logits / T)."),
    ]


def _check_distribution(answer: Callable[..., Any], logits: np.ndarray, temperature: float, n: int, seed: int,
                        on: str) -> None:
    expected = _softmax(logits / temperature)
    frequencies, distance = _total_variation(_draws(answer, logits, temperature, seed, n, on), expected)
    tolerance = _tolerance(n)
    if distance <= tolerance:
        return
    suspects = [(p, message) for p, message in _temperature_suspects(logits, temperature)
                if np.all(np.isfinite(p)) and 0.5 * np.abs(p - expected).sum() > 2 * tolerance]
    message = named_mistake(frequencies, suspects, lambda f, p: 0.5 * float(np.abs(f - p).sum()) <= tolerance)
    seen = (f"(Seen on {on}: your frequencies over {n} draws are {np.round(frequencies, 3).tolist()}, expected about "
            f"{np.round(expected, 3).tolist()}.)")
    if message:
        raise Mistake(f"{message} {seen}")
    raise Mistake(f"your draws do not follow softmax(logits / T): their total variation distance from it is "
                  f"{distance:.3f}, more than a right sampler gives ({tolerance:.3f}) {seen}")


def _check_generator_used(answer: Callable[..., Any]) -> None:
    """Same seed, same draws; another seed, other draws; the greedy answer named on the way."""
    on = f"logits {_shown(_SAMPLE_LOGITS)} at temperature 1, 30 draws from a seeded generator"
    first, again = (_draws(answer, _SAMPLE_LOGITS, 1.0, 611, 30, on) for _ in range(2))
    if not np.array_equal(first, again):
        raise Mistake("two generators made with the same seed gave different draws: your function does not draw "
                      "with the `rng` it is given (np.random.choice and a new np.random.default_rng() use other "
                      "generators, so a run cannot be repeated). Draw with rng itself, for example "
                      "rng.choice(len(p), p=p).")
    other = _draws(answer, _SAMPLE_LOGITS, 1.0, 612, 30, on)
    if not np.array_equal(first, other):
        return
    permuted = _draws(answer, _PERMUTED_LOGITS, 1.0, 613, 30,
                      f"logits {_shown(_PERMUTED_LOGITS)} at temperature 1, 30 draws from a seeded generator")
    if np.all(first == np.argmax(_SAMPLE_LOGITS)) and np.all(permuted == np.argmax(_PERMUTED_LOGITS)):
        raise Mistake("you always return the most likely id (argmax), whatever the generator: that is greedy "
                      "decoding. Draw an id at random from softmax(logits / T) with rng.")
    raise Mistake(f"generators made with different seeds gave the same draws ({first[:10].tolist()}...), so your "
                  "draws do not come from `rng`: a generator made inside the function with a fixed seed "
                  "(np.random.default_rng(0), np.random.seed(0)) repeats the same draw at every call. Draw with "
                  "the rng you are given.")


def _raised_inside_numpy(error: BaseException) -> bool:
    """Whether ``error`` was raised by NumPy's own code (the last frame of its traceback), not the learner's."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and "numpy" in frame.tb_frame.f_code.co_filename.replace("\\", "/").split("/")


def _check_rejected(answer: Callable[..., Any], temperature: float) -> None:
    on = f"temperature {temperature:g}"
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # the division by 0 is the learner's
            result = call(answer, _SAMPLE_LOGITS.copy(), temperature, np.random.default_rng(614), on=on)
    except Mistake as mistake:
        cause = mistake.__cause__
        if cause is None:
            raise
        if isinstance(cause, ValueError):
            if _raised_inside_numpy(cause):
                raise Mistake(f"your ValueError for {on} came from NumPy, after the division made the probabilities "
                              f"NaN ({cause}): test the temperature yourself, first, and raise ValueError with a "
                              "message saying it must be > 0.") from None
            return
        raise Mistake(f"{on} must raise ValueError, but your function raised {type(cause).__name__} ({cause}): "
                      "test `if temperature <= 0:` first and raise ValueError with a message saying it must be "
                      "> 0.") from None
    shown = f"the id {result}" if isinstance(result, (int, np.integer)) else kind_of(result)
    near = " (the limit T -> 0 is greedy decoding, a separate function)" if temperature == 0 else ""
    raise Mistake(f"{on} must raise ValueError{near}, but your function returned {shown}: a temperature must be "
                  "> 0, so check it first and raise ValueError otherwise.")


@checker("6.3", "temperature sampling")
def check_sample_from_logits(answer: Callable[..., Any]) -> int:
    """One int id drawn with ``rng`` from ``softmax(logits / T)``; a temperature <= 0 a ValueError."""
    on = f"logits {_shown(_SAMPLE_LOGITS)} at temperature 1"
    _one_id(call(answer, _SAMPLE_LOGITS.copy(), 1.0, np.random.default_rng(610), on=on), len(_SAMPLE_LOGITS), on)
    _check_generator_used(answer)
    n_checks = 3
    for temperature, n, seed in _DISTRIBUTION_CASES:
        _check_distribution(answer, _SAMPLE_LOGITS, temperature, n, seed,
                            f"logits {_shown(_SAMPLE_LOGITS)} at temperature {temperature:g}")
        n_checks += 1
    try:
        _check_distribution(answer, _LARGE_LOGITS, 1.0, 1000, 6204,
                            "large logits [1000, 1001.5, 998.25, 999.5] at temperature 1")
    except Mistake as mistake:
        if str(mistake).startswith(("your answer is unfinished", "your function changed its input")):
            raise
        raise Mistake(f"{mistake} With logits near 1000 np.exp overflows (np.exp(1000) is infinite and "
                      "inf / inf is NaN): subtract the largest logit before exponentiating, which leaves the "
                      "softmax unchanged.") from None
    n_checks += 1
    for temperature in (0.0, -0.5):
        _check_rejected(answer, temperature)
        n_checks += 1
    return n_checks


# Exercise 6.2: choosing the n-gram order ========================================================


@functools.lru_cache(maxsize=None)
def _markov_text(seed: int, order: int, alphabet: str, length: int) -> str:
    """Text from a random Markov source of ``order``: each context has its own peaked distribution."""
    rng = np.random.default_rng(seed)
    table: dict[str, np.ndarray] = {}
    chars = list(rng.choice(list(alphabet), order))
    for _ in range(length - order):
        context = "".join(chars[-order:])
        if context not in table:
            table[context] = rng.dirichlet(np.full(len(alphabet), 0.3))
        chars.append(alphabet[rng.choice(len(alphabet), p=table[context])])
    return "".join(chars)


def _order_cases() -> list[tuple[str, str, CharVocab, Sequence[int], str]]:
    two = _markov_text(61, 2, "abcde ", 4500)
    three = _markov_text(63, 3, "xyz o", 4500)
    return [
        (two[:3000], two[3000:], CharVocab(two), range(1, 7),
         "3000 training and 1500 validation characters of a source of order 2, orders range(1, 7)"),
        (three[:3000], three[3000:], CharVocab(three), [2, 3, 5],
         "3000 training and 1500 validation characters of a source of order 3, orders [2, 3, 5]"),
        (three[:3000], three[3000:], CharVocab(three), (6, 3, 4),
         "the source of order 3 again, orders (6, 3, 4) in this order"),
    ]


def _pair(result: Any, on: str) -> tuple[Any, Any]:
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the pair (best_order, scores)?")
    if isinstance(result, dict):
        raise Mistake(f"you returned only the scores: return the pair (best_order, scores) ({on}).")
    if isinstance(result, (int, np.integer)):
        raise Mistake(f"you returned only the order ({result}): return the pair (best_order, scores), scores a "
                      f"dict {{order: validation bits per character}} ({on}).")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake(f"return the pair (best_order, scores); you returned {kind_of(result)} ({on}).")
    return result[0], result[1]


def _scores_by_order(scores: Any, orders: list[int], expected: dict[int, float], on: str) -> dict[int, float]:
    """The learner's scores as ``{order: float}``, with the keys checked against ``orders``."""
    values = [expected[order] for order in orders]
    if not isinstance(scores, dict):
        if isinstance(scores, (list, tuple, np.ndarray)) and len(scores) == len(orders):
            raise Mistake(f"return the scores as a dict keyed by the order, {{order: bits per character}}; you "
                          f"returned {kind_of(scores)} ({on}).")
        raise Mistake(f"scores should be a dict {{order: validation bits per character}}; you returned "
                      f"{kind_of(scores)} ({on}).")
    try:
        got = {int(key): float(value) for key, value in scores.items()}
    except (TypeError, ValueError):
        raise Mistake(f"scores should map each order (an int) to its bits per character (a float); yours holds "
                      f"{list(scores.items())[:3]}... ({on}).") from None
    if set(got) == set(orders):
        return got
    for start in (0, 1):
        positions = list(range(start, start + len(orders)))
        if sorted(got) == positions and np.allclose([got[k] for k in positions], values, atol=1e-9, rtol=0):
            raise Mistake(f"your scores are keyed by position ({positions}), not by order: key each score by the "
                          f"order itself, scores[order], for the orders {orders} ({on}).")
    raise Mistake(f"your scores are for the orders {sorted(got)}, but the orders to compare are {sorted(orders)}: "
                  f"loop over the `orders` argument, not a fixed range ({on}).")


def _score_suspects(train: str, validation: str, vocab: CharVocab, orders: list[int],
                    expected: dict[int, float]) -> list[tuple[list[float], str]]:
    def fitted(order: int, text: str) -> KneserNeyLM:
        return KneserNeyLM(order, vocab).fit(text)

    return [
        *[([fitted(k, train).bits_per_char(train, history=history) for k in orders],
           "you scored the training text: each order must be scored on the validation text, which the models "
           "have not seen (on the training text the highest order always looks best).") for history in (None, train)],
        ([fitted(k, train).bits_per_char(validation) for k in orders],
         "you scored the validation text without its history: pass history=train, so that its first characters "
         "are predicted from the end of the training text, bits_per_char(validation, history=train)."),
        ([expected[k] * _LN2 for k in orders],
         "your scores are in nats: divide by ln 2 (bits_per_char already returns bits)."),
        ([fitted(k, train + validation).bits_per_char(validation, history=train) for k in orders],
         "you fitted the models on the validation text too (train + validation): fit on train only, or the "
         "validation score rewards memorising it."),
        ([fitted(k, validation).bits_per_char(validation) for k in orders],
         "you fitted the models on the validation text: fit them on train and score validation."),
    ]


def _best_suspects(orders: list[int], scores: dict[int, float]) -> list[tuple[int, str]]:
    """What the plausible wrong ways of picking the best order return, each with its message."""
    index = ("you returned the position of the best order in `orders` (what np.argmin gives), not the order "
             "itself: orders[i].")
    best = min(orders, key=lambda order: (scores[order], order))
    return [
        (max(orders, key=lambda order: (scores[order], -order)),
         "you picked the order with the highest validation score: lower bits per character is better, take the "
         "order with the lowest score."),
        (min(orders), "you returned the lowest order: min(scores) compares the keys of the dict (the orders), "
                      "not their scores. Use min(scores, key=scores.get)."),
        (max(orders), "you returned the highest order: max(scores) compares the keys of the dict (the orders), "
                      "not their scores, and lower bits per character is better. Use min(scores, key=scores.get)."),
        (orders.index(best), index),
        (orders.index(best) + 1, index),
    ]


@checker("6.2", "choosing the n-gram order on validation data")
def check_choose_order(answer: Callable[..., Any]) -> int:
    """``(best order, {order: validation bits per character})`` on Markov texts whose best order is known.

    The scores are checked case by case. A wrong best order is named once the cases seen so far leave a
    single way of picking it that agrees with every one of them (in one case the highest score is also
    the lowest or the highest order; the next case tells them apart).
    """
    n_checks = 0
    consistent: list[str] | None = None  # the messages of the ways of picking that every case agrees with
    failed: str | None = None  # what went wrong in the first case whose best order was wrong
    for train, validation, vocab, orders, described in _order_cases():
        on = f"on {described}"
        expected_best, expected = choose_order(train, validation, vocab, orders)
        given = list(orders)
        passed = orders if isinstance(orders, range) else type(orders)(given)
        best, scores = _pair(call(answer, train, validation, vocab, passed, on=described), on)
        got = _scores_by_order(scores, given, expected, on)
        values = [got[k] for k in given]
        wrong = [k for k in given if not abs(got[k] - expected[k]) <= 1e-9]
        if wrong:
            message = named_mistake(values, _score_suspects(train, validation, vocab, given, expected),
                                    lambda a, b: bool(np.allclose(a, b, atol=1e-9, rtol=0)))
            if message:
                raise Mistake(f"{message} (Seen {on}.)")
            k = wrong[0]
            raise Mistake(f"your score for order {k} is {got[k]:.6g}, expected {expected[k]:.6g} {on}: "
                          "KneserNeyLM(order, vocab).fit(train).bits_per_char(validation, history=train).")
        if isinstance(best, (float, np.floating)) and any(abs(best - value) <= 1e-9 for value in values):
            raise Mistake(f"you returned the best order's score ({best:.6g}) instead of the order itself "
                          f"({expected_best} {on}).")
        if isinstance(best, (bool, np.bool_)) or not isinstance(best, (int, np.integer, float, np.floating)):
            raise Mistake(f"the best order should be an int, one of {given}; you returned {kind_of(best)} ({on}).")
        n_checks += 1
        agreeing = list(dict.fromkeys(message for order, message in _best_suspects(given, expected)
                                      if order == best))
        consistent = agreeing if consistent is None else [message for message in consistent if message in agreeing]
        if best != expected_best and failed is None:
            failed = (f"your best order is {best} {on}, expected {expected_best}: the order with the lowest "
                      f"validation score (the scores: {({k: round(expected[k], 4) for k in given})}).")
        if failed is not None and len(consistent) <= 1:
            raise Mistake(f"{consistent[0]} ({failed[0].upper()}{failed[1:-1]}.)" if consistent else failed)
    if failed is not None:
        raise Mistake(failed)
    return n_checks


# Exercise 6.4: dynamic evaluation ================================================================

_DYNAMIC_VOCAB = 5


class _RecordingModel:
    """A stand-in for the adapting LSTM: bigram counts are its weights, the characters read so far its state.

    ``predict`` tilts each distribution by the state (so a state that is not carried changes the
    scores) and ``learn`` adds ``rate`` to the counts of the chunk's (input, target) pairs; both log
    their calls, so that the order of the calls and the arguments can be compared with the right loop's.
    """

    def __init__(self, rate: float) -> None:
        self.counts = np.ones((_DYNAMIC_VOCAB, _DYNAMIC_VOCAB))
        self.rate = rate
        self.log: list[tuple[Any, ...]] = []

    @staticmethod
    def _ids(values: Any, what: str) -> np.ndarray:
        array = np.asarray(values)
        if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer) \
                or array.min() < 0 or array.max() >= _DYNAMIC_VOCAB:
            raise Mistake(f"{what} must be a non-empty 1-D array of character ids (a slice of ids); your loop "
                          f"passed {kind_of(values)}.")
        return array.astype(np.int64)

    def predict(self, inputs: Any, state: Any) -> tuple[np.ndarray, int]:
        x = self._ids(inputs, "the inputs given to predict")
        if isinstance(state, (bool, np.bool_)) or not isinstance(state, (int, np.integer)):
            raise Mistake(f"predict must get a state the model gave (the initial `state`, then the state predict "
                          f"returned); your loop passed {kind_of(state)}.")
        self.log.append(("predict", tuple(x.tolist()), int(state)))
        tilt = 1.0 + 0.5 * (np.arange(_DYNAMIC_VOCAB)[None, :] == (int(state) + np.arange(len(x))[:, None])
                            % _DYNAMIC_VOCAB)
        rows = self.counts[x] * tilt
        return rows / rows.sum(axis=-1, keepdims=True), int(state) + len(x)

    def learn(self, inputs: Any, targets: Any, state: Any) -> None:
        x, y = self._ids(inputs, "the inputs given to learn"), self._ids(targets, "the targets given to learn")
        if len(x) != len(y):
            raise Mistake(f"learn got {len(x)} inputs and {len(y)} targets: one target (the next id) per input.")
        self.log.append(("learn", tuple(x.tolist()), tuple(y.tolist()), state))
        np.add.at(self.counts, (x, y), self.rate)


def _dynamic_cases() -> list[tuple[np.ndarray, int, str]]:
    rng = np.random.default_rng(64)
    repeating = np.array([3, 1, 4, 1, 0, 2, 3, 1, 4, 1, 0, 2, 3, 1, 4])
    return [
        (repeating, 4, "15 ids that repeat every 6, chunks of 4 (the last chunk holds 2 targets)"),
        (rng.integers(0, _DYNAMIC_VOCAB, 9), 8, "9 ids in one chunk of 8 targets"),
        (rng.integers(0, _DYNAMIC_VOCAB, 7), 1, "7 ids in chunks of 1"),
        (repeating[:11], 20, "11 ids and a chunk longer than the text"),
    ]


def _describe_log(log: list[tuple[Any, ...]]) -> str:
    return ", ".join(f"{entry[0]}({list(entry[1])})" for entry in log[:4]) + (", ..." if len(log) > 4 else "")


def _compare_logs(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], initial: int, on: str) -> None:
    if not any(entry[0] == "learn" for entry in got):
        raise Mistake(f"your loop never calls learn: that is the fixed model. After scoring each chunk, call "
                      f"learn(inputs, targets, state) on it ({on}).")
    if not any(entry[0] == "predict" for entry in got):
        raise Mistake(f"your loop never calls predict: score each chunk with predict(inputs, state) ({on}).")
    for k, (mine, right) in enumerate(zip(got, expected)):
        if mine == right:
            continue
        if mine[0] == "learn" and right[0] == "predict":
            raise Mistake(f"your loop learns from a chunk before it scores it: the model is then scored on "
                          f"characters it has just been trained on, a score that peeks at the answers. Call "
                          f"predict on a chunk first, then learn from it ({on}; your calls: {_describe_log(got)}).")
        if mine[0] == "predict" and right[0] == "learn":
            raise Mistake(f"your loop scores the next chunk before learning from the last one: call learn on each "
                          f"chunk right after predict scored it ({on}; your calls: {_describe_log(got)}).")
        if mine[1] != right[1]:
            raise Mistake(f"call {k + 1} of your loop reads the ids {list(mine[1])}, the right loop reads "
                          f"{list(right[1])}: chunk k holds the inputs ids[k * chunk : k * chunk + chunk] (the last "
                          f"chunk may be shorter, and its targets end at the last id) ({on}).")
        if mine[0] == "learn" and mine[2] != right[2]:
            if mine[2] == mine[1]:
                raise Mistake(f"you called learn with the inputs as the targets: the targets are the next ids, "
                              f"the inputs shifted by one, ids[begin + 1 : begin + 1 + chunk] ({on}).")
            raise Mistake(f"call {k + 1} of your loop learns the targets {list(mine[2])}, expected {list(right[2])}: "
                          f"the targets are the ids after the inputs, ids[begin + 1 : begin + 1 + chunk] ({on}).")
        state_got, state_right = mine[-1], right[-1]
        if state_got != state_right:
            if mine[0] == "predict" and state_got == initial:
                raise Mistake(f"every chunk is read from the initial state: carry the state, passing the state "
                              f"that predict returned to the next chunk ({on}).")
            if mine[0] == "learn":
                raise Mistake(f"learn was given the state {state_got!r}, not the state its chunk was read from "
                              f"({state_right!r}): the gradient step must read the chunk from where predict read "
                              f"it, so pass learn the state from before the chunk and carry the new one afterwards "
                              f"({on}).")
            raise Mistake(f"call {k + 1} of your loop reads its chunk from the state {state_got!r}, expected "
                          f"{state_right!r}: pass each chunk the state that predict returned for the chunk before "
                          f"({on}).")
    if len(got) != len(expected):
        raise Mistake(f"your loop makes {len(got)} calls of predict and learn, the right loop {len(expected)}: one "
                      f"predict and one learn per chunk, for every chunk until the last target ({on}).")


@checker("6.4", "dynamic evaluation")
def check_dynamic_evaluation(answer: Callable[..., Any]) -> int:
    """Each chunk scored with ``predict`` from the carried state, then learned from with ``learn``."""
    n_checks = 0
    for ids, chunk, described in _dynamic_cases():
        on = f"on {described}"
        initial = 7
        right = _RecordingModel(rate=4.0)
        expected = dynamic_evaluation(right.predict, right.learn, ids, chunk, initial)
        mine = _RecordingModel(rate=4.0)
        result = call(answer, mine.predict, mine.learn, ids.copy(), chunk, initial, on=described)
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` the probabilities?")
        got = as_array(result, "your result")
        if got.ndim == 2 and got.shape == (len(ids) - 1, _DYNAMIC_VOCAB):
            raise Mistake(f"you returned the whole distributions, shape {got.shape}: return only the probability "
                          f"of each target, distributions[np.arange(len(targets)), targets] ({on}).")
        if got.ndim != 1:
            raise Mistake(f"return a 1-D array, the probability of each target; you returned {kind_of(result)} "
                          f"({on}).")
        _compare_logs(mine.log, right.log, initial, on)
        if len(got) != len(expected):
            raise Mistake(f"you returned {len(got)} probabilities for {len(ids)} ids: one per target, ids[1:], so "
                          f"{len(expected)} ({on}).")
        if not np.allclose(got, expected, rtol=0, atol=1e-12):
            wrong = int(np.argmax(~np.isclose(got, expected, rtol=0, atol=1e-12)))
            begin = wrong - wrong % chunk
            inputs = ids[begin: begin + chunk]
            picked = mine.log[2 * (wrong // chunk)] if 2 * (wrong // chunk) < len(mine.log) else None
            hint = ""
            if picked is not None and wrong % chunk < len(inputs):
                hint = (" Pick each target's probability, distributions[np.arange(len(targets)), targets], not the "
                        "input's.")
            raise Mistake(f"your probability of target {wrong} is {got[wrong]:.6g}, expected {expected[wrong]:.6g}: "
                          f"each chunk's scores are the probabilities predict gave its targets.{hint} ({on}.)")
        n_checks += 1
    return n_checks

"""Decoding a language model: greedy, temperature, top-k and nucleus sampling, and a generation loop.

Every sampler takes a probability vector of shape ``(V,)`` or a batch of shape ``(B, V)``
and returns one id (an ``int``) or ``B`` ids (an int64 array). Randomness comes from a
``numpy.random.Generator`` passed as ``rng``, or from a seed (``rng=0``), so runs repeat.

- **temperature** ``T`` divides the logits *before* the softmax: ``softmax(z / T)``; on
  probabilities that is ``p ** (1 / T)`` renormalised. ``T < 1`` sharpens, ``T > 1`` flattens,
  ``T -> 0`` tends to greedy.
- **top-k** keeps the ``k`` most likely ids, renormalised.
- **nucleus (top-p)** keeps the smallest set of most likely ids whose mass reaches ``p``.

Ties are broken by the lower id (a stable sort), in ``greedy`` and in the truncations alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# How far a probability vector's sum may stray from 1 (float32 softmax outputs sum to 1 +- 1e-6).
SUM_TOLERANCE = 1e-4
Sampler = Callable[[np.ndarray, np.random.Generator], Any]
StepFn = Callable[[int, Any], tuple[np.ndarray, Any]]


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """``rng`` itself if it is a Generator, else ``numpy.random.default_rng(rng)`` (a seed)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator or a seed (a whole number >= 0), got {rng!r}.")


def check_probabilities(probs: Any, name: str = "probs") -> np.ndarray:
    """``probs`` as a float64 array of shape ``(V,)`` or ``(B, V)`` whose rows are distributions."""
    try:
        array = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(probs).__name__}.") from None
    if array.ndim not in (1, 2) or array.shape[-1] == 0 or array.size == 0:
        raise ValueError(f"{name} must have shape (V,) or (batch, V) with V >= 1, got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values; a distribution has finite entries.")
    if (array < 0).any():
        raise ValueError(f"{name} holds negative values (smallest {array.min():.3g}); probabilities are >= 0. "
                         "Pass softmax outputs, or logits through apply_temperature(logits=...).")
    sums = array.sum(axis=-1)
    bad = np.abs(sums - 1.0) > SUM_TOLERANCE
    if bad.any():
        worst = float(np.atleast_1d(sums)[np.argmax(np.atleast_1d(bad))])
        raise ValueError(f"{name} is not a distribution: a row sums to {worst:.6g}, not 1. "
                         "Normalise it (probs / probs.sum(-1, keepdims=True)) or pass a softmax output.")
    return array / sums[..., None] if array.ndim == 2 else array / sums


def _check_temperature(temperature: float) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating, np.integer)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}.")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}; "
                         "use greedy() for the limit T -> 0.")
    return float(temperature)


def softmax(logits: Any) -> np.ndarray:
    """Softmax over the last axis, computed stably (the maximum is subtracted first)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape (V,) or (batch, V) with V >= 1, got shape {z.shape}.")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits hold NaN or +inf; every logit must be finite (-inf masks an id out).")
    if np.isneginf(z).all(axis=-1).any():
        raise ValueError("a row of logits is -inf everywhere: every id is masked out, so there is no "
                         "distribution to draw from; leave at least one id with a finite logit (mask fewer "
                         "ids).")
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def apply_temperature(
    probs: Any = None, temperature: float = 1.0, *, logits: Any = None
) -> np.ndarray:
    """The distribution at ``temperature``, from probabilities or (keyword) from logits.

    From logits: ``softmax(logits / T)``. From probabilities: ``p ** (1 / T)`` renormalised,
    the same thing, since ``p ∝ exp(z)``; computed in log space so small ``T`` does not
    underflow. Ids of probability 0 stay at 0.
    """
    if (probs is None) == (logits is None):
        raise ValueError("pass exactly one of probs (a distribution) or logits= (unnormalised scores).")
    t = _check_temperature(temperature)
    if logits is not None:
        return softmax(np.asarray(logits, dtype=np.float64) / t)
    p = check_probabilities(probs)
    if t == 1.0:
        return p
    with np.errstate(divide="ignore"):
        return softmax(np.log(p) / t)


def _order(p: np.ndarray) -> np.ndarray:
    """Indices that sort each row by decreasing probability, ties by lower id."""
    return np.argsort(-p, axis=-1, kind="stable")


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One id per row of ``p`` (2-D) by inverse-CDF sampling with one uniform per row."""
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(len(p)) * cdf[:, -1]
    ids = (cdf <= u[:, None]).sum(axis=-1)
    # A row's draw can only land on an id of positive probability; guard rounding at the top end.
    return np.minimum(ids, p.shape[-1] - 1).astype(np.int64)


def _rows(probs: Any) -> tuple[np.ndarray, bool]:
    p = check_probabilities(probs)
    return (p[None, :], True) if p.ndim == 1 else (p, False)


def _result(ids: np.ndarray, single: bool) -> int | np.ndarray:
    return int(ids[0]) if single else ids


def greedy(probs: Any, rng: np.random.Generator | int | None = None) -> int | np.ndarray:
    """The most likely id (the lowest id among ties); ``rng`` is accepted and ignored."""
    p, single = _rows(probs)
    return _result(np.argmax(p, axis=-1).astype(np.int64), single)


def sample(probs: Any, rng: np.random.Generator | int | None = None) -> int | np.ndarray:
    """One id drawn from each distribution (plain ancestral sampling)."""
    p, single = _rows(probs)
    return _result(_draw(p, as_generator(rng)), single)


def sample_with_temperature(
    probs: Any, temperature: float, rng: np.random.Generator | int | None = None
) -> int | np.ndarray:
    """One id drawn from ``apply_temperature(probs, temperature)``."""
    return sample(apply_temperature(probs, temperature), rng)


def sample_from_logits(logits: Any, temperature: float, rng: np.random.Generator) -> int:
    """One id drawn with ``rng`` from ``softmax(logits / temperature)``; ``logits`` has shape ``(V,)``.

    Exercise 6.3's reference. The temperature divides the logits *before* the softmax; a
    temperature that is not a positive number is a ``ValueError``.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1 or logits.size == 0:
        raise ValueError(f"logits must be a non-empty 1-D array (one score per character), got shape {logits.shape}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}.")
    return int(rng.choice(len(logits), p=softmax(logits / _check_temperature(temperature))))


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be a whole number (an int), got {k!r} of type {type(k).__name__}.")
    if k < 1:
        raise ValueError(f"k must be at least 1 (k=1 is greedy), got {k}.")
    return int(k)


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise TypeError(f"p must be a number in (0, 1], got {type(p).__name__}.")
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must lie in (0, 1] (p=1 keeps every id), got {p!r}.")
    return float(p)


def top_k_filter(probs: Any, k: int) -> np.ndarray:
    """The distribution restricted to its ``k`` most likely ids and renormalised (k >= V keeps all)."""
    k = _check_k(k)
    p, single = _rows(probs)
    keep = np.zeros_like(p, dtype=bool)
    np.put_along_axis(keep, _order(p)[:, :k], True, axis=-1)
    kept = np.where(keep, p, 0.0)
    kept /= kept.sum(axis=-1, keepdims=True)
    return kept[0] if single else kept


def top_p_filter(probs: Any, p: float) -> np.ndarray:
    """The smallest set of most likely ids whose mass reaches ``p``, renormalised (nucleus).

    An id is kept when the mass of the ids ranked above it is below ``p`` (so the most
    likely id is always kept, and ``p=1`` keeps every id of positive probability).
    """
    top = _check_p(p)
    q, single = _rows(probs)
    if top == 1.0:
        return q[0] if single else q
    order = _order(q)
    ranked = np.take_along_axis(q, order, axis=-1)
    before = np.cumsum(ranked, axis=-1) - ranked  # mass strictly above each ranked id
    # A small slack so that a mass equal to p in exact arithmetic counts as reaching it.
    keep_ranked = (before < top - 1e-12) & (ranked > 0)
    keep_ranked[:, 0] = True
    keep = np.zeros_like(q, dtype=bool)
    np.put_along_axis(keep, order, keep_ranked, axis=-1)
    kept = np.where(keep, q, 0.0)
    kept /= kept.sum(axis=-1, keepdims=True)
    return kept[0] if single else kept


def sample_top_k(probs: Any, k: int, rng: np.random.Generator | int | None = None,
                 temperature: float = 1.0) -> int | np.ndarray:
    """One id drawn from the ``k`` most likely ids (after ``temperature``), renormalised."""
    return sample(top_k_filter(apply_temperature(probs, temperature), k), rng)


def sample_top_p(probs: Any, p: float, rng: np.random.Generator | int | None = None,
                 temperature: float = 1.0) -> int | np.ndarray:
    """One id drawn from the nucleus of mass ``p`` (after ``temperature``), renormalised."""
    return sample(top_p_filter(apply_temperature(probs, temperature), p), rng)


def make_sampler(method: str = "sample", *, temperature: float = 1.0, k: int | None = None,
                 p: float | None = None) -> Sampler:
    """A sampler ``f(probs, rng) -> id`` for :func:`generate`.

    ``method`` is ``"greedy"``, ``"sample"`` (with ``temperature``), ``"top_k"`` (needs ``k``)
    or ``"top_p"`` (needs ``p``). Arguments are checked now, not at the first step.
    """
    _check_temperature(temperature)
    if method == "greedy":
        return lambda probs, rng: greedy(probs)
    if method == "sample":
        return lambda probs, rng: sample_with_temperature(probs, temperature, rng)
    if method == "top_k":
        if k is None:
            raise ValueError("method 'top_k' needs k, the number of most likely ids to keep.")
        _check_k(k)
        return lambda probs, rng: sample_top_k(probs, k, rng, temperature)
    if method == "top_p":
        if p is None:
            raise ValueError("method 'top_p' needs p, the nucleus mass in (0, 1].")
        _check_p(p)
        return lambda probs, rng: sample_top_p(probs, p, rng, temperature)
    raise ValueError(f"method must be one of 'greedy', 'sample', 'top_k', 'top_p', got {method!r}.")


def generate(
    step_fn: StepFn,
    prompt_ids: Sequence[int] | np.ndarray,
    length: int,
    sampler: Sampler | None = None,
    *,
    vocab_size: int,
    state: Any = None,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Extend ``prompt_ids`` by ``length`` ids drawn one at a time from a stateful model.

    ``step_fn(last_id, state) -> (probs, new_state)`` reads one id and returns the
    distribution of the next id (shape ``(vocab_size,)``) and the state after that id (a
    recurrent model's hidden state, an n-gram model's context...). The prompt is fed once,
    id by id, starting from ``state`` (``None`` for the model's initial state); each drawn id
    is then fed back, so the state carries the whole history without re-reading the prefix.
    ``sampler(probs, rng) -> id`` defaults to plain sampling. Returns the ``length`` new ids
    (int64), without the prompt.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable as step_fn(last_id, state), got {type(step_fn).__name__}.")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a whole number >= 1, got {vocab_size!r}.")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be a whole number >= 0 (how many ids to generate), got {length!r}.")
    prompt = np.asarray(prompt_ids)
    if prompt.ndim != 1 or prompt.size == 0:
        raise ValueError(f"prompt_ids must be a non-empty 1-D sequence of ids, got shape {prompt.shape}: "
                         "the model needs at least one id to condition on (e.g. a newline).")
    if not np.issubdtype(prompt.dtype, np.integer):
        raise TypeError(f"prompt_ids must be whole numbers (ids), got dtype {prompt.dtype}; "
                        "encode text with CharVocab.encode first.")
    outside = (prompt < 0) | (prompt >= vocab_size)
    if outside.any():
        raise ValueError(f"prompt id {int(prompt[np.argmax(outside)])} is outside the vocabulary "
                         f"0..{vocab_size - 1}; encode the prompt with the model's vocabulary.")
    sampler = sampler or (lambda probs, g: sample(probs, g))
    generator = as_generator(rng)
    probs = None
    for last in prompt:
        probs, state = step_fn(int(last), state)
    out = np.empty(int(length), dtype=np.int64)
    for t in range(int(length)):
        p = check_probabilities(probs, "the probabilities step_fn returned")
        if p.shape != (vocab_size,):
            raise ValueError(f"step_fn returned probabilities of shape {p.shape}, expected ({vocab_size},).")
        next_id = int(sampler(p, generator))
        out[t] = next_id
        probs, state = step_fn(next_id, state)
    return out


def generate_text(step_fn: StepFn, prompt: str, length: int, vocab: Any, sampler: Sampler | None = None,
                  *, state: Any = None, rng: np.random.Generator | int | None = None) -> str:
    """:func:`generate` on characters: ``prompt`` encoded and the result decoded with ``vocab``.

    ``vocab`` is a :class:`utils.data.text.CharVocab`; a prompt character outside it is an error.
    """
    if not isinstance(prompt, str) or not prompt:
        raise ValueError("prompt must be a non-empty str; the model needs at least one character "
                         "to condition on (e.g. '\\n').")
    return vocab.decode(generate(step_fn, vocab.encode(prompt), length, sampler,
                                 vocab_size=len(vocab), state=state, rng=rng))


# Measures of generated text ------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z]+")


def distinct_ngram_share(text: str, n: int = 4) -> float:
    """Distinct character ``n``-grams of ``text`` over all its ``n``-grams (1.0: no repeats).

    Low values flag a sampler stuck in a loop (greedy decoding repeats itself).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}.")
    total = len(text) - n + 1
    if total < 1:
        raise ValueError(f"text has {len(text)} characters, too few for one {n}-gram; pass a longer text.")
    return len({text[i : i + n] for i in range(total)}) / total


def word_set(text: str) -> set[str]:
    """The distinct words of ``text``: runs of ASCII letters, lower-cased."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}.")
    return {word.lower() for word in _WORD.findall(text)}


def known_word_share(generated: str, training: str | Iterable[str]) -> float:
    """Share of the words of ``generated`` (with repeats) that occur in ``training``.

    Words are runs of ASCII letters, compared lower-cased; ``training`` is a text or a
    ready set of words (see :func:`word_set`, to build it once for many samples).
    """
    known = word_set(training) if isinstance(training, str) else {str(word).lower() for word in training}
    if not known:
        raise ValueError("training has no words to compare with; pass the training text.")
    if not isinstance(generated, str):
        raise TypeError(f"generated must be a str, got {type(generated).__name__}.")
    found = [word.lower() for word in _WORD.findall(generated)]
    if not found:
        raise ValueError("generated has no words (runs of letters); generate a longer text.")
    return sum(word in known for word in found) / len(found)


# Many samples at once, and their measures with a spread ------------------------------------------

BatchStepFn = Callable[[np.ndarray, Any], tuple[np.ndarray, Any]]


def generate_batch(
    step_fn: BatchStepFn,
    prompts: Sequence[Sequence[int] | np.ndarray],
    length: int,
    sampler: Sampler | None = None,
    *,
    vocab_size: int,
    stop: Sequence[int] | None = None,
    rng: np.random.Generator | int | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Extend every prompt by up to ``length`` ids, all read side by side by a batched model.

    ``step_fn(last_ids, state) -> (probs, new_state)`` reads one id per text (``(B,)``) and returns
    each text's next-id distribution ``(B, vocab_size)`` (``state`` is ``None`` at the start), like
    :meth:`utils.tasks.lm.NumpyLanguageModel.step`. Prompts may differ in length: each is fed id by
    id, and a text starts sampling once its prompt is read. A text stops after ``length`` ids, or
    once the ids it wrote end with ``stop`` (kept in its output). ``sampler(probs, rng)`` draws a
    batch of ids (default: plain sampling). Returns, per prompt, the ids written (int64) and the
    probability the model gave each of them under its own distribution (before any temperature or
    truncation), whose ``-log2`` is the model's surprise at its own text.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable as step_fn(last_ids, state), got {type(step_fn).__name__}.")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a whole number >= 1, got {vocab_size!r}.")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be a whole number >= 0 (how many ids to generate), got {length!r}.")
    rows = [np.asarray(prompt) for prompt in prompts]
    if not rows:
        raise ValueError("prompts is empty; pass at least one prompt (a sequence of ids).")
    for number, row in enumerate(rows):
        if row.ndim != 1 or row.size == 0 or not np.issubdtype(row.dtype, np.integer):
            raise ValueError(f"prompt {number} must be a non-empty 1-D sequence of whole-number ids, "
                             f"got shape {row.shape} and dtype {row.dtype}.")
        if row.min() < 0 or row.max() >= vocab_size:
            raise ValueError(f"prompt {number} holds an id outside the vocabulary 0..{vocab_size - 1}; "
                             "encode it with the model's vocabulary.")
    ending = None if stop is None else [int(i) for i in stop]
    sampler = sampler or (lambda probs, g: sample(probs, g))
    generator = as_generator(rng)
    written: list[list[int]] = [[] for _ in rows]
    own: list[list[float]] = [[] for _ in rows]
    done = np.full(len(rows), length == 0)
    last, state, fed = np.array([row[0] for row in rows], dtype=np.int64), None, 1
    while not done.all():
        probs, state = step_fn(last, state)
        p = check_probabilities(probs, "the probabilities step_fn returned")
        if p.shape != (len(rows), vocab_size):
            raise ValueError(f"step_fn returned probabilities of shape {p.shape}, expected ({len(rows)}, {vocab_size}).")
        sampling_now = any(fed >= len(row) for row in rows)  # no draw while every text reads its prompt
        drawn = np.asarray(sampler(p, generator)).reshape(-1) if sampling_now else last
        for r, row in enumerate(rows):
            if fed < len(row):
                last[r] = row[fed]  # still reading the prompt
                continue
            last[r] = drawn[r]
            if done[r]:
                continue
            written[r].append(int(drawn[r]))
            own[r].append(float(p[r, drawn[r]]))
            finished = ending is not None and written[r][-len(ending):] == ending
            done[r] = finished or len(written[r]) >= length
        fed += 1
    return ([np.array(ids, dtype=np.int64) for ids in written], [np.array(q, dtype=np.float64) for q in own])


@dataclass(frozen=True)
class Spread:
    """A measure over several samples: its mean, standard deviation (``ddof=1``), lowest and highest value."""

    mean: float
    sd: float
    low: float
    high: float
    count: int


def spread(values: Iterable[float]) -> Spread:
    """The :class:`Spread` of ``values`` (NaN values, a measure a sample had nothing to give, are left out)."""
    array = np.asarray(list(values), dtype=np.float64)
    array = array[~np.isnan(array)]
    if array.size == 0:
        raise ValueError("there are no values to summarise (all are missing); generate longer samples.")
    sd = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return Spread(float(array.mean()), sd, float(array.min()), float(array.max()), int(array.size))


SAMPLE_MEASURES = ("model's bits/char on its sample", "distinct 4-grams", "words found in training text")


def sample_measures(text: str, own_probabilities: Any, training_words: Iterable[str]) -> dict[str, float]:
    """The three measures of one sample (see :data:`SAMPLE_MEASURES`): the model's bits per character on its
    own text (from ``own_probabilities``, as :func:`generate_batch` returns them), the share of distinct
    4-grams (low: loops) and the share of its words found in the training text (NaN if it wrote no word)."""
    own = np.asarray(own_probabilities, dtype=np.float64)
    if own.ndim != 1 or len(own) != len(text) or len(text) == 0:
        raise ValueError(f"own_probabilities must hold one probability per character of the sample: got "
                         f"{own.size} for {len(text)} characters.")
    words = [word.lower() for word in _WORD.findall(text)]
    known = set(training_words)
    return {
        SAMPLE_MEASURES[0]: float(-np.log2(own).mean()),
        SAMPLE_MEASURES[1]: distinct_ngram_share(text, n=4),
        SAMPLE_MEASURES[2]: sum(word in known for word in words) / len(words) if words else float("nan"),
    }


def describe_samples(texts: Sequence[str], own_probabilities: Sequence[Any],
                     training: str | Iterable[str]) -> dict[str, Spread]:
    """:func:`sample_measures` of every sample, summarised as a :class:`Spread` per measure.

    ``training`` is the training text, or its :func:`word_set`.
    """
    if isinstance(texts, str) or len(texts) == 0 or len(texts) != len(own_probabilities):
        raise ValueError("texts must be a non-empty list of samples, with one array of own probabilities each.")
    words = word_set(training) if isinstance(training, str) else {str(word).lower() for word in training}
    rows = [sample_measures(text, own, words) for text, own in zip(texts, own_probabilities)]
    return {name: spread(row[name] for row in rows) for name in SAMPLE_MEASURES}

"""Greedy decoding and beam search for any decoder, written once for chapters 7-9.

Both run on a *step function*: ``step(tokens, states) -> (log_probs, new_states)``, where
``tokens`` is an int array of shape (N,) (the last token of each of N hypotheses), ``states`` a
list of arrays whose first axis has length N (recurrent states, an encoder summary, encoder
outputs for attention: anything the decoder carries), and ``log_probs`` an (N, V) array of
log-probabilities of the next token. The step functions of the chapters wrap a Keras model;
this module only sees NumPy arrays, so it works on every backend.

A hypothesis's *score* is the sum of the log-probabilities of its tokens, the end token
included. Beam search keeps the ``beam_width`` best-scoring prefixes at every step; a
hypothesis that has produced the end token is finished: it is never extended again and keeps
its score. At the end the hypotheses are ranked by their score divided by ``length ** alpha``
(length normalisation: ``alpha = 0`` ranks by the score itself, which favours short outputs;
``alpha = 1`` by the mean log-probability per token).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from utils.decoding.seqmetrics import exact_match
from utils.data.tokens import END, PAD, START

StepFunction = Callable[[np.ndarray, list[np.ndarray]], tuple[np.ndarray, list[np.ndarray]]]
Decoder = Callable[[Sequence[str], float], Sequence[str]]


@dataclass(frozen=True)
class Decoded:
    """The best output of each input: its tokens (without start, ending with the end token when it
    finished), its score (sum of log-probabilities) and whether it finished within the length."""

    tokens: list[np.ndarray]
    scores: np.ndarray
    finished: np.ndarray


def _check_states(states: Sequence[np.ndarray], whose: str, row: str) -> None:
    """A clear error unless ``states`` is a list (or tuple) of arrays: one array would be read row by row."""
    if not isinstance(states, (list, tuple)):
        shape = f" of shape {np.shape(states)}" if hasattr(states, "shape") else ""
        raise TypeError(f"{whose} must be a list of arrays, one per decoder state, each with one row per "
                        f"{row}; got one {type(states).__name__}{shape}: wrap a single state as [state].")
    if any(np.ndim(state) == 0 for state in states):
        raise ValueError(f"{whose} must be arrays with one row per {row}; got a number among them "
                         f"(shapes {[np.shape(state) for state in states]}).")


def _finite_number(alpha: object) -> bool:
    return (isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool)
            and bool(np.isfinite(alpha)))


def _check_alpha(alpha: float) -> float:
    """``alpha`` as a float, or a clear error when it is not a finite number (NaN would rank every
    hypothesis as NaN, and the first would win whatever its score)."""
    if not _finite_number(alpha):
        raise ValueError(f"alpha must be a finite number (0: rank by the score, 1: by the score per token); "
                         f"got {alpha!r}.")
    return float(alpha)


def _check_arguments(states: Sequence[np.ndarray], max_length: int, beam_width: int = 1) -> int:
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise ValueError(f"max_length must be a whole number of at least 1, got {max_length!r}.")
    if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise ValueError(f"beam_width must be a whole number of at least 1, got {beam_width!r}.")
    _check_states(states, "the initial states", "input")
    if len(states) == 0:
        raise ValueError("give the decoder's initial states (a list of arrays, one row per input).")
    n = len(states[0])
    if n == 0 or any(len(state) != n for state in states):
        raise ValueError(f"every state must have the same non-zero number of rows; got {[len(s) for s in states]}.")
    return n


def _log_probs(step: StepFunction, tokens: np.ndarray, states: list[np.ndarray]
               ) -> tuple[np.ndarray, list[np.ndarray]]:
    log_probs, new_states = step(tokens, states)
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[0] != len(tokens):
        raise ValueError(f"the step function returned log-probabilities of shape {log_probs.shape}, "
                         f"expected ({len(tokens)}, vocabulary size).")
    invalid = np.isnan(log_probs) | (log_probs == np.inf)
    if invalid.any():
        row = int(np.argmax(invalid.any(axis=1)))
        raise ValueError(f"the step function returned NaN or +inf log-probabilities (row {row}: "
                         f"{np.count_nonzero(invalid[row])} of {log_probs.shape[1]}); a log-probability is a "
                         "finite number <= 0, or -inf for an impossible token. A model whose loss became "
                         "NaN in training gives NaN: retrain it (lower the learning rate, or clip the "
                         "gradients).")
    _check_states(new_states, "the states the step function returns", "hypothesis")
    if len(new_states) != len(states):
        raise ValueError(f"the step function returned {len(new_states)} states for the {len(states)} it was "
                         "given: return the new value of every state, in the order they came.")
    return log_probs, [np.asarray(s) for s in new_states]


def greedy_decode(step: StepFunction, states: Sequence[np.ndarray], *, max_length: int) -> Decoded:
    """The most likely next token at every step, for a batch of inputs at once."""
    n = _check_arguments(states, max_length)
    states = [np.asarray(s) for s in states]
    tokens = np.full(n, START, dtype=np.int32)
    written = np.full((n, max_length), PAD, dtype=np.int32)
    scores, finished = np.zeros(n), np.zeros(n, dtype=bool)
    for t in range(max_length):
        log_probs, states = _log_probs(step, tokens, states)
        best = np.argmax(log_probs, axis=-1).astype(np.int32)
        scores += np.where(finished, 0.0, log_probs[np.arange(n), best])
        tokens = np.where(finished, PAD, best).astype(np.int32)  # a finished output reads padding
        written[:, t] = tokens
        finished |= tokens == END
        if finished.all():
            break
    return Decoded([_trimmed(row) for row in written], scores, finished)


def _trimmed(row: np.ndarray) -> np.ndarray:
    """The tokens up to and including the first end token (all of them when there is none)."""
    ends = np.flatnonzero(row == END)
    return row[: ends[0] + 1].copy() if len(ends) else row[row != PAD].copy()


def normalised(scores: np.ndarray, lengths: np.ndarray, alpha: float) -> np.ndarray:
    """Scores divided by ``lengths ** alpha`` (the ranking of length-normalised beam search)."""
    return np.asarray(scores) / np.maximum(np.asarray(lengths), 1) ** _check_alpha(alpha)


def beam_step(scores: np.ndarray, log_probs: np.ndarray, finished: np.ndarray, beam_width: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of beam search: the ``beam_width`` best extensions of the current beams.

    ``scores`` (..., k) are the beams' summed log-probabilities, ``log_probs`` (..., k, V) the
    model's next-token log-probabilities for each beam, ``finished`` (..., k) which beams have
    ended. Every unfinished beam j can be extended by every token v, with the score
    ``scores[j] + log_probs[j, v]``; a finished beam has one candidate, itself (token ``PAD``,
    score unchanged). All candidates of all beams are ranked together. Returns the new scores,
    the beam each comes from (its *parent*) and the token it adds, each of shape (..., beam_width).
    Leading axes are independent inputs; ties go to the earlier beam and the smaller token.
    """
    scores, log_probs = np.asarray(scores, dtype=np.float64), np.asarray(log_probs, dtype=np.float64)
    vocabulary = log_probs.shape[-1]
    kept = np.full(vocabulary, -np.inf)
    kept[PAD] = 0.0
    candidates = scores[..., None] + np.where(np.asarray(finished)[..., None], kept, log_probs)
    flat = candidates.reshape(*candidates.shape[:-2], -1)
    best = np.argsort(-flat, axis=-1, kind="stable")[..., :beam_width]
    return np.take_along_axis(flat, best, axis=-1), best // vocabulary, (best % vocabulary).astype(np.int32)


def beam_search(step: StepFunction, states: Sequence[np.ndarray], *, beam_width: int, max_length: int,
                alpha: float = 0.0) -> Decoded:
    """The best of ``beam_width`` hypotheses per input, for a batch of inputs at once (see the module doc).

    With ``beam_width=1`` it is greedy decoding, token for token.
    """
    n = _check_arguments(states, max_length, beam_width)
    alpha, k = _check_alpha(alpha), int(beam_width)
    # Every input's states, repeated once per beam: row b * k + j is beam j of input b.
    states = [np.repeat(np.asarray(s), k, axis=0) for s in states]
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis to start with, so that the beams do not start as copies
    tokens = np.full((n, k, max_length), PAD, dtype=np.int32)
    finished = np.zeros((n, k), dtype=bool)
    lengths = np.zeros((n, k), dtype=np.int64)
    last = np.full(n * k, START, dtype=np.int32)
    rows = np.arange(n)[:, None]
    for t in range(max_length):
        log_probs, states = _log_probs(step, last, states)
        vocabulary = log_probs.shape[1]
        scores, parent, token = beam_step(scores, log_probs.reshape(n, k, vocabulary), finished, k)
        was_finished = finished[rows, parent]
        tokens = tokens[rows, parent]
        tokens[:, :, t] = np.where(was_finished, PAD, token)
        lengths = lengths[rows, parent] + ~was_finished
        finished = was_finished | (token == END)
        order = (rows * k + parent).reshape(-1)
        states = [s[order] for s in states]
        last = np.where(was_finished, PAD, token).reshape(-1).astype(np.int32)
        if finished.all():
            break
    ranking = normalised(scores, lengths, alpha)
    ranking = np.where(np.isfinite(scores), ranking, -np.inf)
    # A finished hypothesis ranks above every unfinished one, which was cut by max_length.
    ranking = np.where(finished, ranking, ranking - 1e300)
    chosen = np.argmax(ranking, axis=1)
    return Decoded([_trimmed(tokens[b, chosen[b]]) for b in range(n)], scores[np.arange(n), chosen],
                   finished[np.arange(n), chosen])


def choose_alpha(decode: Decoder, sources: Sequence[str], references: Sequence[str], alphas: Sequence[float]
                 ) -> tuple[float, dict[float, float]]:
    """The length-normalisation exponent with the highest exact match, chosen on held-out pairs.

    ``decode(sources, alpha)`` returns one output text per source (for example beam search ranked
    with that ``alpha``). Every ``alpha`` is scored by the exact match of its outputs against
    ``references``. Returns ``(best alpha, {alpha: exact match})``; on a tie the smallest alpha wins.
    Give validation pairs: the test set is for the final figures only.
    """
    alphas = list(alphas)
    if not alphas:
        raise ValueError("give at least one alpha to choose from, for example (0.0, 0.5, 1.0).")
    if not all(_finite_number(alpha) for alpha in alphas):
        raise ValueError(f"every alpha must be a finite number; got {alphas!r}.")
    scores = {float(alpha): exact_match(list(decode(sources, float(alpha))), references) for alpha in alphas}
    best = max(scores, key=lambda alpha: (scores[alpha], -alpha))
    return best, scores

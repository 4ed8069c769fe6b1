"""An n-gram (Markov) model of characters with add-alpha smoothing.

An order-``k`` model predicts the next character from the last ``k`` characters
only: ``P(x_t | x_{t-k} ... x_{t-1}) = (count(context, x_t) + alpha) / (count(context) + alpha |V|)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from utils.data.text import CharVocab


def last_chars(context: str, order: int) -> str:
    """The last ``order`` characters of ``context`` (the empty string for order 0)."""
    return context[-order:] if order > 0 else ""


def count_ngrams(text: str, order: int, vocab: CharVocab) -> dict[str, np.ndarray]:
    """For every context of ``order`` characters in ``text``, the counts of the next character."""
    if order < 0:
        raise ValueError(f"order must be 0 or more, got {order}.")
    ids = vocab.encode(text)
    counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(vocab), dtype=np.float64))
    for t in range(order, len(text)):
        counts[text[t - order : t]][ids[t]] += 1.0
    return dict(counts)


def next_char_distribution(
    counts: Mapping[str, np.ndarray], context: str, order: int, vocab_size: int, alpha: float
) -> np.ndarray:
    """Smoothed probabilities of the next character after ``context`` (sums to 1)."""
    observed = counts.get(last_chars(context, order))
    if observed is None:
        observed = np.zeros(vocab_size)
    return (observed + alpha) / (observed.sum() + alpha * vocab_size)


class NGramModel:
    """A character n-gram model fitted on a training text."""

    def __init__(self, order: int, vocab: CharVocab, alpha: float = 0.1) -> None:
        if alpha <= 0:
            raise ValueError(f"alpha must be positive so that no character gets probability 0, got {alpha}.")
        self.order = order
        self.vocab = vocab
        self.alpha = alpha
        self.counts: dict[str, np.ndarray] = {}

    def fit(self, text: str) -> NGramModel:
        """Count the n-grams of ``text``."""
        self.counts = count_ngrams(text, self.order, self.vocab)
        return self

    def distribution(self, context: str) -> np.ndarray:
        """Probabilities of the next character after ``context``."""
        return next_char_distribution(self.counts, context, self.order, len(self.vocab), self.alpha)

    def evaluate(self, text: str) -> dict[str, float]:
        """Bits per character, accuracy and share of unseen contexts on ``text``.

        Every character from position ``order`` on is predicted from the ones before it.
        """
        ids = self.vocab.encode(text)
        vocab_size = len(self.vocab)
        log2_total, hits, unseen, n = 0.0, 0, 0, 0
        cache: dict[str, np.ndarray] = {}
        for t in range(self.order, len(text)):
            context = text[t - self.order : t]
            probs = cache.get(context)
            if probs is None:
                probs = next_char_distribution(self.counts, context, self.order, vocab_size, self.alpha)
                cache[context] = probs
            unseen += context not in self.counts
            log2_total -= float(np.log2(probs[ids[t]]))
            hits += int(np.argmax(probs) == ids[t])
            n += 1
        if n == 0:
            raise ValueError(f"text of length {len(text)} is too short for an order-{self.order} model.")
        return {"bits_per_char": log2_total / n, "accuracy": hits / n, "unseen_contexts": unseen / n}

    def n_contexts(self) -> int:
        """How many distinct contexts the training text contained."""
        return len(self.counts)

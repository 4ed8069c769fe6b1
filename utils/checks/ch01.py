"""Checkers for chapter 1: bag of words, sliding windows, an n-gram distribution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.checking import Mistake, as_array, call, checker, expect_close, expect_shape
from utils.ngram import last_chars, next_char_distribution
from utils.text import bag_of_words
from utils.windows import make_windows


@checker("1.1", "bag of words")
def check_bag_of_words(answer: Callable[..., Any]) -> int:
    """Counts per vocabulary word, at the word's index, unknown words skipped."""
    vocab = {"not": 3, "good": 0, "bad": 2, "food": 1, "was": 4}
    cases = [
        (["food", "was", "good"], "a sentence with three different words"),
        (["good", "not", "good", "good"], "a sentence that repeats a word"),
        (["was", "not", "not", "food", "not", "was"], "a sentence whose repeated words are not in sorted order"),
        ([], "an empty sentence"),
    ]
    for tokens, described in cases:
        got = as_array(call(answer, list(tokens), dict(vocab), on=described), "your vector")
        expected = bag_of_words(tokens, vocab)
        expect_shape(got, expected.shape, "your vector",
                     f"A bag of words has one entry per vocabulary word ({len(vocab)} here), "
                     "whatever the sentence length.")
        if tokens and got.sum() != expected.sum():
            if set(np.unique(got)) <= {0.0, 1.0} and expected.max() > 1:
                raise Mistake(f"a word that occurs {int(expected.max())} times got the value 1: "
                              "count occurrences, do not just mark presence.")
            raise Mistake(f"your counts add up to {got.sum():g} for {len(tokens)} known words "
                          f"({described}); every word should add exactly 1.")
        if not np.array_equal(got, expected):
            word = tokens[0]
            raise Mistake(f"the counts are in the wrong places: for {tokens} the count of {word!r} "
                          f"belongs at index vocab[{word!r}] = {vocab[word]}, but your vector is "
                          f"{got.tolist()}.")
    shuffled = as_array(call(answer, ["good", "was", "food"], dict(vocab), on="the same words reordered"), "vector")
    if not np.array_equal(shuffled, bag_of_words(["food", "was", "good"], vocab)):
        raise Mistake("reordering the words changed your vector; a bag of words must not depend on order.")
    got = as_array(call(answer, ["good", "pizza"], dict(vocab),
                        on="a sentence with a word that is not in the vocabulary"), "your vector")
    expect_close(got, bag_of_words(["good", "pizza"], vocab), "your vector for ['good', 'pizza']",
                 hint="Skip words that are not in the vocabulary.")
    return len(cases) + 2


@checker("1.2", "sliding windows")
def check_make_windows(answer: Callable[..., Any]) -> int:
    """Windows series[i:i+w] with target series[i+w+h-1], and every window kept."""
    n_checks = 0
    for length, window, horizon in [(10, 3, 1), (12, 4, 3), (6, 5, 1), (20, 1, 6)]:
        series = np.arange(length, dtype=float)
        described = f"series=np.arange({length}), window={window}, horizon={horizon}"
        result = call(answer, series.copy(), window, horizon, on=described)
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` the pair (X, y)?")
        if not (isinstance(result, tuple) and len(result) == 2):
            raise Mistake(f"return a pair (X, y); you returned {type(result).__name__} ({described}).")
        X, y = as_array(result[0], "X"), as_array(result[1], "y")
        X_ref, y_ref = make_windows(series, window, horizon)
        if X.ndim == 2 and X.shape == X_ref.T.shape and X.shape != X_ref.shape:
            raise Mistake(f"X has shape {X.shape}, expected {X_ref.shape}: one row per window, "
                          "one column per time step (did you transpose it?).")
        if X.shape[0] != X_ref.shape[0] or y.shape[0] != y_ref.shape[0]:
            made = min(X.shape[0], y.shape[0])
            fix = ("the last window, whose target is the final value of the series, is missing"
                   if made < len(y_ref) else "you made windows whose target lies past the end of the series")
            raise Mistake(f"you made {made} windows for {described}, expected "
                          f"{len(y_ref)} = length - window - horizon + 1: {fix}.")
        expect_shape(X, X_ref.shape, "X", f"({described})")
        expect_shape(y, y_ref.shape, "y", f"({described}): one target per window.")
        if not np.array_equal(X, X_ref):
            raise Mistake(f"window 0 should be the first {window} values {X_ref[0].tolist()}, "
                          f"you gave {X[0].tolist()} ({described}).")
        if np.array_equal(y, X_ref[:, -1]):
            raise Mistake("each target is the last value of its own window: the model would be given "
                          f"the answer. The target of window i is series[i + window + horizon - 1] ({described}).")
        if horizon > 1 and np.array_equal(y, series[window:window + len(y)]):
            raise Mistake(f"your targets are 1 step ahead although horizon={horizon}: the target "
                          "of window i is series[i + window + horizon - 1].")
        if not np.array_equal(y, y_ref):
            offset = int(y[0] - y_ref[0])
            raise Mistake(f"the target of window 0 should be series[{int(y_ref[0])}], you gave "
                          f"series[{int(y[0])}] (off by {offset:+d} steps; {described}).")
        n_checks += 1
    return n_checks


@checker("1.3", "n-gram next-character distribution")
def check_next_char_distribution(answer: Callable[..., Any]) -> int:
    """Add-alpha smoothed counts of the last ``order`` characters, normalised to 1."""
    vocab_size = 4  # characters a, b, c, d as ids 0..3
    counts = {
        "": np.array([5.0, 3.0, 1.0, 1.0]),
        "a": np.array([0.0, 4.0, 1.0, 0.0]),
        "b": np.array([2.0, 0.0, 0.0, 1.0]),
        "ab": np.array([0.0, 0.0, 3.0, 0.0]),
        "ba": np.array([1.0, 1.0, 0.0, 0.0]),
    }
    cases = [
        ("ba", 1, 0.5, "a seen context of order 1"),
        ("cab", 2, 0.1, "a seen context of order 2"),
        ("dcba", 2, 1.0, "a long context where only the last 2 characters count"),
        ("abc", 0, 0.5, "order 0, where the context is ignored"),
        ("dd", 2, 0.2, "a context never seen in training"),
        ("ba", 1, 2.0, "a larger alpha"),
    ]
    for context, order, alpha, described in cases:
        on = f"context={context!r}, order={order}, alpha={alpha} ({described})"
        got = as_array(call(answer, counts, context, order, vocab_size, alpha, on=on), "your distribution")
        expected = next_char_distribution(counts, context, order, vocab_size, alpha)
        expect_shape(got, expected.shape, "your distribution", f"One probability per character ({on}).")
        if not np.all(np.isfinite(got)) or (got.sum() == 0 and expected.sum() > 0):
            raise Mistake(f"for {on} you returned {got.tolist()}. An unseen context has no counts: add "
                          "alpha to every count, so that every character gets some probability.")
        if abs(got.sum() - 1.0) > 1e-6:
            raise Mistake(f"your probabilities sum to {got.sum():.4f}, not 1 ({on}): divide by the "
                          "total count plus alpha times the vocabulary size.")
        if order == 0 and not np.allclose(got, expected):
            raise Mistake("with order 0 the context must be ignored (the key is the empty string ''). "
                          "Careful: context[-0:] is the whole string in Python, not an empty one.")
        if len(context) > order > 0:
            first = context[:order]
            if first in counts and not np.allclose(got, expected):
                wrong = next_char_distribution(counts, first, order, vocab_size, alpha)
                if np.allclose(got, wrong):
                    plural = "s" if order > 1 else ""
                    raise Mistake(f"you looked up the start of the context ({first!r} from {context!r}); "
                                  f"a Markov model of order {order} uses the last {order} "
                                  f"character{plural}: {last_chars(context, order)!r}.")
        expect_close(got, expected, f"your distribution for {on}", atol=1e-6,
                     hint="P(c) = (count(context, c) + alpha) / (count(context) + alpha * vocab_size).")
    return len(cases)

"""Checkers for chapter 1: bag of words, sliding windows, an n-gram distribution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.checks.framework import Mistake, as_array, call, checker, expect_array, expect_shape, kind_of, named_mistake
from utils.checks.symptoms import ATOL, RTOL, expect_close
from utils.models.ngram import last_chars, next_char_distribution
from utils.data.text import bag_of_words
from utils.data.windows import make_windows


_VOCAB = {"not": 3, "good": 0, "bad": 2, "food": 1, "was": 4}


def _bag(answer: Callable[..., Any], tokens: list[str], described: str) -> np.ndarray:
    """The learner's vector for ``tokens`` (given copies of the sentence and the vocabulary)."""
    return expect_array(call(answer, list(tokens), dict(_VOCAB), on=described), "your vector",
                        shape=(len(_VOCAB),),
                        hint=f"A bag of words has one entry per vocabulary word ({len(_VOCAB)} here), "
                        f"whatever the sentence length ({described}).")


@checker("1.1", "bag of words")
def check_bag_of_words(answer: Callable[..., Any]) -> int:
    """Counts per vocabulary word, at the word's index, unknown words skipped wherever they are."""
    vocab = _VOCAB
    cases = [
        (["food", "was", "good"], "a sentence with three different words"),
        (["good", "not", "good", "good"], "a sentence that repeats a word"),
        (["was", "not", "not", "food", "not", "was"], "a sentence whose repeated words are not in sorted order"),
        ([], "an empty sentence"),
    ]
    for tokens, described in cases:
        expected = bag_of_words(tokens, vocab)
        got = _bag(answer, tokens, described)
        if tokens and not np.isclose(got.sum(), expected.sum()):
            if set(np.unique(got)) <= {0.0, 1.0} and expected.max() > 1:
                raise Mistake(f"a word that occurs {int(expected.max())} times got the value 1: "
                              "count occurrences, do not just mark presence.")
            if np.allclose(got, expected / len(tokens)):
                raise Mistake(f"you divided the counts by the number of words ({len(tokens)} in {tokens}), giving "
                              "frequencies: return the counts themselves.")
            raise Mistake(f"your counts add up to {got.sum():g} for {len(tokens)} known words "
                          f"({described}); every word should add exactly 1.")
        if not np.allclose(got, expected):
            word = tokens[0]
            placed = {"sorted(vocab).index(word)": sorted(vocab), "list(vocab).index(word)": list(vocab)}
            for how, order in placed.items():
                if np.array_equal(got, bag_of_words(tokens, {w: order.index(w) for w in vocab})):
                    moved = next(w for w in tokens if order.index(w) != vocab[w])
                    raise Mistake(f"you placed each count at the word's position in {how.split('.')[0]}, not at "
                                  f"its id: for {tokens} the count of {moved!r} belongs at index vocab[{moved!r}] = "
                                  f"{vocab[moved]}, where {how} puts it at {order.index(moved)}. Use vocab[word].")
            raise Mistake(f"the counts are in the wrong places: for {tokens} the count of {word!r} "
                          f"belongs at index vocab[{word!r}] = {vocab[word]}, but your vector is "
                          f"{got.tolist()}.")
    expected = bag_of_words(["food", "was", "good"], vocab)
    shuffled = _bag(answer, ["good", "was", "food"], "the same words reordered")
    if not np.array_equal(shuffled, expected):
        raise Mistake("reordering the words changed your vector; a bag of words must not depend on order.")
    unknown_cases = [
        (["good", "pizza"], "a sentence with a word that is not in the vocabulary"),
        (["was", "good", "pizza", "food", "was", "salad", "not"],
         "a sentence with words that are not in the vocabulary in the middle"),
    ]
    for tokens, described in unknown_cases:
        expected = bag_of_words(tokens, vocab)
        got = _bag(answer, tokens, described)
        first_unknown = next(i for i, token in enumerate(tokens) if token not in vocab)
        stopped = bag_of_words(tokens[:first_unknown], vocab)
        if not np.array_equal(got, expected) and np.array_equal(got, stopped):
            raise Mistake(f"your counting stops at the first word that is not in the vocabulary "
                          f"({tokens[first_unknown]!r} in {tokens}): the words after it were not counted. "
                          "Skip an unknown word and go on with the next one (`continue`, not `break` or "
                          "`return`).")
        unknown = sum(token not in vocab for token in tokens)
        for index, how in ((0, "vocab.get(word, 0)"), (len(vocab) - 1, "index -1")):
            counted = expected.copy()
            counted[index] += unknown
            if np.array_equal(got, counted):
                raise Mistake(f"you counted the {unknown} unknown word{'s' if unknown > 1 else ''} of {tokens} at "
                              f"index {index} ({how}): a word that is not in the vocabulary is skipped, it adds to "
                              "no entry.")
        expect_close(got, expected, f"your vector for {tokens}",
                     hint="Skip words that are not in the vocabulary.")
    return len(cases) + 1 + len(unknown_cases)


_WINDOW_CASES = [
    # series, window, horizon, the series in words. The first four hold their own positions (value t at
    # step t), so that a message can say which step a value came from; the last two hold values that are
    # not their positions, so that an answer built from the indices rather than the data fails.
    (np.arange(10, dtype=float), 3, 1, "series=np.arange(10), window=3, horizon=1"),
    (np.arange(12, dtype=float), 4, 3, "series=np.arange(12), window=4, horizon=3"),
    (np.arange(6, dtype=float), 5, 1, "series=np.arange(6), window=5, horizon=1"),
    (np.arange(20, dtype=float), 1, 6, "series=np.arange(20), window=1, horizon=6"),
    (np.round(np.random.default_rng(12).normal(0.0, 10.0, 15), 2), 4, 2,
     "a series of 15 random values (not their positions), window=4, horizon=2"),
    (np.random.default_rng(13).permutation(12).astype(float), 3, 3,
     "a shuffled series (np.arange(12) in random order), window=3, horizon=3"),
]


def _index_of(value: float, series: np.ndarray, near: int) -> int | None:
    """The step of ``series`` holding ``value`` (the one nearest ``near`` if several do), or None."""
    steps = np.flatnonzero(series == value)
    return int(steps[np.argmin(np.abs(steps - near))]) if len(steps) else None


@checker("1.2", "sliding windows")
def check_make_windows(answer: Callable[..., Any]) -> int:
    """Windows series[i:i+w] with target series[i+w+h-1], every window kept, read from the data."""
    n_checks = 0
    for series, window, horizon, described in _WINDOW_CASES:
        X_ref, y_ref = make_windows(series, window, horizon)
        n = len(y_ref)
        result = call(answer, series.copy(), window, horizon, on=described)
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` the pair (X, y)?")
        if not (isinstance(result, tuple) and len(result) == 2):
            raise Mistake(f"return a pair (X, y); you returned {kind_of(result)} ({described}).")
        X, y = as_array(result[0], "X"), as_array(result[1], "y")
        if X.ndim == 2 and X.shape == X_ref.T.shape and X.shape != X_ref.shape:
            raise Mistake(f"X has shape {X.shape}, expected {X_ref.shape}: one row per window, "
                          "one column per time step (did you transpose it?).")
        if X.size == 0 or y.size == 0:
            raise Mistake(f"your function returned no windows (X has shape {X.shape}, y shape {y.shape}) for "
                          f"{described}: there are length - window - horizon + 1 = {n} of them.")
        if X.ndim != 2:
            raise Mistake(f"X should be a 2-D array, one row per window and one column per time step, shape "
                          f"{X_ref.shape}; yours has shape {X.shape} ({described}).")
        if y.ndim != 1:
            raise Mistake(f"y should be a 1-D array, one target per window, shape {y_ref.shape}; yours has "
                          f"shape {y.shape} ({described}).")
        if X.shape[0] != n or y.shape[0] != n:
            made = min(X.shape[0], y.shape[0])
            if made == n - 1 and X.ndim == 2 and X.shape[1:] == X_ref.shape[1:] and np.array_equal(X, X_ref[1:]):
                fix = "the first window, series[0 : window], is missing: start at i = 0"
            elif made == n - 1 and X.ndim == 2 and X.shape[1:] == X_ref.shape[1:] and np.array_equal(X, X_ref[:-1]):
                fix = "the last window, whose target is the final value of the series, is missing"
            elif made < n:
                fix = "some windows are missing: i runs from 0 to length - window - horizon, both included"
            else:
                fix = "you made windows whose target lies past the end of the series"
            raise Mistake(f"you made {made} windows for {described}, expected "
                          f"{n} = length - window - horizon + 1: {fix}.")
        expect_shape(X, X_ref.shape, "X", f"({described})")
        expect_shape(y, y_ref.shape, "y", f"({described}): one target per window.")
        positions = np.arange(len(series), dtype=float)
        positional = np.array_equal(series, positions)
        if not np.array_equal(X, X_ref):
            if not positional and np.array_equal(X, make_windows(positions, window, horizon)[0]):
                raise Mistake(f"your windows hold positions (i, i + 1, ...), not the values of the series: "
                              f"X[i] = series[i : i + window] ({described}).")
            if window > 1 and np.array_equal(X, X_ref[:, ::-1]):
                raise Mistake(f"your windows are reversed, latest value first: X[i] = series[i : i + window] keeps "
                              f"the series' order, oldest first ({described}).")
            j = int(np.flatnonzero(~np.all(X == X_ref, axis=1))[0])
            which = f"the first {window} values" if j == 0 else f"series[{j}:{j + window}]"
            raise Mistake(f"window {j} should be {which} {X_ref[j].tolist()}, "
                          f"you gave {X[j].tolist()} ({described}).")
        if np.array_equal(y, X_ref[:, -1]):
            raise Mistake("each target is the last value of its own window: the model would be given "
                          f"the answer. The target of window i is series[i + window + horizon - 1] ({described}).")
        if horizon > 1 and np.array_equal(y, series[window:window + n]):
            raise Mistake(f"your targets are 1 step ahead although horizon={horizon}: the target "
                          "of window i is series[i + window + horizon - 1].")
        if not np.array_equal(y, y_ref):
            if not positional and np.array_equal(y, positions[window + horizon - 1:]):
                raise Mistake(f"your targets are positions (indices), not values of the series: y[i] = "
                              f"series[i + window + horizon - 1] ({described}).")
            j = int(np.flatnonzero(y != y_ref)[0])
            right = j + window + horizon - 1
            given = _index_of(float(y[j]), series, right)
            if given is not None:
                raise Mistake(f"the target of window {j} should be series[{right}], you gave "
                              f"series[{given}] (off by {given - right:+d} steps; {described}).")
            expect_close(y, y_ref, f"y for {described}", hint="y[i] = series[i + window + horizon - 1].")
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
        expected = next_char_distribution(counts, context, order, vocab_size, alpha)
        table = {key: row.copy() for key, row in counts.items()}
        got = as_array(call(answer, table, context, order, vocab_size, alpha, on=on), "your distribution")
        expect_shape(got, expected.shape, "your distribution", f"One probability per character ({on}).")
        if not np.all(np.isfinite(got)) or (got.sum() == 0 and expected.sum() > 0):
            raise Mistake(f"for {on} you returned {got.tolist()}. An unseen context has no counts: add "
                          "alpha to every count, so that every character gets some probability.")
        if abs(got.sum() - 1.0) > 1e-5:
            if np.all(got <= 0) and np.allclose(np.exp(got), expected, rtol=RTOL, atol=ATOL):
                raise Mistake(f"you returned log-probabilities (np.log of the distribution) for {on}: return the "
                              "probabilities themselves, which sum to 1.")
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
        if not np.allclose(got, expected, rtol=RTOL, atol=ATOL):
            message = named_mistake(got, _distribution_suspects(counts, context, order, vocab_size, alpha),
                                    lambda a, b: bool(np.allclose(a, b, rtol=RTOL, atol=ATOL)))
            if message:
                raise Mistake(f"{message} (Seen on {on}: you returned {np.round(got, 4).tolist()}.)")
        expect_close(got, expected, f"your distribution for {on}",
                     hint="P(c) = (count(context, c) + alpha) / (count(context) + alpha * vocab_size).")
    return len(cases)


def _distribution_suspects(counts: dict[str, np.ndarray], context: str, order: int, vocab_size: int,
                           alpha: float) -> list[tuple[np.ndarray, str]]:
    """What the plausible wrong answers return for one case, each with its message."""
    row = counts.get(last_chars(context, order), np.zeros(vocab_size))
    unsmoothed = row / row.sum() if row.sum() else np.full(vocab_size, 1.0 / vocab_size)
    seen = np.where(row > 0, row + alpha, 0.0)
    return [
        (unsmoothed, "your distribution is not smoothed: add alpha to every count (seen or not), "
                     "(count + alpha) / (total + alpha * vocab_size), so that no character gets probability 0."),
        (seen / seen.sum() if seen.sum() else None,
         "you added alpha only to the characters seen after this context: add it to every count, the unseen ones "
         "too, so that no character gets probability 0."),
    ]

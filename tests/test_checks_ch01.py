"""utils.checks.ch01: each checker passes the reference, tolerates a stub and names each mistake.

The wrong answers below are small functions of the kind a learner writes; each test
asserts on the phrase of the diagnostic that points at that particular mistake.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from checkerfailures import failure

from utils.checks.ch01 import check_bag_of_words, check_make_windows, check_next_char_distribution
from utils.models.ngram import next_char_distribution
from utils.data.text import bag_of_words
from utils.data.windows import make_windows


# Exercise 1.1: bag of words ---------------------------------------------------------------------


def bag_with_counter(tokens, vocab):
    vector = np.zeros(len(vocab))
    for word, count in Counter(tokens).items():
        if word in vocab:
            vector[vocab[word]] = count
    return vector.tolist()


def bag_marks_presence(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        if token in vocab:
            vector[vocab[token]] = 1
    return vector


def bag_sorted_vocab_positions(tokens, vocab):
    ordered = sorted(vocab)
    vector = np.zeros(len(vocab))
    for token in tokens:
        if token in vocab:
            vector[ordered.index(token)] += 1
    return vector


def bag_without_vocab_check(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        vector[vocab[token]] += 1
    return vector


def bag_unknown_into_last_slot(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        vector[vocab.get(token, -1)] += 1
    return vector


def bag_term_frequencies(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        if token in vocab:
            vector[vocab[token]] += 1 / len(tokens)
    return vector


def bag_one_entry_per_token(tokens, vocab):
    return [tokens.count(token) for token in tokens]


def bag_cached_on_first_word(tokens, vocab, _cache={}):  # noqa: B006 - the learner's shared cache
    key = tokens[0] if tokens else ""
    if key not in _cache:
        _cache[key] = bag_of_words(tokens, vocab)
    return _cache[key]


def test_bag_of_words_alternative_correct_answer_passes(capsys):
    check_bag_of_words(bag_with_counter)
    assert "passed all 7 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (bag_marks_presence, ["count occurrences", "do not just mark presence"]),
        (bag_sorted_vocab_positions, ["position in sorted(vocab), not at its id", "vocab['good'] = 0"]),
        (bag_without_vocab_check, ["raised KeyError", "'pizza'", "not in the vocabulary"]),
        (
            bag_unknown_into_last_slot,
            ["counted the 1 unknown word of ['good', 'pizza'] at index 4", "is skipped"],
        ),
        (bag_term_frequencies, ["divided the counts by the number of words", "frequencies"]),
        (bag_one_entry_per_token, ["shape (3,), expected (5,)", "one entry per vocabulary word"]),
        (bag_cached_on_first_word, ["reordering the words changed your vector", "must not depend on order"]),
    ],
)
def test_bag_of_words_mistakes_are_named(answer, phrases):
    message = failure(check_bag_of_words, answer)
    assert message.startswith("Exercise 1.1 (bag of words): ")
    for phrase in phrases:
        assert phrase in message


def bag_zips_sentence_order_with_sorted_counts(tokens, vocab):
    known = [token for token in tokens if token in vocab]
    _, counts = np.unique(known, return_counts=True)  # counts in alphabetical order of the words
    vector = np.zeros(len(vocab))
    for word, count in zip(dict.fromkeys(known), counts):  # noqa: B905 - ... but words in sentence order
        vector[vocab[word]] = count
    return vector


def test_zipping_sentence_order_with_sorted_counts_is_really_wrong():
    vocab = {"not": 3, "good": 0, "bad": 2, "food": 1, "was": 4}
    got = bag_zips_sentence_order_with_sorted_counts(["not", "good", "good"], vocab)
    assert not np.array_equal(got, bag_of_words(["not", "good", "good"], vocab))


def test_bag_of_words_catches_counts_paired_with_the_wrong_words():
    failure(check_bag_of_words, bag_zips_sentence_order_with_sorted_counts)


# Exercise 1.2: sliding windows ------------------------------------------------------------------


def windows_with_a_loop(series, window, horizon):
    X, y = [], []
    for start in range(len(series) - window - horizon + 1):
        X.append(series[start : start + window])
        y.append(series[start + window + horizon - 1])
    return np.array(X), np.array(y)


def windows_target_inside_window(series, window, horizon):
    X, y = [], []
    for start in range(len(series) - window - horizon + 1):
        X.append(series[start : start + window])
        y.append(series[start + window - 1])
    return np.array(X), np.array(y)


def windows_missing_the_last(series, window, horizon):
    X, y = [], []
    for start in range(len(series) - window - horizon):
        X.append(series[start : start + window])
        y.append(series[start + window + horizon - 1])
    return np.array(X), np.array(y)


def windows_one_too_many_with_roll(series, window, horizon):
    X = np.lib.stride_tricks.sliding_window_view(series, window)
    y = np.roll(series, -(window + horizon - 1))[: len(X)]
    return X, y


def windows_loop_one_too_far(series, window, horizon):
    X, y = [], []
    for start in range(len(series) - window - horizon + 2):
        X.append(series[start : start + window])
        y.append(series[start + window + horizon - 1])
    return np.array(X), np.array(y)


def windows_transposed(series, window, horizon):
    n = len(series) - window - horizon + 1
    X = np.array([series[offset : offset + n] for offset in range(window)])
    return X, series[window + horizon - 1 :]


def windows_ignore_horizon(series, window, horizon):
    n = len(series) - window - horizon + 1
    X = np.array([series[start : start + window] for start in range(n)])
    return X, series[window : window + n]


def windows_most_recent_first(series, window, horizon):
    X, y = make_windows(series, window, horizon)
    return X[:, ::-1], y


def windows_clamped_index(series, window, horizon):
    X, y = [], []
    for start in range(len(series) - window - horizon + 1):
        X.append(series[start : start + window])
        y.append(series[min(start + window + horizon, len(series) - 1)])
    return np.array(X), np.array(y)


def windows_as_a_list(series, window, horizon):
    return list(make_windows(series, window, horizon))


def test_make_windows_alternative_correct_answer_passes(capsys):
    check_make_windows(windows_with_a_loop)
    assert "passed all 6 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (
            windows_target_inside_window,
            ["the model would be given the answer", "series[i + window + horizon - 1]"],
        ),
        (windows_missing_the_last, ["you made 6 windows", "expected 7", "the last window", "is missing"]),
        (windows_one_too_many_with_roll, ["you made 8 windows", "expected 7", "past the end of the series"]),
        (windows_loop_one_too_far, ["raised IndexError", "series=np.arange(10), window=3, horizon=1"]),
        (windows_transposed, ["X has shape (3, 7), expected (7, 3)", "transpose"]),
        (windows_ignore_horizon, ["1 step ahead although horizon=3"]),
        (
            windows_most_recent_first,
            ["your windows are reversed, latest value first", "series=np.arange(10), window=3"],
        ),
        (windows_clamped_index, ["should be series[3], you gave series[4]", "off by +1 steps"]),
        (windows_as_a_list, ["return a pair (X, y); you returned list"]),
    ],
)
def test_make_windows_mistakes_are_named(answer, phrases):
    message = failure(check_make_windows, answer)
    assert message.startswith("Exercise 1.2 (sliding windows): ")
    for phrase in phrases:
        assert phrase in message


# Exercise 1.3: n-gram next-character distribution -----------------------------------------------


def distribution_normalised_after_smoothing(counts, context, order, vocab_size, alpha):
    key = context[len(context) - order :] if order else ""
    smoothed = np.asarray(counts.get(key, np.zeros(vocab_size))) + alpha
    return smoothed / smoothed.sum()


def distribution_negative_zero_slice(counts, context, order, vocab_size, alpha):
    observed = counts.get(context[-order:], np.zeros(vocab_size))
    return (observed + alpha) / (observed.sum() + alpha * vocab_size)


def distribution_first_characters(counts, context, order, vocab_size, alpha):
    observed = counts.get(context[:order], np.zeros(vocab_size))
    return (observed + alpha) / (observed.sum() + alpha * vocab_size)


def distribution_zero_for_unseen(counts, context, order, vocab_size, alpha):
    observed = counts.get(context[len(context) - order :] if order else "")
    if observed is None:
        return np.zeros(vocab_size)
    return (observed + alpha) / (observed.sum() + alpha * vocab_size)


def distribution_alpha_once_in_denominator(counts, context, order, vocab_size, alpha):
    observed = counts.get(context[len(context) - order :] if order else "", np.zeros(vocab_size))
    return (observed + alpha) / (observed.sum() + alpha)


def distribution_without_smoothing_when_seen(counts, context, order, vocab_size, alpha):
    observed = counts.get(context[len(context) - order :] if order else "")
    if observed is None:
        return np.full(vocab_size, 1.0 / vocab_size)
    return observed / observed.sum()


def test_next_char_distribution_alternative_correct_answer_passes(capsys):
    check_next_char_distribution(distribution_normalised_after_smoothing)
    assert "passed all 6 checks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (distribution_negative_zero_slice, ["with order 0 the context must be ignored", "context[-0:]"]),
        (
            distribution_first_characters,
            ["you looked up the start of the context ('b' from 'ba')", "uses the last 1 character: 'a'"],
        ),
        (distribution_zero_for_unseen, ["context='dd'", "add alpha to every count"]),
        (
            distribution_alpha_once_in_denominator,
            ["sum to 1.2727, not 1", "plus alpha times the vocabulary size"],
        ),
        (distribution_without_smoothing_when_seen, ["not smoothed", "add alpha to every count"]),
    ],
)
def test_next_char_distribution_mistakes_are_named(answer, phrases):
    message = failure(check_next_char_distribution, answer)
    assert message.startswith("Exercise 1.3 (n-gram next-character distribution): ")
    for phrase in phrases:
        assert phrase in message


# Inputs that tell answers apart, results the checker must read without crashing, inputs left alone ---


def bag_breaks_at_unknown_word(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        if token not in vocab:
            break  # meant `continue`
        vector[vocab[token]] += 1
    return vector


def bag_returns_at_unknown_word(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        if token not in vocab:
            return vector
        vector[vocab[token]] += 1
    return vector


def bag_consumes_the_sentence(tokens, vocab):
    vector = np.zeros(len(vocab))
    while tokens:
        token = tokens.pop()
        if token in vocab:
            vector[vocab[token]] += 1
    return vector


def windows_of_positions(series, window, horizon):
    n = len(series) - window - horizon + 1
    X = np.array([np.arange(i, i + window) for i in range(n)], dtype=float)  # the indices, never read
    return X, series[window + horizon - 1 :]


def windows_targets_as_positions(series, window, horizon):
    n = len(series) - window - horizon + 1
    X = np.array([series[i : i + window] for i in range(n)])
    return X, np.arange(window + horizon - 1, len(series), dtype=float)


def windows_none_found(series, window, horizon):
    X, y = [], []
    for start in range(len(series) - window - horizon + 1, len(series) - window - horizon + 1):
        X.append(series[start : start + window])
    return np.array(X), np.array(y)


def windows_targets_as_a_column(series, window, horizon):
    X, y = make_windows(series, window, horizon)
    return X, y[:, None]


def windows_with_a_channel_axis(series, window, horizon):
    X, y = make_windows(series, window, horizon)
    return X[:, :, None], y  # the (n, window, 1) layout of a Keras recurrent layer, one chapter early


def windows_scalar_target(series, window, horizon):
    X, y = make_windows(series, window, horizon)
    return X, float(y[0])


def windows_nan_targets(series, window, horizon):
    X, y = make_windows(series, window, horizon)
    return X, np.full(len(y), np.nan)


def windows_one_step_only(series, window, horizon):
    if horizon != 1:
        raise NotImplementedError
    return make_windows(series, window, horizon)


def distribution_smooths_the_table_in_place(counts, context, order, vocab_size, alpha):
    observed = counts.get(context[len(context) - order :] if order else "", np.zeros(vocab_size))
    observed += alpha  # writes into the table of counts
    return observed / observed.sum()


@pytest.mark.parametrize(
    ("check", "answer", "phrases"),
    [
        (check_bag_of_words, bag_breaks_at_unknown_word,
         ["stops at the first word that is not in the vocabulary", "'pizza'", "`continue`"]),
        (check_bag_of_words, bag_returns_at_unknown_word, ["stops at the first word that is not in the vocabulary"]),
        (check_bag_of_words, bag_consumes_the_sentence, ["changed its input `tokens` in place"]),
        (check_make_windows, windows_of_positions, ["your windows hold positions", "15 random values"]),
        (check_make_windows, windows_targets_as_positions, ["your targets are positions (indices)", "random values"]),
        (check_make_windows, windows_none_found, ["returned no windows", "there are length - window - horizon + 1 = 7"]),
        (check_make_windows, windows_targets_as_a_column, ["y should be a 1-D array", "shape (7, 1)"]),
        (check_make_windows, windows_with_a_channel_axis, ["X should be a 2-D array", "shape (7, 3, 1)"]),
        (check_make_windows, windows_scalar_target, ["y should be a 1-D array", "shape ()"]),
        (check_make_windows, windows_nan_targets, ["y for series=np.arange(10)", "contains NaN"]),
        (check_make_windows, windows_one_step_only,
         ["unfinished", "NotImplementedError on series=np.arange(12), window=4, horizon=3", "earlier case passed"]),
        (check_next_char_distribution, distribution_smooths_the_table_in_place,
         ["changed its input `counts['a']` in place"]),
    ],
)
def test_newly_caught_mistakes_are_named(check, answer, phrases):
    message = failure(check, answer)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_make_windows_off_by_one_on_a_shuffled_series_names_the_steps():
    def late_on_data_only(series, window, horizon):
        X, y = make_windows(series, window, horizon)
        if np.array_equal(series, np.arange(len(series))):
            return X, y
        return X, np.append(y[1:], series[-1])  # one step late, read from the values

    message = failure(check_make_windows, late_on_data_only)
    assert "the target of window 0 should be series[5], you gave series[6]" in message
    assert "off by +1 steps" in message


# Issue 31: mistakes that got only the generic message, or whose fallback assumed one cause


def bag_in_dict_order(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        if token in vocab:
            vector[list(vocab).index(token)] += 1
    return vector


def bag_unknown_into_slot_zero(tokens, vocab):
    vector = np.zeros(len(vocab))
    for token in tokens:
        vector[vocab.get(token, 0)] += 1
    return vector


def windows_from_one(series, window, horizon):
    X, y = make_windows(series, window, horizon)
    return X[1:], y[1:]


def distribution_smoothed_where_seen(counts, context, order, vocab_size, alpha):
    row = counts.get(context[len(context) - order:] if order else "", np.zeros(vocab_size))
    smoothed = np.where(row > 0, row + alpha, 0.0)
    return smoothed / smoothed.sum() if smoothed.sum() else np.full(vocab_size, 1.0 / vocab_size)


def distribution_in_logs(counts, context, order, vocab_size, alpha):
    row = counts.get(context[len(context) - order:] if order else "", np.zeros(vocab_size))
    return np.log((row + alpha) / (row.sum() + alpha * vocab_size))


@pytest.mark.parametrize(
    ("check", "answer", "phrases"),
    [
        (check_bag_of_words, bag_in_dict_order, ["position in list(vocab), not at its id", "Use vocab[word]"]),
        (check_bag_of_words, bag_unknown_into_slot_zero, ["unknown word of ['good', 'pizza'] at index 0",
                                                          "vocab.get(word, 0)"]),
        (check_make_windows, windows_from_one, ["the first window, series[0 : window], is missing"]),
        (check_next_char_distribution, distribution_smoothed_where_seen, ["added alpha only to the characters seen"]),
        (check_next_char_distribution, distribution_in_logs, ["you returned log-probabilities"]),
    ],
    ids=["dict order", "unknown at 0", "first window missing", "alpha where seen", "logs"],
)
def test_issue_31_mistakes_are_named(check, answer, phrases):
    message = failure(check, answer)
    for phrase in phrases:
        assert phrase in message, message


def test_the_first_window_missing_is_not_called_the_last():
    assert "the last window" not in failure(check_make_windows, windows_from_one)

"""utils.data.repeats: suffix arrays, context match lengths and matching statistics, against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from utils.data import loaders, repeats


def brute_context_matches(text: str, start: int) -> list[int]:
    """The definition, quadratically: the longest context before p that also ends at some q < p."""
    found = []
    for p in range(start, len(text)):
        best = 0
        for length in range(1, p + 1):
            context = text[p - length:p]
            if any(text[q - length:q] == context for q in range(length, p)):
                best = length
            else:
                break
        found.append(best)
    return found


def brute_match_lengths(text: str, reference: str) -> list[int]:
    return [max(length for length in range(len(text) - i + 1) if text[i:i + length] in reference)
            for i in range(len(text))]


def random_texts(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        letters = int(rng.integers(1, 4))  # few letters: many repeats, long ties
        yield "".join("abcd"[k] for k in rng.integers(0, letters, int(rng.integers(1, 40))))


def test_the_suffix_array_sorts_the_suffixes_and_its_blocks_rank_them():
    for text in [*random_texts(60), "mississippi", "a" * 33, "abracadabra" * 4]:
        suffixes = repeats.suffix_array(text)
        assert [text[i:] for i in suffixes.order] == sorted(text[i:] for i in range(len(text)))
        np.testing.assert_array_equal(suffixes.rank[suffixes.order], np.arange(len(text)))
        i, j = np.meshgrid(np.arange(len(text)), np.arange(len(text)))
        expected = [[next((k for k, (x, y) in enumerate(zip(text[a:], text[b:])) if x != y),
                          min(len(text) - a, len(text) - b)) for a in range(len(text))] for b in range(len(text))]
        different = i != j  # (a suffix compared with itself is not a question the lookups ask)
        np.testing.assert_array_equal(suffixes.common_prefix(i, j)[different], np.array(expected)[different])


def test_context_match_lengths_equal_the_definition():
    rng = np.random.default_rng(1)
    for text in [*random_texts(200, seed=2), "abcabcabc", "aaaa"]:
        start = int(rng.integers(1, len(text) + 1))
        assert repeats.context_match_lengths(text, start).tolist() == brute_context_matches(text, start), text


def test_context_match_lengths_take_ids_and_see_a_repeat_of_the_training_text():
    ids = np.array([5, 1, 2, 3, 4, 9, 1, 2, 3, 4, 7])
    # Predicting the 4 after "1 2 3": the context "1 2 3" occurred before, after "5"; "9 1 2 3" did not.
    assert repeats.context_match_lengths(ids, 9).tolist() == [3, 4]


def test_match_lengths_equal_the_definition_and_stay_inside_the_reference():
    rng = np.random.default_rng(3)
    for text in random_texts(200, seed=4):
        reference = "".join("abcd"[k] for k in rng.integers(0, 3, int(rng.integers(1, 30))))
        assert repeats.match_lengths(text, reference).tolist() == brute_match_lengths(text, reference)
    # The text that follows the reference inside the joined string never counts as reference.
    assert repeats.match_lengths("abab", "ab").tolist() == [2, 1, 2, 1]


def test_verbatim_shares_and_longest_shared():
    assert repeats.verbatim_shares("abcxabc", "zabcz", [3, 1]) == {3: pytest.approx(2 / 5), 1: pytest.approx(6 / 7)}
    assert repeats.longest_shared("the cat sat", "a cat sat on") == len(" cat sat")
    assert repeats.longest_shared_each(["the cat", "dog", "a", ""], "a cat and a dog").tolist() == [4, 3, 1, 0]


def test_the_course_text_in_seconds_and_a_long_repeat():
    corpus = loaders.load_python_docs_text()[:60_000]
    text = corpus + corpus[10_000:12_000]  # the tail repeats 2,000 characters seen before
    lengths = repeats.context_match_lengths(text, len(corpus))
    assert lengths[-1] >= 1_999 and lengths[:5].max() < 1_000
    assert repeats.verbatim_shares(corpus[10_000:12_000], corpus, [50]) == {50: 1.0}


@pytest.mark.parametrize(("call", "error", "phrase"), [
    (lambda: repeats.suffix_array(""), ValueError, "text is empty"),
    (lambda: repeats.suffix_array(np.zeros((2, 2), dtype=int)), ValueError, "1-D"),
    (lambda: repeats.suffix_array(np.array([0.5, 1.0])), TypeError, "whole-number ids"),
    (lambda: repeats.suffix_array(np.array([1, -2])), ValueError, "negative id"),
    (lambda: repeats.context_match_lengths("abc", 0), ValueError, "start must be a whole number from 1"),
    (lambda: repeats.match_lengths("", "abc"), ValueError, "text is empty"),
    (lambda: repeats.match_lengths("abc", ""), ValueError, "reference is empty"),
    (lambda: repeats.verbatim_shares("abc", "abc", [0]), ValueError, "lengths must be whole numbers"),
    (lambda: repeats.verbatim_shares("abc", "abc", []), ValueError, "lengths must be whole numbers"),
    (lambda: repeats.verbatim_shares("ab", "abc", [3]), ValueError, "fewer than one string"),
    (lambda: repeats.longest_shared_each([], "abc"), ValueError, "texts must be a non-empty list"),
    (lambda: repeats.longest_shared_each(["a"], ""), ValueError, "reference is empty"),
])
def test_errors_say_what_is_wrong(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_the_end_of_the_text_needs_no_match():
    assert repeats.context_match_lengths("abab", 4).tolist() == []

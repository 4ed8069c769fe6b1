"""utils.data.text: word tokens, a word vocabulary, bags of words and a character vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from utils.data.text import CharVocab, bag_of_words, build_word_vocab, words


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The food was GOOD!", ["the", "food", "was", "good"]),
        ("Don't stop, 2 times.", ["don't", "stop", "2", "times"]),
        ("  --  ", []),
        ("", []),
    ],
)
def test_words_are_lower_case_tokens(sentence, expected):
    assert words(sentence) == expected


def test_word_vocab_is_sorted_and_deduplicated():
    vocab = build_word_vocab(["Food was good.", "The food was bad", "not bad"])
    assert vocab == {"bad": 0, "food": 1, "good": 2, "not": 3, "the": 4, "was": 5}


def test_word_vocab_of_nothing_is_empty():
    assert build_word_vocab([]) == {}


def test_bag_of_words_counts_each_word_at_its_index():
    vocab = {"good": 0, "food": 1, "bad": 2, "not": 3}
    vector = bag_of_words(["not", "good", "good", "food", "good"], vocab)
    assert vector.dtype == np.float32
    np.testing.assert_array_equal(vector, [3, 1, 0, 1])


def test_bag_of_words_skips_unknown_words_and_ignores_order():
    vocab = {"a": 0, "b": 1}
    np.testing.assert_array_equal(bag_of_words(["b", "zzz", "a", "b"], vocab), [1, 2])
    np.testing.assert_array_equal(bag_of_words(["a", "b", "b"], vocab), bag_of_words(["b", "b", "a"], vocab))


def test_bag_of_words_of_an_empty_sentence_is_all_zeros():
    np.testing.assert_array_equal(bag_of_words([], {"a": 0, "b": 1, "c": 2}), [0, 0, 0])


def test_char_vocab_orders_by_frequency_then_character():
    vocab = CharVocab("banana bread")
    assert vocab.chars == ["a", "b", "n", " ", "d", "e", "r"]
    assert vocab.index["a"] == 0
    assert len(vocab) == 7


@pytest.mark.parametrize("text", ["banana", "a b\nc", "", "ünï ✓"])
def test_char_vocab_encode_decode_round_trip(text):
    vocab = CharVocab("banana a b\nc ünï ✓")
    ids = vocab.encode(text)
    assert ids.dtype == np.int32
    assert ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert vocab.decode(ids.tolist()) == text


def test_char_vocab_encodes_known_ids():
    vocab = CharVocab("aab")
    np.testing.assert_array_equal(vocab.encode("baa"), [1, 0, 0])


def test_char_vocab_rejects_an_unknown_character():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match=r"character 'z' is not in this vocabulary of 3 characters"):
        vocab.encode("abz")


def test_char_vocab_needs_a_text():
    with pytest.raises(ValueError, match="non-empty text"):
        CharVocab("")

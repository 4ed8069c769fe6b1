"""utils.data.bpe: the merge step against a slow definition, learning, encoding and decoding, the word
boundary, tie-breaking, bits per character, and bad input."""

import numpy as np
import pytest

from references import merge_left_to_right
from utils.data import bpe


def test_merge_pair_equals_its_definition_on_random_sequences():
    rng = np.random.default_rng(0)
    for _ in range(400):
        ids = rng.integers(0, 3, size=rng.integers(0, 25)).tolist()
        pair = tuple(rng.integers(0, 3, size=2).tolist())
        assert bpe.merge_pair(ids, pair, 9).tolist() == merge_left_to_right(ids, pair, 9), (ids, pair)


def test_merge_pair_runs_of_a_repeated_id_merge_left_to_right():
    assert bpe.merge_pair([1, 1, 1], (1, 1), 5).tolist() == [5, 1]
    assert bpe.merge_pair([1, 1, 1, 1], (1, 1), 5).tolist() == [5, 5]
    assert bpe.merge_pair([2, 1, 1, 1, 2, 1, 1], (1, 1), 5).tolist() == [2, 5, 1, 2, 5]


def test_merge_pair_leaves_its_input_alone_and_refuses_2d():
    ids = np.array([3, 4, 3, 4])
    assert bpe.merge_pair(ids, (3, 4), 7).tolist() == [7, 7]
    assert ids.tolist() == [3, 4, 3, 4]
    with pytest.raises(ValueError, match="1-D"):
        bpe.merge_pair(np.zeros((2, 3), dtype=int), (0, 0), 1)


def test_pair_counts_count_overlapping_pairs():
    counts = bpe.pair_counts(np.array([0, 0, 0, 1]), 2)
    assert counts.tolist() == [[2, 1], [0, 0]]


def test_learned_merges_round_trip_and_repeat_training():
    text = "the cat sat on the mat; the hat is that hat. " * 20
    tokenizer = bpe.learn_bpe(text, 30)
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert len(ids) < len(text) / 2
    assert len(tokenizer) == len(set(text)) + len(tokenizer.merges)
    assert all(count >= 2 for count in tokenizer.counts)
    unseen = "the mat sat on that cat."
    assert tokenizer.decode(tokenizer.encode(unseen)) == unseen


def test_the_first_merge_is_the_most_frequent_pair_and_ties_go_to_the_smaller_ids():
    tokenizer = bpe.learn_bpe("abab cdcd", 1)       # ab and ba twice, cd twice: (a, b) has the smallest ids
    a, b = tokenizer.alphabet.index("a"), tokenizer.alphabet.index("b")
    assert tokenizer.merges == [(a, b)]
    assert tokenizer.tokens[-1] == "ab"


def test_tokens_never_join_the_end_of_a_word_with_the_next_word():
    text = "go. go. go. go. go. go. an an an an"
    tokenizer = bpe.learn_bpe(text, 40)
    for token in tokenizer.tokens:
        stripped = token.lstrip()
        assert not any(char.isspace() for char in stripped), token
    assert " go." in tokenizer.tokens and " an" in tokenizer.tokens


def test_learning_stops_when_no_pair_repeats():
    tokenizer = bpe.learn_bpe("abcdef", 10)
    assert tokenizer.merges == []


def test_bad_input_is_a_sentence():
    with pytest.raises(ValueError, match="non-empty training text"):
        bpe.learn_bpe("", 10)
    for merges in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="at least 1"):
            bpe.learn_bpe("abab", merges)
    tokenizer = bpe.learn_bpe("abab", 1)
    with pytest.raises(ValueError, match="'z' is not in this tokenizer's alphabet"):
        tokenizer.encode("abz")
    with pytest.raises(ValueError, match="at least one character"):
        bpe.bits_per_character(3.0, 0)


def test_an_alphabet_given_fixes_the_first_ids():
    tokenizer = bpe.learn_bpe("abab", 1, alphabet="zba")
    assert tokenizer.alphabet == ["z", "b", "a"]
    assert tokenizer.encode("z").tolist() == [0]


def test_bits_per_character_divides_by_characters_not_tokens():
    assert bpe.bits_per_character(np.array([2.0, 4.0]), 3) == pytest.approx(2.0)
    assert bpe.bits_per_character(6.0, 3) == pytest.approx(2.0)

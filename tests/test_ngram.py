"""utils.models.ngram: counting n-grams, smoothed next-character distributions and the model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils.models.ngram import NGramModel, count_ngrams, last_chars, next_char_distribution
from utils.data.text import CharVocab


@pytest.mark.parametrize(
    ("context", "order", "expected"),
    [("hello", 0, ""), ("hello", 1, "o"), ("hello", 3, "llo"), ("hello", 5, "hello"), ("", 0, "")],
)
def test_last_chars(context, order, expected):
    assert last_chars(context, order) == expected


def test_last_chars_of_a_context_shorter_than_the_order_is_the_whole_context():
    assert last_chars("ab", 3) == "ab"


def test_count_ngrams_order_1():
    vocab = CharVocab("abab")  # a -> 0, b -> 1
    counts = count_ngrams("abaab", 1, vocab)
    assert set(counts) == {"a", "b"}
    np.testing.assert_array_equal(counts["a"], [1, 2])
    np.testing.assert_array_equal(counts["b"], [1, 0])


def test_count_ngrams_order_0_counts_characters():
    vocab = CharVocab("abc")
    counts = count_ngrams("abcab", 0, vocab)
    assert list(counts) == [""]
    np.testing.assert_array_equal(counts[""], [2, 2, 1])


def test_count_ngrams_of_a_text_shorter_than_the_order_is_empty():
    assert count_ngrams("ab", 3, CharVocab("ab")) == {}


def test_count_ngrams_rejects_a_negative_order():
    with pytest.raises(ValueError, match="order must be 0 or more, got -1"):
        count_ngrams("abc", -1, CharVocab("abc"))


def test_next_char_distribution_smooths_seen_counts():
    counts = {"a": np.array([1.0, 3.0, 0.0])}
    probs = next_char_distribution(counts, "xa", order=1, vocab_size=3, alpha=1.0)
    np.testing.assert_allclose(probs, [2 / 7, 4 / 7, 1 / 7])


def test_next_char_distribution_is_uniform_for_an_unseen_context():
    probs = next_char_distribution({"a": np.array([5.0, 0.0])}, "b", order=1, vocab_size=2, alpha=0.3)
    np.testing.assert_allclose(probs, [0.5, 0.5])


def test_next_char_distribution_ignores_the_context_at_order_0():
    counts = {"": np.array([3.0, 1.0])}
    probs = next_char_distribution(counts, "anything", order=0, vocab_size=2, alpha=0.5)
    np.testing.assert_allclose(probs, [3.5 / 5, 1.5 / 5])


def _tiny_model(order: int) -> NGramModel:
    """Fitted on "aab" with alpha 1; the vocabulary is a -> 0, b -> 1."""
    return NGramModel(order, CharVocab("aab"), alpha=1.0).fit("aab")


def test_evaluate_order_0_by_hand():
    # Counts a: 2, b: 1, so P(a) = (2 + 1) / (3 + 2) = 3/5 and P(b) = 2/5 whatever the context.
    result = _tiny_model(0).evaluate("ab")
    assert result["bits_per_char"] == pytest.approx((-math.log2(3 / 5) - math.log2(2 / 5)) / 2)
    assert result["accuracy"] == pytest.approx(0.5)  # always predicts 'a'
    assert result["unseen_contexts"] == 0.0


def test_evaluate_order_1_by_hand():
    # Training "aab" gives one context, "a", followed once by a and once by b: P = 1/2 each.
    # On "aba": 'b' after "a" costs 1 bit; 'a' after the unseen "b" is uniform, 1 bit.
    model = _tiny_model(1)
    assert model.n_contexts() == 1
    result = model.evaluate("aba")
    assert result["bits_per_char"] == pytest.approx(1.0)
    assert result["accuracy"] == pytest.approx(0.5)  # ties go to 'a': wrong after "a", right after "b"
    assert result["unseen_contexts"] == pytest.approx(0.5)


def test_unseen_contexts_fraction_counts_every_predicted_position():
    model = NGramModel(2, CharVocab("abcd"), alpha=0.1).fit("abcabc")
    # Contexts on "abcd": "ab" (seen), "bc" (seen); on "dabd": "da", "ab" (seen) -> 1 of 2 unseen.
    assert model.evaluate("abcd")["unseen_contexts"] == 0.0
    assert model.evaluate("dabd")["unseen_contexts"] == pytest.approx(0.5)


def test_higher_order_fits_a_repetitive_text_better():
    text = "the cat sat on the mat. " * 20
    vocab = CharVocab(text)
    bits = [
        NGramModel(order, vocab, alpha=0.01).fit(text).evaluate(text)["bits_per_char"] for order in (0, 1, 3)
    ]
    assert bits[0] > bits[1] > bits[2]


def test_distribution_sums_to_one_and_uses_the_fitted_counts():
    model = NGramModel(1, CharVocab("abc"), alpha=0.5).fit("abcabc")
    probs = model.distribution("xyzab")
    assert probs.sum() == pytest.approx(1.0)
    assert int(np.argmax(probs)) == model.vocab.index["c"]


def test_fit_returns_the_model():
    model = NGramModel(1, CharVocab("ab"))
    assert model.fit("abab") is model
    assert model.alpha == 0.1


@pytest.mark.parametrize("alpha", [0.0, -0.5])
def test_alpha_must_be_positive(alpha):
    with pytest.raises(ValueError, match=f"alpha must be positive.*got {alpha}"):
        NGramModel(1, CharVocab("ab"), alpha=alpha)


@pytest.mark.parametrize(("order", "text"), [(0, ""), (2, "ab"), (3, "a")])
def test_evaluate_rejects_a_text_too_short_for_the_order(order, text):
    model = NGramModel(order, CharVocab("ab")).fit("abab")
    with pytest.raises(ValueError, match=f"length {len(text)} is too short for an order-{order} model"):
        model.evaluate(text)

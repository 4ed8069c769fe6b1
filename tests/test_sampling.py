"""utils.decoding.sampling: samplers, temperature, truncation, the generation loop and text measures."""

from __future__ import annotations

import numpy as np
import pytest

from utils.decoding import sampling as s
from utils.data.text import CharVocab

P = np.array([0.05, 0.4, 0.1, 0.3, 0.15])  # most likely: 1, 3, 4, 2, 0
BATCH = np.array([P, P[::-1], [0.0, 0.0, 1.0, 0.0, 0.0]])


def test_greedy_picks_the_most_likely_and_breaks_ties_by_the_lower_id():
    assert s.greedy(P) == 1
    assert s.greedy([0.4, 0.2, 0.4]) == 0
    np.testing.assert_array_equal(s.greedy(BATCH), [1, 3, 2])


@pytest.mark.parametrize("draw", [
    lambda p, g: s.sample(p, g), lambda p, g: s.sample_with_temperature(p, 0.7, g),
    lambda p, g: s.sample_top_k(p, 3, g), lambda p, g: s.sample_top_p(p, 0.8, g),
])
def test_seeded_samplers_repeat(draw):
    first = [draw(BATCH, np.random.default_rng(3)).tolist() for _ in range(2)]
    assert first[0] == first[1]
    assert draw(P, 5) == draw(P, 5)


def test_a_tiny_temperature_is_greedy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        np.testing.assert_array_equal(s.sample_with_temperature(BATCH, 1e-6, rng), s.greedy(BATCH))


def test_temperature_on_logits_and_on_probabilities_agree():
    logits = np.log(P) + 2.0
    for t in (0.5, 1.0, 2.0):
        expected = P ** (1 / t) / (P ** (1 / t)).sum()
        np.testing.assert_allclose(s.apply_temperature(P, t), expected, rtol=1e-12)
        np.testing.assert_allclose(s.apply_temperature(logits=logits, temperature=t), expected, rtol=1e-12)
    assert s.apply_temperature(P, 1e-3)[1] == pytest.approx(1.0)
    np.testing.assert_allclose(s.apply_temperature(P, 1e6), 0.2, atol=1e-5)


def test_top_p_of_one_is_plain_sampling_and_top_k_of_one_is_greedy():
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(50):
        assert s.sample_top_p(BATCH, 1.0, a).tolist() == s.sample(BATCH, b).tolist()
    for seed in range(20):
        assert s.sample_top_k(BATCH, 1, seed).tolist() == s.greedy(BATCH).tolist()


def test_plain_sampling_matches_the_distribution():
    n = 40_000
    ids = s.sample(np.tile(P, (n, 1)), 1)
    counts = np.bincount(ids, minlength=len(P))
    chi2 = (((counts - n * P) ** 2) / (n * P)).sum()
    assert chi2 < 20.5  # the 99.96th percentile of chi-square with 4 degrees of freedom


def test_top_k_never_draws_outside_the_k_most_likely():
    ids = s.sample_top_k(np.tile(P, (5000, 1)), 2, 0)
    assert set(ids.tolist()) == {1, 3}
    np.testing.assert_allclose(s.top_k_filter(P, 2), [0, 0.4 / 0.7, 0, 0.3 / 0.7, 0])
    np.testing.assert_allclose(s.top_k_filter(P, 99), P)


@pytest.mark.parametrize(("p", "kept"), [(0.4, {1}), (0.41, {1, 3}), (0.7, {1, 3}), (0.71, {1, 3, 4}),
                                         (0.9, {1, 3, 4, 2}), (0.96, {0, 1, 2, 3, 4}), (0.01, {1})])
def test_nucleus_keeps_the_smallest_set_that_reaches_p(p, kept):
    filtered = s.top_p_filter(P, p)
    assert set(np.flatnonzero(filtered).tolist()) == kept
    assert filtered.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(filtered[list(kept)], P[list(kept)] / P[list(kept)].sum())


def test_make_sampler():
    g = np.random.default_rng(0)
    assert s.make_sampler("greedy")(P, g) == 1
    assert s.make_sampler("top_k", k=1)(P, g) == 1
    assert s.make_sampler("top_p", p=0.3)(P, g) == 1
    assert 0 <= s.make_sampler("sample", temperature=0.8)(P, g) < 5


def _counter_step(last_id, state):
    """A toy model: the next id is last + 1 (mod 5) for sure; the state counts the steps read."""
    probs = np.zeros(5)
    probs[(last_id + 1) % 5] = 1.0
    return probs, (state or 0) + 1


def test_generate_feeds_the_prompt_once_and_carries_the_state():
    seen = []

    def step(last_id, state):
        seen.append((last_id, state))
        return _counter_step(last_id, state)

    out = s.generate(step, [2, 3], 4, s.greedy, vocab_size=5)
    np.testing.assert_array_equal(out, [4, 0, 1, 2])
    assert seen == [(2, None), (3, 1), (4, 2), (0, 3), (1, 4), (2, 5)]
    assert s.generate(step, [1], 0, vocab_size=5).shape == (0,)


def test_generate_text():
    vocab = CharVocab("abcde")
    assert len(s.generate_text(_counter_step, "ab", 3, vocab, rng=0)) == 3


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda: s.generate(_counter_step, [], 3, vocab_size=5), ValueError, "non-empty"),
        (lambda: s.generate(_counter_step, [7], 3, vocab_size=5), ValueError, "outside the vocabulary"),
        (lambda: s.generate(_counter_step, [1.5], 3, vocab_size=5), TypeError, "whole numbers"),
        (lambda: s.generate(lambda i, st: (np.ones(5), st), [1], 3, vocab_size=5), ValueError,
         "not a distribution"),
        (lambda: s.generate_text(_counter_step, "", 3, CharVocab("abc")), ValueError, "non-empty str"),
        (lambda: s.generate_text(_counter_step, "q", 3, CharVocab("abcde")), ValueError, "not in this vocabulary"),
        (lambda: s.apply_temperature(P, 0.0), ValueError, "temperature must be a finite number > 0"),
        (lambda: s.sample_with_temperature(P, -1.0), ValueError, "temperature"),
        (lambda: s.sample_top_k(P, 0), ValueError, "k must be at least 1"),
        (lambda: s.sample_top_k(P, 2.0), TypeError, "k must be a whole number"),
        (lambda: s.sample_top_p(P, 0.0), ValueError, r"p must lie in \(0, 1\]"),
        (lambda: s.sample_top_p(P, 1.5), ValueError, r"p must lie in \(0, 1\]"),
        (lambda: s.sample([0.5, 0.6]), ValueError, "not a distribution"),
        (lambda: s.sample([-0.5, 1.5]), ValueError, "negative"),
        (lambda: s.sample([np.nan, 1.0]), ValueError, "NaN"),
        (lambda: s.sample(np.ones((2, 2, 2)) / 2), ValueError, "shape"),
        (lambda: s.apply_temperature(P, 1.0, logits=P), ValueError, "exactly one"),
        (lambda: s.make_sampler("beam"), ValueError, "method must be one of"),
        (lambda: s.make_sampler("top_k"), ValueError, "needs k"),
        (lambda: s.sample(P, rng=-3), TypeError, "rng must be"),
    ],
)
def test_errors_say_what_is_wrong(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_distinct_ngram_share():
    assert s.distinct_ngram_share("abcdefgh", 4) == 1.0
    assert s.distinct_ngram_share("abababab", 4) == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match="too few"):
        s.distinct_ngram_share("abc", 4)


def test_known_word_share():
    assert s.known_word_share("The cat sat, the dog ran", "the cat sat on a mat") == pytest.approx(4 / 6)
    assert s.known_word_share("cat", s.word_set("A CAT")) == 1.0
    with pytest.raises(ValueError, match="no words"):
        s.known_word_share("123 !!", "the cat")

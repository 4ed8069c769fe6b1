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
        (lambda: s.sample_from_logits([-np.inf] * 3, 1.0, np.random.default_rng(0)), ValueError,
         "-inf everywhere: every id is masked out"),
        (lambda: s.apply_temperature(logits=[[0.0, -np.inf], [-np.inf, -np.inf]]), ValueError,
         "-inf everywhere"),
        (lambda: s.softmax(np.full(4, -np.inf)), ValueError, "leave at least one id with a finite logit"),
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


# Many samples at once, and their spread ----------------------------------------------------------------

def bigram_step(table):
    """A batched step function over a fixed table of next-id distributions (the state: nothing)."""
    table = np.asarray(table, dtype=float)
    return lambda last_ids, state: (table[np.asarray(last_ids)], state)


def test_generate_batch_reads_each_prompt_then_samples_and_stops():
    cycle = bigram_step(np.roll(np.eye(4), 1, axis=1))  # always the next id, 0 -> 1 -> 2 -> 3 -> 0
    ids, own = s.generate_batch(cycle, [[0], [2, 3, 0, 1]], 5, s.greedy, vocab_size=4)
    assert [row.tolist() for row in ids] == [[1, 2, 3, 0, 1], [2, 3, 0, 1, 2]]
    np.testing.assert_allclose(np.concatenate(own), 1.0)
    ids, _ = s.generate_batch(cycle, [[0], [3]], 9, s.greedy, vocab_size=4, stop=[3, 0])
    assert [row.tolist() for row in ids] == [[1, 2, 3, 0], [0, 1, 2, 3, 0]]
    assert [row.tolist() for row in s.generate_batch(cycle, [[1]], 0, vocab_size=4)[0]] == [[]]


def test_generate_batch_matches_generate_for_one_prompt_and_reports_the_models_own_probabilities():
    table = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.3, 0.3, 0.4]])
    ids, own = s.generate_batch(bigram_step(table), [[0, 2]], 30, s.make_sampler("sample", temperature=0.5),
                                vocab_size=3, rng=7)
    single = s.generate(lambda last, state: (table[last], state), [0, 2], 30,
                        s.make_sampler("sample", temperature=0.5), vocab_size=3, rng=7)
    np.testing.assert_array_equal(ids[0], single)
    previous = np.concatenate([[2], ids[0][:-1]])
    np.testing.assert_allclose(own[0], table[previous, ids[0]])  # the model's, not the tempered, probability


@pytest.mark.parametrize(("call", "phrase"), [
    (lambda: s.generate_batch(bigram_step(np.eye(2)), [], 3, vocab_size=2), "prompts is empty"),
    (lambda: s.generate_batch(bigram_step(np.eye(2)), [[]], 3, vocab_size=2), "non-empty 1-D"),
    (lambda: s.generate_batch(bigram_step(np.eye(2)), [[5]], 3, vocab_size=2), "outside the vocabulary"),
    (lambda: s.generate_batch(bigram_step(np.eye(2)), [[0]], -1, vocab_size=2), "length must be"),
    (lambda: s.generate_batch(bigram_step(np.eye(3)), [[0]], 2, vocab_size=2), "expected \\(1, 2\\)"),
    (lambda: s.spread([float("nan")]), "no values"),
    (lambda: s.sample_measures("abc", [0.5], {"a"}), "one probability per character"),
    (lambda: s.describe_samples(["ab"], [], "ab"), "one array of own probabilities each"),
])
def test_batches_and_spreads_say_what_is_wrong(call, phrase):
    with pytest.raises((ValueError, TypeError), match=phrase):
        call()


def test_generate_batch_needs_a_callable():
    with pytest.raises(TypeError, match="must be callable"):
        s.generate_batch(None, [[0]], 2, vocab_size=2)
    with pytest.raises(ValueError, match="vocab_size"):
        s.generate_batch(bigram_step(np.eye(2)), [[0]], 2, vocab_size=0)


def test_spread_and_the_measures_of_several_samples():
    summary = s.spread([1.0, 2.0, 3.0, float("nan")])
    assert (summary.mean, summary.sd, summary.low, summary.high, summary.count) == (2.0, 1.0, 1.0, 3.0, 3)
    assert s.spread([4.0]).sd == 0.0
    texts = ["the cat sat", "abababababab", "!!!!"]
    own = [np.full(len(t), 0.5) for t in texts]
    measures = s.describe_samples(texts, own, "the cat and the dog")
    assert measures["model's bits/char on its sample"].mean == pytest.approx(1.0)
    assert measures["distinct 4-grams"].low == pytest.approx(2 / 9)  # the loop "abab..."
    words = measures["words found in training text"]
    assert words.count == 2 and words.mean == pytest.approx((2 / 3 + 0.0) / 2)  # "!!!!" has no word

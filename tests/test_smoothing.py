"""utils.models.smoothing: the interpolated Kneser-Ney character model and order selection."""

from __future__ import annotations

import numpy as np
import pytest

from utils.data import loaders
from utils.tasks.labelling import split_by_position
from utils.decoding.sampling import generate, greedy
from utils.models.smoothing import (
    KneserNeyLM,
    adaptive_bits_per_char,
    adaptive_probabilities,
    choose_order,
    fit_kneser_ney,
    select_order,
)
from utils.data.text import CharVocab

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat. " * 3
VOCAB = CharVocab(TEXT + "QZ")  # Q and Z never occur in the training text


@pytest.mark.parametrize("order", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("options", [{}, {"discount": 0.75}, {"method": "absolute"}])
def test_every_context_gives_a_distribution(order, options):
    model = fit_kneser_ney(TEXT, order, VOCAB, **options)
    for context in ["", "t", "the ", "on a m", "QQZQZ", "xyz"[:0] + "dog ", "mat. a"]:
        probs = model.distribution(context)
        assert probs.shape == (len(VOCAB),)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        assert (probs > 0).all(), "every character, seen in training or not, needs P > 0"


def test_distribution_matches_the_per_character_probabilities():
    model = fit_kneser_ney(TEXT, 3, VOCAB)
    text = "the dog met a cat"
    probs = model.probabilities(text, history="on a mat. ")
    ids = VOCAB.encode(text)
    full = "on a mat. " + text
    for t in (0, 1, 5, len(text) - 1):
        context = full[: len("on a mat. ") + t]
        assert probs[t] == pytest.approx(model.distribution(context)[ids[t]], rel=1e-12)
    # Without history the first character is predicted from the empty context.
    assert model.probabilities(text)[0] == pytest.approx(model.distribution("")[ids[0]])


def test_a_hand_computed_bigram_model():
    # Order 1 on "abab" with discount 0.5. Level 1 (continuation counts): a is preceded by {b}, b by {a}:
    # P1(a) = P1(b) = (1 - 0.5) / 2 + (2 * 0.5 / 2) / 3, P1(c) = (1 / 2) / 3. Level 2 after 'a': count(ab) = 2.
    vocab = CharVocab("abc")  # ids: a, b, c
    model = KneserNeyLM(1, vocab, discount=0.5).fit("abab")
    p1 = np.array([0.25 + 1 / 6, 0.25 + 1 / 6, 1 / 6])
    np.testing.assert_allclose(model.distribution(""), p1)
    after_a = np.array([0.0, 1.5 / 2, 0.0]) + (0.5 / 2) * p1
    np.testing.assert_allclose(model.distribution("a"), after_a)
    np.testing.assert_allclose(model.distribution("c"), p1)  # an unseen context backs off


def test_unseen_characters_and_contexts_back_off_to_the_uniform_floor():
    model = fit_kneser_ney(TEXT, 4, VOCAB)
    q = VOCAB.index["Q"]
    assert 0 < model.distribution("the ")[q] < 1 / len(VOCAB)
    assert model.bits_per_char("QZQ") < 30


def test_more_order_helps_on_repetitive_text():
    train, held = TEXT, "the cat sat on the log. a dog met on a mat. "
    scores = [fit_kneser_ney(train, k, VOCAB).bits_per_char(held) for k in (0, 1, 3)]
    assert scores[0] > scores[1] > scores[2]
    assert scores[0] < np.log2(len(VOCAB))


def test_ids_and_text_agree():
    by_text = fit_kneser_ney(TEXT, 2, VOCAB)
    by_ids = fit_kneser_ney(VOCAB.encode(TEXT), 2, len(VOCAB))
    np.testing.assert_allclose(by_text.probabilities("a cat"), by_ids.probabilities(VOCAB.encode("a cat")))


def test_discounts_are_estimated_per_level_and_bounded():
    model = fit_kneser_ney(TEXT * 3, 3, VOCAB)
    discounts = model.discounts()
    assert len(discounts) == 4
    for d1, d2, d3 in discounts:
        assert 0.05 <= d1 <= 1 and 0.05 <= d2 <= 2 and 0.05 <= d3 <= 3


def test_the_step_function_drives_generation():
    model = fit_kneser_ney(TEXT, 3, VOCAB)
    out = generate(model.step, VOCAB.encode("the c"), 6, greedy, vocab_size=len(VOCAB))
    assert VOCAB.decode(out) == "at on "  # "sat on" is twice as common as "cat sat"


def test_select_order_picks_the_lowest_validation_score():
    selection = select_order(TEXT, "the dog sat on a mat. ", VOCAB, orders=[1, 2, 3])
    assert set(selection.bits_per_char) == {1, 2, 3}
    assert selection.bits_per_char[selection.best_order] == min(selection.bits_per_char.values())


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda: KneserNeyLM(-1, VOCAB), ValueError, "order must be at least 0"),
        (lambda: KneserNeyLM(2.0, VOCAB), TypeError, "order must be a whole number"),
        (lambda: KneserNeyLM(2, VOCAB, discount=0.0), ValueError, r"discount must lie in \(0, 1\]"),
        (lambda: KneserNeyLM(2, VOCAB, method="witten-bell"), ValueError, "method must be one of"),
        (lambda: KneserNeyLM(3, VOCAB).fit("at"), ValueError, "too few"),
        (lambda: KneserNeyLM(1, VOCAB).distribution("a"), ValueError, "not fitted"),
        (lambda: fit_kneser_ney(TEXT, 1, VOCAB).bits_per_char(""), ValueError, "text is empty"),
        (lambda: fit_kneser_ney(TEXT, 1, VOCAB).bits_per_char("the €"), ValueError, "not in this vocabulary"),
        (lambda: fit_kneser_ney([0, 1, 2], 1, 3).bits_per_char("abc"), TypeError, "CharVocab"),
        (lambda: fit_kneser_ney([0, 1, 7], 1, 3), ValueError, "outside the vocabulary"),
        (lambda: select_order(TEXT, "the", VOCAB, orders=[]), ValueError, "orders is empty"),
        (lambda: adaptive_bits_per_char(TEXT, "", 2, VOCAB), ValueError, "text is empty"),
        (lambda: adaptive_bits_per_char(TEXT, "the cat", 2, VOCAB, block=0), ValueError,
         "block must be at least 1"),
        (lambda: adaptive_bits_per_char(TEXT, "the €", 2, VOCAB), ValueError, "not in this vocabulary"),
        (lambda: adaptive_probabilities("at", "the", 2, VOCAB), ValueError, "too few"),
        (lambda: select_order("the", "the", VOCAB, orders=[1, 5]), ValueError, "too few"),
        (lambda: fit_kneser_ney(TEXT, 2, VOCAB).batch_step([0, 1], np.zeros((3, 2))), ValueError,
         r"state must have shape \(batch, order \+ 1\)"),
        (lambda: fit_kneser_ney(TEXT, 2, VOCAB).batch_step([0, 999]), ValueError, "outside the vocabulary"),
    ],
)
def test_errors_say_what_is_wrong(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_the_course_text_at_order_8_scores_as_measured_and_beats_absolute_discounting():
    corpus = loaders.load_python_docs_text()
    vocab = CharVocab(corpus)
    _, _, test = split_by_position(len(corpus))
    train, held = corpus[: test.start], corpus[test]
    model = fit_kneser_ney(train, 8, vocab)
    bits = model.bits_per_char(held, history=train)
    assert 1.5 < bits < 1.7  # measured 1.600 bits per character
    absolute = fit_kneser_ney(train, 5, vocab, method="absolute").bits_per_char(held, history=train)
    assert bits < absolute


HELD = "a dog and a cat sat on the log. the mat met a dog. " * 2


def test_adaptive_scoring_with_one_block_is_the_fixed_model():
    fixed = fit_kneser_ney(TEXT, 3, VOCAB).bits_per_char(HELD, history=TEXT[-50:])
    adaptive = adaptive_bits_per_char(TEXT, HELD, 3, VOCAB, block=len(HELD), history=TEXT[-50:])
    assert adaptive == pytest.approx(fixed, abs=1e-12)


def test_adaptive_scoring_counts_each_block_only_after_scoring_it():
    half = len(HELD) // 2
    first = fit_kneser_ney(TEXT, 3, VOCAB).bits_per_char(HELD[:half], history=TEXT)
    second = fit_kneser_ney(TEXT + HELD[:half], 3, VOCAB).bits_per_char(HELD[half:], history=HELD[:half])
    expected = (first * half + second * (len(HELD) - half)) / len(HELD)
    adaptive = adaptive_bits_per_char(TEXT, HELD, 3, VOCAB, block=half, history=TEXT)
    assert adaptive == pytest.approx(expected, abs=1e-12)
    # HELD repeats itself: the second half is cheap once the first has been counted.
    assert second < first


# The exact codes that lift the order limit --------------------------------------------------------------

class _Base103KneserNey:
    """The model as it was before the codes were lifted: every n-gram coded in base |V| as one int64.

    Kept here as the reference the lifted model must equal exactly at the orders it allowed (up to
    8 with the course's 103 characters): the same counts, discounts and interpolation, other codes.
    """

    def __init__(self, order, vocab_size, discount=None, method="kneser-ney"):
        self.order, self.v, self.discount, self.method = order, vocab_size, discount, method

    def fit(self, ids):
        v, unique, counts, codes = self.v, [], [], np.asarray(ids, dtype=np.int64)
        for n in range(1, self.order + 2):
            if n > 1:
                codes = codes[:-1] * v + ids[n - 1:]
            keys, count = np.unique(codes, return_counts=True)
            unique.append(keys)
            counts.append(count)
        self.levels = []
        for n in range(1, self.order + 2):
            keys, a = unique[n - 1], counts[n - 1]
            if self.method == "kneser-ney" and n <= self.order:
                keys, a = np.unique(unique[n] % (v**n), return_counts=True)
            self.levels.append(self._level(keys, a))
        return self

    def _level(self, keys, a):
        from utils.models.smoothing import _count_of_counts_discounts
        d1, d2, d3 = _count_of_counts_discounts(a) if self.discount is None else (self.discount,) * 3
        d = np.where(a == 1, d1, np.where(a == 2, d2, d3))
        contexts, starts = np.unique(keys // self.v, return_index=True)
        totals = np.add.reduceat(a, starts).astype(np.float64)
        which = np.searchsorted(contexts, keys // self.v)
        return keys, np.maximum(a - d, 0.0) / totals[which], contexts, np.add.reduceat(d, starts) / totals

    def probabilities(self, ids, before):
        v, full = self.v, np.concatenate([before, ids]).astype(np.int64)
        length, start = len(full), len(before)
        codes = [np.zeros(length, dtype=np.int64)]
        for k in range(1, self.order + 1):
            code = np.full(length, -1, dtype=np.int64)
            if k < length:
                code[k:] = codes[-1][k - 1: length - 1] * v + full[k - 1: length - 1]
            codes.append(code)
        p = np.full(len(ids), 1.0 / v)
        for (keys, weight, contexts, gamma), ctx in zip(self.levels, [c[start:] for c in codes]):
            i = np.minimum(np.searchsorted(contexts, ctx), len(contexts) - 1)
            seen = (ctx >= 0) & (contexts[i] == ctx)
            gram = ctx * v + ids
            j = np.minimum(np.searchsorted(keys, gram), len(keys) - 1)
            mixed = np.where(seen & (keys[j] == gram), weight[j], 0.0) + gamma[i] * p
            p = np.where(seen, mixed, p)
        return p


COURSE = loaders.load_python_docs_text()
COURSE_VOCAB = CharVocab(COURSE)


@pytest.mark.parametrize("order", range(0, 9))
@pytest.mark.parametrize("options", [{}, {"discount": 0.75}, {"method": "absolute"}])
def test_the_lifted_model_equals_the_base_103_model_exactly_up_to_order_8(order, options):
    train, held = COURSE_VOCAB.encode(COURSE[:40_000]), COURSE_VOCAB.encode(COURSE[40_000:43_000])
    reference = _Base103KneserNey(order, len(COURSE_VOCAB), **options).fit(train.astype(np.int64))
    model = KneserNeyLM(order, len(COURSE_VOCAB), **options).fit(train)
    history = train[len(train) - order:] if order else train[:0]
    expected = reference.probabilities(held.astype(np.int64), history.astype(np.int64))
    np.testing.assert_array_equal(model.probabilities(held, history=train), expected)  # bit for bit


def test_orders_past_8_fit_the_course_vocabulary_and_stay_distributions():
    assert len(COURSE_VOCAB) ** 10 > 2**63  # order 9 counts 10-grams: a base-|V| code of 10 would overflow int64
    text = COURSE[:20_000]
    model = fit_kneser_ney(text, 24, COURSE_VOCAB)
    for context in ("", "the", text[5_000:5_030], "QZQZ" * 8):
        probs = model.distribution(context)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12) and (probs > 0).all()
    # A 30-character stretch seen once is continued as it was: long contexts are counted exactly.
    seen = text[10_000:10_031]
    assert model.distribution(seen[:-1]).argmax() == COURSE_VOCAB.index[seen[-1]]
    assert model.bits_per_char(text[10_000:10_400], history=text[:10_000]) < 0.5


def test_select_order_scores_each_order_as_its_own_fit():
    selection = select_order(TEXT, HELD, VOCAB, orders=[2, 9, 12])
    for order, score in selection.bits_per_char.items():
        assert score == pytest.approx(fit_kneser_ney(TEXT, order, VOCAB).bits_per_char(HELD, history=TEXT), abs=1e-12)
    assert choose_order(TEXT, HELD, VOCAB, [2, 9, 12]) == (selection.best_order, selection.bits_per_char)


def test_batch_step_gives_each_text_the_distribution_after_its_own_context():
    model = fit_kneser_ney(TEXT, 4, VOCAB)
    texts = ["the cat sat", "a", "on the mat. the dog", "QZ"]  # of different lengths, one unseen context
    state, longest = None, max(map(len, texts))
    for t in range(longest):  # each text is read from its own start; a finished one repeats its last id
        ids = [VOCAB.index[text[min(t, len(text) - 1)]] for text in texts]
        probs, state = model.batch_step(ids, state)
    for k, text in enumerate(texts):
        context = text + text[-1] * (longest - len(text))
        np.testing.assert_array_equal(probs[k], model.distribution(context))
    assert state.shape == (len(texts), 5) and (state[:, 0] == 0).all()
    assert state[3, 2] == -1  # "ZZ" never occurred in training: no id, and no longer context has one either
    fresh, state = model.batch_step(np.array([VOCAB.index["t"]]))  # no state: the texts start here
    np.testing.assert_array_equal(fresh[0], model.distribution("t"))


def test_distributions_equal_the_per_character_interpolation_exactly():
    model = fit_kneser_ney(TEXT * 2, 6, VOCAB)
    text = VOCAB.encode("the dog sat on a cat. QZ the mat")
    probs = model.probabilities(text, history="a dog ")
    full = "a dog " + VOCAB.decode(text)
    for t in range(len(text)):
        assert model.distribution(full[: 6 + t])[text[t]] == probs[t]  # the same sums, in the same order


def test_adaptive_probabilities_use_only_the_text_before_each_character():
    text = VOCAB.encode(HELD)
    probs = adaptive_probabilities(TEXT, text, 3, VOCAB, block=17, history=TEXT[-10:])
    assert lm_bits(probs) == pytest.approx(adaptive_bits_per_char(TEXT, text, 3, VOCAB, block=17,
                                                                  history=TEXT[-10:]), abs=1e-12)
    for cut in (5, 17, 40, 60):
        changed = text.copy()
        changed[cut:] = VOCAB.index["Q"]  # rewrite everything from the cut on
        after = adaptive_probabilities(TEXT, changed, 3, VOCAB, block=17, history=TEXT[-10:])
        np.testing.assert_array_equal(after[:cut], probs[:cut])
        assert not np.allclose(after[cut:], probs[cut:])


def lm_bits(probs):
    return float(-np.mean(np.log2(probs)))

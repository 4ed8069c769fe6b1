import numpy as np
import pytest

from utils.decoding import search
from utils.data.tokens import END, PAD, START

A, B, C = 3, 4, 5
# A hand-made model whose next token depends on the last token only, with known probabilities.
# Greedy takes A (0.55), then C (0.36), then the end: 0.55 * 0.36 * 0.98 = 0.194.
# The best sequence starts with the less likely B: B then the end, 0.45 * 0.9 = 0.405.
TABLE = {
    START: {A: 0.55, B: 0.45},
    A: {C: 0.36, B: 0.34, END: 0.30},
    B: {END: 0.90, A: 0.05, C: 0.05},
    C: {END: 0.98, A: 0.01, B: 0.01},
    END: {PAD: 1.0},
    PAD: {PAD: 1.0},
}


def table_step(tokens, states, calls=None, table=TABLE):
    log_probs = np.full((len(tokens), 6), -np.inf)
    for row, token in enumerate(tokens):
        for nxt, p in table[int(token)].items():
            log_probs[row, nxt] = np.log(p)
    if calls is not None:
        calls.append((np.array(tokens), states[0].copy()))
    return log_probs, states


def score(sequence):
    previous, total = START, 0.0
    for token in sequence:
        total += np.log(TABLE[previous][token])
        previous = token
    return total


def test_greedy_follows_the_most_likely_token():
    decoded = search.greedy_decode(table_step, [np.zeros((2, 1))], max_length=10)
    for tokens in decoded.tokens:
        np.testing.assert_array_equal(tokens, [A, C, END])
    np.testing.assert_allclose(decoded.scores, score([A, C, END]))
    assert decoded.finished.all()


def test_beam_search_finds_the_better_sequence_that_greedy_misses():
    decoded = search.beam_search(table_step, [np.zeros((1, 1))], beam_width=2, max_length=10)
    np.testing.assert_array_equal(decoded.tokens[0], [B, END])
    assert decoded.scores[0] == pytest.approx(np.log(0.45 * 0.9))
    assert decoded.scores[0] > score([A, C, END])


def test_a_finished_beam_is_not_extended():
    calls = []
    # Row 0 of the state says which input it is; the beams of an input are its copies.
    states = [np.arange(3.0)[:, None]]
    # After the end this model would go on with A at no cost (probability 1): only the search stops it.
    tempting = {**TABLE, END: {A: 1.0}}
    decoded = search.beam_search(lambda t, s: table_step(t, s, calls, tempting), states, beam_width=3,
                                   max_length=6)
    for tokens in decoded.tokens:
        assert list(tokens).count(END) == 1 and tokens[-1] == END
    # Step 2 ranks B-end (finished, 0.405) above A-C (0.198) and A-B (0.187): the finished beam keeps its
    # score whatever the model says after its end token, the others go on; then all have ended and the
    # search stops.
    assert len(calls) == 3
    np.testing.assert_array_equal(calls[2][0].reshape(3, 3), [[END, C, B]] * 3)
    np.testing.assert_allclose(decoded.scores, [score([B, END])] * 3)


def test_the_end_token_stops_a_hypothesis_and_max_length_cuts_the_others():
    def loop_step(tokens, states):  # always A, so nothing ever ends
        log_probs = np.full((len(tokens), 6), -5.0)
        log_probs[:, A] = -0.01
        return log_probs, states

    for decode in (search.greedy_decode, lambda *a, **k: search.beam_search(*a, beam_width=3, **k)):
        cut = decode(loop_step, [np.zeros((2, 1))], max_length=4)
        assert not cut.finished.any() and all(len(t) == 4 for t in cut.tokens)
        done = decode(table_step, [np.zeros((2, 1))], max_length=1)
        assert not done.finished.any() and all(len(t) == 1 for t in done.tokens)


class RandomDecoder:
    """A small recurrent decoder in NumPy with random weights, to compare greedy and beam search."""

    def __init__(self, vocabulary=9, units=6, seed=0):
        rng = np.random.default_rng(seed)
        self.embedding = rng.normal(size=(vocabulary, units))
        self.recurrent = rng.normal(scale=0.8, size=(units, units))
        self.output = rng.normal(scale=1.5, size=(units, vocabulary))
        self.output[:, END] += 0.6  # so that most outputs end

    def __call__(self, tokens, states):
        h = np.tanh(states[0] @ self.recurrent + self.embedding[tokens])
        logits = h @ self.output
        logits = logits - logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)), [h, states[1]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_width_one_is_greedy_exactly(seed):
    model = RandomDecoder(seed=seed)
    rng = np.random.default_rng(seed + 10)
    states = [rng.normal(size=(7, 6)), rng.normal(size=(7, 2))]
    greedy = search.greedy_decode(model, states, max_length=12)
    beam = search.beam_search(model, states, beam_width=1, max_length=12)
    for g, b in zip(greedy.tokens, beam.tokens, strict=True):
        np.testing.assert_array_equal(g, b)
    np.testing.assert_array_equal(greedy.scores, beam.scores)
    np.testing.assert_array_equal(greedy.finished, beam.finished)


def test_wider_beams_score_at_least_as_high_on_a_random_model():
    model = RandomDecoder(seed=4)
    states = [np.random.default_rng(5).normal(size=(20, 6)), np.zeros((20, 2))]
    greedy = search.greedy_decode(model, states, max_length=15)
    for width in (2, 4, 8):
        beam = search.beam_search(model, states, beam_width=width, max_length=15)
        both = greedy.finished & beam.finished
        assert (beam.scores[both] >= greedy.scores[both] - 1e-12).all()


def test_length_normalisation_changes_the_ranking():
    # A: end at once (0.5), or B then the end (0.45 * 0.9 = 0.405): per token the longer one is better.
    table = {START: {END: 0.5, B: 0.45, C: 0.05}, B: {END: 0.9, C: 0.1}, C: {END: 1.0}}

    def step(tokens, states):
        log_probs = np.full((len(tokens), 6), -np.inf)
        for row, token in enumerate(tokens):
            for nxt, p in table.get(int(token), {PAD: 1.0}).items():
                log_probs[row, nxt] = np.log(p)
        return log_probs, states

    raw = search.beam_search(step, [np.zeros((1, 1))], beam_width=3, max_length=5, alpha=0.0)
    per_token = search.beam_search(step, [np.zeros((1, 1))], beam_width=3, max_length=5, alpha=1.0)
    np.testing.assert_array_equal(raw.tokens[0], [END])
    np.testing.assert_array_equal(per_token.tokens[0], [B, END])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"beam_width": 0, "max_length": 5}, "beam_width"),
    ({"beam_width": 2, "max_length": 0}, "max_length"),
    ({"beam_width": 1.5, "max_length": 5}, "beam_width"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        search.beam_search(table_step, [np.zeros((1, 1))], **kwargs)


def test_states_must_be_given_with_one_row_per_input():
    with pytest.raises(ValueError, match="initial states"):
        search.greedy_decode(table_step, [], max_length=3)
    with pytest.raises(ValueError, match="same non-zero number of rows"):
        search.greedy_decode(table_step, [np.zeros((2, 1)), np.zeros((3, 1))], max_length=3)
    with pytest.raises(ValueError, match="log-probabilities of shape"):
        search.greedy_decode(lambda t, s: (np.zeros(len(t)), s), [np.zeros((2, 1))], max_length=3)


DECODERS = [search.greedy_decode,
            lambda step, states, **kw: search.beam_search(step, states, beam_width=2, **kw)]


def test_states_given_as_one_array_are_a_clear_error():
    # One (3, 4) array would be read as 3 states of 4 rows: 4 inputs decoded from the wrong states.
    for decode in DECODERS:
        with pytest.raises(TypeError, match=r"initial states must be a list of arrays.*one ndarray of shape "
                                            r"\(3, 4\): wrap a single state as \[state\]"):
            decode(table_step, np.zeros((3, 4)), max_length=3)
    with pytest.raises(ValueError, match=r"arrays with one row per input; got a number"):
        search.greedy_decode(table_step, [np.zeros((2, 1)), 0.0], max_length=3)


def test_a_step_function_that_returns_its_states_as_one_array_or_too_few_is_a_clear_error():
    with pytest.raises(TypeError, match=r"states the step function returns must be a list of arrays"):
        search.greedy_decode(lambda t, s: (table_step(t, s)[0], s[0]), [np.zeros((2, 1))], max_length=3)
    with pytest.raises(ValueError, match=r"returned 1 states for the 2 it was given"):
        search.beam_search(lambda t, s: (table_step(t, s)[0], s[:1]), [np.zeros((2, 1))] * 2, beam_width=2,
                           max_length=3)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_step_function_returning_nan_is_a_clear_error(bad):
    def step(tokens, states):
        log_probs, states = table_step(tokens, states)
        log_probs[-1, 2] = bad  # one entry of the last row
        return log_probs, states

    for decode in DECODERS:
        with pytest.raises(ValueError, match=r"returned NaN or \+inf log-probabilities \(row [13]: 1 of 6\)"):
            decode(step, [np.zeros((2, 1))], max_length=3)


@pytest.mark.parametrize("alpha", [np.nan, np.inf, "1", None, True])
def test_a_length_normalisation_that_is_not_a_finite_number_is_a_clear_error(alpha):
    with pytest.raises(ValueError, match=r"alpha must be a finite number"):
        search.beam_search(table_step, [np.zeros((1, 1))], beam_width=2, max_length=5, alpha=alpha)
    with pytest.raises(ValueError, match=r"alpha must be a finite number"):
        search.normalised(np.zeros(2), np.ones(2), alpha)


# choose_alpha ===================================================================================

def _decoder_by_alpha(outputs_by_alpha):
    def decode(sources, alpha):
        return outputs_by_alpha[alpha]
    return decode


def test_choose_alpha_takes_the_highest_exact_match_and_the_smallest_alpha_on_a_tie():
    references = ["a", "b", "c", "d"]
    decode = _decoder_by_alpha({0.0: ["a", "x", "x", "x"], 0.5: ["a", "b", "c", "x"], 1.0: ["a", "b", "c", "y"],
                                2.0: ["x"] * 4})
    best, scores = search.choose_alpha(decode, ["s1", "s2", "s3", "s4"], references, [2.0, 1.0, 0.5, 0.0])
    assert best == 0.5
    assert scores == {2.0: 0.0, 1.0: 0.75, 0.5: 0.75, 0.0: 0.25}


def test_choose_alpha_passes_the_sources_and_each_alpha_to_the_decoder():
    calls = []

    def decode(sources, alpha):
        calls.append((tuple(sources), alpha))
        return list(sources)

    best, scores = search.choose_alpha(decode, ["p", "q"], ["p", "q"], np.array([0, 1]))
    assert calls == [(("p", "q"), 0.0), (("p", "q"), 1.0)]
    assert best == 0.0 and scores == {0.0: 1.0, 1.0: 1.0}


@pytest.mark.parametrize("alphas, phrase", [([], "at least one alpha"), ([0.0, float("nan")], "finite number"),
                                            (["1"], "finite number"), ([True], "finite number")])
def test_choose_alpha_rejects_bad_alphas(alphas, phrase):
    with pytest.raises(ValueError, match=phrase):
        search.choose_alpha(lambda s, a: list(s), ["p"], ["p"], alphas)


def test_choose_alpha_says_when_the_decoder_returns_the_wrong_number_of_outputs():
    with pytest.raises(ValueError, match="1 outputs for 2 references"):
        search.choose_alpha(lambda s, a: ["p"], ["p", "q"], ["p", "q"], [0.0])

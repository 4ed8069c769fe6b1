"""utils.tasks.lm: the language-model loss, stateful batches, NumPy steps and stateful training."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.models import fused
from utils.tasks import lm
from utils.checks.parity import largest_difference


def test_bits_per_character_closed_forms():
    assert lm.bits_per_character(np.zeros((3, 2)), np.array([0, 1, 1])) == pytest.approx(1.0)  # a fair coin
    assert lm.bits_per_character(np.zeros((2, 5, 8)), np.zeros((2, 5), dtype=int)) == pytest.approx(3.0)
    confident = np.array([[1000.0, 0.0], [0.0, 1000.0]])  # large logits: stable, not NaN
    assert lm.bits_per_character(confident, np.array([0, 1])) == pytest.approx(0.0, abs=1e-12)


def test_bits_per_character_equals_keras_cross_entropy():
    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(3, 7, 11)).astype("float32"), rng.integers(0, 11, size=(3, 7))
    nats = float(ops.convert_to_numpy(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, logits)))
    assert lm.bits_per_character(logits, targets) == pytest.approx(nats / np.log(2), rel=1e-5)


@pytest.mark.parametrize("logits, targets, message", [
    (np.zeros(4), np.zeros((), dtype=int), "need targets of shape"),
    (np.zeros((3, 4)), np.zeros(2, dtype=int), "need targets of shape"),
    (np.zeros((0, 4)), np.zeros(0, dtype=int), "no targets"),
    (np.zeros((2, 4)), np.array([0, 4]), "between 0 and 3"),
    (np.zeros((2, 4)), np.array([0.0, 1.0]), "whole-number ids"),
])
def test_bits_per_character_says_what_is_wrong(logits, targets, message):
    with pytest.raises(ValueError, match=message):
        lm.bits_per_character(logits, targets)


def test_stateful_batches_continue_row_by_row():
    ids = np.arange(1000)
    X, Y = lm.stateful_batches(ids, batch_size=4, length=10)
    assert X.shape == Y.shape and X.shape[1] == 10 and len(X) % 4 == 0
    np.testing.assert_array_equal(Y, X + 1)  # the targets are the next ids
    for k in range(1, len(X) // 4):
        np.testing.assert_array_equal(X[k * 4: (k + 1) * 4, 0], X[(k - 1) * 4: k * 4, -1] + 1)
    streams = X.reshape(-1, 4, 10).transpose(1, 0, 2).reshape(4, -1)
    assert len(np.unique(streams)) == streams.size  # no id is read twice


@pytest.mark.parametrize("args, message", [
    ((np.arange(10), 0, 3), "batch_size"),
    ((np.arange(10), 2, True), "length"),
    ((np.zeros((4, 4)), 2, 2), "1-D"),
    ((np.arange(10), 4, 5), "too few"),
])
def test_stateful_batches_says_what_is_wrong(args, message):
    with pytest.raises(ValueError, match=message):
        lm.stateful_batches(*args)


def _model(recurrent, stateful=False, batch=None, softmax=False, **options):
    keras.utils.set_random_seed(2)
    inputs = keras.Input(batch_shape=(batch, None), dtype="int32")
    hidden = layers.Embedding(9, 4)(inputs)
    for units in (6, 5):
        hidden = recurrent(units, return_sequences=True, stateful=stateful, **options)(hidden)
        hidden = layers.Dropout(0.1)(hidden)
    outputs = layers.Dense(9, activation="softmax" if softmax else None)(hidden)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("recurrent", [layers.SimpleRNN, layers.GRU, layers.LSTM, fused.FusedLSTM])
@pytest.mark.parametrize("softmax", [False, True])
def test_numpy_steps_equal_the_keras_model(recurrent, softmax):
    model = _model(recurrent, softmax=softmax)
    ids = np.random.default_rng(1).integers(0, 9, size=(3, 12))
    expected = ops.convert_to_numpy(model(ids))
    if not softmax:
        expected = ops.convert_to_numpy(ops.softmax(expected, axis=-1))
    stepper = lm.NumpyLanguageModel(model)
    got, state = stepper.probabilities(ids)
    assert largest_difference(got, expected) <= 1e-5
    # Carrying the state over two halves gives the same distributions as one pass.
    first, state = stepper.probabilities(ids[:, :5])
    second, _ = stepper.probabilities(ids[:, 5:], state)
    assert largest_difference(np.concatenate([first, second], axis=1), got) <= 1e-12


def test_numpy_model_refuses_other_architectures():
    with pytest.raises(ValueError, match="Embedding"):
        lm.NumpyLanguageModel(keras.Sequential([keras.Input((3,)), layers.Dense(2)]))
    conv = keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(5, 3), layers.Conv1D(4, 2),
                             layers.Dense(5)])
    with pytest.raises(ValueError, match="only SimpleRNN"):
        lm.NumpyLanguageModel(conv)
    old_gru = keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(5, 3),
                                layers.GRU(4, return_sequences=True, reset_after=False), layers.Dense(5)])
    with pytest.raises(ValueError, match="reset_after=True"):
        lm.NumpyLanguageModel(old_gru)


def test_fit_stateful_keeps_the_best_epoch_and_resets_states():
    ids = np.tile(np.arange(9), 60)  # a repeating text: easy to learn
    train, validation = lm.stateful_batches(ids[:400], 4, 10), lm.stateful_batches(ids[400:], 4, 10)
    model = _model(fused.FusedLSTM, stateful=True, batch=4)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    log = lm.fit_stateful(model, train, validation, batch_size=4, epochs=4, patience=1, name="toy", show=True)
    assert 1 <= log.best_epoch <= len(log.validation_bits) <= 4
    assert log.best_validation_bits == min(log.validation_bits)
    assert log.validation_bits[-1] < log.validation_bits[0] or log.best_epoch < len(log.validation_bits)
    assert len(log.seconds) == len(log.train_bits) and np.all(np.diff(log.seconds) > 0)
    reset = model.evaluate(*validation, batch_size=4, verbose=0) / np.log(2)
    assert reset == pytest.approx(log.best_validation_bits, rel=1e-4)  # the best weights, from zero states


# --- windows of a causal (stateless) language model --------------------------------------------------

def _per_position(vocab=7, seed=3):
    """Fake logits whose row at a position depends only on that position's input id."""
    table = np.random.default_rng(seed).normal(size=(vocab, vocab))
    return lambda windows: table[np.asarray(windows)]


def _causal(vocab=7):
    """Fake causal logits: the row at window position t depends on the ids up to t and on t itself."""
    def logits_of(windows):
        windows = np.asarray(windows)
        seen = np.cumsum(windows, axis=1)[..., None]                      # (N, T, 1): the ids so far
        t = np.arange(windows.shape[1])[None, :, None]
        return np.cos(0.37 * seen * np.arange(1, vocab + 1) + 0.5 * t) * (1 + t)
    return logits_of


def _text(n, vocab=7, seed=4):
    return np.random.default_rng(seed).integers(0, vocab, size=n)


def test_windows_are_consecutive_with_shifted_targets():
    ids = np.arange(23)
    x, y = lm.windows(ids, 5)
    np.testing.assert_array_equal(x, np.arange(20).reshape(4, 5))
    np.testing.assert_array_equal(y, x + 1)
    x, y = lm.windows(ids, 5, offset=3)
    np.testing.assert_array_equal(x, np.arange(3, 18).reshape(3, 5))
    np.testing.assert_array_equal(y, x + 1)
    x, y = lm.windows(ids, 11, offset=0)  # 22 targets: exactly two windows
    assert x.shape == y.shape == (2, 11) and y[-1, -1] == 22


@pytest.mark.parametrize("args, message", [
    ((np.arange(10), 0), "length must be a whole number"),
    ((np.arange(10), True), "length must be a whole number"),
    ((np.arange(10), 2.0), "length must be a whole number"),
    ((np.arange(5), 5), "hold no window of 5"),
    ((np.arange(10), 3, -1), "offset must be a whole number of at least 0, got -1"),
    ((np.arange(10), 3, 7), "from offset 7"),
])
def test_windows_say_what_is_wrong(args, message):
    with pytest.raises(ValueError, match=message):
        lm.windows(*args)


def test_fit_windows_logs_each_epoch_and_keeps_the_best_weights(monkeypatch):
    keras.utils.set_random_seed(5)
    vocab, length = 97, 8
    model = keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(vocab, 8), layers.Dense(vocab)])
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = np.arange(400) % vocab  # every id is followed by the next one: easy to learn
    train_ids, validation_ids = ids[:300], ids[300:]
    fitted, original_fit = [], model.fit

    def spy_fit(x, y, **kwargs):
        history = original_fit(x, y, **kwargs)
        fitted.append((x, y, history.history["loss"][-1]))
        if len(fitted) == 2:  # a second epoch that ruins the model: the first one's weights must come back
            model.set_weights([w + 3.0 * np.random.default_rng(0).normal(size=w.shape) for w in model.get_weights()])
        return history

    monkeypatch.setattr(model, "fit", spy_fit)
    log = lm.fit_windows(model, train_ids, validation_ids, length, batch_size=8, epochs=2, patience=3, name="toy")
    assert len(log.train_bits) == len(log.validation_bits) == len(log.seconds) == len(fitted) == 2
    for bits, (x, y, loss) in zip(log.train_bits, fitted, strict=True):
        assert bits == pytest.approx(loss / np.log(2))
        offset = int(x[0, 0])                # the ids are their positions: the first input is the offset
        count = (len(train_ids) - 1 - offset) // length
        assert 0 <= offset < length and x.shape == (count - count % 8, length)   # whole batches of 8 only
        np.testing.assert_array_equal(y, (x + 1) % vocab)
    assert log.validation_bits[1] > log.validation_bits[0] and log.best_epoch == 1
    bits = model.evaluate(*lm.windows(validation_ids, length), verbose=0) / np.log(2)
    assert bits == pytest.approx(log.validation_bits[0], rel=1e-4)  # the best epoch's weights are back
    assert log.validation_bits[0] < np.log2(vocab)  # and the first epoch learned something


@pytest.mark.parametrize("n", [31, 35])
def test_windowed_bits_with_the_stride_of_the_context_cuts_the_text_into_chunks(n):
    ids, context, causal = _text(n), 6, _causal()
    chunks = ids[:30].reshape(5, 6)                   # the windows from 0, 6, ..., 24
    targets = ids[1:31].reshape(5, 6)
    total = lm.bits_per_character(causal(chunks), targets) * 30
    if n == 35:  # one more window, ending at the last id: it scores only the 4 targets not yet scored
        last = ids[None, n - 1 - context: n - 1]
        total += lm.bits_per_character(causal(last)[0, 2:], ids[31:]) * 4
    assert lm.windowed_bits(causal, ids, context, stride=context) == pytest.approx(total / (n - 1), rel=1e-12)


@pytest.mark.parametrize("n", [9, 30, 41])
def test_windowed_bits_scores_every_character_once(n):
    ids, logits_of = _text(n, seed=n), _per_position()
    expected = lm.bits_per_character(logits_of(ids[:-1]), ids[1:])  # each target once, whatever its context
    for stride in range(1, 9):
        assert lm.windowed_bits(logits_of, ids, 8, stride) == pytest.approx(expected, rel=1e-12), stride


def test_windowed_bits_depend_on_the_stride_when_the_context_matters():
    ids, causal = _text(60), _causal()
    bits = {stride: lm.windowed_bits(causal, ids, 8, stride) for stride in (1, 4, 8)}
    assert abs(bits[1] - bits[8]) > 1e-3 and abs(bits[4] - bits[8]) > 1e-3 and abs(bits[1] - bits[4]) > 1e-3
    seen = []
    lm.windowed_bits(lambda w: seen.append(np.asarray(w).shape) or causal(w), ids, 8, 3)
    assert len(seen) == 1 and seen[0][1] == 8  # one call, windows of exactly the context


@pytest.mark.parametrize("args, message", [
    ((np.arange(20), 5, 0), "stride must be a whole number between 1 and the context 5"),
    ((np.arange(20), 5, 6), "stride must be a whole number between 1 and the context 5"),
    ((np.arange(20), 5, True), "stride must be a whole number"),
    ((np.arange(20), 5, 2.0), "stride must be a whole number"),
    ((np.arange(5), 5, 5), "fewer than the context 5 plus one"),
])
def test_windowed_bits_say_what_is_wrong(args, message):
    with pytest.raises(ValueError, match=message):
        lm.windowed_bits(_per_position(20), *args)


def test_windowed_step_feeds_generate_windows_of_the_context():
    from utils.decoding import sampling

    context, vocab, causal = 4, 7, _causal()
    windows, steps = [], []

    def logits_of(window):
        windows.append(np.array(window))
        return causal(window)

    step = lm.windowed_step(logits_of, context)

    def spy_step(last_id, state):
        probs, new_state = step(last_id, state)
        steps.append((probs, list(new_state)))
        return probs, new_state

    prompt = np.array([3, 5])
    out = sampling.generate(spy_step, prompt, 8, sampling.greedy, vocab_size=vocab)
    assert len(out) == 8 and len(windows) == len(steps) == 10
    assert {w.shape for w in windows} == {(1, context)}
    history = np.concatenate([prompt, out])
    for k, (window, (probs, state)) in enumerate(zip(windows, steps, strict=True)):
        read = history[max(0, k + 1 - context): k + 1]          # the last `context` ids read so far
        assert state == read.tolist()
        np.testing.assert_array_equal(window[0, :len(read)], read)
        np.testing.assert_array_equal(window[0, len(read):], 0)  # padding on the right while fewer were read
        direct = causal(read[None])[0, -1]                       # the model run on the prefix itself
        assert largest_difference(probs, np.exp(lm.log_softmax(direct))) <= 1e-12
        if len(prompt) <= k + 1 < len(history):
            assert history[k + 1] == np.argmax(probs)  # greedy: the most likely id comes next


def test_context_windows_values():
    ids = np.arange(100, 120)
    windows, targets = lm.context_windows(ids, [3, 7, 18], 4)
    np.testing.assert_array_equal(windows, [[100, 101, 102, 103], [104, 105, 106, 107], [115, 116, 117, 118]])
    np.testing.assert_array_equal(targets, [104, 108, 119])
    one, target = lm.context_windows(ids, np.array([0]), 1)
    assert one.tolist() == [[100]] and target.tolist() == [101]


@pytest.mark.parametrize("positions, context, message", [
    ([5], 0, "context must be a whole number"),
    ([5], True, "context must be a whole number"),
    ([], 3, "non-empty 1-D"),
    ([[4, 5]], 3, "non-empty 1-D"),
    ([1, 5], 3, "every position needs 2 characters before it"),
    ([5, 19], 3, "one after it in the 20 ids"),
])
def test_context_windows_say_what_is_wrong(positions, context, message):
    with pytest.raises(ValueError, match=message):
        lm.context_windows(np.arange(20), positions, context)


def test_bits_with_context_scores_the_last_position_of_each_window():
    ids, positions = _text(40), np.array([5, 9, 20, 38])
    per_position = _per_position()
    expected = lm.bits_per_character(per_position(ids[positions]), ids[positions + 1])
    assert lm.bits_with_context(per_position, ids, positions, 6) == pytest.approx(expected, rel=1e-12)
    causal = _causal()
    windows, targets = lm.context_windows(ids, positions, 6)
    expected = lm.bits_per_character(causal(windows)[:, -1], targets)
    assert lm.bits_with_context(causal, ids, positions, 6) == pytest.approx(expected, rel=1e-12)
    assert lm.bits_with_context(causal, ids, positions, 3) != pytest.approx(expected, rel=1e-3)
    with pytest.raises(ValueError, match=r"must return \(windows, context, vocabulary\) logits"):
        lm.bits_with_context(lambda w: causal(w)[:, -1], ids, positions, 6)
    with pytest.raises(ValueError, match="every position needs 5 characters"):
        lm.bits_with_context(causal, ids, [4], 6)


def test_fit_windows_needs_an_epoch():
    model = keras.Sequential([keras.Input((None,), dtype="int32"), layers.Embedding(5, 4), layers.Dense(5)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="epochs"):
        lm.fit_windows(model, np.arange(100) % 5, np.arange(40) % 5, 4, batch_size=4, epochs=0)


# Mixtures, bits by bin and dynamic evaluation ----------------------------------------------------------

def test_target_probabilities_are_the_softmax_of_the_true_character():
    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(2, 5, 7)), rng.integers(0, 7, size=(2, 5))
    p = lm.target_probabilities(logits, targets)
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(p, np.take_along_axis(softmax, targets[..., None], -1)[..., 0], rtol=1e-12)
    assert lm.bits(p.ravel()) == pytest.approx(lm.bits_per_character(logits, targets), rel=1e-12)


def test_the_mixture_weight_is_chosen_by_the_scores_and_mixes_linearly():
    first = np.array([0.9, 0.9, 0.1, 0.1])  # each model is sure where the other is not
    second = np.array([0.1, 0.1, 0.9, 0.9])
    weight, scores = lm.choose_mixture_weight(first, second)
    assert weight == 0.5 and scores[0.5] == pytest.approx(1.0) and len(scores) == 101
    assert scores[0.0] == pytest.approx(lm.bits(second)) and scores[1.0] == pytest.approx(lm.bits(first))
    np.testing.assert_allclose(lm.mixture(first, second, 0.25), 0.25 * first + 0.75 * second)
    assert lm.choose_mixture_weight(first, first, weights=[0.2, 0.7])[0] == 0.2  # a tie: the lower weight


@pytest.mark.parametrize(("call", "phrase"), [
    (lambda: lm.bits([]), "non-empty 1-D"),
    (lambda: lm.bits([0.5, 0.0]), r"probabilities in \(0, 1\]"),
    (lambda: lm.mixture([0.5], [0.5, 0.5], 0.5), "same characters"),
    (lambda: lm.mixture([0.5], [0.5], 1.5), "from 0 to 1"),
    (lambda: lm.choose_mixture_weight([0.5], [0.5], weights=[]), "non-empty 1-D list"),
    (lambda: lm.bits_by_bin({"m": [0.5, 0.5]}, [1, 2], [3, 2]), "increasing"),
    (lambda: lm.bits_by_bin({"m": [0.5]}, [1, 2], [0, 2]), "one each"),
    (lambda: lm.dynamic_evaluation(None, None, [1], 5, None), "at least two"),
    (lambda: lm.dynamic_evaluation(None, None, [1, 2], 0, None), "chunk must be"),
])
def test_mixtures_and_bins_say_what_is_wrong(call, phrase):
    with pytest.raises(ValueError, match=phrase):
        call()


def test_bits_by_bin_groups_characters_by_their_length():
    lengths = np.array([0, 1, 2, 5, 9, 30])
    table = lm.bits_by_bin({"a": np.full(6, 0.5), "b": np.array([1.0, 0.5, 0.25, 0.5, 0.5, 0.125])}, lengths,
                           [0, 2, 10, 20])
    assert table["bins"] == ["0-1", "2-9", "10-19", "20+"]
    np.testing.assert_array_equal(table["characters"], [2, 3, 0, 1])
    np.testing.assert_allclose(table["a"][[0, 1, 3]], 1.0)
    np.testing.assert_allclose(table["b"][[0, 1, 3]], [0.5, 4 / 3, 3.0])
    assert np.isnan(table["a"][2])


class CountingModel:
    """A toy model for dynamic evaluation: bigram counts are its weights, the last id its state."""

    def __init__(self, vocab, rate):
        self.counts, self.rate, self.calls = np.ones((vocab, vocab)), rate, []

    def predict(self, inputs, state):
        self.calls.append(("predict", int(inputs[0]), state))
        rows = self.counts[np.asarray(inputs)]
        return rows / rows.sum(-1, keepdims=True), int(inputs[-1])

    def learn(self, inputs, targets, state):
        self.calls.append(("learn", int(inputs[0]), state))
        np.add.at(self.counts, (np.asarray(inputs), np.asarray(targets)), self.rate)


def test_dynamic_evaluation_scores_each_chunk_before_learning_from_it():
    ids = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1])
    still, learning = CountingModel(3, 0.0), CountingModel(3, 5.0)
    fixed = lm.dynamic_evaluation(still.predict, still.learn, ids, 4, state=None)
    adapted = lm.dynamic_evaluation(learning.predict, learning.learn, ids, 4, state=None)
    np.testing.assert_allclose(fixed, 1 / 3)  # nothing learned: the uniform start everywhere
    np.testing.assert_allclose(adapted[:4], 1 / 3)  # the first chunk is scored before any learning
    assert len(adapted) == len(ids) - 1 and (adapted[4:] > 0.5).all()  # then the repeats are cheap
    kinds = [call[0] for call in learning.calls]
    assert kinds == ["predict", "learn"] * 3  # chunks of 4, 4 and the last 2 targets
    # Each learning step starts from the state its chunk was scored from; the state after it is carried.
    assert [call[2] for call in learning.calls] == [None, None, 0, 0, 1, 1]


def test_dynamic_evaluation_of_a_keras_model_changes_nothing_at_rate_zero_and_learns_a_repeat():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    hidden = layers.Embedding(5, 4)(inputs)
    hidden = fused.FusedLSTM(6, return_sequences=True, dropout=0.3)(hidden)
    logits = layers.Dense(5)(layers.Dropout(0.3)(hidden))
    model = keras.Model(inputs, logits)
    before = [w.copy() for w in model.get_weights()]
    ids = np.tile([0, 3, 3, 3, 3, 3, 3, 1], 12)  # mostly 3s: one step on the output bias already helps
    continuous = lm.target_probabilities(ops.convert_to_numpy(model(ids[None, :-1]))[0], ids[1:])
    fixed = lm.dynamic_probabilities(model, ids, 0.0, chunk=8)
    assert largest_difference(fixed, continuous) < 1e-5  # float32: the same model, read in chunks
    adapted = lm.dynamic_probabilities(model, ids, 2.0, chunk=8, start=40)
    assert len(adapted) == len(ids) - 40 and lm.bits(adapted) < lm.bits(continuous[39:]) - 0.5  # 2.3 -> 1.1
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # the trained model is untouched


def test_the_adaptive_mixture_scores_each_character_from_the_text_before_it_only():
    from utils.models.smoothing import adaptive_probabilities

    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(None,), dtype="int32")
    logits = layers.Dense(6)(fused.FusedGRU(5, return_sequences=True)(layers.Embedding(6, 3)(inputs)))
    model = keras.Model(inputs, logits)
    train, text = np.tile([0, 1, 2, 3], 20), np.tile([0, 1, 2, 3, 4, 5, 4], 10)

    def adaptive_mixture(text):
        lstm = lm.dynamic_probabilities(model, np.concatenate([train[-8:], text]), 0.5, chunk=7, start=8)
        counts = adaptive_probabilities(train, text, 3, 6, block=9, history=train[-8:])
        return lm.mixture(lstm, counts, 0.4)

    scored = adaptive_mixture(text)
    for cut in (3, 9, 30, 51):
        changed = text.copy()
        changed[cut:] = (changed[cut:] + 1) % 6  # rewrite everything from the cut on
        after = adaptive_mixture(changed)
        assert largest_difference(after[:cut], scored[:cut]) < 1e-6  # float32 rounding at most
        assert largest_difference(after[cut:], scored[cut:]) > 1e-2  # what comes later does change


def test_adapting_model_refuses_other_architectures_and_rates():
    inputs = keras.Input(shape=(None,), dtype="int32")
    dense_only = keras.Model(inputs, layers.Dense(3)(layers.Embedding(3, 2)(inputs)))
    with pytest.raises(ValueError, match="must be Embedding, then SimpleRNN"):
        lm.AdaptingModel(dense_only, 0.1)
    with pytest.raises(ValueError, match="learning_rate must be a number >= 0"):
        lm.AdaptingModel(dense_only, -1.0)
    with pytest.raises(ValueError, match="start must be a whole number"):
        lm.dynamic_probabilities(dense_only, np.arange(3), 0.1, start=3)


def test_block_bootstrap_interval_holds_the_mean_and_widens_with_dependence():
    rng = np.random.default_rng(0)
    independent = rng.normal(1.0, 1.0, 20_000)
    low, high = lm.block_bootstrap_interval(independent, block=100)
    assert low < independent.mean() < high and 0.02 < high - low < 0.04  # 1.96 * 2 / sqrt(20,000) = 0.028
    runs = np.repeat(rng.normal(1.0, 1.0, 200), 100)  # the same value 100 times in a row: 200 draws' worth
    low_runs, high_runs = lm.block_bootstrap_interval(runs, block=100)
    assert high_runs - low_runs > 5 * (high - low)
    for call, phrase in ((lambda: lm.block_bootstrap_interval(np.ones(10), block=8), "at least two blocks"),
                         (lambda: lm.block_bootstrap_interval(np.ones(100), block=5, resamples=3), "resamples"),
                         (lambda: lm.block_bootstrap_interval(np.ones(100), block=5, level=1.5), "level")):
        with pytest.raises(ValueError, match=phrase):
            call()

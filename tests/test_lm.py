"""utils.lm: the language-model loss, stateful batches, NumPy steps and stateful training."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils import fused, lm
from utils.parity import largest_difference


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
    log = lm.fit_stateful(model, train, validation, batch_size=4, epochs=4, patience=1, name="toy", verbose=True)
    assert 1 <= log.best_epoch <= len(log.validation_bits) <= 4
    assert log.best_validation_bits == min(log.validation_bits)
    assert log.validation_bits[-1] < log.validation_bits[0] or log.best_epoch < len(log.validation_bits)
    assert len(log.seconds) == len(log.train_bits) and np.all(np.diff(log.seconds) > 0)
    reset = model.evaluate(*validation, batch_size=4, verbose=0) / np.log(2)
    assert reset == pytest.approx(log.best_validation_bits, rel=1e-4)  # the best weights, from zero states

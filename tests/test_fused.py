"""utils.models.fused: the fused-kernel recurrent layers equal Keras's layers with copied weights.

On TensorFlow and JAX the fused layers are Keras's own; on PyTorch (``make unit`` reruns this
file with KERAS_BACKEND=torch) they call PyTorch's kernel, and these tests prove the results
equal to float32 rounding, training-mode input dropout, states and gradients included.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.training import autodiff
from utils.models import fused
from utils.checks.parity import largest_difference

B, T, N, D = 3, 7, 5, 6
TOLERANCE = 1e-5  # float32 rounding over a few dozen operations per step

PAIRS = {
    "SimpleRNN": (fused.FusedSimpleRNN, layers.SimpleRNN),
    "LSTM": (fused.FusedLSTM, layers.LSTM),
    "GRU": (fused.FusedGRU, layers.GRU),
}


def _pair(kind, **options):
    ours_class, keras_class = PAIRS[kind]
    keras.utils.set_random_seed(3)
    reference, ours = keras_class(D, **options), ours_class(D, **options)
    reference.build((None, None, N))
    ours.build((None, None, N))
    rng = np.random.default_rng(0)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in reference.get_weights()]
    reference.set_weights(weights)  # random biases too, so that a mix-up of the two GRU biases shows
    ours.set_weights(weights)
    return ours, reference


def _inputs():
    return np.random.default_rng(1).normal(size=(B, T, N)).astype("float32")


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("options", [{}, {"return_sequences": True}, {"go_backwards": True, "return_sequences": True},
                                     {"return_state": True}])
def test_fused_layer_equals_keras_layer(kind, options):
    ours, reference = _pair(kind, **options)
    x = _inputs()
    got, expected = ours(x), reference(x)
    for a, b in zip(*(list(out) if isinstance(out, (list, tuple)) else [out] for out in (got, expected)), strict=True):
        assert largest_difference(a, b) <= TOLERANCE


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_fused_layer_starts_from_a_given_state(kind):
    ours, reference = _pair(kind, return_sequences=True)
    x = _inputs()
    states = [np.random.default_rng(k).normal(size=(B, D)).astype("float32") for k in range(2 if kind == "LSTM" else 1)]
    assert largest_difference(ours(x, initial_state=states), reference(x, initial_state=states)) <= TOLERANCE


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_masked_call_falls_back_to_keras(kind):
    ours, reference = _pair(kind, return_sequences=True)
    x = _inputs()
    mask = np.arange(T)[None, :] < np.array([7, 4, 1])[:, None]
    assert largest_difference(ours(x, mask=mask), reference(x, mask=mask)) <= TOLERANCE


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_gradients_equal_keras_layer(kind):
    x = _inputs()
    _, input_grads = zip(*[autodiff.value_and_grad(lambda inputs, layer=layer: ops.sum(ops.square(layer(inputs))), x)
                           for layer in _pair(kind, return_sequences=True)])
    assert largest_difference(input_grads[0][0], input_grads[1][0]) <= 1e-4
    # One SGD step of a model around each layer moves every weight the same way.
    trained = []
    for layer in _pair(kind, return_sequences=True):
        model = keras.Sequential([keras.Input((T, N)), layer, layers.Dense(1, kernel_initializer="ones")])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, np.ones((B, T, 1), dtype="float32"))
        trained.append(layer.get_weights())
    for ours, reference in zip(*trained):
        assert largest_difference(ours, reference) <= 1e-5


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_input_dropout_in_training_uses_the_same_mask(kind):
    ours, reference = _pair(kind, return_sequences=True, dropout=0.5, seed=11)
    x = _inputs()
    keras.utils.set_random_seed(5)
    got = ours(x, training=True)
    keras.utils.set_random_seed(5)
    expected = reference(x, training=True)
    assert largest_difference(got, expected) <= TOLERANCE


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_a_model_with_the_fused_layer_saves_and_loads(tmp_path, kind):
    model = keras.Sequential([keras.Input((None, N)), PAIRS[kind][0](D)])
    model.save(tmp_path / "fused.keras")
    loaded = keras.models.load_model(tmp_path / "fused.keras")
    assert type(loaded.layers[0]) is PAIRS[kind][0]
    x = _inputs()
    assert largest_difference(loaded(x), model(x)) <= TOLERANCE


def test_a_stateful_fused_lstm_carries_its_state():
    ours, reference = _pair("LSTM", return_sequences=True)
    x = _inputs()
    whole = ops.convert_to_numpy(reference(x))
    stateful = fused.FusedLSTM(D, return_sequences=True, stateful=True)
    stateful.build((B, None, N))
    stateful.set_weights(reference.get_weights())
    halves = np.concatenate([ops.convert_to_numpy(stateful(x[:, :3])), ops.convert_to_numpy(stateful(x[:, 3:]))], axis=1)
    assert largest_difference(halves, whole) <= TOLERANCE


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_a_stateful_model_trains_over_consecutive_chunks(kind):
    inputs = keras.Input(batch_shape=(B, None, N))
    model = keras.Model(inputs, layers.Dense(1)(PAIRS[kind][0](D, return_sequences=True, stateful=True)(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x = _inputs()
    losses = [model.train_on_batch(x[:, start:start + 3], np.zeros((B, 3, 1), "float32")) for start in (0, 3)]
    assert np.all(np.isfinite(losses))

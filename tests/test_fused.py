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


# What a GPU asks of the fused kernels, held on the CPU ===========================================

@pytest.fixture
def cudnn_stand_in(monkeypatch):
    """PyTorch's three fused kernels, wrapped to ask what cuDNN asks of them on a GPU.

    cuDNN views every weight with its own shape, which a transposed (non-contiguous) tensor cannot
    take, and it refuses a backward pass through a call made with ``train=False``. The stand-in
    asserts that the input, the states and every weight are contiguous, records the train flag of
    each call, and makes the backward pass of a ``train=False`` call raise cuDNN's error; then it
    runs the real kernel. Returns the list of recorded flags (None off the torch backend, where the
    layers are Keras's own and no kernel is called).
    """
    if keras.backend.backend() != "torch":
        yield None
        return
    import torch

    class InferenceOnly(torch.autograd.Function):
        @staticmethod
        def forward(ctx, tensor):
            return tensor.view_as(tensor)

        @staticmethod
        def backward(ctx, gradient):
            raise RuntimeError("cudnn RNN backward can only be called in training mode")

    flags = []

    def stand_in(name, real):
        def kernel(inputs, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
            states = list(hx) if isinstance(hx, (tuple, list)) else [hx]
            named = [("input", inputs), *(("state", s) for s in states), *(("weight", w) for w in params)]
            for what, tensor in named:
                assert tensor.is_contiguous(), (f"torch.{name} got a non-contiguous {what} of shape "
                                                f"{tuple(tensor.shape)}, strides {tensor.stride()}: "
                                                "cuDNN cannot view it")
            flags.append(train)
            results = real(inputs, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                           batch_first)
            if not train and torch.is_grad_enabled():
                results = tuple(InferenceOnly.apply(result) for result in results)
            return results
        return kernel

    for name in ("lstm", "gru", "rnn_tanh"):
        monkeypatch.setattr(torch, name, stand_in(name, getattr(torch, name)))
    yield flags


def _needs_kernels(flags):
    if flags is None:
        pytest.skip("the fused kernels run on the torch backend only; elsewhere the layers are Keras's own")


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("options", [{}, {"go_backwards": True, "return_sequences": True},
                                     {"return_state": True}, {"dropout": 0.5, "seed": 2}])
def test_the_kernels_get_contiguous_tensors(kind, options, cudnn_stand_in):
    _needs_kernels(cudnn_stand_in)
    import torch

    ours, reference = _pair(kind, **options)
    # A time-major array read batch-major, and states read from a transposed array: neither is contiguous.
    x = torch.from_numpy(np.ascontiguousarray(np.swapaxes(_inputs(), 0, 1))).transpose(0, 1)
    count = 2 if kind == "LSTM" else 1
    states = [torch.from_numpy(np.random.default_rng(k).normal(size=(D, B)).astype("float32")).T
              for k in range(count)]
    assert not x.is_contiguous() and not states[0].is_contiguous()
    training = bool(options.get("dropout"))
    for call in ({}, {"initial_state": states}, {"initial_state": [s[:1] for s in states]}):
        got = ours(x, training=training, **call)
        if not training:  # input dropout draws its own mask in each layer
            expected = reference(x, **{k: [s.expand(B, D) for s in v] for k, v in call.items()})
            listed = [out if isinstance(out, (list, tuple)) else [out] for out in (got, expected)]
            for a, b in zip(*listed, strict=True):
                assert largest_difference(a, b) <= TOLERANCE
    assert len(cudnn_stand_in) == 3  # the kernel ran on every call, and saw only contiguous tensors


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_the_train_flag_is_whether_autograd_records(kind, cudnn_stand_in):
    _needs_kernels(cudnn_stand_in)
    import torch

    ours, _ = _pair(kind)
    x = _inputs()
    ours(x, training=False)
    ours(x, training=True)
    with torch.no_grad():
        ours(x, training=False)
        ours(x, training=True)
    keras.Sequential([keras.Input((T, N)), ours]).predict_on_batch(x)  # Keras predicts without autograd
    assert cudnn_stand_in == [True, True, False, False, False]


class _InferenceMode(layers.Layer):
    """Calls its layer with training=False whatever the model's mode (Keras's functional models would
    replace an explicit training=False with the mode of the training step)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def call(self, x):
        return self.layer(x, training=False)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_gradients_flow_through_a_layer_called_with_training_false(kind, cudnn_stand_in):
    x = _inputs()
    # The gradient with respect to the inputs, through each layer called in inference mode.
    _, input_grads = zip(*[autodiff.value_and_grad(
        lambda inputs, layer=layer: ops.sum(ops.square(layer(inputs, training=False))), x)
        for layer in _pair(kind, return_sequences=True)])
    assert largest_difference(input_grads[0][0], input_grads[1][0]) <= 1e-4
    if cudnn_stand_in is not None:
        assert cudnn_stand_in == [True]  # one fused call, in training mode since autograd recorded it
    # A layer called with training=False (dropout off, weights still trained) trains as Keras's does.
    trained = []
    for layer in _pair(kind, return_sequences=True, dropout=0.5):
        inputs = keras.Input((T, N))
        model = keras.Model(inputs, layers.Dense(1, kernel_initializer="ones")(_InferenceMode(layer)(inputs)))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = layer.get_weights()
        model.train_on_batch(x, np.ones((B, T, 1), dtype="float32"))
        assert all(largest_difference(a, b) > 0 for a, b in zip(layer.get_weights(), before, strict=True))
        if cudnn_stand_in:
            assert cudnn_stand_in[-1] is True  # the training step (building the model ran without autograd)
        trained.append(layer.get_weights())
    for ours, reference in zip(*trained, strict=True):
        assert largest_difference(ours, reference) <= 1e-5


# Initial states of the wrong shape =================================================================

@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("shape", [(1, D), (D,)])
def test_a_one_row_state_is_shared_by_every_sequence(kind, shape):
    ours, reference = _pair(kind, return_sequences=True)
    x = _inputs()
    count = 2 if kind == "LSTM" else 1
    states = [np.random.default_rng(k).normal(size=shape).astype("float32") for k in range(count)]
    broadcast = [np.broadcast_to(s.reshape(1, D), (B, D)).copy() for s in states]
    expected = reference(x, initial_state=broadcast)
    assert largest_difference(ours(x, initial_state=states), expected) <= TOLERANCE


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("shape", [(B + 1, D), (B - 1, D), (B, D - 1), (B, D + 1), (1, B, D), (D + 1,)])
def test_a_state_of_the_wrong_shape_is_a_clear_error(kind, shape):
    ours, _ = _pair(kind)
    states = [np.zeros(shape, "float32")] * (2 if kind == "LSTM" else 1)
    with pytest.raises(ValueError, match=rf"initial state of shape \({shape[0]},.*must be \(batch, units\) = "
                                         rf"\({B}, {D}\).*or \(1, {D}\)"):
        ours(_inputs(), initial_state=states)


def test_the_wrong_number_of_states_is_a_clear_error():
    with pytest.raises(ValueError, match=r"FusedLSTM takes two states, h and c.*given 1"):
        _pair("LSTM")[0](_inputs(), initial_state=[np.zeros((B, D), "float32")])
    with pytest.raises(ValueError, match=r"FusedGRU takes one state.*given 2"):
        _pair("GRU")[0](_inputs(), initial_state=[np.zeros((B, D), "float32")] * 2)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_a_state_from_a_symbolic_input_of_unknown_batch(kind):
    count = 2 if kind == "LSTM" else 1
    inputs, states = keras.Input((None, N)), [keras.Input((D,)) for _ in range(count)]
    ours, reference = _pair(kind)
    model = keras.Model([inputs, *states], ours(inputs, initial_state=states))
    values = [np.random.default_rng(k).normal(size=(B, D)).astype("float32") for k in range(count)]
    x = _inputs()
    expected = reference(x, initial_state=values)
    assert largest_difference(model.predict_on_batch([x, *values]), expected) <= TOLERANCE

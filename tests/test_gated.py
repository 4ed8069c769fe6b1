"""utils.models.gated: the course's LSTM and GRU cells equal keras.layers.LSTM and keras.layers.GRU with
copied weights (masks, both GRU conventions), the NumPy references equal both, the chapter 4
notebook's cells equal these, and the parameter formulas equal count_params()."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.models import cells, gated

N, D, T = 3, 5, 7  # the shape of the `batch` fixture (conftest.py): 3 features, 7 steps; 5 units
LENGTHS = np.array([7, 5, 2, 1])

NOTEBOOK = "04_lstm_and_gru.ipynb"
KINDS = {
    "lstm": (lambda **kw: layers.LSTM(D, **kw), lambda **kw: gated.course_lstm(D, **kw)),
    "gru, reset_after=True": (lambda **kw: layers.GRU(D, **kw), lambda **kw: gated.course_gru(D, **kw)),
    "gru, reset_after=False": (lambda **kw: layers.GRU(D, reset_after=False, **kw),
                               lambda **kw: gated.course_gru(D, reset_after=False, **kw)),
}


def _with_random_bias(layer: keras.layers.Layer, seed: int = 0) -> None:
    """Non-zero biases (both rows for a reset_after GRU), so that a missing or misplaced bias shows."""
    kernel, recurrent, bias = layer.get_weights()
    noise = np.random.default_rng(seed).normal(0.0, 0.5, bias.shape).astype("float32")
    layer.set_weights([kernel, recurrent, noise])


def _pair(kind: str, x: np.ndarray, **kwargs) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    """Keras's layer and the course's, with the same weights, both built on ``x``."""
    keras.utils.set_random_seed(3)
    make_reference, make_ours = KINDS[kind]
    reference, ours = make_reference(**kwargs), make_ours(**kwargs)
    reference(x)
    ours(x)
    _with_random_bias(reference)
    gated.copy_weights(reference, ours)
    return reference, ours


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_cells_equal_keras_layers_on_a_masked_batch(batch, kind, return_sequences, go_backwards):
    x, mask = batch
    reference, ours = _pair(kind, x, return_sequences=return_sequences, go_backwards=go_backwards)
    for kwargs in ({}, {"mask": mask}):
        expected = ops.convert_to_numpy(reference(x, **kwargs))
        got = ops.convert_to_numpy(ours(x, **kwargs))
        assert got.shape == expected.shape
        assert np.max(np.abs(got - expected)) <= 1e-5


@pytest.mark.parametrize("kind", list(KINDS))
def test_numpy_references_equal_the_cells_and_masking_equals_unpadded(batch, kind):
    x, mask = batch
    _, ours = _pair(kind, x, return_sequences=True)
    U, W, b = gated.course_matrices(ours)
    for m in (None, mask):
        if kind == "lstm":
            states, cell_states = gated.lstm_forward(x, U, W, b, mask=m)
            assert cell_states.shape == states.shape
        else:
            states = gated.gru_forward(x, U, W, b, reset_after=kind.endswith("True"), mask=m)
        assert np.max(np.abs(states - ops.convert_to_numpy(ours(x, mask=m)))) <= 1e-5
    masked = ops.convert_to_numpy(ours(x, mask=mask))
    for row, length in enumerate(LENGTHS):
        alone = ops.convert_to_numpy(ours(x[row : row + 1, :length]))[0]
        assert np.max(np.abs(alone - masked[row, :length])) <= 1e-5
        if length < T:  # padded steps repeat the last state
            assert np.max(np.abs(masked[row, length:] - alone[-1])) <= 1e-5


def test_the_lstm_keeps_a_cell_state_the_output_does_not_show(batch):
    x, _ = batch
    _, ours = _pair("lstm", x, return_state=True)
    output, s_T, c_T = (ops.convert_to_numpy(t) for t in ours(x))
    U, W, b = gated.course_matrices(ours)
    states, cell_states = gated.lstm_forward(x, U, W, b)
    assert np.max(np.abs(output - s_T)) == 0.0
    assert np.max(np.abs(c_T - cell_states[:, -1])) <= 1e-5
    assert np.max(np.abs(c_T - s_T)) > 0.1


def test_numpy_steps_handle_single_vectors_and_batches():
    rng = np.random.default_rng(0)
    x, s, c = rng.normal(size=(2, N)), rng.normal(size=(2, D)), rng.normal(size=(2, D))
    U, W, b = rng.normal(size=(4 * D, N)), rng.normal(size=(4 * D, D)), rng.normal(size=4 * D)
    s_batch, c_batch = gated.lstm_step(x, s, c, U, W, b)
    s_one, c_one = gated.lstm_step(x[1], s[1], c[1], U, W, b)
    assert s_batch.shape == (2, D) and np.allclose(s_one, s_batch[1]) and np.allclose(c_one, c_batch[1])
    blocks = gated.split_gates(U @ x[1] + W @ s[1] + b, "lstm")
    c_by_hand = gated.sigmoid(blocks["f"]) * c[1] + gated.sigmoid(blocks["i"]) * np.tanh(blocks["c"])
    assert np.allclose(c_one, c_by_hand)
    assert np.allclose(s_one, gated.sigmoid(blocks["o"]) * np.tanh(c_by_hand))
    for reset_after, b_shape in ((True, (2, 3 * D)), (False, (3 * D,))):
        U3, W3, b3 = rng.normal(size=(3 * D, N)), rng.normal(size=(3 * D, D)), rng.normal(size=b_shape)
        together = gated.gru_step(x, s, U3, W3, b3, reset_after)
        assert np.allclose(gated.gru_step(x[0], s[0], U3, W3, b3, reset_after), together[0])


def test_gru_by_hand_in_both_conventions():
    rng = np.random.default_rng(1)
    x, s = rng.normal(size=N), rng.normal(size=D)
    U, W = gated.split_gates(rng.normal(size=(3 * D, N)), "gru"), gated.split_gates(rng.normal(size=(3 * D, D)), "gru")
    b = rng.normal(size=(2, 3 * D))
    assert gated.split_gates(b, "gru", axis=-1)["z"].shape == (2, D)  # both rows of the z block
    b_x, b_s = gated.split_gates(b[0], "gru"), gated.split_gates(b[1], "gru")
    U_all, W_all = np.concatenate(list(U.values())), np.concatenate(list(W.values()))
    sig = gated.sigmoid
    z = sig(U["z"] @ x + b_x["z"] + W["z"] @ s + b_s["z"])
    r = sig(U["r"] @ x + b_x["r"] + W["r"] @ s + b_s["r"])
    h = np.tanh(U["h"] @ x + b_x["h"] + r * (W["h"] @ s + b_s["h"]))
    assert np.allclose(gated.gru_step(x, s, U_all, W_all, b, reset_after=True), z * s + (1 - z) * h)
    z = sig(U["z"] @ x + W["z"] @ s + b_x["z"])
    r = sig(U["r"] @ x + W["r"] @ s + b_x["r"])
    h = np.tanh(U["h"] @ x + W["h"] @ (r * s) + b_x["h"])
    assert np.allclose(gated.gru_step(x, s, U_all, W_all, b[0], reset_after=False), z * s + (1 - z) * h)


def test_numpy_references_refuse_bad_shapes():
    rng = np.random.default_rng(2)
    U, W = rng.normal(size=(3 * D, N)), rng.normal(size=(3 * D, D))
    with pytest.raises(ValueError, match=r"reset_after=True the GRU's b has shape \(2, 15\)"):
        gated.gru_step(np.zeros(N), np.zeros(D), U, W, np.zeros(3 * D), reset_after=True)
    with pytest.raises(ValueError, match=r"reset_after=False the GRU's b has shape \(15,\)"):
        gated.gru_step(np.zeros(N), np.zeros(D), U, W, np.zeros((2, 3 * D)), reset_after=False)
    with pytest.raises(ValueError, match=r"xs must have shape \(batch, T, n\)"):
        gated.gru_forward(np.zeros((T, N)), U, W, np.zeros((2, 3 * D)))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 7\)"):
        gated.lstm_forward(np.zeros((2, T, N)), np.zeros((4 * D, N)), np.zeros((4 * D, D)), np.zeros(4 * D),
                           mask=np.ones((2, T + 1)))
    with pytest.raises(ValueError, match="cannot hold 4 equal LSTM gate blocks"):
        gated.split_gates(np.zeros(10), "lstm")
    with pytest.raises(ValueError, match="cannot hold 3 equal GRU gate blocks"):
        gated.split_gates(np.float64(1.0), "gru")
    with pytest.raises(ValueError, match="cell must be 'lstm' or 'gru'"):
        gated.split_gates(np.zeros(12), "simple")


def test_sigmoid_is_stable_and_right():
    a = np.array([-1000.0, -2.0, 0.0, 3.0, 1000.0])
    with np.errstate(over="raise"):
        values = gated.sigmoid(a)
    assert np.allclose(values, [0.0, 1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-3.0)), 1.0])


def test_the_forget_bias_starts_at_one_like_keras():
    keras.utils.set_random_seed(0)
    x = np.zeros((1, 2, N), dtype="float32")
    for unit_forget_bias in (True, False):
        reference = layers.LSTM(D, unit_forget_bias=unit_forget_bias)
        ours = gated.course_lstm(D, unit_forget_bias=unit_forget_bias)
        reference(x)
        ours(x)
        assert np.array_equal(ours.get_weights()[2], reference.get_weights()[2])
        forget = gated.split_gates(ours.get_weights()[2], "lstm")["f"]
        assert np.all(forget == (1.0 if unit_forget_bias else 0.0))


def test_copy_and_set_refuse_mismatched_or_unbuilt_layers(batch):
    x, _ = batch
    lstm, _ = _pair("lstm", x)
    gru_after, _ = _pair("gru, reset_after=True", x)
    gru_before, _ = _pair("gru, reset_after=False", x)
    with pytest.raises(ValueError, match="cannot copy kernel of shape"):
        gated.copy_weights(lstm, gru_after)
    with pytest.raises(ValueError, match=r"cannot copy bias of shape \(2, 15\).*the same reset_after"):
        gated.copy_weights(gru_after, gru_before)
    with pytest.raises(ValueError, match="Call the layer on a batch first"):
        gated.copy_weights(lstm, layers.LSTM(D))
    no_bias = layers.LSTM(D, use_bias=False)
    no_bias(x)
    with pytest.raises(ValueError, match="has 2 weight arrays"):
        gated.course_matrices(no_bias)
    U, W, b = gated.course_matrices(lstm)
    with pytest.raises(ValueError, match=r"U\^T has shape"):
        gated.set_course_matrices(lstm, U.T, W, b)
    with pytest.raises(ValueError, match=r"b has shape \(15,\)"):
        gated.set_course_matrices(gru_after, *gated.course_matrices(gru_before))


def test_cell_sizes_config_and_validation():
    lstm = gated.LSTMCell(4, unit_forget_bias=False)
    assert lstm.state_size == [4, 4] and lstm.output_size == 4
    assert gated.LSTMCell.from_config(lstm.get_config()).unit_forget_bias is False
    gru = gated.GRUCell(4, reset_after=False)
    assert gru.state_size == 4 and gru.output_size == 4
    clone = gated.GRUCell.from_config(gru.get_config())
    assert clone.units == 4 and clone.reset_after is False
    for bad in (0, -1, 2.5, True, "8"):
        with pytest.raises(ValueError, match="positive whole number"):
            gated.LSTMCell(bad)
        with pytest.raises(ValueError, match="positive whole number"):
            gated.GRUCell(bad)


@pytest.mark.parametrize("make", [lambda: gated.course_lstm(D), lambda: gated.course_gru(D),
                                  lambda: gated.course_gru(D, reset_after=False)])
def test_a_model_with_the_cells_saves_and_loads(tmp_path, batch, make):
    x, _ = batch
    model = keras.Sequential([keras.Input((None, N)), make()])
    path = tmp_path / "gated.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.max(np.abs(ops.convert_to_numpy(loaded(x)) - ops.convert_to_numpy(model(x)))) == 0.0


@pytest.mark.parametrize(("n", "d"), [(1, 1), (3, 5), (12, 64), (40, 7)])
def test_parameter_counts_match_keras(n, d):
    built = {
        ("simple", True): layers.SimpleRNN(d),
        ("lstm", True): layers.LSTM(d),
        ("gru", True): layers.GRU(d),
        ("gru", False): layers.GRU(d, reset_after=False),
    }
    for (cell, reset_after), layer in built.items():
        layer.build((None, None, n))
        assert layer.count_params() == gated.parameter_count(cell, n, d, reset_after)
    assert gated.lstm_parameter_count(n, d) == 4 * cells.simple_rnn_parameter_count(n, d)
    assert gated.gru_parameter_count(n, d, reset_after=False) == 3 * cells.simple_rnn_parameter_count(n, d)


def test_parameter_count_refuses_an_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        gated.parameter_count("transformer", 3, 5)


# How far back the gradient reaches ------------------------------------------------------------------


def test_gradient_reach_is_the_last_distance_within_drop():
    falling = np.array([-0.5, -0.9, -1.4, -1.45, -2.2])
    assert gated.gradient_reach(falling, 1.0) == 3
    assert gated.gradient_reach(falling, 0.0) == 0
    assert gated.gradient_reach(falling, 5) == 4
    dip = np.array([0.5, 0.2, -0.7, 0.1, -0.6, -1.1])               # below -0.5 at 2, back within at 3
    assert gated.gradient_reach(dip, 1.0) == 3
    assert gated.gradient_reach(np.array([-1.0, -1.25, -1.5, -1.75]), 0.5) == 2   # exactly drop below: within
    assert gated.gradient_reach(np.array([-1.0, 3.0, -4.0, 2.0]), 1.0) == 3       # a rise counts as reaching
    assert gated.gradient_reach([0.3], 1.0) == 0
    assert gated.gradient_reach(np.array([-2.0, -np.inf, np.nan, -2.5]), 1.0) == 3  # zero or NaN: not within
    assert isinstance(gated.gradient_reach(falling.astype("float32"), np.float32(1.0)), int)


def test_gradient_reach_of_a_geometric_decay_is_drop_over_decades_per_step():
    distances = np.arange(60)
    for rate in (0.12, 0.5, 0.73, 0.95):                            # the gradient keeps `rate` per step
        logs = distances * np.log10(rate) - 0.6
        expected = min(int(np.floor(1.0 / -np.log10(rate))), 59)
        assert gated.gradient_reach(logs, 1.0) == expected


def test_gradient_reach_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        gated.gradient_reach(np.zeros(0), 1.0)
    with pytest.raises(ValueError, match="non-empty 1-D array"):
        gated.gradient_reach(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="finite log10 value"):
        gated.gradient_reach(np.array([-np.inf, -1.0]), 1.0)
    with pytest.raises(ValueError, match="at least 0"):
        gated.gradient_reach(np.array([0.0, -1.0]), -1.0)


# The chapter 4 notebook builds these cells in front of the learner ------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "kwargs"),
    [("LongShortTermMemoryCell", "lstm", {}),
     ("GatedRecurrentUnitCell", "gru, reset_after=True", {"reset_after": True}),
     ("GatedRecurrentUnitCell", "gru, reset_after=False", {"reset_after": False})],
)
def test_the_notebooks_cells_and_the_utils_cells_agree(batch, notebook_definition, name, kind, kwargs):
    x, mask = batch
    notebook_cell = notebook_definition(NOTEBOOK, name)
    keras.utils.set_random_seed(5)
    theirs = layers.RNN(notebook_cell(D, **kwargs), return_sequences=True)
    _, ours = _pair(kind, x, return_sequences=True)
    theirs(x)
    gated.copy_weights(ours, theirs)
    for m in (None, mask):
        assert np.max(np.abs(ops.convert_to_numpy(theirs(x, mask=m)) - ops.convert_to_numpy(ours(x, mask=m)))) <= 1e-6

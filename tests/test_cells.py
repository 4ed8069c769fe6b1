"""utils.models.cells: the course's cell equals keras.layers.SimpleRNN with copied weights, masks included,
and the NumPy reference equals both."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.models import cells

N, D, T = 3, 5, 7  # the shape of the `batch` fixture (conftest.py): 3 features, 7 steps; 5 units
LENGTHS = np.array([7, 5, 2, 1])



def _pair(x: np.ndarray, **kwargs) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    """A SimpleRNN and an RNN(RNNCell) with the same weights, both built on ``x``."""
    keras.utils.set_random_seed(3)
    reference = layers.SimpleRNN(D, **kwargs)
    ours = cells.course_rnn(D, **kwargs)
    reference(x)
    ours(x)
    # Non-zero bias, so that a missing bias would show.
    kernel, recurrent, _ = reference.get_weights()
    reference.set_weights([kernel, recurrent, np.linspace(-0.5, 0.5, D).astype("float32")])
    cells.copy_weights(reference, ours)
    return reference, ours


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_cell_equals_simple_rnn_on_a_masked_batch(batch, return_sequences, go_backwards):
    x, mask = batch
    reference, ours = _pair(x, return_sequences=return_sequences, go_backwards=go_backwards)
    for kwargs in ({}, {"mask": mask}):
        expected = ops.convert_to_numpy(reference(x, **kwargs))
        got = ops.convert_to_numpy(ours(x, **kwargs))
        assert got.shape == expected.shape
        assert np.max(np.abs(got - expected)) <= 1e-6


def test_cell_equals_numpy_reference_and_masking_equals_unpadded(batch):
    x, mask = batch
    reference, ours = _pair(x, return_sequences=True)
    U, W, b = cells.course_matrices(ours)
    assert U.shape == (D, N) and W.shape == (D, D) and b.shape == (D,)
    states = ops.convert_to_numpy(ours(x))
    assert np.max(np.abs(states - cells.rnn_forward(x, U, W, b))) <= 1e-5
    masked = ops.convert_to_numpy(ours(x, mask=mask))
    final = cells.masked_final_state(x, mask, U, W, b)
    for row, length in enumerate(LENGTHS):
        alone = ops.convert_to_numpy(ours(x[row : row + 1, :length]))[0]
        assert np.max(np.abs(alone - masked[row, :length])) <= 1e-6
        assert np.max(np.abs(final[row] - alone[-1])) <= 1e-5


@pytest.mark.parametrize(
    "make",
    [lambda: layers.SimpleRNN(D), lambda: layers.LSTM(D), lambda: layers.GRU(D),
     lambda: layers.GRU(D, reset_after=False)],
    ids=["SimpleRNN", "LSTM", "GRU", "GRU reset_after=False"],
)
def test_weights_copy_back_and_course_matrices_round_trip(batch, make):
    x, _ = batch
    keras.utils.set_random_seed(4)
    reference, fresh = make(), make()
    reference(x)
    fresh(x)
    cells.copy_weights(reference, fresh)
    assert np.max(np.abs(ops.convert_to_numpy(fresh(x)) - ops.convert_to_numpy(reference(x)))) == 0.0
    U, W, b = cells.course_matrices(reference)
    kernel, recurrent, bias = reference.get_weights()
    assert np.array_equal(U, kernel.T) and np.array_equal(W, recurrent.T) and np.array_equal(b, bias)
    cells.set_course_matrices(fresh, 2 * U, W, b)
    assert np.allclose(fresh.get_weights()[0], 2 * kernel)


def test_copy_and_set_refuse_mismatched_or_unbuilt_layers(batch):
    x, _ = batch
    reference, _ = _pair(x)
    wider = layers.SimpleRNN(D + 1)
    wider(x)
    with pytest.raises(ValueError, match="cannot copy kernel of shape"):
        cells.copy_weights(reference, wider)
    with pytest.raises(ValueError, match="Call the layer on a batch first"):
        cells.copy_weights(reference, layers.SimpleRNN(D))
    with pytest.raises(ValueError, match="has 2 weight arrays"):
        cells.course_matrices(_built_without_bias(x))
    U, W, b = cells.course_matrices(reference)
    with pytest.raises(ValueError, match=r"U\^T has shape"):
        cells.set_course_matrices(reference, U.T, W, b)


def _built_without_bias(x: np.ndarray) -> keras.layers.Layer:
    layer = layers.SimpleRNN(D, use_bias=False)
    layer(x)
    return layer


def test_cell_sizes_config_and_validation():
    cell = cells.RNNCell(4)
    assert cell.state_size == 4 and cell.output_size == 4
    config = cell.get_config()
    assert config["units"] == 4 and config["activation"] == "tanh"
    clone = cells.RNNCell.from_config(config)
    assert clone.units == 4
    with pytest.raises(ValueError, match="positive whole number"):
        cells.RNNCell(0)


def test_a_model_with_the_cell_saves_and_loads(tmp_path, batch):
    x, _ = batch
    model = keras.Sequential([keras.Input((None, N)), cells.course_rnn(D)])
    path = tmp_path / "cell.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.max(np.abs(ops.convert_to_numpy(loaded(x)) - ops.convert_to_numpy(model(x)))) == 0.0


def test_numpy_step_handles_single_vectors_and_batches():
    rng = np.random.default_rng(0)
    U, W, b = rng.normal(size=(D, N)), rng.normal(size=(D, D)), rng.normal(size=D)
    x, s = rng.normal(size=(2, N)), rng.normal(size=(2, D))
    batch_step = cells.rnn_step(x, s, U, W, b)
    assert batch_step.shape == (2, D)
    assert np.allclose(batch_step[1], np.tanh(U @ x[1] + W @ s[1] + b))
    assert np.allclose(cells.rnn_step(x[0], s[0], U, W, b), batch_step[0])
    single = cells.rnn_forward(rng.normal(size=(T, N)), U, W, b)
    assert single.shape == (T, D)
    with pytest.raises(ValueError, match=r"\(T, n\) or \(batch, T, n\)"):
        cells.rnn_forward(np.zeros(N), U, W, b)
    with pytest.raises(ValueError, match="mask"):
        cells.masked_final_state(np.zeros((2, T, N)), np.ones((2, T + 1)), U, W, b)


@pytest.mark.parametrize(
    ("units", "bidirectional"), [([8], False), ([8, 4], False), ([8], True), ([8, 6, 4], True)]
)
def test_stacked_parameter_count_matches_keras(units, bidirectional):
    stack: list[keras.layers.Layer] = [keras.Input((None, N))]
    for i, d in enumerate(units):
        rnn = layers.SimpleRNN(d, return_sequences=i < len(units) - 1)
        stack.append(layers.Bidirectional(rnn) if bidirectional else rnn)
    model = keras.Sequential(stack)
    assert model.count_params() == cells.stacked_parameter_count(N, units, bidirectional)


def test_parameter_counts_in_course_notation():
    assert cells.simple_rnn_parameter_count(3, 5) == 15 + 25 + 5
    assert cells.rnn_parameter_count(3, 5, 7) == 45 + 35 + 7


def test_the_notebooks_cell_and_the_utils_cell_agree(batch, notebook_definition):
    """Chapter 2 builds ``RecurrentCell`` in front of the learner; later chapters use ``RNNCell``."""
    x, mask = batch
    notebook_cell = notebook_definition("02_recurrent_networks_from_scratch.ipynb", "RecurrentCell")
    keras.utils.set_random_seed(5)
    theirs = layers.RNN(notebook_cell(D), return_sequences=True)
    ours = cells.course_rnn(D, return_sequences=True)
    theirs(x)
    ours(x)
    kernel, recurrent, _ = theirs.get_weights()
    theirs.set_weights([kernel, recurrent, np.linspace(-0.5, 0.5, D).astype("float32")])
    cells.copy_weights(theirs, ours)
    for kwargs in ({}, {"mask": mask}):
        assert np.max(np.abs(ops.convert_to_numpy(theirs(x, **kwargs)) - ops.convert_to_numpy(ours(x, **kwargs)))) <= 1e-6

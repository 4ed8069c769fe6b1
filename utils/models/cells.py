"""The course's simple recurrent cell, in NumPy and as a Keras layer.

Course notation (chapter 2), for one sequence::

    s_t = tanh(U x_t + W s_{t-1} + b)        U: d x n,  W: d x d,  b: d
    y_t = softmax(V s_t + c)                 V: k x d,  c: k

with ``x_t`` the input at step ``t`` (``n`` numbers), ``s_t`` the state (``d``
numbers) and ``y_t`` the output (``k`` numbers).

Keras stores the same weights in the *row-vector* convention: it computes
``x_t @ kernel + s_{t-1} @ recurrent_kernel + bias``, so ``kernel = U^T`` (n x d)
and ``recurrent_kernel = W^T`` (d x d). :class:`RNNCell` uses the Keras names and
layout, so its weights copy one to one into ``keras.layers.SimpleRNN`` and back.

Chapter 2 builds this cell in front of the learner; later chapters import it from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

# NumPy reference --------------------------------------------------------------------------------


def rnn_step(
    x_t: np.ndarray,
    s_prev: np.ndarray,
    U: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    activation: Callable[[np.ndarray], np.ndarray] = np.tanh,
) -> np.ndarray:
    """One step ``s_t = tanh(U x_t + W s_{t-1} + b)``.

    ``x_t`` has shape ``(n,)`` or ``(batch, n)`` and ``s_prev`` shape ``(d,)`` or
    ``(batch, d)``; the result has the shape of ``s_prev``.
    """
    return activation(np.asarray(x_t) @ U.T + np.asarray(s_prev) @ W.T + b)


def rnn_forward(
    xs: np.ndarray,
    U: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    s0: np.ndarray | None = None,
) -> np.ndarray:
    """Every state of the recurrence over a sequence, unrolled as a Python loop.

    ``xs`` has shape ``(T, n)`` or ``(batch, T, n)``; the result holds
    ``s_1 ... s_T`` with shape ``(T, d)`` or ``(batch, T, d)``. ``s0`` defaults to zeros.
    """
    xs = np.asarray(xs)
    if xs.ndim not in (2, 3):
        raise ValueError(f"xs must have shape (T, n) or (batch, T, n), got {xs.shape}.")
    time_axis = xs.ndim - 2
    state = np.zeros(xs.shape[:-2] + (W.shape[0],), dtype=np.result_type(xs, W)) if s0 is None else s0
    states = []
    for t in range(xs.shape[time_axis]):
        state = rnn_step(xs[..., t, :], state, U, W, b)
        states.append(state)
    return np.stack(states, axis=time_axis)


def masked_final_state(
    xs: np.ndarray,
    mask: np.ndarray,
    U: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    s0: np.ndarray | None = None,
) -> np.ndarray:
    """The state after each sequence's last real step, for a padded batch.

    ``xs`` has shape ``(batch, T, n)`` and ``mask`` shape ``(batch, T)``, true where a
    step is real. At a padded step the state is carried over unchanged, as
    ``keras.layers.RNN`` does, so padding may sit before or after the real steps.
    Returns shape ``(batch, d)``.
    """
    xs, mask = np.asarray(xs), np.asarray(mask, dtype=bool)
    if xs.ndim != 3 or mask.shape != xs.shape[:2]:
        raise ValueError(f"xs must be (batch, T, n) and mask (batch, T); got {xs.shape} and {mask.shape}.")
    state = np.zeros((xs.shape[0], W.shape[0]), dtype=np.result_type(xs, W)) if s0 is None else s0
    for t in range(xs.shape[1]):
        candidate = rnn_step(xs[:, t], state, U, W, b)
        state = np.where(mask[:, t, None], candidate, state)
    return state


def simple_rnn_parameter_count(n: int, d: int) -> int:
    """Parameters of one recurrent layer: ``U`` (d x n), ``W`` (d x d) and ``b`` (d)."""
    return d * n + d * d + d


def rnn_parameter_count(n: int, d: int, k: int) -> int:
    """Parameters of the recurrent layer plus its output layer ``V`` (k x d) and ``c`` (k).

    None of the terms involves the sequence length: the same weights serve every step.
    """
    return simple_rnn_parameter_count(n, d) + k * d + k


def stacked_parameter_count(n: int, units: Sequence[int], bidirectional: bool = False) -> int:
    """Parameters of a stack of recurrent layers with ``units[i]`` states in layer ``i``.

    Layer ``i`` reads the output of layer ``i - 1`` (the input, ``n`` numbers, for the
    first). A bidirectional layer has two independent directions whose outputs are
    concatenated, so it has twice the parameters and passes on twice its units.
    """
    total, width = 0, n
    directions = 2 if bidirectional else 1
    for d in units:
        total += directions * simple_rnn_parameter_count(width, d)
        width = directions * d
    return total


# Keras cell -------------------------------------------------------------------------------------


def positive_units(units: Any) -> int:
    """``units`` as an ``int``; a clear error unless it is a whole number of at least 1."""
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive whole number, got {units!r}.")
    return int(units)


@keras.saving.register_keras_serializable(package="course")
class RNNCell(keras.layers.Layer):
    """The course's recurrent cell: ``s_t = tanh(x_t @ kernel + s_{t-1} @ recurrent_kernel + bias)``.

    Wrap it in ``keras.layers.RNN`` to run it over sequences; ``RNN`` handles the loop,
    masks, ``return_sequences`` and ``go_backwards``. Weights, in this order:
    ``kernel = U^T`` (n x d), ``recurrent_kernel = W^T`` (d x d), ``bias = b`` (d), the
    same order and layout as ``keras.layers.SimpleRNN``.
    """

    def __init__(self, units: int, activation: str = "tanh", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = positive_units(units)
        self.activation = keras.activations.get(activation)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        n = input_shape[-1]
        self.kernel = self.add_weight(shape=(n, self.units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="orthogonal", name="recurrent_kernel"
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, list[Any]]:
        """One step: the new state is both the output and the state passed on."""
        s_prev = states[0] if isinstance(states, (list, tuple)) else states
        s_t = self.activation(
            ops.matmul(inputs, self.kernel) + ops.matmul(s_prev, self.recurrent_kernel) + self.bias
        )
        return s_t, [s_t]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units, "activation": keras.activations.serialize(self.activation)})
        return config


def course_rnn(units: int, **kwargs: Any) -> keras.layers.RNN:
    """``keras.layers.RNN(RNNCell(units), **kwargs)``: a drop-in for ``SimpleRNN(units, **kwargs)``."""
    return keras.layers.RNN(RNNCell(units), **kwargs)


def _recurrent_weights(layer: keras.layers.Layer, role: str) -> list[np.ndarray]:
    weights = layer.get_weights()
    if len(weights) != 3:
        raise ValueError(
            f"{role} layer {layer.name!r} has {len(weights)} weight arrays; expected 3 (kernel, "
            "recurrent_kernel, bias) from a built SimpleRNN, LSTM or GRU, or keras.layers.RNN around "
            "one of the course's cells. Call the layer on a batch first so that it creates its weights."
        )
    return weights


def copy_weights(source: keras.layers.Layer, target: keras.layers.Layer) -> None:
    """Copy kernel, recurrent_kernel and bias from one recurrent layer to another of the same kind.

    Works in both directions between ``keras.layers.SimpleRNN`` and ``RNN(RNNCell)``, and
    likewise for the gated cells of :mod:`utils.models.gated` (``LSTM`` and ``RNN(LSTMCell)``, ``GRU``
    and ``RNN(GRUCell)`` with the same ``reset_after``); both layers must be built.
    """
    weights = _recurrent_weights(source, "source")
    current = _recurrent_weights(target, "target")
    for name, new, old in zip(("kernel", "recurrent_kernel", "bias"), weights, current, strict=True):
        if new.shape != old.shape:
            raise ValueError(
                f"cannot copy {name} of shape {new.shape} from {source.name!r} into shape {old.shape} "
                f"of {target.name!r}: build both layers of the same kind (SimpleRNN, LSTM, or GRU with "
                "the same reset_after) with the same input size and units."
            )
    target.set_weights(weights)


def course_matrices(layer: keras.layers.Layer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(U, W, b)`` in course notation from a built recurrent layer (simple, LSTM or GRU).

    ``U = kernel^T`` and ``W = recurrent_kernel^T``; for the gated layers the gate blocks are
    stacked along the first axis of ``U`` and ``W`` (see :mod:`utils.models.gated`).
    """
    kernel, recurrent_kernel, bias = _recurrent_weights(layer, "the")
    return kernel.T, recurrent_kernel.T, bias


def set_course_matrices(layer: keras.layers.Layer, U: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:
    """Load ``(U, W, b)`` in course notation into a built recurrent layer (simple, LSTM or GRU)."""
    kernel, recurrent_kernel, bias = _recurrent_weights(layer, "the")
    wanted = {"U^T": (kernel.shape, np.shape(U)[::-1]), "W^T": (recurrent_kernel.shape, np.shape(W)[::-1]),
              "b": (bias.shape, np.shape(b))}
    for name, (have, given) in wanted.items():
        if have != given:
            raise ValueError(f"{name} has shape {given}, but the layer expects {have}.")
    layer.set_weights([np.asarray(U).T, np.asarray(W).T, np.asarray(b)])

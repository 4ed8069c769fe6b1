"""Gated recurrent cells, the LSTM and the GRU, in NumPy and as Keras cells.

Course notation (chapter 4), for one sequence: input ``x_t`` (``n`` numbers), state ``s_t``
(``d`` numbers) and, for the LSTM, cell state ``c_t`` (``d`` numbers). Every gate has its
own ``U_* (d x n)``, ``W_* (d x d)`` and ``b_* (d)``.

LSTM, gate order ``i, f, c, o`` (input, forget, candidate, output)::

    i_t = sigmoid(U_i x_t + W_i s_{t-1} + b_i)        f_t = sigmoid(U_f x_t + W_f s_{t-1} + b_f)
    g_t = tanh(U_c x_t + W_c s_{t-1} + b_c)           o_t = sigmoid(U_o x_t + W_o s_{t-1} + b_o)
    c_t = f_t * c_{t-1} + i_t * g_t                   s_t = o_t * tanh(c_t)

GRU, gate order ``z, r, h`` (update, reset, candidate), in Keras's convention for ``z``::

    z_t = sigmoid(U_z x_t + W_z s_{t-1} + b_z)        r_t = sigmoid(U_r x_t + W_r s_{t-1} + b_r)
    reset_after=False (Cho et al., 2014):  h_t = tanh(U_h x_t + W_h (r_t * s_{t-1}) + b_h)
    reset_after=True  (cuDNN, the Keras default):
                                           h_t = tanh(U_h x_t + b_h + r_t * (W_h s_{t-1} + b'_h))
    s_t = z_t * s_{t-1} + (1 - z_t) * h_t

With ``reset_after=True`` every gate also has a bias ``b'`` on its recurrent term.

The blocks are stacked in gate order: ``U = [U_i; U_f; U_c; U_o]`` is ``4d x n`` for the LSTM
(``3d x n`` for the GRU), ``W`` is ``4d x d`` (``3d x d``) and ``b`` has ``4d`` numbers (``3d``;
``(2, 3d)`` for a GRU with ``reset_after=True``: row 0 the input-side biases ``b``, row 1 the
recurrent-side biases ``b'``). Keras stores the same numbers in the row-vector layout,
``kernel = U^T``, ``recurrent_kernel = W^T``, ``bias = b``, so the classes here copy one to one
into ``keras.layers.LSTM`` and ``keras.layers.GRU`` and back.

``copy_weights``, ``course_matrices`` and ``set_course_matrices`` (from :mod:`utils.models.cells`, and
importable from here) move weights between these layers and Keras's, and to and from course
notation.

:func:`gradient_reach` reads chapter 4's gradient probe: how many steps back the gradient stays
within a given number of orders of magnitude of its value at the last input.

Chapter 4 builds these cells in front of the learner; later chapters import them from here.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

# The weight helpers serve every recurrent layer; they are re-exported here for convenience.
from utils.models.cells import copy_weights, course_matrices, positive_units, set_course_matrices, simple_rnn_parameter_count

__all__ = [
    "CELLS", "GRU_GATES", "LSTM_GATES", "GRUCell", "LSTMCell", "copy_weights", "course_gru", "course_lstm",
    "course_matrices", "gradient_reach", "gru_forward", "gru_parameter_count", "gru_step", "lstm_forward",
    "lstm_parameter_count",
    "lstm_step", "parameter_count", "set_course_matrices", "sigmoid", "split_gates",
]

LSTM_GATES = ("i", "f", "c", "o")
"""Keras's order of the LSTM's gate blocks: input, forget, candidate, output."""

GRU_GATES = ("z", "r", "h")
"""Keras's order of the GRU's gate blocks: update, reset, candidate."""

CELLS = ("simple", "lstm", "gru")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-a))``, without overflow for large ``|a|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))


def split_gates(stacked: np.ndarray, cell: str, axis: int = 0) -> dict[str, np.ndarray]:
    """The blocks of a stacked ``U``, ``W`` or ``b`` by gate name, e.g. ``{"i": U_i, ...}``.

    ``cell`` is ``"lstm"`` (blocks ``i, f, c, o``) or ``"gru"`` (``z, r, h``); ``axis`` is the
    stacked axis (0 in course notation, -1 for a Keras ``kernel`` or a GRU bias of shape
    ``(2, 3d)``).
    """
    gates = {"lstm": LSTM_GATES, "gru": GRU_GATES}.get(cell)
    if gates is None:
        raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}.")
    stacked = np.asarray(stacked)
    if stacked.ndim == 0 or stacked.shape[axis] % len(gates):
        raise ValueError(
            f"an array of shape {stacked.shape} cannot hold {len(gates)} equal {cell.upper()} gate blocks "
            f"along axis {axis}."
        )
    return dict(zip(gates, np.split(stacked, len(gates), axis=axis), strict=True))


# NumPy reference --------------------------------------------------------------------------------


def lstm_step(
    x_t: np.ndarray, s_prev: np.ndarray, c_prev: np.ndarray, U: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step; returns ``(s_t, c_t)``.

    ``x_t`` has shape ``(n,)`` or ``(batch, n)``; ``s_prev`` and ``c_prev`` shape ``(d,)`` or
    ``(batch, d)``; ``U (4d, n)``, ``W (4d, d)`` and ``b (4d,)`` are stacked in the order
    ``i, f, c, o``.
    """
    pre = np.asarray(x_t) @ U.T + np.asarray(s_prev) @ W.T + b
    i, f, g, o = np.split(pre, 4, axis=-1)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_t), c_t


def _gru_biases(b: np.ndarray, d: int, reset_after: bool) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(b)
    expected = (2, 3 * d) if reset_after else (3 * d,)
    if b.shape != expected:
        raise ValueError(
            f"with reset_after={reset_after} the GRU's b has shape {expected} "
            f"({'input-side and recurrent-side biases' if reset_after else 'one bias per gate'}), "
            f"got {b.shape}."
        )
    return (b[0], b[1]) if reset_after else (b, np.zeros(3 * d, dtype=b.dtype))


def gru_step(
    x_t: np.ndarray, s_prev: np.ndarray, U: np.ndarray, W: np.ndarray, b: np.ndarray, reset_after: bool = True
) -> np.ndarray:
    """One GRU step in Keras's convention; returns ``s_t``.

    ``U (3d, n)``, ``W (3d, d)`` stacked in the order ``z, r, h``; ``b`` has shape ``(3d,)``
    with ``reset_after=False`` and ``(2, 3d)`` (input-side, recurrent-side) with
    ``reset_after=True``. ``x_t`` and ``s_prev`` may hold one vector or a batch of rows.
    """
    d = W.shape[1]
    s_prev = np.asarray(s_prev)
    b_in, b_rec = _gru_biases(b, d, reset_after)
    from_x = np.asarray(x_t) @ U.T + b_in
    x_z, x_r, x_h = np.split(from_x, 3, axis=-1)
    W_z, W_r, W_h = np.split(W, 3, axis=0)
    b_z, b_r, b_h = np.split(b_rec, 3)
    z = sigmoid(x_z + s_prev @ W_z.T + b_z)
    r = sigmoid(x_r + s_prev @ W_r.T + b_r)
    if reset_after:
        h = np.tanh(x_h + r * (s_prev @ W_h.T + b_h))
    else:
        h = np.tanh(x_h + (r * s_prev) @ W_h.T)
    return z * s_prev + (1.0 - z) * h


def _run(xs: np.ndarray, mask: np.ndarray | None, d: int, step: Any, n_states: int) -> list[np.ndarray]:
    """Unroll ``step`` over ``xs (batch, T, n)``; a masked step carries every state over unchanged."""
    xs = np.asarray(xs, dtype=float)
    if xs.ndim != 3:
        raise ValueError(f"xs must have shape (batch, T, n), got {xs.shape}.")
    if mask is None:
        mask = np.ones(xs.shape[:2], dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != xs.shape[:2]:
        raise ValueError(f"mask must have shape {xs.shape[:2]} (batch, T), got {mask.shape}.")
    states = [np.zeros((xs.shape[0], d)) for _ in range(n_states)]
    history: list[list[np.ndarray]] = [[] for _ in range(n_states)]
    for t in range(xs.shape[1]):
        new = step(xs[:, t], *states)
        new = new if isinstance(new, tuple) else (new,)
        states = [np.where(mask[:, t, None], fresh, old) for fresh, old in zip(new, states, strict=True)]
        for kept, state in zip(history, states, strict=True):
            kept.append(state)
    return [np.stack(kept, axis=1) for kept in history]


def lstm_forward(
    xs: np.ndarray, U: np.ndarray, W: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every state ``s_1 .. s_T`` and cell state ``c_1 .. c_T`` of an LSTM over a batch.

    ``xs (batch, T, n)`` -> two arrays ``(batch, T, d)``, from ``s_0 = c_0 = 0``. Where
    ``mask (batch, T)`` is False both states are carried over, as in ``keras.layers.RNN``.
    """
    states, cell_states = _run(xs, mask, W.shape[1], lambda x, s, c: lstm_step(x, s, c, U, W, b), 2)
    return states, cell_states


def gru_forward(
    xs: np.ndarray, U: np.ndarray, W: np.ndarray, b: np.ndarray, reset_after: bool = True,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Every state ``s_1 .. s_T`` of a GRU over a batch ``xs (batch, T, n)``, from ``s_0 = 0``.

    Where ``mask (batch, T)`` is False the state is carried over, as in ``keras.layers.RNN``.
    """
    (states,) = _run(xs, mask, W.shape[1], lambda x, s: gru_step(x, s, U, W, b, reset_after), 1)
    return states


# Parameter counts -------------------------------------------------------------------------------


def lstm_parameter_count(n: int, d: int) -> int:
    """``4 (dn + d^2 + d)``: four gate blocks, each with its own ``U``, ``W`` and ``b``."""
    return 4 * simple_rnn_parameter_count(n, d)


def gru_parameter_count(n: int, d: int, reset_after: bool = True) -> int:
    """``3 (dn + d^2 + d)``, plus ``3d`` recurrent-side biases with ``reset_after=True``."""
    return 3 * simple_rnn_parameter_count(n, d) + (3 * d if reset_after else 0)


def parameter_count(cell: str, n: int, d: int, reset_after: bool = True) -> int:
    """Parameters of one recurrent layer: ``cell`` is ``"simple"``, ``"lstm"`` or ``"gru"``.

    ``reset_after`` matters for the GRU only. No term involves the sequence length.
    """
    if cell == "simple":
        return simple_rnn_parameter_count(n, d)
    if cell == "lstm":
        return lstm_parameter_count(n, d)
    if cell == "gru":
        return gru_parameter_count(n, d, reset_after)
    raise ValueError(f"cell must be one of {CELLS}, got {cell!r}.")


# How far back the gradient reaches --------------------------------------------------------------


def gradient_reach(log_gradients: np.ndarray, drop: float) -> int:
    """The largest distance at which the gradient is within ``drop`` orders of magnitude of distance 0.

    ``log_gradients`` (T,) holds ``log10`` of a gradient norm at each distance ``k = 0 .. T - 1``
    (``log_gradients[0]`` belongs to the last input): chapter 4's ``log10 ||ds_T / dx_{T-k}||``.
    Returns the largest ``k`` with ``log_gradients[k] >= log_gradients[0] - drop``: a gradient that
    rises counts as reaching, and a dip below the threshold does not end the reach if the curve
    comes back. 0 when every other distance falls further; ``T - 1`` when none does.
    """
    logs = np.asarray(log_gradients, dtype=float)
    if logs.ndim != 1 or logs.size == 0:
        raise ValueError(f"log_gradients must be a non-empty 1-D array, one value per distance; got shape "
                         f"{logs.shape}.")
    if not np.isfinite(logs[0]):
        raise ValueError(f"the gradient at distance 0 must be a finite log10 value, got {logs[0]}: the reach is "
                         "measured from it.")
    if not np.isfinite(drop) or drop < 0:
        raise ValueError(f"drop is a number of orders of magnitude, at least 0; got {drop!r}.")
    return int(np.flatnonzero(logs >= logs[0] - drop).max())  # distance 0 itself is always within


# Keras cells ------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="course")
class LSTMCell(keras.layers.Layer):
    """The course's LSTM cell, equal to ``keras.layers.LSTM`` with the same weights.

    Wrap it in ``keras.layers.RNN``. States ``[s, c]``; weights, in this order:
    ``kernel = U^T (n x 4d)``, ``recurrent_kernel = W^T (d x 4d)``, ``bias = b (4d)``, gate
    blocks in the order ``i, f, c, o``. With ``unit_forget_bias=True`` (Keras's default) the
    forget gate's bias starts at 1, every other bias at 0.
    """

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = positive_units(units)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def _bias_initializer(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        d = self.units
        forget = ops.ones((d,), dtype=dtype) if self.unit_forget_bias else ops.zeros((d,), dtype=dtype)
        return ops.concatenate([ops.zeros((d,), dtype=dtype), forget, ops.zeros((2 * d,), dtype=dtype)])

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        n, d = input_shape[-1], self.units
        self.kernel = self.add_weight(shape=(n, 4 * d), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(d, 4 * d), initializer="orthogonal", name="recurrent_kernel")
        self.bias = self.add_weight(shape=(4 * d,), initializer=self._bias_initializer, name="bias")

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, list[Any]]:
        """One step for a batch: ``inputs (B, n)``, ``states = [s (B, d), c (B, d)]``."""
        s_prev, c_prev = states
        pre = ops.matmul(inputs, self.kernel) + ops.matmul(s_prev, self.recurrent_kernel) + self.bias
        i, f, g, o = ops.split(pre, 4, axis=-1)
        c_t = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)
        s_t = ops.sigmoid(o) * ops.tanh(c_t)
        return s_t, [s_t, c_t]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units, "unit_forget_bias": self.unit_forget_bias})
        return config


@keras.saving.register_keras_serializable(package="course")
class GRUCell(keras.layers.Layer):
    """The course's GRU cell, equal to ``keras.layers.GRU`` with the same weights and ``reset_after``.

    Wrap it in ``keras.layers.RNN``. Weights, in this order: ``kernel = U^T (n x 3d)``,
    ``recurrent_kernel = W^T (d x 3d)`` and ``bias``, of shape ``(2, 3d)`` with
    ``reset_after=True`` (row 0 input-side, row 1 recurrent-side) or ``(3d,)`` with
    ``reset_after=False``; gate blocks in the order ``z, r, h``.
    """

    def __init__(self, units: int, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = positive_units(units)
        self.reset_after = bool(reset_after)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        n, d = input_shape[-1], self.units
        self.kernel = self.add_weight(shape=(n, 3 * d), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(d, 3 * d), initializer="orthogonal", name="recurrent_kernel")
        bias_shape = (2, 3 * d) if self.reset_after else (3 * d,)
        self.bias = self.add_weight(shape=bias_shape, initializer="zeros", name="bias")

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, list[Any]]:
        """One step for a batch: ``inputs (B, n)``, ``states = [s (B, d)]``."""
        s_prev = states[0] if isinstance(states, (list, tuple)) else states
        d = self.units
        if self.reset_after:
            from_x = ops.matmul(inputs, self.kernel) + self.bias[0]
            from_s = ops.matmul(s_prev, self.recurrent_kernel) + self.bias[1]
            x_z, x_r, x_h = ops.split(from_x, 3, axis=-1)
            s_z, s_r, s_h = ops.split(from_s, 3, axis=-1)
            r = ops.sigmoid(x_r + s_r)
            h = ops.tanh(x_h + r * s_h)
        else:
            from_x = ops.matmul(inputs, self.kernel) + self.bias
            x_z, x_r, x_h = ops.split(from_x, 3, axis=-1)
            s_zr = ops.matmul(s_prev, self.recurrent_kernel[:, : 2 * d])
            s_z, s_r = ops.split(s_zr, 2, axis=-1)
            r = ops.sigmoid(x_r + s_r)
            h = ops.tanh(x_h + ops.matmul(r * s_prev, self.recurrent_kernel[:, 2 * d :]))
        z = ops.sigmoid(x_z + s_z)
        s_t = z * s_prev + (1.0 - z) * h
        return s_t, [s_t]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units, "reset_after": self.reset_after})
        return config


def course_lstm(units: int, unit_forget_bias: bool = True, **kwargs: Any) -> keras.layers.RNN:
    """``keras.layers.RNN(LSTMCell(units), **kwargs)``: a drop-in for ``keras.layers.LSTM(units)``."""
    return keras.layers.RNN(LSTMCell(units, unit_forget_bias=unit_forget_bias), **kwargs)


def course_gru(units: int, reset_after: bool = True, **kwargs: Any) -> keras.layers.RNN:
    """``keras.layers.RNN(GRUCell(units, reset_after))``: a drop-in for ``keras.layers.GRU(units)``."""
    return keras.layers.RNN(GRUCell(units, reset_after=reset_after), **kwargs)

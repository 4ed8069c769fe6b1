"""Recurrent layers that use PyTorch's fused kernels on the torch backend.

On a CPU, Keras runs ``SimpleRNN``, ``LSTM`` and ``GRU`` on the torch backend as a Python loop
over the time steps (its fused path needs CUDA), which is 5-10 times slower than the same layer
on TensorFlow or JAX. :class:`FusedSimpleRNN`, :class:`FusedLSTM` and :class:`FusedGRU` are the
Keras layers with the same weights, the same arguments and the same results; on the torch
backend, when the call allows it, they hand the whole sequence to PyTorch's own kernel
(``torch.rnn_tanh``, ``torch.lstm``, ``torch.gru``: what ``torch.nn.RNN``, ``torch.nn.LSTM`` and
``torch.nn.GRU`` run). On TensorFlow and JAX they *are* the Keras layers: nothing changes there.

Limits: the fused kernel is used only without a mask, without recurrent dropout, with the
default activations (tanh and sigmoid), without ``unroll``, and, for the GRU, with
``reset_after=True`` (PyTorch's convention). Otherwise the layer falls back to Keras's own loop,
so the results are always those of the Keras layer; only the speed differs. Input dropout,
``go_backwards``, ``return_state`` and ``stateful`` work on both paths. Keras's weights map onto
PyTorch's as follows (``tests/test_fused.py`` proves the two equal with copied weights):

- SimpleRNN: ``weight_ih = kernel^T``, ``weight_hh = recurrent_kernel^T``, ``bias_ih = bias``,
  ``bias_hh = 0`` (the activation must be tanh).
- LSTM: the same gate order (i, f, c, o); ``weight_ih = kernel^T``, ``weight_hh =
  recurrent_kernel^T``, ``bias_ih = bias`` and ``bias_hh = 0`` (PyTorch adds two bias vectors,
  Keras has one: only the sum matters).
- GRU: Keras orders the blocks (z, r, h), PyTorch (r, z, n); with ``reset_after=True`` both
  compute ``n = tanh(W_n x + b_n + r * (U_n s + c_n))`` and ``s' = z * s + (1 - z) * n``, so the
  blocks are reordered and Keras's two bias rows become ``bias_ih`` and ``bias_hh``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

_TANH, _SIGMOID = keras.activations.tanh, keras.activations.sigmoid


def _torch():  # imported only on the torch backend
    import torch

    return torch


def _fusable(layer: Any, mask: Any) -> bool:
    """Whether a call can go to PyTorch's kernel and give exactly the Keras layer's results."""
    cell = layer.cell
    gates_ok = getattr(cell, "recurrent_activation", _SIGMOID) is _SIGMOID
    return (keras.backend.backend() == "torch" and mask is None and not layer.recurrent_dropout
            and not layer.unroll and cell.activation is _TANH and gates_ok and cell.use_bias)


def _dropped(layer: Any, sequences: Any, training: bool) -> Any:
    """The inputs with the cell's input-dropout mask applied, one mask for every step (as Keras does)."""
    if not (training and layer.dropout):
        return sequences
    mask = ops.expand_dims(layer.cell.get_dropout_mask(sequences[:, 0, :]), axis=1)
    return sequences * ops.broadcast_to(mask, ops.shape(sequences))


def _first_states(initial_state: Any) -> list[Any]:
    """The initial states as (1, batch, units) copies: a stateful layer assigns its state variables
    in place after the call, and PyTorch's autograd needs the values the kernel read."""
    states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
    return [ops.expand_dims(ops.copy(state), 0) for state in states]


def _outputs(layer: Any, outputs: Any, states: list[Any]) -> tuple[Any, Any, list[Any]]:
    """(last output, outputs, states) in the form Keras's RNN layer expects from inner_loop."""
    last = outputs[:, -1]
    if not layer.return_sequences:
        outputs = ops.expand_dims(last, axis=1)
    return last, outputs, states


class _Fused:
    """What the three fused layers share: when to fuse, the input dropout, the direction, the outputs."""

    def _can_fuse(self, mask: Any) -> bool:
        return _fusable(self, mask)

    def _kernel(self, torch: Any, inputs: Any, states: list[Any], training: bool) -> tuple[Any, list[Any]]:
        raise NotImplementedError  # each layer calls its own PyTorch kernel

    def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not self._can_fuse(mask):
            return super().inner_loop(sequences, initial_state, mask, training=training)  # Keras's own loop
        torch = _torch()
        inputs = _dropped(self, sequences, training)
        if self.go_backwards:
            inputs = torch.flip(inputs, dims=[1])
        outputs, states = self._kernel(torch, inputs, _first_states(initial_state), training)
        return _outputs(self, outputs, states)


@keras.saving.register_keras_serializable(package="course")
class FusedSimpleRNN(_Fused, keras.layers.SimpleRNN):
    """``keras.layers.SimpleRNN`` that runs PyTorch's fused tanh RNN kernel on the torch backend."""

    def _kernel(self, torch: Any, inputs: Any, states: list[Any], training: bool) -> tuple[Any, list[Any]]:
        cell = self.cell
        weights = [cell.kernel.value.T, cell.recurrent_kernel.value.T, cell.bias.value,
                   torch.zeros_like(cell.bias.value)]
        outputs, h_n = torch.rnn_tanh(inputs, states[0], weights, True, 1, 0.0, training, False, True)
        return outputs, [h_n[0]]


@keras.saving.register_keras_serializable(package="course")
class FusedLSTM(_Fused, keras.layers.LSTM):
    """``keras.layers.LSTM`` that runs PyTorch's fused LSTM kernel on the torch backend (see module doc)."""

    def _kernel(self, torch: Any, inputs: Any, states: list[Any], training: bool) -> tuple[Any, list[Any]]:
        cell = self.cell
        weights = [cell.kernel.value.T, cell.recurrent_kernel.value.T, cell.bias.value,
                   torch.zeros_like(cell.bias.value)]
        outputs, h_n, c_n = torch.lstm(inputs, tuple(states), weights, True, 1, 0.0, training, False, True)
        return outputs, [h_n[0], c_n[0]]


def _gru_blocks(matrix: Any, units: int, torch: Any) -> Any:
    """Reorder the last axis of Keras's (z, r, h) GRU blocks into PyTorch's (r, z, n)."""
    z, r, h = (matrix[..., k * units:(k + 1) * units] for k in range(3))
    return torch.cat([r, z, h], dim=-1)


@keras.saving.register_keras_serializable(package="course")
class FusedGRU(_Fused, keras.layers.GRU):
    """``keras.layers.GRU`` that runs PyTorch's fused GRU kernel on the torch backend (see module doc)."""

    def _can_fuse(self, mask: Any) -> bool:
        return _fusable(self, mask) and self.cell.reset_after

    def _kernel(self, torch: Any, inputs: Any, states: list[Any], training: bool) -> tuple[Any, list[Any]]:
        cell, units = self.cell, self.units
        bias = cell.bias.value  # (2, 3d): input bias, recurrent bias
        weights = [_gru_blocks(cell.kernel.value, units, torch).T,
                   _gru_blocks(cell.recurrent_kernel.value, units, torch).T,
                   _gru_blocks(bias[0], units, torch), _gru_blocks(bias[1], units, torch)]
        outputs, h_n = torch.gru(inputs, states[0], weights, True, 1, 0.0, training, False, True)
        return outputs, [h_n[0]]

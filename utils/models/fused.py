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
``go_backwards``, ``return_state`` and ``stateful`` work on both paths.

Initial states are checked on every backend before either path runs: each state is (batch, units);
a state of one row, (1, units) or (units,), is shared by every sequence (broadcast, as Keras's
layers do on TensorFlow and PyTorch; on JAX Keras's own layers refuse it with a type error from
their scan, these layers broadcast it there too); any other shape, or the wrong number of states,
is a ValueError that names the shape expected and the shape received (PyTorch's kernel would
otherwise take a wrong-shaped state without complaint, and return a result made of whatever
memory it read, or abort the Python process).

On a GPU, PyTorch hands the kernel to cuDNN, which asks two things that a CPU does not: every
tensor it gets (weights, inputs, states) is contiguous (it views each weight with a shape that a
transposed tensor cannot take), and the kernel's ``train`` flag says whether autograd records the
call (cuDNN keeps what its backward pass needs only in training mode, and refuses a backward
pass otherwise). So weights, inputs and states are made contiguous, and the flag is
``torch.is_grad_enabled()``, as in Keras's own torch backend, not Keras's ``training`` argument:
a layer called with ``training=False`` inside a gradient computation (dropout off, weights still
learning) still passes its gradients. ``training`` decides the input dropout only.

Keras's weights map onto PyTorch's as follows (``tests/test_fused.py`` proves the two equal with
copied weights):

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
import numpy as np
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
    """The initial states as contiguous (1, batch, units) copies: a stateful layer assigns its state
    variables in place after the call, and PyTorch's autograd needs the values the kernel read."""
    states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
    return [ops.expand_dims(ops.copy(state), 0).contiguous() for state in states]


def _checked_states(layer: Any, sequences: Any, initial_state: Any) -> list[Any]:
    """The initial states, each (batch, units): a one-row state (1, units) or (units,) broadcast to every
    sequence, any other shape a ValueError. Only sizes known when the layer is called are compared."""
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    name, units, batch = type(layer).__name__, layer.units, sequences.shape[0]
    sizes = layer.cell.state_size
    count = len(sizes) if isinstance(sizes, (list, tuple)) else 1
    if len(states) != count:
        what = "two states, h and c," if count == 2 else "one state"
        raise ValueError(f"{name} takes {what} each of shape (batch, units) = ({batch}, {units}); "
                         f"it was given {len(states)}: pass initial_state=[...] with {count}.")
    checked = []
    for state in states:
        shape = tuple(np.shape(state))  # a tensor's own shape (None: a size not known yet), or an array's
        rows = shape[0] if len(shape) == 2 else 1
        fits = (len(shape) in (1, 2) and shape[-1] in (units, None)
                and (rows in (1, None) or batch is None or rows == batch))
        if not fits:
            raise ValueError(f"{name} was given an initial state of shape {shape}; each state must be "
                             f"(batch, units) = ({batch}, {units}) for these inputs, or (1, {units}) for one "
                             "state shared by every sequence.")
        if len(shape) == 1:
            state = ops.reshape(state, (1, units))
        if rows == 1 and batch != 1:  # one state for every sequence, as Keras's layers broadcast it
            state = ops.broadcast_to(state, (ops.shape(sequences)[0], units))
        checked.append(state)
    return checked


def _outputs(layer: Any, outputs: Any, states: list[Any]) -> tuple[Any, Any, list[Any]]:
    """(last output, outputs, states) in the form Keras's RNN layer expects from inner_loop."""
    last = outputs[:, -1]
    if not layer.return_sequences:
        outputs = ops.expand_dims(last, axis=1)
    return last, outputs, states


class _Fused:
    """What the three fused layers share: the state check, when to fuse, the input dropout, the direction,
    the outputs."""

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: bool = False) -> Any:
        if initial_state is not None:
            initial_state = _checked_states(self, sequences, initial_state)
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def _can_fuse(self, mask: Any) -> bool:
        return _fusable(self, mask)

    def _kernel(self, torch: Any, inputs: Any, states: list[Any]) -> tuple[Any, list[Any]]:
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
        outputs, states = self._kernel(torch, inputs.contiguous(), _first_states(initial_state))
        return _outputs(self, outputs, states)


def _contiguous(tensors: list[Any]) -> list[Any]:
    """Each weight as a contiguous tensor: cuDNN views each weight with its own shape (see the module doc)."""
    return [tensor.contiguous() for tensor in tensors]


def _recording(torch: Any) -> bool:
    """The kernel's train flag: whether autograd records this call, whatever Keras's ``training`` says."""
    return torch.is_grad_enabled()


@keras.saving.register_keras_serializable(package="course")
class FusedSimpleRNN(_Fused, keras.layers.SimpleRNN):
    """``keras.layers.SimpleRNN`` that runs PyTorch's fused tanh RNN kernel on the torch backend."""

    def _kernel(self, torch: Any, inputs: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        cell = self.cell
        weights = _contiguous([cell.kernel.value.T, cell.recurrent_kernel.value.T, cell.bias.value,
                               torch.zeros_like(cell.bias.value)])
        outputs, h_n = torch.rnn_tanh(inputs, states[0], weights, True, 1, 0.0, _recording(torch), False,
                                      True)
        return outputs, [h_n[0]]


@keras.saving.register_keras_serializable(package="course")
class FusedLSTM(_Fused, keras.layers.LSTM):
    """``keras.layers.LSTM`` that runs PyTorch's fused LSTM kernel on the torch backend (see module doc)."""

    def _kernel(self, torch: Any, inputs: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        cell = self.cell
        weights = _contiguous([cell.kernel.value.T, cell.recurrent_kernel.value.T, cell.bias.value,
                               torch.zeros_like(cell.bias.value)])
        outputs, h_n, c_n = torch.lstm(inputs, tuple(states), weights, True, 1, 0.0, _recording(torch), False,
                                       True)
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

    def _kernel(self, torch: Any, inputs: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        cell, units = self.cell, self.units
        bias = cell.bias.value  # (2, 3d): input bias, recurrent bias
        weights = _contiguous([_gru_blocks(cell.kernel.value, units, torch).T,
                               _gru_blocks(cell.recurrent_kernel.value, units, torch).T,
                               _gru_blocks(bias[0], units, torch), _gru_blocks(bias[1], units, torch)])
        outputs, h_n = torch.gru(inputs, states[0], weights, True, 1, 0.0, _recording(torch), False, True)
        return outputs, [h_n[0]]

"""Character language models: the objective, stateful batches over a long text, NumPy steps.

- :func:`bits_per_character` is the language-model loss from logits, in bits (exercise 6.1's
  reference).
- :func:`stateful_batches` cuts a long text into ``B`` parallel streams so that batch ``k``
  continues, row by row, where batch ``k - 1`` stopped: a ``stateful=True`` recurrent layer then
  carries its state across batches and training is truncated backpropagation through time with
  chunks of ``length`` characters.
- :class:`NumpyLanguageModel` runs a trained Keras model (embedding, recurrent layers, dense
  softmax) one character at a time in NumPy, carrying the state, for sampling without
  re-reading the prefix; chapter 6 checks it against the Keras model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from utils import cells, gated

State = list[list[np.ndarray]]


def log_softmax(logits: Any) -> np.ndarray:
    """``log softmax`` over the last axis, computed stably in float64 (shift by the maximum)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def bits_per_character(logits: Any, targets: Any) -> float:
    """Mean cross-entropy of the ``targets`` under ``softmax(logits)``, in bits per character.

    ``logits`` has shape ``(..., V)`` (one row of scores per position: ``(T, V)`` or ``(B, T, V)``)
    and ``targets`` the matching shape without the last axis, holding ids in ``0 .. V-1``.
    """
    logits, targets = np.asarray(logits, dtype=np.float64), np.asarray(targets)
    if logits.ndim < 2 or logits.shape[:-1] != targets.shape:
        raise ValueError(f"logits of shape {logits.shape} need targets of shape {logits.shape[:-1]}, "
                         f"got {targets.shape}: one target id per row of logits.")
    if targets.size == 0:
        raise ValueError("there are no targets to score.")
    if not np.issubdtype(targets.dtype, np.integer) or targets.min() < 0 or targets.max() >= logits.shape[-1]:
        raise ValueError(f"targets must be whole-number ids between 0 and {logits.shape[-1] - 1}.")
    log_p = np.take_along_axis(log_softmax(logits), targets[..., None], axis=-1)
    return float(-log_p.mean() / np.log(2))


def stateful_batches(ids: Any, batch_size: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-character targets ``(n_batches * batch_size, length)`` for stateful training.

    The text is cut into ``batch_size`` contiguous streams of equal length; row ``k * batch_size + i``
    is chunk ``k`` of stream ``i``, so with ``shuffle=False`` and this ``batch_size`` each row of a
    batch continues the same row of the batch before. The tail that fills no whole chunk is dropped.
    """
    ids = np.asarray(ids)
    for name, value in (("batch_size", batch_size), ("length", length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D array of character ids, got shape {ids.shape}.")
    per_stream = (len(ids) - 1) // batch_size
    n_chunks = per_stream // length
    if n_chunks < 1:
        raise ValueError(f"{len(ids)} ids are too few for {batch_size} streams of at least {length + 1} ids: "
                         "use a shorter length, fewer streams or a longer text.")
    used = n_chunks * length
    inputs = np.stack([ids[i * per_stream: i * per_stream + used] for i in range(batch_size)])
    targets = np.stack([ids[i * per_stream + 1: i * per_stream + used + 1] for i in range(batch_size)])
    # (streams, chunks, length) -> (chunks, streams, length): batch k holds chunk k of every stream.
    reorder = lambda a: a.reshape(batch_size, n_chunks, length).transpose(1, 0, 2).reshape(-1, length)  # noqa: E731
    return reorder(inputs).astype(np.int32), reorder(targets).astype(np.int32)


def reset_states(model: keras.Model) -> None:
    """Reset the state of every stateful recurrent layer of ``model`` (to zeros)."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


class NumpyLanguageModel:
    """A trained ``Embedding -> recurrent layers -> Dense`` model, one step at a time in NumPy.

    Supports ``SimpleRNN``, ``LSTM`` and ``GRU`` layers (and the fused layers of
    :mod:`utils.fused`, which share their weights), ``Dropout`` layers (skipped: inference) and a
    final ``Dense`` layer whose output is logits or a softmax. :meth:`step` takes the last ids of a
    batch of sequences and the state, and returns the next-character distributions and the new
    state, so a sampler never re-reads the prefix.
    """

    def __init__(self, model: keras.Model) -> None:
        kinds = (keras.layers.SimpleRNN, keras.layers.LSTM, keras.layers.GRU)
        parts = [layer for layer in model.layers if not isinstance(layer, (keras.layers.InputLayer,
                                                                           keras.layers.Dropout))]
        if not parts or not isinstance(parts[0], keras.layers.Embedding) or not isinstance(parts[-1], keras.layers.Dense):
            raise ValueError("the model must be Embedding, then recurrent layers, then a Dense layer.")
        recurrent = parts[1:-1]
        if not recurrent or not all(isinstance(layer, kinds) for layer in recurrent):
            raise ValueError("between the Embedding and the Dense layer the model may hold only SimpleRNN, "
                             "LSTM or GRU layers (and Dropout).")
        self.embedding = keras.ops.convert_to_numpy(parts[0].embeddings).astype(np.float64)
        self.layers: list[tuple[str, tuple[np.ndarray, ...]]] = []
        for layer in recurrent:
            if isinstance(layer, keras.layers.LSTM):
                self.layers.append(("lstm", cells.course_matrices(layer)))
            elif isinstance(layer, keras.layers.GRU):
                if not layer.cell.reset_after:
                    raise ValueError("only GRU layers with reset_after=True (Keras's default) are supported.")
                self.layers.append(("gru", cells.course_matrices(layer)))
            else:
                self.layers.append(("rnn", cells.course_matrices(layer)))
        kernel, bias = parts[-1].get_weights()
        self.V, self.c = kernel.T.astype(np.float64), bias.astype(np.float64)
        self.softmax_output = parts[-1].activation is keras.activations.softmax
        self.units = [matrices[1].shape[1] for _, matrices in self.layers]

    def initial_state(self, batch: int) -> State:
        """Zero states for ``batch`` sequences: per layer ``[s]``, or ``[s, c]`` for an LSTM."""
        return [[np.zeros((batch, d)) for _ in range(2 if kind == "lstm" else 1)]
                for (kind, _), d in zip(self.layers, self.units, strict=True)]

    def step(self, last_ids: Any, state: State) -> tuple[np.ndarray, State]:
        """Next-character distributions ``(batch, vocab)`` after ``last_ids`` ``(batch,)``, and the new state."""
        ids = np.asarray(last_ids)
        x = self.embedding[ids]
        new_state: State = []
        for (kind, matrices), layer_state in zip(self.layers, state, strict=True):
            if kind == "lstm":
                s, c = gated.lstm_step(x, layer_state[0], layer_state[1], *matrices)
                layer_state = [s, c]
            elif kind == "gru":
                s = gated.gru_step(x, layer_state[0], *matrices, reset_after=True)
                layer_state = [s]
            else:
                s = cells.rnn_step(x, layer_state[0], *matrices)
                layer_state = [s]
            new_state.append(layer_state)
            x = s
        logits = x @ self.V.T + self.c
        if self.softmax_output:
            probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
        else:
            probabilities = np.exp(log_softmax(logits))
        return probabilities / probabilities.sum(axis=-1, keepdims=True), new_state

    def probabilities(self, ids: Any, state: State | None = None) -> tuple[np.ndarray, State]:
        """Distributions after each id of ``ids`` ``(batch, T)``: ``(batch, T, vocab)`` and the final state."""
        ids = np.atleast_2d(np.asarray(ids))
        state = self.initial_state(len(ids)) if state is None else state
        steps = []
        for t in range(ids.shape[1]):
            p, state = self.step(ids[:, t], state)
            steps.append(p)
        return np.stack(steps, axis=1), state


@dataclass
class TrainingLog:
    """One stateful training run: bits per character after each epoch, and its wall time."""

    name: str
    train_bits: list[float] = field(default_factory=list)
    validation_bits: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def best_validation_bits(self) -> float:
        """The lowest validation bits per character (the weights the model keeps)."""
        return self.validation_bits[self.best_epoch - 1]


def fit_stateful(model: keras.Model, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                 batch_size: int, epochs: int, patience: int = 2, name: str = "model",
                 verbose: bool = False) -> TrainingLog:
    """Train a stateful language model epoch by epoch, keeping the weights of its best validation epoch.

    ``train`` and ``validation`` come from :func:`stateful_batches` with the same ``batch_size``.
    Every epoch starts from zero states; within an epoch each batch continues the last one
    (truncated BPTT). Training stops after ``patience`` epochs without a better validation
    score. The model's loss must be the cross-entropy in nats (Keras's), reported here in bits.
    """
    log = TrainingLog(name)
    best_weights, started, waited = None, time.perf_counter(), 0
    for epoch in range(1, epochs + 1):
        reset_states(model)
        history = model.fit(*train, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        reset_states(model)
        validation_loss = model.evaluate(*validation, batch_size=batch_size, verbose=0)
        log.train_bits.append(float(history.history["loss"][-1]) / np.log(2))
        log.validation_bits.append(float(np.ravel(validation_loss)[0]) / np.log(2))
        log.seconds.append(time.perf_counter() - started)
        if verbose:
            print(f"{name}: epoch {epoch}, train {log.train_bits[-1]:.3f}, validation {log.validation_bits[-1]:.3f} "
                  f"bits/char, {log.seconds[-1]:.0f} s")
        if best_weights is None or log.validation_bits[-1] < log.best_validation_bits:
            log.best_epoch, best_weights, waited = epoch, model.get_weights(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    model.set_weights(best_weights)
    reset_states(model)
    return log

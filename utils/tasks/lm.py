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

from utils.models import cells, gated
from utils.training import progress

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
    :mod:`utils.models.fused`, which share their weights), ``Dropout`` layers (skipped: inference) and a
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


def _fit_epochs(model: keras.Model, run_epoch: Any, validate: Any, epochs: int, patience: int, name: str,
                show: bool | None) -> TrainingLog:
    """The loop shared by :func:`fit_stateful` and :func:`fit_windows`: ``run_epoch()`` trains one epoch and
    returns its loss in nats, ``validate()`` the validation loss in nats; keeps the best epoch's weights."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {epochs!r}.")
    log = TrainingLog(name)
    line, curve = progress.bar(name=name, total=epochs, show=show), progress.LiveCurve(name, "bits/char", show=show)
    best_weights, started, waited = None, time.perf_counter(), 0
    for epoch in range(1, epochs + 1):
        log.train_bits.append(float(run_epoch()) / np.log(2))
        log.validation_bits.append(float(validate()) / np.log(2))
        log.seconds.append(time.perf_counter() - started)
        line.update()
        line.set_postfix(train=f"{log.train_bits[-1]:.3f}", validation=f"{log.validation_bits[-1]:.3f} bits/char")
        curve.add(epoch, train=log.train_bits[-1], validation=log.validation_bits[-1])
        if best_weights is None or log.validation_bits[-1] < log.best_validation_bits:
            log.best_epoch, best_weights, waited = epoch, model.get_weights(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    line.close()
    model.set_weights(best_weights)
    return log


def fit_stateful(model: keras.Model, train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray],
                 batch_size: int, epochs: int, patience: int = 2, name: str = "model",
                 show: bool | None = None) -> TrainingLog:
    """Train a stateful language model epoch by epoch, keeping the weights of its best validation epoch.

    ``train`` and ``validation`` come from :func:`stateful_batches` with the same ``batch_size``.
    Every epoch starts from zero states; within an epoch each batch continues the last one
    (truncated BPTT). Training stops after ``patience`` epochs without a better validation
    score. The model's loss must be the cross-entropy in nats (Keras's), reported here in bits.
    A live line (and curve) shows the epochs as they finish (``show``: see :func:`utils.training.progress.bar`).
    """
    def run_epoch() -> float:
        reset_states(model)
        history = model.fit(*train, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        return history.history["loss"][-1]

    def validate() -> float:
        reset_states(model)
        return float(np.ravel(model.evaluate(*validation, batch_size=batch_size, verbose=0))[0])

    log = _fit_epochs(model, run_epoch, validate, epochs, patience, name, show)
    reset_states(model)
    return log


def windows(ids: Any, length: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive, non-overlapping windows of ``length`` ids from ``offset`` on, and the next ids:
    inputs ``ids[offset + k L : offset + (k + 1) L]`` and targets shifted by one, each (n, L)."""
    ids = np.asarray(ids)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a whole number of at least 1, got {length!r}.")
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
        raise ValueError(f"offset must be a whole number of at least 0, got {offset!r}.")
    count = (len(ids) - 1 - offset) // length
    if count < 1:
        raise ValueError(f"{len(ids)} ids hold no window of {length} (and its targets) from offset {offset}.")
    inputs = ids[offset: offset + count * length].reshape(count, length)
    return inputs, ids[offset + 1: offset + 1 + count * length].reshape(count, length)


def fit_windows(model: keras.Model, train_ids: Any, validation_ids: Any, length: int, batch_size: int, epochs: int,
                patience: int = 2, seed: int = 0, name: str = "model", show: bool | None = None) -> TrainingLog:
    """Train a causal (stateless) language model on windows of ``length`` characters, epoch by epoch.

    Every epoch cuts the training text into :func:`windows` from a new random offset, so the windows'
    edges fall in different places, and shuffles them, keeping whole batches only (the last few windows
    that fill no batch are left out that epoch: a batch of another shape would be compiled again);
    the validation text is cut once from offset 0.
    Keeps the weights of the best validation epoch, stops after ``patience`` epochs without a better
    one. The model's loss must be the cross-entropy in nats (Keras's), reported here in bits.
    A live line (and curve) shows the epochs as they finish (``show``: see :func:`utils.training.progress.bar`).
    """
    rng = np.random.default_rng(seed)
    validation = windows(validation_ids, length)

    def run_epoch() -> float:
        x, y = windows(train_ids, length, int(rng.integers(length)))
        full = len(x) - len(x) % batch_size or len(x)   # whole batches only: one batch shape, compiled once
        return model.fit(x[:full], y[:full], batch_size=batch_size, epochs=1, shuffle=True,
                         verbose=0).history["loss"][-1]

    def validate() -> float:
        return float(np.ravel(model.evaluate(*validation, batch_size=4 * batch_size, verbose=0))[0])

    return _fit_epochs(model, run_epoch, validate, epochs, patience, name, show)


def windowed_bits(logits_of: Any, ids: Any, context: int, stride: int) -> float:
    """Bits per character of ``ids[1:]`` under a causal model that reads at most ``context`` characters.

    Windows of ``context`` ids start every ``stride`` ids; each character is scored once, in the first
    window that holds it with the most context: with ``stride == context`` the text is cut into chunks
    (a character has 0 to ``context - 1`` characters before it), with a smaller stride every
    character after the first window has at least ``context - stride``. ``logits_of(windows)`` maps
    (N, context) ids to (N, context, V) logits.
    """
    ids = np.asarray(ids)
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or not 1 <= stride <= context:
        raise ValueError(f"stride must be a whole number between 1 and the context {context}, got {stride!r}.")
    if len(ids) < context + 1:
        raise ValueError(f"the text has {len(ids)} ids, fewer than the context {context} plus one.")
    starts = list(range(0, len(ids) - context, stride))
    if starts[-1] != len(ids) - 1 - context:
        starts.append(len(ids) - 1 - context)                    # the last window ends at the last target
    inputs = np.stack([ids[s: s + context] for s in starts])
    logits = np.asarray(logits_of(inputs))
    total, count, scored_to = 0.0, 0, 0                           # targets ids[1 .. scored_to] are done
    for row, s in enumerate(starts):
        first = max(scored_to - s, 0)                             # the window's first position not yet scored
        targets = ids[s + 1 + first: s + 1 + context]
        if len(targets):
            total += bits_per_character(logits[row, first:], targets) * len(targets)
            count += len(targets)
        scored_to = s + context
    return total / count


def windowed_step(logits_of: Any, context: int) -> Any:
    """A step function for :func:`utils.decoding.sampling.generate` from a causal model that reads ``context`` ids.

    The state is the list of ids read so far. Each step runs the model on one window of exactly
    ``context`` ids (the last ones, or the first ones padded on the right with id 0 while fewer have
    been read: a causal model does not look at the padding), so the model sees one shape only, and
    returns the distribution of the next id from the last id's position.
    """
    def step(last_id: int, state: list[int] | None) -> tuple[np.ndarray, list[int]]:
        read = [*(state or []), int(last_id)][-context:]
        window = np.zeros((1, context), dtype=np.int32)
        window[0, :len(read)] = read
        logits = np.asarray(logits_of(window))[0, len(read) - 1]
        return np.exp(log_softmax(logits)), read

    return step


def context_windows(ids: Any, positions: Any, context: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``context`` characters that end at each of ``positions``, and the character after each.

    Row ``r`` of the windows is ``ids[p - context + 1 : p + 1]`` for ``p = positions[r]``, the target
    ``ids[p + 1]``: what a model that may read only the last ``context`` characters predicts from.
    """
    ids, positions = np.asarray(ids), np.asarray(positions, dtype=int)
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 1:
        raise ValueError(f"context must be a whole number of at least 1, got {context!r}.")
    if positions.ndim != 1 or len(positions) == 0:
        raise ValueError("give the positions to score as a non-empty 1-D array.")
    if positions.min() < context - 1 or positions.max() + 1 >= len(ids):
        raise ValueError(f"every position needs {context - 1} characters before it and one after it in the "
                         f"{len(ids)} ids; the positions run from {positions.min()} to {positions.max()}.")
    windows = ids[positions[:, None] + np.arange(1 - context, 1)[None, :]]
    return windows, ids[positions + 1]


def bits_with_context(logits_of: Any, ids: Any, positions: Any, context: int) -> float:
    """Bits per character of the characters after ``positions`` when the model reads only ``context`` of them.

    ``logits_of(windows)`` maps (N, context) ids to (N, context, V) logits (a causal language model);
    the prediction for each target is the logits at the window's last position. The reference of
    exercise 9.4.
    """
    windows, targets = context_windows(ids, positions, context)
    logits = np.asarray(logits_of(windows))
    if logits.ndim != 3 or logits.shape[:2] != windows.shape:
        raise ValueError(f"logits_of returned shape {logits.shape} for windows of shape {windows.shape}; "
                         "it must return (windows, context, vocabulary) logits.")
    return bits_per_character(logits[:, -1], targets)

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
- Models compared and combined through the probability each gave the characters that came
  (:func:`target_probabilities`, :func:`bits`): a linear :func:`mixture` of two models with its
  weight chosen on validation text (:func:`choose_mixture_weight`), the cost of each model within
  bins of a per-character measure (:func:`bits_by_bin`), and *dynamic evaluation* (Krause et al.
  2018): :class:`AdaptingModel` and :func:`dynamic_evaluation` score each chunk of a text and then
  take one gradient step on it, so the model keeps learning as it reads without ever scoring a
  character with weights that learned from it (:func:`dynamic_probabilities`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from utils.models import cells, gated
from utils.stats.bootstrap import block_bootstrap_interval  # noqa: F401  (chapter 6 calls it as lm.block_bootstrap_interval)
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


# Probabilities of the true next character: mixtures and models that adapt as they read ----------------

def target_probabilities(logits: Any, targets: Any) -> np.ndarray:
    """``softmax(logits)[target]`` at every position: the probability a model gave the character that came.

    Shapes as in :func:`bits_per_character`; returns float64 of the targets' shape. Its
    ``-log2``, averaged, is :func:`bits_per_character`.
    """
    logits, targets = np.asarray(logits, dtype=np.float64), np.asarray(targets)
    bits_per_character(logits, targets)  # the same checks, with the same messages
    return np.exp(np.take_along_axis(log_softmax(logits), targets[..., None], axis=-1)[..., 0])


def _check_probabilities(probabilities: Any, name: str) -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array: the probability of each character that came, "
                         f"got shape {p.shape}.")
    if not np.isfinite(p).all() or (p <= 0).any() or (p > 1 + 1e-9).any():
        raise ValueError(f"{name} must hold probabilities in (0, 1]; a model that gives a character that came "
                         "probability 0 cannot be scored in bits.")
    return p


def bits(probabilities: Any) -> float:
    """Bits per character from the probabilities of the characters that came: the mean of ``-log2 p``."""
    return float(-np.mean(np.log2(_check_probabilities(probabilities, "probabilities"))))


def _check_weight(weight: Any) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)) \
            or not 0.0 <= weight <= 1.0:
        raise ValueError(f"the mixture weight must be a number from 0 to 1, got {weight!r}.")
    return float(weight)


def mixture(first: Any, second: Any, weight: float) -> np.ndarray:
    """``weight * first + (1 - weight) * second``: the linear mixture of two models' probabilities.

    ``first`` and ``second`` are the probabilities two models gave the same characters (1-D, equal
    lengths). A mixture of two distributions is a distribution, so this is the probability the mixed
    model gives each character.
    """
    first, second = _check_probabilities(first, "first"), _check_probabilities(second, "second")
    if first.shape != second.shape:
        raise ValueError(f"first and second must score the same characters: got {len(first)} and {len(second)} "
                         "probabilities.")
    weight = _check_weight(weight)
    return weight * first + (1.0 - weight) * second


def choose_mixture_weight(first: Any, second: Any, weights: Any = None) -> tuple[float, dict[float, float]]:
    """The weight of ``first`` that gives the lowest bits per character, and the score of every weight tried.

    Call it on validation probabilities, then mix the test probabilities with that weight.
    ``weights`` defaults to 0, 0.01, ..., 1 (the lower weight wins a tie).
    """
    grid = np.round(np.linspace(0.0, 1.0, 101), 2) if weights is None else np.asarray(weights, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError("weights must be a non-empty 1-D list of numbers from 0 to 1.")
    scores = {float(w): bits(mixture(first, second, float(w))) for w in grid}
    best = min(scores, key=lambda w: (scores[w], w))
    return best, scores


def bits_by_bin(probabilities: Mapping[str, Any], lengths: Any, edges: Sequence[int]) -> dict[str, Any]:
    """Bits per character of each model within bins of ``lengths`` (say, each character's repeat length).

    Bin ``k`` holds the characters with ``edges[k] <= length < edges[k + 1]`` (the last bin has no upper
    end). Returns ``{"bins": labels, "characters": counts, name: bits per bin (NaN where empty)...}``.
    """
    lengths = np.asarray(lengths)
    edges = [int(edge) for edge in edges]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must be a non-empty increasing list of whole numbers, got {edges}.")
    which = np.searchsorted(edges, lengths, side="right") - 1  # -1: below the first edge, left out
    labels = [f"{a}-{b - 1}" if b - 1 > a else f"{a}" for a, b in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
    table: dict[str, Any] = {"bins": labels,
                             "characters": np.bincount(which[which >= 0], minlength=len(edges))}
    for name, p in probabilities.items():
        p = _check_probabilities(p, name)
        if p.shape != lengths.shape:
            raise ValueError(f"{name} has {len(p)} probabilities for {len(lengths)} lengths: one each.")
        cost = -np.log2(p)
        table[name] = np.array([cost[which == k].mean() if (which == k).any() else np.nan
                                for k in range(len(edges))])
    return table


class AdaptingModel:
    """A copy of a trained ``Embedding -> recurrent -> Dense`` model that takes its state as input and can learn.

    :meth:`predict` gives the next-character distributions of a chunk read from a given state, and
    the state after it; :meth:`learn` takes one plain gradient step (SGD, ``learning_rate``) on the
    chunk's cross-entropy, read from the same starting state. Dropout layers are left out (it is
    inference) and recurrent layers copy their configuration without dropout, statefulness or
    sequence-level masking; the weights are copies, so the trained model never changes.
    """

    def __init__(self, model: keras.Model, learning_rate: float) -> None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)) \
                or not learning_rate >= 0:
            raise ValueError(f"learning_rate must be a number >= 0 (0: the fixed model), got {learning_rate!r}.")
        kinds = (keras.layers.SimpleRNN, keras.layers.LSTM, keras.layers.GRU)
        parts = [layer for layer in model.layers if not isinstance(layer, (keras.layers.InputLayer,
                                                                           keras.layers.Dropout))]
        if len(parts) < 3 or not isinstance(parts[0], keras.layers.Embedding) \
                or not isinstance(parts[-1], keras.layers.Dense) \
                or not all(isinstance(layer, kinds) for layer in parts[1:-1]):
            raise ValueError("the model must be Embedding, then SimpleRNN, LSTM or GRU layers, then a Dense layer "
                             "(Dropout layers between them are allowed).")
        ids = keras.Input(shape=(None,), dtype="int32")
        hidden = type(parts[0]).from_config(parts[0].get_config())(ids)
        self.state_inputs: list[Any] = []
        state_outputs: list[Any] = []
        copies = []
        for layer in parts[1:-1]:
            config = {**layer.get_config(), "stateful": False, "return_state": True, "return_sequences": True,
                      "dropout": 0.0, "recurrent_dropout": 0.0}
            copy = type(layer).from_config(config)
            states = [keras.Input(shape=(layer.units,)) for _ in range(2 if isinstance(layer, keras.layers.LSTM)
                                                                        else 1)]
            hidden, *new_states = copy(hidden, initial_state=states)
            self.state_inputs += states
            state_outputs += new_states
            copies.append(copy)
        logits = type(parts[-1]).from_config(parts[-1].get_config())(hidden)
        self.reader = keras.Model([ids, *self.state_inputs], [logits, *state_outputs])
        self.learner = keras.Model([ids, *self.state_inputs], logits)  # the same layers: one set of weights
        new_layers = [layer for layer in self.reader.layers if layer.weights]
        for old, new in zip(parts, new_layers, strict=True):
            new.set_weights(old.get_weights())
        self.learner.compile(optimizer=keras.optimizers.SGD(float(learning_rate)),
                             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        self.learning_rate = float(learning_rate)

    def initial_state(self) -> list[np.ndarray]:
        """Zero states for one sequence."""
        return [np.zeros((1, int(state.shape[-1])), dtype="float32") for state in self.state_inputs]

    def predict(self, inputs: Any, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The next-character distributions after each id of ``inputs`` ``(T,)`` read from ``state``: ``(T, V)``,
        and the state after the last one."""
        logits, *new_state = self.reader.predict_on_batch([np.asarray(inputs, dtype="int32")[None, :], *state])
        return np.exp(log_softmax(np.asarray(logits)[0])), [np.asarray(s) for s in new_state]

    def learn(self, inputs: Any, targets: Any, state: list[np.ndarray]) -> None:
        """One SGD step on the cross-entropy of ``targets`` after ``inputs`` (both ``(T,)``), read from ``state``."""
        if self.learning_rate > 0:
            self.learner.train_on_batch([np.asarray(inputs, dtype="int32")[None, :], *state],
                                        np.asarray(targets, dtype="int32")[None, :])


def dynamic_evaluation(predict: Any, learn: Any, ids: Any, chunk: int, state: Any) -> np.ndarray:
    """P(ids[t] | ids[:t]) for ``t = 1 .. len(ids) - 1`` from a model that learns from each chunk once it is scored.

    Exercise 6.4's reference. The text is read in chunks of ``chunk`` inputs (the last may be
    shorter). For each: ``predict(inputs, state) -> (distributions, state after)`` scores the chunk's
    targets (the inputs shifted by one) with the weights as they are; then ``learn(inputs, targets,
    state)`` takes a gradient step on that chunk, read from the same starting state; then the state
    after the chunk is carried on. No character is scored by weights that have learned from it.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError("ids must be a 1-D array of at least two character ids (one input, one target).")
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a whole number of at least 1, got {chunk!r}.")
    scored = []
    for begin in range(0, len(ids) - 1, chunk):
        targets = ids[begin + 1: begin + 1 + chunk]
        inputs = ids[begin: begin + len(targets)]
        distributions, after = predict(inputs, state)
        scored.append(np.asarray(distributions)[np.arange(len(targets)), targets])
        learn(inputs, targets, state)
        state = after
    return np.concatenate(scored)


def dynamic_probabilities(model: keras.Model, ids: Any, learning_rate: float, chunk: int = 100,
                          start: int = 1) -> np.ndarray:
    """P(ids[t] | ids[:t]) for ``t = start .. len(ids) - 1`` under dynamic evaluation (Krause et al. 2018).

    An :class:`AdaptingModel` copy of ``model`` reads ``ids`` from a zero state in chunks of ``chunk``
    characters and takes one SGD step of ``learning_rate`` on each chunk after scoring it
    (:func:`dynamic_evaluation`); ``learning_rate=0`` is the fixed model read continuously. The first
    ``start - 1`` targets (a warm-up, whose chunks the model also learns from) are not returned.
    """
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 1 <= start < len(ids):
        raise ValueError(f"start must be a whole number from 1 to len(ids) - 1 = {len(ids) - 1}, got {start!r}.")
    adapting = AdaptingModel(model, learning_rate)
    return dynamic_evaluation(adapting.predict, adapting.learn, ids, chunk, adapting.initial_state())[start - 1:]

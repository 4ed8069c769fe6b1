"""Batches and small layers for the encoder-decoder models of chapters 7-9.

:class:`PairBatches` turns encoded (source, target) pairs into teacher-forcing batches for
``model.fit``: ``((source, decoder input), decoder target, weights)``, where the weights are 0 on
padding so that the loss ignores it. Pairs are *bucketed* by source length: each batch takes
pairs of similar length, padded to its bucket's fixed lengths, so that little time goes into
padding and the backends see only a few batch shapes (each new shape costs a compilation).
Sources are padded on the left, so the encoder's last step reads the last real character.

Every batch has ``batch_size`` rows: a bucket's last, partial batch is completed with empty rows
of weight 0. On TensorFlow, Keras reads the shapes of the first two batches to decide which
dimensions vary; the first two batches therefore come from the buckets with the shortest and the
longest targets, so that both lengths are seen to vary.

The helpers below train a teacher-forcing model with early stopping (:func:`train`), compare a
training model with its step-by-step decoder (:func:`teacher_and_step_probabilities`) and
measure teacher-forced accuracy (:func:`teacher_forced_accuracy`), for every model of chapters 7-9, and
read an attention model's weights on every pair (:func:`teacher_forced_weights`, chapter 8).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from utils.decoding import search
from utils.models.kvcache import CachedDecoder, DecoderCache
from utils.training import progress
from utils.data.tokens import PAD, TokenVocab, pad, teacher_forcing


def encode_pairs(sources: Sequence[str], targets: Sequence[str], source_vocab: TokenVocab,
                 target_vocab: TokenVocab, *, reverse_source: bool = False
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Source ids (reversed when ``reverse_source``, as Sutskever et al. feed them) and target ids with the end token."""
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources for {len(targets)} targets: give one target per source.")
    source_ids = [source_vocab.encode(s)[::-1].copy() if reverse_source else source_vocab.encode(s) for s in sources]
    return source_ids, [target_vocab.encode(t, end=True) for t in targets]


def bucket_edges(lengths: Sequence[int] | np.ndarray, n_buckets: int) -> np.ndarray:
    """The longest source length of each bucket: quantiles of ``lengths``, the last one the maximum."""
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        raise ValueError("no lengths given: there must be at least one pair.")
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1, got {n_buckets}.")
    edges = np.quantile(lengths, np.linspace(0, 1, n_buckets + 1)[1:], method="higher")
    return np.unique(edges.astype(int))


class PairBatches(keras.utils.PyDataset):
    """Teacher-forcing batches of encoded pairs, bucketed by source length (see the module docstring).

    ``edges`` fixes each bucket's longest source (default: quantiles of these sources); give the
    training batches' edges to the validation batches so that they share their shapes (the last
    bucket grows to take a source longer than any in training). With
    ``shuffle`` the pairs are reshuffled within buckets and the batches reordered every epoch; either
    way every pair is in exactly one batch.
    """

    def __init__(self, source_ids: Sequence[np.ndarray], target_ids: Sequence[np.ndarray], batch_size: int, *,
                 n_buckets: int = 4, edges: np.ndarray | None = None, shuffle: bool = True, seed: int = 0) -> None:
        super().__init__()
        if len(source_ids) != len(target_ids) or len(source_ids) == 0:
            raise ValueError(f"give as many targets as sources, at least one: got {len(source_ids)} and {len(target_ids)}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.source_ids, self.target_ids = list(source_ids), list(target_ids)
        self.batch_size, self.shuffle = int(batch_size), shuffle
        lengths = np.array([len(s) for s in self.source_ids])
        self.edges = bucket_edges(lengths, n_buckets) if edges is None else np.array(edges, dtype=int)
        self.edges[-1] = max(self.edges[-1], lengths.max())  # the last bucket takes longer sources too
        self.bucket = np.searchsorted(self.edges, lengths, side="left")
        target_lengths = np.array([len(t) for t in self.target_ids])
        self.target_length = {b: int(target_lengths[self.bucket == b].max()) for b in np.unique(self.bucket)}
        self.rng = np.random.default_rng(seed)
        self.batches: list[np.ndarray] = []
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        batches = []
        for b in np.unique(self.bucket):
            members = np.flatnonzero(self.bucket == b)
            if self.shuffle:
                members = self.rng.permutation(members)
            batches += [members[i:i + self.batch_size] for i in range(0, len(members), self.batch_size)]
        if self.shuffle:
            batches = [batches[i] for i in self.rng.permutation(len(batches))]
        self.batches = self._shapes_first(batches)

    def _shapes_first(self, batches: list[np.ndarray]) -> list[np.ndarray]:
        """The batches with one of the shortest and one of the longest targets in front (see the module doc)."""
        buckets = [int(self.bucket[members[0]]) for members in batches]
        lengths = [self.target_length[b] for b in buckets]
        if len(set(buckets)) < 2:
            return batches
        first = int(np.argmin(lengths))
        second = next(i for i, b in enumerate(buckets) if b != buckets[first]
                      and lengths[i] == max(lengths[j] for j in range(len(batches)) if buckets[j] != buckets[first]))
        rest = [members for i, members in enumerate(batches) if i not in (first, second)]
        return [batches[first], batches[second], *rest]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
        members = self.batches[index]
        bucket = int(self.bucket[members[0]])
        pairs = [teacher_forcing(self.target_ids[i]) for i in members]
        empty = [np.zeros(0, dtype=np.int32)] * (self.batch_size - len(members))  # completes a partial batch
        length = self.target_length[bucket]
        decoder_input = pad([p[0] for p in pairs] + empty, length)
        decoder_target = pad([p[1] for p in pairs] + empty, length)
        source = pad([self.source_ids[i] for i in members] + empty, int(self.edges[bucket]), side="left")
        weights = (decoder_target != PAD).astype("float32")
        return (source, decoder_input), decoder_target, weights


@keras.saving.register_keras_serializable(package="course")
class RepeatOverTime(keras.layers.Layer):
    """``c`` of shape (batch, d) repeated along the time axis of ``like`` (batch, T, ...): (batch, T, d)."""

    def call(self, c, like):
        steps = ops.shape(like)[1]
        return ops.repeat(ops.expand_dims(c, 1), steps, axis=1)

    def compute_output_shape(self, c_shape, like_shape):
        return (c_shape[0], like_shape[1], c_shape[-1])


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities from logits along the last axis, in float64, stable for large logits."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def translate(sources: Sequence[str], source_vocab: TokenVocab, target_vocab: TokenVocab,
              encode: Callable[[np.ndarray], list[np.ndarray]], step: search.StepFunction, *,
              edges: np.ndarray, max_length: int, beam_width: int = 1, alpha: float = 0.0,
              reverse_source: bool = False) -> tuple[list[str], search.Decoded]:
    """Decode ``sources`` into target texts with greedy decoding (``beam_width=1``) or beam search.

    ``encode(source_batch)`` returns the decoder's initial states for a (batch, length) array of
    left-padded source ids; ``step`` is a step function (see :mod:`utils.decoding.search`). The sources
    are grouped by the training buckets ``edges`` and padded as in training. Returns the texts and
    the :class:`utils.decoding.search.Decoded` result, both in the order of ``sources``.
    """
    if len(sources) == 0:
        raise ValueError("no sources to translate.")
    source_ids = [source_vocab.encode(s)[::-1].copy() if reverse_source else source_vocab.encode(s) for s in sources]
    lengths = np.array([len(s) for s in source_ids])
    groups = np.minimum(np.searchsorted(edges, lengths, side="left"), len(edges) - 1)
    texts: list[str] = [""] * len(sources)
    token_lists: list[np.ndarray] = [np.zeros(0, dtype=np.int32)] * len(sources)
    scores, finished = np.zeros(len(sources)), np.zeros(len(sources), dtype=bool)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        width = max(int(edges[group]), int(lengths[members].max()))
        states = encode(pad([source_ids[i] for i in members], width, side="left"))
        if beam_width == 1:
            decoded = search.greedy_decode(step, states, max_length=max_length)
        else:
            decoded = search.beam_search(step, states, beam_width=beam_width, max_length=max_length, alpha=alpha)
        for row, i in enumerate(members):
            texts[i], token_lists[i] = target_vocab.decode(decoded.tokens[row]), decoded.tokens[row]
        scores[members], finished[members] = decoded.scores, decoded.finished
    return texts, search.Decoded(token_lists, scores, finished)


@dataclass(frozen=True)
class Translator:
    """:func:`translate` with one task's parts filled in: vocabularies, training buckets, length cap.

    A chapter binds its task once, ``translate = Translator(source_vocab, target_vocab, edges,
    max_length)``, then decodes with any model: ``translate(sources, encode, step, beam_width=4)``.
    """

    source_vocab: TokenVocab
    target_vocab: TokenVocab
    edges: np.ndarray
    max_length: int

    def __call__(self, sources: Sequence[str], encode: Callable[[np.ndarray], list[np.ndarray]],
                 step: search.StepFunction, *, beam_width: int = 1, alpha: float = 0.0,
                 reverse_source: bool = False) -> tuple[list[str], search.Decoded]:
        return translate(sources, self.source_vocab, self.target_vocab, encode, step, edges=self.edges,
                         max_length=self.max_length, beam_width=beam_width, alpha=alpha,
                         reverse_source=reverse_source)


def step_function(step_model: keras.Model) -> search.StepFunction:
    """The step function (see :mod:`utils.decoding.search`) of a Keras step model.

    The model takes ``[tokens (N, 1), *states]`` and returns ``[logits (N, 1, V), *new states]``;
    the step function returns the log-probabilities (N, V) and the new states, as NumPy arrays.
    """
    def step(token_ids: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        logits, *new_states = step_model.predict_on_batch([np.asarray(token_ids)[:, None], *states])
        return log_softmax(np.asarray(logits)[:, 0]), [np.asarray(s) for s in new_states]

    return step


def prefix_step_function(decoder: keras.Model, *, block: int = 16) -> search.StepFunction:
    """The step function of a decoder that reads its whole prefix at every step (a transformer's).

    ``decoder`` takes ``[prefix (N, t), *encoder states]`` and returns the logits of every prefix
    position (N, t, V). The step function's states are ``[*encoder states, written, position]``:
    ``written`` (N, L) holds the tokens so far and ``position`` (N,) where the next one goes (start
    both at 0: see :func:`prefix_encode_function`). The prefix is cut to the next multiple of
    ``block`` positions, so the decoder sees few shapes (each new shape costs a compilation) and
    never more than ``block - 1`` positions beyond the prefix; a causal decoder ignores those.
    """
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a whole number of at least 1, got {block!r}.")

    def step(token_ids: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        *encoded, written, position = states
        rows, position = np.arange(len(token_ids)), np.asarray(position).astype(int)
        if position.max() >= written.shape[1]:
            raise ValueError(f"the prefix is full ({written.shape[1]} positions): decode with a smaller "
                             "max_length or give prefix_encode_function a longer one.")
        written = np.array(written, copy=True)
        written[rows, position] = token_ids
        width = min(written.shape[1], -(-(int(position.max()) + 1) // block) * block)
        logits = np.asarray(decoder.predict_on_batch([written[:, :width], *encoded]))
        return log_softmax(logits[rows, position]), [*encoded, written, position + 1]

    return step


def prefix_encode_function(encoder: keras.Model, max_length: int) -> Callable[[np.ndarray], list[np.ndarray]]:
    """The initial states of :func:`prefix_step_function` for a batch of source ids: the encoder's outputs,
    an empty prefix of ``max_length`` positions and the position 0."""
    encode = encode_function(encoder)

    def initial(source: np.ndarray) -> list[np.ndarray]:
        states = encode(source)
        return [*states, np.full((len(source), int(max_length)), PAD, dtype=np.int32),
                np.zeros(len(source), dtype=np.int32)]

    return initial


def cached_encode_function(encoder: keras.Model, decoder: CachedDecoder,
                           size: int) -> Callable[[np.ndarray], list[np.ndarray]]:
    """The initial states of :func:`cached_step_function`: ``encoder`` (source ids -> [memory, key mask]) is
    run once, ``decoder`` (a :class:`utils.models.kvcache.CachedDecoder` over the translator's decoder
    layers) projects the memory's cross-attention keys and values once and starts an empty cache of ``size``
    positions (at least the ``max_length`` that decoding may write).

    The states, every one with a row per source, are: each block's memory keys, then its memory values
    (B, H, Tx, dh), the memory mask (B, 1, 1, Tx), each block's self-attention keys, then values
    (B, H, S, dh), and the position (B,) that the next step writes.
    """
    encode = encode_function(encoder)

    def initial(source: np.ndarray) -> list[np.ndarray]:
        memory, key_mask = encode(source)
        cache = decoder.start(len(source), size, memory, key_mask)
        return [np.asarray(ops.convert_to_numpy(x)) for x in (*cache.memory_keys, *cache.memory_values, cache.memory_mask,
                                                              *cache.keys, *cache.values)] + [np.zeros(len(source), np.int32)]

    return initial


def cached_step_function(decoder: CachedDecoder) -> search.StepFunction:
    """The step function of a translator's decoder run with a key-value cache: one position per step, equal to
    :func:`prefix_step_function` (re-reading the prefix) to float32 rounding. Start it with
    :func:`cached_encode_function`. Every row is at the same position (greedy decoding and beam search
    advance all rows together); the cache refuses a step beyond its size."""
    blocks = len(decoder.blocks)

    def step(token_ids: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        memory_keys, memory_values = states[:blocks], states[blocks:2 * blocks]
        mask, keys, values = states[2 * blocks], states[2 * blocks + 1:3 * blocks + 1], states[3 * blocks + 1:4 * blocks + 1]
        position = np.asarray(states[-1])
        if len(position) and (position != position[0]).any():
            raise ValueError("the rows of a cached decoder must all be at the same position.")
        cache = DecoderCache([ops.convert_to_tensor(k) for k in keys], [ops.convert_to_tensor(v) for v in values],
                             [ops.convert_to_tensor(k) for k in memory_keys],
                             [ops.convert_to_tensor(v) for v in memory_values], ops.convert_to_tensor(mask),
                             int(position[0]) if len(position) else 0, int(np.asarray(keys[0]).shape[2]))
        logits, cache = decoder.step(ops.convert_to_tensor(np.asarray(token_ids, dtype=np.int32)), cache)
        new = [ops.convert_to_numpy(x) for x in (*cache.keys, *cache.values)]
        return log_softmax(ops.convert_to_numpy(logits)), [*states[:2 * blocks + 1], *new, position + 1]

    return step


def encode_function(encoder: keras.Model) -> Callable[[np.ndarray], list[np.ndarray]]:
    """The decoder's initial states for a batch of source ids, from a Keras encoder model, as NumPy arrays."""
    def encode(source: np.ndarray) -> list[np.ndarray]:
        states = encoder.predict_on_batch(source)
        return [np.asarray(s) for s in (states if isinstance(states, (list, tuple)) else [states])]

    return encode


def train(model: keras.Model, batches: PairBatches, validation: PairBatches, epochs: int, *,
          learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 3e-3,
          patience: int = 2) -> tuple[dict[str, list[float]], float]:
    """Train with teacher forcing and early stopping on the validation loss; keep the best epoch's weights.

    Adam with global gradient-norm clipping at 1 (``learning_rate`` a number or a Keras schedule, which
    counts training steps: ``len(batches)`` per epoch), the cross-entropy of the next token from logits,
    weighted by the batches' weights (0 on padding). Training stops when the validation loss has
    not improved for ``patience`` epochs, or after ``epochs``. Shows a live line and learning curve
    in full mode (:mod:`utils.training.progress`), prints one line when done, returns the
    history (``loss``, ``val_loss`` and ``seconds``, the wall time from the start of training to the
    end of each epoch's validation) and the seconds taken.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a whole number of at least 1, got {epochs!r}.")
    model.compile(keras.optimizers.Adam(learning_rate, global_clipnorm=1.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    start = time.perf_counter()
    shown = progress.TrainingProgress(model.name, plot=True)
    clock: list[float] = []
    timed = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: clock.append(time.perf_counter() - start))
    history = model.fit(batches, validation_data=validation, epochs=int(epochs), callbacks=[stop, shown, timed],
                        verbose=0)
    seconds = time.perf_counter() - start
    history.history["seconds"] = clock
    best = int(np.argmin(history.history["val_loss"]))
    print(f"{model.name}: {len(history.history['loss'])} epochs in {seconds:.0f} s; best validation loss "
          f"{history.history['val_loss'][best]:.4f} after epoch {best + 1}")
    return history.history, seconds


def teacher_and_step_probabilities(training: keras.Model, encode: Callable[[np.ndarray], list[np.ndarray]],
                                   step: search.StepFunction, batch: tuple, rows: int = 16
                                   ) -> tuple[np.ndarray, np.ndarray]:
    """The next-token probabilities of the training model and of the step-by-step decoder, on one batch.

    ``batch`` is one item of :class:`PairBatches`. The decoder is fed the true previous tokens one
    step at a time (the same prefix as teacher forcing). Returns both (positions, V) arrays at the
    real (weight 1) positions of the batch's first ``rows`` non-empty rows: equal up to rounding
    when the two models share their weights.
    """
    (source, decoder_input), _, weights = batch
    kept = np.flatnonzero(np.asarray(weights).sum(axis=1) > 0)[:rows]
    if len(kept) == 0:
        raise ValueError("the batch has no real positions (every weight is 0): give a batch with pairs in it.")
    source, decoder_input, real = source[kept], decoder_input[kept], np.asarray(weights)[kept] > 0
    teacher = np.exp(log_softmax(np.asarray(training.predict_on_batch([source, decoder_input]))))
    states, stepped = encode(source), []
    for t in range(decoder_input.shape[1]):
        log_probs, states = step(decoder_input[:, t], states)
        stepped.append(np.exp(log_probs))
    return teacher[real], np.stack(stepped, axis=1)[real]


def teacher_forced_accuracy(model: keras.Model, batches: PairBatches) -> float:
    """The share of real target tokens that the training model predicts right when fed the true prefix."""
    right = total = 0
    for i in range(len(batches)):
        inputs, target, weights = batches[i]
        predicted = np.argmax(np.asarray(model.predict_on_batch(inputs)), axis=-1)
        right += int(((predicted == target) * weights).sum())
        total += int(weights.sum())
    if total == 0:
        raise ValueError("the batches hold no real target tokens.")
    return right / total


def _source_groups(source_ids: Sequence[np.ndarray], edges: np.ndarray) -> list[tuple[int, np.ndarray, int]]:
    """The pairs grouped by the training buckets ``edges`` of their source lengths: for each group, its
    bucket, the indices of its pairs and the width its sources are padded to (the bucket's, or the
    longest source's where one is longer), as in training."""
    lengths = np.array([len(s) for s in source_ids])
    groups = np.minimum(np.searchsorted(edges, lengths, side="left"), len(edges) - 1)
    return [(int(group), members, max(int(edges[group]), int(lengths[members].max())))
            for group in np.unique(groups) for members in [np.flatnonzero(groups == group)]]


def teacher_forced_predictions(model: keras.Model, source_ids: Sequence[np.ndarray], target_ids: Sequence[np.ndarray],
                               edges: np.ndarray, *, decoder_inputs: Sequence[np.ndarray] | None = None,
                               batch_size: int = 64) -> list[np.ndarray]:
    """The training model's most likely next token at every step of every target, in the order of the pairs.

    The decoder reads the true prefix (``decoder_inputs`` default to the start token and the target
    without its last token); pass other decoder inputs, of the targets' lengths, to feed it a changed
    prefix. Sources are grouped by the training buckets ``edges`` and padded on the left as in
    training; each group is cut into batches of ``batch_size`` rows, a partial one completed with
    empty rows. Returns one (len(target),) int array per pair: compare it with the target.
    """
    if len(source_ids) != len(target_ids) or len(source_ids) == 0:
        raise ValueError(f"give as many targets as sources, at least one: got {len(source_ids)} and {len(target_ids)}.")
    inputs = [teacher_forcing(t)[0] for t in target_ids] if decoder_inputs is None else list(decoder_inputs)
    if len(inputs) != len(target_ids) or any(len(i) != len(t) for i, t in zip(inputs, target_ids, strict=True)):
        raise ValueError("give one decoder input per target, each as long as its target.")
    predicted: list[np.ndarray] = [np.zeros(0, dtype=np.int32)] * len(source_ids)
    empty = np.zeros(0, dtype=np.int32)
    for _, members, width in _source_groups(source_ids, edges):
        target_width = max(len(target_ids[i]) for i in members)
        for first in range(0, len(members), batch_size):
            chunk = members[first:first + batch_size]
            filler = [empty] * (batch_size - len(chunk))
            source = pad([source_ids[i] for i in chunk] + filler, width, side="left")
            decoder_input = pad([inputs[i] for i in chunk] + filler, target_width)
            best = np.argmax(np.asarray(model.predict_on_batch([source, decoder_input])), axis=-1)
            for row, i in enumerate(chunk):
                predicted[i] = best[row, : len(target_ids[i])].astype(np.int32)
    return predicted


def teacher_forced_weights(weights_model: keras.Model, source_ids: Sequence[np.ndarray],
                           target_ids: Sequence[np.ndarray], edges: np.ndarray, *,
                           target_widths: dict[int, int] | None = None, masked: bool = True,
                           ) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """The attention weights of every output step of every pair, teacher-forced on its target.

    ``weights_model`` maps ``[source (B, Tx), decoder input (B, T), key mask (B, Tx)]`` to the
    weights (B, T, Tx). The pairs are grouped by the training buckets ``edges`` and padded on the
    left as in training, one batch per group; decoder inputs are padded to ``target_widths[bucket]``
    (the training batches' ``target_length``) or the group's longest target. With ``masked=False``
    the model is handed a mask of ones, so that padding competes for weight.

    Returns, in the order of the pairs, the maps - (len(target), len(source)) weights on the real
    source characters, one row per output step (the last writes the end token) - and, per pair,
    ``(weights (1, len(target), width), real keys (1, width))`` over the padded source, the two
    arguments of :func:`utils.models.attention.padding_share`.
    """
    if len(source_ids) != len(target_ids) or len(source_ids) == 0:
        raise ValueError(f"give as many targets as sources, at least one: got {len(source_ids)} and {len(target_ids)}.")
    maps: list[np.ndarray] = [np.zeros((0, 0))] * len(source_ids)
    padded: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros((1, 0, 0)), np.zeros((1, 0), dtype=bool))] * len(source_ids)
    for bucket, members, width in _source_groups(source_ids, edges):
        steps = max((target_widths or {}).get(bucket, 0), max(len(target_ids[i]) for i in members))
        source = pad([source_ids[i] for i in members], width, side="left")
        decoder_input = pad([teacher_forcing(target_ids[i])[0] for i in members], steps)
        real = source != PAD
        mask = real if masked else np.ones_like(real)
        weights = np.asarray(weights_model.predict_on_batch([source, decoder_input, mask.astype("float32")]))
        for row, i in enumerate(members):
            length = len(target_ids[i])
            maps[i] = weights[row, :length, width - len(source_ids[i]):]
            padded[i] = (weights[row:row + 1, :length], real[row:row + 1])
    return maps, padded


def swapped_prefix_effect(model: keras.Model, source_ids: Sequence[np.ndarray], target_ids: Sequence[np.ndarray],
                          changed_ids: Sequence[np.ndarray], after: Sequence[int], edges: np.ndarray, *,
                          batch_size: int = 64) -> dict[str, np.ndarray]:
    """How well the training model predicts the later tokens of each target after a changed earlier word.

    ``changed_ids[i]`` is target ``i`` with one earlier word changed (same length, end token
    included); positions from ``after[i]`` on read the changed word in their prefix and are scored
    against the true target, once after the true prefix and once after the changed one. Returns
    ``true prefix`` and ``changed prefix`` (right later tokens per pair) and ``later`` (later tokens
    per pair): the inputs of a paired bootstrap.
    """
    if not len(source_ids) == len(target_ids) == len(changed_ids) == len(after):
        raise ValueError("give one source, target, changed target and position per pair.")
    for target, changed, start in zip(target_ids, changed_ids, after, strict=True):
        if len(changed) != len(target) or not 0 < start < len(target):
            raise ValueError("each changed target must be as long as its target, and `after` a position inside it.")
    changed_inputs = [teacher_forcing(c)[0] for c in changed_ids]
    found = {}
    for name, inputs in (("true prefix", None), ("changed prefix", changed_inputs)):
        predicted = teacher_forced_predictions(model, source_ids, target_ids, edges, decoder_inputs=inputs,
                                               batch_size=batch_size)
        found[name] = np.array([(p[a:] == t[a:]).sum() for p, t, a in zip(predicted, target_ids, after, strict=True)],
                               dtype=float)
    found["later"] = np.array([len(t) - a for t, a in zip(target_ids, after, strict=True)], dtype=float)
    return found

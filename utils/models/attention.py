"""Attention layers for chapters 8 and 9: additive (Bahdanau) and multiplicative (Luong), with key masks.

Chapter 8 builds these layers in front of the learner; this module holds the same layers for
the chapters after it (the notebook checks that its layers and these agree). Shapes, for a batch
of ``B`` sequences:

- ``query`` (B, Tq, dq): what is looking, for example the decoder's states;
- ``keys`` (B, Tk, dk): what is looked at, for example the encoder's states;
- ``values`` (B, Tk, dv): what is averaged (the keys themselves when not given);
- ``key_mask`` (B, Tk): True (or 1) at real positions, False (or 0) at padding.

Each layer computes ``scores`` (B, Tq, Tk), turns them into ``weights`` with a softmax over the
keys that leaves the masked keys out (:func:`masked_softmax`), and returns the ``context``
``weights @ values`` (B, Tq, dv) and the weights. Scores:

- :class:`AdditiveAttention` (Bahdanau et al., 2015): ``v^T tanh(W_1 q_i + W_2 k_j)``;
- :class:`MultiplicativeAttention` (Luong et al., 2015): ``q_i . k_j`` (``"dot"``) or
  ``q_i^T W_a k_j`` (``"general"``), optionally divided by ``sqrt(dk)`` (scaled, as in chapter 9).

Shapes are checked when they are known (a symbolic batch size is not), with a sentence that says
what does not fit; the products are ``keras.ops.einsum``, as in ``keras.layers.MultiHeadAttention``,
so that a layer made with ``dtype="float64"`` computes in float64 on every backend
(``keras.ops.matmul`` computes float64 in float32 on PyTorch, following JAX's 32-bit default).

How they map onto Keras's layers, which take ``[query, value, key]`` in that order: Keras's
``AdditiveAttention`` has no ``W_1``, ``W_2``; its ``scale`` (with ``use_scale=True``) is ``v``. So
``AdditiveAttention()([W_1 q, values, W_2 k])`` gives Bahdanau's scores. Keras's ``Attention`` is the
dot product; its ``use_scale`` multiplies the scores by one learned scalar, initialised to 1 (not
``1 / sqrt(d)``); "general" is ``Attention()([q, values, k W])`` with ``W_a = W^T``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

NEGATIVE = -1e9  # a score that the softmax turns into a weight of exactly 0 in float32


def _shape(value: Any) -> tuple:
    """The shape of a tensor or a KerasTensor (None: a size not known yet), or of an array-like."""
    return tuple(np.shape(value))


def _depth(tensor: Any, what: str) -> int | None:
    shape = _shape(tensor)
    if len(shape) != 3:
        raise ValueError(f"{what} must have 3 axes (batch, time, depth); it has shape {shape}.")
    return shape[-1]


def broadcasts(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (NumPy's rules, axes aligned on the right),
    judged on the sizes known now: an unknown size (None, a symbolic batch) fits anything."""
    return len(shape) <= len(target) and all(size is None or wanted is None or size in (1, wanted)
                                             for size, wanted in zip(shape[::-1], target[::-1]))


def check_depth(tensor: Any, built: int, what: str, layer: str) -> None:
    """A clear error when ``tensor``'s last axis is not the depth ``built`` of ``layer``'s weights."""
    depth = _shape(tensor)[-1]
    if depth is not None and depth != built:
        raise ValueError(f"{layer} was built for {what} of depth {built}, and was given {what} of shape "
                         f"{_shape(tensor)} (depth {depth}): call it with depth {built}, or use a new layer, "
                         "which builds its weights for the depth of its first call.")


def checked_key_mask(key_mask: Any, keys: Any) -> Any:
    """The key mask as a boolean (B, 1, Tk) tensor, or a clear error when its shape does not fit the keys
    (B, Tk, ...) (or token ids (B, Tk))."""
    mask_shape, keys_shape = _shape(key_mask), _shape(keys)
    fits = len(mask_shape) == 2 and all(m is None or k is None or m == k
                                        for m, k in zip(mask_shape, keys_shape[:2], strict=True))
    if not fits:
        raise ValueError(f"the key mask has shape {mask_shape}; it must be (batch, key positions) = "
                         f"{keys_shape[:2]}, True at real keys and False at padding.")
    return ops.expand_dims(ops.cast(key_mask, "bool"), axis=1)


def masked_softmax(scores: Any, key_mask: Any | None = None) -> Any:
    """Softmax of (B, Tq, Tk) scores over the keys, with weight exactly 0 on masked keys.

    Masked scores are replaced by -1e9 before the softmax, and the weights are set to 0 there
    after it, so a row whose keys are all masked has weights 0 (Keras's layers give it uniform
    weights instead; the course never asks for such a row).
    """
    if key_mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(key_mask, "bool")
    if len(mask.shape) == 2:
        mask = ops.expand_dims(mask, axis=1)
    if not broadcasts(_shape(mask), _shape(scores)):
        raise ValueError(f"a mask of shape {_shape(key_mask)} does not fit scores of shape {_shape(scores)} "
                         "(batch, queries, keys): give a (batch, keys) key mask with one entry per key, True "
                         "at real keys, or a mask that broadcasts to the scores.")
    weights = ops.softmax(ops.where(mask, scores, NEGATIVE), axis=-1)
    return ops.where(mask, weights, ops.zeros_like(weights))


def attend(scores: Any, values: Any, key_mask: Any | None = None) -> tuple[Any, Any]:
    """``(context, weights)``: the masked softmax of the scores (..., Tq, Tk), and the weighted average of
    the values (..., Tk, dv)."""
    keys, positions = _shape(scores)[-1], _shape(values)[-2]
    if None not in (keys, positions) and keys != positions:
        raise ValueError(f"the values have {positions} positions and the keys {keys}: attention averages one "
                         "value per key, so give values with as many positions as the keys (values of shape "
                         "(batch, keys, depth)).")
    weights = masked_softmax(scores, key_mask)
    return ops.einsum("...qk,...kd->...qd", weights, values), weights


def additive_scores(query: np.ndarray, keys: np.ndarray, w1: np.ndarray, w2: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bahdanau's scores for one sequence, in NumPy: ``scores[i, j] = v . tanh(query[i] W_1 + keys[j] W_2)``.

    ``query`` (Tq, dq), ``keys`` (Tk, dk), ``w1`` (dq, units), ``w2`` (dk, units), ``v`` (units,);
    returns (Tq, Tk). The reference that :class:`AdditiveAttention` is tested against.
    """
    projected_query = np.asarray(query) @ np.asarray(w1)           # (Tq, units)
    projected_keys = np.asarray(keys) @ np.asarray(w2)             # (Tk, units)
    return np.tanh(projected_query[:, None, :] + projected_keys[None, :, :]) @ np.asarray(v)


def padding_share(weights: np.ndarray, key_mask: np.ndarray) -> float:
    """The mean, over every query of every sequence, of the attention weight on padded keys.

    ``weights`` (B, Tq, Tk), ``key_mask`` (B, Tk), True at real keys. 0 when the mask is respected.
    """
    weights, key_mask = np.asarray(weights, dtype=np.float64), np.asarray(key_mask, dtype=bool)
    if weights.ndim != 3 or key_mask.shape != (weights.shape[0], weights.shape[2]):
        raise ValueError(f"weights must be (batch, queries, keys) and the key mask (batch, keys); got "
                         f"{weights.shape} and {key_mask.shape}.")
    return float((weights * ~key_mask[:, None, :]).sum(axis=-1).mean())


@keras.saving.register_keras_serializable(package="course")
class AdditiveAttention(layers.Layer):
    """Bahdanau's attention: ``score(q_i, k_j) = v^T tanh(W_1 q_i + W_2 k_j)``.

    ``W_1`` (dq, units) and ``W_2`` (dk, units) are bias-free ``Dense`` layers, ``v`` (units,) a
    vector. Call with ``(query, keys, values=None, key_mask=None)``; returns ``(context, weights)``.
    """

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a whole number of at least 1, got {units!r}.")
        self.units = units
        self.query_projection = layers.Dense(units, use_bias=False, name="W_1", dtype=self.dtype_policy)
        self.key_projection = layers.Dense(units, use_bias=False, name="W_2", dtype=self.dtype_policy)

    def build(self, query_shape: Any, keys_shape: Any = None, values_shape: Any = None,
              key_mask_shape: Any = None) -> None:
        self.query_projection.build(query_shape)
        self.key_projection.build(keys_shape if keys_shape is not None else query_shape)
        self.v = self.add_weight(shape=(self.units,), initializer="glorot_uniform", name="v")

    def scores(self, query: Any, keys: Any) -> Any:
        """(B, Tq, Tk) scores: ``v . tanh(W_1 q_i + W_2 k_j)`` for every query i and key j."""
        _depth(query, "the query"), _depth(keys, "the keys")
        check_depth(query, self.query_projection.kernel.shape[0], "queries", self.name)
        check_depth(keys, self.key_projection.kernel.shape[0], "keys", self.name)
        # The projections' kernels applied with einsum: Dense's matmul computes a float64 layer in float32
        # on PyTorch (see the module doc).
        projected_query = ops.einsum("bqd,du->bqu", query, self.query_projection.kernel)[:, :, None]
        projected_keys = ops.einsum("bkd,du->bku", keys, self.key_projection.kernel)[:, None]
        # (B, Tq, 1, units) and (B, 1, Tk, units): every query meets every key in the tanh below. The dot
        # product with v is an einsum, not a sum of v * tanh(...): one (B, Tq, Tk, units) tensor fewer to
        # store for the backward pass, which makes training about a fifth faster on every backend.
        return ops.einsum("bqku,u->bqk", ops.tanh(projected_query + projected_keys), self.v)

    def call(self, query: Any, keys: Any, values: Any = None, key_mask: Any = None) -> tuple[Any, Any]:
        values = keys if values is None else values
        mask = None if key_mask is None else checked_key_mask(key_mask, keys)
        return attend(self.scores(query, keys), values, mask)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="course")
class MultiplicativeAttention(layers.Layer):
    """Luong's attention: ``q_i . k_j`` (``kind="dot"``) or ``q_i^T W_a k_j`` (``kind="general"``).

    With ``scaled=True`` the scores are divided by ``sqrt(dk)`` (the scaled dot product of chapter 9).
    ``"dot"`` needs the query and the keys to have the same depth. Call with
    ``(query, keys, values=None, key_mask=None)``; returns ``(context, weights)``.
    """

    def __init__(self, kind: str = "dot", scaled: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if kind not in ("dot", "general"):
            raise ValueError(f"kind must be 'dot' or 'general', got {kind!r}.")
        self.kind, self.scaled = kind, bool(scaled)

    def build(self, query_shape: Any, keys_shape: Any = None, values_shape: Any = None,
              key_mask_shape: Any = None) -> None:
        if self.kind == "general":  # W_a (dq, dk), stored as the kernel that maps the keys into the query's space
            keys_depth = (keys_shape if keys_shape is not None else query_shape)[-1]
            self.key_kernel = self.add_weight(shape=(keys_depth, query_shape[-1]), initializer="glorot_uniform",
                                              name="W_a_transposed")

    def scores(self, query: Any, keys: Any) -> Any:
        """(B, Tq, Tk) scores ``q_i . k_j`` (dot) or ``q_i . (k_j W)`` (general)."""
        query_depth, keys_depth = _depth(query, "the query"), _depth(keys, "the keys")
        if self.kind == "dot" and None not in (query_depth, keys_depth) and query_depth != keys_depth:
            raise ValueError(f"dot-product attention needs the query and the keys to have the same depth; "
                             f"the query has {query_depth}, the keys {keys_depth}. Use kind='general' (a learned "
                             "W_a between them) or project one of them.")
        general = self.kind == "general"
        if general:
            check_depth(query, self.key_kernel.shape[1], "queries", self.name)
            check_depth(keys, self.key_kernel.shape[0], "keys", self.name)
        projected = ops.einsum("bkd,de->bke", keys, self.key_kernel) if general else keys  # (B, Tk, dq)
        scores = ops.einsum("bqe,bke->bqk", query, projected)                               # (B, Tq, Tk)
        if self.scaled:
            scores = scores / ops.sqrt(ops.cast(keys_depth if self.kind == "dot" else query_depth, scores.dtype))
        return scores

    def call(self, query: Any, keys: Any, values: Any = None, key_mask: Any = None) -> tuple[Any, Any]:
        values = keys if values is None else values
        mask = None if key_mask is None else checked_key_mask(key_mask, keys)
        return attend(self.scores(query, keys), values, mask)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kind": self.kind, "scaled": self.scaled}


def alignment_mass(weights: np.ndarray, source_labels: np.ndarray, target_labels: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How much attention each target character puts on the source word it translates.

    ``weights`` (at least Ty rows, Tx columns) are one pair's attention weights, row ``t`` the
    step that writes target character ``t``, columns the source characters (no padding);
    ``source_labels`` (Tx,) and ``target_labels`` (Ty,) say which word of the sentence each
    character spells (-1: none), as :func:`utils.data.numwords.alignment` gives them. For every target
    character whose word is in the source, returns the weight on that word's source characters,
    the same for uniform attention (the chance level: the word's share of the source), and
    whether the most-weighted source character lies in the word.
    """
    weights, source_labels, target_labels = np.asarray(weights), np.asarray(source_labels), np.asarray(target_labels)
    if weights.ndim != 2 or weights.shape[1] != len(source_labels) or weights.shape[0] < len(target_labels):
        raise ValueError(f"weights of shape {weights.shape} do not fit {len(target_labels)} target and "
                         f"{len(source_labels)} source characters: give (target steps, source characters).")
    rows = np.flatnonzero((target_labels >= 0) & np.isin(target_labels, source_labels[source_labels >= 0]))
    same_word = source_labels[None, :] == target_labels[rows][:, None]             # (n, Tx)
    mass = (weights[rows] * same_word).sum(axis=1)
    hit = same_word[np.arange(len(rows)), np.argmax(weights[rows], axis=1)]
    return mass, same_word.mean(axis=1), hit

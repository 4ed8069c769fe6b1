"""Encoder-only transformers for many-to-one classification, and the post-norm block (chapter 10).

A sequence of frames (B, T, n), padded at the end with all-zero frames, is projected to the model's
depth, given a position code (or none), read by chapter 9's pre-norm ``EncoderBlock``s with a padding
mask, normalised, pooled to one vector per sequence and mapped to class scores:

- :class:`FramesAndPosition`: ``x W + b`` plus sinusoidal or learned positions, or none (then the
  encoder is permutation-equivariant and mean pooling makes it order-blind);
- :class:`MaskedMeanPooling`: the mean of the real positions' vectors (padding counts for nothing);
- :class:`ClassToken`: a learned vector put in front of every sequence (BERT's ``[CLS]``), whose output
  is the sequence's summary;
- :func:`frame_mask`: True at real frames (any non-zero value), as ``keras.layers.Masking(0.0)`` reads it.

:class:`PostNormDecoderBlock` is chapter 9's decoder block with Vaswani et al.'s (2017) arrangement,
``x <- LN(x + sublayer(x))``, for the comparison with the pre-norm arrangement (Xiong et al. 2020).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from utils.models.transformer import DecoderBlock, EncoderBlock, sinusoidal_encoding


def frame_mask(frames: Any) -> Any:
    """(B, T, n) frames -> (B, T) boolean, True where a frame has any non-zero value."""
    return ops.any(ops.not_equal(frames, 0), axis=-1)


@keras.saving.register_keras_serializable(package="course")
class FramesAndPosition(layers.Layer):
    """(B, T, n) frames -> (B, T, d): a dense projection plus a position code (``"sinusoidal"``,
    ``"learned"`` up to ``max_length`` positions, or ``"none"``), positions counted from 0."""

    def __init__(self, depth: int, max_length: int, positions: str = "sinusoidal", **kwargs: Any):
        super().__init__(**kwargs)
        if positions not in ("sinusoidal", "learned", "none"):
            raise ValueError(f"positions must be 'sinusoidal', 'learned' or 'none', got {positions!r}.")
        for name, number in (("depth", depth), ("max_length", max_length)):
            if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or number < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {number!r}.")
        self.depth, self.max_length, self.positions = int(depth), int(max_length), positions
        self.project = layers.Dense(depth, name="project", dtype=self.dtype_policy)
        self.learned = (layers.Embedding(max_length, depth, name="positions", dtype=self.dtype_policy)
                        if positions == "learned" else None)
        self.table = sinusoidal_encoding(max_length, depth, "float64") if positions == "sinusoidal" else None

    def build(self, frames_shape: Any) -> None:
        self.project.build(frames_shape)
        if self.learned is not None:
            self.learned.build((None,))

    def call(self, frames: Any) -> Any:
        length = frames.shape[1]
        if length is not None and self.positions != "none" and length > self.max_length:
            raise ValueError(f"the sequences have {length} positions, more than the {self.max_length} this "
                             "layer was built for: give it a larger max_length.")
        h = self.project(frames)                                                   # (B, T, d)
        if self.positions == "none":
            return h
        positions = ops.arange(ops.shape(frames)[1])
        if self.positions == "learned":
            return h + self.learned(positions)[None]
        table = ops.convert_to_tensor(self.table, dtype=self.compute_dtype)
        return h + ops.take(table, positions, axis=0)[None]

    def compute_output_shape(self, frames_shape: Any) -> tuple:
        return (*frames_shape[:-1], self.depth)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth": self.depth, "max_length": self.max_length,
                "positions": self.positions}


@keras.saving.register_keras_serializable(package="course")
class MaskedMeanPooling(layers.Layer):
    """(B, T, d) states and a (B, T) mask (True at real positions) -> (B, d): the mean of the real
    positions' states (a row with no real position gives zeros)."""

    def call(self, states: Any, mask: Any) -> Any:
        weights = ops.cast(mask, states.dtype)[..., None]                          # (B, T, 1)
        counts = ops.sum(weights, axis=1)                                           # (B, 1)
        return ops.sum(states * weights, axis=1) / ops.maximum(counts, 1.0)

    def compute_output_shape(self, states_shape: Any, mask_shape: Any = None) -> tuple:
        return (states_shape[0], states_shape[-1])


@keras.saving.register_keras_serializable(package="course")
class ClassToken(layers.Layer):
    """Puts a learned vector in front of every sequence: (B, T, d), (B, T) -> (B, 1 + T, d), (B, 1 + T);
    the class position is always real."""

    def build(self, states_shape: Any, mask_shape: Any = None) -> None:
        self.token = self.add_weight(shape=(states_shape[-1],), initializer="random_normal", name="token")

    def call(self, states: Any, mask: Any) -> tuple[Any, Any]:
        batch = ops.shape(states)[0]
        token = ops.broadcast_to(ops.cast(self.token, states.dtype)[None, None, :], (batch, 1, states.shape[-1]))
        real = ops.ones((batch, 1), dtype="bool")
        return ops.concatenate([token, states], axis=1), ops.concatenate([real, ops.cast(mask, "bool")], axis=1)

    def compute_output_spec(self, states: Any, mask: Any) -> tuple:
        length = None if states.shape[1] is None else states.shape[1] + 1
        return (keras.KerasTensor((states.shape[0], length, states.shape[-1]), dtype=states.dtype),
                keras.KerasTensor((states.shape[0], length), dtype="bool"))


def encoder_classifier(features: int, classes: int, *, depth: int = 32, heads: int = 4, blocks: int = 1,
                       max_length: int = 64, positions: str = "sinusoidal", pooling: str = "mean",
                       dropout: float = 0.0, name: str = "encoder_classifier") -> keras.Model:
    """An encoder-only transformer from padded frames (B, T, ``features``) to ``classes`` probabilities.

    ``pooling`` is ``"mean"`` (:class:`MaskedMeanPooling` over the real frames) or ``"class token"``
    (:class:`ClassToken`, its output read). The padding (all-zero frames) is masked in every block.
    """
    if pooling not in ("mean", "class token"):
        raise ValueError(f"pooling must be 'mean' or 'class token', got {pooling!r}.")
    depth, heads, blocks, max_length = int(depth), int(heads), int(blocks), int(max_length)
    frames = keras.Input((None, features), name="frames")
    mask = FrameMask(name="frame_mask")(frames)                                         # (B, T)
    h = FramesAndPosition(depth, max_length, positions, name="embedding")(frames)      # (B, T, d)
    if pooling == "class token":
        h, mask = ClassToken(name="class_token")(h, mask)
    for i in range(blocks):
        h = EncoderBlock(depth, heads, 4 * depth, dropout, name=f"block_{i}")(h, mask)
    h = layers.LayerNormalization(name="final_norm")(h)
    summary = MaskedMeanPooling(name="pool")(h, mask) if pooling == "mean" else h[:, 0]
    if dropout:
        summary = layers.Dropout(dropout)(summary)
    return keras.Model(frames, layers.Dense(classes, activation="softmax", name="classes")(summary), name=name)


@keras.saving.register_keras_serializable(package="course")
class FrameMask(layers.Layer):
    """(B, T, n) -> (B, T) boolean, True at real (not all-zero) frames: :func:`frame_mask` as a layer."""

    def call(self, frames: Any) -> Any:
        return frame_mask(frames)

    def compute_output_spec(self, frames: Any) -> Any:
        return keras.KerasTensor(frames.shape[:-1], dtype="bool")


@keras.saving.register_keras_serializable(package="course")
class PostNormDecoderBlock(DecoderBlock):
    """Chapter 9's decoder block, post-norm: ``x <- LN(x + SA(x))``, then (with cross-attention)
    ``x <- LN(x + CA(x, memory))``, then ``x <- LN(x + FFN(x))``. Same weights, same layout."""

    def call(self, x: Any, memory: Any = None, memory_mask: Any = None, training: bool | None = None) -> Any:
        x = self.norm_self(x + self.drop(self.self_attention(x, x, use_causal_mask=True), training=training))
        if self.cross:
            if memory is None:
                raise ValueError("this decoder block has cross-attention: give it the encoder's outputs as memory.")
            mask = None if memory_mask is None else ops.cast(memory_mask, "bool")[:, None, :]
            x = self.norm_cross(x + self.drop(self.cross_attention(x, memory, attention_mask=mask),
                                              training=training))
        return self.norm_feed_forward(x + self.feed_forward(x, training=training))


__all__ = ["ClassToken", "EncoderBlock", "FrameMask", "FramesAndPosition", "MaskedMeanPooling",
           "PostNormDecoderBlock", "encoder_classifier", "frame_mask"]

"""The key-value cache: a transformer decoder that computes one new position per generated token.

A decoder that re-reads its whole prefix at every step (chapter 9's ``prefix_step_function``) repeats,
at step ``t``, the work of every step before it: the keys and values of positions ``0 .. t - 1`` in
every layer are the same as at step ``t - 1`` (the causal mask keeps them from seeing position ``t``).
The cache keeps them. Each step then embeds one token, projects its query, key and value in every
layer, writes the key and value into the layer's buffer at the step's position, and attends over the
buffer up to that position; with cross-attention the encoder output's keys and values are projected
once, when the cache is started.

Shapes, for ``B`` sequences, ``L`` blocks of ``H`` heads of depth ``dh`` (``d = H dh``) and a cache of
``S`` positions:

- each block's ``keys`` and ``values`` buffers are (B, H, S, dh), zeros until written;
- a step takes ids (B,) and returns logits (B, V);
- the memory of the cache is ``2 L d`` numbers per position per sequence (:func:`bytes_per_token`).

The buffers have a fixed size, and a step attends over all ``S`` slots with a mask that hides the
slots after its position (their weights are exactly 0): every step has the same shapes, so a backend
that compiles per shape compiles once. A step past the last slot is a ValueError that says so.

The cached step computes the same numbers as re-reading the prefix, in another order (a (B, H, 1, S)
product instead of a (B, H, t, t) one), so the two agree to float32 rounding, not bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from keras import ops

from utils.models.transformer import DecoderBlock, MultiHeadAttention, TokenAndPosition, scaled_dot_product_attention


def project(layer: MultiHeadAttention, x: Any, which: str) -> Any:
    """(B, T, d) -> (B, H, T, dh): ``x`` through the layer's ``which`` ("query", "key" or "value")
    kernel and bias, as the layer itself projects it."""
    kernel, bias = getattr(layer, f"{which}_kernel"), getattr(layer, f"{which}_bias")
    return ops.einsum("btd,dhk->bhtk", x, kernel) + bias[:, None, :]


def attend_output(layer: MultiHeadAttention, q: Any, keys: Any, values: Any, mask: Any) -> Any:
    """The layer's output for queries ``q`` (B, H, Tq, dh) over ``keys``/``values`` (B, H, S, dh)
    with a boolean ``mask`` broadcastable to (B, H, Tq, S): (B, Tq, d_out)."""
    heads, _ = scaled_dot_product_attention(q, keys, values, mask)
    return ops.einsum("bhtk,hko->bto", heads, layer.output_kernel) + layer.output_bias


def write(buffer: Any, new: Any, position: int) -> Any:
    """``buffer`` (B, H, S, dh) with slot ``position`` replaced by ``new`` (B, H, 1, dh)."""
    return ops.slice_update(buffer, (0, 0, position, 0), ops.cast(new, buffer.dtype))


def visible(position: int, size: int) -> Any:
    """(1, 1, 1, S) boolean: the slots a query at ``position`` may read, ``0 .. position``."""
    return ops.reshape(ops.less_equal(ops.arange(size), position), (1, 1, 1, size))


@dataclass
class DecoderCache:
    """What a cached decoder keeps between steps: per block, the self-attention buffers, and (with
    cross-attention) the encoder output's keys and values and its padding mask; ``position`` is the
    slot the next step writes."""

    keys: list[Any]
    values: list[Any]
    memory_keys: list[Any] | None
    memory_values: list[Any] | None
    memory_mask: Any
    position: int
    size: int

    def check_room(self) -> None:
        """A ValueError when the next step has no slot left."""
        if self.position >= self.size:
            raise ValueError(f"the cache holds {self.size} positions and position {self.position} was asked for: "
                             "start a larger cache (size = the longest output plus its prompt).")


def cached_self_attention(layer: MultiHeadAttention, x_t: Any, keys: Any, values: Any,
                          position: int) -> tuple[Any, Any, Any]:
    """One position of causal self-attention with a cache: ``x_t`` (B, 1, d) is the (normalised) input at
    ``position``; returns its output (B, 1, d) and the buffers with its key and value written in."""
    size = keys.shape[2]
    if not 0 <= position < size:
        raise ValueError(f"position {position} is outside the cache's {size} slots (0 to {size - 1}).")
    keys = write(keys, project(layer, x_t, "key"), position)
    values = write(values, project(layer, x_t, "value"), position)
    output = attend_output(layer, project(layer, x_t, "query"), keys, values, visible(position, size))
    return output, keys, values


class CachedDecoder:
    """A decoder stack (chapter 9's ``TokenAndPosition`` and ``DecoderBlock``s, a final normalisation and
    an output layer, all trained elsewhere) run one position at a time with a key-value cache.

    ``start(batch, size, memory, memory_mask)`` returns an empty cache (projecting the memory for
    cross-attention once); ``step(ids, cache)`` embeds the ids (B,) at the cache's position, runs every
    block on that one position and returns the logits (B, V) and the updated cache.
    """

    def __init__(self, embedding: TokenAndPosition, blocks: Sequence[DecoderBlock], final_norm: Any,
                 output: Any) -> None:
        if not blocks:
            raise ValueError("a cached decoder needs at least one decoder block.")
        self.embedding, self.blocks, self.final_norm, self.output = embedding, list(blocks), final_norm, output

    def start(self, batch: int, size: int, memory: Any = None, memory_mask: Any = None) -> DecoderCache:
        """An empty cache of ``size`` positions for ``batch`` sequences; ``memory`` (B, Tx, d) and its mask
        (B, Tx), True at real positions, for blocks with cross-attention."""
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"a cache needs a size of at least 1 position; got {size!r}.")
        if self.embedding.positions != "none" and size > self.embedding.max_length:
            raise ValueError(f"a cache of {size} positions is longer than the {self.embedding.max_length} positions "
                             "the embedding knows.")
        if not all(block.built for block in self.blocks) or not self.output.built:
            self._build(memory, memory_mask)
        dtype = self.embedding.compute_dtype
        keys, values = [], []
        for block in self.blocks:
            layer = block.self_attention
            keys.append(ops.zeros((batch, layer.heads, size, layer.key_dim), dtype=dtype))
            values.append(ops.zeros((batch, layer.heads, size, layer.value_dim), dtype=dtype))
        memory_keys = memory_values = mask = None
        if any(block.cross for block in self.blocks):
            if memory is None:
                raise ValueError("these decoder blocks have cross-attention: start the cache with the encoder's "
                                 "outputs as memory.")
            memory_keys = [project(b.cross_attention, memory, "key") for b in self.blocks]       # (B, H, Tx, dh)
            memory_values = [project(b.cross_attention, memory, "value") for b in self.blocks]
            if memory_mask is not None:
                mask = ops.reshape(ops.cast(memory_mask, "bool"), (ops.shape(memory)[0], 1, 1, -1))  # (B, 1, 1, Tx)
        return DecoderCache(keys, values, memory_keys, memory_values, mask, 0, int(size))

    def _build(self, memory: Any, memory_mask: Any) -> None:
        """Builds the layers (when they were never called) by reading a one-token prefix."""
        if memory is None and any(block.cross for block in self.blocks):
            raise ValueError("these decoder blocks have cross-attention: start the cache with the encoder's "
                             "outputs as memory.")
        batch = 1 if memory is None else ops.shape(memory)[0]
        with warnings.catch_warnings():   # one key: Keras warns that a softmax over one weight is always 1
            warnings.filterwarnings("ignore", message="You are using a softmax over axis -1", category=UserWarning)
            self.prefix_logits(ops.zeros((batch, 1), dtype="int32"), memory, memory_mask)

    def embed(self, ids: Any, position: int) -> Any:
        """(B,) ids at ``position`` -> (B, 1, d), as the embedding layer places them in a whole prefix."""
        embedded = self.embedding.tokens(ops.reshape(ids, (-1, 1)))
        if self.embedding.positions == "learned":
            return embedded + self.embedding.learned(ops.full((1, 1), position, dtype="int32"))
        if self.embedding.positions == "sinusoidal":
            table = ops.convert_to_tensor(self.embedding.table[position:position + 1], dtype=self.embedding.compute_dtype)
            return embedded + table[None]
        return embedded

    def step(self, ids: Any, cache: DecoderCache) -> tuple[Any, DecoderCache]:
        """Logits (B, V) for the token after ``ids`` (B,), and the cache one position further."""
        cache.check_room()
        position = cache.position
        h = self.embed(ids, position)                                                      # (B, 1, d)
        keys, values = list(cache.keys), list(cache.values)
        for i, block in enumerate(self.blocks):
            attended, keys[i], values[i] = cached_self_attention(block.self_attention, block.norm_self(h),
                                                                 keys[i], values[i], position)
            h = h + attended
            if block.cross:
                layer = block.cross_attention
                q = project(layer, block.norm_cross(h), "query")                             # (B, H, 1, dh)
                h = h + attend_output(layer, q, cache.memory_keys[i], cache.memory_values[i], cache.memory_mask)
            h = h + block.feed_forward(block.norm_feed_forward(h))
        logits = self.output(self.final_norm(h))[:, 0]                                       # (B, V)
        return logits, DecoderCache(keys, values, cache.memory_keys, cache.memory_values, cache.memory_mask,
                                    position + 1, cache.size)

    def prefix_logits(self, prefix: Any, memory: Any = None, memory_mask: Any = None, *, block: int = 1) -> Any:
        """The uncached reference: the logits (B, V) after the whole prefix (B, T), computed by running the
        blocks over every position again, as a model without a cache does at each step.

        With ``block`` > 1 the prefix is padded on the right to the next multiple of ``block`` positions (at
        most the embedding's length) and the logits are read at its last real position: the causal mask
        keeps the padding out of them, and a backend that compiles per shape (JAX) sees a new shape once
        every ``block`` positions instead of at every one, as chapter 9's ``prefix_step_function`` does."""
        if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
            raise ValueError(f"block must be a whole number of at least 1; got {block!r}.")
        length = int(prefix.shape[1])
        width = -(-length // block) * block
        if self.embedding.positions != "none":
            width = min(width, max(self.embedding.max_length, length))
        if width > length:
            prefix = ops.pad(ops.convert_to_tensor(prefix, dtype="int32"), ((0, 0), (0, width - length)))
        h = self.embedding(prefix)
        for decoder_block in self.blocks:
            h = decoder_block(h, memory, memory_mask) if decoder_block.cross else decoder_block(h)
        return self.output(self.final_norm(h))[:, length - 1]


def bytes_per_token(blocks: int, depth: int, bytes_per_number: int = 4) -> int:
    """The cache's memory per position of one sequence: a key and a value of depth ``d`` in each block."""
    return 2 * blocks * depth * bytes_per_number

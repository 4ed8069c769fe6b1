"""Transformers for chapter 9: scaled dot-product and multi-head attention, masks, positions, blocks.

Chapter 9 writes these in front of the learner and checks them against Keras; this module holds
the same code for the tests and for what comes after (the notebook checks that its versions and
these agree). Shapes, for a batch of ``B`` sequences, ``H`` heads of depth ``dh``:

- ``query`` (B, Tq, d), ``value`` (B, Tk, d) and ``key`` (B, Tk, d) (the value when not given);
- an *attention mask* is boolean, True where query ``i`` may look at key ``j``, and broadcasts to
  (B, Tq, Tk): a key padding mask ``m`` (B, Tk) becomes ``m[:, None, :]``, a causal mask is
  (Tq, Tk) lower triangular;
- heads are split as (B, H, T, dh) and merged back to (B, T, H * dh).

:class:`MultiHeadAttention` stores its weights exactly as ``keras.layers.MultiHeadAttention`` does
(query, key and value kernels (d, H, dh) with biases (H, dh), the output kernel (H, dv, d_out) with
a bias (d_out,), in that order), so ``ours.set_weights(keras_layer.get_weights())`` copies them, and
takes the same call arguments (``query, value, key=None, attention_mask=None,
return_attention_scores=False, use_causal_mask=False``).

Shapes that do not fit (a query depth other than the one a layer was built for, a mask of the wrong
shape, values of another length than the keys) are a ValueError that says what does not fit; they
are checked on the sizes known when the layer is called. Every sub-layer takes its parent's dtype
policy, so ``dtype="float64"`` gives float64 weights and outputs throughout, and the attention,
written with ``keras.ops.einsum``, computes in float64. (In Keras 3.15 two limits remain that are
Keras's own: on PyTorch its ``Dense`` and ``LayerNormalization`` compute a float64 layer's products in
float32, and on JAX, without JAX's 64-bit switch, every float64 layer computes in float32.)

The blocks are pre-norm (the layer normalisation before each sublayer, the residual around it, as in
GPT-2), which trains without a learning-rate warm-up; Vaswani et al. (2017) normalised after the
residual sum instead.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from utils.models.attention import attend, broadcasts, check_depth, checked_key_mask


def causal_mask(query_length: int, key_length: int | None = None) -> np.ndarray:
    """(Tq, Tk) boolean: query ``i`` may look at key ``j`` when ``j <= i`` (itself and the past).

    With different lengths the triangle starts at the top left (query ``i`` and key ``i`` are the same
    position), as in ``keras.layers.MultiHeadAttention(use_causal_mask=True)``.
    """
    key_length = query_length if key_length is None else key_length
    if min(query_length, key_length) < 1:
        raise ValueError(f"a causal mask needs at least one query and one key; got {query_length} queries and "
                         f"{key_length} keys.")
    return np.tril(np.ones((query_length, key_length), dtype=bool))


def padding_mask(key_mask: Any, keys: Any = None) -> Any:
    """A (B, Tk) key mask (True at real keys) as a (B, 1, Tk) attention mask for every query.

    Given the ``keys`` (B, Tk, d) it masks, a mask of another batch size or length is a ValueError.
    """
    if keys is not None:
        return checked_key_mask(key_mask, keys)
    if len(tuple(key_mask.shape)) != 2:
        raise ValueError(f"a key padding mask is (batch, keys); got shape {tuple(key_mask.shape)}.")
    return ops.expand_dims(ops.cast(key_mask, "bool"), axis=1)


def scaled_dot_product_attention(query: Any, key: Any, value: Any, mask: Any = None) -> tuple[Any, Any]:
    """``softmax(q k^T / sqrt(dk)) v`` over the last two axes: returns ``(output, weights)``.

    ``query`` (..., Tq, dk), ``key`` (..., Tk, dk), ``value`` (..., Tk, dv); ``mask`` boolean,
    broadcastable to (..., Tq, Tk), True where a query may look. Masked weights are exactly 0.
    """
    if len(query.shape) == 2:  # one sequence: as a batch of one (masked_softmax reads a 2-D mask as (B, Tk))
        output, weights = scaled_dot_product_attention(query[None], key[None], value[None],
                                                       None if mask is None else ops.convert_to_tensor(mask)[None])
        return output[0], weights[0]
    depth = _matching_depth(query, key)
    scores = ops.einsum("...qd,...kd->...qk", query, key) / ops.sqrt(ops.cast(depth, query.dtype))
    return attend(scores, value, None if mask is None else _aligned_mask(mask, scores))


def _matching_depth(query: Any, key: Any) -> int:
    """The depth of the queries, or a clear error when the keys have another (a dot product needs one)."""
    depth, key_depth = query.shape[-1], key.shape[-1]
    if None not in (depth, key_depth) and depth != key_depth:
        raise ValueError(f"the query has depth {depth} and the key {key_depth}: scaled dot-product attention "
                         "compares them by a dot product, so give both the same depth (project them first).")
    return depth


def _aligned_mask(mask: Any, scores: Any) -> Any:
    """A (Tq, Tk) mask, or a (B, Tq, Tk) mask for (B, H, Tq, Tk) scores, with the scores' axes."""
    mask = ops.convert_to_tensor(mask)
    given = tuple(mask.shape)
    while len(mask.shape) < len(scores.shape):   # a (Tq, Tk) mask, or (B, Tq, Tk) for (B, H, Tq, Tk) scores
        mask = ops.expand_dims(mask, axis=0 if len(mask.shape) == 2 else 1)
    if not broadcasts(tuple(mask.shape), tuple(scores.shape)):
        raise ValueError(f"the mask has shape {given}; it must broadcast to the attention weights' (queries, "
                         f"keys) = {tuple(scores.shape)[-2:]} (with a batch axis in front, or a batch and a "
                         "head axis), True where a query may look at a key.")
    return mask


def split_heads(x: Any, heads: int) -> Any:
    """(B, T, H * dh) -> (B, H, T, dh): each head gets its own slice of the depth."""
    if x.shape[-1] is not None and x.shape[-1] % heads:
        raise ValueError(f"the depth {x.shape[-1]} does not split into {heads} heads: it must be a multiple of it.")
    batch, length, depth = ops.shape(x)
    return ops.transpose(ops.reshape(x, (batch, length, heads, depth // heads)), (0, 2, 1, 3))


def merge_heads(x: Any) -> Any:
    """(B, H, T, dh) -> (B, T, H * dh): the inverse of :func:`split_heads`."""
    batch, heads, length, depth = ops.shape(x)
    return ops.reshape(ops.transpose(x, (0, 2, 1, 3)), (batch, length, heads * depth))


def _combined_mask(attention_mask: Any, causal: bool, query_length: int, key_length: int) -> Any:
    mask = None if attention_mask is None else ops.cast(attention_mask, "bool")
    if causal:  # the same triangle as causal_mask, in keras.ops, for lengths known only when the model runs
        rows, columns = ops.arange(query_length)[:, None], ops.arange(key_length)[None, :]
        triangle = ops.less_equal(columns, rows)
        mask = triangle if mask is None else ops.logical_and(mask, triangle)
    while mask is not None and len(mask.shape) < 4:      # (Tq, Tk) or (B, Tq, Tk) -> (B or 1, 1, Tq, Tk):
        mask = ops.expand_dims(mask, axis=-3 if len(mask.shape) == 3 else 0)   # the same mask for every head
    return mask


def _check_attention_mask(attention_mask: Any, query: Any, key: Any) -> None:
    """A clear error unless the attention mask broadcasts to (B, Tq, Tk), as (Tq, Tk) or (B, Tq, Tk)."""
    shape = tuple(np.shape(attention_mask))
    wanted = (query.shape[0], query.shape[1], key.shape[1])
    if len(shape) not in (2, 3) or not broadcasts(shape, wanted):
        raise ValueError(f"the attention mask has shape {shape}; it must be (batch, queries, keys) = "
                         f"{wanted} (or (queries, keys) for every sequence), True where a query may look at "
                         "a key. A (batch, keys) padding mask becomes one with padding_mask(key_mask).")


@keras.saving.register_keras_serializable(package="course")
class MultiHeadAttention(layers.Layer):
    """Multi-head attention written with ``keras.ops``, weights laid out as Keras's layer lays them out.

    ``heads`` heads with queries and keys of depth ``key_dim`` and values of depth ``value_dim``
    (``key_dim`` when not given); the output has the query's depth unless ``output_dim`` is given.
    """

    def __init__(self, heads: int, key_dim: int, value_dim: int | None = None, output_dim: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        for name, number in (("heads", heads), ("key_dim", key_dim), ("value_dim", value_dim),
                             ("output_dim", output_dim)):
            if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
                raise ValueError(f"{name} must be a whole number of at least 1, got {number!r}.")
        self.heads, self.key_dim = heads, key_dim
        self.value_dim = key_dim if value_dim is None else value_dim
        self.output_dim = output_dim

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        out = self.output_dim or query_shape[-1]
        shapes = (("query", query_shape[-1], self.key_dim), ("key", key_shape[-1], self.key_dim),
                  ("value", value_shape[-1], self.value_dim))
        for name, depth, head_depth in shapes:
            setattr(self, f"{name}_kernel", self.add_weight(shape=(depth, self.heads, head_depth),
                                                            initializer="glorot_uniform", name=f"{name}_kernel"))
            setattr(self, f"{name}_bias", self.add_weight(shape=(self.heads, head_depth), initializer="zeros",
                                                          name=f"{name}_bias"))
        self.output_kernel = self.add_weight(shape=(self.heads, self.value_dim, out), initializer="glorot_uniform",
                                             name="output_kernel")
        self.output_bias = self.add_weight(shape=(out,), initializer="zeros", name="output_bias")

    def call(self, query: Any, value: Any, key: Any = None, attention_mask: Any = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        key = value if key is None else key
        for what, tensor, kernel in (("queries", query, self.query_kernel), ("keys", key, self.key_kernel),
                                     ("values", value, self.value_kernel)):
            check_depth(tensor, kernel.shape[0], what, self.name)
        if attention_mask is not None:
            _check_attention_mask(attention_mask, query, key)
        q = ops.einsum("btd,dhk->bhtk", query, self.query_kernel) + self.query_bias[:, None, :]   # (B, H, Tq, dh)
        k = ops.einsum("bsd,dhk->bhsk", key, self.key_kernel) + self.key_bias[:, None, :]         # (B, H, Tk, dh)
        v = ops.einsum("bsd,dhk->bhsk", value, self.value_kernel) + self.value_bias[:, None, :]   # (B, H, Tk, dv)
        mask = _combined_mask(attention_mask, use_causal_mask, ops.shape(query)[1], ops.shape(key)[1])
        heads, weights = scaled_dot_product_attention(q, k, v, mask)                              # (B, H, Tq, dv)
        output = ops.einsum("bhtk,hko->bto", heads, self.output_kernel) + self.output_bias         # (B, Tq, d_out)
        return (output, weights) if return_attention_scores else output

    def compute_output_spec(self, query: Any, value: Any, key: Any = None, attention_mask: Any = None,
                            return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        out = keras.KerasTensor((*query.shape[:-1], self.output_dim or query.shape[-1]), dtype=self.compute_dtype)
        if not return_attention_scores:
            return out
        return out, keras.KerasTensor((query.shape[0], self.heads, query.shape[1], value.shape[1]),
                                      dtype=self.compute_dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "heads": self.heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
                "output_dim": self.output_dim}


def sinusoidal_encoding(length: int, depth: int, dtype: str = "float32") -> np.ndarray:
    """Vaswani et al.'s positions, (length, depth) in ``dtype``: ``sin(p / 10000^(2i/d))`` at even columns
    ``2i``, ``cos`` of the same angle at odd columns ``2i + 1`` (computed in float64)."""
    if min(length, depth) < 1 or depth % 2:
        raise ValueError(f"length must be at least 1 and depth a positive even number; got {length} and {depth}.")
    positions = np.arange(length)[:, None]
    frequencies = 1.0 / 10_000 ** (np.arange(0, depth, 2) / depth)           # (depth / 2,)
    encoding = np.zeros((length, depth))
    encoding[:, 0::2] = np.sin(positions * frequencies)
    encoding[:, 1::2] = np.cos(positions * frequencies)
    return encoding.astype(dtype)


@keras.saving.register_keras_serializable(package="course")
class TokenAndPosition(layers.Layer):
    """Token embedding plus a position code: ``"sinusoidal"`` (fixed), ``"learned"`` (an embedding of the
    position, at most ``max_length`` positions) or ``"none"`` (order-blind). (B, T) ids -> (B, T, d)."""

    def __init__(self, vocab_size: int, depth: int, max_length: int, positions: str = "learned", **kwargs: Any):
        super().__init__(**kwargs)
        if positions not in ("sinusoidal", "learned", "none"):
            raise ValueError(f"positions must be 'sinusoidal', 'learned' or 'none', got {positions!r}.")
        self.vocab_size, self.depth, self.max_length, self.positions = vocab_size, depth, max_length, positions
        self.tokens = layers.Embedding(vocab_size, depth, name="tokens", dtype=self.dtype_policy)
        self.learned = (layers.Embedding(max_length, depth, name="positions", dtype=self.dtype_policy)
                        if positions == "learned" else None)
        # In float64, cast to the layer's compute dtype when used (a float64 layer keeps every digit).
        self.table = sinusoidal_encoding(max_length, depth, "float64") if positions == "sinusoidal" else None

    def build(self, ids_shape: Any, key_mask_shape: Any = None) -> None:
        self.tokens.build(ids_shape)
        if self.learned is not None:
            self.learned.build((None,))

    def call(self, ids: Any, key_mask: Any = None) -> Any:
        """``key_mask`` (B, T), True at real tokens: positions are then counted from each row's first real
        token, so that padding on the left does not move them (left padding gets position 0, padding on
        the right repeats the last real position; the masks keep padding out of attention either way)."""
        length = ids.shape[1]
        if length is not None and self.positions != "none" and length > self.max_length:
            raise ValueError(f"the sequences have {length} positions, more than the {self.max_length} this "
                             "embedding was built for: give it a larger max_length.")
        if key_mask is not None:
            checked_key_mask(key_mask, ids)
        embedded = self.tokens(ids)                                              # (B, T, d)
        if self.positions == "none":
            return embedded
        if key_mask is None:
            positions = ops.arange(ops.shape(ids)[1])[None]                      # (1, T)
        else:
            positions = ops.maximum(ops.cumsum(ops.cast(key_mask, "int32"), axis=1) - 1, 0)   # (B, T)
        if self.positions == "learned":
            return embedded + self.learned(positions)
        table = ops.convert_to_tensor(self.table, dtype=self.compute_dtype)
        return embedded + ops.take(table, positions, axis=0)

    def compute_output_shape(self, ids_shape: Any, key_mask_shape: Any = None) -> tuple:
        return (*ids_shape, self.depth)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_size": self.vocab_size, "depth": self.depth,
                "max_length": self.max_length, "positions": self.positions}


def _check_heads(depth: int, heads: int) -> None:
    if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or depth % heads:
        raise ValueError(f"the depth {depth} must be a multiple of the number of heads, a whole number of at "
                         f"least 1; got {heads!r} heads.")


def _feed_forward(depth: int, hidden: int, dropout: float, prefix: str, dtype: Any) -> keras.Sequential:
    return keras.Sequential([layers.Dense(hidden, activation="gelu", dtype=dtype),
                             layers.Dense(depth, dtype=dtype), layers.Dropout(dropout, dtype=dtype)],
                            name=f"{prefix}feed_forward")


@keras.saving.register_keras_serializable(package="course")
class EncoderBlock(layers.Layer):
    """``x + MHA(LN(x))`` then ``x + FFN(LN(x))``; the padding mask (B, T) keeps padded keys out."""

    def __init__(self, depth: int, heads: int, hidden: int, dropout: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        _check_heads(depth, heads)
        self.depth, self.heads, self.hidden, self.dropout = depth, heads, hidden, dropout
        policy = self.dtype_policy
        self.norm_attention = layers.LayerNormalization(dtype=policy)
        self.norm_feed_forward = layers.LayerNormalization(dtype=policy)
        self.attention = MultiHeadAttention(heads, depth // heads, name="self_attention", dtype=policy)
        self.feed_forward = _feed_forward(depth, hidden, dropout, "", policy)
        self.drop = layers.Dropout(dropout, dtype=policy)

    def build(self, x_shape: Any, key_mask_shape: Any = None) -> None:
        for norm in (self.norm_attention, self.norm_feed_forward):
            norm.build(x_shape)
        self.attention.build(x_shape, x_shape)
        self.feed_forward.build(x_shape)

    def call(self, x: Any, key_mask: Any = None, training: bool | None = None) -> Any:
        mask = None if key_mask is None else padding_mask(key_mask, x)
        normed = self.norm_attention(x)
        x = x + self.drop(self.attention(normed, normed, attention_mask=mask), training=training)
        return x + self.feed_forward(self.norm_feed_forward(x), training=training)

    def compute_output_shape(self, x_shape: Any, key_mask_shape: Any = None) -> tuple:
        return tuple(x_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth": self.depth, "heads": self.heads, "hidden": self.hidden,
                "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="course")
class DecoderBlock(layers.Layer):
    """Causal self-attention, then (when given encoder outputs) cross-attention, then the feed-forward
    layer, each pre-normed with a residual. Call with ``(x, memory=None, memory_mask=None)``."""

    def __init__(self, depth: int, heads: int, hidden: int, dropout: float = 0.0, cross: bool = True,
                 **kwargs: Any):
        super().__init__(**kwargs)
        _check_heads(depth, heads)
        self.depth, self.heads, self.hidden, self.dropout, self.cross = depth, heads, hidden, dropout, cross
        # Created in this order so that get_weights() lists them as chapter 9's notebook block does.
        policy = self.dtype_policy
        self.norm_self = layers.LayerNormalization(dtype=policy)
        self.norm_cross = layers.LayerNormalization(dtype=policy) if cross else None
        self.norm_feed_forward = layers.LayerNormalization(dtype=policy)
        self.self_attention = MultiHeadAttention(heads, depth // heads, name="self_attention", dtype=policy)
        self.cross_attention = (MultiHeadAttention(heads, depth // heads, name="cross_attention",
                                                   dtype=policy) if cross else None)
        self.feed_forward = _feed_forward(depth, hidden, dropout, "", policy)
        self.drop = layers.Dropout(dropout, dtype=policy)

    def build(self, x_shape: Any, memory_shape: Any = None, memory_mask_shape: Any = None) -> None:
        for norm in (self.norm_self, self.norm_feed_forward):
            norm.build(x_shape)
        self.self_attention.build(x_shape, x_shape)
        if self.cross:
            self.norm_cross.build(x_shape)
            self.cross_attention.build(x_shape, memory_shape if memory_shape is not None else x_shape)
        self.feed_forward.build(x_shape)

    def call(self, x: Any, memory: Any = None, memory_mask: Any = None, training: bool | None = None) -> Any:
        normed = self.norm_self(x)
        x = x + self.drop(self.self_attention(normed, normed, use_causal_mask=True), training=training)
        if self.cross:
            if memory is None:
                raise ValueError("this decoder block has cross-attention: give it the encoder's outputs as memory.")
            mask = None if memory_mask is None else padding_mask(memory_mask, memory)
            x = x + self.drop(self.cross_attention(self.norm_cross(x), memory, attention_mask=mask), training=training)
        return x + self.feed_forward(self.norm_feed_forward(x), training=training)

    def compute_output_shape(self, x_shape: Any, memory_shape: Any = None, memory_mask_shape: Any = None) -> tuple:
        return tuple(x_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth": self.depth, "heads": self.heads, "hidden": self.hidden,
                "dropout": self.dropout, "cross": self.cross}


def block_parameters(depth: int, hidden: int, cross: bool = False) -> int:
    """The parameters of one block, in closed form: ``4 (d^2 + d)`` per attention (query, key, value and
    output projections with biases; the heads only split them), ``2d`` per layer normalisation, and
    ``d h + h + h d + d`` for the feed-forward layer. A decoder block with cross-attention has one more
    attention and one more normalisation."""
    attentions, norms = (2, 3) if cross else (1, 2)
    return attentions * 4 * (depth * depth + depth) + norms * 2 * depth + 2 * depth * hidden + hidden + depth


def build_gpt(vocab: int, depth: int, heads: int, blocks: int, context: int, *,
              block: type[DecoderBlock] = DecoderBlock, output_bias: Any = "zeros", hidden: int | None = None,
              name: str = "gpt") -> keras.Model:
    """A GPT: learned positions up to ``context``, ``blocks`` decoder blocks without cross-attention, a final
    layer normalisation and a dense output layer. (B, T) token ids -> (B, T, vocab) logits.

    ``block`` is the block class (chapter 9's pre-norm :class:`DecoderBlock`, or a variant with the same
    constructor such as ``encoders.PostNormDecoderBlock``); ``hidden`` the feed-forward width (``4 depth``
    when not given); ``output_bias`` the output bias's initializer: a Keras initializer or its name, or an
    array of ``vocab`` numbers (for example the log frequencies of the tokens, so that training starts from
    the unigram model, as chapters 6 and 9 do). The layers are named ``embedding``, ``block_0`` ...,
    ``final_norm`` and ``output``, which :class:`utils.models.kvcache.CachedDecoder` reads.
    """
    for label, value in (("vocab", vocab), ("depth", depth), ("blocks", blocks), ("context", context)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a whole number of at least 1; got {value!r}.")
    _check_heads(depth, heads)
    if isinstance(output_bias, (np.ndarray, list, tuple)):
        bias = np.asarray(output_bias, dtype="float64")
        if bias.shape != (vocab,):
            raise ValueError(f"the output bias must hold one number per token, shape ({vocab},); got {bias.shape}.")
        output_bias = keras.initializers.Constant(bias)
    ids = keras.Input((None,), dtype="int32", name="tokens")
    h = TokenAndPosition(vocab, depth, context, "learned", name="embedding")(ids)                 # (B, T, d)
    for i in range(blocks):
        h = block(depth, heads, 4 * depth if hidden is None else hidden, cross=False, name=f"block_{i}")(h)
    h = layers.LayerNormalization(name="final_norm")(h)
    logits = layers.Dense(vocab, bias_initializer=output_bias, name="output")(h)                   # (B, T, V)
    return keras.Model(ids, logits, name=name)


def build_translator(source_size: int, target_size: int, depth: int, heads: int, blocks: tuple[int, int], *,
                     max_source: int, max_target: int, pad: int = 0) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Chapter 9's encoder-decoder transformer: ``(training, encoder, decoder)`` models sharing their layers.

    - ``training``: [source ids (B, Tx), decoder input (B, Ty)] -> logits (B, Ty, target_size), teacher forcing;
    - ``encoder``: source ids -> [memory (B, Tx, d), key mask (B, Tx) as float32, 1 at real tokens];
    - ``decoder``: [prefix (B, Ty), memory, key mask] -> logits (B, Ty, target_size).

    ``blocks`` is (encoder blocks, decoder blocks); sinusoidal positions counted from each source's first
    real token (``pad`` marks padding), up to ``max_source`` source and ``max_target`` target positions.
    The decoder's layers are named ``target_embedding``, ``decoder_0`` ..., ``decoder_norm`` and ``output``,
    which :class:`utils.models.kvcache.CachedDecoder` reads.
    """
    _check_heads(depth, heads)
    if len(blocks) != 2 or min(blocks) < 1:
        raise ValueError(f"blocks is (encoder blocks, decoder blocks), each at least 1; got {blocks!r}.")
    source = keras.Input((None,), dtype="int32", name="source")
    decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")
    embed_source = TokenAndPosition(source_size, depth, max_source, "sinusoidal", name="source_embedding")
    embed_target = TokenAndPosition(target_size, depth, max_target, "sinusoidal", name="target_embedding")
    encoder_blocks = [EncoderBlock(depth, heads, 4 * depth, name=f"encoder_{i}") for i in range(blocks[0])]
    decoder_blocks = [DecoderBlock(depth, heads, 4 * depth, name=f"decoder_{i}") for i in range(blocks[1])]
    encoder_norm, decoder_norm = layers.LayerNormalization(name="encoder_norm"), layers.LayerNormalization(name="decoder_norm")
    output = layers.Dense(target_size, name="output")

    def encode(source_ids: Any) -> tuple[Any, Any]:
        key_mask = ops.not_equal(source_ids, pad)                                          # (B, Tx)
        h = embed_source(source_ids, key_mask)                                             # (B, Tx, d)
        for encoder_block in encoder_blocks:
            h = encoder_block(h, key_mask)
        return encoder_norm(h), key_mask

    def decode(prefix: Any, memory: Any, key_mask: Any) -> Any:
        h = embed_target(prefix)                                                           # (B, Ty, d)
        for decoder_block in decoder_blocks:
            h = decoder_block(h, memory, key_mask)
        return output(decoder_norm(h))                                                     # (B, Ty, V_y)

    memory, key_mask = encode(source)
    training = keras.Model([source, decoder_input], decode(decoder_input, memory, key_mask), name="transformer")
    encoder = keras.Model(source, [memory, ops.cast(key_mask, "float32")], name="transformer_encoder")
    prefix, given_memory, given_mask = keras.Input((None,), dtype="int32"), keras.Input((None, depth)), keras.Input((None,))
    decoder = keras.Model([prefix, given_memory, given_mask], decode(prefix, given_memory, given_mask),
                          name="transformer_decoder")
    return training, encoder, decoder

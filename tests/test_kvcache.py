"""utils.models.kvcache: the cached decoder step equals re-reading the prefix (GPT-style and with
cross-attention, learned and sinusoidal positions), the buffers hold what the layer projects, the memory
count, and bad input; every backend."""

import warnings

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.models import kvcache, transformer

TOLERANCE = 1e-5   # float32, the same numbers summed in another order: a few hundred roundings


def _decoder(cross, positions, vocab=17, depth=16, blocks=2, size=12, seed=0):
    keras.utils.set_random_seed(seed)
    embedding = transformer.TokenAndPosition(vocab, depth, size, positions)
    stack = [transformer.DecoderBlock(depth, 4, 2 * depth, cross=cross) for _ in range(blocks)]
    decoder = kvcache.CachedDecoder(embedding, stack, layers.LayerNormalization(), layers.Dense(vocab))
    return decoder


def _run_both(decoder, ids, memory=None, memory_mask=None):
    batch, length = ids.shape
    cache = decoder.start(batch, length, memory, memory_mask)
    cached, prefix = [], []
    with warnings.catch_warnings():   # one key at the first step: Keras warns about a softmax over one weight
        warnings.filterwarnings("ignore", message="You are using a softmax over axis -1", category=UserWarning)
        for t in range(length):
            logits, cache = decoder.step(ids[:, t], cache)
            cached.append(ops.convert_to_numpy(logits))
            prefix.append(ops.convert_to_numpy(decoder.prefix_logits(ids[:, :t + 1], memory, memory_mask)))
    return np.stack(cached, 1), np.stack(prefix, 1), cache


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_cached_gpt_step_equals_rereading_the_prefix(positions):
    decoder = _decoder(cross=False, positions=positions)
    ids = np.random.default_rng(1).integers(0, 17, size=(3, 12))
    cached, prefix, cache = _run_both(decoder, ids)
    assert np.abs(cached - prefix).max() <= TOLERANCE
    assert np.abs(prefix[:, 1:] - prefix[:, :-1]).max() > 1e-2   # the logits do depend on the prefix
    assert cache.position == 12


def test_cached_translator_step_equals_rereading_the_prefix_with_a_padded_memory():
    decoder = _decoder(cross=True, positions="sinusoidal")
    rng = np.random.default_rng(2)
    memory = rng.normal(size=(3, 7, 16)).astype("float32")
    memory_mask = np.arange(7)[None, :] < np.array([7, 4, 1])[:, None]
    ids = rng.integers(0, 17, size=(3, 10))
    cached, prefix, _ = _run_both(decoder, ids, memory, memory_mask)
    assert np.abs(cached - prefix).max() <= TOLERANCE
    changed = np.where(memory_mask[:, :, None], memory, 50.0).astype("float32")   # padding changed: no effect
    again, _, _ = _run_both(decoder, ids, changed, memory_mask)
    assert np.abs(again - cached).max() <= 1e-6


def test_the_buffers_hold_the_projected_keys_and_zeros_after_the_position():
    decoder = _decoder(cross=False, positions="learned", blocks=1)
    ids = np.random.default_rng(3).integers(0, 17, size=(2, 5))
    cache = decoder.start(2, 8)
    for t in range(5):
        _, cache = decoder.step(ids[:, t], cache)
    block = decoder.blocks[0]
    expected = kvcache.project(block.self_attention, block.norm_self(decoder.embedding(ids)), "key")
    keys = ops.convert_to_numpy(cache.keys[0])
    assert np.abs(keys[:, :, :5] - ops.convert_to_numpy(expected)).max() <= TOLERANCE
    assert np.all(keys[:, :, 5:] == 0)


def test_a_step_past_the_cache_and_bad_sizes_are_sentences():
    decoder = _decoder(cross=False, positions="learned")
    cache = decoder.start(1, 2)
    for _ in range(2):
        _, cache = decoder.step(np.array([1]), cache)
    with pytest.raises(ValueError, match="holds 2 positions and position 2 was asked for"):
        decoder.step(np.array([1]), cache)
    with pytest.raises(ValueError, match="at least 1 position"):
        decoder.start(1, 0)
    with pytest.raises(ValueError, match="longer than the 12 positions"):
        decoder.start(1, 13)
    with pytest.raises(ValueError, match="outside the cache's 4 slots"):
        block = decoder.blocks[0]
        buffer = ops.zeros((1, 4, 4, 4))
        kvcache.cached_self_attention(block.self_attention, ops.zeros((1, 1, 16)), buffer, buffer, 4)
    with pytest.raises(ValueError, match="cross-attention"):
        _decoder(cross=True, positions="learned").start(1, 4)
    with pytest.raises(ValueError, match="at least one decoder block"):
        kvcache.CachedDecoder(decoder.embedding, [], decoder.final_norm, decoder.output)


def test_memory_per_token():
    assert kvcache.bytes_per_token(blocks=2, depth=128) == 2 * 2 * 128 * 4
    assert kvcache.bytes_per_token(blocks=1, depth=8, bytes_per_number=2) == 32


def test_the_cached_step_function_gives_the_prefix_step_functions_log_probabilities():
    """seq2seq.cached_step_function (chapter 10's translator with the cache) against
    seq2seq.prefix_step_function (chapter 9's, re-reading the prefix): the same log-probabilities at every step,
    with the cross-attention of left-padded sources."""
    from utils.data.tokens import PAD
    from utils.decoding import search
    from utils.tasks import seq2seq

    keras.utils.set_random_seed(11)
    _, encoder, prefix_decoder = transformer.build_translator(12, 9, 16, 4, (1, 2), max_source=12, max_target=9)
    decoder = kvcache.CachedDecoder(prefix_decoder.get_layer("target_embedding"),
                                    [prefix_decoder.get_layer(f"decoder_{i}") for i in range(2)],
                                    prefix_decoder.get_layer("decoder_norm"), prefix_decoder.get_layer("output"))
    rng = np.random.default_rng(12)
    source = rng.integers(3, 12, size=(4, 7)).astype("int32")
    source[1, :3] = PAD
    source[3, :5] = PAD
    cached_states = seq2seq.cached_encode_function(encoder, decoder, 8)(source)
    prefix_states = seq2seq.prefix_encode_function(encoder, 8)(source)
    for t in range(8):
        ids = rng.integers(1, 9, size=4).astype("int32")
        cached, cached_states = seq2seq.cached_step_function(decoder)(ids, cached_states)
        reread, prefix_states = seq2seq.prefix_step_function(prefix_decoder, block=4)(ids, prefix_states)
        assert np.abs(cached - reread).max() <= 1e-4, t
    with pytest.raises(ValueError, match="cache holds 8 positions"):
        seq2seq.cached_step_function(decoder)(ids, cached_states)
    states = seq2seq.cached_encode_function(encoder, decoder, 8)(source)
    greedy = search.greedy_decode(seq2seq.cached_step_function(decoder), states, max_length=8)
    assert len(greedy.tokens) == 4


@pytest.mark.parametrize("block", [1, 4, 16])
def test_prefix_logits_in_blocks_read_the_last_real_position(block):
    """Padding the prefix on the right to a multiple of ``block`` (fewer shapes for JAX to compile) leaves
    the logits at its last real position as they were: the causal mask keeps the padding out."""
    keras.utils.set_random_seed(21)
    gpt = transformer.build_gpt(11, 8, 2, 2, 12)
    decoder = kvcache.CachedDecoder(gpt.get_layer("embedding"), [gpt.get_layer("block_0"), gpt.get_layer("block_1")],
                                    gpt.get_layer("final_norm"), gpt.get_layer("output"))
    ids = np.random.default_rng(22).integers(0, 11, size=(2, 12)).astype("int32")
    for length in (1, 5, 11, 12):
        full = ops.convert_to_numpy(gpt(ids[:, :length]))[:, -1]
        assert np.abs(ops.convert_to_numpy(decoder.prefix_logits(ids[:, :length], block=block)) - full).max() <= 1e-5


def test_prefix_logits_refuse_a_block_below_one():
    keras.utils.set_random_seed(23)
    gpt = transformer.build_gpt(5, 4, 1, 1, 6)
    decoder = kvcache.CachedDecoder(gpt.get_layer("embedding"), [gpt.get_layer("block_0")], gpt.get_layer("final_norm"),
                                    gpt.get_layer("output"))
    with pytest.raises(ValueError, match="block must be"):
        decoder.prefix_logits(np.zeros((1, 3), "int32"), block=0)

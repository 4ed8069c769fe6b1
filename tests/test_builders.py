"""utils.models.transformer's builders: ``build_gpt`` (chapter 9's GPT, any block class, any output bias)
and ``build_translator`` (chapter 9's encoder-decoder). Each is checked on its own and against the builder
chapter 9's notebook writes in front of the learner: the same parameter count and, with copied weights,
the same outputs; every backend."""

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from utils.data import tokens
from utils.models import encoders, transformer

NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "09_transformers.ipynb"
TOLERANCE = 1e-5   # float32 against float32, the same layers in the same order


def _ids(shape, high, seed):
    return np.random.default_rng(seed).integers(0, high, size=shape).astype("int32")


def _numpy(x):
    return ops.convert_to_numpy(x)


def test_build_gpt_counts_its_parameters_and_names_its_layers():
    keras.utils.set_random_seed(0)
    model = transformer.build_gpt(11, 16, 4, 2, 12)
    assert [layer.name for layer in model.layers[1:]] == ["embedding", "block_0", "block_1", "final_norm", "output"]
    expected = 11 * 16 + 12 * 16 + 2 * transformer.block_parameters(16, 64) + 2 * 16 + 16 * 11 + 11
    assert model.count_params() == expected
    assert tuple(model(_ids((3, 7), 11, 1)).shape) == (3, 7, 11)


def test_build_gpt_is_causal():
    keras.utils.set_random_seed(1)
    model = transformer.build_gpt(9, 8, 2, 1, 10)
    ids = _ids((1, 8), 9, 2)
    changed = ids.copy()
    changed[0, 5] = (changed[0, 5] + 1) % 9
    before, after = _numpy(model(ids)), _numpy(model(changed))
    assert np.abs(before[0, :5] - after[0, :5]).max() <= 1e-6
    assert np.abs(before[0, 5:] - after[0, 5:]).max() > 1e-4


def test_build_gpt_takes_a_block_class_a_width_and_an_output_bias():
    log_frequency = np.log(np.arange(1, 8) / 28.0)
    model = transformer.build_gpt(7, 8, 2, 2, 6, block=encoders.PostNormDecoderBlock, hidden=12,
                                  output_bias=log_frequency)
    assert isinstance(model.get_layer("block_1"), encoders.PostNormDecoderBlock)
    assert model.get_layer("block_0").hidden == 12
    assert np.allclose(_numpy(model.get_layer("output").bias), log_frequency, atol=1e-6)
    zeros = transformer.build_gpt(7, 8, 2, 1, 6)
    assert np.abs(_numpy(zeros.get_layer("output").bias)).max() == 0.0


@pytest.mark.parametrize("kwargs, phrase", [
    (dict(vocab=0), "vocab must be"), (dict(blocks=0), "blocks must be"), (dict(heads=3), "multiple of the number of heads"),
    (dict(context=2.5), "context must be"), (dict(output_bias=np.zeros(4)), "one number per token")])
def test_build_gpt_refuses_settings_that_do_not_fit(kwargs, phrase):
    settings = dict(vocab=7, depth=8, heads=2, blocks=1, context=6) | kwargs
    with pytest.raises(ValueError, match=phrase):
        transformer.build_gpt(**settings)


def test_the_notebooks_gpt_builder_makes_the_librarys_model(notebook_definition):
    """Chapter 9 writes its GPT builder inline; chapter 10 calls the library's: the same model."""
    vocab, depth, heads, blocks, context = 13, 16, 4, 2, 10
    log_frequency = np.log(np.arange(1, vocab + 1) / (vocab * (vocab + 1) / 2))
    build = notebook_definition(NOTEBOOK.name, "build_gpt", transformer=transformer, V=vocab, GPT_DEPTH=depth,
                                GPT_HEADS=heads, GPT_BLOCKS=blocks, CONTEXT=context, log_frequency=log_frequency)
    keras.utils.set_random_seed(3)
    ours = build()
    keras.utils.set_random_seed(4)
    library = transformer.build_gpt(vocab, depth, heads, blocks, context, output_bias=log_frequency)
    assert ours.count_params() == library.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in library.get_weights()]
    assert np.allclose(library.get_layer("output").get_weights()[1], ours.get_layer("output").get_weights()[1])
    library.set_weights(ours.get_weights())
    ids = _ids((3, context), vocab, 5)
    assert np.abs(_numpy(ours(ids)) - _numpy(library(ids))).max() <= TOLERANCE


def _pairs(batch, source_length, target_length, seed):
    """Source ids with left padding (chapter 9's convention) and decoder inputs."""
    rng = np.random.default_rng(seed)
    source = rng.integers(3, 12, size=(batch, source_length)).astype("int32")
    for row, pad in enumerate(rng.integers(0, source_length - 1, size=batch)):
        source[row, :pad] = tokens.PAD
    return source, rng.integers(1, 9, size=(batch, target_length)).astype("int32")


def test_build_translator_returns_three_models_that_share_their_layers():
    keras.utils.set_random_seed(6)
    training, encoder, decoder = transformer.build_translator(12, 9, 16, 4, (1, 2), max_source=20, max_target=15)
    source, decoder_input = _pairs(3, 8, 5, 7)
    memory, mask = (_numpy(x) for x in encoder(source))
    assert tuple(memory.shape) == (3, 8, 16) and np.array_equal(_numpy(mask), (source != tokens.PAD).astype("float32"))
    teacher = _numpy(training([source, decoder_input]))
    assert teacher.shape == (3, 5, 9)
    assert np.abs(teacher - _numpy(decoder([decoder_input, memory, mask]))).max() <= TOLERANCE
    for name in ("target_embedding", "decoder_0", "decoder_1", "decoder_norm", "output"):
        assert decoder.get_layer(name) is training.get_layer(name)
    with pytest.raises(ValueError, match="encoder blocks, decoder blocks"):
        transformer.build_translator(12, 9, 16, 4, (1,), max_source=20, max_target=15)


def test_the_notebooks_translator_builder_makes_the_librarys_model(notebook_definition):
    """Chapter 9 writes its encoder-decoder builder inline; chapter 10 calls the library's: the same model."""
    depth, heads, blocks, max_source, max_length = 16, 4, (1, 1), 20, 14
    build = notebook_definition(NOTEBOOK.name, "build_transformer", transformer=transformer, tokens=tokens,
                                DEPTH=depth, S2S_HEADS=heads, S2S_BLOCKS=blocks, MAX_SOURCE=max_source,
                                MAX_LENGTH=max_length)
    keras.utils.set_random_seed(8)
    ours = build(12, 9)
    keras.utils.set_random_seed(9)
    library = transformer.build_translator(12, 9, depth, heads, blocks, max_source=max_source, max_target=max_length + 1)
    for mine, theirs in zip(ours, library):
        assert mine.count_params() == theirs.count_params()
    library[0].set_weights(ours[0].get_weights())
    source, decoder_input = _pairs(4, 9, 6, 10)
    assert np.abs(_numpy(ours[0]([source, decoder_input])) - _numpy(library[0]([source, decoder_input]))).max() <= TOLERANCE
    memory, mask = (_numpy(x) for x in library[1](source))
    assert np.abs(_numpy(ours[2]([decoder_input, memory, mask])) - _numpy(library[2]([decoder_input, memory, mask]))).max() \
        <= TOLERANCE

"""utils.models.encoders: the frame mask, positions, masked mean pooling and the class token, the
classifier's invariances (padding, and order without positions), the post-norm block; every backend."""

import keras
import numpy as np
import pytest
from keras import ops

from utils.models import encoders, transformer

TOLERANCE = 1e-5


def _frames(lengths, length=9, features=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(lengths), length, features)).astype("float32")
    x[np.arange(length)[None, :] >= np.asarray(lengths)[:, None]] = 0.0
    return x


def test_frame_mask_marks_real_frames():
    x = _frames([9, 4, 1])
    assert ops.convert_to_numpy(encoders.frame_mask(x)).sum(axis=1).tolist() == [9, 4, 1]


def test_masked_mean_pooling_ignores_padding():
    states = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)
    pooled = ops.convert_to_numpy(encoders.MaskedMeanPooling()(states, mask))
    assert np.abs(pooled[0] - states[0, :2].mean(0)).max() <= TOLERANCE
    assert np.abs(pooled[1] - states[1].mean(0)).max() <= TOLERANCE


def test_class_token_goes_first_and_is_always_real():
    states, mask = np.ones((2, 3, 4), dtype="float32"), np.array([[1, 0, 0], [1, 1, 1]], dtype=bool)
    layer = encoders.ClassToken()
    out, out_mask = layer(states, mask)
    assert tuple(out.shape) == (2, 4, 4) and ops.convert_to_numpy(out_mask).tolist() == [
        [True, True, False, False], [True, True, True, True]]
    assert np.abs(ops.convert_to_numpy(out)[:, 0] - ops.convert_to_numpy(layer.token)).max() == 0


def test_positions_are_added_to_the_projection():
    x = _frames([9, 9])
    for positions in ("none", "sinusoidal", "learned"):
        layer = encoders.FramesAndPosition(8, 16, positions)
        out = ops.convert_to_numpy(layer(x))
        plain = ops.convert_to_numpy(layer.project(x))
        if positions == "none":
            assert np.abs(out - plain).max() == 0
        elif positions == "sinusoidal":
            assert np.abs(out - plain - transformer.sinusoidal_encoding(9, 8)[None]).max() <= TOLERANCE
    with pytest.raises(ValueError, match="more than the 4"):
        encoders.FramesAndPosition(8, 4)(x)
    with pytest.raises(ValueError, match="positions must be"):
        encoders.FramesAndPosition(8, 4, "rotary")


@pytest.mark.parametrize("pooling", ["mean", "class token"])
def test_the_classifier_ignores_padding(pooling):
    keras.utils.set_random_seed(0)
    model = encoders.encoder_classifier(5, 3, depth=8, heads=2, max_length=20, pooling=pooling)
    x = _frames([9, 5, 2])
    longer = np.concatenate([x, np.zeros((3, 6, 5), dtype="float32")], axis=1)
    short, long = (ops.convert_to_numpy(model(v)) for v in (x, longer))
    assert np.abs(short - long).max() <= TOLERANCE
    assert np.abs(short.sum(axis=1) - 1).max() <= TOLERANCE


def test_without_positions_the_mean_pooled_classifier_is_order_blind():
    x = _frames([9, 9], seed=3)
    order = np.random.default_rng(4).permutation(9)
    outputs = {}
    for positions in ("none", "sinusoidal"):
        keras.utils.set_random_seed(0)
        model = encoders.encoder_classifier(5, 3, depth=8, heads=2, max_length=20, positions=positions)
        outputs[positions] = np.abs(ops.convert_to_numpy(model(x)) - ops.convert_to_numpy(model(x[:, order]))).max()
    assert outputs["none"] <= TOLERANCE
    assert outputs["sinusoidal"] > 1e-4


def test_bad_pooling_is_a_sentence():
    with pytest.raises(ValueError, match="pooling must be"):
        encoders.encoder_classifier(5, 3, pooling="max")


def test_post_norm_block_normalises_after_each_residual_sum():
    keras.utils.set_random_seed(0)
    block = encoders.PostNormDecoderBlock(8, 2, 16, cross=False)
    x = np.random.default_rng(5).normal(size=(2, 6, 8)).astype("float32")
    out = ops.convert_to_numpy(block(x))
    tensor = ops.convert_to_tensor(x)
    attended = block.norm_self(tensor + block.self_attention(tensor, tensor, use_causal_mask=True))
    expected = block.norm_feed_forward(attended + block.feed_forward(attended))
    assert np.abs(out - ops.convert_to_numpy(expected)).max() <= TOLERANCE
    assert np.abs(out.mean(axis=-1)).max() <= 1e-4           # the output is layer-normalised (gamma 1, beta 0)
    changed = x.copy()
    changed[:, 4:] += 1.0
    assert np.abs(ops.convert_to_numpy(block(changed))[:, :4] - out[:, :4]).max() <= 1e-6   # still causal

"""utils.models.transformer: attention equal to Keras's with copied weights, masks proven by perturbation,
positions, blocks and their parameter counts, saving, and the chapter 9 notebook's layers; every backend."""

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.models import transformer
from utils.checks.parity import largest_difference

TOLERANCE = 1e-5   # float32 against float32: a few hundred roundings
UNCHANGED = 1e-6   # what a masked-out change may move an output by
CHANGED = 1e-3     # what a change the output may see must move it by at least
NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "09_transformers.ipynb"


def _numpy(x):
    return ops.convert_to_numpy(x)


def _normal(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _key_mask(lengths, keys, left=False):
    """(B, Tk) True at the real keys: ``lengths[b]`` of them, on the right when ``left`` (left padding)."""
    positions = np.arange(keys)[None, :]
    lengths = np.asarray(lengths)[:, None]
    return positions >= keys - lengths if left else positions < lengths


def _layer_pair(heads, key_dim, query, value, key=None, value_dim=None, output_dim=None, seed=0):
    """Keras's MultiHeadAttention (nonzero biases) and ours with its weights copied."""
    keras.utils.set_random_seed(seed)
    theirs = layers.MultiHeadAttention(heads, key_dim, value_dim=value_dim, output_shape=output_dim,
                                       bias_initializer="random_normal")
    theirs(query, value, key, return_attention_scores=True)  # built on its path that works on JAX (see below)
    ours = transformer.MultiHeadAttention(heads, key_dim, value_dim, output_dim)
    ours(query, value, key)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _as_list(result):
    return [_numpy(r) for r in result] if isinstance(result, (tuple, list)) else [_numpy(result)]


# The attention cases: (query, value, call arguments). Cross-attention has Tq = 4 queries, Tk = 6 keys.
def _case(name):
    query, memory = _normal((3, 4, 8), 1), _normal((3, 6, 8), 2)
    if name == "no mask":
        return query, memory, {}
    if name == "padding":
        mask = np.broadcast_to(_key_mask([6, 3, 1], 6)[:, None, :], (3, 4, 6)).copy()
        mask[0, 2, 4:] = False  # one query of the first row sees fewer keys than the others
        return query, memory, {"attention_mask": mask}
    x = _normal((3, 5, 8), 3)
    if name == "causal":
        return x, x, {"use_causal_mask": True}
    # causal and padding (on the right, so that every query keeps at least one key)
    return x, x, {"use_causal_mask": True, "attention_mask": np.broadcast_to(
        _key_mask([5, 3, 1], 5)[:, None, :], (3, 5, 5)).copy()}


CASES = ["no mask", "padding", "causal", "causal and padding"]


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_multi_head_attention_equals_keras_with_copied_weights(case, scores):
    query, value, kwargs = _case(case)
    ours, theirs = _layer_pair(2, 4, query, value)
    got = _as_list(ours(query, value, return_attention_scores=scores, **kwargs))
    expected = _as_list(theirs(query, value, return_attention_scores=scores, **kwargs))
    assert len(got) == len(expected) == (2 if scores else 1)
    for a, b in zip(got, expected, strict=True):
        assert a.shape == b.shape
        assert largest_difference(a, b) <= TOLERANCE
    if scores:
        assert got[1].shape == (query.shape[0], 2, query.shape[1], value.shape[1])
        np.testing.assert_allclose(got[1].sum(axis=-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("scores", [False, True])
def test_value_and_output_depths_other_than_the_key_depth(scores):
    query, value, key = _normal((2, 5, 6), 4), _normal((2, 7, 3), 5), _normal((2, 7, 2), 6)
    mask = _key_mask([7, 4], 7)[:, None, :].repeat(5, axis=1)
    ours, theirs = _layer_pair(3, 4, query, value, key, value_dim=5, output_dim=7)
    assert ours.value_kernel.shape == (3, 3, 5) and ours.output_kernel.shape == (3, 5, 7)
    got = _as_list(ours(query, value, key, attention_mask=mask, return_attention_scores=scores))
    # Keras 3.15's layer fails on JAX with value_dim != key_dim unless it returns the scores (its fast path
    # hands jax.nn.dot_product_attention values of another depth than the keys): take its output from there.
    expected = _as_list(theirs(query, value, key, attention_mask=mask, return_attention_scores=True))[:len(got)]
    assert got[0].shape == (2, 5, 7)
    for a, b in zip(got, expected, strict=True):
        assert largest_difference(a, b) <= TOLERANCE


def test_the_causal_mask_with_more_keys_than_queries_is_keras_s_top_left_triangle():
    """With 4 queries and 6 keys, query i may look at keys 0..i, in ours as in Keras's use_causal_mask."""
    query, value, _ = _case("no mask")  # 4 queries, 6 keys
    ours, theirs = _layer_pair(2, 4, query, value)
    top_left = np.tril(np.ones((4, 6), dtype=bool))
    assert np.array_equal(transformer.causal_mask(4, 6), top_left)
    causal = _numpy(ours(query, value, use_causal_mask=True))
    assert largest_difference(causal, ours(query, value, attention_mask=top_left)) <= 1e-6
    assert largest_difference(causal, theirs(query, value, use_causal_mask=True)) <= TOLERANCE


# --- masks proven by perturbation -------------------------------------------------------------------

def _outputs(layer, query, value, scores, **kwargs):
    """The outputs with the query position on axis 1 (the weights (B, H, Tq, Tk) moved to (B, Tq, H, Tk))."""
    result = layer(query, value, return_attention_scores=scores, **kwargs)
    if not scores:
        return [_numpy(result)]
    return [_numpy(result[0]), np.moveaxis(_numpy(result[1]), 2, 1)]


def _assert_causal(run, x, t, seed=11):
    """``run(x)`` -> arrays with positions on axis 1: changing x after t moves nothing at or before t and
    everything after t."""
    changed = x.copy()
    changed[:, t + 1:] += _normal(changed[:, t + 1:].shape, seed)
    for before, after in zip(run(x), run(changed), strict=True):
        assert np.abs(before[:, :t + 1] - after[:, :t + 1]).max() <= UNCHANGED
        moved = np.abs(before[:, t + 1:] - after[:, t + 1:]).reshape(before.shape[0], before.shape[1] - t - 1, -1)
        assert moved.max(axis=-1).min() > CHANGED  # every later position of every row moved


def _padded(x, mask, seed=12):
    """``x`` (B, T, d) with new values at the padding (``mask`` False)."""
    return np.where(mask[..., None], x, x + 10 * _normal(x.shape, seed)).astype("float32")


@pytest.mark.parametrize("which", ["ours", "keras"])
@pytest.mark.parametrize("scores", [False, True])
def test_the_causal_mask_hides_the_future(which, scores):
    x = _normal((3, 5, 8), 13)   # the shapes of _case, so that JAX compiles each operation once
    layer = dict(zip(["ours", "keras"], _layer_pair(2, 4, x, x), strict=True))[which]
    for t in (0, 2, 3):
        _assert_causal(lambda inputs: _outputs(layer, inputs, inputs, scores, use_causal_mask=True), x, t)


@pytest.mark.parametrize("which", ["ours", "keras"])
@pytest.mark.parametrize("scores", [False, True])
def test_the_padding_mask_hides_padded_keys_and_values(which, scores):
    query, memory, kwargs = _case("padding")
    layer = dict(zip(["ours", "keras"], _layer_pair(2, 4, query, memory), strict=True))[which]
    real = _key_mask([6, 3, 1], 6)
    before = _outputs(layer, query, memory, scores, **kwargs)
    after = _outputs(layer, query, _padded(memory, real), scores, **kwargs)
    for a, b in zip(before, after, strict=True):
        assert np.abs(a - b).max() <= UNCHANGED
    # the same change at real keys is seen
    moved = _outputs(layer, query, _padded(memory, ~real), scores, **kwargs)
    assert np.abs(moved[0] - before[0]).max() > CHANGED
    if scores:
        assert np.all(before[1][np.broadcast_to(~kwargs["attention_mask"][:, :, None, :], before[1].shape)] == 0.0)


def test_a_stack_of_decoder_blocks_without_cross_attention_is_causal():
    keras.utils.set_random_seed(3)
    blocks = [transformer.DecoderBlock(8, 2, 16, cross=False) for _ in range(2)]

    def run(x):
        for block in blocks:
            x = block(x)
        return [_numpy(x)]

    x = _normal((3, 5, 8), 14)
    for t in (0, 2, 3):
        _assert_causal(run, x, t)


def test_an_encoder_block_with_a_key_mask_ignores_the_padding():
    keras.utils.set_random_seed(4)
    block = transformer.EncoderBlock(8, 2, 16)
    x, real = _normal((3, 5, 8), 15), _key_mask([5, 3, 1], 5, left=True)
    before, after = _numpy(block(x, key_mask=real)), _numpy(block(_padded(x, real), key_mask=real))
    assert np.abs(before - after)[real].max() <= UNCHANGED
    unmasked = _numpy(block(_padded(x, real)))  # without the mask the padding is read by the real positions
    for row in (1, 2):
        assert np.abs(before[row] - unmasked[row])[real[row]].max() > CHANGED


def test_cross_attention_ignores_padded_memory():
    keras.utils.set_random_seed(5)
    block = transformer.DecoderBlock(8, 2, 16, cross=True)
    x, memory, real = _normal((3, 4, 8), 16), _normal((3, 6, 8), 17), _key_mask([6, 4, 1], 6, left=True)
    before = _numpy(block(x, memory, memory_mask=real))
    assert np.abs(before - _numpy(block(x, _padded(memory, real), memory_mask=real))).max() <= UNCHANGED
    assert np.abs(before - _numpy(block(x, _padded(memory, ~real), memory_mask=real))).max() > CHANGED
    with pytest.raises(ValueError, match="give it the encoder's outputs as memory"):
        block(x)


# --- the pieces -----------------------------------------------------------------------------------

def test_causal_mask_values_and_errors():
    np.testing.assert_array_equal(transformer.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(transformer.causal_mask(2, 4), [[1, 0, 0, 0], [1, 1, 0, 0]])
    np.testing.assert_array_equal(transformer.causal_mask(3, 2), [[1, 0], [1, 1], [1, 1]])
    assert transformer.causal_mask(4, 4).dtype == bool
    for args in [(0,), (2, 0), (0, 3)]:
        with pytest.raises(ValueError, match="a causal mask needs at least one query and one key"):
            transformer.causal_mask(*args)


def test_padding_mask_is_one_row_for_every_query():
    mask = _numpy(transformer.padding_mask(np.array([[1, 1, 0], [0, 1, 1]])))
    assert mask.shape == (2, 1, 3) and mask.dtype == bool
    np.testing.assert_array_equal(mask[:, 0], [[True, True, False], [False, True, True]])
    with pytest.raises(ValueError, match=r"a key padding mask is \(batch, keys\)"):
        transformer.padding_mask(np.ones((2, 3, 3), dtype=bool))


def test_split_and_merge_heads():
    x = np.arange(2 * 3 * 12, dtype="float32").reshape(2, 3, 12)
    split = _numpy(transformer.split_heads(x, 4))
    assert split.shape == (2, 4, 3, 3)
    for h in range(4):
        np.testing.assert_array_equal(split[:, h], x[:, :, h * 3:(h + 1) * 3])  # head h: columns h*dh..(h+1)*dh-1
    np.testing.assert_array_equal(_numpy(transformer.merge_heads(split)), x)


def _reference_attention(q, k, v, mask):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def test_scaled_dot_product_attention_against_numpy_and_keras():
    q, k, v = _normal((2, 3, 4, 5), 20), _normal((2, 3, 6, 5), 21), _normal((2, 3, 6, 5), 22)  # (JAX: dv = dk)
    mask = np.broadcast_to(_key_mask([6, 2], 6)[:, None, None, :], (2, 1, 4, 6)).copy()
    output, weights = (_numpy(r) for r in transformer.scaled_dot_product_attention(q, k, v, mask))
    expected_output, expected_weights = _reference_attention(q, k, v, mask)
    assert largest_difference(output, expected_output) <= TOLERANCE
    assert largest_difference(weights, expected_weights) <= TOLERANCE
    assert np.all(weights[np.broadcast_to(~mask, weights.shape)] == 0.0)  # exactly 0, not merely small
    plain_output, plain_weights = (_numpy(r) for r in transformer.scaled_dot_product_attention(q, k, v))
    assert largest_difference(plain_output, _reference_attention(q, k, v, True)[0]) <= TOLERANCE
    # keras.ops.dot_product_attention has the heads on axis -2: (B, T, H, d)
    heads_second = [np.swapaxes(a, 1, 2) for a in (q, k, v)]
    keras_output = _numpy(ops.dot_product_attention(*heads_second, mask=mask))
    assert largest_difference(np.swapaxes(keras_output, 1, 2), output) <= TOLERANCE
    keras_plain = _numpy(ops.dot_product_attention(*heads_second))
    assert largest_difference(np.swapaxes(keras_plain, 1, 2), plain_output) <= TOLERANCE


@pytest.mark.parametrize("heads", [3, 4])  # 4 heads = 4 positions: a (Tq, Tk) mask read as (B, Tk) would broadcast
def test_scaled_dot_product_attention_takes_masks_of_two_and_three_axes(heads):
    q, k, v = (_normal((2, heads, 4, 5), seed) for seed in (27, 28, 29))
    causal = transformer.causal_mask(4)
    _, weights = transformer.scaled_dot_product_attention(q, k, v, causal)
    assert largest_difference(weights, _reference_attention(q, k, v, causal)[1]) <= TOLERANCE
    per_row = np.broadcast_to(_key_mask([4, 2], 4)[:, None, :], (2, 4, 4)) & causal     # (B, Tq, Tk)
    _, weights = transformer.scaled_dot_product_attention(q, k, v, per_row)
    assert largest_difference(weights, _reference_attention(q, k, v, per_row[:, None])[1]) <= TOLERANCE
    output, weights = transformer.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0], causal)  # one sequence
    expected_output, expected_weights = _reference_attention(q[0, 0], k[0, 0], v[0, 0], causal)
    assert largest_difference(output, expected_output) <= TOLERANCE
    assert largest_difference(weights, expected_weights) <= TOLERANCE


def test_sinusoidal_encoding_follows_the_formula():
    table = transformer.sinusoidal_encoding(50, 16)
    assert table.shape == (50, 16) and table.dtype == np.float32
    for p, i in [(0, 0), (1, 0), (7, 3), (49, 7), (23, 5)]:
        angle = p / 10_000 ** (2 * i / 16)
        assert table[p, 2 * i] == pytest.approx(np.sin(angle), abs=1e-6)
        assert table[p, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-6)
    np.testing.assert_array_equal(table[0], np.tile([0.0, 1.0], 8))
    for args in [(10, 7), (10, 0), (0, 8)]:
        with pytest.raises(ValueError, match="depth a positive even number"):
            transformer.sinusoidal_encoding(*args)


@pytest.mark.parametrize("kind", ["none", "sinusoidal", "learned"])
def test_token_and_position(kind):
    keras.utils.set_random_seed(6)
    layer = transformer.TokenAndPosition(13, 8, 16, positions=kind)
    ids = np.random.default_rng(23).integers(1, 13, size=(3, 5)).astype("int32")
    got = _numpy(layer(ids))
    tokens = _numpy(layer.tokens.embeddings)[ids]
    position_table = {"none": np.zeros((16, 8)), "sinusoidal": transformer.sinusoidal_encoding(16, 8),
                      "learned": _numpy(layer.learned.embeddings) if layer.learned is not None else None}[kind]
    assert got.shape == (3, 5, 8)
    assert largest_difference(got, tokens + position_table[None, :5]) <= 1e-6
    # with a key mask, positions count from each row's first real token
    real = _key_mask([5, 2, 4], 5, left=True)
    shifted = _numpy(layer(ids, key_mask=real))
    assert largest_difference(shifted[0], tokens[0] + position_table[:5]) <= 1e-6
    assert largest_difference(shifted[1, 3:], tokens[1, 3:] + position_table[:2]) <= 1e-6
    assert largest_difference(shifted[1, :3], tokens[1, :3] + position_table[0]) <= 1e-6  # padding: position 0
    assert largest_difference(shifted[2, 1:], tokens[2, 1:] + position_table[:4]) <= 1e-6
    assert len(layer.get_weights()) == (2 if kind == "learned" else 1)


def _encoder(kind, seed=7):
    keras.utils.set_random_seed(seed)
    embed = transformer.TokenAndPosition(13, 8, 16, positions=kind)
    block = transformer.EncoderBlock(8, 2, 16)

    def run(ids, key_mask=None):
        return _numpy(block(embed(ids, key_mask=key_mask), key_mask=key_mask))

    return run


@pytest.mark.parametrize("kind", ["sinusoidal", "learned"])
def test_left_padding_moves_no_position(kind):
    run = _encoder(kind)
    real = np.random.default_rng(24).integers(1, 13, size=(3, 6)).astype("int32")  # three sequences of 6
    padded = [np.concatenate([np.zeros((3, padding), dtype="int32"), real], axis=1) for padding in (3, 10)]
    outputs = [run(ids, key_mask=ids != 0)[:, -6:] for ids in padded]
    assert largest_difference(outputs[0], outputs[1]) <= TOLERANCE
    unmasked = [run(ids)[:, -6:] for ids in padded]
    assert largest_difference(unmasked[0], unmasked[1]) > CHANGED  # without the mask the positions move


@pytest.mark.parametrize("kind", ["none", "sinusoidal", "learned"])
def test_without_positions_an_encoder_is_permutation_equivariant(kind):
    run = _encoder(kind)
    ids = np.stack([np.random.default_rng(row).permutation(np.arange(1, 13))[:5] for row in range(3)]).astype("int32")
    order = np.random.default_rng(26).permutation(5)
    difference = largest_difference(run(ids[:, order]), run(ids)[:, order])
    if kind == "none":
        assert difference <= TOLERANCE
    else:
        assert difference > CHANGED


@pytest.mark.parametrize("depth, heads, hidden", [(8, 2, 16), (12, 3, 40)])
def test_block_parameters_counts_the_built_blocks(depth, heads, hidden):
    encoder = transformer.EncoderBlock(depth, heads, hidden)
    encoder.build((None, 3, depth))
    cross = transformer.DecoderBlock(depth, heads, hidden, cross=True)
    cross.build((None, 3, depth), (None, 5, depth))
    plain = transformer.DecoderBlock(depth, heads, hidden, cross=False)
    plain.build((None, 3, depth))
    if depth == 8:  # built by its first call (on the shapes of the other tests, compiled once on JAX): the same count
        called = transformer.EncoderBlock(depth, heads, hidden)
        called(np.zeros((3, 5, depth), dtype="float32"))
        assert called.count_params() == encoder.count_params()
    assert encoder.count_params() == transformer.block_parameters(depth, hidden)
    assert encoder.count_params() == transformer.block_parameters(depth, hidden, cross=False)
    assert cross.count_params() == transformer.block_parameters(depth, hidden, cross=True)
    assert plain.count_params() == transformer.block_parameters(depth, hidden, cross=False)
    assert cross.count_params() - plain.count_params() == 4 * (depth * depth + depth) + 2 * depth


def test_constructor_arguments_are_checked():
    for block in (transformer.EncoderBlock, transformer.DecoderBlock):
        with pytest.raises(ValueError, match="the depth 8 must be a multiple of the number of heads.*got 3 heads"):
            block(8, 3, 16)
        with pytest.raises(ValueError, match="number of heads, a whole number of at least 1"):
            block(8, -2, 16)
    with pytest.raises(ValueError, match="positions must be 'sinusoidal', 'learned' or 'none', got 'rotary'"):
        transformer.TokenAndPosition(10, 8, 16, positions="rotary")
    with pytest.raises(ValueError, match="positive even number"):
        transformer.TokenAndPosition(10, 7, 16, positions="sinusoidal")
    for kwargs, name in [({"heads": 0, "key_dim": 4}, "heads"), ({"heads": True, "key_dim": 4}, "heads"),
                         ({"heads": 2.0, "key_dim": 4}, "heads"), ({"heads": 2, "key_dim": 0}, "key_dim"),
                         ({"heads": 2, "key_dim": 4, "value_dim": -1}, "value_dim"),
                         ({"heads": 2, "key_dim": 4, "output_dim": 1.5}, "output_dim")]:
        with pytest.raises(ValueError, match=f"{name} must be a whole number of at least 1"):
            transformer.MultiHeadAttention(**kwargs)


@pytest.mark.parametrize("block", [transformer.EncoderBlock, transformer.DecoderBlock])
def test_zero_heads_is_a_value_error(block):
    with pytest.raises(ValueError, match="heads"):
        block(8, 0, 16)


# --- a functional model -----------------------------------------------------------------------------

def _translator():
    keras.utils.set_random_seed(8)
    source, target = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    source_mask = ops.not_equal(source, 0)
    memory = transformer.TokenAndPosition(13, 8, 16, positions="sinusoidal")(source, key_mask=source_mask)
    memory = transformer.EncoderBlock(8, 2, 16)(memory, key_mask=source_mask)
    x = transformer.TokenAndPosition(11, 8, 16, positions="learned")(target)
    x = transformer.DecoderBlock(8, 2, 16)(x, memory, memory_mask=source_mask)
    x = transformer.DecoderBlock(8, 2, 16, cross=False)(x)
    attended = transformer.MultiHeadAttention(2, 4, output_dim=6)(x, memory, attention_mask=transformer.padding_mask(
        source_mask))
    return keras.Model([source, target], layers.Dense(11)(layers.Concatenate()([x, attended])))


def test_a_functional_model_runs_on_two_lengths_and_saves(tmp_path):
    model = _translator()
    rng = np.random.default_rng(27)
    batches = []
    for source_length, target_length in [(5, 4), (9, 7)]:
        source = rng.integers(1, 13, size=(2, source_length)).astype("int32")
        source[1, :2] = 0  # left padding
        batches.append([source, rng.integers(1, 11, size=(2, target_length)).astype("int32")])
        assert model.predict_on_batch(batches[-1]).shape == (2, target_length, 11)
    path = tmp_path / "translator.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert {type(layer).__name__ for layer in loaded.layers} >= {"TokenAndPosition", "EncoderBlock", "DecoderBlock",
                                                               "MultiHeadAttention"}
    assert largest_difference(loaded.predict_on_batch(batches[1]), model.predict_on_batch(batches[1])) <= 1e-6
    course = (transformer.TokenAndPosition, transformer.EncoderBlock, transformer.DecoderBlock,
              transformer.MultiHeadAttention)
    pairs = [(a, b) for a, b in zip(model.layers, loaded.layers, strict=True) if isinstance(a, course)]
    assert len(pairs) == 6 and all(type(a) is type(b) and a.get_config() == b.get_config() for a, b in pairs)
    assert [a.cross for a, _ in pairs if isinstance(a, transformer.DecoderBlock)] == [True, False]


# --- the chapter 9 notebook ---------------------------------------------------------------------------

@pytest.fixture
def restored_registrations():
    """The notebook's classes may register themselves under the course's names: put utils's back after."""
    registered = dict(keras.saving.get_custom_objects())
    yield
    keras.saving.get_custom_objects().clear()
    keras.saving.get_custom_objects().update(registered)


def _notebook_classes(notebook_definition):
    notebook_attention = notebook_definition(NOTEBOOK.name, "MultiHeadAttention", transformer=transformer)
    names = {"MultiHeadAttention": notebook_attention, "transformer": transformer}
    return (notebook_attention, notebook_definition(NOTEBOOK.name, "EncoderBlock", **names),
            notebook_definition(NOTEBOOK.name, "DecoderBlock", **names))


def _copy_weights(reference, copy, seed):
    """Gives ``reference`` random weights (nonzero biases) and copies them into ``copy``."""
    reference.set_weights([w + 0.1 * _normal(w.shape, seed + k) for k, w in enumerate(reference.get_weights())])
    copy.set_weights(reference.get_weights())


needs_notebook = pytest.mark.skipif(not NOTEBOOK.exists(), reason="solutions/09_transformers.ipynb is not written yet")


@needs_notebook
@pytest.mark.parametrize("case", CASES)
def test_the_notebook_attention_equals_the_utils_attention(case, notebook_definition, restored_registrations):
    NotebookAttention, _, _ = _notebook_classes(notebook_definition)
    query, value, kwargs = _case(case)
    ours, theirs = transformer.MultiHeadAttention(2, 4), NotebookAttention(2, 4)
    ours(query, value), theirs(query, value)
    _copy_weights(ours, theirs, 40)
    for scores in (False, True):
        got = _as_list(theirs(query, value, return_attention_scores=scores, **kwargs))
        expected = _as_list(ours(query, value, return_attention_scores=scores, **kwargs))
        for a, b in zip(got, expected, strict=True):
            assert largest_difference(a, b) <= TOLERANCE


@needs_notebook
@pytest.mark.parametrize("block", ["EncoderBlock", "DecoderBlock"])
def test_the_notebook_blocks_equal_the_utils_blocks(block, notebook_definition, restored_registrations):
    _, NotebookEncoder, NotebookDecoder = _notebook_classes(notebook_definition)
    x, memory = _normal((3, 5, 8), 30), _normal((3, 6, 8), 31)
    if block == "EncoderBlock":
        real = _key_mask([5, 3, 1], 5, left=True)
        theirs, ours = NotebookEncoder(8, 2, 16), transformer.EncoderBlock(8, 2, 16)

        def run(layer):
            return _numpy(layer(x, key_mask=real))
    else:
        memory_mask = _key_mask([6, 4, 2], 6, left=True)
        theirs, ours = NotebookDecoder(8, 2, 16), transformer.DecoderBlock(8, 2, 16, cross=True)

        def run(layer):
            return _numpy(layer(x, memory, memory_mask=memory_mask))
    run(theirs), run(ours)
    assert [w.shape for w in theirs.get_weights()] == [w.shape for w in ours.get_weights()]
    _copy_weights(ours, theirs, 50)
    assert largest_difference(run(theirs), run(ours)) <= TOLERANCE


# --- bad input is a sentence, not a backend traceback ----------------------------------------------------

def _built_attention():
    layer = transformer.MultiHeadAttention(2, 4, name="mha")
    layer(_normal((3, 4, 8), 1), _normal((3, 6, 8), 2))
    return layer


@pytest.mark.parametrize("mask_shape", [(3, 4, 7), (3, 5, 6), (4, 4, 6), (3, 7), (5, 6), (3, 1, 4, 6), (6,)])
def test_an_attention_mask_of_the_wrong_shape_is_a_clear_error(mask_shape):
    query, memory = _normal((3, 4, 8), 1), _normal((3, 6, 8), 2)
    with pytest.raises(ValueError, match=rf"the attention mask has shape \({mask_shape[0]},.*it must be "
                                         r"\(batch, queries, keys\) = \(3, 4, 6\).*padding_mask"):
        _built_attention()(query, memory, attention_mask=np.ones(mask_shape, dtype=bool))


def test_attention_masks_that_broadcast_are_accepted():
    query, memory = _normal((3, 4, 8), 1), _normal((3, 6, 8), 2)
    layer, keys = _built_attention(), _key_mask([6, 3, 1], 6)
    full = _numpy(layer(query, memory, attention_mask=np.broadcast_to(keys[:, None, :], (3, 4, 6))))
    assert largest_difference(layer(query, memory, attention_mask=keys[:, None, :]), full) == 0.0
    everywhere = layer(query, memory, attention_mask=np.ones((4, 6), bool))
    assert largest_difference(everywhere, layer(query, memory)) == 0.0


def test_a_depth_other_than_the_one_built_for_is_a_clear_error():
    query, memory = _normal((3, 4, 8), 1), _normal((3, 6, 8), 2)
    layer = _built_attention()
    with pytest.raises(ValueError, match=r"mha was built for queries of depth 8, and was given queries of "
                                         r"shape \(3, 4, 6\) \(depth 6\): call it with depth 8"):
        layer(query[..., :6], memory)
    with pytest.raises(ValueError, match=r"built for keys of depth 8"):
        layer(query, memory, key=memory[..., :4])
    with pytest.raises(ValueError, match=r"built for values of depth 8"):
        layer(query, memory[..., :4], key=memory)


def test_a_key_and_a_value_of_different_lengths_are_a_clear_error():
    query, memory = _normal((3, 4, 8), 1), _normal((3, 6, 8), 2)
    with pytest.raises(ValueError, match=r"the values have 5 positions and the keys 6"):
        _built_attention()(query, memory[:, :5], key=memory)
    with pytest.raises(ValueError, match=r"the values have 5 positions and the keys 6"):
        transformer.scaled_dot_product_attention(query, memory, memory[:, :5])


def test_scaled_dot_product_attention_refuses_masks_and_depths_that_do_not_fit():
    query, memory = _normal((3, 4, 8), 1), _normal((3, 6, 8), 2)
    for shape in [(4, 7), (5, 6), (3, 4, 7), (2, 4, 6), (1, 3, 4, 6)]:
        with pytest.raises(ValueError, match=rf"the mask has shape \({shape[0]}, .*\(queries, keys\) = "
                                             r"\(4, 6\)"):
            transformer.scaled_dot_product_attention(query, memory, memory, np.ones(shape, dtype=bool))
    with pytest.raises(ValueError, match=r"the query has depth 8 and the key 6.*same depth"):
        transformer.scaled_dot_product_attention(query, memory[..., :6], memory)


def test_key_masks_one_position_too_long_are_a_clear_error():
    x, memory = _normal((3, 5, 8), 3), _normal((3, 6, 8), 2)
    message = r"the key mask has shape \(3, {}\); it must be \(batch, key positions\) = \(3, {}\)"
    with pytest.raises(ValueError, match=message.format(6, 5)):
        transformer.EncoderBlock(8, 2, 16)(x, key_mask=np.ones((3, 6), bool))
    with pytest.raises(ValueError, match=message.format(7, 6)):
        transformer.DecoderBlock(8, 2, 16)(x, memory, memory_mask=np.ones((3, 7), bool))
    with pytest.raises(ValueError, match=message.format(6, 5)):
        transformer.TokenAndPosition(13, 8, 16)(np.ones((3, 5), "int32"), key_mask=np.ones((3, 6), bool))
    with pytest.raises(ValueError, match=message.format(6, 5)):
        transformer.padding_mask(np.ones((3, 6), bool), x)


# --- dtype="float64" -------------------------------------------------------------------------------------

def _float64_result():
    """The dtype a float64 Keras layer computes in on this backend: float64, except on JAX, where Keras
    (without JAX's 64-bit switch) computes in float32 whatever the layer's dtype."""
    return keras.backend.standardize_dtype(layers.Dense(1, dtype="float64")(np.ones((1, 1))).dtype)


@pytest.mark.parametrize("case", CASES)
def test_a_float64_multi_head_attention_equals_keras_in_float64(case):
    query, value, kwargs = _case(case)
    query, value = query.astype("float64"), value.astype("float64")
    keras.utils.set_random_seed(0)
    theirs = layers.MultiHeadAttention(2, 4, bias_initializer="random_normal", dtype="float64")
    theirs(query, value, return_attention_scores=True)
    ours = transformer.MultiHeadAttention(2, 4, dtype="float64")
    ours(query, value)
    ours.set_weights(theirs.get_weights())
    assert {w.dtype for w in ours.weights} == {"float64"}
    got, expected = (layer(query, value, return_attention_scores=True, **kwargs) for layer in (ours, theirs))
    tolerance = 1e-12 if _float64_result() == "float64" else TOLERANCE  # float64 rounding, where float64
    for a, b in zip(got, expected, strict=True):
        assert keras.backend.standardize_dtype(a.dtype) == _float64_result()
        assert largest_difference(a, b) <= tolerance


@pytest.mark.parametrize("make", [
    lambda: transformer.EncoderBlock(8, 2, 16, dtype="float64"),
    lambda: transformer.DecoderBlock(8, 2, 16, dtype="float64"),
    lambda: transformer.DecoderBlock(8, 2, 16, cross=False, dtype="float64"),
], ids=["encoder", "decoder", "decoder without cross-attention"])
def test_a_float64_block_is_float64_throughout(make):
    block = make()
    x, memory = _normal((3, 5, 8), 3).astype("float64"), _normal((3, 6, 8), 2).astype("float64")
    out = block(x, key_mask=_key_mask([5, 3, 1], 5)) if isinstance(block, transformer.EncoderBlock) else \
        block(x, memory, memory_mask=_key_mask([6, 3, 1], 6)) if block.cross else block(x)
    assert keras.backend.standardize_dtype(out.dtype) == _float64_result()
    assert {w.dtype for w in block.weights} == {"float64"}
    sublayers = [layer for layer in block._flatten_layers()  # those that compute, not the feed-forward's
                 if not isinstance(layer, (keras.Model, layers.InputLayer))]  # container and its input
    assert len(sublayers) > 6 and {layer.compute_dtype for layer in sublayers} == {"float64"}
    clone = type(block).from_config(block.get_config())  # a saved block comes back in float64
    assert clone.dtype_policy.name == "float64"


@pytest.mark.parametrize("kind", ["none", "sinusoidal", "learned"])
def test_a_float64_embedding_is_float64_with_its_positions_in_full_precision(kind):
    layer = transformer.TokenAndPosition(13, 8, 16, positions=kind, dtype="float64")
    ids = np.random.default_rng(23).integers(1, 13, size=(3, 5)).astype("int32")
    got = layer(ids)
    assert keras.backend.standardize_dtype(got.dtype) == _float64_result()
    assert {w.dtype for w in layer.weights} == {"float64"}
    if kind == "sinusoidal":  # the table in float64, not float32 widened
        positions = _numpy(got) - _numpy(layer.tokens.embeddings)[ids]
        table = transformer.sinusoidal_encoding(16, 8, "float64")[:5]
        assert largest_difference(positions, np.broadcast_to(table, positions.shape)) <= (
            1e-15 if _float64_result() == "float64" else 1e-6)

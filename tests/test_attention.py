"""utils.models.attention: the layers equal Keras's with copied weights and masks, on every backend."""

import keras
import numpy as np
import pytest
from keras import layers, ops

from utils.models import attention

TOLERANCE = 1e-5  # float32, a few hundred roundings


def _inputs(seed=0, batch=3, queries=5, keys=7, query_depth=6, key_depth=4, value_depth=3):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(batch, queries, query_depth)).astype("float32")
    key = rng.normal(size=(batch, keys, key_depth)).astype("float32")
    value = rng.normal(size=(batch, keys, value_depth)).astype("float32")
    mask = np.ones((batch, keys), dtype=bool)
    mask[0, :2] = False   # left padding, as the course pads sources
    mask[1, -3:] = False  # right padding
    mask[2, 3] = False    # a hole in the middle
    return query, key, value, mask


def _numpy(x):
    return ops.convert_to_numpy(x)


def test_masked_softmax_gives_exact_zeros_and_rows_that_sum_to_one():
    scores = np.random.default_rng(1).normal(size=(3, 5, 7)).astype("float32") * 30
    _, _, _, mask = _inputs()
    weights = _numpy(attention.masked_softmax(scores, mask))
    assert np.all(weights[np.broadcast_to(~mask[:, None, :], weights.shape)] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    expected = np.exp(scores - scores.max(-1, keepdims=True)) * mask[:, None, :]
    np.testing.assert_allclose(weights, expected / expected.sum(-1, keepdims=True), atol=1e-6)
    all_masked = _numpy(attention.masked_softmax(scores[:1], np.zeros((1, 7), dtype=bool)))
    assert np.all(all_masked == 0.0)  # nothing to attend to: no weight anywhere, and no NaN


def test_additive_attention_equals_keras_with_explicit_projections():
    query, key, value, mask = _inputs()
    ours = attention.AdditiveAttention(8)
    context, weights = ours(query, key, value, key_mask=mask)
    projected_query, projected_key = ours.query_projection(query), ours.key_projection(key)
    theirs = layers.AdditiveAttention(use_scale=True)
    theirs([projected_query, value, projected_key])  # build, then copy v into Keras's `scale`
    theirs.scale.assign(ours.v)
    their_context, their_weights = theirs([projected_query, value, projected_key], mask=[None, mask],
                                          return_attention_scores=True)
    np.testing.assert_allclose(_numpy(context), _numpy(their_context), atol=TOLERANCE)
    np.testing.assert_allclose(_numpy(weights), _numpy(their_weights), atol=TOLERANCE)
    assert context.shape == (3, 5, 3) and weights.shape == (3, 5, 7)


def test_additive_scores_reference_matches_the_layer():
    query, key, value, _ = _inputs(seed=2)
    layer = attention.AdditiveAttention(8)
    layer(query, key, value)
    scores = _numpy(layer.scores(query, key))
    w1, w2, v = (_numpy(w) for w in (layer.query_projection.kernel, layer.key_projection.kernel, layer.v))
    for b in range(3):
        np.testing.assert_allclose(scores[b], attention.additive_scores(query[b], key[b], w1, w2, v), atol=TOLERANCE)


@pytest.mark.parametrize("kind", ["dot", "general"])
def test_multiplicative_attention_equals_keras_attention(kind):
    query, key, value, mask = _inputs(seed=3, query_depth=4 if kind == "dot" else 6)
    ours = attention.MultiplicativeAttention(kind)
    context, weights = ours(query, key, value, key_mask=mask)
    keras_key = key if kind == "dot" else _numpy(ops.matmul(key, ours.key_kernel))
    their_context, their_weights = layers.Attention()([query, value, keras_key], mask=[None, mask],
                                                      return_attention_scores=True)
    np.testing.assert_allclose(_numpy(context), _numpy(their_context), atol=TOLERANCE)
    np.testing.assert_allclose(_numpy(weights), _numpy(their_weights), atol=TOLERANCE)


def test_scaled_dot_product_divides_by_the_square_root_of_the_depth():
    query, key, value, _ = _inputs(seed=4, query_depth=4)
    plain = _numpy(attention.MultiplicativeAttention("dot").scores(query, key))
    scaled = _numpy(attention.MultiplicativeAttention("dot", scaled=True).scores(query, key))
    np.testing.assert_allclose(scaled, plain / 2.0, atol=TOLERANCE)


def test_values_default_to_the_keys():
    query, key, _, mask = _inputs(seed=5, query_depth=4)
    layer = attention.MultiplicativeAttention()
    a, _ = layer(query, key, key_mask=mask)
    b, _ = layer(query, key, key, key_mask=mask)
    np.testing.assert_allclose(_numpy(a), _numpy(b), atol=0)


def test_layers_in_a_functional_model_and_saved_configs():
    source = keras.Input((None, 4))
    target = keras.Input((None, 6))
    mask = keras.Input((None,))
    context, weights = attention.AdditiveAttention(5, name="att")(target, source, key_mask=mask)
    model = keras.Model([source, target, mask], [context, weights])
    query, key, _, key_mask = _inputs(seed=6)
    out_context, out_weights = model.predict_on_batch([key, query, key_mask.astype("float32")])
    assert out_context.shape == (3, 5, 4) and out_weights.shape == (3, 5, 7)
    assert np.all(out_weights[np.broadcast_to(~key_mask[:, None, :], out_weights.shape)] == 0.0)
    clone = attention.AdditiveAttention.from_config(model.get_layer("att").get_config())
    assert clone.units == 5
    general = attention.MultiplicativeAttention.from_config(attention.MultiplicativeAttention("general").get_config())
    assert general.kind == "general" and not general.scaled


def test_bad_input_gets_a_clear_error():
    query, key, value, mask = _inputs(query_depth=6, key_depth=4)
    with pytest.raises(ValueError, match="same depth"):
        attention.MultiplicativeAttention("dot")(query, key, value)
    with pytest.raises(ValueError, match="key mask has shape"):
        attention.AdditiveAttention(4)(query, key, value, key_mask=mask[:, :5])
    with pytest.raises(ValueError, match="key mask has shape"):
        attention.AdditiveAttention(4)(query, key, value, key_mask=mask[:, None, :])
    with pytest.raises(ValueError, match="3 axes"):
        attention.AdditiveAttention(4)(query[0], key[0], value[0])
    with pytest.raises(ValueError, match="units"):
        attention.AdditiveAttention(0)
    with pytest.raises(ValueError, match="kind"):
        attention.MultiplicativeAttention("cosine")


def test_padding_share():
    weights = np.array([[[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]]])
    assert attention.padding_share(weights, np.array([[False, True, True]])) == pytest.approx(0.25)
    assert attention.padding_share(weights, np.ones((1, 3), dtype=bool)) == 0.0
    with pytest.raises(ValueError, match="key mask"):
        attention.padding_share(weights, np.ones((1, 2), dtype=bool))


def test_alignment_mass_of_a_perfect_and_a_uniform_attention():
    source_labels = np.array([9, 9, -1, 2, 2, 2])       # "ab-cde": word 9, a joiner, word 2
    target_labels = np.array([2, 2, -1, 9, 7])          # word 7 is not in the source: not scored
    perfect = np.zeros((6, 6))                          # one row more than the target: the end step
    perfect[[0, 1], 4] = 1.0
    perfect[3, 0] = 1.0
    perfect[[2, 4, 5], 2] = 1.0
    mass, chance, hit = attention.alignment_mass(perfect, source_labels, target_labels)
    np.testing.assert_allclose(mass, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(chance, [0.5, 0.5, 2 / 6])
    assert hit.tolist() == [True, True, True]
    mass, _, _ = attention.alignment_mass(np.full((5, 6), 1 / 6), source_labels, target_labels)
    np.testing.assert_allclose(mass, [0.5, 0.5, 2 / 6])
    with pytest.raises(ValueError, match="do not fit"):
        attention.alignment_mass(perfect[:, :5], source_labels, target_labels)


NOTEBOOK = "08_attention.ipynb"


def test_the_notebook_layers_equal_the_utils_layers(notebook_definition):
    query, key, value, mask = _inputs(seed=7)
    bahdanau = notebook_definition(NOTEBOOK, "BahdanauAttention")(8)
    context, weights = bahdanau(query, key, value, mask)
    course = attention.AdditiveAttention(8)
    course(query, key, value, key_mask=mask)
    course.query_projection.kernel.assign(bahdanau.W_1.kernel)
    course.key_projection.kernel.assign(bahdanau.W_2.kernel)
    course.v.assign(bahdanau.v)
    course_context, course_weights = course(query, key, value, key_mask=mask)
    np.testing.assert_allclose(_numpy(course_context), _numpy(context), atol=TOLERANCE)
    np.testing.assert_allclose(_numpy(course_weights), _numpy(weights), atol=TOLERANCE)

    luong = notebook_definition(NOTEBOOK, "LuongAttention")("general")
    context, weights = luong(query, key, value, mask)
    course = attention.MultiplicativeAttention("general")
    course(query, key, value, key_mask=mask)
    course.key_kernel.assign(ops.transpose(luong.W_a))
    course_context, course_weights = course(query, key, value, key_mask=mask)
    np.testing.assert_allclose(_numpy(course_context), _numpy(context), atol=TOLERANCE)
    np.testing.assert_allclose(_numpy(course_weights), _numpy(weights), atol=TOLERANCE)


# Bad input is a sentence, not a backend traceback ==================================================

def test_a_mask_that_does_not_fit_the_scores_is_a_clear_error():
    query, key, value, mask = _inputs()
    scores = np.random.default_rng(8).normal(size=(3, 5, 7)).astype("float32")
    too_long = np.concatenate([mask, np.ones((3, 1), bool)], axis=1)  # one position more than the keys
    for call in (lambda: attention.masked_softmax(scores, too_long),
                 lambda: attention.attend(scores, value, too_long)):
        with pytest.raises(ValueError, match=r"a mask of shape \(3, 8\) does not fit scores of shape "
                                             r"\(3, 5, 7\)"):
            call()
    with pytest.raises(ValueError, match=r"key mask has shape \(3, 8\); it must be .* = \(3, 7\)"):
        attention.MultiplicativeAttention("general")(query, key, value, key_mask=too_long)


def test_values_of_another_length_than_the_keys_are_a_clear_error():
    query, key, value, mask = _inputs(query_depth=4)
    scores = np.random.default_rng(8).normal(size=(3, 5, 7)).astype("float32")
    message = r"the values have 6 positions and the keys 7.*as many positions as the keys"
    for call in (lambda: attention.attend(scores, value[:, :6]),
                 lambda: attention.AdditiveAttention(4)(query, key, value[:, :6], key_mask=mask),
                 lambda: attention.MultiplicativeAttention()(query, key, value[:, :6])):
        with pytest.raises(ValueError, match=message):
            call()


def test_a_depth_other_than_the_one_built_for_is_a_clear_error():
    query, key, value, _ = _inputs(query_depth=6, key_depth=4)
    wider_query, wider_key = np.concatenate([query, query], -1), np.concatenate([key, key], -1)
    for layer in (attention.AdditiveAttention(4, name="luong"),
                  attention.MultiplicativeAttention("general", name="luong")):
        layer(query, key, value)
        with pytest.raises(ValueError, match=r"luong was built for queries of depth 6, and was given "
                                             r"queries of shape \(3, 5, 12\).*call it with depth 6"):
            layer(wider_query, key, value)
        with pytest.raises(ValueError, match=r"built for keys of depth 4.*\(3, 7, 8\)"):
            layer(query, wider_key, value)


# dtype="float64" ====================================================================================

def _float64_result():
    """The dtype a float64 Keras layer computes in on this backend: float64, except on JAX, where Keras
    (without JAX's 64-bit switch) computes in float32 whatever the layer's dtype."""
    return keras.backend.standardize_dtype(layers.Dense(1, dtype="float64")(np.ones((1, 1))).dtype)


def _tolerance(dtype):
    return 1e-12 if dtype == "float64" else TOLERANCE


@pytest.mark.parametrize("layer", [
    lambda: attention.AdditiveAttention(8, dtype="float64"),
    lambda: attention.MultiplicativeAttention("general", scaled=True, dtype="float64"),
], ids=["additive", "general"])
def test_a_float64_layer_has_float64_weights_and_computes_in_float64(layer):
    query, key, value, mask = (x.astype("float64") for x in _inputs(seed=9))
    ours = layer()
    context, weights = ours(query, key, value, key_mask=mask)
    assert ours.weights and {w.dtype for w in ours.weights} == {"float64"}
    assert {keras.backend.standardize_dtype(t.dtype) for t in (context, weights)} == {_float64_result()}
    # The same layer in NumPy's float64: equal to float64 rounding where the backend computes in float64.
    if isinstance(ours, attention.AdditiveAttention):
        w1, w2, v = (_numpy(w) for w in (ours.query_projection.kernel, ours.key_projection.kernel, ours.v))
        scores = np.stack([attention.additive_scores(query[b], key[b], w1, w2, v) for b in range(3)])
    else:
        scores = query @ np.swapaxes(key @ _numpy(ours.key_kernel), 1, 2) / np.sqrt(6)
    expected = np.where(mask[:, None, :], np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(_numpy(weights), expected, atol=_tolerance(_float64_result()))
    np.testing.assert_allclose(_numpy(context), expected @ value, atol=_tolerance(_float64_result()))

"""Chapter 10's notebook and the library agree: the notebook's merge step, masked mean and cache update
give what utils.data.bpe, utils.models.encoders and utils.models.kvcache give; every backend."""

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from utils.data import bpe
from utils.models import encoders, kvcache, transformer

NOTEBOOK = Path(__file__).resolve().parent.parent / "solutions" / "10_transformers_in_practice.ipynb"
needs_notebook = pytest.mark.skipif(not NOTEBOOK.exists(), reason=f"{NOTEBOOK.name} is not written yet")


@needs_notebook
def test_the_notebooks_merge_equals_the_library_merge(notebook_definition):
    merge_pair = notebook_definition(NOTEBOOK.name, "merge_pair")
    rng = np.random.default_rng(0)
    for _ in range(200):
        ids = rng.integers(0, 3, size=rng.integers(0, 20)).tolist()
        pair = tuple(rng.integers(0, 3, size=2).tolist())
        assert list(merge_pair(ids, pair, 7)) == bpe.merge_pair(ids, pair, 7).tolist()


@needs_notebook
def test_the_notebooks_masked_mean_equals_the_library_pooling(notebook_definition):
    masked_mean = notebook_definition(NOTEBOOK.name, "masked_mean")
    states = np.random.default_rng(1).normal(size=(3, 5, 4)).astype("float32")
    mask = np.arange(5)[None, :] < np.array([5, 2, 1])[:, None]
    ours = ops.convert_to_numpy(masked_mean(ops.convert_to_tensor(states), ops.convert_to_tensor(mask)))
    assert np.abs(ours - ops.convert_to_numpy(encoders.MaskedMeanPooling()(states, mask))).max() <= 1e-6


@needs_notebook
def test_the_notebooks_cache_update_equals_the_library_step(notebook_definition):
    step = notebook_definition(NOTEBOOK.name, "cached_attention_step", kvcache=kvcache)
    keras.utils.set_random_seed(2)
    layer = transformer.MultiHeadAttention(2, 4)
    x = np.random.default_rng(3).normal(size=(2, 4, 8)).astype("float32")
    layer(x, x)
    buffers = [ops.zeros((2, 2, 6, 4)) for _ in range(4)]
    for t in range(4):
        x_t = ops.convert_to_tensor(x[:, t:t + 1])
        ours = step(layer, x_t, buffers[0], buffers[1], t)
        theirs = kvcache.cached_self_attention(layer, x_t, buffers[2], buffers[3], t)
        for a, b in zip(ours, theirs):
            assert np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b)).max() <= 1e-6
        buffers = [ours[1], ours[2], theirs[1], theirs[2]]

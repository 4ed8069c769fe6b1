"""utils.training.tfdata: Keras's input pipelines on TensorFlow run without tf.data autotuning, with the same batches."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from utils.training import tfdata

on_tensorflow = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow backend only")


class _Batches(keras.utils.PyDataset):
    def __init__(self, x: np.ndarray) -> None:
        super().__init__()
        self.x = x

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.x[4 * index: 4 * index + 4], self.x[4 * index: 4 * index + 4, :1]


def _adapters(x: np.ndarray) -> list:
    from keras.src.trainers.data_adapters import array_data_adapter, generator_data_adapter, py_dataset_adapter

    def generator():
        for i in range(3):
            yield x[4 * i: 4 * i + 4], x[4 * i: 4 * i + 4, :1]

    return [array_data_adapter.ArrayDataAdapter(x, x[:, :1], batch_size=4, shuffle=False),
            py_dataset_adapter.PyDatasetAdapter(_Batches(x), shuffle=False),
            generator_data_adapter.GeneratorDataAdapter(generator())]


def _batches(dataset) -> list[np.ndarray]:
    return [np.concatenate([np.asarray(part) for part in batch], axis=1) for batch in dataset]


@on_tensorflow
def test_every_keras_adapter_builds_its_pipeline_without_autotuning_and_with_the_same_batches():
    assert tfdata.disable_autotuning() is True
    x = np.arange(36, dtype="float32").reshape(12, 3)
    for adapter, twin in zip(_adapters(x), _adapters(x)):
        dataset = adapter.get_tf_dataset()
        assert tfdata.autotuning_disabled(dataset), type(adapter).__name__
        original = type(twin).get_tf_dataset.__wrapped__(twin)
        assert not tfdata.autotuning_disabled(original), "Keras's own pipeline should autotune"
        for ours, keras_batch in zip(_batches(dataset), _batches(original), strict=True):
            np.testing.assert_array_equal(ours, keras_batch)


@on_tensorflow
def test_disabling_twice_wraps_once():
    from keras.src.trainers.data_adapters import array_data_adapter

    tfdata.disable_autotuning()
    method = array_data_adapter.ArrayDataAdapter.get_tf_dataset
    tfdata.disable_autotuning()
    assert array_data_adapter.ArrayDataAdapter.get_tf_dataset is method
    assert not getattr(method.__wrapped__, "_course_autotune_off", False)


@on_tensorflow
def test_a_model_still_trains_and_evaluates_through_the_patched_pipelines():
    tfdata.disable_autotuning()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before / 2


def test_on_other_backends_nothing_is_patched():
    if keras.backend.backend() == "tensorflow":
        pytest.skip("this is the non-TensorFlow case")
    assert tfdata.disable_autotuning() is False


@on_tensorflow
def test_course_setup_turns_autotuning_off():
    from keras.src.trainers.data_adapters import py_dataset_adapter

    from utils import course

    course.setup(chapter=1, verbose=False)
    assert getattr(py_dataset_adapter.PyDatasetAdapter.get_tf_dataset, "_course_autotune_off", False)

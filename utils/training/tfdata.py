"""TensorFlow only: Keras's input pipelines without tf.data's autotuning thread, which stalls ``fit``.

On the TensorFlow backend, Keras feeds ``fit``, ``evaluate`` and ``predict`` through a ``tf.data``
pipeline that it builds from the NumPy arrays, ``keras.utils.PyDataset`` or generator it is given,
with ``prefetch(AUTOTUNE)`` (and a parallel ``map`` for arrays). An autotuned pipeline starts a
background thread that re-optimises the pipeline at growing intervals (doubling up to a minute).
With TensorFlow 2.21 on CPU, destroying the pipeline's iterator at the end of an epoch waits for that
thread's current interval to run out: measured on the course's 2-core machine, ``fit`` on one epoch
of chapter 9's GPT returned 13-19 s after its last batch, with both cores idle, for 23 s of training
(42 s per epoch in all; 22.5 s with autotuning off). The longer an epoch, the longer the stall, so
the course's full-mode runs on TensorFlow lost up to half their time to it.

:func:`disable_autotuning` makes Keras's array, ``PyDataset`` and generator adapters return their
pipelines with ``tf.data.Options().autotune.enabled = False``: the same batches in the same order,
prefetched without the tuning thread. Keras's own ``PyDataset`` adapter does the same whenever it
runs workers. A ``tf.data.Dataset`` that a learner passes in is left as it is.
:func:`utils.course.setup` calls it on the TensorFlow backend; on JAX and PyTorch it does nothing.
It patches Keras's adapter classes (private API of the pinned Keras release), once per process.
"""

from __future__ import annotations

from typing import Any, Callable

import keras

_PATCHED = "_course_autotune_off"


def _adapter_classes() -> list[type]:
    """Keras's adapters that build a tf.data pipeline themselves (not a learner's tf.data.Dataset)."""
    from keras.src.trainers.data_adapters import array_data_adapter, generator_data_adapter, py_dataset_adapter

    return [array_data_adapter.ArrayDataAdapter, py_dataset_adapter.PyDatasetAdapter,
            generator_data_adapter.GeneratorDataAdapter]


def _without_autotuning(get_tf_dataset: Callable[[Any], Any]) -> Callable[[Any], Any]:
    import tensorflow as tf

    def wrapped(adapter: Any) -> Any:
        options = tf.data.Options()
        options.autotune.enabled = False
        return get_tf_dataset(adapter).with_options(options)

    setattr(wrapped, _PATCHED, True)
    wrapped.__wrapped__ = get_tf_dataset  # Keras's own method, for the tests' comparison
    wrapped.__doc__ = get_tf_dataset.__doc__
    return wrapped


def disable_autotuning() -> bool:
    """Turn tf.data autotuning off in Keras's input pipelines; ``True`` if the TensorFlow backend is active.

    Calling it again changes nothing. On another backend it returns ``False`` and patches nothing.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    for adapter in _adapter_classes():
        method = adapter.get_tf_dataset
        if not getattr(method, _PATCHED, False):
            adapter.get_tf_dataset = _without_autotuning(method)
    return True


def autotuning_disabled(dataset: Any) -> bool:
    """Whether a tf.data pipeline has autotuning off (for tests and for a learner's curiosity)."""
    return dataset.options().autotune.enabled is False

"""utils.training.precision: TF32 is turned off for the active backend, and back on when asked."""

from __future__ import annotations

import keras
import pytest

from utils.training import precision


def _tf32_enabled() -> bool:
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.config.jax_default_matmul_precision not in ("highest", "float32")
    if backend == "torch":
        import torch

        return bool(torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32)
    import tensorflow as tf

    return bool(tf.config.experimental.tensor_float_32_execution_enabled())


@pytest.fixture
def restore_full_float32():
    yield
    precision.use_full_float32()


def test_full_float32_turns_tf32_off_and_can_turn_it_back_on(restore_full_float32):
    assert precision.use_full_float32() == keras.backend.backend()
    assert not _tf32_enabled()
    precision.use_full_float32(False)
    assert _tf32_enabled()
    precision.use_full_float32(True)
    assert not _tf32_enabled()


def test_course_setup_turns_tf32_off(restore_full_float32, capsys):
    from utils import course

    precision.use_full_float32(False)
    course.setup(chapter=1, verbose=False)
    assert not _tf32_enabled()

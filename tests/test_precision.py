"""utils.training.precision: TF32 is turned off for the active backend, and back on when asked; and
every test runs in full float32 whatever the tests before it switched (tests/conftest.py)."""

from __future__ import annotations

import keras

from conftest import full_float32
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


def test_full_float32_turns_tf32_off_and_can_turn_it_back_on():
    assert precision.use_full_float32() == keras.backend.backend()
    assert not _tf32_enabled()
    precision.use_full_float32(False)
    assert _tf32_enabled()
    precision.use_full_float32(True)
    assert not _tf32_enabled()


def test_course_setup_turns_tf32_off(capsys):
    from utils import course

    precision.use_full_float32(False)
    course.setup(chapter=1, verbose=False)
    assert not _tf32_enabled()


def test_every_test_starts_in_full_float32():
    """Whatever ran before it (the autouse fixture in tests/conftest.py sees to it)."""
    assert not _tf32_enabled()


def test_a_test_that_turns_tf32_on_leaves_the_next_test_in_full_float32():
    """What the autouse fixture does around each test, checked directly, so in any test order: a
    test that starts with TF32 on (left so by the one before) runs without it, and a test that
    turns TF32 on and leaves it so hands full float32 to the test after it."""
    precision.use_full_float32(False)  # the test before left TF32 on
    assert _tf32_enabled()
    with full_float32():  # one test, as the fixture wraps it
        assert not _tf32_enabled()
        precision.use_full_float32(False)  # this test turns TF32 on and does not turn it off
        assert _tf32_enabled()
    assert not _tf32_enabled()  # the next test, whichever it is, starts in full float32


def test_tf32_turned_on_here_is_undone_by_the_fixture():
    """Leaves TF32 on on purpose: ``test_every_test_starts_in_full_float32`` and every later test
    still start without it."""
    precision.use_full_float32(False)
    assert _tf32_enabled()

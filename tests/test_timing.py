import keras
import numpy as np
import pytest

from utils.training.timing import seconds_per_step


def _model(compiled=True):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)], name="tiny")
    if compiled:
        model.compile(optimizer="sgd", loss="mse")
    return model


def test_seconds_per_step_times_training_steps():
    x, y = np.ones((8, 4), dtype="float32"), np.zeros((8, 1), dtype="float32")
    model = _model()
    before = model.get_weights()[0].copy()
    seconds = seconds_per_step(model, x, y, repeats=2)
    assert 0 < seconds < 60
    assert not np.array_equal(model.get_weights()[0], before)  # the steps really trained


def test_seconds_per_step_bad_input():
    x, y = np.ones((8, 4), dtype="float32"), np.zeros((8, 1), dtype="float32")
    with pytest.raises(ValueError, match="at least 1"):
        seconds_per_step(_model(), x, y, repeats=0)
    with pytest.raises(ValueError, match="compile tiny"):
        seconds_per_step(_model(compiled=False), x, y)

"""How long one training step of a compiled Keras model takes, measured the same way in every chapter."""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np


def seconds_per_step(model: keras.Model, x: Any, y: Any, repeats: int = 3) -> float:
    """The median wall time of ``repeats`` calls of ``model.train_on_batch(x, y)``, after one untimed call.

    The first call compiles (and, on JAX and TensorFlow, traces) the step, so it is left out; the
    median is robust to the odd slow call from a busy machine. ``model`` must be compiled.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a whole number of at least 1, got {repeats!r}.")
    if not model.compiled:
        raise ValueError(f"compile {model.name} before timing it: model.compile(optimizer, loss).")
    model.train_on_batch(x, y)  # compile / warm up
    times = []
    for _ in range(int(repeats)):
        started = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - started)
    return float(np.median(times))

"""Seeded synthetic sequence tasks: data that is generated, not shipped.

The adding problem (Hochreiter and Schmidhuber, 1997; the variant of Le, Jaitly and
Hinton, 2015) tests whether a model can carry a number across many time steps. Each
sequence has two channels: random values in [0, 1) and a marker that is 1 at exactly two
steps and 0 elsewhere. The first marker lies in the first half of the sequence, the second
in the second half, and the target is the sum of the two marked values. A model that always
predicts the mean target, 1, has a mean squared error of 1/6 (the variance of a sum of two
independent uniform values); beating that clearly means the model found and remembered the
marked values.
"""

from __future__ import annotations

import numpy as np

ADDING_MEAN_MSE = 1.0 / 6.0
"""Mean squared error of predicting the mean target (1.0) on the adding problem."""


def adding_problem(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of the adding problem of ``length`` steps, generated from ``seed``.

    Returns ``x`` of shape ``(n, length, 2)`` (channel 0: values uniform in [0, 1);
    channel 1: the two-hot marker) and ``y`` of shape ``(n, 1)``, the sum of the two marked
    values; both float32. The first marker is uniform over steps ``0 .. length//2 - 1``
    and the second over ``length//2 .. length - 1``, so the first marked value must be
    remembered for at least ``length - length//2`` steps. The same arguments always give
    the same arrays.
    """
    for name, value, least in (("n", n, 1), ("length", length, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}.")
    rng = np.random.default_rng(seed)
    values = rng.random((n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)
    return x, y

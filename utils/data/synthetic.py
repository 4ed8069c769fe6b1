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


def _expect_whole_numbers(**arguments: tuple[object, int]) -> None:
    """Raise a ValueError naming the first argument that is not a whole number of at least its minimum."""
    for name, (value, least) in arguments.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}.")


def adding_problem(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of the adding problem of ``length`` steps, generated from ``seed``.

    Returns ``x`` of shape ``(n, length, 2)`` (channel 0: values uniform in [0, 1);
    channel 1: the two-hot marker) and ``y`` of shape ``(n, 1)``, the sum of the two marked
    values; both float32. The first marker is uniform over steps ``0 .. length//2 - 1``
    and the second over ``length//2 .. length - 1``, so the first marked value must be
    remembered for at least ``length - length//2`` steps. The same arguments always give
    the same arrays.
    """
    _expect_whole_numbers(n=(n, 1), length=(length, 2))
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


def copy_memory(n: int, symbols: int, delay: int, alphabet: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of the copy (memory) task, generated from ``seed``.

    The task of Hochreiter and Schmidhuber (1997) in the form of Arjovsky, Shah and Bengio
    (2016): a sequence opens with ``symbols`` random symbols out of ``alphabet``, then waits
    ``delay`` steps (blanks, the last of them a *go* marker), then gives ``symbols`` more
    blank steps during which the model must output the opening symbols in order. Each symbol
    must be kept for ``symbols + delay`` steps; guessing scores an accuracy of ``1 / alphabet``.

    Returns ``x`` of shape ``(n, 2 * symbols + delay, alphabet + 2)``, float32, one-hot per step
    (channels ``0 .. alphabet - 1``: the symbols; channel ``alphabet``: blank; channel
    ``alphabet + 1``: go), and ``y`` of shape ``(n, symbols)``, int32: the symbols to output at
    the last ``symbols`` steps. The same arguments always give the same arrays.
    """
    _expect_whole_numbers(n=(n, 1), symbols=(symbols, 1), delay=(delay, 1), alphabet=(alphabet, 2))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, alphabet, size=(n, symbols))
    length = 2 * symbols + delay
    codes = np.full((n, length), alphabet)  # blank everywhere ...
    codes[:, :symbols] = y  # ... but the opening symbols
    codes[:, symbols + delay - 1] = alphabet + 1  # and the go marker, the last step of the delay
    x = np.eye(alphabet + 2, dtype=np.float32)[codes]
    return x, y.astype(np.int32)

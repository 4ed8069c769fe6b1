"""Parity checks: an implementation against an independent reference, in float32.

Every from-scratch implementation in the course is compared with a reference (Keras's own
layer with copied weights, autodiff, a closed form). Two computations that are equal in exact
arithmetic differ in float32 by rounding, so a check never demands ``==``: it records the
largest absolute difference, prints it, and fails only above a tolerance grounded in float32
rounding (the machine epsilon is about 1.2e-7; sums of many terms drift a few epsilons more).

>>> log = ParityLog(tolerance=1e-5)
>>> log.check("ours vs reference", [1.0, 2.0], [1.0, 2.0 + 1e-7])  # doctest: +ELLIPSIS
ours vs reference ... largest difference 1.0e-07
1.0000000116860974e-07
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

FLOAT32_EPSILON = float(np.finfo(np.float32).eps)


class ParityError(AssertionError):
    """An implementation differs from its reference by more than float32 rounding explains."""


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy float64 copy of an array, a list or a backend tensor (TensorFlow, JAX, PyTorch)."""
    if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
        value = value.detach().cpu().numpy()
    elif not isinstance(value, np.ndarray) and hasattr(value, "numpy"):  # a TensorFlow tensor
        value = value.numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"cannot read {type(value).__name__} as an array of numbers ({error}).") from None


def largest_difference(a: Any, b: Any) -> float:
    """The largest absolute difference between two arrays (or tensors) of the same shape.

    Two empty arrays of the same shape differ by 0.
    """
    first, second = to_numpy(a), to_numpy(b)
    if first.shape != second.shape:
        raise ValueError(f"the two arrays have different shapes, {first.shape} and {second.shape}: "
                         "compare the same quantity from both computations.")
    if first.size == 0:
        return 0.0
    difference = np.abs(first - second)
    if not np.all(np.isfinite(difference)):
        return float("inf")
    return float(difference.max())


class ParityLog:
    """Records named parity checks, prints each, and fails one that exceeds its tolerance.

    ``log[name]`` reads a recorded difference back; ``log.metrics()`` gives them in the form the
    results files use (``"max difference: <name>"``), and ``log.tolerances`` the bound of each.
    """

    def __init__(self, tolerance: float, width: int = 56) -> None:
        if not (isinstance(tolerance, (int, float)) and tolerance > 0):
            raise ValueError(f"the tolerance must be a positive number, got {tolerance!r}.")
        self.tolerance = float(tolerance)
        self.width = int(width)
        self.differences: dict[str, float] = {}
        self.tolerances: dict[str, float] = {}

    def check(self, name: str, actual: Any, reference: Any, tolerance: float | None = None) -> float:
        """Record ``max |actual - reference|`` under ``name``, print it, raise above the tolerance."""
        bound = self.tolerance if tolerance is None else float(tolerance)
        return self.record(name, largest_difference(actual, reference), bound)

    def record(self, name: str, difference: float, tolerance: float | None = None) -> float:
        """Record a difference computed elsewhere (say, a relative one), print it and bound it."""
        bound = self.tolerance if tolerance is None else float(tolerance)
        self.differences[name] = float(difference)
        self.tolerances[name] = bound
        print(f"{name:<{self.width}} largest difference {difference:.1e}")
        if not difference <= bound:
            raise ParityError(f"{name}: largest difference {difference:.3g} exceeds the tolerance {bound:.1g}; "
                              "the implementation and its reference disagree beyond float32 rounding.")
        return float(difference)

    def __getitem__(self, name: str) -> float:
        return self.differences[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.differences)

    def __len__(self) -> int:
        return len(self.differences)

    def metrics(self) -> dict[str, float]:
        """The recorded differences, named as in the results files."""
        return {f"max difference: {name}": value for name, value in self.differences.items()}

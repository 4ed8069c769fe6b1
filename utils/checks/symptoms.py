"""What the difference between a wrong result and the right one suggests, in words.

A checker names the plausible wrong answers it knows. When the learner's result matches none of
them, the difference itself often points at a cause: the result is the right one transposed, or
negated, or a constant times the right one (a missing or extra normalisation; a logarithm in
another base), or shifted by a constant, or normalised along another axis. :func:`likely_cause`
says which, and :func:`expect_close` adds it to the largest-difference message of the framework.

Every comparison is made at a tolerance grounded in float32 rounding, relative to the size of the
values, so that a float32 answer is never taken for a wrong one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from utils.checks.framework import Mistake, expect_shape

RTOL, ATOL = 1e-5, 1e-6  # float32 keeps about 7 digits; a few hundred roundings stay well inside these

_BASES = {  # factor -> (the learner's logarithm, the right one)
    math.log(2): ("the natural logarithm (nats)", "log2 (bits)"),
    1 / math.log(2): ("log2 (bits)", "the natural logarithm (nats)"),
    math.log(10): ("the natural logarithm", "log10"),
    1 / math.log(10): ("log10", "the natural logarithm"),
    math.log10(2): ("log10", "log2"),
    1 / math.log10(2): ("log2", "log10"),
}


def close(got: Any, wanted: Any, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and values within float32 rounding (NaN equal to NaN)."""
    got, wanted = np.asarray(got, dtype=float), np.asarray(wanted, dtype=float)
    return got.shape == wanted.shape and bool(np.allclose(got, wanted, rtol=rtol, atol=atol, equal_nan=True))


def _factor(c: float) -> str:
    """A factor in words: 0.5 as 1/2, 3 as 3, 0.447 as 0.447."""
    for n in range(2, 101):
        if math.isclose(c, 1 / n, rel_tol=1e-5):
            return f"1/{n}"
        if math.isclose(c, n, rel_tol=1e-5):
            return str(n)
    return f"{c:.4g}"


def likely_cause(got: Any, expected: Any, *, logs: bool = False) -> str | None:
    """A sentence on what the difference between ``got`` and ``expected`` suggests, or None.

    ``logs`` says that the values are logarithms (bits, nats, log-probabilities), so that a factor
    that is the ratio of two logarithms' bases is named as such.
    """
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return None
    if got.shape != expected.shape or not np.all(np.isfinite(got)) or not np.all(np.isfinite(expected)):
        return None
    if close(got, expected) or not np.any(expected) or not np.any(np.abs(got) > ATOL):
        return None  # all zeros says nothing about the cause: the checker's own message does
    if got.ndim >= 2 and got.shape[-1] == got.shape[-2] and close(got, np.swapaxes(expected, -1, -2)):
        return "your result is the right one transposed: its rows and columns (the last two axes) are swapped."
    if close(got, -expected):
        return "your result is the right one with the opposite sign everywhere."
    c = float(np.vdot(got, expected) / np.vdot(expected, expected))
    if not math.isclose(c, 1.0, rel_tol=1e-3) and close(got, c * expected):
        for ratio, (used, wanted) in _BASES.items():
            if logs and math.isclose(c, ratio, rel_tol=1e-4):
                return (f"your values are {c:.4g} times the right ones everywhere: the ratio of two logarithms, so you "
                        f"used {used} where the exercise asks for {wanted}.")
        return (f"your values are {_factor(c)} times the right ones everywhere: a normalisation is missing or extra "
                "(a division by a count, a length or a sum, or a scale).")
    shift = float(np.mean(got - expected))
    if got.size > 1 and abs(shift) > ATOL and close(got, expected + shift):
        return f"your values are all {abs(shift):.4g} {'above' if shift > 0 else 'below'} the right ones."
    if got.ndim >= 2 and np.all(expected >= 0):
        sums_to_one = [axis for axis in range(expected.ndim)
                       if np.allclose(expected.sum(axis=axis), 1.0, atol=1e-5)]
        yours = [axis for axis in range(got.ndim) if np.allclose(got.sum(axis=axis), 1.0, atol=1e-5)]
        if sums_to_one and yours and not set(sums_to_one) & set(yours):
            rank = got.ndim
            return (f"your values sum to 1 along axis {yours[0] - rank}, the right ones along axis "
                    f"{sums_to_one[0] - rank}: you normalised along the wrong axis.")
    return None


def expect_close(actual: np.ndarray, expected: np.ndarray, what: str, *, atol: float = ATOL, rtol: float = RTOL,
                 hint: str = "", logs: bool = False) -> None:
    """The framework's ``expect_close`` at a float32-grounded tolerance, with the likely cause first.

    A result within ``atol + rtol * |expected|`` of the right one passes; otherwise the message
    names the cause the difference suggests, when it suggests one, before the largest difference.
    """
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    expect_shape(actual, expected.shape, what)
    if np.all(np.isfinite(actual)) and np.allclose(actual, expected, rtol=rtol, atol=atol):
        return
    cause = likely_cause(actual, expected, logs=logs)
    if cause:
        raise Mistake(f"{what}: {cause} {hint}".strip())
    if not np.all(np.isfinite(actual)):
        raise Mistake(f"{what} contains NaN or infinity. {hint}".strip())
    difference = np.abs(actual - expected) - rtol * np.abs(expected)
    where = np.unravel_index(int(np.argmax(difference)), difference.shape)
    raise Mistake(f"{what} is wrong: largest difference {float(np.abs(actual - expected)[where]):.3g} at index "
                  f"{tuple(int(i) for i in where)} (got {actual[where]:.6g}, expected {expected[where]:.6g}). "
                  f"{hint}".strip())

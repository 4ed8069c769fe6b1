"""The exercise-checker framework.

A checker is a function that receives the learner's function, calls it on
several inputs (edge cases included) and raises :class:`Mistake` with a
diagnostic as soon as something is wrong. Wrapping it in :func:`checker` gives
it the behaviour every exercise shares:

- a right answer prints one pass line;
- code that still raises ``NotImplementedError`` prints "not attempted yet"
  without raising, so the notebook runs on;
- a wrong answer raises :class:`ExerciseFailed` whose message names the mistake.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

CheckerBody = Callable[[Callable[..., Any]], int]


class Mistake(AssertionError):
    """Raised inside a checker body: the message says what the learner got wrong."""


class ExerciseFailed(AssertionError):
    """What the learner sees when their answer is wrong."""


Checker = Callable[[Callable[..., Any]], None]


def checker(number: str, title: str) -> Callable[[CheckerBody], Checker]:
    """Turn a checker body into the learner-facing checker of exercise ``number``.

    The body takes the learner's function, raises :class:`Mistake` on the first
    problem it finds and returns how many checks it ran.
    """
    label = f"Exercise {number} ({title})"

    def decorate(body: CheckerBody) -> Checker:
        @functools.wraps(body)
        def run(answer: Callable[..., Any]) -> None:
            if not callable(answer):
                raise ExerciseFailed(
                    f"{label}: pass your function itself, not {type(answer).__name__!s} "
                    f"(write check(my_function), without parentheses after its name)."
                )
            try:
                n_checks = body(answer)
            except NotImplementedError:
                print(f"{label}: not attempted yet. Replace the `raise NotImplementedError` line "
                      "with your code and run this cell again.")
                return
            except Mistake as mistake:
                raise ExerciseFailed(f"{label}: {mistake}") from None
            print(f"{label}: passed all {n_checks} checks.")

        run.exercise = number  # type: ignore[attr-defined]
        run.title = title  # type: ignore[attr-defined]
        return run

    return decorate


def call(answer: Callable[..., Any], *args: Any, on: str, **kwargs: Any) -> Any:
    """Call the learner's function, turning an unexpected exception into a :class:`Mistake`.

    ``on`` describes the input in words, for the message.
    """
    try:
        return answer(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # the learner's code may raise anything
        raise Mistake(f"your function raised {type(exc).__name__}: {exc} (on {on}).") from exc


def as_array(value: Any, what: str) -> np.ndarray:
    """Convert a learner's result to a float NumPy array or say why it cannot be."""
    if value is None:
        raise Mistake(f"{what} is None: did you forget to `return` it?")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise Mistake(f"{what} could not be read as an array of numbers ({exc}).") from None
    return array


def expect_shape(array: np.ndarray, shape: tuple[int, ...], what: str, hint: str = "") -> None:
    """Raise a :class:`Mistake` unless ``array`` has exactly ``shape``."""
    if array.shape != tuple(shape):
        message = f"{what} has shape {array.shape}, expected {tuple(shape)}."
        raise Mistake(f"{message} {hint}".strip())


def expect_close(
    actual: np.ndarray, expected: np.ndarray, what: str, *, atol: float = 1e-6, hint: str = ""
) -> None:
    """Raise a :class:`Mistake` unless the arrays agree; the message gives the largest difference."""
    expect_shape(actual, expected.shape, what)
    if not np.all(np.isfinite(actual)):
        raise Mistake(f"{what} contains NaN or infinity. {hint}".strip())
    difference = np.abs(actual - expected)
    if difference.size and float(difference.max()) > atol:
        where = np.unravel_index(int(np.argmax(difference)), difference.shape)
        raise Mistake(
            f"{what} is wrong: largest difference {float(difference.max()):.3g} at index "
            f"{tuple(int(i) for i in where)} (got {actual[where]:.6g}, expected "
            f"{expected[where]:.6g}). {hint}".strip()
        )

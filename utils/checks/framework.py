"""The exercise-checker framework.

A checker is a function that receives the learner's function, calls it on
several inputs (edge cases included) and raises :class:`Mistake` with a
diagnostic as soon as something is wrong. Wrapping it in :func:`checker` gives
it the behaviour every exercise shares:

- a right answer prints one pass line;
- code that still raises ``NotImplementedError`` on its first call prints "not
  attempted yet" without raising, so the notebook runs on; an answer that
  passes some cases and then reaches a leftover ``raise NotImplementedError``
  is reported as unfinished, with the input it could not handle;
- a wrong answer raises :class:`ExerciseFailed` whose message names the mistake.

Checkers call the learner's function through :func:`call`, which counts the calls
of the current run, turns the learner's exceptions into a :class:`Mistake` naming
the input, and names an argument that the learner's function changed in place.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CheckerBody = Callable[[Callable[..., Any]], int]


class Mistake(AssertionError):
    """Raised inside a checker body: the message says what the learner got wrong."""


class ExerciseFailed(AssertionError):
    """What the learner sees when their answer is wrong."""


Checker = Callable[[Callable[..., Any]], None]


@dataclass
class _Run:
    """What one checker run has seen so far: the inputs the learner's function answered."""

    answered: list[str] = field(default_factory=list)


_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("checker_run", default=None)


def _unfinished(on: str | None, answered: list[str]) -> str:
    where = f"on {on}" if on else "on a later input"
    n = len(answered)
    earlier = f"the {n} earlier case{'s' if n > 1 else ''} passed"
    return (f"your answer is unfinished: it raised NotImplementedError {where}, although {earlier} "
            f"(the last one: {answered[-1]}). A `raise NotImplementedError` line is still reached for "
            "this kind of input: write the code that handles it too.")


PASSED, NOT_ATTEMPTED, FAILED = "passed", "not attempted", "failed"


@dataclass(frozen=True)
class Verdict:
    """What one run of a checker concluded, without printing or raising anything.

    ``status`` is :data:`PASSED`, :data:`NOT_ATTEMPTED` or :data:`FAILED`; ``message`` is the line
    the learner sees; ``checks`` is how many checks passed (all of them, when it passed).
    """

    exercise: str
    title: str
    status: str
    message: str
    checks: int = 0


def checker(number: str, title: str) -> Callable[[CheckerBody], Checker]:
    """Turn a checker body into the learner-facing checker of exercise ``number``.

    The body takes the learner's function, raises :class:`Mistake` on the first
    problem it finds and returns how many checks it ran. The checker prints the
    verdict (or raises :class:`ExerciseFailed`); its ``verdict`` attribute returns
    it as a :class:`Verdict` instead, for the grader (``course_tools.grade``).
    """
    label = f"Exercise {number} ({title})"

    def decorate(body: CheckerBody) -> Checker:
        def verdict(answer: Callable[..., Any]) -> Verdict:
            def failed(message: str) -> Verdict:
                return Verdict(number, title, FAILED, f"{label}: {message}")

            if not callable(answer):
                return failed(f"pass your function itself, not {type(answer).__name__!s} "
                              "(write check(my_function), without parentheses after its name).")
            state = _Run()
            token = _RUN.set(state)
            try:
                n_checks = body(answer)
            except NotImplementedError:
                if state.answered:  # raised after earlier calls succeeded, outside `call`
                    return failed(_unfinished(None, state.answered))
                return Verdict(number, title, NOT_ATTEMPTED,
                               f"{label}: not attempted yet. Replace the `raise NotImplementedError` line "
                               "with your code and run this cell again.")
            except Mistake as mistake:
                return failed(str(mistake))
            finally:
                _RUN.reset(token)
            return Verdict(number, title, PASSED, f"{label}: passed all {n_checks} checks.", n_checks)

        @functools.wraps(body)
        def run(answer: Callable[..., Any]) -> None:
            result = verdict(answer)
            if result.status == FAILED:
                raise ExerciseFailed(result.message) from None
            print(result.message)

        run.exercise = number  # type: ignore[attr-defined]
        run.title = title  # type: ignore[attr-defined]
        run.verdict = verdict  # type: ignore[attr-defined]
        return run

    return decorate


# In-place changes to the arguments ---------------------------------------------------------------

_UNKNOWN = object()  # a value that cannot be copied and compared: not checked
_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), np.generic)


def _snapshot(value: Any) -> Any:
    """A deep copy of arrays, lists, tuples and dicts (of those and of plain values)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return [_snapshot(item) for item in value]
    if isinstance(value, dict):
        return {key: _snapshot(item) for key, item in value.items()}
    if isinstance(value, _IMMUTABLE):
        return value
    return _UNKNOWN


def _first_change(before: Any, after: Any, name: str) -> str | None:
    """The name of the first part of ``after`` that differs from its snapshot ``before``, if any."""
    if before is _UNKNOWN:
        return None
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or before.shape != after.shape or before.dtype != after.dtype:
            return name
        equal_nan = before.dtype.kind in "fc"
        return None if np.array_equal(before, after, equal_nan=equal_nan) else name
    if isinstance(before, list):
        if len(before) != len(after):
            return name
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            changed = _first_change(old, new, f"{name}[{index}]")
            if changed:
                return changed
        return None
    if isinstance(before, dict):
        if list(before) != list(after):
            return name
        for key, old in before.items():
            changed = _first_change(old, after[key], f"{name}[{key!r}]")
            if changed:
                return changed
        return None
    try:
        same = before is after or bool(before == after)
    except (TypeError, ValueError):  # an array put where a number was: `==` gives no single answer
        same = False
    return None if same else name


def _argument_names(answer: Callable[..., Any], n_args: int) -> list[str]:
    """The learner's names for the first ``n_args`` positional arguments, as their code spells them."""
    names = [f"argument {k + 1}" for k in range(n_args)]
    try:
        parameters = list(inspect.signature(answer).parameters.values())
    except (TypeError, ValueError):  # a builtin or another callable without a signature
        return names
    positional = [p.name for p in parameters
                  if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    rest = next((p.name for p in parameters if p.kind == inspect.Parameter.VAR_POSITIONAL), None)
    for k in range(n_args):
        if k < len(positional):
            names[k] = positional[k]
        elif rest is not None:
            names[k] = f"{rest}[{k - len(positional)}]"
    return names


def call(answer: Callable[..., Any], *args: Any, on: str, unchanged: bool = True, **kwargs: Any) -> Any:
    """Call the learner's function, turning an unexpected exception into a :class:`Mistake`.

    ``on`` describes the input in words, for the message. Inside a checker run, a
    ``NotImplementedError`` lets "not attempted yet" through on the run's first call
    only; after earlier calls succeeded it is a :class:`Mistake` saying the answer is
    unfinished. With ``unchanged`` (the default) an argument that the call changed in
    place (an array written into, a list appended to) is a :class:`Mistake` too.
    """
    state = _RUN.get()
    before = [_snapshot(value) for value in args], {key: _snapshot(value) for key, value in kwargs.items()}
    try:
        result = answer(*args, **kwargs)
    except NotImplementedError:
        if state is not None and state.answered:
            raise Mistake(_unfinished(on, state.answered)) from None
        raise
    except Exception as exc:  # the learner's code may raise anything
        raise Mistake(f"your function raised {type(exc).__name__}: {exc} (on {on}).") from exc
    if unchanged:
        names = _argument_names(answer, len(args))
        changes = [_first_change(old, new, name)
                   for old, new, name in zip(before[0], args, names, strict=True)]
        changes += [_first_change(old, kwargs[key], key) for key, old in before[1].items()]
        changed = next((change for change in changes if change), None)
        if changed:
            named = changed if changed.startswith("argument ") else f"`{changed}`"
            raise Mistake(f"your function changed its input {named} in place (on {on}). The caller still "
                          "needs its arguments as they were: compute into a new array (or work on a copy, "
                          "`x = x.copy()`) instead of writing into the one you were given.")
    if state is not None:
        state.answered.append(on)
    return result


# Reading and comparing results -------------------------------------------------------------------


def kind_of(value: Any) -> str:
    """What a learner returned, in words: ``list of 3 items``, ``ndarray of shape (2, 4)``, ``float``."""
    name = type(value).__name__
    if isinstance(value, np.ndarray):
        return f"{name} of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"{name} of {len(value)} item{'' if len(value) == 1 else 's'}"
    return name



def as_array(value: Any, what: str) -> np.ndarray:
    """Convert a learner's result to a float NumPy array or say why it cannot be."""
    if value is None:
        raise Mistake(f"{what} is None: did you forget to `return` it?")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise Mistake(f"{what} could not be read as an array of numbers ({exc}).") from None
    return array


def _shape_message(array: np.ndarray, shape: tuple[int, ...], what: str) -> str:
    if array.size == 0 and math.prod(shape) > 0:
        return (f"{what} is empty (shape {array.shape}), expected shape {shape}: your function returned "
                "no values.")
    if array.ndim == 0 and shape:
        return f"{what} is a single number, expected an array of shape {shape}."
    return f"{what} has shape {array.shape}, expected {shape}."


def expect_shape(array: np.ndarray, shape: tuple[int, ...], what: str, hint: str = "") -> None:
    """Raise a :class:`Mistake` unless ``array`` has exactly ``shape``; an empty array is named as such."""
    if array.shape != tuple(shape):
        raise Mistake(f"{_shape_message(array, tuple(shape), what)} {hint}".strip())


def expect_array(
    value: Any, what: str, *, ndim: int | None = None, shape: tuple[int, ...] | None = None,
    nonempty: bool = False, finite: bool = False, hint: str = "",
) -> np.ndarray:
    """:func:`as_array` plus the checks any array result needs, each failure a sentence, never a traceback.

    ``ndim`` and ``shape`` are the dimensions and shape it must have, ``nonempty`` that it
    must hold at least one value, ``finite`` that it must hold no NaN or infinity. ``hint``
    (which says on which input, for instance) ends every message.
    """
    array = as_array(value, what)
    end = f" {hint}".rstrip()
    if nonempty and array.size == 0:
        raise Mistake(f"{what} is empty (shape {array.shape}): your function returned no values.{end}")
    if ndim is not None and array.ndim != ndim:
        held = "a single number" if array.ndim == 0 else f"{array.ndim}-D, shape {array.shape}"
        raise Mistake(f"{what} should be a {ndim}-D array, but it is {held}.{end}")
    if shape is not None:
        expect_shape(array, shape, what, hint)
    if finite and not np.all(np.isfinite(array)):
        raise Mistake(f"{what} contains NaN or infinity.{end}")
    return array


def named_mistake(
    got: Any, suspects: Sequence[tuple[Any, str]], same: Callable[[Any, Any], bool]
) -> str | None:
    """The message of the wrong answer that ``got`` equals, when the input tells it from the others.

    ``suspects`` pairs what a plausible wrong answer returns with the message that names it. When
    ``got`` equals suspects with different messages (two mistakes that give the same result on this
    input), none is named: a message must not name a mistake the input cannot tell apart.
    """
    matches = (message for wrong, message in suspects if wrong is not None and same(got, wrong))
    messages = list(dict.fromkeys(matches))
    return messages[0] if len(messages) == 1 else None


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

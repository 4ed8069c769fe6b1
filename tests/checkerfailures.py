"""Helpers shared by the checker tests (imported by ``tests/test_checks_ch*.py``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from utils.checks.framework import ExerciseFailed


def failure(check: Callable[[Any], None], answer: Callable[..., Any]) -> str:
    """Run ``check`` on a wrong ``answer``; return the message of the ExerciseFailed it must raise.

    NumPy's warnings about the wrong answer's arithmetic (overflow, log of 0, 0 / 0) are silenced:
    the test is about the checker's message, not about the answer's numerics.
    """
    with pytest.raises(ExerciseFailed) as caught:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            check(answer)
    return str(caught.value)


def assert_named(check: Callable[[Any], None], answer: Callable[..., Any], title: str,
                 phrases: Sequence[str]) -> None:
    """The checker fails ``answer`` with a message that starts with ``title`` and holds every phrase."""
    message = failure(check, answer)
    assert message.startswith(title), message
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"

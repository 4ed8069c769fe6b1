"""The course's run mode, read from ``COURSE_MODE`` in this one place.

``full`` (the default) trains every model to the chapter's stated targets.
``quick`` shrinks data and epochs so that a notebook runs in under a minute on a
2-core CPU while still showing that learning happens; CI uses it.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

MODES = ("quick", "full")
ENV_VAR = "COURSE_MODE"


class CourseModeError(ValueError):
    """``COURSE_MODE`` holds a value the course does not know."""


def course_mode() -> str:
    """Return ``"quick"`` or ``"full"`` from ``COURSE_MODE`` (default ``"full"``)."""
    raw = os.environ.get(ENV_VAR, "full")
    mode = raw.strip().lower()
    if mode not in MODES:
        raise CourseModeError(
            f"{ENV_VAR}={raw!r} is not a course mode. Use {ENV_VAR}=quick (CI, under a "
            f"minute per notebook) or {ENV_VAR}=full (the default, trains to the targets), "
            f"or unset it."
        )
    return mode


def is_quick() -> bool:
    """True in quick mode."""
    return course_mode() == "quick"


def pick(*, quick: T, full: T) -> T:
    """Return ``quick`` in quick mode and ``full`` in full mode."""
    return quick if is_quick() else full

"""utils.mode: COURSE_MODE is read in one place and misspellings fail loudly."""

from __future__ import annotations

import pytest

from utils import mode
from utils.mode import CourseModeError, course_mode, is_quick, pick


def test_default_mode_is_full_when_unset(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    assert course_mode() == "full"
    assert not is_quick()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("quick", "quick"), ("full", "full"), ("QUICK", "quick"), ("  Full\n", "full"), ("\tquick ", "quick")],
)
def test_mode_ignores_case_and_surrounding_whitespace(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_MODE", raw)
    assert course_mode() == expected
    assert is_quick() is (expected == "quick")


@pytest.mark.parametrize("raw", ["fast", "", "quick full", "q", "1"])
def test_unknown_mode_raises_with_the_fix(monkeypatch, raw):
    monkeypatch.setenv("COURSE_MODE", raw)
    with pytest.raises(CourseModeError) as caught:
        course_mode()
    message = str(caught.value)
    assert repr(raw) in message
    assert "COURSE_MODE=quick" in message
    assert "COURSE_MODE=full" in message
    assert "unset it" in message


def test_course_mode_error_is_a_value_error():
    assert issubclass(CourseModeError, ValueError)
    assert mode.MODES == ("quick", "full")


@pytest.mark.parametrize(("raw", "expected"), [("quick", 10), ("full", 1000)])
def test_pick_returns_the_value_for_the_current_mode(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_MODE", raw)
    assert pick(quick=10, full=1000) == expected


def test_pick_defaults_to_the_full_value(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    assert pick(quick="small", full="large") == "large"


def test_pick_propagates_a_bad_mode(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "medium")
    with pytest.raises(CourseModeError):
        pick(quick=1, full=2)

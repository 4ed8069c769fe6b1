"""utils.checking: the checker framework and its assertion helpers."""

from __future__ import annotations

import numpy as np
import pytest

from utils.checking import ExerciseFailed, Mistake, as_array, call, checker, expect_close, expect_shape


@checker("9.9", "doubling")
def check_double(answer) -> int:
    """A toy checker: the answer must double a number."""
    for x in (1, 5):
        got = call(answer, x, on=f"x={x}")
        if got != 2 * x:
            raise Mistake(f"double({x}) should be {2 * x}, you returned {got!r}.")
    return 2


def _not_attempted(x):
    raise NotImplementedError("Exercise: replace this line with your code.")


def test_right_answer_prints_one_pass_line(capsys):
    check_double(lambda x: x * 2)
    assert capsys.readouterr().out == "Exercise 9.9 (doubling): passed all 2 checks.\n"


def test_not_attempted_reports_without_raising(capsys):
    assert not check_double(_not_attempted)
    out = capsys.readouterr().out
    assert "Exercise 9.9 (doubling): not attempted yet" in out
    assert "raise NotImplementedError" in out


def test_wrong_answer_raises_exercise_failed_with_the_diagnostic():
    with pytest.raises(ExerciseFailed) as caught:
        check_double(lambda x: x + 1)  # right for x=1 only
    assert str(caught.value) == "Exercise 9.9 (doubling): double(5) should be 10, you returned 6."
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_exception_in_learner_code_names_the_exception_and_input():
    def crashes(x):
        return [0][x]

    with pytest.raises(
        ExerciseFailed, match=r"your function raised IndexError: list index out of range \(on x=1\)"
    ):
        check_double(crashes)


@pytest.mark.parametrize(("value", "type_name"), [(2, "int"), (None, "NoneType"), ("double", "str")])
def test_passing_something_other_than_a_function(value, type_name):
    with pytest.raises(ExerciseFailed, match=rf"pass your function itself, not {type_name}"):
        check_double(value)


def test_checker_keeps_name_docstring_and_exercise_metadata():
    assert check_double.__name__ == "check_double"
    assert check_double.__doc__ == "A toy checker: the answer must double a number."
    assert check_double.exercise == "9.9"
    assert check_double.title == "doubling"


def test_call_passes_arguments_and_returns_the_result():
    assert call(lambda a, b=0: a - b, 5, b=2, on="five minus two") == 3


def test_call_lets_not_implemented_through():
    with pytest.raises(NotImplementedError):
        call(_not_attempted, 1, on="x=1")


def test_call_turns_other_errors_into_a_mistake_chained_to_the_original():
    with pytest.raises(Mistake, match=r"raised ZeroDivisionError: division by zero \(on x=0\)") as caught:
        call(lambda x: 1 / x, 0, on="x=0")
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1, 2], [1.0, 2.0]),
        ((3,), [3.0]),
        (np.int64(4), 4.0),
        (["1.5", "2"], [1.5, 2.0]),
        ([[True]], [[1.0]]),
    ],
)
def test_as_array_converts_to_float(value, expected):
    array = as_array(value, "your result")
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, expected)


def test_as_array_of_none_asks_about_return():
    with pytest.raises(Mistake, match=r"your vector is None: did you forget to `return` it\?"):
        as_array(None, "your vector")


@pytest.mark.parametrize("value", ["abc", ["1", "two"], {"a": 1}, [[1, 2], [3]]])
def test_as_array_rejects_what_is_not_numbers(value):
    with pytest.raises(Mistake, match=r"^X could not be read as an array of numbers \("):
        as_array(value, "X")


def test_expect_shape_passes_on_the_right_shape():
    expect_shape(np.zeros((2, 3)), (2, 3), "X")
    expect_shape(np.zeros(4), [4], "y")  # a list is accepted as the shape


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("", "X has shape (3, 2), expected (2, 3)."),
        ("Transposed?", "X has shape (3, 2), expected (2, 3). Transposed?"),
    ],
)
def test_expect_shape_message_with_and_without_hint(hint, expected):
    with pytest.raises(Mistake) as caught:
        expect_shape(np.zeros((3, 2)), (2, 3), "X", hint)
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("difference", "atol", "accepted"),
    [(5e-7, None, True), (2e-6, None, False), (0.09, 0.1, True), (0.11, 0.1, False)],
)
def test_expect_close_tolerance(difference, atol, accepted):
    options = {} if atol is None else {"atol": atol}
    actual, expected = np.array([1.0, 2.0 + difference]), np.array([1.0, 2.0])
    if accepted:
        expect_close(actual, expected, "p", **options)
    else:
        with pytest.raises(Mistake, match=r"^p is wrong: largest difference .* at index \(1,\)"):
            expect_close(actual, expected, "p", **options)


def test_expect_close_accepts_empty_arrays():
    expect_close(np.zeros((0, 3)), np.zeros((0, 3)), "empty")


def test_expect_close_reports_the_largest_difference_and_where():
    actual = np.array([[0.0, 1.0], [2.5, 3.0]])
    expected = np.array([[0.0, 1.1], [2.0, 3.0]])
    with pytest.raises(Mistake) as caught:
        expect_close(actual, expected, "your matrix", hint="Check row 1.")
    assert str(caught.value) == (
        "your matrix is wrong: largest difference 0.5 at index (1, 0) (got 2.5, expected 2). Check row 1."
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_expect_close_detects_nan_and_infinity(bad):
    with pytest.raises(Mistake, match=r"^p contains NaN or infinity. Add alpha.$"):
        expect_close(np.array([0.5, bad]), np.array([0.5, 0.5]), "p", hint="Add alpha.")


def test_expect_close_checks_the_shape_first():
    with pytest.raises(Mistake, match=r"p has shape \(3,\), expected \(2,\)"):
        expect_close(np.zeros(3), np.zeros(2), "p")


def test_exercise_failed_and_mistake_are_assertion_errors():
    assert issubclass(Mistake, AssertionError)
    assert issubclass(ExerciseFailed, AssertionError)
    assert not issubclass(ExerciseFailed, Mistake)

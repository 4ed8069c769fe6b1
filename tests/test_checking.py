"""utils.checks.framework: the checker framework and its assertion helpers."""

from __future__ import annotations

import numpy as np
import pytest

from utils.checks.framework import (
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    ExerciseFailed,
    Mistake,
    as_array,
    call,
    checker,
    expect_array,
    expect_close,
    expect_shape,
    kind_of,
    named_mistake,
)


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


# Unfinished answers: NotImplementedError after earlier calls succeeded ---------------------------


@checker("9.8", "doubling, also of lists")
def check_double_everything(answer) -> int:
    """A toy checker with two kinds of input: numbers first, then lists."""
    for x in (1, 5):
        if call(answer, x, on=f"x={x}") != 2 * x:
            raise Mistake("wrong")
    if call(answer, [1, 2], on="the list [1, 2]") != [1, 2, 1, 2]:
        raise Mistake("wrong for a list")
    return 3


@checker("9.7", "doubling, called directly")
def check_double_directly(answer) -> int:
    """A toy checker that calls the learner once through `call` and then directly."""
    call(answer, 1, on="x=1")
    answer([1, 2])
    return 2


def _numbers_only(x):
    if isinstance(x, list):
        raise NotImplementedError("Exercise: lists")
    return 2 * x


def test_not_implemented_on_a_later_call_is_an_unfinished_answer():
    with pytest.raises(ExerciseFailed) as caught:
        check_double_everything(_numbers_only)
    message = str(caught.value)
    assert message.startswith("Exercise 9.8 (doubling, also of lists): your answer is unfinished")
    assert "raised NotImplementedError on the list [1, 2]" in message
    assert "the 2 earlier cases passed (the last one: x=5)" in message
    assert "not attempted" not in message


def test_not_implemented_on_the_second_call_says_one_earlier_case():
    def first_only(x):
        if x != 1:
            raise NotImplementedError
        return 2

    with pytest.raises(ExerciseFailed, match=r"on x=5, although the 1 earlier case passed \(the last one: x=1\)"):
        check_double(first_only)


def test_not_implemented_on_the_first_call_is_still_not_attempted(capsys):
    def lists_only(x):
        if not isinstance(x, list):
            raise NotImplementedError
        return x + x

    check_double_everything(lists_only)
    assert "not attempted yet" in capsys.readouterr().out


def test_not_implemented_outside_call_after_earlier_calls_is_unfinished():
    with pytest.raises(ExerciseFailed, match=r"unfinished: it raised NotImplementedError on a later input"):
        check_double_directly(_numbers_only)


def test_each_run_counts_its_own_calls(capsys):
    with pytest.raises(ExerciseFailed):
        check_double_everything(_numbers_only)
    check_double(_not_attempted)  # a fresh run: its first call raises, so "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


# In-place changes to the arguments ---------------------------------------------------------------


def test_call_names_an_array_argument_changed_in_place():
    def doubles_in_place(values, factor):
        values *= factor
        return values

    with pytest.raises(Mistake, match=r"changed its input `values` in place \(on a vector\)"):
        call(doubles_in_place, np.ones(3), 2, on="a vector")


@pytest.mark.parametrize(
    ("change", "name"),
    [
        (lambda items, table: items.append(3), "`items`"),
        (lambda items, table: items[1].fill(0.0), "`items[1]`"),
        (lambda items, table: items.__setitem__(1, [5.0, 6.0]), "`items[1]`"),
        (lambda items, table: table["a"].resize(3, refcheck=False), "`table['a']`"),
        (lambda items, table: table.update(b=1), "`table`"),
        (lambda items, table: table.__setitem__("s", "changed"), "`table['s']`"),
        (lambda items, table: items.__setitem__(0, "seven"), "`items[0]`"),
        (lambda items, table: items.__setitem__(0, np.array([7, 8])), "`items[0]`"),
    ],
)
def test_call_finds_changes_inside_lists_and_dicts(change, name):
    items, table = [7, np.array([1.0, np.nan])], {"a": np.array([1.0, 2.0]), "s": "text"}
    with pytest.raises(Mistake) as caught:
        call(change, items, table, on="nested inputs")
    assert f"changed its input {name} in place" in str(caught.value)


def test_call_accepts_an_answer_that_leaves_its_inputs_alone():
    items, table = [1, np.array([1.0, np.nan])], {"a": np.zeros(2), "other": object()}
    assert call(lambda items, table, scale=2: len(items) * scale, items, table, scale=3, on="x") == 6


def test_call_names_keyword_and_unnamed_arguments():
    with pytest.raises(Mistake, match=r"changed its input `out` in place"):
        call(lambda x, out: out.fill(1.0), np.zeros(2), out=np.zeros(2), on="x")
    with pytest.raises(Mistake, match=r"changed its input `a\[1\]` in place"):
        call(lambda *a: a[1].fill(1.0), np.zeros(2), np.zeros(2), on="x")


def test_call_without_a_signature_names_the_position():
    class Writer:
        __signature__ = "not a signature"  # inspect.signature raises TypeError on this

        def __call__(self, x):
            x[0] = 1.0

    with pytest.raises(Mistake, match=r"changed its input argument 1 in place"):
        call(Writer(), np.zeros(2), on="x")


def test_call_can_leave_the_inputs_to_the_checker():
    values = np.ones(2)
    call(lambda v: v.fill(0.0), values, on="x", unchanged=False)
    assert not values.any()


# Results that are empty, of the wrong dimension or not numbers -----------------------------------


def test_kind_of_describes_what_was_returned():
    assert kind_of([1, 2, 3]) == "list of 3 items"
    assert kind_of((1,)) == "tuple of 1 item"
    assert kind_of(np.zeros((2, 4))) == "ndarray of shape (2, 4)"
    assert kind_of(0.5) == "float"


def test_expect_shape_names_an_empty_array_and_a_single_number():
    with pytest.raises(Mistake, match=r"^X is empty \(shape \(0,\)\), expected shape \(2, 3\): your function "
                                      r"returned no values\. Hint\.$"):
        expect_shape(np.zeros(0), (2, 3), "X", "Hint.")
    with pytest.raises(Mistake, match=r"^X is a single number, expected an array of shape \(3,\)\.$"):
        expect_shape(np.array(1.0), (3,), "X")
    expect_shape(np.zeros((0, 3)), (0, 3), "no rows, as expected")


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        (None, {}, r"^y is None: did you forget to `return` it\?$"),
        ("abc", {}, r"^y could not be read as an array of numbers"),
        ([], {"nonempty": True, "hint": "(on x=1)"}, r"^y is empty \(shape \(0,\)\): your function returned no "
                                                     r"values\. \(on x=1\)$"),
        (3.0, {"ndim": 1}, r"^y should be a 1-D array, but it is a single number\.$"),
        ([[1.0]], {"ndim": 1}, r"^y should be a 1-D array, but it is 2-D, shape \(1, 1\)\.$"),
        ([1.0, 2.0], {"shape": (3,)}, r"^y has shape \(2,\), expected \(3,\)\.$"),
        ([1.0, np.inf], {"finite": True}, r"^y contains NaN or infinity\.$"),
    ],
)
def test_expect_array_turns_every_bad_result_into_a_sentence(value, options, message):
    with pytest.raises(Mistake, match=message):
        expect_array(value, "y", **options)


def test_expect_array_returns_a_good_result_as_floats():
    array = expect_array([1, 2], "y", ndim=1, shape=(2,), nonempty=True, finite=True)
    assert array.dtype == np.float64 and array.tolist() == [1.0, 2.0]


def test_named_mistake_names_only_a_mistake_the_input_tells_apart():
    def same(a, b):
        return a == b

    suspects = [(1, "off by one"), (2, "doubled"), (2, "squared"), (None, "not applicable here"), (3, "tripled")]
    assert named_mistake(1, suspects, same) == "off by one"
    assert named_mistake(2, suspects, same) is None  # doubled and squared agree on this input
    assert named_mistake(5, suspects, same) is None
    assert named_mistake(3, suspects + [(3, "tripled")], same) == "tripled"


def test_the_verdict_says_what_the_checker_would_print_or_raise_without_doing_either(capsys):
    passed = check_double.verdict(lambda x: 2 * x)
    assert (passed.exercise, passed.title, passed.status, passed.checks) == ("9.9", "doubling", PASSED, 2)
    assert passed.message == "Exercise 9.9 (doubling): passed all 2 checks."
    wrong = check_double.verdict(lambda x: x + 1)
    assert wrong.status == FAILED and wrong.checks == 0
    assert wrong.message == "Exercise 9.9 (doubling): double(5) should be 10, you returned 6."
    assert check_double.verdict(_not_attempted).status == NOT_ATTEMPTED
    assert check_double.verdict(42).status == FAILED
    assert capsys.readouterr().out == ""

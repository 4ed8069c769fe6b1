import pytest

from utils.decoding import seqmetrics


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("a", "b", 1), ("kitten", "sitting", 3),
    ("flaw", "lawn", 2), ("forty-two", "forty-two", 0), ("ab", "ba", 2), ("thirty", "thirteen", 3),
])
def test_edit_distance(a, b, distance):
    assert seqmetrics.edit_distance(a, b) == distance
    assert seqmetrics.edit_distance(b, a) == distance
    assert seqmetrics.edit_distance(list(a), list(b)) == distance


def test_character_error_rate_weighs_by_reference_length():
    outputs, references = ["one", "twenty-one"], ["one", "twenty-two"]
    assert seqmetrics.character_error_rate(outputs, references) == pytest.approx(3 / 13)
    assert seqmetrics.character_error_rate(["one hundred"], ["one"]) == pytest.approx(8 / 3)  # can exceed 1
    assert seqmetrics.exact_match(outputs, references) == 0.5


def test_metrics_refuse_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="one output per reference"):
        seqmetrics.exact_match(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="at least one"):
        seqmetrics.character_error_rate([], [])
    with pytest.raises(ValueError, match="empty"):
        seqmetrics.character_error_rate(["a"], [""])


def test_by_bin():
    table = seqmetrics.by_bin(["one", "two", "thre", "four"], ["one", "two", "three", "five"], [0, 0, 1, 1],
                              ["short", "long"])
    assert list(table.index) == ["short", "long"]
    assert table.loc["short", "exact match"] == 1.0 and table.loc["long", "exact match"] == 0.0
    assert table.loc["long", "character error rate"] == pytest.approx((1 + 3) / 9)
    assert table["pairs"].tolist() == [2, 2]
    with pytest.raises(ValueError, match="holds no pair"):
        seqmetrics.by_bin(["a"], ["a"], [0], ["x", "y"])


@pytest.mark.parametrize("metric", [seqmetrics.exact_match, seqmetrics.character_error_rate,
                                    lambda o, r: seqmetrics.by_bin(o, r, [0] * len(r), ["all"])])
def test_metrics_refuse_a_string_where_a_list_is_expected_and_non_strings(metric):
    # Two strings would be scored character by character: "abc" against "abd" as three pairs.
    with pytest.raises(TypeError, match=r"outputs is one string \('abc'\); give a list of strings"):
        metric("abc", "abd")
    with pytest.raises(TypeError, match=r"references is one string"):
        metric(["abc"], "abc")
    with pytest.raises(TypeError, match=r"outputs\[1\] is int 7, not a string.*decode token ids"):
        metric(["one", 7], ["one", "seven"])
    with pytest.raises(TypeError, match=r"references\[0\] is NoneType None"):
        metric(["one"], [None])


def test_edit_distance_refuses_what_is_not_a_sequence():
    with pytest.raises(TypeError, match=r"b is int 5; the edit distance compares two sequences"):
        seqmetrics.edit_distance("five", 5)

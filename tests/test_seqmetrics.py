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

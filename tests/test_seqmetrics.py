import numpy as np
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


def test_bleu_and_chrf_are_100_for_perfect_output_and_rank_near_misses():
    references = ["three hundred and eighty-seven", "twenty-one thousand, five hundred", "nine"]
    assert seqmetrics.bleu(references, references) == pytest.approx(100.0)
    assert seqmetrics.chrf(references, references) == pytest.approx(100.0)
    one_digit = ["three hundred and eighty-six", "twenty-one thousand, five hundred", "nine"]
    dropped = ["three hundred", "twenty-one thousand", "nine"]
    # a wrong digit word costs BLEU whole n-grams but chrF only the characters that differ
    assert 0 < seqmetrics.bleu(one_digit, references) < 100
    assert seqmetrics.chrf(one_digit, references) > seqmetrics.bleu(one_digit, references)
    # outputs shorter than their references pay BLEU's brevity penalty and chrF's recall
    assert seqmetrics.bleu(dropped, references) < seqmetrics.bleu(one_digit, references)
    assert seqmetrics.chrf(dropped, references) < seqmetrics.chrf(one_digit, references)
    with pytest.raises(TypeError, match="one string"):
        seqmetrics.bleu("nine", "nine")


def test_bleu_is_a_corpus_score_not_a_mean_of_sentence_scores():
    references = ["three hundred and eighty-seven", "five"]
    outputs = ["three hundred and eighty-seven", "six"]
    from sacrebleu.metrics import BLEU

    sentence_mean = (BLEU(effective_order=True).sentence_score(outputs[0], [references[0]]).score
                     + BLEU(effective_order=True).sentence_score(outputs[1], [references[1]]).score) / 2
    assert seqmetrics.bleu(outputs, references) != pytest.approx(sentence_mean)


def test_per_bin_intervals_hold_the_point_figures_of_by_bin():
    rng = np.random.default_rng(0)
    references = [f"number {i}" for i in range(120)]
    outputs = [r if rng.random() < 0.7 else r[:-1] for r in references]
    bins, labels = np.repeat([0, 1, 2], 40), ["short", "middle", "long"]
    plain = seqmetrics.by_bin(outputs, references, bins, labels)
    table = seqmetrics.by_bin_with_intervals(outputs, references, bins, labels)
    for metric in ("exact match", "character error rate"):
        assert np.allclose(table[metric], plain[metric])
        assert (table[f"{metric} low"] <= table[metric]).all() and (table[metric] <= table[f"{metric} high"]).all()
    found = seqmetrics.bin_interval(table, "middle")
    assert found.estimate == pytest.approx(plain.loc["middle", "exact match"]) and found.high > found.low
    overall = seqmetrics.intervals(outputs, references)
    assert overall["exact match"].estimate == pytest.approx(seqmetrics.exact_match(outputs, references))
    assert overall["character error rate"].estimate == pytest.approx(
        seqmetrics.character_error_rate(outputs, references))


def test_paired_by_bin_tells_a_real_difference_from_noise():
    references = [f"item {i:03d}" for i in range(200)]
    bins, labels = np.repeat([0, 1], 100), ["first", "second"]
    # a is right on every pair; b misses 30 pairs of the first bin and 2 of the second
    a = list(references)
    b = [r + "x" if (i < 30 or 100 <= i < 102) else r for i, r in enumerate(references)]
    found = seqmetrics.paired_by_bin(a, b, references, bins, labels)
    assert found["first"].estimate == pytest.approx(0.30) and found["first"].low > 0
    assert found["second"].estimate == pytest.approx(0.02) and found["second"].contains(0.0)
    rates = seqmetrics.paired_by_bin(a, b, references, bins, labels, metric="character error rate")
    assert rates["first"].estimate < 0 and rates["first"].high < 0
    with pytest.raises(ValueError, match="metric is"):
        seqmetrics.paired_by_bin(a, b, references, bins, labels, metric="bleu")
    with pytest.raises(ValueError, match="holds no pair"):
        seqmetrics.by_bin_with_intervals(a, references, bins, labels + ["third"])


def test_compounding_by_bin_predicts_exact_match_from_token_accuracy():
    references = ["ab", "ab", "abcd", "abcd"]
    outputs = ["ab", "ax", "abcd", "abcd"]
    right = [np.array([1, 1, 1]), np.array([1, 0, 1]), np.ones(5), np.ones(5)]
    table = seqmetrics.compounding_by_bin(right, outputs, references, [0, 0, 1, 1], ["short", "long"])
    assert table.loc["short", "teacher-forced token accuracy"] == pytest.approx(5 / 6)
    assert table.loc["short", "compounding prediction"] == pytest.approx((5 / 6) ** 3)
    assert table.loc["long", "compounding prediction"] == pytest.approx(1.0)
    assert table.loc["short", "exact match"] == 0.5 and table["disagreements"].tolist() == [0, 0]
    assert table.loc["short", "every teacher-forced argmax right"] == 0.5
    flipped = seqmetrics.compounding_by_bin(right, ["ab", "ab", "abcd", "abcd"], references, [0, 0, 1, 1],
                                            ["short", "long"])
    assert flipped.loc["short", "disagreements"] == 1
    with pytest.raises(ValueError, match="one per pair"):
        seqmetrics.compounding_by_bin(right[:3], outputs, references, [0, 0, 1, 1], ["short", "long"])

import numpy as np
import pytest

from utils.data import numwords


def test_spelling_in_both_languages():
    assert numwords.spell(387, "de") == "dreihundertsiebenundachtzig"
    assert numwords.spell(387, "en") == "three hundred and eighty-seven"
    assert numwords.spell(87, "de") == "siebenundachtzig"


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "7"])
def test_spell_refuses_what_is_not_a_positive_whole_number(bad):
    with pytest.raises((ValueError, TypeError)):
        numwords.spell(bad, "de")


def test_draws_are_distinct_seeded_and_in_range():
    a = numwords.draw_numbers(500, 999_999, seed=3)
    b = numwords.draw_numbers(500, 999_999, seed=3)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 500 and a.min() >= 1 and a.max() <= 999_999
    digits = np.array([len(str(n)) for n in a])
    assert set(digits.tolist()) == {1, 2, 3, 4, 5, 6}  # every length of number appears
    assert not np.array_equal(a, numwords.draw_numbers(500, 999_999, seed=4))


def test_round_numbers_are_common():
    numbers = numwords.draw_numbers(2000, 999_999, seed=0)
    assert np.mean(numbers % 10 == 0) > 0.2


def test_too_many_numbers_for_the_range_is_a_clear_error():
    with pytest.raises(ValueError, match="too many"):
        numwords.draw_numbers(60, 100, seed=0)
    with pytest.raises(ValueError, match="only 10 numbers"):
        numwords.draw_numbers(11, 10, seed=0)


def test_task_splits_share_no_number_and_the_test_set_is_stratified():
    task = numwords.make_task(600, 100, 40, n_bins=4, seed=1)
    train, validation, test = (set(p.numbers.tolist()) for p in (task.train, task.validation, task.test))
    assert not train & validation and not train & test and not validation & test
    assert (len(task.train), len(task.validation), len(task.test)) == (600, 100, 160)
    np.testing.assert_array_equal(np.bincount(task.test_bins), [40, 40, 40, 40])
    lengths = np.array([len(s) for s in task.test.sources])
    for b in range(3):  # the bins are ordered by source length
        assert lengths[task.test_bins == b].max() < lengths[task.test_bins == b + 1].min()
    assert len(task.bin_labels) == 4 and task.bin_labels[0].endswith("chars")
    assert task.test.targets[0] == numwords.spell(int(task.test.numbers[0]), "en")


def test_task_is_reproducible():
    a, b = numwords.make_task(200, 50, 10, seed=5), numwords.make_task(200, 50, 10, seed=5)
    assert a.train.sources == b.train.sources and a.test.targets == b.test.targets


def test_task_errors_say_what_to_change():
    with pytest.raises(ValueError, match="n_train"):
        numwords.make_task(0, 10, 10)
    with pytest.raises(ValueError, match="fewer bins"):
        numwords.make_task(50, 10, 1, n_bins=60)


def _words(text, labels):
    """The pieces of ``text`` with one label, in order: [(piece, word name or None), ...]."""
    pieces, start = [], 0
    for end in range(1, len(text) + 1):
        if end == len(text) or labels[end] != labels[start]:
            pieces.append((text[start:end], None if labels[start] < 0 else numwords.WORDS[labels[start]]))
            start = end
    return pieces


def test_alignment_of_a_reordered_number():
    source, target = numwords.alignment(387)
    assert _words(numwords.spell(387, "de"), source) == [
        ("drei", "hundreds digit"), ("hundert", "hundred"), ("sieben", "units"), ("und", None), ("achtzig", "tens")]
    assert _words(numwords.spell(387, "en"), target) == [
        ("three", "hundreds digit"), (" ", None), ("hundred", "hundred"), (" and ", None), ("eighty", "tens"),
        ("-", None), ("seven", "units")]


def test_alignment_tells_the_two_groups_of_three_digits_apart():
    source, target = numwords.alignment(101_001)
    assert _words(numwords.spell(101_001, "de"), source) == [
        ("ein", "thousands: hundreds digit"), ("hundert", "thousands: hundred"), ("eins", "thousands: units"),
        ("tausend", "thousand"), ("eins", "units")]
    assert [w for _, w in _words(numwords.spell(101_001, "en"), target)] == [
        "thousands: hundreds digit", None, "thousands: hundred", None, "thousands: units", None, "thousand", None,
        "units"]


def test_alignment_agrees_with_num2words_across_the_range():
    numbers = list(range(1, 1_200)) + list(range(1_000, 1_000_000, 997)) + [21_000, 31_001, 101_000, 999_999,
                                                                            700_007, 110_000, 17_017]
    numbers += numwords.draw_numbers(2_000, 999_999, seed=5).tolist()
    for number in numbers:
        source, target = numwords.alignment(number)  # raises if the rules and num2words disagree
        assert len(source) == len(numwords.spell(number, "de")) and len(target) == len(numwords.spell(number, "en"))
        # every word of the target is spelled in the source too, and the other way round
        assert set(source[source >= 0].tolist()) == set(target[target >= 0].tolist()), number


def test_alignment_refuses_numbers_outside_the_task():
    with pytest.raises(ValueError, match="up to 999,999"):
        numwords.alignment(1_000_000)
    with pytest.raises(ValueError):
        numwords.alignment(0)


def test_the_length_split_holds_out_the_longest_spellings_and_nothing_else():
    task = numwords.make_task(1_200, 100, 20, n_bins=4, largest=999_999, seed=0, hold_out_longer_than=56,
                              n_beyond=30)
    inside = [*task.train.sources, *task.validation.sources, *task.test.sources]
    assert max(len(s) for s in inside) <= 56 < min(len(s) for s in task.beyond.sources)
    assert len(task.beyond) == 30 and len(task.train) == 1_200 and len(task.test) == 80
    assert task.beyond_label.endswith("(beyond)") and task.beyond_label.startswith(str(min(map(len, task.beyond.sources))))
    every = [set(p.numbers.tolist()) for p in (task.train, task.validation, task.test, task.beyond)]
    assert sum(len(s) for s in every) == len(set().union(*every))  # no number in two splits
    for pairs in (task.train, task.beyond):
        for number, source, target in zip(pairs.numbers[:5], pairs.sources, pairs.targets):
            assert (source, target) == (numwords.spell(int(number), "de"), numwords.spell(int(number), "en"))
    # the cut at 56 characters keeps every structure of the held-out numbers in training (the pilot's finding)
    assert numwords.reachability(task.train, task.beyond)["structure seen"] == 1.0


def test_a_cut_below_the_shortest_full_spelling_holds_out_a_whole_structure():
    """The trap the option avoids: with a cut at 52 characters no number with every word (53 or more) trains."""
    task = numwords.make_task(1_200, 100, 20, n_bins=4, largest=999_999, seed=0, hold_out_longer_than=52,
                              n_beyond=30)
    assert numwords.reachability(task.train, task.beyond)["structure seen"] < 0.5
    assert len(numwords.spell(121_121, "de")) == 53 and numwords.structure(121_121) == numwords.structure(987_654)


def test_structure_tells_the_kinds_of_word_apart():
    assert numwords.structure(387_654) == numwords.structure(123_456)
    assert numwords.structure(387_054) != numwords.structure(387_654)
    assert numwords.structure(387_614) != numwords.structure(387_654)
    assert numwords.structure(7) == (None, (False, "none", True))
    assert numwords.structure(17_000) == ((False, "teen", None), None)


def test_the_default_split_is_unchanged_by_the_option():
    plain = numwords.make_task(200, 50, 10, seed=5)
    assert plain.beyond is None and plain.beyond_label is None
    with pytest.raises(ValueError, match="give hold_out_longer_than"):
        numwords.make_task(200, 50, 10, seed=5, n_beyond=10)
    with pytest.raises(ValueError, match="n_beyond must be a positive"):
        numwords.make_task(200, 50, 10, seed=5, hold_out_longer_than=40)
    with pytest.raises(ValueError, match="no German source"):
        numwords.make_task(2_000, 50, 10, largest=99_999, seed=5, hold_out_longer_than=80, n_beyond=10)


def test_swap_word_changes_one_digit_word_into_another_valid_one():
    rng = np.random.default_rng(0)
    changed, start, end = numwords.swap_word(387_654, rng)
    target = numwords.spell(387_654, "en")
    assert target.startswith("three hundred") and (start, end) == (0, 5)
    assert changed[start:end] in ("seven", "eight") and changed[end:] == target[end:]
    assert len(changed) == len(target)
    english = {numwords.spell(n, "en") for n in range(100, 1000)}
    assert changed.split(" thousand")[0] in english  # still a well-formed English number
    # "seventy" has no partner of its length: the next word is swapped
    changed, start, end = numwords.swap_word(75, rng)
    assert numwords.spell(75, "en")[start:end] == "five" and changed[start:end] in ("four", "nine")
    assert numwords.swap_word(70, rng) is None and numwords.swap_word(10, rng) is None

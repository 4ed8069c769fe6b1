"""utils.tasks.labelling: word-start labels, the positional split, aligned chunks and rare-class scores."""

from __future__ import annotations

import numpy as np
import pytest

from utils.tasks.labelling import (
    aligned_chunks,
    precision_recall_f1,
    rare_class_scores,
    split_by_position,
    word_start_labels,
)


def test_word_start_labels_by_hand():
    chars, labels = word_start_labels("a cat sat")
    assert chars == "acatsat"
    assert labels.tolist() == [1, 1, 0, 0, 1, 0, 0]
    assert labels.dtype == np.int8


def test_every_kind_and_run_of_whitespace_separates_words_alike():
    chars, labels = word_start_labels("  if x:\n\treturn  y \n")
    assert chars == "ifx:returny"
    assert labels.tolist() == [1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1]


def test_word_start_labels_on_real_text_are_deterministic_and_consistent():
    text = 'The "assert" statement\n*****\n\nAssert statements are a convenient way'
    chars, labels = word_start_labels(text)
    assert word_start_labels(text)[1].tolist() == labels.tolist()
    assert len(chars) == len(labels) == len("".join(text.split()))
    assert labels.sum() == len(text.split())
    assert labels[0] == 1


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_a_text_without_words_is_refused(text):
    with pytest.raises(ValueError, match="no characters other than whitespace"):
        word_start_labels(text)


def test_word_start_labels_wants_a_string():
    with pytest.raises(TypeError, match="must be a str"):
        word_start_labels(["a", "b"])


def test_split_by_position_is_contiguous_and_in_order():
    train, validation, test = split_by_position(100)
    assert (train, validation, test) == (slice(0, 80), slice(80, 90), slice(90, 100))
    items = np.arange(1000)
    parts = [items[part] for part in split_by_position(1000, validation=0.15, test=0.05)]
    assert [len(part) for part in parts] == [800, 150, 50]
    assert np.array_equal(np.concatenate(parts), items)


@pytest.mark.parametrize(("n", "validation", "test", "message"), [
    (0, 0.1, 0.1, "positive whole number"),
    (2.5, 0.1, 0.1, "positive whole number"),
    (100, 0.0, 0.1, "validation must be a share"),
    (100, 0.1, 1.0, "test must be a share"),
    (100, 0.5, 0.5, "leaves a part empty"),
    (4, 0.1, 0.1, "leaves a part empty"),
])
def test_split_by_position_refuses_bad_input(n, validation, test, message):
    with pytest.raises(ValueError, match=message):
        split_by_position(n, validation, test)


def test_aligned_chunks_keep_labels_in_step_and_pad_the_last_row():
    inputs, labels = np.arange(1, 8), np.array([1, 0, 0, 1, 0, 1, 1])
    X, Y, mask = aligned_chunks(inputs, labels, 3, fill=0)
    assert X.tolist() == [[1, 2, 3], [4, 5, 6], [7, 0, 0]]
    assert Y.tolist() == [[1, 0, 0], [1, 0, 1], [1, 0, 0]]
    assert mask.tolist() == [[True] * 3, [True] * 3, [True, False, False]]
    assert np.array_equal(X[mask], inputs) and np.array_equal(Y[mask], labels)


def test_aligned_chunks_without_a_remainder_have_no_padding():
    X, Y, mask = aligned_chunks(np.arange(6), np.zeros(6, dtype=int), 2)
    assert X.shape == Y.shape == mask.shape == (3, 2) and mask.all()


@pytest.mark.parametrize(("inputs", "labels", "length", "message"), [
    (np.arange(5), np.zeros(4), 2, "same length"),
    (np.zeros((2, 3)), np.zeros((2, 3)), 2, "1-D"),
    (np.arange(5), np.zeros(5), 0, "positive whole number"),
    (np.arange(5), np.zeros(5), 6, "longer than the 5 steps"),
    (np.arange(0), np.zeros(0), 1, "empty"),
])
def test_aligned_chunks_refuse_bad_input(inputs, labels, length, message):
    with pytest.raises(ValueError, match=message):
        aligned_chunks(inputs, labels, length)


def test_scores_by_hand():
    # 3 true word starts; 2 predicted starts of which 1 is right.
    labels = np.array([1, 0, 0, 1, 0, 1, 0, 0])
    predicted = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    precision, recall, f1 = precision_recall_f1(labels, predicted)
    assert (precision, recall) == (0.5, pytest.approx(1 / 3))
    assert f1 == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))  # = 0.4
    assert f1 == pytest.approx(0.4)
    scores = rare_class_scores(labels, predicted)
    assert scores["accuracy"] == pytest.approx(5 / 8)
    assert scores["rare_share"] == pytest.approx(3 / 8)


def test_f1_is_twice_the_hits_over_predicted_plus_true():
    rng = np.random.default_rng(0)
    labels, predicted = rng.random((20, 30)) < 0.2, rng.random((20, 30)) < 0.3
    hits = np.sum(labels & predicted)
    assert precision_recall_f1(labels, predicted)[2] == pytest.approx(2 * hits / (labels.sum() + predicted.sum()))


def test_the_mask_leaves_padded_steps_out():
    labels = np.array([[1, 0, 0], [1, 0, 0]])
    predicted = np.array([[1, 0, 0], [1, 1, 1]])  # the second row's last two steps are padding
    mask = np.array([[True, True, True], [True, False, False]])
    assert rare_class_scores(labels, predicted, mask) == {
        "accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0, "rare_share": 0.5}
    assert rare_class_scores(labels, predicted)["precision"] == pytest.approx(0.5)


def test_the_majority_class_baseline_scores_an_f1_of_zero():
    labels = np.array([0, 1, 0, 0, 0])
    scores = rare_class_scores(labels, np.zeros_like(labels))
    assert scores["accuracy"] == pytest.approx(0.8) and scores["f1"] == 0.0
    assert scores["precision"] == 0.0 and scores["recall"] == 0.0


def test_no_true_rare_step_gives_a_recall_of_zero():
    assert precision_recall_f1(np.zeros(4), np.array([0, 1, 0, 0])) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(("labels", "predicted", "mask", "message"), [
    (np.zeros(3), np.zeros(4), None, "same shape"),
    (np.zeros(3), np.array([0.2, 0.9, 0.4]), None, "only 0 and 1"),
    (np.array([0, 2, 1]), np.zeros(3), None, "labels must hold only 0 and 1"),
    (np.zeros(3), np.zeros(3), np.ones(2, dtype=bool), "mask"),
    (np.zeros(3), np.zeros(3), np.zeros(3, dtype=bool), "no step is scored"),
    (np.zeros(0), np.zeros(0), None, "no step is scored"),
])
def test_scores_refuse_bad_input(labels, predicted, mask, message):
    with pytest.raises(ValueError, match=message):
        rare_class_scores(labels, predicted, mask)

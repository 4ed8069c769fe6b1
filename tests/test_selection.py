"""utils.training.selection: a validation split stratified by class, and the best row of a table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.training.selection import best_row, stratified_split


def test_stratified_split_takes_the_same_number_of_each_class():
    labels = np.repeat([0, 1, 2], [10, 12, 8])
    train, validation = stratified_split(labels, validation_per_class=3, seed=1)
    assert np.bincount(labels[validation]).tolist() == [3, 3, 3]
    assert len(train) + len(validation) == len(labels)
    assert not set(train) & set(validation)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(validation) > 0)


def test_stratified_split_is_seeded():
    labels = np.tile(np.arange(4), 10)
    first = stratified_split(labels, 2, seed=5)[1]
    assert np.array_equal(first, stratified_split(labels, 2, seed=5)[1])
    assert not np.array_equal(first, stratified_split(labels, 2, seed=6)[1])


@pytest.mark.parametrize("labels, per_class, message", [
    ([], 1, "non-empty 1-D"),
    ([[0, 1]], 1, "non-empty 1-D"),
    ([0, 0, 1, 1], 0, "positive whole number"),
    ([0, 0, 1, 1], 1.5, "positive whole number"),
    ([0, 0, 0, 1], 1, "class 1 has 1 samples"),
])
def test_stratified_split_says_what_is_wrong(labels, per_class, message):
    with pytest.raises(ValueError, match=message):
        stratified_split(np.array(labels), per_class)


def test_best_row_with_a_tie_break():
    table = pd.DataFrame({"accuracy": [0.9, 0.95, 0.95], "loss": [0.3, 0.2, 0.1]}, index=["a", "b", "c"])
    assert best_row(table, "accuracy") == "b"  # the first of the tied rows
    assert best_row(table, "accuracy", tiebreak="loss") == "c"
    assert best_row(table, "loss", higher_is_better=False) == "c"


def test_best_row_says_what_is_wrong():
    with pytest.raises(ValueError, match="empty"):
        best_row(pd.DataFrame({"accuracy": []}), "accuracy")
    with pytest.raises(KeyError, match="no column 'loss'"):
        best_row(pd.DataFrame({"accuracy": [1.0]}), "accuracy", tiebreak="loss")

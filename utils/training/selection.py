"""Model selection on validation data cut from the training set.

Sizes, epochs and learning rates are chosen on a validation split of the *training* data;
the test split is scored once, with the chosen settings. :func:`stratified_split` cuts that
validation split so that every class keeps its share, and :func:`best_row` picks the winning
setting from a table of validation figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def stratified_split(
    labels: Sequence[int] | np.ndarray, validation_per_class: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into (training, validation), ``validation_per_class`` of each class.

    Each class gives the same number of validation samples, drawn at random with ``seed``;
    the rest stay for training. Both index arrays come back sorted.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array of class labels, got shape {labels.shape}.")
    if not isinstance(validation_per_class, (int, np.integer)) or validation_per_class < 1:
        raise ValueError(f"validation_per_class must be a positive whole number, got {validation_per_class!r}.")
    rng = np.random.default_rng(seed)
    validation = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) <= validation_per_class:
            raise ValueError(f"class {label.item()!r} has {len(members)} samples: it cannot give {validation_per_class} "
                             "to validation and keep some for training. Ask for fewer per class.")
        validation.append(rng.choice(members, size=validation_per_class, replace=False))
    validation_index = np.sort(np.concatenate(validation))
    training_index = np.setdiff1d(np.arange(len(labels)), validation_index)
    return training_index, validation_index


def best_row(table: pd.DataFrame, by: str, higher_is_better: bool = True, tiebreak: str | None = None,
             tiebreak_higher_is_better: bool = False) -> object:
    """The index label of the best row of ``table`` by column ``by``, ties broken by ``tiebreak``.

    With a small validation set accuracies tie often; the validation loss is a good tie-break.
    Remaining ties go to the first row, so list the cheaper settings first.
    """
    if table.empty:
        raise ValueError("the table of validation figures is empty: train at least one setting first.")
    for column in (by, tiebreak):
        if column is not None and column not in table.columns:
            raise KeyError(f"no column {column!r} in the table; it has {list(table.columns)}.")
    columns, ascending = [by], [not higher_is_better]
    if tiebreak is not None:
        columns.append(tiebreak)
        ascending.append(not tiebreak_higher_is_better)
    return table.sort_values(columns, ascending=ascending, kind="stable").index[0]

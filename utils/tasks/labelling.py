"""Sequence labelling on real text: where do the words start once the spaces are gone?

The task gives every character its own label (aligned many-to-many). From any text,
:func:`word_start_labels` removes all whitespace and labels each remaining character 1 if a
word starts there and 0 otherwise: ``"a cat sat"`` becomes ``"acatsat"`` with labels
``1 1 0 0 1 0 0``. Word starts are the rare class (about one character in five), so the
scores that matter are the precision, recall and F1 of that class, not only the per-step
accuracy that always answering 0 already does well on.

The pipeline, in order:

1. :func:`word_start_labels` derives ``(characters, labels)`` from the text, deterministically.
2. :func:`split_by_position` cuts the characters into train, validation and test by
   position: the first 80 % train, the next 10 % validation, the last 10 % test (by default).
   Neighbouring characters are not independent, so a random split would put pieces of the
   same sentence on both sides; contiguous blocks keep the test text unseen.
3. :func:`aligned_chunks` cuts each part into fixed-length rows of inputs and labels, padding
   the last row and returning a mask that is true at real characters.
4. :func:`rare_class_scores` scores per-step predictions (accuracy, precision, recall and
   F1 of the rare class), counting only the steps the mask marks as real.
"""

from __future__ import annotations

import numpy as np

RARE = 1  # the label of the rare class: a word starts at this character


def word_start_labels(text: str) -> tuple[str, np.ndarray]:
    """``text`` without its whitespace, and a label per remaining character (1 where a word starts).

    A word is a maximal run of characters that are not whitespace (what ``str.split()``
    returns), so spaces, tabs, newlines and runs of them all separate words alike.
    Returns ``(characters, labels)`` with ``labels`` an int8 array of ``len(characters)``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}.")
    words = text.split()
    if not words:
        raise ValueError("text has no characters other than whitespace: there are no words to label. "
                         "Pass a text with at least one word.")
    labels = np.zeros(sum(len(word) for word in words), dtype=np.int8)
    starts = np.cumsum([0] + [len(word) for word in words[:-1]])
    labels[starts] = RARE
    return "".join(words), labels


def split_by_position(n: int, validation: float = 0.1, test: float = 0.1) -> tuple[slice, slice, slice]:
    """Three contiguous slices of ``range(n)``: train first, then validation, then test.

    The validation and test slices hold ``round(validation * n)`` and ``round(test * n)``
    items, taken from the end; train is everything before them. Index any array of
    length ``n`` with them (the characters and their labels alike).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive whole number (the length of what is split), got {n!r}.")
    for name, share in (("validation", validation), ("test", test)):
        if not 0.0 < share < 1.0:
            raise ValueError(f"{name} must be a share strictly between 0 and 1, got {share!r}.")
    n_validation, n_test = round(validation * n), round(test * n)
    n_train = n - n_validation - n_test
    if min(n_train, n_validation, n_test) < 1:
        raise ValueError(f"splitting {n} items into {1 - validation - test:.0%} train, {validation:.0%} "
                         f"validation and {test:.0%} test leaves a part empty ({n_train}, {n_validation}, "
                         f"{n_test} items); use a longer text or other shares.")
    return slice(0, n_train), slice(n_train, n_train + n_validation), slice(n_train + n_validation, n)


def aligned_chunks(
    inputs: np.ndarray, labels: np.ndarray, length: int, fill: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut aligned ``inputs`` and ``labels`` into rows of ``length`` steps.

    Row ``i`` holds steps ``i*length`` to ``(i+1)*length - 1``; ``labels`` stay aligned with
    ``inputs`` (no shift, unlike next-step prediction). The last row is padded with ``fill``
    (inputs) and 0 (labels) when the data does not fill it. Returns ``(X, Y, mask)``, each
    of shape ``(rows, length)``, ``mask`` true at real steps.
    """
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.ndim != 1 or labels.shape != inputs.shape:
        raise ValueError(f"inputs and labels must be 1-D and of the same length, got shapes {inputs.shape} "
                         f"and {labels.shape}.")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive whole number of steps, got {length!r}.")
    if len(inputs) == 0:
        raise ValueError("inputs are empty: there is nothing to cut into chunks.")
    if length > len(inputs):
        raise ValueError(f"a chunk of {length} steps is longer than the {len(inputs)} steps given; "
                         "use a shorter chunk or more text.")
    rows = -(-len(inputs) // length)
    X = np.full(rows * length, fill, dtype=inputs.dtype)
    Y = np.zeros(rows * length, dtype=labels.dtype)
    mask = np.zeros(rows * length, dtype=bool)
    X[: len(inputs)], Y[: len(inputs)], mask[: len(inputs)] = inputs, labels, True
    return X.reshape(rows, length), Y.reshape(rows, length), mask.reshape(rows, length)


def _binary(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype == bool:
        return values.astype(np.int8)
    if values.size and not np.isin(values, (0, 1)).all():
        raise ValueError(f"{what} must hold only 0 and 1 (one class per step); found "
                         f"{np.unique(values)[:6].tolist()}. Turn probabilities into classes first "
                         "(for example probabilities.argmax(-1) or probabilities > 0.5).")
    return values.astype(np.int8)


def _scored(labels: np.ndarray, predicted: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The labels and predictions at the steps that count, flattened, after checking shapes."""
    labels, predicted = _binary(labels, "labels"), _binary(predicted, "predicted")
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predicted {predicted.shape} must have the same shape "
                         "(one prediction per step).")
    if mask is None:
        mask = np.ones(labels.shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != labels.shape:
        raise ValueError(f"mask {mask.shape} must have the shape of labels {labels.shape}.")
    mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("no step is scored: the labels are empty or the mask is false everywhere.")
    return labels[mask], predicted[mask]


def precision_recall_f1(
    labels: np.ndarray, predicted: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Precision, recall and F1 of the rare class (label 1) over the steps where ``mask`` is true.

    Precision is the share of predicted 1s that are right, recall the share of true 1s
    found, F1 their harmonic mean. A share with nothing to count (no predicted 1, no
    true 1) is 0, and so is F1 when precision and recall are both 0.
    """
    y, p = _scored(labels, predicted, mask)
    hits = int(np.sum((y == RARE) & (p == RARE)))
    n_predicted, n_true = int(np.sum(p == RARE)), int(np.sum(y == RARE))
    precision = hits / n_predicted if n_predicted else 0.0
    recall = hits / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f1)


def rare_class_scores(labels: np.ndarray, predicted: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """Per-step accuracy and the rare class's precision, recall and F1, over the real steps.

    Also returns ``rare_share``, the share of real steps whose label is the rare class:
    always predicting the common class scores an accuracy of ``1 - rare_share`` and an F1 of 0.
    """
    y, p = _scored(labels, predicted, mask)
    precision, recall, f1 = precision_recall_f1(labels, predicted, mask)
    return {"accuracy": float(np.mean(y == p)), "precision": precision, "recall": recall, "f1": f1,
            "rare_share": float(np.mean(y == RARE))}

"""Batches of sequences as NumPy arrays: padding with a mask, reversing, scaling, next-step pairs.

Keras reads a batch of sequences as one array ``(batch, time, features)``, so sequences of
different lengths are padded to a common length; the mask ``(batch, time)`` says which steps
are real. For language models the text is cut into (input, target) pairs whose targets are
the inputs shifted by one step, and held-out text is scored in overlapping segments so that
every scored character is predicted from enough context.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pad_batch(
    sequences: Sequence[np.ndarray], length: int | None = None, value: float = 0.0, padding: str = "post"
) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences of shape ``(length_i, features)`` into one padded float32 array.

    Returns ``(batch, mask)``: ``batch`` of shape ``(n, length, features)`` filled with
    ``value`` where there is no data, and the boolean ``mask`` of shape ``(n, length)``,
    true at real steps. ``padding="post"`` puts the data first, ``"pre"`` last.
    ``length`` defaults to the longest sequence.
    """
    if not sequences:
        raise ValueError("pad_batch needs at least one sequence.")
    if padding not in ("post", "pre"):
        raise ValueError(f"padding must be 'post' or 'pre', got {padding!r}.")
    arrays = [np.asarray(sequence, dtype=np.float32) for sequence in sequences]
    features = {array.shape[1:] for array in arrays}
    if len(features) != 1 or any(array.ndim != 2 for array in arrays):
        raise ValueError(f"every sequence must have shape (length, features) with the same features; "
                         f"got shapes {sorted({array.shape for array in arrays})[:4]}.")
    longest = max(len(array) for array in arrays)
    length = longest if length is None else length
    if length < longest:
        raise ValueError(f"length={length} is shorter than the longest sequence ({longest} steps).")
    batch = np.full((len(arrays), length, arrays[0].shape[1]), value, dtype=np.float32)
    mask = np.zeros((len(arrays), length), dtype=bool)
    for row, array in enumerate(arrays):
        steps = slice(0, len(array)) if padding == "post" else slice(length - len(array), length)
        batch[row, steps] = array
        mask[row, steps] = True
    return batch, mask


def reverse_padded(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each sequence of a padded batch played backwards, its padding left where it was.

    ``x`` has shape ``(batch, time, features)`` and ``mask`` shape ``(batch, time)``, true at
    real steps. Returns a new array of ``x``'s shape and dtype in which row ``i`` holds its
    real steps in reverse order, in the positions its real steps held (for padding after the
    data, ``x[i, :L][::-1]`` followed by the unchanged padding, ``L = mask[i].sum()``), so the
    mask still marks the real steps. ``x`` and ``mask`` are left unchanged.
    """
    x = np.asarray(x)
    mask = np.asarray(mask, dtype=bool)
    if x.ndim != 3 or mask.shape != x.shape[:2]:
        raise ValueError(f"expected x of shape (batch, time, features) and mask of shape (batch, time); "
                         f"got x {x.shape} and mask {mask.shape}.")
    reversed_x = x.copy()
    for row in range(len(x)):
        real = np.flatnonzero(mask[row])
        reversed_x[row, real] = x[row, real[::-1]]
    return reversed_x


def channel_statistics(sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each feature over every step of every sequence."""
    frames = np.concatenate([np.asarray(sequence, dtype=np.float64) for sequence in sequences], axis=0)
    std = frames.std(axis=0)
    return frames.mean(axis=0), np.where(std > 0, std, 1.0)


def standardise(sequences: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray) -> list[np.ndarray]:
    """``(x - mean) / std`` for each sequence (use statistics of the training data only)."""
    return [((np.asarray(sequence) - mean) / std).astype(np.float32) for sequence in sequences]


def next_step_pairs(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a sequence of ids into non-overlapping chunks and their next-step targets.

    ``X[i] = ids[i*length : (i+1)*length]`` and ``Y[i] = ids[i*length + 1 : (i+1)*length + 1]``:
    at every step the target is the id that follows. The tail that does not fill a chunk is dropped.
    """
    ids = np.asarray(ids)
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}.")
    n = (len(ids) - 1) // length
    if n < 1:
        raise ValueError(f"{len(ids)} ids are too few for one chunk of length {length} plus its target.")
    X = ids[: n * length].reshape(n, length)
    Y = ids[1 : n * length + 1].reshape(n, length)
    return X, Y


def scoring_segments(
    ids: np.ndarray, start: int, length: int, context: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping segments that score every position from ``start`` on exactly once.

    Each segment reads ``context + length`` ids (an input at step ``j`` predicts the id at
    step ``j + 1``). Its first ``context`` predictions only warm up the state and get
    weight 0; the next ``length`` get weight 1. So every target ``ids[t]`` with
    ``t >= start`` is scored once, after at least ``context`` earlier ids. Segments
    past the end are padded with id 0 and weight 0. Returns ``(X, Y, weights)``, each
    of shape ``(segments, context + length)``.
    """
    ids = np.asarray(ids)
    if start < context + 1:
        raise ValueError(f"start={start} leaves fewer than context={context} ids before the first "
                         "scored one; use start >= context + 1.")
    if start >= len(ids):
        raise ValueError(f"start={start} is past the end of {len(ids)} ids: nothing to score.")
    width = context + length
    firsts = np.arange(start, len(ids), length)
    X = np.zeros((len(firsts), width), dtype=ids.dtype)
    Y = np.zeros_like(X)
    weights = np.zeros(X.shape, dtype=np.float32)
    for row, first in enumerate(firsts):
        begin = first - context - 1
        inputs = ids[begin : begin + width]
        targets = ids[begin + 1 : begin + 1 + width]
        X[row, : len(inputs)] = inputs
        Y[row, : len(targets)] = targets
        weights[row, context : len(targets)] = 1.0
    return X, Y, weights


def bits_per_step(probabilities: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean ``-log2 p(target)`` over the steps with weight 1 (all steps without weights).

    ``probabilities`` has shape ``targets.shape + (classes,)``.
    """
    probabilities = np.asarray(probabilities)
    targets = np.asarray(targets)
    if probabilities.shape[:-1] != targets.shape:
        raise ValueError(f"probabilities {probabilities.shape} do not match targets {targets.shape}: "
                         "expected targets.shape + (classes,).")
    p_true = np.take_along_axis(probabilities, targets[..., None].astype(np.int64), axis=-1)[..., 0]
    bits = -np.log2(np.clip(p_true.astype(np.float64), 1e-12, 1.0))
    if weights is None:
        return float(bits.mean())
    weights = np.asarray(weights, dtype=np.float64)
    return float((bits * weights).sum() / weights.sum())

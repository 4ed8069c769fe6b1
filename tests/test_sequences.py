"""utils.data.sequences: padding with a mask, scaling, next-step pairs and scoring segments."""

from __future__ import annotations

import numpy as np
import pytest

from utils.data import sequences


def _ragged() -> list[np.ndarray]:
    return [np.full((3, 2), 1.0), np.full((1, 2), 2.0), np.full((4, 2), 3.0)]


def test_pad_batch_after_the_data():
    batch, mask = sequences.pad_batch(_ragged())
    assert batch.shape == (3, 4, 2) and batch.dtype == np.float32
    assert mask.tolist()[1] == [True, False, False, False]
    assert batch[1, 0].tolist() == [2.0, 2.0] and batch[1, 1:].sum() == 0.0
    assert mask.sum(axis=1).tolist() == [3, 1, 4]


def test_pad_batch_before_the_data_to_a_given_length():
    batch, mask = sequences.pad_batch(_ragged(), length=6, value=-1.0, padding="pre")
    assert batch.shape == (3, 6, 2)
    assert mask[0].tolist() == [False, False, False, True, True, True]
    assert batch[0, 0].tolist() == [-1.0, -1.0] and batch[0, -1].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("args", "kwargs", "phrase"),
    [
        (([],), {}, "at least one sequence"),
        ((_ragged(),), {"padding": "middle"}, "'post' or 'pre'"),
        ((_ragged(),), {"length": 3}, "shorter than the longest sequence (4 steps)"),
        (([np.zeros((2, 2)), np.zeros((2, 3))],), {}, "same features"),
        (([np.zeros(3)],), {}, "shape (length, features)"),
    ],
)
def test_pad_batch_rejects_bad_input(args, kwargs, phrase):
    with pytest.raises(ValueError) as caught:
        sequences.pad_batch(*args, **kwargs)
    assert phrase in str(caught.value)


def test_standardise_with_training_statistics():
    train = [np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[4.0, 5.0]])]
    mean, std = sequences.channel_statistics(train)
    assert mean.tolist() == [2.0, 5.0]
    assert std[0] == pytest.approx(np.std([0.0, 2.0, 4.0]))
    assert std[1] == 1.0  # a constant channel keeps the scale 1
    scaled = sequences.standardise(train, mean, std)
    assert scaled[0].dtype == np.float32
    assert np.concatenate(scaled)[:, 0].mean() == pytest.approx(0.0)
    assert np.concatenate(scaled)[:, 1].tolist() == [0.0, 0.0, 0.0]


def test_next_step_pairs_shift_by_one():
    ids = np.arange(11)
    X, Y = sequences.next_step_pairs(ids, 3)
    assert X.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert Y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    with pytest.raises(ValueError, match="at least 1"):
        sequences.next_step_pairs(ids, 0)
    with pytest.raises(ValueError, match="too few"):
        sequences.next_step_pairs(ids[:3], 3)


@pytest.mark.parametrize(("n", "start", "length", "context"), [(50, 8, 10, 4), (41, 6, 7, 5), (12, 3, 20, 2)])
def test_scoring_segments_score_every_position_once(n, start, length, context):
    ids = np.arange(100, 100 + n)
    X, Y, weights = sequences.scoring_segments(ids, start, length, context)
    assert X.shape == Y.shape == weights.shape and X.shape[1] == context + length
    scored = Y[weights == 1.0]
    assert sorted(scored.tolist()) == list(range(100 + start, 100 + n))  # each target once
    for row in range(len(X)):
        real = weights[row] == 1.0
        assert np.array_equal(Y[row, :-1][real[:-1]], X[row, 1:][real[:-1]])  # targets follow inputs
        first = int(np.argmax(real))
        assert first >= context and X[row, 0] != 0  # at least `context` real ids read first


def test_scoring_segments_validate_their_arguments():
    with pytest.raises(ValueError, match="start >= context \\+ 1"):
        sequences.scoring_segments(np.arange(20), 3, 5, 3)
    with pytest.raises(ValueError, match="past the end"):
        sequences.scoring_segments(np.arange(20), 20, 5, 3)


def test_bits_per_step():
    probabilities = np.array([[[0.5, 0.5], [0.25, 0.75]], [[1.0, 0.0], [0.5, 0.5]]])
    targets = np.array([[0, 0], [1, 1]])
    bits = sequences.bits_per_step(probabilities, targets)
    assert bits == pytest.approx((1 + 2 + np.log2(1e12) + 1) / 4)
    weights = np.array([[1, 1], [0, 1]])
    assert sequences.bits_per_step(probabilities, targets, weights) == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="do not match targets"):
        sequences.bits_per_step(probabilities[0], targets)


def test_reverse_padded_reverses_the_real_steps_and_keeps_the_padding():
    batch, mask = sequences.pad_batch([np.arange(6.0).reshape(3, 2), np.array([[7.0, 8.0]]),
                                       np.arange(8.0).reshape(4, 2) + 10], value=-1.0)
    before = batch.copy()
    reversed_batch = sequences.reverse_padded(batch, mask)
    assert reversed_batch.shape == batch.shape and reversed_batch.dtype == np.float32
    assert reversed_batch[0].tolist() == [[4.0, 5.0], [2.0, 3.0], [0.0, 1.0], [-1.0, -1.0]]
    assert reversed_batch[1].tolist() == [[7.0, 8.0], *[[-1.0, -1.0]] * 3]
    assert reversed_batch[2].tolist() == (np.arange(8.0).reshape(4, 2) + 10)[::-1].tolist()
    assert np.array_equal(batch, before), "the input must be left unchanged"
    assert np.array_equal(sequences.reverse_padded(reversed_batch, mask), batch), "twice is the identity"


def test_reverse_padded_with_padding_before_the_data_and_bad_shapes():
    batch, mask = sequences.pad_batch([np.array([[1.0], [2.0]]), np.array([[3.0], [4.0], [5.0]])], padding="pre")
    assert sequences.reverse_padded(batch, mask)[:, :, 0].tolist() == [[0.0, 2.0, 1.0], [5.0, 4.0, 3.0]]
    with pytest.raises(ValueError) as caught:
        sequences.reverse_padded(batch, mask[:, :2])
    assert "mask of shape (batch, time)" in str(caught.value)

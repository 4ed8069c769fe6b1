"""utils.data.synthetic: the adding problem is well formed, seeded and as hard as documented."""

from __future__ import annotations

import numpy as np
import pytest

from utils.data.synthetic import ADDING_MEAN_MSE, adding_problem


def test_shapes_and_dtypes():
    x, y = adding_problem(7, 12, seed=0)
    assert x.shape == (7, 12, 2) and y.shape == (7, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32


def test_two_markers_one_in_each_half_and_the_target_is_their_sum():
    length = 11
    x, y = adding_problem(500, length, seed=1)
    values, markers = x[..., 0], x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    half = length // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1.0)
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), 1.0)
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=1e-6)
    assert values.min() >= 0.0 and values.max() < 1.0


def test_the_shortest_sequence_marks_both_steps():
    x, y = adding_problem(3, 2, seed=2)
    np.testing.assert_array_equal(x[..., 1], np.ones((3, 2)))
    np.testing.assert_allclose(y[:, 0], x[..., 0].sum(axis=1), rtol=1e-6)


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    a, b, c = adding_problem(4, 9, seed=3), adding_problem(4, 9, seed=3), adding_problem(4, 9, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_predicting_the_mean_scores_one_sixth():
    _, y = adding_problem(200_000, 6, seed=5)
    assert ADDING_MEAN_MSE == pytest.approx(1 / 6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(ADDING_MEAN_MSE, abs=2e-3)
    assert float(y.mean()) == pytest.approx(1.0, abs=5e-3)


@pytest.mark.parametrize(("n", "length"), [(0, 5), (3, 1), (2.5, 5), (3, True), (-1, 4)])
def test_bad_sizes_are_refused(n, length):
    with pytest.raises(ValueError, match="must be a whole number of at least"):
        adding_problem(n, length, seed=0)


# The copy (memory) task -------------------------------------------------------------------------

from utils.data.synthetic import copy_memory  # noqa: E402 - added with chapter 4


def test_copy_memory_layout():
    symbols, delay, alphabet = 3, 5, 4
    x, y = copy_memory(6, symbols, delay, alphabet, seed=0)
    assert x.shape == (6, 2 * symbols + delay, alphabet + 2) and x.dtype == np.float32
    assert y.shape == (6, symbols) and y.dtype == np.int32
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)  # one-hot at every step
    codes = x.argmax(axis=-1)
    np.testing.assert_array_equal(codes[:, :symbols], y)
    assert y.min() >= 0 and y.max() < alphabet
    go = symbols + delay - 1
    np.testing.assert_array_equal(codes[:, go], alphabet + 1)
    blanks = np.delete(np.arange(2 * symbols + delay), [*range(symbols), go])
    np.testing.assert_array_equal(codes[:, blanks], alphabet)


def test_copy_memory_is_seeded():
    a, b, c = (copy_memory(5, 2, 3, 8, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_copy_memory_shortest_delay_puts_go_right_after_the_symbols():
    x, _ = copy_memory(2, 2, 1, 3, seed=0)
    np.testing.assert_array_equal(x.argmax(axis=-1)[:, 2:], [[4, 3, 3], [4, 3, 3]])


@pytest.mark.parametrize(
    ("args", "name"),
    [((0, 2, 3, 4), "n"), ((2, 0, 3, 4), "symbols"), ((2, 2, 0, 4), "delay"), ((2, 2, 3, 1), "alphabet"),
     ((2, 2.0, 3, 4), "symbols"), ((2, 2, True, 4), "delay")],
)
def test_copy_memory_refuses_bad_sizes(args, name):
    with pytest.raises(ValueError, match=f"{name} must be a whole number"):
        copy_memory(*args, seed=0)

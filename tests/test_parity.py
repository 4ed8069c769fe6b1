"""utils.checks.parity: largest differences and the parity log every chapter records its checks in."""

from __future__ import annotations

import numpy as np
import pytest

from utils.checks.parity import FLOAT32_EPSILON, ParityError, ParityLog, largest_difference, to_numpy


def test_largest_difference_is_the_largest_absolute_entry():
    assert largest_difference([1.0, 2.0, 3.0], [1.0, 2.5, 2.0]) == pytest.approx(1.0)
    assert largest_difference(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0


def test_largest_difference_of_empty_arrays_is_zero():
    assert largest_difference(np.zeros((0, 4)), np.zeros((0, 4))) == 0.0


def test_largest_difference_refuses_other_shapes():
    with pytest.raises(ValueError, match="different shapes"):
        largest_difference(np.zeros(3), np.zeros((3, 1)))


def test_nan_counts_as_an_infinite_difference():
    assert largest_difference([np.nan], [0.0]) == float("inf")


def test_to_numpy_reads_backend_tensors_and_refuses_text():
    import keras

    tensor = keras.ops.convert_to_tensor(np.arange(3, dtype="float32"))
    assert to_numpy(tensor).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match="cannot read"):
        to_numpy("abc")


def test_float32_epsilon():
    assert FLOAT32_EPSILON == pytest.approx(2.0 ** -23)


def test_log_records_prints_and_passes_within_tolerance(capsys):
    log = ParityLog(tolerance=1e-5)
    value = log.check("ours vs reference", [1.0, 2.0], [1.0, 2.0 + 1e-6])
    assert value == pytest.approx(1e-6)
    assert log["ours vs reference"] == value
    assert list(log) == ["ours vs reference"] and len(log) == 1
    assert "ours vs reference" in capsys.readouterr().out
    assert log.metrics() == {"max difference: ours vs reference": value}
    assert log.tolerances == {"ours vs reference": 1e-5}


def test_log_fails_above_tolerance_and_names_the_check():
    log = ParityLog(tolerance=1e-5)
    with pytest.raises(ParityError, match="cell vs layer"):
        log.check("cell vs layer", [0.0], [1e-3])


def test_a_check_may_have_its_own_tolerance():
    log = ParityLog(tolerance=1e-7)
    log.check("looser", [0.0], [1e-6], tolerance=1e-5)
    assert log.tolerances["looser"] == 1e-5
    log.record("relative", 2e-8)
    assert log.tolerances["relative"] == 1e-7


def test_nan_never_passes():
    with pytest.raises(ParityError):
        ParityLog(tolerance=1.0).record("nan", float("nan"))


@pytest.mark.parametrize("tolerance", [0, -1e-5, "1e-5", None])
def test_log_refuses_a_tolerance_that_is_not_positive(tolerance):
    with pytest.raises(ValueError, match="positive"):
        ParityLog(tolerance=tolerance)

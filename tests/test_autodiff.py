"""utils.training.autodiff: gradients on the active backend agree with closed forms.

Run this file once per backend (``KERAS_BACKEND=tensorflow``, ``jax``, ``torch``): each
run exercises the branch of :func:`utils.training.autodiff.value_and_grad` for that backend.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from utils.training import autodiff


def test_gradient_of_a_sum_of_squares_is_twice_the_input():
    x = np.array([1.0 / 3.0, -2.0, 0.5, 0.0])
    value, (grad,) = autodiff.value_and_grad(lambda t: ops.sum(t * t), x, dtype="float64")
    assert isinstance(value, float)
    assert value == pytest.approx(np.sum(x**2), rel=1e-15)
    assert grad.dtype == np.float64 and grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-15, atol=0)


def test_gradients_of_a_matrix_product_are_the_closed_forms():
    rng = np.random.default_rng(0)
    A, B, C = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    # f(A, B) = sum(C * (A @ B)): df/dA = C B^T, df/dB = A^T C. Default float32: rtol 1e-5.
    weights = ops.convert_to_tensor(C, dtype="float32")
    value, (dA, dB) = autodiff.value_and_grad(lambda a, b: ops.sum(weights * ops.matmul(a, b)), A, B)
    assert value == pytest.approx(np.sum(C * (A @ B)), rel=1e-5)
    assert dA.dtype == np.float32 and dA.shape == (3, 4) and dB.shape == (4, 2)
    np.testing.assert_allclose(dA, C @ B.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dB, A.T @ C, rtol=1e-5, atol=1e-6)


def test_gradient_through_tanh_is_one_minus_tanh_squared():
    x = np.linspace(-3.0, 3.0, 7).reshape(7, 1)
    _, (grad,) = autodiff.value_and_grad(lambda t: ops.sum(ops.tanh(t)), x)
    np.testing.assert_allclose(grad, 1.0 - np.tanh(x) ** 2, rtol=1e-5, atol=1e-7)


def test_a_loop_over_time_is_differentiated_through_every_step():
    # s_t = w * s_{t-1} + 1 with s_0 = 0 for 5 steps: s_5 = 1 + w + w^2 + w^3 + w^4.
    def last_state(w):
        s = 0.0 * w
        for _ in range(5):
            s = w * s + 1.0
        return s

    w = np.array(0.5)
    value, (grad,) = autodiff.value_and_grad(last_state, w, dtype="float64")
    assert value == pytest.approx(sum(0.5**k for k in range(5)), rel=1e-15)
    assert grad == pytest.approx(sum(k * 0.5 ** (k - 1) for k in range(1, 5)), rel=1e-14)


def test_float64_is_really_float64():
    tiny = np.array([1.0, 1e-12])
    value, (grad,) = autodiff.value_and_grad(lambda t: ops.sum(t), tiny, dtype="float64")
    assert value == 1.0 + 1e-12  # float32 would round this sum to exactly 1.0
    assert grad.dtype == np.float64
    value32, (grad32,) = autodiff.value_and_grad(lambda t: ops.sum(t), tiny)
    assert value32 == 1.0
    assert grad32.dtype == np.float32
    np.testing.assert_array_equal(grad32, np.ones(2, dtype=np.float32))


def test_an_input_the_function_ignores_gets_a_zero_gradient():
    x, unused = np.array([2.0, 3.0]), np.ones((2, 3))
    _, (dx, dunused) = autodiff.value_and_grad(lambda a, b: ops.sum(a * a), x, unused)
    np.testing.assert_allclose(dx, 2 * x)
    assert dunused.shape == (2, 3)
    np.testing.assert_array_equal(dunused, np.zeros((2, 3)))


def test_lists_are_accepted_as_arrays():
    _, (grad,) = autodiff.value_and_grad(lambda t: ops.sum(3.0 * t), [1.0, 2.0])
    np.testing.assert_array_equal(grad, [3.0, 3.0])


def test_a_function_that_does_not_return_a_scalar_is_refused():
    with pytest.raises(autodiff.AutodiffError, match="single number"):
        autodiff.value_and_grad(lambda t: t * 2.0, np.ones(3))


def test_unknown_dtype_and_no_arrays_are_refused():
    with pytest.raises(ValueError, match="dtype must be one of"):
        autodiff.value_and_grad(lambda t: ops.sum(t), np.ones(2), dtype="float16")
    with pytest.raises(ValueError, match="at least one array"):
        autodiff.value_and_grad(lambda: ops.zeros(()))


def test_a_value_narrower_than_asked_for_is_reported(monkeypatch):
    def computes_in_float32(fn, arrays, dtype):
        return np.float32(1.0), [np.ones_like(array) for array in arrays]

    monkeypatch.setitem(autodiff._BRANCHES, keras.backend.backend(), computes_in_float32)
    with pytest.warns(UserWarning, match="asked for float64, but Keras on .* computed the value in float32"):
        value, (grad,) = autodiff.value_and_grad(lambda t: ops.sum(t), np.ones(2), dtype="float64")
    assert value == 1.0 and grad.dtype == np.float64


def test_a_backend_without_autodiff_is_named(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(autodiff.AutodiffError, match="'numpy' has no automatic differentiation"):
        autodiff.value_and_grad(lambda t: ops.sum(t), np.ones(2))

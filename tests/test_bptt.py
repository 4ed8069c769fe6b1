"""utils.training.bptt: the NumPy BPTT agrees with finite differences, autodiff and Keras's SimpleRNN."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from utils.training import autodiff, bptt

B, T, N, D, K = 3, 7, 2, 4, 2


@pytest.fixture
def problem():
    params = bptt.init_params(N, D, K, seed=0)
    rng = np.random.default_rng(1)
    return params, rng.normal(size=(B, T, N)), rng.normal(size=(B, T, K))


def _keras_loss(x, y, boundary=None):
    """The loss of bptt.loss_and_gradients written with keras.ops (stop the gradient at chunk starts)."""
    def loss(U, W, b, V, c):
        s = ops.zeros((x.shape[0], D), dtype=U.dtype)
        total = 0.0
        for t in range(x.shape[1]):
            if boundary and t % boundary == 0:
                s = ops.stop_gradient(s)
            xt = ops.convert_to_tensor(x[:, t], dtype=U.dtype)
            s = ops.tanh(ops.matmul(xt, ops.transpose(U)) + ops.matmul(s, ops.transpose(W)) + b)
            out = ops.matmul(s, ops.transpose(V)) + c
            total = total + ops.mean(ops.square(out - ops.convert_to_tensor(y[:, t], dtype=U.dtype)))
        return total / x.shape[1]
    return loss


def _relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_forward_follows_the_recurrence(problem):
    params, x, _ = problem
    s0 = np.full((B, D), 0.3)
    states = bptt.forward(x, params["U"], params["W"], params["b"], s0=s0)
    assert states.shape == (B, T + 1, D)
    np.testing.assert_array_equal(states[:, 0], s0)
    expected = np.tanh(params["U"] @ x[1, 0] + params["W"] @ s0[1] + params["b"])
    np.testing.assert_allclose(states[1, 1], expected, rtol=1e-12)
    relu = bptt.forward(x, params["U"], params["W"], params["b"], activation="relu")
    assert relu.min() >= 0.0
    linear = bptt.forward(x[:, :1], params["U"], params["W"], params["b"], activation="identity")
    np.testing.assert_allclose(linear[:, 1], x[:, 0] @ params["U"].T + params["b"], rtol=1e-12)


def test_forward_refuses_wrong_shapes_and_unknown_activations(problem):
    params, x, _ = problem
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        bptt.forward(x[0], params["U"], params["W"], params["b"])
    with pytest.raises(ValueError, match="activation must be one of"):
        bptt.forward(x, params["U"], params["W"], params["b"], activation="sigmoid")


def test_forward_equals_keras_simple_rnn_with_copied_weights(problem):
    params, x, _ = problem
    layer = keras.layers.SimpleRNN(D, return_sequences=True)
    layer.build((None, T, N))
    layer.set_weights([params["U"].T, params["W"].T, params["b"]])  # kernel = U^T, recurrent = W^T
    got = ops.convert_to_numpy(layer(x.astype("float32")))
    expected = bptt.forward(x, params["U"], params["W"], params["b"])[:, 1:]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_loss_is_keras_mse(problem):
    params, x, y = problem
    loss, _ = bptt.loss_and_gradients(params, x, y)
    outputs = bptt.forward(x, params["U"], params["W"], params["b"])[:, 1:] @ params["V"].T + params["c"]
    keras_loss = float(keras.losses.MeanSquaredError()(y.astype("float32"), outputs.astype("float32")))
    assert loss == pytest.approx(keras_loss, rel=1e-5)


def test_gradients_equal_central_finite_differences(problem):
    params, x, y = problem
    _, grads = bptt.loss_and_gradients(params, x, y)
    eps = 1e-6
    for name in bptt.PARAMETERS:
        numeric = np.zeros_like(params[name])
        for index in np.ndindex(params[name].shape):
            shifted = {key: value.copy() for key, value in params.items()}
            shifted[name][index] += eps
            up = bptt.loss_and_gradients(shifted, x, y)[0]
            shifted[name][index] -= 2 * eps
            down = bptt.loss_and_gradients(shifted, x, y)[0]
            numeric[index] = (up - down) / (2 * eps)
        assert _relative(grads[name], numeric) < 1e-7, name


def test_gradients_equal_autodiff_on_the_active_backend(problem):
    params, x, y = problem
    loss, grads = bptt.loss_and_gradients(params, x, y)
    value, auto = autodiff.value_and_grad(_keras_loss(x, y), *(params[name] for name in bptt.PARAMETERS))
    assert value == pytest.approx(loss, rel=1e-5)
    for name, grad in zip(bptt.PARAMETERS, auto, strict=True):
        assert _relative(grad, grads[name]) < 1e-5, name


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_truncated_gradients_equal_autodiff_with_the_gradient_stopped_at_chunk_starts(problem, chunk):
    params, x, y = problem
    _, grads = bptt.loss_and_gradients(params, x, y, truncate=chunk)
    _, auto = autodiff.value_and_grad(_keras_loss(x, y, boundary=chunk), *(params[name] for name in bptt.PARAMETERS))
    for name, grad in zip(bptt.PARAMETERS, auto, strict=True):
        assert _relative(grad, grads[name]) < 1e-5, name


def test_truncation_at_or_beyond_the_length_is_full_bptt_and_zero_is_refused(problem):
    params, x, y = problem
    _, full = bptt.loss_and_gradients(params, x, y)
    for chunk in (T, T + 5):
        _, truncated = bptt.loss_and_gradients(params, x, y, truncate=chunk)
        for name in bptt.PARAMETERS:
            np.testing.assert_array_equal(truncated[name], full[name])
    _, one = bptt.loss_and_gradients(params, x, y, truncate=1)
    assert _relative(one["W"], full["W"]) > 1e-3  # truncation to one step loses something
    with pytest.raises(ValueError, match="positive number of steps"):
        bptt.loss_and_gradients(params, x, y, truncate=0)


def test_grad_w_of_one_sequence_equals_the_batched_gradient(problem):
    params, x, y = problem
    _, grads = bptt.loss_and_gradients(params, x[:1], y[:1])
    states = bptt.forward(x[:1], params["U"], params["W"], params["b"])[0]
    outputs = states[1:] @ params["V"].T + params["c"]
    direct = (2.0 * (outputs - y[0]) / (T * K)) @ params["V"]  # V^T dL/dy_t, one row per step
    np.testing.assert_allclose(bptt.grad_W(states, direct, params["W"]), grads["W"], rtol=1e-12, atol=1e-15)


def test_backward_step_on_a_batch_equals_it_row_by_row():
    rng = np.random.default_rng(2)
    grad_s, s, W = rng.normal(size=(5, 3)), rng.uniform(-1, 1, (5, 3)), rng.normal(size=(3, 3))
    batched = bptt.backward_step(grad_s, s, W)
    for row in range(5):
        np.testing.assert_allclose(batched[row], W.T @ ((1 - s[row] ** 2) * grad_s[row]), rtol=1e-12)


def test_clip_by_global_norm():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]
    assert bptt.global_norm(grads) == pytest.approx(5.0)
    clipped = bptt.clip_by_global_norm(grads, 1.0)
    assert bptt.global_norm(clipped) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped[0], [0.6, 0.0])
    unchanged = bptt.clip_by_global_norm(grads, 10.0)
    np.testing.assert_array_equal(unchanged[1], grads[1])
    assert unchanged[1] is not grads[1]
    zeros = bptt.clip_by_global_norm([np.zeros(3)], 1.0)
    np.testing.assert_array_equal(zeros[0], np.zeros(3))


def test_recurrent_matrices():
    assert bptt.spectral_radius(np.diag([0.5, -2.0, 1.0])) == pytest.approx(2.0)
    for radius in (0.5, 1.5):
        assert bptt.spectral_radius(bptt.random_recurrent(16, radius, seed=3)) == pytest.approx(radius)
    Q = bptt.orthogonal(8, seed=4)
    np.testing.assert_allclose(Q.T @ Q, np.eye(8), atol=1e-12)
    assert not np.allclose(Q, bptt.orthogonal(8, seed=5))


def test_jacobian_norms_of_a_linear_network_are_norms_of_powers_of_w():
    W = bptt.random_recurrent(6, 1.2, seed=6)
    rng = np.random.default_rng(7)
    U, x = rng.normal(size=(6, 2)), rng.normal(size=(9, 2))
    norms = bptt.jacobian_norms(W, U, np.zeros(6), x, activation="identity")
    expected = [np.linalg.norm(np.linalg.matrix_power(W, j), 2) for j in range(1, 10)]
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_jacobian_norms_of_tanh_equal_finite_differences():
    d, steps = 4, 6
    W = bptt.random_recurrent(d, 1.1, seed=8)
    rng = np.random.default_rng(9)
    U, b, x = rng.normal(size=(d, 2)), rng.normal(size=d) * 0.1, rng.normal(size=(steps, 2))

    def last_state(from_step, state):
        s = state
        for t in range(from_step, steps):
            s = np.tanh(U @ x[t] + W @ s + b)
        return s

    states = bptt.forward(x[None], U, W, b)[0]
    norms = bptt.jacobian_norms(W, U, b, x)
    for j in (1, 3, steps):
        k = steps - j  # d s_T / d s_k, with s_k = states[k]
        eps = 1e-6
        jacobian = np.stack([(last_state(k, states[k] + eps * e) - last_state(k, states[k] - eps * e)) / (2 * eps)
                             for e in np.eye(d)], axis=1)
        assert norms[j - 1] == pytest.approx(np.linalg.norm(jacobian, 2), rel=1e-6)


def test_relu_jacobian_drops_the_paths_of_inactive_units():
    W = np.eye(3)
    U = np.array([[1.0], [-1.0], [1.0]])
    x = np.ones((4, 1))  # units 0 and 2 stay on, unit 1 stays off
    norms = bptt.jacobian_norms(W, U, np.zeros(3), x, activation="relu")
    np.testing.assert_allclose(norms, np.ones(4))


def test_log_slope():
    distances = np.arange(1, 11)
    assert bptt.log_slope(distances, 10.0 ** (-0.3 * distances + 2)) == pytest.approx(-0.3)
    assert np.isfinite(bptt.log_slope(distances, np.zeros(10)))


def test_per_step_factor_of_exact_exponentials_and_of_several_sequences():
    j = np.arange(1, 13)
    assert bptt.per_step_factor(3.0 * 0.8**j) == pytest.approx(0.8, rel=1e-12)
    assert bptt.per_step_factor(0.01 * 1.3**j) == pytest.approx(1.3, rel=1e-12)
    assert bptt.per_step_factor(np.full(5, 2.5)) == pytest.approx(1.0, rel=1e-12)
    # Rows of different sizes and slopes: the fit of the mean log, i.e. the geometric mean of the row factors.
    rows = np.stack([5.0 * 0.9**j, 0.1 * 0.7**j])
    assert bptt.per_step_factor(rows) == pytest.approx(np.sqrt(0.9 * 0.7), rel=1e-12)
    assert bptt.per_step_factor(rows[:1]) == pytest.approx(bptt.per_step_factor(rows[0]), rel=1e-12)
    assert bptt.per_step_factor([0.9, 0.5]) == pytest.approx(0.5 / 0.9)


def test_per_step_factor_agrees_with_log_slope_on_measured_norms():
    W = bptt.random_recurrent(8, 0.9, seed=10)
    rng = np.random.default_rng(11)
    norms = bptt.jacobian_norms(W, rng.normal(0.0, 0.5, (8, 2)), np.zeros(8), rng.normal(size=(20, 2)))
    slope = bptt.log_slope(np.arange(1, 21), norms)
    assert bptt.per_step_factor(norms) == pytest.approx(10.0**slope, rel=1e-10)


def test_per_step_factor_refuses_zeros_and_too_few_distances():
    with pytest.raises(ValueError, match="positive and finite"):
        bptt.per_step_factor(np.array([1.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match="J >= 2"):
        bptt.per_step_factor(np.array([0.7]))
    with pytest.raises(ValueError, match="J >= 2"):
        bptt.per_step_factor(np.ones((2, 3, 4)))

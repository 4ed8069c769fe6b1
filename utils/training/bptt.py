"""Backpropagation through time for the simple RNN, in NumPy, and the tools of chapter 3.

The model, in the course's notation (one sequence, column vectors)::

    a_t = U x_t + W s_{t-1} + b        s_t = f(a_t)        y_t = V s_t + c

with ``U: d x n``, ``W: d x d``, ``b: d``, ``V: k x d``, ``c: k`` and ``f = tanh`` unless
said otherwise. Arrays here hold a batch of sequences as rows, ``x: (B, T, n)``, so the
products appear transposed (``x_t @ U.T``), exactly like Keras's ``kernel = U^T`` and
``recurrent_kernel = W^T``.

The functions are the references the chapter's exercises are checked against and the
implementations its narrative uses: one backward step, the BPTT gradient of ``W`` for one
sequence, the full loss and gradients (optionally truncated), clipping by the global
norm, the Jacobian product that makes gradients vanish or explode and the factor by which
its norm changes per step, and the recurrent matrices compared in the chapter (random with a
chosen spectral radius, orthogonal, identity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

PARAMETERS = ("U", "W", "b", "V", "c")
ACTIVATIONS = ("tanh", "relu", "identity")


def _activation(name: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f(a), f'(a))`` for one of :data:`ACTIVATIONS`."""
    if name == "tanh":
        s = np.tanh(a)
        return s, 1.0 - s**2
    if name == "relu":
        return np.maximum(a, 0.0), (a > 0).astype(a.dtype)
    if name == "identity":
        return a, np.ones_like(a)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}.")


def init_params(n: int, d: int, k: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Random float64 parameters ``U, W, b, V, c`` of a simple RNN (for checks and demos)."""
    rng = np.random.default_rng(seed)
    return {
        "U": rng.normal(0.0, scale, (d, n)),
        "W": rng.normal(0.0, scale / np.sqrt(d), (d, d)),
        "b": rng.normal(0.0, 0.1, d),
        "V": rng.normal(0.0, scale, (k, d)),
        "c": rng.normal(0.0, 0.1, k),
    }


def forward(
    x: np.ndarray, U: np.ndarray, W: np.ndarray, b: np.ndarray, s0: np.ndarray | None = None,
    activation: str = "tanh",
) -> np.ndarray:
    """States of a batch of sequences: ``x (B, T, n)`` -> ``states (B, T+1, d)``.

    ``states[:, 0]`` is the initial state ``s0`` (zeros unless given) and
    ``states[:, t]`` is ``s_t = f(U x_t + W s_{t-1} + b)`` for ``t = 1 .. T``.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, time, features), got {x.shape}.")
    batch, steps, _ = x.shape
    states = np.zeros((batch, steps + 1, W.shape[0]))
    if s0 is not None:
        states[:, 0] = s0
    for t in range(steps):
        states[:, t + 1] = _activation(activation, x[:, t] @ U.T + states[:, t] @ W.T + b)[0]
    return states


def backward_step(grad_s: np.ndarray, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The gradient that flows from ``s_t`` back to ``s_{t-1}`` through the recurrence.

    With ``g = dL/ds_t`` and ``s = s_t = tanh(a_t)``::

        dL/ds_{t-1} (through s_t) = W^T diag(1 - s_t^2) g = W^T ((1 - s^2) * g)

    ``grad_s`` and ``s`` have shape ``(d,)`` (or ``(B, d)``, one row per sequence).
    """
    return ((1.0 - s**2) * grad_s) @ W


def grad_W(states: np.ndarray, direct: np.ndarray, W: np.ndarray) -> np.ndarray:
    """BPTT gradient ``dL/dW`` of one sequence of a tanh RNN.

    ``states (T+1, d)`` holds ``s_0 .. s_T``; ``direct (T, d)`` holds, for ``t = 1 .. T``,
    the gradient of the loss with respect to ``s_t`` through the output at step ``t`` only
    (``V^T dL/dy_t``). Going backwards, ``g_t = direct_t + W^T delta_{t+1}``,
    ``delta_t = (1 - s_t^2) * g_t`` and ``dL/dW = sum_t delta_t s_{t-1}^T``.
    """
    steps = direct.shape[0]
    dW = np.zeros_like(W, dtype=float)
    carry = np.zeros(W.shape[0])
    for t in range(steps, 0, -1):
        g = direct[t - 1] + carry
        delta = (1.0 - states[t] ** 2) * g
        dW += np.outer(delta, states[t - 1])
        carry = delta @ W
    return dW


def loss_and_gradients(
    params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, truncate: int | None = None
) -> tuple[float, dict[str, np.ndarray]]:
    """Mean squared error of a tanh RNN over every step of a batch, and its gradients.

    ``x (B, T, n)``, ``y (B, T, k)``; the loss is ``L = mean over b, t, j of
    (y_hat - y)^2``, the same as Keras's ``"mse"`` on ``(B, T, k)`` outputs. Returns
    ``(L, grads)`` with one gradient per name in :data:`PARAMETERS`.

    With ``truncate=k`` the sequence is cut into chunks of ``k`` steps (the last one may be
    shorter); the state is carried from chunk to chunk but the gradient is not, as in
    truncated BPTT with a stateful layer. ``truncate=None`` (or ``>= T``) is full BPTT.
    """
    if truncate is not None and truncate < 1:
        raise ValueError(f"truncate must be a positive number of steps or None, got {truncate}.")
    U, W, b, V, c = (np.asarray(params[name], dtype=float) for name in PARAMETERS)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    batch, steps, _ = x.shape
    states = forward(x, U, W, b)
    outputs = states[:, 1:] @ V.T + c
    loss = float(np.mean((outputs - y) ** 2))
    errors = 2.0 * (outputs - y) / (batch * steps * y.shape[-1])  # dL/dy_t, (B, T, k)
    grads = {name: np.zeros_like(value) for name, value in zip(PARAMETERS, (U, W, b, V, c), strict=True)}
    grads["V"] = np.einsum("btk,btd->kd", errors, states[:, 1:])
    grads["c"] = errors.sum(axis=(0, 1))
    carry = np.zeros((batch, W.shape[0]))
    for t in range(steps, 0, -1):
        g = errors[:, t - 1] @ V + carry
        delta = (1.0 - states[:, t] ** 2) * g
        grads["W"] += delta.T @ states[:, t - 1]
        grads["U"] += delta.T @ x[:, t - 1]
        grads["b"] += delta.sum(axis=0)
        carry = delta @ W
        if truncate is not None and (t - 1) % truncate == 0:
            carry = np.zeros_like(carry)  # step t opens a chunk: no gradient into the previous one
    return loss, grads


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """The norm of all gradients taken together: ``sqrt(sum of every squared entry)``."""
    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))


def clip_by_global_norm(grads: Sequence[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Scale every gradient by ``min(1, max_norm / global_norm)``; new arrays, same direction."""
    total = global_norm(grads)
    scale = max_norm / total if total > max_norm else 1.0
    return [np.asarray(g, dtype=float) * scale for g in grads]


def spectral_radius(W: np.ndarray) -> float:
    """The largest absolute eigenvalue of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def random_recurrent(d: int, radius: float, seed: int) -> np.ndarray:
    """A Gaussian ``d x d`` matrix rescaled to spectral radius ``radius``."""
    G = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(d), (d, d))
    return G * (radius / spectral_radius(G))


def orthogonal(d: int, seed: int) -> np.ndarray:
    """A random orthogonal ``d x d`` matrix (QR of a Gaussian one, signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def jacobian_norms(
    W: np.ndarray, U: np.ndarray, b: np.ndarray, x: np.ndarray, activation: str = "tanh"
) -> np.ndarray:
    """Spectral norms ``||ds_T / ds_{T-j}||`` for ``j = 1 .. T`` along one sequence ``x (T, n)``.

    ``ds_T/ds_{T-j} = D_T W D_{T-1} W ... D_{T-j+1} W`` with ``D_t = diag(f'(a_t))``,
    accumulated from the end of the sequence backwards.
    """
    x = np.asarray(x, dtype=float)
    steps, d = x.shape[0], W.shape[0]
    derivatives = np.zeros((steps, d))
    s = np.zeros(d)
    for t in range(steps):
        s, derivatives[t] = _activation(activation, U @ x[t] + W @ s + b)
    norms = np.zeros(steps)
    product = np.eye(d)
    for j in range(1, steps + 1):
        product = product @ (derivatives[steps - j][:, None] * W)
        norms[j - 1] = np.linalg.norm(product, 2)
    return norms


def log_slope(distances: np.ndarray, norms: np.ndarray) -> float:
    """Least-squares slope of ``log10(norms)`` against ``distances``: decades per step."""
    logs = np.log10(np.maximum(np.asarray(norms, dtype=float), np.finfo(float).tiny))
    return float(np.polyfit(np.asarray(distances, dtype=float), logs, 1)[0])


def per_step_factor(norms: np.ndarray) -> float:
    """The factor by which Jacobian norms change per step back in time (exercise 3.4's reference).

    ``norms`` holds ``||ds_T / ds_{T-j}||`` for the distances ``j = 1 .. J`` (as
    :func:`jacobian_norms` returns them): shape ``(J,)`` for one sequence, or ``(R, J)`` for
    ``R`` sequences, one per row. Fits a straight line to ``ln(norm)`` against ``j`` by least
    squares (for several sequences, to the mean of ``ln(norm)`` over the rows at each distance,
    which is the same as fitting all ``R * J`` points) and returns ``exp(slope)``: below 1 the
    gradient vanishes, above 1 it explodes. Every norm must be positive and ``J >= 2``.
    """
    norms = np.asarray(norms, dtype=float)
    if norms.ndim not in (1, 2) or norms.shape[-1] < 2 or norms.size == 0:
        raise ValueError(f"norms must have shape (J,) or (R, J) with J >= 2 distances, got {norms.shape}.")
    if not np.all(np.isfinite(norms)) or np.any(norms <= 0):
        raise ValueError("every norm must be positive and finite: clip zeros first, "
                         "e.g. np.maximum(norms, 1e-300).")
    logs = np.log(norms).reshape(-1, norms.shape[-1]).mean(axis=0)
    distances = np.arange(1, logs.size + 1, dtype=float)
    return float(np.exp(np.polyfit(distances, logs, 1)[0]))

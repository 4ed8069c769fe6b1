"""Automatic differentiation with whichever Keras backend is active, behind one function.

Keras 3 has no backend-independent "gradient of this function" call: TensorFlow uses
``tf.GradientTape``, JAX ``jax.value_and_grad`` and PyTorch ``torch.autograd``. A lesson
that checks a hand-written gradient against autodiff calls :func:`value_and_grad`, which
dispatches on ``keras.backend.backend()``; the function being differentiated is written
with ``keras.ops`` only, so the notebook stays backend-agnostic. This is the one module of
the course that imports a backend package, and it does so lazily, inside the branch.

The arrays become float32 tensors by default, Keras's working precision on every backend.
``dtype="float64"`` is honoured throughout on TensorFlow; on JAX (whose 64-bit switch is
turned on for the duration of the call) and on PyTorch, Keras caps the result type of some
operations at 32 bits whatever the inputs (``keras.ops.tanh`` on JAX, ``keras.ops.matmul``
on PyTorch, in Keras 3.15), so a float64 request can silently compute in float32 there.
:func:`value_and_grad` warns when the value comes back in a narrower type than requested.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

DTYPES = ("float32", "float64")


class AutodiffError(RuntimeError):
    """The function cannot be differentiated as asked (wrong output, unsupported backend)."""


def _scalar_output(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its output checked to be a single number and reshaped to a scalar."""

    def wrapped(*tensors: Any) -> Any:
        value = fn(*tensors)
        shape = tuple(getattr(value, "shape", ()))
        if int(np.prod(shape)) != 1:
            raise AutodiffError(
                f"the function must return a single number (a scalar loss), got shape {shape}: "
                "reduce it, e.g. with keras.ops.mean or keras.ops.sum."
            )
        return keras.ops.reshape(value, ())

    return wrapped


def _to_numpy(value: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def _tensorflow(fn: Callable[..., Any], arrays: Sequence[np.ndarray], dtype: str):
    # Covered by tests/test_autodiff.py when KERAS_BACKEND=tensorflow (the default).
    import tensorflow as tf

    tensors = [tf.constant(array, dtype=dtype) for array in arrays]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        value = fn(*tensors)
    grads = tape.gradient(value, tensors, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return _to_numpy(value), [np.asarray(grad) for grad in grads]


def _jax(fn: Callable[..., Any], arrays: Sequence[np.ndarray], dtype: str):
    # Covered by tests/test_autodiff.py when KERAS_BACKEND=jax.
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(dtype == "float64"):
        tensors = [jnp.asarray(array, dtype=dtype) for array in arrays]
        value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(tensors))))(*tensors)
        return _to_numpy(value), [np.asarray(grad) for grad in grads]


def _torch(fn: Callable[..., Any], arrays: Sequence[np.ndarray], dtype: str):
    # Covered by tests/test_autodiff.py when KERAS_BACKEND=torch.
    import torch

    tensors = [
        keras.ops.convert_to_tensor(array, dtype=dtype).detach().clone().requires_grad_(True)
        for array in arrays
    ]
    value = fn(*tensors)
    grads = torch.autograd.grad(value, tensors, allow_unused=True)
    return value.detach().cpu().numpy(), [
        np.zeros(array.shape, dtype=dtype) if grad is None else grad.detach().cpu().numpy()
        for array, grad in zip(arrays, grads, strict=True)
    ]


_BRANCHES = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}


def value_and_grad(
    fn: Callable[..., Any], *arrays: np.ndarray, dtype: str = "float32"
) -> tuple[float, list[np.ndarray]]:
    """Value of ``fn(*arrays)`` and its gradient with respect to every array, by autodiff.

    ``fn`` takes one backend tensor per array, is written with ``keras.ops`` and returns a
    scalar. Returns ``(value, grads)`` with ``value`` a Python float and ``grads`` a list of
    NumPy arrays of ``dtype``, one per input array and of its shape (zeros where ``fn`` does
    not depend on that input). ``dtype`` is ``"float32"`` (the default) or ``"float64"``
    (see the module's note on float64 with JAX and PyTorch).
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}.")
    if not arrays:
        raise ValueError("give at least one array to differentiate with respect to.")
    backend = keras.backend.backend()
    if backend not in _BRANCHES:
        raise AutodiffError(
            f"the Keras backend {backend!r} has no automatic differentiation; set KERAS_BACKEND "
            f"to one of {sorted(_BRANCHES)} before starting Python."
        )
    inputs = [np.asarray(array, dtype=dtype) for array in arrays]
    value, grads = _BRANCHES[backend](_scalar_output(fn), inputs, dtype)
    if np.finfo(value.dtype).bits < np.finfo(dtype).bits:
        warnings.warn(
            f"asked for {dtype}, but Keras on {backend} computed the value in {value.dtype}: "
            "the gradients carry that precision.",
            stacklevel=2,
        )
    return float(value), [
        np.asarray(grad, dtype=dtype).reshape(array.shape) for grad, array in zip(grads, inputs, strict=True)
    ]

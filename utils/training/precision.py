"""Float32 that means float32: no TensorFloat-32 matrix products on GPUs.

On NVIDIA GPUs from Ampere on, the backends may compute float32 matrix products and
convolutions in TensorFloat-32 (TF32), which keeps only 10 bits of the mantissa: results
then differ from exact float32 by about 1e-3, and the course's parity checks (a cell written
by hand against Keras's layer, at most 1e-5 apart) would fail for that reason alone. JAX does
so by default on GPUs, PyTorch's cuDNN recurrent kernels do, TensorFlow does for
matrix products. :func:`use_full_float32` turns TF32 off for the active backend, so a
notebook computes the same numbers on a GPU as on a CPU up to float32 rounding. On a CPU it
changes nothing. Like :mod:`utils.training.autodiff`, it imports the backend package lazily, inside
the branch, and only the one that is active.

The price is speed on the GPU's tensor cores, which the course's small models barely use;
a learner who wants TF32 back can call ``use_full_float32(False)``.
"""

from __future__ import annotations

import keras


def use_full_float32(enabled: bool = True) -> str:
    """Turn TF32 off (``enabled=True``) or back on for the active backend; returns the backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest" if enabled else None)
    elif backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = not enabled
        torch.backends.cudnn.allow_tf32 = not enabled
    elif backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(not enabled)
    return backend

"""Data-parallel training with Keras's distribution API, and a CPU split into virtual devices (chapter 10).

``keras.distribution.DataParallel`` copies the model's weights to every device of a mesh, cuts each
batch into one equal slice per device, computes each slice's gradients where it lies, and averages
them (an all-reduce) before the one optimiser step that every copy takes. The model and ``fit`` are
unchanged: the distribution is set around them. In Keras 3.15 the API runs on JAX only.

On a laptop there is one CPU device. XLA can present the CPU as several devices
(``--xla_force_host_platform_device_count``), which is what :func:`split_cpu` asks for; JAX reads that
flag once, when it first computes, so the call must come before anything runs on JAX (the first cell
of a notebook, before ``course.setup``). The same code runs on several GPUs unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

_FLAG = "--xla_force_host_platform_device_count"


def _jax_started() -> bool:
    """Whether JAX has already picked its devices (then the flag is read and fixed)."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge  # noqa: PLC0415  (JAX's own record of its started backends)
    except ImportError:  # pragma: no cover - a JAX without this module: assume it started
        return True
    return bool(getattr(xla_bridge, "_backends", {}))


def split_cpu(devices: int, environ: dict[str, str] | None = None) -> bool:
    """Ask XLA to show the CPU as ``devices`` devices (on JAX; other backends ignore the flag).

    Returns whether the request can still take effect: False when JAX has already started (then the
    number of devices is whatever it was). A count the user already set in ``XLA_FLAGS`` is kept.
    """
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"the number of devices must be a whole number of at least 1; got {devices!r}.")
    environ = os.environ if environ is None else environ
    flags = environ.get("XLA_FLAGS", "")
    if _FLAG not in flags:
        environ["XLA_FLAGS"] = f"{flags} {_FLAG}={devices}".strip()
    return environ is not os.environ or not _jax_started()


def check_batch(batch: int, devices: int) -> int:
    """The slice of a batch each device gets; a ValueError when ``devices`` does not divide ``batch``."""
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"the number of devices must be a whole number of at least 1; got {devices!r}.")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"the batch size must be a whole number of at least 1; got {batch!r}.")
    if batch % devices:
        raise ValueError(f"a batch of {batch} does not split evenly over {devices} devices (each gets an equal "
                         f"slice): use a batch that is a multiple of {devices}, such as "
                         f"{devices * max(1, round(batch / devices))}.")
    return batch // devices


def why_not(backend: str | None = None, devices: int | None = None, wanted: int = 2) -> str | None:
    """``None`` when data-parallel training can run here, or a sentence that says why it cannot."""
    backend = backend or keras.backend.backend()
    if backend != "jax":
        return (f"Keras's distribution API (keras.distribution.DataParallel) runs on JAX only in Keras "
                f"{keras.__version__}; on {backend} the equivalent is the backend's own tool "
                "(tf.distribute.MirroredStrategy on TensorFlow, torch.nn.parallel.DistributedDataParallel "
                "on PyTorch), so this section is skipped here. Run it with KERAS_BACKEND=jax.")
    devices = len(keras.distribution.list_devices()) if devices is None else devices
    if devices < wanted:
        return (f"JAX sees {devices} device(s), fewer than the {wanted} this needs: the CPU is split into virtual "
                "devices only when split_cpu() runs before JAX first computes (restart the kernel and run the "
                "notebook from the top).")
    return None


def data_parallel(devices: int | None = None) -> keras.distribution.DataParallel:
    """A ``DataParallel`` distribution over the first ``devices`` devices (all of them by default),
    on a one-axis mesh named ``"batch"``."""
    found = keras.distribution.list_devices()
    devices = len(found) if devices is None else devices
    if isinstance(devices, bool) or not isinstance(devices, int) or not 1 <= devices <= len(found):
        raise ValueError(f"asked for {devices!r} devices; this machine shows {len(found)}: {found}.")
    mesh = keras.distribution.DeviceMesh(shape=(devices,), axis_names=["batch"], devices=found[:devices])
    return keras.distribution.DataParallel(device_mesh=mesh)


class StepLosses(keras.callbacks.Callback):
    """Records the loss Keras reports after every training step (the running mean over the epoch)."""

    def __init__(self) -> None:
        super().__init__()
        self.losses: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.losses.append(float((logs or {})["loss"]))


def train_losses(build: Callable[[], keras.Model], x: Any, y: Any, batch: int, epochs: int = 1,
                 distribution: keras.distribution.DataParallel | None = None,
                 weights: Sequence[np.ndarray] | None = None) -> tuple[list[float], keras.Model]:
    """Build, compile (inside ``build``) and train a model on ``(x, y)`` in order (no shuffling), within
    ``distribution``'s scope when given; returns the loss after every step and the model.

    ``weights`` (for example the single-device model's first weights) are set before training, so two
    runs start from the same point; with a distribution the batch must split evenly over its devices.
    """
    if distribution is not None:
        check_batch(batch, int(np.prod(distribution.device_mesh.shape)))
    record = StepLosses()
    if distribution is None:
        model = build()
    else:
        with distribution.scope():
            model = build()
    if weights is not None:
        model.set_weights(weights)
    if distribution is None:
        model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[record])
    else:
        with distribution.scope():
            model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[record])
    return record.losses, model

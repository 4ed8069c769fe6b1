"""Which device a run computed on, and the names that results and timings carry for it.

A figure measured on a GPU is not a figure measured on a CPU: wall times differ by orders of
magnitude and float32 results by rounding. :func:`accelerator` names the device the active Keras
backend computes on ("cpu", or the GPU's name such as "NVIDIA H100 80GB HBM3"), found from where
Keras puts a new tensor, so that it is the device Keras really uses (Keras's PyTorch backend, for
one, takes a CUDA device whenever PyTorch sees one). :func:`machine` describes the machine for a
results or timings file, and :func:`device_slug` turns a device's name into the part of a file
name that keeps a GPU's results apart from the CPU's.

Like :mod:`utils.training.precision`, it imports Keras and the backend package lazily, and only
the active one, so the course tools can use :func:`machine` and :func:`device_slug` without
starting a backend.
"""

from __future__ import annotations

import os
import platform
import re
import sys

CPU = "cpu"


def accelerator() -> str:
    """``"cpu"``, or the name of the accelerator the active Keras backend computes on."""
    import keras

    backend = keras.backend.backend()
    probe = keras.ops.zeros(())  # placed where Keras places every tensor it makes
    if backend == "jax":
        device = next(iter(probe.devices()))
        return CPU if device.platform == "cpu" else str(device.device_kind)
    if backend == "torch":
        import torch

        if probe.device.type == "cuda":
            return str(torch.cuda.get_device_name(probe.device))
        return CPU if probe.device.type == "cpu" else probe.device.type  # "mps" on Apple silicon
    if backend == "tensorflow":
        import tensorflow as tf

        spec = tf.DeviceSpec.from_string(probe.device)
        if spec.device_type != "GPU":
            return CPU
        gpu = tf.config.list_physical_devices("GPU")[spec.device_index or 0]
        return str(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name))
    return CPU  # Keras's NumPy and OpenVINO backends compute on the CPU


def accelerator_used() -> str:
    """What this process computed on: :func:`accelerator` once Keras has been imported, else the CPU.

    The course tools ask a notebook's kernel this after its last cell: a notebook that never
    imported Keras computed with NumPy, on the CPU, and asking does not start a backend for it.
    """
    return accelerator() if "keras" in sys.modules else CPU


def machine(device: str = CPU) -> str:
    """The machine a run was made on, as results and timings files record it: system, CPUs, and
    the accelerator when the run computed on one (``device`` as :func:`accelerator` names it)."""
    described = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    return described if device == CPU else f"{described}, {device}"


def device_slug(device: str) -> str:
    """A device's name as part of a file name: ``"NVIDIA H100 80GB HBM3"`` -> ``"nvidia-h100-80gb-hbm3"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")
    if not slug:
        raise ValueError(f"device name {device!r} has no letter or digit to name a file by: "
                         "pass the name accelerator() returns, such as 'NVIDIA H100 80GB HBM3'.")
    return slug

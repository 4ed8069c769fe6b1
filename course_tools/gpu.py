"""Refuse to run the GPU suite where the Keras backend does not compute on a GPU.

    KERAS_BACKEND=torch python -m course_tools.gpu      # exit 0 and the GPU's name, or 1 and why not

``make test-gpu`` runs this for JAX and for PyTorch before anything else: without it, a machine
whose backend quietly falls back to the CPU (a CPU build of PyTorch, JAX without its CUDA plugin,
a driver too old for CUDA 13) would run the whole suite on the CPU and pass, and its results would
be the CPU's. The device is the one Keras computes on (:func:`utils.training.device.accelerator`);
the message says what to install or check for the backend at hand.
"""

from __future__ import annotations

import argparse
import os
import sys

from utils.course import jax_plugins
from utils.training.device import CPU, accelerator


class NoGPUError(RuntimeError):
    """The active backend computes on the CPU: the message says why, as far as can be told, and what to do."""


def _why_not(backend: str) -> str:
    """What keeps ``backend`` off the GPU, as far as the installed packages tell."""
    if backend == "torch":
        import torch

        if torch.version.cuda is None:
            return (f"this PyTorch ({torch.__version__}) is a CPU build. Install PyPI's CUDA build of the "
                    "pinned release: .venv/bin/pip install 'torch===2.13.0' (=== asks for exactly 2.13.0, "
                    "which a local CPU build, 2.13.0+cpu, is not; see the README's GPU section).")
        return (f"this PyTorch is a CUDA {torch.version.cuda} build but sees no GPU "
                "(torch.cuda.is_available() is False): check that `nvidia-smi` lists one and that the "
                f"NVIDIA driver supports CUDA {torch.version.cuda.split('.')[0]} (CUDA 13 needs driver 580 "
                "or newer), and that CUDA_VISIBLE_DEVICES does not hide it.")
    if backend == "jax":
        import jax

        if os.environ.get("JAX_PLATFORMS"):
            return f"JAX_PLATFORMS={os.environ['JAX_PLATFORMS']} is set: unset it to let JAX take the GPU."
        plugins = jax_plugins()
        if not plugins:
            return ("JAX has no GPU plugin installed. Install the CUDA 13 plugin that matches this jax: "
                    f".venv/bin/pip install 'jax[cuda13]=={jax.__version__}'.")
        return (f"JAX's plugins ({', '.join(plugins)}) are installed but JAX found no GPU: check that "
                "`nvidia-smi` lists one and that the NVIDIA driver supports CUDA 13 (driver 580 or newer).")
    return f"the {backend} backend is not part of the GPU suite: use KERAS_BACKEND=jax or torch."


def check() -> str:
    """The GPU the active Keras backend computes on; :class:`NoGPUError` where it computes on the CPU."""
    import keras

    backend = keras.backend.backend()
    device = accelerator()
    if device == CPU:
        raise NoGPUError(f"KERAS_BACKEND={backend} computes on the CPU, not on a GPU: {_why_not(backend)}")
    return device


def main(argv: list[str] | None = None) -> int:
    """Command line: exit 0 and name the GPU, or exit 1 and say why there is none."""
    parser = argparse.ArgumentParser(description="Check that the Keras backend computes on a GPU.")
    parser.parse_args(argv)
    try:
        device = check()
    except NoGPUError as error:
        print(f"make test-gpu: {error}", file=sys.stderr)
        return 1
    import keras

    print(f"KERAS_BACKEND={keras.backend.backend()} computes on {device}.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`make test-gpu` and its first step, course_tools.gpu: the GPU suite refuses to run where a backend
would compute on the CPU, and says what to install or check."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import keras
import pytest

from course_tools import gpu

REPO = Path(__file__).resolve().parent.parent
H100 = "NVIDIA H100 80GB HBM3"


def test_the_makefile_has_the_gpu_suite():
    """`make -n test-gpu` prints the recipe: the check first, then the tests on JAX and PyTorch."""
    def make(*args: str) -> str:
        return subprocess.run(["make", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout

    recipe = make("-n", "test-gpu")
    assert "make test-gpu" in make("help")
    check = recipe.index("-m course_tools.gpu || exit 1")
    assert "for backend in jax torch; do" in recipe[:check]
    after = recipe[check:]
    assert "-m pytest -q -p no:cacheprovider tests/test_autodiff.py" in after  # BACKEND_TESTS
    assert "COURSE_MODE=quick" in after
    assert "--nbval-lax --nbval-current-env -p no:cacheprovider solutions" in after
    assert "course_tools.execution --mode full --backend $backend --force solutions/09_*.ipynb" in after
    assert "--record-timings build/executed/full-$backend/09_*.ipynb" in after
    assert "solutions/04_*.ipynb" in make("-n", "test-gpu", "GPU_CHAPTER=04")


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_check_refuses_a_machine_where_the_backend_computes_on_the_cpu(backend):
    """Run as `make test-gpu` runs it, with the GPU hidden, so that it is a CPU-only machine anywhere."""
    env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-m", "course_tools.gpu"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert f"make test-gpu: KERAS_BACKEND={backend} computes on the CPU, not on a GPU: " in done.stderr
    assert done.stdout == ""


def test_the_check_names_the_gpu_where_there_is_one(monkeypatch, capsys):
    monkeypatch.setattr(gpu, "accelerator", lambda: H100)
    assert gpu.check() == H100
    assert gpu.main([]) == 0
    assert capsys.readouterr().out == f"KERAS_BACKEND={keras.backend.backend()} computes on {H100}.\n"


def test_the_check_fails_with_a_sentence_on_the_cpu(monkeypatch, capsys):
    monkeypatch.setattr(gpu, "accelerator", lambda: "cpu")
    monkeypatch.setattr(gpu, "_why_not", lambda backend: "a reason.")
    with pytest.raises(gpu.NoGPUError, match=r"computes on the CPU, not on a GPU: a reason\.$"):
        gpu.check()
    assert gpu.main([]) == 1
    backend = keras.backend.backend()
    assert capsys.readouterr().err.startswith(f"make test-gpu: KERAS_BACKEND={backend} computes")


def test_pytorch_why_not_tells_a_cpu_build_from_a_cuda_build_without_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch, "version", types.SimpleNamespace(cuda=None))
    message = gpu._why_not("torch")
    assert "is a CPU build" in message and "pip install 'torch===2.13.0'" in message
    monkeypatch.setattr(torch, "version", types.SimpleNamespace(cuda="13.0"))
    message = gpu._why_not("torch")
    assert "a CUDA 13.0 build but sees no GPU" in message and "supports CUDA 13" in message


def test_jax_why_not_names_the_plugin_to_install_or_the_setting_in_the_way(monkeypatch):
    import jax

    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    assert gpu._why_not("jax") == "JAX_PLATFORMS=cpu is set: unset it to let JAX take the GPU."
    monkeypatch.delenv("JAX_PLATFORMS")
    monkeypatch.setattr(gpu, "jax_plugins", lambda: [])
    assert f"pip install 'jax[cuda13]=={jax.__version__}'" in gpu._why_not("jax")
    monkeypatch.setattr(gpu, "jax_plugins", lambda: ["xla_cuda13"])
    assert "plugins (xla_cuda13) are installed but JAX found no GPU" in gpu._why_not("jax")
    assert "not part of the GPU suite" in gpu._why_not("tensorflow")

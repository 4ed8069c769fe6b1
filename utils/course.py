"""Start a chapter notebook: one call seeds everything and applies the plot style.

Every notebook begins with::

    from utils import course
    session = course.setup(chapter=1)

The returned :class:`Session` knows the backend, the mode and when the notebook
started, so the results file at the end can record the wall time.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import pkgutil
import platform
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Quieten TensorFlow's C++ start-up chatter before Keras imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# JAX on a GPU takes 75 % of the GPU's memory for itself when it first computes, whatever it needs:
# a second process (two notebooks open in JupyterLab, or the grader beside a notebook) then finds the
# GPU nearly full and fails with out-of-memory errors. The course's models need a few hundred MiB, so
# JAX allocates as it goes instead. Set before Keras imports JAX (JAX reads it when it first computes);
# a value the user set is kept. It changes nothing on a CPU.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

# Quick mode on JAX: compile for speed of compiling. A quick-mode notebook on JAX spends most of its
# time compiling (every eager operation on a new shape, every training step), not running. Two XLA
# flags cut that: LLVM's optimisations off, and XLA's older loop emitters instead of its fusion
# emitters (an eager multiply on a new shape compiled in about 22 ms instead of 48 ms). On the 2-core
# machine chapter 9 ran in 101 s with neither, 66 s with the first and 51 s with both, every check
# passing. Full mode keeps XLA's defaults, since there the compiled code runs for minutes. XLA stops
# the process on a flag it does not know, so a flag that newer XLA releases might drop is only added
# on the jaxlib releases it was checked on. XLA reads the flags when JAX first computes, so they are
# set here, before Keras imports JAX; a flag the user set (by name, whatever its value) is kept. They
# were measured on a CPU (the second one is a CPU flag by name) and are not added where JAX will
# compute on a GPU: that is decided without importing JAX (see jax_computes_on_cpu).
QUICK_JAX_XLA_FLAGS: dict[str, tuple[tuple[int, int], ...] | None] = {
    "--xla_backend_optimization_level=0": None,              # every release
    "--xla_cpu_use_fusion_emitters=false": ((0, 10),),       # checked on jaxlib 0.10
}


def _jaxlib_release() -> tuple[int, int] | None:
    """The installed jaxlib's (major, minor), read without importing it; ``None`` if not installed."""
    try:
        major, minor = importlib.metadata.version("jaxlib").split(".")[:2]
        return int(major), int(minor)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def jax_plugins() -> list[str]:
    """The accelerator plugins JAX will load (such as ``xla_cuda13`` of ``jax[cuda13]``), found as JAX
    finds them, by the ``jax_plugins`` entry points and namespace package, without importing JAX."""
    names = {entry.name for entry in importlib.metadata.entry_points(group="jax_plugins")}
    spec = importlib.util.find_spec("jax_plugins")
    if spec is not None and spec.submodule_search_locations:
        names.update(module.name for module in pkgutil.iter_modules(spec.submodule_search_locations))
    return sorted(names)


def jax_computes_on_cpu(environ: Mapping[str, str], plugins: Sequence[str] | None = None) -> bool:
    """Whether JAX will compute on the CPU, decided without importing it.

    ``JAX_PLATFORMS`` decides where set (its first platform is the one JAX uses); otherwise JAX
    takes a GPU when an accelerator plugin is installed (``plugins``, by default the installed
    ones). With a plugin but no GPU, JAX falls back to the CPU: then this says "not the CPU", and
    quick mode only compiles a little slower.
    """
    platforms = [name.strip().lower() for name in environ.get("JAX_PLATFORMS", "").split(",") if name.strip()]
    if platforms:
        return platforms[0] == "cpu"
    return not (plugins if plugins is not None else jax_plugins())


def xla_flags_for(environ: Mapping[str, str], jaxlib: tuple[int, int] | None = None,
                  plugins: Sequence[str] | None = None) -> str:
    """``XLA_FLAGS`` as the course runs it: with :data:`QUICK_JAX_XLA_FLAGS` added in quick mode on JAX
    on the CPU (never where JAX will compute on a GPU: :func:`jax_computes_on_cpu`).

    ``jaxlib`` is the jaxlib release (major, minor) that decides which flags are safe to add, and
    ``plugins`` the JAX accelerator plugins installed; by default the installed ones.
    """
    flags = environ.get("XLA_FLAGS", "")
    if environ.get("KERAS_BACKEND") != "jax" or environ.get("COURSE_MODE", "").strip().lower() != "quick":
        return flags
    if not jax_computes_on_cpu(environ, plugins):
        return flags
    jaxlib = jaxlib if jaxlib is not None else _jaxlib_release()
    for flag, releases in QUICK_JAX_XLA_FLAGS.items():
        name = flag.split("=")[0]
        if name not in flags and (releases is None or jaxlib in releases):
            flags = f"{flags} {flag}".strip()
    return flags


if xla_flags_for(os.environ):
    os.environ["XLA_FLAGS"] = xla_flags_for(os.environ)


# TensorFlow's C++ libraries log while they load, before TF_CPP_MIN_LOG_LEVEL is read: absl's notice
# that "All log messages before absl::InitializeLog() is called are written to STDERR" and an INFO line
# that oneDNN is on, each twice (two of TensorFlow's libraries log them), shown in pink above the first
# cell's output. The only setting that reaches them, TF_ENABLE_ONEDNN_OPTS=0, would change TensorFlow's
# kernels. Keras imports TensorFlow on every backend where it is installed (keras.utils.set_random_seed
# seeds it too), so the course imports it first, here, with the process's standard error (file
# descriptor 2, where C++ writes) sent to a file for that import only; then it writes back every line
# but those start-up ones, so a warning or an error TensorFlow gives while loading still shows.
TF_START_UP_LINE = (r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
                    r"STDERR|I\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] .*")


def import_without_start_up_lines(module: str = "tensorflow") -> bool:
    """Import ``module`` (if installed and not yet imported) without TensorFlow's C++ start-up lines
    (:data:`TF_START_UP_LINE`); ``True`` if this call imported it. Python warnings are not touched, and
    every other line written to file descriptor 2 during the import goes to ``sys.stderr`` afterwards."""
    import importlib
    import importlib.util
    import re
    import sys
    import tempfile

    if module in sys.modules or importlib.util.find_spec(module) is None:
        return False
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            importlib.import_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        lines = caught.read().decode(errors="replace").splitlines(keepends=True)
    others = "".join(line for line in lines if not re.fullmatch(TF_START_UP_LINE, line.rstrip("\r\n")))
    if others:
        sys.stderr.write(others)
        sys.stderr.flush()
    return True


import_without_start_up_lines("tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from utils.mode import course_mode  # noqa: E402
from utils.plotting import use_course_style  # noqa: E402
from utils.training.precision import use_full_float32  # noqa: E402
from utils.training import tfdata  # noqa: E402

DEFAULT_SEED = 1234


@dataclass(frozen=True)
class Session:
    """What a notebook run is: chapter, backend, mode, seed and start time."""

    chapter: int
    backend: str
    mode: str
    seed: int
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since :func:`setup` was called."""
        return time.perf_counter() - self.started

    @property
    def quick(self) -> bool:
        """True in quick mode."""
        return self.mode == "quick"


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and the active Keras backend with one number."""
    random.seed(seed)
    np.random.seed(seed)
    # Seeds Python, NumPy and the backend (TensorFlow, JAX's global seed or PyTorch).
    keras.utils.set_random_seed(seed)


def setup(chapter: int, seed: int = DEFAULT_SEED, *, verbose: bool = True) -> Session:
    """Seed everything, turn off TF32 on GPUs, keep tf.data from stalling (TensorFlow only, see
    :mod:`utils.training.tfdata`), apply the course's plot style and describe the run."""
    if isinstance(chapter, bool) or not isinstance(chapter, int) or chapter < 1:
        raise ValueError(f"chapter must be a positive whole number, got {chapter!r}")
    mode = course_mode()
    seed_everything(seed)
    use_full_float32()  # float32 products in full float32 on GPUs too (see utils.training.precision)
    tfdata.disable_autotuning()  # TensorFlow: no end-of-epoch stall in fit (see utils.training.tfdata)
    use_course_style()
    # TensorFlow warns about re-tracing when many small models are trained in one notebook.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    session = Session(chapter=chapter, backend=keras.backend.backend(), mode=mode, seed=seed)
    if verbose:
        print(
            f"Chapter {chapter} | Keras {keras.__version__} on {session.backend} | "
            f"mode: {mode} | seed: {seed} | Python {platform.python_version()}"
        )
    return session

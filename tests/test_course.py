"""utils.course: one call seeds everything, applies the plot style and describes the run."""

from __future__ import annotations

import os
import random
import types

import keras
import matplotlib as mpl
import numpy as np
import pytest

from utils import course
from utils.course import DEFAULT_SEED, Session, seed_everything, setup
from utils.mode import CourseModeError
from utils.plotting import COURSE_STYLE

# Keras's conversion of backend tensors to NumPy trips a NumPy 2 deprecation warning on some backends.
KERAS_TO_NUMPY_WARNING = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _draws() -> dict[str, np.ndarray]:
    """One draw from every random source a notebook uses, Keras weight initialisation included."""
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    return {
        "python": np.array([random.random() for _ in range(3)]),
        "numpy": np.random.rand(3),
        "keras.random": keras.ops.convert_to_numpy(keras.random.uniform((3,))),
        "dense kernel": layer.get_weights()[0],
    }


def test_setup_returns_a_session_describing_the_run(capsys):
    session = setup(chapter=3, seed=99)
    assert isinstance(session, Session)
    assert session.chapter == 3
    assert session.seed == 99
    assert session.mode == "full"
    assert not session.quick
    assert session.backend == keras.backend.backend()
    printed = capsys.readouterr().out
    assert "Chapter 3" in printed
    assert f"on {session.backend}" in printed
    assert "mode: full" in printed
    assert "seed: 99" in printed


def test_setup_uses_the_default_seed_and_can_be_silent(capsys):
    session = setup(chapter=1, verbose=False)
    assert session.seed == DEFAULT_SEED
    assert capsys.readouterr().out == ""


def test_setup_reads_quick_mode(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "quick")
    session = setup(chapter=2, verbose=False)
    assert session.mode == "quick"
    assert session.quick


def test_setup_rejects_a_bad_course_mode(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "turbo")
    with pytest.raises(CourseModeError):
        setup(chapter=1, verbose=False)


def test_setup_applies_the_course_plot_style():
    mpl.rcParams["axes.titleweight"] = "normal"
    mpl.rcParams["axes.grid"] = False
    setup(chapter=1, verbose=False)
    assert mpl.rcParams["axes.titleweight"] == COURSE_STYLE["axes.titleweight"]
    assert mpl.rcParams["axes.grid"] is True


@pytest.mark.parametrize("chapter", [0, -1, 1.0, "1", None])
def test_setup_rejects_a_chapter_that_is_not_a_positive_whole_number(chapter):
    with pytest.raises(ValueError, match="chapter must be a positive whole number") as caught:
        setup(chapter=chapter, verbose=False)
    assert repr(chapter) in str(caught.value)


@KERAS_TO_NUMPY_WARNING
def test_same_seed_gives_the_same_draws_from_every_source():
    setup(chapter=1, seed=7, verbose=False)
    first = _draws()
    setup(chapter=1, seed=7, verbose=False)
    second = _draws()
    for source in first:
        np.testing.assert_array_equal(first[source], second[source], err_msg=source)


@KERAS_TO_NUMPY_WARNING
def test_different_seeds_give_different_draws():
    seed_everything(7)
    first = _draws()
    seed_everything(8)
    second = _draws()
    for source in first:
        assert not np.array_equal(first[source], second[source]), source


def test_elapsed_measures_from_the_start(monkeypatch):
    clock = types.SimpleNamespace(perf_counter=lambda: 100.0)
    monkeypatch.setattr(course, "time", clock)
    session = Session(chapter=1, backend="jax", mode="quick", seed=1, started=95.5)
    assert session.elapsed() == pytest.approx(4.5)
    clock.perf_counter = lambda: 130.0
    assert session.elapsed() == pytest.approx(34.5)


def test_elapsed_never_goes_backwards():
    session = setup(chapter=1, verbose=False)
    first = session.elapsed()
    second = session.elapsed()
    assert 0.0 <= first <= second


def test_session_is_immutable():
    session = Session(chapter=1, backend="torch", mode="full", seed=1)
    with pytest.raises(AttributeError):
        session.mode = "quick"  # type: ignore[misc]



def test_quick_mode_on_jax_compiles_for_speed_of_compiling_and_only_there():
    from utils.course import xla_flags_for

    both = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
    checked = (0, 10)
    cpu = ()  # no JAX accelerator plugin installed: JAX computes on the CPU
    assert xla_flags_for({"KERAS_BACKEND": "jax", "COURSE_MODE": "quick"}, checked, cpu) == both
    assert xla_flags_for({"KERAS_BACKEND": "jax", "COURSE_MODE": " Quick "}, checked, cpu) == both
    assert xla_flags_for({"KERAS_BACKEND": "jax", "COURSE_MODE": "full"}, checked, cpu) == ""
    assert xla_flags_for({"KERAS_BACKEND": "jax"}, checked, cpu) == ""
    assert xla_flags_for({"KERAS_BACKEND": "tensorflow", "COURSE_MODE": "quick"}, checked, cpu) == ""
    other = {"KERAS_BACKEND": "jax", "COURSE_MODE": "quick", "XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    assert xla_flags_for(other, checked, cpu) == f"--xla_dump_to=/tmp/x {both}"
    mine = {"KERAS_BACKEND": "jax", "COURSE_MODE": "quick", "XLA_FLAGS": "--xla_backend_optimization_level=2"}
    assert xla_flags_for(mine, checked, cpu) == (
        "--xla_backend_optimization_level=2 --xla_cpu_use_fusion_emitters=false")


def test_a_flag_is_only_added_on_the_jaxlib_releases_it_was_checked_on():
    from utils.course import xla_flags_for

    quick = {"KERAS_BACKEND": "jax", "COURSE_MODE": "quick"}
    assert xla_flags_for(quick, (0, 12), ()) == "--xla_backend_optimization_level=0"
    assert xla_flags_for(quick, (0, 10), ()).endswith("--xla_cpu_use_fusion_emitters=false")


def test_the_cpu_flags_are_not_added_where_jax_will_compute_on_a_gpu():
    from utils.course import jax_computes_on_cpu, xla_flags_for

    quick = {"KERAS_BACKEND": "jax", "COURSE_MODE": "quick"}
    both = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
    # jax[cuda13] installed: JAX takes the GPU, and quick mode keeps XLA's flags as they were.
    assert not jax_computes_on_cpu(quick, ["xla_cuda13"])
    assert xla_flags_for(quick, (0, 10), ["xla_cuda13"]) == ""
    assert xla_flags_for({**quick, "XLA_FLAGS": "--xla_dump_to=/tmp/x"}, (0, 10), ["xla_cuda13"]) == (
        "--xla_dump_to=/tmp/x")
    # JAX_PLATFORMS decides where it is set: its first platform is the one JAX computes on.
    assert jax_computes_on_cpu({**quick, "JAX_PLATFORMS": "cpu"}, ["xla_cuda13"])
    assert xla_flags_for({**quick, "JAX_PLATFORMS": " CPU "}, (0, 10), ["xla_cuda13"]) == both
    assert not jax_computes_on_cpu({**quick, "JAX_PLATFORMS": "cuda,cpu"}, [])
    assert xla_flags_for({**quick, "JAX_PLATFORMS": "cuda"}, (0, 10), []) == ""
    assert jax_computes_on_cpu({**quick, "JAX_PLATFORMS": ""}, [])


def test_jax_accelerator_plugins_are_found_without_importing_jax(tmp_path, monkeypatch):
    import sys

    from utils.course import jax_plugins

    plugin = tmp_path / "jax_plugins" / "xla_cuda13"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text("raise ImportError('a plugin must not be imported to be found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "xla_cuda13" in jax_plugins()
    assert "jax_plugins" not in sys.modules


def test_the_flag_is_in_the_environment_before_keras_imports_jax():
    """And JAX is told not to take 75 % of a GPU's memory in advance (two notebooks would starve)."""
    import subprocess
    import sys

    code = ("import os, utils.course; print(os.environ.get('XLA_FLAGS', '')); "
            "print(os.environ.get('XLA_PYTHON_CLIENT_PREALLOCATE'))")
    unset = ("XLA_FLAGS", "COURSE_MODE", "KERAS_BACKEND", "XLA_PYTHON_CLIENT_PREALLOCATE")
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    run = {"KERAS_BACKEND": "jax", "COURSE_MODE": "quick", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **run},
                          capture_output=True, text=True, check=True)
    flags, preallocate = done.stdout.strip().splitlines()[-2:]
    assert flags == course.xla_flags_for(run)
    assert "--xla_backend_optimization_level=0" in flags
    assert preallocate == "false"

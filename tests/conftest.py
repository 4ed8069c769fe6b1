"""Shared set-up for the unit tests of ``utils``.

Figures are drawn off-screen, every test starts in the default (full) course mode
whatever the calling shell sets, and matplotlib's global settings are restored
after each test because ``use_course_style`` changes them.

Every test also starts and ends in full float32 (TensorFloat-32 off, see
:mod:`utils.training.precision`): the backends' precision switches are global to the process, so
a test that turned TF32 on would otherwise leave it on for every test after it, and the tests
that compare with a reference to 1e-5 would hold or fail on a GPU by the order they ran in.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


@contextmanager
def full_float32() -> Iterator[None]:
    """Run the body in full float32, and leave full float32 behind whatever the body switched.

    TF32 is turned off for the active backend on entry and again on exit, so what a test does
    to the global switches (JAX's config, ``torch.backends``, TensorFlow's context) ends with it.
    """
    from utils.training.precision import use_full_float32

    use_full_float32()
    try:
        yield
    finally:
        use_full_float32()


@pytest.fixture(autouse=True)
def _isolated_course_state(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    with matplotlib.rc_context(), full_float32():
        yield
    plt.close("all")


@pytest.fixture(scope="session")
def batch() -> tuple[np.ndarray, np.ndarray]:
    """``(x, mask)``: a padded float32 batch of four sequences of 3 features, lengths 7, 5, 2, 1.

    ``x`` has shape ``(4, 7, 3)`` with zeros after each sequence's end; ``mask`` has shape
    ``(4, 7)``, true on the real steps.
    """
    rng = np.random.default_rng(7)
    mask = np.arange(7)[None, :] < np.array([7, 5, 2, 1])[:, None]
    x = np.where(mask[..., None], rng.normal(size=(4, 7, 3)), 0.0).astype("float32")
    return x, mask


def _notebook_definition(notebook: str, name: str, **namespace: Any) -> Any:
    """The class or function ``name`` exactly as a solutions notebook defines it.

    Runs the one code cell that starts a ``class name`` or ``def name`` definition, with
    ``keras``, ``layers``, ``ops`` and ``np`` in scope (the notebooks' own imports), and any
    further names given as keyword arguments (what the cell uses from earlier cells, for example
    ``transformer=utils.models.transformer`` or the notebook's own ``MultiHeadAttention``), so a test
    can compare the notebook's code with its ``utils`` counterpart.
    """
    import keras
    import numpy as np
    from keras import layers, ops

    path = SOLUTIONS / notebook
    pattern = re.compile(rf"^(class|def) {re.escape(name)}\b", re.MULTILINE)
    found = [cell.source for cell in nbformat.read(path, as_version=4).cells
             if cell.cell_type == "code" and pattern.search(cell.source)]
    assert len(found) == 1, f"{path.name}: {len(found)} code cells define {name!r}, expected exactly one"
    scope: dict[str, Any] = {"keras": keras, "layers": layers, "ops": ops, "np": np, **namespace}
    exec(compile(found[0], f"{path.name}:{name}", "exec"), scope)
    return scope[name]


@pytest.fixture
def notebook_definition() -> Callable[..., Any]:
    """``notebook_definition(notebook, name, **namespace)``: see :func:`_notebook_definition`."""
    return _notebook_definition

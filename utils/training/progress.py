"""Live, compact progress while a model trains: shown in full mode, silent in quick mode (CI).

One line per training run, drawn by `tqdm <https://tqdm.github.io/>`_, in Jupyter and in a terminal::

    GRU forecaster:  45%|████▌     | 540/1200 steps [00:42<00:51, epoch=9/20, loss=0.523, val_loss=0.611]

That is the model's name, how far it has come, the time elapsed and the time left (tqdm's
estimate), the epoch and the latest figures.

- :class:`TrainingProgress` is a Keras callback: ``model.fit(..., verbose=0,
  callbacks=[progress.TrainingProgress("GRU forecaster")])``. With ``plot=True`` it also draws
  the learning curve, redrawn after every epoch, under the line (in a notebook).
- :func:`bar` is the same line for a loop written by hand: ``for epoch in progress.bar(range(n),
  "LSTM"): ...``, with ``set_postfix`` for its figures.
- :class:`LiveCurve` is the redrawn learning curve on its own, for such a loop.

Quick mode shows nothing (the notebooks and CI stay quiet); ``COURSE_PROGRESS=on`` or ``off``
overrides the mode.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

import keras
from tqdm import tqdm

from utils import mode

SETTING = "COURSE_PROGRESS"


def enabled() -> bool:
    """Whether progress is shown: ``COURSE_PROGRESS`` (on/off) if set, else in full mode only."""
    value = os.environ.get(SETTING, "").strip().lower()
    if value in ("", "auto"):
        return not mode.is_quick()
    if value in ("on", "1", "yes", "true"):
        return True
    if value in ("off", "0", "no", "false"):
        return False
    raise ValueError(f"{SETTING}={os.environ[SETTING]!r} is not a setting: use on, off or auto "
                     "(or leave it unset, which shows progress in full mode only).")


def bar(iterable: Iterable[Any] | None = None, name: str = "", *, total: int | None = None,
        unit: str = "epoch", show: bool | None = None) -> tqdm:
    """A tqdm progress line named ``name``, on stdout; a silent pass-through unless shown.

    ``show`` defaults to :func:`enabled`. Use it around a loop (``for x in bar(items, "name")``)
    or by hand (``line = bar(name="name", total=n)``, then ``line.update()``, ``line.close()``).
    """
    return tqdm(iterable, desc=name or None, total=total, unit=unit, file=sys.stdout, mininterval=0.5,
                disable=not (enabled() if show is None else show), dynamic_ncols=True)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class LiveCurve:
    """A learning curve redrawn in place in a notebook after every :meth:`add` (when shown).

    ``add(epoch, loss=..., val_loss=...)`` appends one point to each named series. Outside a
    notebook, or when progress is not shown, it only keeps the points (``series``).
    """

    def __init__(self, name: str, ylabel: str = "loss", *, show: bool | None = None) -> None:
        self.name, self.ylabel = name, ylabel
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.show = (enabled() if show is None else show) and _in_notebook()
        self._handle: Any = None

    def add(self, epoch: float, **values: float) -> None:
        """Add one point per series (``values``: series name -> value at ``epoch``) and redraw."""
        for key, value in values.items():
            xs, ys = self.series.setdefault(key, ([], []))
            xs.append(float(epoch))
            ys.append(float(value))
        if self.show:
            self._draw()

    def _draw(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        figure, axes = plt.subplots(figsize=(6, 2.6))
        for key, (xs, ys) in self.series.items():
            axes.plot(xs, ys, marker="o", markersize=3, label=key)
        axes.set(title=f"{self.name}: learning curve (live)", xlabel="epoch", ylabel=self.ylabel)
        axes.legend()
        figure.tight_layout()
        if self._handle is None:
            self._handle = display(figure, display_id=True)
        else:
            self._handle.update(figure)
        plt.close(figure)


class TrainingProgress(keras.callbacks.Callback):
    """A Keras callback that shows one live line per ``fit``: name, steps, epoch, figures, times.

    The line counts steps when Keras knows how many an epoch has (else epochs); it shows the
    training loss as it goes and every validation figure at the end of each epoch. With
    ``plot=True`` the loss and validation loss are drawn as a :class:`LiveCurve` too.
    ``show`` defaults to :func:`enabled`: in quick mode the callback does nothing.
    """

    def __init__(self, name: str, *, plot: bool = False, show: bool | None = None) -> None:
        super().__init__()
        self.name = name
        self.show = enabled() if show is None else show
        self.curve = LiveCurve(name, show=self.show) if plot else None
        self._line: tqdm | None = None
        self._figures: dict[str, str] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        if not self.show:
            return
        self._epochs, self._steps = int(self.params.get("epochs") or 1), self.params.get("steps")
        total, unit = (self._epochs * self._steps, "step") if self._steps else (self._epochs, "epoch")
        self._line = bar(name=self.name, total=total, unit=unit, show=True)
        self._figures = {}

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._line is not None:
            self._figures["epoch"] = f"{epoch + 1}/{self._epochs}"

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._line is not None and self._steps:
            self._figures.update(_shown(logs, validation=False))
            self._line.set_postfix(self._figures, refresh=False)
            self._line.update()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.curve is not None and logs:
            named = {"training": logs.get("loss"), "validation": logs.get("val_loss")}
            self.curve.add(epoch + 1, **{k: v for k, v in named.items() if v is not None})
        if self._line is None:
            return
        self._figures.update(_shown(logs, validation=True))
        if not self._steps:
            self._line.update()
        self._line.set_postfix(self._figures)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._line is not None:
            self._line.close()
            self._line = None


def _shown(logs: dict | None, *, validation: bool) -> dict[str, str]:
    """The figures of a Keras ``logs`` dict to show: training ones, plus ``val_`` ones at an epoch's end."""
    return {key: f"{float(value):.4g}" for key, value in (logs or {}).items()
            if (validation or not key.startswith("val_")) and _is_number(value)}


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True

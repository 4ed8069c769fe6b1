"""The course's figure style and the few plot helpers every chapter uses."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

COURSE_STYLE: dict[str, object] = {
    "figure.figsize": (8.0, 3.6),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.frameon": False,
    "font.size": 10,
    "image.cmap": "viridis",
    "axes.prop_cycle": mpl.cycler(
        color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f"]
    ),
}


def use_course_style() -> None:
    """Apply the course's matplotlib style to every later figure."""
    mpl.rcParams.update(COURSE_STYLE)


def labelled_axes(title: str, xlabel: str, ylabel: str, ax: Axes | None = None) -> Axes:
    """Return axes (new ones unless given) with a title and both axis labels set."""
    if ax is None:
        _, ax = plt.subplots()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    ylabel: str,
    reference: float | None = None,
    reference_label: str = "reference",
    ax: Axes | None = None,
) -> Axes:
    """Bar chart of one value per label, with the values written on the bars."""
    ax = labelled_axes(title, "", ylabel, ax)
    positions = np.arange(len(labels))
    bars = ax.bar(positions, values, color="#1f77b4")
    ax.bar_label(bars, fmt="%.3g", fontsize=8)
    ax.set_xticks(positions, labels, rotation=20, ha="right")
    if reference is not None:
        ax.axhline(reference, color="#d62728", linestyle="--", label=reference_label)
        ax.legend()
    return ax

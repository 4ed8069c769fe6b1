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


def confusion_matrix(
    true: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    classes: Sequence[str],
    *,
    title: str,
    xlabel: str = "predicted class",
    ylabel: str = "true class",
    ax: Axes | None = None,
) -> np.ndarray:
    """Plot and return the confusion counts, ``counts[i, j]`` = items of class ``i`` predicted as ``j``.

    Cells are coloured by the share of their row (of the true class), so that rare and common
    classes read on the same scale; the counts are written in the cells that are not empty.
    """
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.ndim != 1 or true.shape != predicted.shape:
        raise ValueError(f"true and predicted must be 1-D class indices of the same length, got shapes "
                         f"{true.shape} and {predicted.shape}; pass predicted.argmax(axis=-1) for probabilities.")
    n = len(classes)
    for name, values in (("true", true), ("predicted", predicted)):
        if values.size and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() >= n):
            raise ValueError(f"{name} must hold class indices 0..{n - 1} (one per name in classes); "
                             f"got values from {values.min()} to {values.max()} of type {values.dtype}.")
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (true, predicted), 1)
    rows = counts.sum(axis=1, keepdims=True)
    shares = counts / np.maximum(rows, 1)
    ax = labelled_axes(title, xlabel, ylabel, ax)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for (i, j), count in np.ndenumerate(counts):
        if count:
            ax.text(j, i, count, ha="center", va="center", fontsize=8,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label="share of the true class")
    return counts

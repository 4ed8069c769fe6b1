"""Bootstrap intervals for figures that are compared, and the verdicts a chapter prints from them.

One test set is one sample of the pairs a model could be asked. Resampling its items with
replacement, many times, and recomputing the figure on each resample shows how much the figure
would move with another sample of the same size: the *percentile bootstrap* takes the middle
``level`` (95 %) of the resampled figures as the interval.

Every figure here is a **ratio of sums** over items, ``sum(numerators) / sum(denominators)``:

- exact match: numerator 1 for a right output, 0 otherwise, denominator 1 (a mean);
- character error rate: numerator the edit distance, denominator the reference length;
- bits per character: numerator the bits of a character, denominator 1.

Items that are not independent (neighbouring characters of a text) are resampled in blocks of
``block`` consecutive items (a *block bootstrap*); pairs of a test set are independent, ``block=1``.

Two models scored on the **same** items are compared by a *paired* bootstrap
(:func:`paired_difference`): each resample draws the same items for both, so the interval of the
difference leaves out the variation that both share (easy and hard items). Two figures are
*within noise* when that interval contains 0; without pairing, when their intervals overlap
(:func:`verdict`). Overlap is the coarser test: two overlapping intervals can still hold a paired
difference that excludes 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A figure with its bootstrap interval: ``low <= estimate <= high`` in the usual case."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high

    @property
    def half_width(self) -> float:
        """The larger distance from the estimate to an end: ``estimate ± half_width`` covers the interval."""
        return max(self.estimate - self.low, self.high - self.estimate)

    def __str__(self) -> str:
        return render(self)


def _checked_items(numerators: Any, denominators: Any, block: int) -> tuple[np.ndarray, np.ndarray]:
    numerators = np.asarray(numerators, dtype=np.float64)
    if numerators.ndim != 1 or len(numerators) == 0:
        raise ValueError(f"give one value per item as a 1-D array, got shape {numerators.shape}.")
    if denominators is None:
        denominators = np.ones_like(numerators)
    denominators = np.asarray(denominators, dtype=np.float64)
    if denominators.shape != numerators.shape:
        raise ValueError(f"denominators have shape {denominators.shape}, numerators {numerators.shape}: "
                         "give one of each per item.")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a whole number of at least 1, got {block!r}.")
    if len(numerators) < 2 * block:
        raise ValueError(f"{len(numerators)} items are fewer than two blocks of {block}: the bootstrap needs at "
                         "least two blocks to resample; pass a smaller block.")
    if denominators.sum() <= 0:
        raise ValueError("the denominators sum to 0 or less: the figure divides by their sum.")
    return numerators, denominators


def _checked_settings(resamples: int, level: float) -> None:
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 10:
        raise ValueError(f"resamples must be a whole number of at least 10, got {resamples!r}.")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie between 0 and 1, got {level!r}.")


def _blocks(values: np.ndarray, block: int) -> np.ndarray:
    """Sums over consecutive blocks of ``block`` items (a last, partial block is dropped)."""
    return values[: len(values) // block * block].reshape(-1, block).sum(axis=1)


def _picks(count: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, count, size=(resamples, count))


def _ends(resampled: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0
    return float(np.quantile(resampled, tail)), float(np.quantile(resampled, 1.0 - tail))


def resampled_ratios(numerators: Any, denominators: Any = None, *, block: int = 1, resamples: int = 1000,
                     seed: int = 0) -> np.ndarray:
    """``sum(numerators) / sum(denominators)`` on each of ``resamples`` bootstrap resamples of the items."""
    _checked_settings(resamples, 0.5)
    numerators, denominators = _checked_items(numerators, denominators, block)
    top, bottom = _blocks(numerators, block), _blocks(denominators, block)
    picks = _picks(len(top), resamples, seed)
    return top[picks].sum(axis=1) / bottom[picks].sum(axis=1)


def interval(numerators: Any, denominators: Any = None, *, block: int = 1, resamples: int = 1000, seed: int = 0,
             level: float = 0.95) -> Interval:
    """The figure ``sum(numerators) / sum(denominators)`` with its percentile bootstrap interval.

    ``denominators`` default to 1 per item (the figure is then a mean); ``block`` > 1 resamples
    blocks of consecutive items (see the module docstring).
    """
    _checked_settings(resamples, level)
    numerators, denominators = _checked_items(numerators, denominators, block)
    low, high = _ends(resampled_ratios(numerators, denominators, block=block, resamples=resamples, seed=seed), level)
    return Interval(float(numerators.sum() / denominators.sum()), low, high, level)


def block_bootstrap_interval(values: Any, block: int = 500, resamples: int = 1000, seed: int = 0,
                             level: float = 0.95) -> tuple[float, float]:
    """A ``level`` interval for the mean of per-character ``values`` (bits, or a difference of bits).

    Neighbouring characters of a text are not independent, so the text is cut into blocks of ``block``
    characters and the blocks are resampled with replacement (``resamples`` times, seeded); the
    interval holds the middle ``level`` of the resampled means. Two scores whose difference has an
    interval that contains 0 are within noise. (:func:`interval` with ``block``, returning the ends only.)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2 * block:
        raise ValueError(f"values must be a 1-D array of at least two blocks of {block} characters, "
                         f"got shape {values.shape}; pass a smaller block.")
    found = interval(values, block=block, resamples=resamples, seed=seed, level=level)
    return found.low, found.high


def mean_interval(values: Any, *, seed: int, resamples: int = 1000, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of per-item ``values`` (1 for a right output, a difference of two
    models' scores on the same item...) and its ``level`` percentile bootstrap interval, the items resampled
    one by one (they were drawn independently). :func:`interval` with ``block=1``, as a tuple that a
    chapter unpacks or indexes; the same resamples for the same ``seed``."""
    found = interval(values, resamples=resamples, seed=seed, level=level)
    return float(np.mean(np.asarray(values, dtype=np.float64))), found.low, found.high


def paired_difference(numerators_a: Any, numerators_b: Any, denominators_a: Any = None, denominators_b: Any = None,
                      *, block: int = 1, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> Interval:
    """Figure a minus figure b, two models scored on the same items, with a paired bootstrap interval.

    Item ``i`` of a and of b must be the same test item; every resample draws the same items for
    both. The difference is within noise when the interval contains 0.
    """
    _checked_settings(resamples, level)
    numerators_a, denominators_a = _checked_items(numerators_a, denominators_a, block)
    numerators_b, denominators_b = _checked_items(numerators_b, denominators_b, block)
    if len(numerators_a) != len(numerators_b):
        raise ValueError(f"{len(numerators_a)} items for a and {len(numerators_b)} for b: a paired comparison "
                         "scores both on the same items.")
    picks = _picks(len(numerators_a) // block, resamples, seed)
    blocks = [_blocks(values, block) for values in (numerators_a, denominators_a, numerators_b, denominators_b)]
    a = blocks[0][picks].sum(axis=1) / blocks[1][picks].sum(axis=1)
    b = blocks[2][picks].sum(axis=1) / blocks[3][picks].sum(axis=1)
    low, high = _ends(a - b, level)
    estimate = numerators_a.sum() / denominators_a.sum() - numerators_b.sum() / denominators_b.sum()
    return Interval(float(estimate), low, high, level)


def render(found: Interval, digits: int = 3, *, percent: bool = False) -> str:
    """``"0.910 ± 0.028"`` (or ``"91.0 ± 2.8 %"``): the estimate and the larger distance to an end of its interval."""
    scale, unit = (100.0, " %") if percent else (1.0, "")
    places = max(digits - 2, 0) if percent else digits
    return f"{scale * found.estimate:.{places}f} ± {scale * found.half_width:.{places}f}{unit}"


def verdict(name_a: str, a: Interval, name_b: str, b: Interval, *, what: str = "the figure",
            higher_is_better: bool = True, paired: Interval | None = None, digits: int = 3,
            percent: bool = False) -> str:
    """One sentence that compares two figures and says whether the difference is beyond the noise.

    With ``paired`` (a :func:`paired_difference` of a minus b on the same items) the difference is
    within noise when its interval contains 0; without it, when the two intervals overlap.
    """
    shown = f"{name_a} {render(a, digits, percent=percent)} against {name_b} {render(b, digits, percent=percent)}"
    noise = paired.contains(0.0) if paired is not None else a.overlaps(b)
    how = (f"a paired difference of {render(paired, digits, percent=percent)}" if paired is not None
           else "the intervals " + ("overlap" if noise else "do not overlap"))
    if noise:
        return f"{what}: {shown}, within noise ({how}, {a.level:.0%} intervals)."
    better = (a.estimate > b.estimate) == higher_is_better
    leader = name_a if better else name_b
    return f"{what}: {shown}; {leader} is better, beyond the noise ({how}, {a.level:.0%} intervals)."


def intervals_by_group(numerators: Any, groups: Any, labels: Sequence[str], denominators: Any = None, *,
                       resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, Interval]:
    """:func:`interval` within each group of items (``groups[i]`` the group number of item ``i``)."""
    numerators = np.asarray(numerators, dtype=np.float64)
    groups = np.asarray(groups)
    denominators = np.ones_like(numerators) if denominators is None else np.asarray(denominators, dtype=np.float64)
    if groups.shape != numerators.shape:
        raise ValueError(f"groups has shape {groups.shape}: give one group number per item ({numerators.shape}).")
    found = {}
    for g, label in enumerate(labels):
        members = np.flatnonzero(groups == g)
        if len(members) == 0:
            raise ValueError(f"group {g} ({label}) holds no item.")
        found[label] = interval(numerators[members], denominators[members], resamples=resamples, seed=seed + g,
                                level=level)
    return found

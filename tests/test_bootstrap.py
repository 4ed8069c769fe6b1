"""The shared bootstrap (utils/stats/bootstrap.py): intervals, paired differences, rendering, verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from utils.stats import bootstrap


def test_a_mean_interval_holds_the_estimate_and_shrinks_with_more_items():
    rng = np.random.default_rng(3)
    small = bootstrap.interval(rng.random(100) < 0.8)
    large = bootstrap.interval(rng.random(2_500) < 0.8)
    for found in (small, large):
        assert found.low <= found.estimate <= found.high
    # the width of a mean's interval falls like 1 / sqrt(n): 25 times the items, about a fifth of the width
    ratio = (large.high - large.low) / (small.high - small.low)
    assert 0.1 < ratio < 0.35
    # a proportion of 0.8 on 100 items: the normal approximation gives about +-0.078
    assert 0.05 < small.half_width < 0.11


def test_the_interval_of_a_ratio_weights_long_items_more():
    """Character error rate: sum of distances over sum of lengths, not the mean of per-item rates."""
    distances, lengths = np.array([1.0, 0.0] * 50), np.array([2.0, 98.0] * 50)
    found = bootstrap.interval(distances, lengths)
    assert found.estimate == pytest.approx(50 / 5000)
    assert found.estimate != pytest.approx(np.mean(distances / lengths))
    assert found.low <= found.estimate <= found.high


def test_a_constant_figure_has_a_zero_width_interval():
    found = bootstrap.interval(np.ones(40))
    assert (found.low, found.estimate, found.high) == (1.0, 1.0, 1.0)
    assert bootstrap.render(found) == "1.000 ± 0.000"


def test_the_block_bootstrap_widens_with_dependence():
    rng = np.random.default_rng(0)
    independent = rng.normal(size=20_000)
    runs = np.repeat(rng.normal(size=200), 100)  # runs of 100 equal values: far fewer independent items
    low, high = bootstrap.block_bootstrap_interval(independent, block=100)
    low_runs, high_runs = bootstrap.block_bootstrap_interval(runs, block=100)
    assert low < independent.mean() < high and low_runs < runs.mean() < high_runs
    assert high_runs - low_runs > 5 * (high - low)
    # block=1 on the runs ignores the dependence and comes out far too narrow
    naive = bootstrap.interval(runs)
    assert naive.high - naive.low < 0.3 * (high_runs - low_runs)


def test_lm_uses_the_shared_block_bootstrap():
    from utils.tasks import lm

    assert lm.block_bootstrap_interval is bootstrap.block_bootstrap_interval


def test_a_paired_difference_is_narrower_than_two_overlapping_intervals():
    """Two models that share their hard items: unpaired intervals overlap, the paired one excludes 0."""
    rng = np.random.default_rng(1)
    hard = rng.random(400) < 0.3
    a = ~hard                                   # a gets every easy item right
    b = ~hard & (rng.random(400) > 0.12)        # b misses some easy items as well
    ia, ib = bootstrap.interval(a), bootstrap.interval(b)
    difference = bootstrap.paired_difference(a, b)
    assert difference.estimate == pytest.approx(ia.estimate - ib.estimate)
    assert ia.overlaps(ib)
    assert not difference.contains(0.0) and difference.low > 0
    sentence = bootstrap.verdict("A", ia, "B", ib, what="exact match", paired=difference)
    assert "A is better, beyond the noise" in sentence and "paired difference" in sentence
    assert "within noise" in bootstrap.verdict("A", ia, "B", ib, what="exact match")


def test_the_verdict_says_which_is_better_by_direction():
    low_rate, high_rate = bootstrap.Interval(0.01, 0.005, 0.015), bootstrap.Interval(0.20, 0.15, 0.25)
    assert "A is better" in bootstrap.verdict("A", low_rate, "B", high_rate, higher_is_better=False)
    assert "B is better" in bootstrap.verdict("A", low_rate, "B", high_rate, higher_is_better=True)
    same = bootstrap.verdict("A", low_rate, "B", bootstrap.Interval(0.012, 0.008, 0.02), higher_is_better=False)
    assert "within noise" in same and "overlap" in same


def test_render_in_percent_and_asymmetric_intervals():
    found = bootstrap.Interval(0.9, 0.86, 0.92)
    assert bootstrap.render(found) == "0.900 ± 0.040"       # the larger side, so the ± covers the interval
    assert bootstrap.render(found, percent=True) == "90.0 ± 4.0 %"
    assert str(found) == "0.900 ± 0.040"


def test_intervals_by_group_match_the_ungrouped_interval_on_each_group():
    rng = np.random.default_rng(2)
    values, groups = rng.random(300) < 0.6, np.repeat([0, 1, 2], 100)
    found = bootstrap.intervals_by_group(values, groups, ["a", "b", "c"])
    assert list(found) == ["a", "b", "c"]
    assert found["b"].estimate == pytest.approx(values[100:200].mean())
    with pytest.raises(ValueError, match="holds no item"):
        bootstrap.intervals_by_group(values, groups, ["a", "b", "c", "d"])


@pytest.mark.parametrize("call, phrase", [
    (lambda: bootstrap.interval(np.ones(10), block=8), "two blocks"),
    (lambda: bootstrap.interval(np.ones(100), resamples=3), "resamples"),
    (lambda: bootstrap.interval(np.ones(100), level=1.5), "level"),
    (lambda: bootstrap.interval(np.ones((4, 4))), "1-D"),
    (lambda: bootstrap.interval(np.ones(10), np.ones(9)), "one of each per item"),
    (lambda: bootstrap.interval(np.ones(10), np.zeros(10)), "sum to 0"),
    (lambda: bootstrap.paired_difference(np.ones(10), np.ones(12)), "same items"),
    (lambda: bootstrap.block_bootstrap_interval(np.ones(10), block=8), "at least two blocks"),
])
def test_wrong_inputs_get_a_sentence(call, phrase):
    with pytest.raises(ValueError, match=phrase):
        call()


def test_mean_interval_is_what_chapters_8_and_9_computed_by_hand():
    """Chapters 8 and 9 each defined ``interval(values)`` as the mean and lm.block_bootstrap_interval with
    blocks of one item; the shared function gives the same three numbers, bit for bit, for the same seed."""
    from utils.tasks import lm

    values = np.random.default_rng(5).integers(0, 2, size=200).astype(float)
    low, high = lm.block_bootstrap_interval(values, block=1, resamples=1_000, seed=1234)
    assert bootstrap.mean_interval(values, seed=1234) == (float(np.mean(values)), low, high)
    mean, low, high = bootstrap.mean_interval(values - 0.5, seed=3)
    assert low <= mean <= high and mean == pytest.approx(np.mean(values) - 0.5)
    assert bootstrap.mean_interval(values, seed=1) != bootstrap.mean_interval(values, seed=2)
    with pytest.raises(ValueError, match="1-D"):
        bootstrap.mean_interval(values.reshape(20, 10), seed=0)

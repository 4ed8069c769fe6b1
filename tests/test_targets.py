"""utils.checks.targets: each chapter's targets, checked against the committed full-mode results files."""

from __future__ import annotations

import pytest

from utils import results
from utils.checks import targets
from utils.checks.targets import Target, check_targets

# The arguments each chapter passes, as its notebook computes them in full mode.
CHAPTER_TARGETS = {
    1: lambda: targets.chapter_1(),
    2: lambda: targets.chapter_2(),
    3: lambda: targets.chapter_3("adding problem, simple RNN, T=10 (test MSE)",
                                 "adding problem, simple RNN, T=50 (test MSE)", 50),
    4: lambda: targets.chapter_4(shortest=50, middle=100),
    5: lambda: targets.chapter_5("majority class (never a word start)"),
    6: lambda: targets.chapter_6(),
    7: lambda: targets.chapter_7(),
    8: lambda: targets.chapter_8(),
    9: lambda: targets.chapter_9(),
}


@pytest.mark.parametrize("chapter", sorted(CHAPTER_TARGETS))
def test_every_target_is_well_formed(chapter):
    listed = CHAPTER_TARGETS[chapter]()
    assert listed and all(isinstance(target, Target) for target in listed)
    assert all(target.op in ("<", "<=", ">", ">=") and target.why for target in listed)
    assert any(not target.full_only for target in listed), "a chapter checks in quick mode that learning happens"


@pytest.mark.parametrize("backend", results.BACKENDS)
@pytest.mark.parametrize("chapter", sorted(CHAPTER_TARGETS))
def test_the_committed_full_results_meet_the_targets(chapter, backend):
    recorded = results.load_results().get(chapter, {}).get(backend)
    if recorded is None:
        pytest.skip(f"no full-mode results of chapter {chapter} on {backend}")
    report = check_targets(recorded["metrics"], CHAPTER_TARGETS[chapter](), "full")
    assert all(line["met"] for line in report)


def test_no_dependence_is_float32_rounding():
    assert 0 < targets.NO_DEPENDENCE <= 1e-5

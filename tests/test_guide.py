"""The instructor's guide (course_tools.guide): sections, measured times, the checkers' mistakes, the plan."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools import execution, guide
from course_tools.exercises import BOOKKEEPING

REPO = Path(__file__).resolve().parent.parent


def _chapter() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("# Chapter 3 — A test chapter\n\n**Exercises:** 3.1 (warm-up) · 3.2 (stretch)"),
        new_markdown_cell("## 0. Setup"),
        new_code_cell("import os\n\nx = 1"),
        new_markdown_cell("## 1. First idea\n\nSome words about $x_t$ and `code`.\n\n### Exercise 3.1 (warm-up): a warm-up"),
        new_code_cell("def f(x):\n    return x"),
        new_markdown_cell("## 2. Second idea\n\n**Exercise 3.2 (stretch).** Write g."),
        new_code_cell("def g(x):\n    return 2 * x\n\n\ng(1)"),
        new_markdown_cell("**Exercise 3.3.** An exercise with no level is core."),
        new_code_cell("parity.check('g against a reference', g(1), 2)\nprint(inspect.getsource(g))"),
    ])


def test_sections_count_words_code_and_exercises_in_both_styles() -> None:
    found = guide.sections(_chapter())
    assert [(s.number, s.title) for s in found] == [("0", "Setup"), ("1", "First idea"), ("2", "Second idea")]
    assert found[0].code_lines == 2 and found[2].code_lines == 5
    assert found[2].plumbing_lines == 2 and found[1].plumbing_lines == 0  # the parity cell, never presented
    assert found[1].words == 10  # "First idea Some words about and Exercise 3.1 warm-up a warm-up", math and code left out
    assert found[1].exercises == [("3.1", "warm-up", "")]
    assert found[2].exercises == [("3.2", "stretch", ""), ("3.3", "core", "")]


def test_headline_keeps_what_names_the_mistake() -> None:
    assert guide.headline("the forget gate is missing: you wrote c_t = ...") == "The forget gate is missing"
    assert guide.headline("your weights ignore the mask. Set the masked scores...") == "Your weights ignore the mask"
    assert guide.headline("np.tril(..., k=1) sees ahead") == "Np.tril(..., k=1) sees ahead"


CHECKS = '''
from utils.checks.framework import Mistake, checker, named_mistake

_COUNT_MESSAGES = {"no b": "the bias b is missing: add d numbers."}


def _wrong_counts():
    return {"you counted the recurrent layer twice: U, W and b exist once.": lambda n: 2 * n}


def _suspects(x):
    return [(x + 1, "your answer is off by one: count from 0."), (x, "a short one")]


def _helper(answer):
    raise Mistake(f"your value {answer} is the variance: take its square root.")


@checker("3.1", "a warm-up")
def check_f(answer):
    suspects = [(0, "you returned zero for every input: return x itself.")]
    named_mistake(1, _suspects(1) + suspects, lambda a, b: a == b)
    _helper(answer)
    _COUNT_MESSAGES["no b"]
    raise Mistake("your function returned None: did you forget to return?")


@checker("3.2", "another")
def check_g(answer):
    _wrong_counts()
    raise Mistake(f"{answer} is wrong on {answer}")
'''


def test_checker_mistakes_are_read_from_the_checker_code(tmp_path: Path) -> None:
    module = tmp_path / "ch03.py"
    module.write_text(CHECKS, encoding="utf-8")
    mistakes = guide.checker_mistakes(module)
    assert set(mistakes["3.1"]) == {"You returned zero for every input", "Your answer is off by one",
                                    "Your value … is the variance", "The bias b is missing"}
    assert mistakes["3.2"] == ["You counted the recurrent layer twice"]
    assert guide.checker_titles(module) == {"3.1": "a warm-up", "3.2": "another"}


def test_every_course_checker_names_mistakes() -> None:
    for module in sorted((REPO / "utils" / "checks").glob("ch*.py")):
        for number, named in guide.checker_mistakes(module).items():
            assert len(named) >= 3, f"exercise {number}: {named}"


def _executed(seconds: list[float]) -> nbformat.NotebookNode:
    notebook = _chapter()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell, took in zip(code, seconds, strict=True):
        cell.metadata["execution"] = {"iopub.execute_input": "2026-12-02T10:00:00.000000Z",
                                      "shell.execute_reply": f"2026-12-02T10:00:{took:09.6f}Z"}
    notebook.metadata[execution.METADATA_KEY] = {"mode": "quick", "backend": "torch", "seconds": sum(seconds),
                                                 "date": "2026-12-02", "digest": "x"}
    return notebook


def test_section_times_are_recorded_from_executed_copies(tmp_path: Path) -> None:
    folder = tmp_path / "quick-torch"
    folder.mkdir()
    nbformat.write(_executed([1.5, 2.0, 4.0, 0.25]), folder / "03_test.ipynb")
    store = tmp_path / "sections.json"
    data = guide.record([folder], store)
    assert data["03_test"]["quick-torch"]["seconds"] == {"0": 1.5, "1": 2.0, "2": 4.2}
    assert json.loads(store.read_text())["03_test"]["quick-torch"]["total"] == 7.75
    with pytest.raises(guide.GuideError, match="no executed notebooks"):
        guide.record([tmp_path / "empty"], store)
    nbformat.write(_chapter(), folder / "04_plain.ipynb")
    with pytest.raises(guide.GuideError, match="not an executed copy"):
        guide.record([folder], store)


def _plan(tmp_path: Path, workshop: str, times: dict | None = None) -> guide.ChapterPlan:
    notebook = tmp_path / "03_test.ipynb"
    nbformat.write(_chapter(), notebook)
    (tmp_path / "workshop.toml").write_text(workshop, encoding="utf-8")
    return guide.chapter_plan(notebook, times or {}, guide.load_workshop(tmp_path / "workshop.toml"), tmp_path)


def test_the_plan_counts_kept_sections_and_only_the_run_of_skipped_ones(tmp_path: Path) -> None:
    times = {"03_test": {"quick-torch": {"seconds": {"0": 6.0, "1": 30.0, "2": 60.0}}}}
    plan = _plan(tmp_path, '[ch03]\nideas = ["1"]\nskip = ["2"]\nhomework = []\nquestions = ["Why?"]\n', times)
    first = plan.sections[1]
    expected = first.words / guide.WORDS_PER_MINUTE + first.code_lines / guide.CODE_LINES_PER_MINUTE + 5 + 0.5
    assert plan.session_minutes(first) == pytest.approx(expected)
    assert plan.session_minutes(plan.sections[2]) == pytest.approx(1.0)  # skipped: its run only
    assert plan.homework == {"3.2", "3.3"}  # the exercises of a skipped section are homework
    page = guide.render_chapter(plan)
    assert "| 2. Second idea |" in page and "skip (run only)" in page and "1. Why?" in page
    assert "| 1. First idea |" in page and "present (idea)" in page and "1. First idea." in page


def test_a_bookkeeping_cell_is_plumbing_by_its_tag() -> None:
    chapter = _chapter()
    chapter.cells.append(new_code_cell("metrics = {\n    'g': g(1),\n}", metadata={"tags": [BOOKKEEPING]}))
    assert guide.sections(chapter)[2].plumbing_lines == 2 + 3
    assert not guide.is_plumbing(chapter.cells[-1].source)  # the tag says it, not the code


def test_plumbing_runs_in_every_plan_but_is_never_presented(tmp_path: Path) -> None:
    times = {"03_test": {"quick-torch": {"seconds": {"0": 6.0, "1": 30.0, "2": 60.0}}}}
    plan = _plan(tmp_path, '[ch03]\n', times)
    second = plan.sections[2]
    presented = second.code_lines - second.plumbing_lines
    expected = (second.words / guide.WORDS_PER_MINUTE + presented / guide.CODE_LINES_PER_MINUTE + 15 + 10 + 1.0)
    assert plan.session_minutes(second) == pytest.approx(expected)
    assert plan.two_session_minutes(second) == pytest.approx(expected)
    assert "| 2. Second idea | 14 | 5 (2) |" in guide.render_chapter(plan)


def test_two_sessions_split_where_the_halves_are_closest(tmp_path: Path) -> None:
    times = {"03_test": {"quick-torch": {"seconds": {"0": 6.0, "1": 30.0, "2": 60.0}}}}
    plan = _plan(tmp_path, '[ch03]\ntwo_session_homework = ["3.3"]\n', times)
    spent = [plan.two_session_minutes(section) for section in plan.sections]
    cut = plan.split()
    assert plan.two_sessions() == pytest.approx((sum(spent[:cut]), sum(spent[cut:])))
    assert all(max(sum(spent[:cut]), sum(spent[cut:])) <= max(sum(spent[:c]), sum(spent[c:]))
               for c in range(1, len(spent)))
    assert plan.two_session_minutes(plan.sections[2]) < plan.session_minutes(plan.sections[2])  # 3.3 afterwards
    assert f"**Two sessions** present every section, exercise 3.3 for afterwards: sections 0-" in guide.render_chapter(plan)


def test_a_plan_that_names_what_the_notebook_lacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(guide.GuideError, match=r"skips section\(s\) \['7'\]"):
        _plan(tmp_path, '[ch03]\nskip = ["7"]\n')
    with pytest.raises(guide.GuideError, match=r"exercise\(s\) \['3.9'\] as homework"):
        _plan(tmp_path, '[ch03]\nhomework = ["3.9"]\n')
    with pytest.raises(guide.GuideError, match=r"exercise\(s\) \['3.9'\] as two_session_homework"):
        _plan(tmp_path, '[ch03]\ntwo_session_homework = ["3.9"]\n')
    with pytest.raises(guide.GuideError, match=r"names as ideas section\(s\) \['8'\]"):
        _plan(tmp_path, '[ch03]\nideas = ["8"]\n')
    with pytest.raises(guide.GuideError, match=r"skips section\(s\) \['2'\] that it names as the chapter's ideas"):
        _plan(tmp_path, '[ch03]\nideas = ["1", "2"]\nskip = ["2"]\n')
    with pytest.raises(guide.GuideError, match=r"no \[ch03\] table"):
        _plan(tmp_path, '[ch04]\n')
    with pytest.raises(guide.GuideError, match="not valid TOML"):
        _plan(tmp_path, '[ch03\n')
    with pytest.raises(guide.GuideError, match="is missing"):
        guide.load_workshop(tmp_path / "absent.toml")


def test_every_chapters_plans_fit_one_and_two_sessions_of_60_minutes() -> None:
    assert guide.over_budget() == []


# The ideas issue 31 found skipped by the 60-minute plans of chapters 6-9, by a word of their titles.
KEPT_IDEAS = {"06": ["n-gram and the compressors"], "08": ["sqrt{d}", "What the model looks at", "Alignment"],
              "09": ["Positions", "A transformer on chapter 7's task"]}


@pytest.mark.parametrize("chapter", sorted(KEPT_IDEAS))
def test_the_60_minute_plans_keep_the_ideas_and_skip_timing(chapter: str) -> None:
    plan = next(plan for plan in guide.chapter_plans() if plan.name.startswith(chapter))
    for words in KEPT_IDEAS[chapter]:
        section = next(section for section in plan.sections if words in section.title)
        assert section.number in plan.ideas and section.number not in plan.skip, f"{plan.name}: {section.title}"
    for section in plan.sections:  # a section of timing or plumbing alone is never an idea
        if section.plumbing_lines == section.code_lines > 0 and "Summary" not in section.title:
            assert section.number not in plan.ideas, f"{plan.name}: {section.title}"


def test_the_guide_is_rendered_from_its_sources() -> None:
    assert guide.main(["--check"]) == 0, "INSTRUCTORS.md is out of date: run `python -m course_tools.guide`"


def test_the_guide_covers_every_chapter_with_measured_times() -> None:
    text = guide.render()
    for notebook in sorted((REPO / "solutions").glob("*.ipynb")):
        title = nbformat.read(notebook, as_version=4).cells[0].source.lstrip("# ").split("\n", 1)[0].strip()
        assert f"## {title}" in text
    times = json.loads(guide.SECTIONS.read_text(encoding="utf-8"))
    assert all(guide.PLAN_RUN in runs for runs in times.values()), "record the plan's run for every chapter"


SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))
RANK = {"warm-up": 0, "core": 1, "stretch": 2}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda path: path.stem[:2])
def test_exercise_levels_go_from_warm_up_to_stretch_in_notebook_order(path: Path) -> None:
    """Within a chapter (or each of its parts, "# Part A ..."), experiments aside."""
    notebook = nbformat.read(path, as_version=4)
    part_starts = [index for index, cell in enumerate(notebook.cells)
                   if cell.cell_type == "markdown" and cell.source.startswith("# Part ")]
    ladder: list[tuple[int, str, str]] = []  # (part, number, level)
    for section in guide.sections(notebook):
        part = sum(start <= section.cells[0] for start in part_starts)
        ladder += [(part, number, level) for number, level, _ in section.exercises if level != "experiment"]
    for (part, number, level), (next_part, next_number, next_level) in zip(ladder, ladder[1:]):
        if part == next_part:
            assert RANK[level] <= RANK[next_level], (
                f"exercise {number} ({level}) comes before {next_number} ({next_level})")
    numbers = [tuple(int(p) for p in number.split(".")) for section in guide.sections(notebook)
               for number, _, _ in section.exercises]
    assert numbers == sorted(numbers), "exercises are numbered in the order the notebook sets them"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda path: path.stem[:2])
def test_every_chapter_sets_an_exercise_in_its_second_half(path: Path) -> None:
    found = guide.sections(nbformat.read(path, as_version=4))
    content = [section for section in found if section.number != "0" and "Summary" not in section.title]
    second_half = content[len(content) // 2:]
    assert any(section.exercises for section in second_half), (
        f"sections {', '.join(s.number for s in second_half)} set no exercise")

"""Repository-wide rules: clean notebooks, generated chapters, agreeing environments."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from utils.data import loaders
from course_tools import exercises, readme

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted([*REPO.glob("chapters/*.ipynb"), *REPO.glob("solutions/*.ipynb")])
SOLUTIONS = sorted(REPO.glob("solutions/*.ipynb"))


def test_there_are_notebooks() -> None:
    assert SOLUTIONS, "no solution notebooks found"
    assert len(NOTEBOOKS) == 2 * len(SOLUTIONS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_valid_and_has_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert notebook.nbformat == 4
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; run `make strip`."


def test_chapters_are_generated_from_solutions() -> None:
    stale = exercises.generate(REPO / "solutions", REPO / "chapters", check=True, prune=True)
    assert not stale, f"stale chapter notebooks {stale}: run `make chapters`."


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_has_exercises_each_followed_by_a_checker(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert exercises.count_exercises(notebook) >= 3, "each chapter needs at least three exercises"
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for index, source in enumerate(code):
        if exercises.BEGIN in source:
            following = code[index + 1] if index + 1 < len(code) else ""
            assert re.search(r"checks\.check_\w+\(", following), (
                f"the exercise in code cell {index} is not followed by a checker call"
            )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_cells_that_gather_the_figures_are_folded_bookkeeping(path: Path) -> None:
    """The results dictionary and the save call are code a learner reads past: tagged, and folded in
    JupyterLab (the book and the slides fold them by the tag); no exercise or checker hides among them."""
    notebook = nbformat.read(path, as_version=4)
    gathering = [cell for cell in notebook.cells if cell.cell_type == "code"
                 and (re.search(r"^metrics = \{", cell.source, re.M) or "results.save(" in cell.source)]
    assert gathering, "no cell gathers the chapter's figures (a `metrics = {` dictionary and `results.save(`)"
    for cell in gathering:
        assert exercises.BOOKKEEPING in cell.metadata.get("tags", []), f"{cell.source[:60]!r} is not tagged"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{cell.source[:60]!r} is not folded"
    for cell in notebook.cells:
        if exercises.BOOKKEEPING in cell.metadata.get("tags", []):
            assert exercises.BEGIN not in cell.source and "checks.check_" not in cell.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_starts_with_the_course_setup(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    first_code = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "course.setup(chapter=" in first_code
    assert notebook.metadata["course"]["chapter"] >= 1


def _pip_requirements_from_pyproject() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared.extend(extra)
    return {str(Requirement(line)) for line in declared}


def _pip_requirements_from_environment() -> set[str]:
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_sections = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict)]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    return {str(Requirement(line)) for line in pip_sections[0]}


def test_environment_and_pyproject_declare_the_same_packages() -> None:
    from_pyproject = _pip_requirements_from_pyproject()
    from_environment = _pip_requirements_from_environment()
    assert from_pyproject == from_environment, (
        f"only in pyproject.toml: {sorted(from_pyproject - from_environment)}; "
        f"only in environment.yml: {sorted(from_environment - from_pyproject)}"
    )


def test_python_versions_agree() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert project["requires-python"] == ">=3.11"
    assert python.split("=")[-1] >= "3.11"


def test_datasets_readme_lists_every_shipped_file() -> None:
    datasets_readme = (REPO / "datasets" / "README.md").read_text()
    for spec in loaders.REGISTRY:
        assert f"`{spec.filename}`" in datasets_readme, f"datasets/README.md does not describe {spec.filename}"
        assert (REPO / "datasets" / spec.filename).is_file()


def test_readme_tables_are_rendered_from_results() -> None:
    readme_file = REPO / "README.md"
    rendered = readme.render_readme(readme_file, REPO / "results", REPO / "solutions")
    assert rendered == readme_file.read_text(), "README tables are out of date: run `make readme`."
    page = REPO / "results" / "README.md"
    assert readme.render_results_page(REPO / "results") == page.read_text(), \
        "results/README.md is out of date: run `make readme`."

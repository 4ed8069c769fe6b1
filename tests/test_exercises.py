"""course_tools.exercises: chapters/ is generated from solutions/ by stubbing the marked answers."""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools import exercises
from utils import files
from course_tools.exercises import (
    BEGIN,
    END,
    OWN_STUB,
    STUB,
    MarkerError,
    count_exercises,
    generate,
    main,
    make_exercise_notebook,
    render,
    stub_source,
)

SOLUTION_CELL = "\n".join(
    [
        "def bag_of_words(tokens, vocab):",
        '    """Count the words."""',
        f"    {BEGIN}",
        "    vector = np.zeros(len(vocab))",
        "    return vector",
        f"    {END}",
        "",
        "check_bag_of_words(bag_of_words)",
    ]
)


def _solution_notebook(*code: str) -> nbformat.NotebookNode:
    """A title cell, then one executed code cell per source, each with an output."""
    cells = [new_markdown_cell("# Chapter 1: Baselines")]
    for number, source in enumerate(code, start=1):
        cell = new_code_cell(source, execution_count=number)
        cell.outputs = [new_output("stream", name="stdout", text="passed\n")]
        cells.append(cell)
    return new_notebook(cells=cells)


def _write_solutions(directory: Path, names: dict[str, nbformat.NotebookNode]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, notebook in names.items():
        nbformat.write(notebook, directory / name)
    return directory


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    """A solutions/ folder with two notebooks and an empty chapters/ folder beside it."""
    solutions = _write_solutions(
        tmp_path / "solutions",
        {
            "01_baselines.ipynb": _solution_notebook(SOLUTION_CELL),
            "02_rnn.ipynb": _solution_notebook("x = 1"),
        },
    )
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    return solutions, chapters


def _snapshot(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.iterdir())}


# stub_source ------------------------------------------------------------------------------------


def test_stub_replaces_the_region_keeping_the_marker_indentation():
    assert stub_source(SOLUTION_CELL).splitlines() == [
        "def bag_of_words(tokens, vocab):",
        '    """Count the words."""',
        f"    {STUB}",
        "",
        "check_bag_of_words(bag_of_words)",
    ]


def test_stub_handles_several_regions_and_tab_or_top_level_indentation():
    source = "\n".join([BEGIN, "a = 1", END, "if True:", f"\t{BEGIN}", "\tb = 2", f"\t{END}", "c = 3"])
    assert stub_source(source) == "\n".join([STUB, "if True:", f"\t{STUB}", "c = 3"])


def test_stub_leaves_a_cell_without_markers_alone():
    source = "x = 1\n# BEGIN SOLUTION is mentioned in this comment only\ny = 2"
    assert stub_source(source) == source


def test_stubbed_source_is_valid_python():
    compile(stub_source(SOLUTION_CELL), "<cell>", "exec")


@pytest.mark.parametrize(
    ("source", "phrases"),
    [
        pytest.param(
            f"x = 1\n{END}", ["nb.ipynb, cell 4, line 2", f"'{END}' without a '{BEGIN}'"], id="end-first"
        ),
        pytest.param(
            f"{BEGIN}\nx = 1\n  {BEGIN}\n{END}",
            ["nb.ipynb, cell 4, line 3", "inside an open solution region"],
            id="nested",
        ),
        pytest.param(
            f"def f():\n    {BEGIN}\n    return 1", ["nb.ipynb, cell 4", "never closed"], id="unclosed"
        ),
    ],
)
def test_unbalanced_markers_name_the_cell_and_line(source, phrases):
    with pytest.raises(MarkerError) as caught:
        stub_source(source, where="nb.ipynb, cell 4")
    for phrase in phrases:
        assert phrase in str(caught.value)


PREDICTION_CELL = "\n".join(
    [
        f"{OWN_STUB} predicted_alpha = None  # your guess, before you measure",
        "predicted_alpha = 0.5  # the author's guess",
        END,
        "",
        "",
        "def choose_alpha(scores):",
        f"    {BEGIN}",
        "    return max(scores, key=scores.get)",
        f"    {END}",
    ]
)


def test_a_region_may_name_its_own_stub_for_a_prediction():
    assert stub_source(PREDICTION_CELL).splitlines() == [
        "predicted_alpha = None  # your guess, before you measure",
        "",
        "",
        "def choose_alpha(scores):",
        f"    {STUB}",
    ]
    namespace: dict = {}
    exec(stub_source(PREDICTION_CELL), namespace)
    assert namespace["predicted_alpha"] is None


def test_an_own_stub_keeps_the_marker_indentation():
    source = f"if True:\n    {OWN_STUB} guess = None\n    guess = 3\n    {END}"
    assert stub_source(source) == "if True:\n    guess = None"


@pytest.mark.parametrize(
    ("marker", "phrase"),
    [(OWN_STUB, "names no stub"), (f"{OWN_STUB}   ", "names no stub"),
     (f"{OWN_STUB} predicted = (", "is not a line of Python")],
    ids=["empty", "blank", "not Python"],
)
def test_a_bad_own_stub_is_refused_with_the_cell_and_line(marker, phrase):
    with pytest.raises(MarkerError, match=r"^nb.ipynb, cell 2, line 2: ") as caught:
        stub_source(f"x = 1\n{marker}\npredicted = 0.5\n{END}", where="nb.ipynb, cell 2")
    assert phrase in str(caught.value)


def test_an_own_stub_inside_an_open_region_is_refused():
    with pytest.raises(MarkerError, match="inside an open solution region"):
        stub_source(f"{BEGIN}\nx = 1\n{OWN_STUB} y = None\n{END}")


def test_count_exercises_counts_regions_in_code_cells_only():
    notebook = _solution_notebook(SOLUTION_CELL, f"{BEGIN}\n{END}\n{BEGIN}\n{END}", "y = 2")
    notebook.cells.append(new_markdown_cell(f"Markdown may show the marker:\n{BEGIN}"))
    assert count_exercises(notebook) == 3


def test_a_prediction_is_not_counted_as_an_exercise():
    assert count_exercises(_solution_notebook(PREDICTION_CELL)) == 1


# make_exercise_notebook -------------------------------------------------------------------------


def test_exercise_notebook_is_stubbed_cleared_and_noted():
    solution = _solution_notebook(SOLUTION_CELL, "print('hello')")
    before = nbformat.writes(solution)
    learner = make_exercise_notebook(solution, "01_baselines.ipynb")

    assert nbformat.writes(solution) == before, "the solution notebook must be left unchanged"
    assert [cell.cell_type for cell in learner.cells] == ["markdown", "markdown", "code", "code"]
    assert learner.cells[0].source == "# Chapter 1: Baselines"
    assert "Exercise notebook" in learner.cells[1].source
    assert "`solutions/01_baselines.ipynb`" in learner.cells[1].source
    assert STUB in learner.cells[2].source
    assert "np.zeros" not in learner.cells[2].source
    assert learner.cells[3].source == "print('hello')"
    for cell in learner.cells[2:]:
        assert cell.outputs == []
        assert cell.execution_count is None
    assert [cell.id for cell in learner.cells] == ["cell-000", "cell-001", "cell-002", "cell-003"]
    nbformat.validate(learner)


def test_marker_error_from_a_notebook_names_the_file_and_cell():
    solution = _solution_notebook("x = 1", f"{BEGIN}\ny = 2")
    with pytest.raises(MarkerError, match=r"^02_rnn.ipynb, cell 2, line \d+: .* never closed"):
        make_exercise_notebook(solution, "02_rnn.ipynb")


def test_render_is_deterministic_and_ends_with_a_newline():
    first = render(make_exercise_notebook(_solution_notebook(SOLUTION_CELL), "a.ipynb"))
    second = render(make_exercise_notebook(_solution_notebook(SOLUTION_CELL), "a.ipynb"))
    assert first == second
    assert first.endswith("}\n")
    assert nbformat.reads(first, as_version=4).cells[2].source.count(STUB) == 1


def test_solution_saved_as_nbformat_4_4_can_be_rendered():
    solution = _solution_notebook("x = 1")
    solution.nbformat_minor = 4
    for cell in solution.cells:
        del cell["id"]
    nbformat.validate(solution)
    render(make_exercise_notebook(solution, "old.ipynb"))


# generate and main ------------------------------------------------------------------------------


def test_generate_writes_every_chapter_and_reports_it(repo):
    solutions, chapters = repo
    written = generate(solutions, chapters)
    assert written == [chapters / "01_baselines.ipynb", chapters / "02_rnn.ipynb"]
    learner = nbformat.read(chapters / "01_baselines.ipynb", as_version=4)
    assert STUB in learner.cells[2].source
    assert generate(solutions, chapters) == []


def test_generate_creates_the_chapters_folder(tmp_path):
    solutions = _write_solutions(tmp_path / "solutions", {"01.ipynb": _solution_notebook("x = 1")})
    generate(solutions, tmp_path / "new" / "chapters")
    assert (tmp_path / "new" / "chapters" / "01.ipynb").is_file()


def test_check_mode_reports_stale_and_orphan_notebooks_without_writing(repo):
    solutions, chapters = repo
    generate(solutions, chapters)
    (chapters / "01_baselines.ipynb").write_text("{}", encoding="utf-8")  # edited by hand
    (chapters / "99_orphan.ipynb").write_text("{}", encoding="utf-8")  # its solution was deleted
    before = _snapshot(chapters)

    stale = generate(solutions, chapters, check=True, prune=True)

    assert stale == [chapters / "01_baselines.ipynb", chapters / "99_orphan.ipynb"]
    assert _snapshot(chapters) == before


def test_check_mode_reports_missing_chapters(repo):
    solutions, chapters = repo
    assert generate(solutions, chapters, check=True) == [
        chapters / "01_baselines.ipynb",
        chapters / "02_rnn.ipynb",
    ]
    assert list(chapters.iterdir()) == []


def test_generate_without_solutions_fails(tmp_path):
    with pytest.raises(FileNotFoundError, match="no solution notebooks"):
        generate(tmp_path, tmp_path / "chapters")


def test_atomic_write_leaves_no_temporary_files(repo):
    solutions, chapters = repo
    generate(solutions, chapters)
    assert sorted(path.name for path in chapters.iterdir()) == ["01_baselines.ipynb", "02_rnn.ipynb"]


def test_failed_atomic_write_removes_its_temporary_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "chapter.ipynb"
    target.write_text("old", encoding="utf-8")

    def refuse(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        files.write_text_atomically(target, "new")
    assert [path.name for path in tmp_path.iterdir()] == ["chapter.ipynb"]
    assert target.read_text(encoding="utf-8") == "old"


def test_atomic_write_gives_a_new_file_the_usual_permissions_and_keeps_an_old_files(tmp_path):
    old_mask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.ipynb"
        files.write_text_atomically(fresh, "new")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # not the 0600 of a temporary file
        kept = tmp_path / "kept.ipynb"
        kept.write_text("old", encoding="utf-8")
        kept.chmod(0o640)
        files.write_text_atomically(kept, "new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text(encoding="utf-8") == "new"
    finally:
        os.umask(old_mask)


def _main(solutions: Path, chapters: Path, *flags: str) -> int:
    return main([*flags, "--solutions", str(solutions), "--chapters", str(chapters)])


def test_main_check_fails_when_stale_and_passes_when_fresh(repo, capsys):
    solutions, chapters = repo
    assert _main(solutions, chapters, "--check") == 1
    err = capsys.readouterr().err
    assert f"stale: {chapters / '01_baselines.ipynb'}" in err
    assert "python -m course_tools.exercises" in err
    assert list(chapters.iterdir()) == []

    assert _main(solutions, chapters) == 0
    assert f"wrote {chapters / '02_rnn.ipynb'}" in capsys.readouterr().out

    assert _main(solutions, chapters, "--check") == 0
    assert capsys.readouterr().err == ""


def test_main_says_when_chapters_are_up_to_date(repo, capsys):
    solutions, chapters = repo
    _main(solutions, chapters)
    capsys.readouterr()
    assert _main(solutions, chapters) == 0
    assert capsys.readouterr().out == "chapters/ is up to date\n"


def test_following_the_stale_advice_fixes_an_orphan_chapter(repo, capsys):
    solutions, chapters = repo
    (chapters / "99_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert _main(solutions, chapters, "--check", "--prune") == 1
    _main(solutions, chapters, "--prune")
    assert _main(solutions, chapters, "--check", "--prune") == 0
    assert not (chapters / "99_orphan.ipynb").exists()


def test_a_folder_with_one_solution_leaves_the_other_learner_copies_alone(repo, tmp_path, capsys):
    """Issue 30: ``--solutions`` naming a folder that holds one chapter deleted every other copy."""
    solutions, chapters = repo
    _main(solutions, chapters)
    before = _snapshot(chapters)
    only = _write_solutions(tmp_path / "only", {"02_rnn.ipynb": _solution_notebook("x = 2")})

    assert _main(only, chapters, "--check") == 1  # 02's copy is stale; 01's is not reported
    assert capsys.readouterr().err.count("stale:") == 1
    assert _main(only, chapters) == 0

    after = _snapshot(chapters)
    assert sorted(after) == ["01_baselines.ipynb", "02_rnn.ipynb"]
    assert after["01_baselines.ipynb"] == before["01_baselines.ipynb"]
    assert after["02_rnn.ipynb"] != before["02_rnn.ipynb"]
    assert "removed" not in capsys.readouterr().out


def test_given_notebooks_only_their_learner_copies_are_written(repo):
    solutions, chapters = repo
    (chapters / "99_other.ipynb").write_text("{}", encoding="utf-8")
    assert generate([solutions / "02_rnn.ipynb"], chapters) == [chapters / "02_rnn.ipynb"]
    assert sorted(path.name for path in chapters.iterdir()) == ["02_rnn.ipynb", "99_other.ipynb"]
    assert main([str(solutions / "01_baselines.ipynb"), "--chapters", str(chapters)]) == 0
    assert sorted(path.name for path in chapters.iterdir()) == ["01_baselines.ipynb", "02_rnn.ipynb", "99_other.ipynb"]


def test_given_notebooks_that_do_not_exist_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such solution notebook"):
        generate([tmp_path / "10_missing.ipynb"], tmp_path / "chapters")
    with pytest.raises(FileNotFoundError, match="no solution notebooks were given"):
        generate([], tmp_path / "chapters")


# The course's own notebooks -----------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def _predictions(source: str) -> list[tuple[str, str]]:
    """(name, value) of every assignment to a ``predicted_...`` name in a cell's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id.startswith("predicted_"):
                    found.append((name.id, ast.unparse(node.value) if node.value is not None else ""))
    return found


def test_no_learner_copy_holds_a_guess():
    """A prediction is the learner's own: in chapters/, every predicted_... name is assigned None only."""
    notebooks = sorted((REPO / "chapters").glob("*.ipynb"))
    assert notebooks
    guesses = [f"{path.name}: {name} = {value}"
               for path in notebooks for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
               for name, value in _predictions(cell.source) if value != "None"]
    assert not guesses, f"the learner's copies hold the author's guesses: {guesses}"


def test_the_guess_test_sees_a_number_in_any_form():
    assert _predictions("predicted_x = 0.5\npredicted_y: float = -1\na, predicted_z = 1, {2: 3}") == [
        ("predicted_x", "0.5"), ("predicted_y", "-1"), ("predicted_z", "(1, {2: 3})")]
    assert _predictions("predicted_x = None\nother = 2") == [("predicted_x", "None")]

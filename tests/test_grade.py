"""The grader (course_tools.grade): exercises found, verdicts from the course's own checkers, bad submissions."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_tools import grade
from utils.checks.framework import FAILED, NOT_ATTEMPTED, PASSED
from course_tools.grade import REPO, GradeError, Row

CHAPTERS = sorted(int(path.name[:2]) for path in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
CHAPTER_1 = {"course": {"chapter": 1}}


def _notebook(tmp_path: Path, name: str, *sources: str, metadata: dict | None = None) -> Path:
    path = tmp_path / name
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources], metadata=CHAPTER_1 if metadata is None else metadata), path)
    return path


def _by_exercise(rows: list[Row]) -> dict[str, Row]:
    return {row.exercise: row for row in rows}


# Without a kernel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_its_checked_exercises_in_order(chapter):
    found = grade.exercises(chapter)
    assert len(found) >= 3
    numbers = [exercise.number for exercise in found]
    assert len(set(numbers)) == len(numbers)
    assert all(number.startswith(f"{chapter}.") for number in numbers)
    assert numbers == sorted(numbers, key=lambda n: [int(part) for part in n.split(".")])
    solution = nbformat.read(grade.solution_notebook(chapter), as_version=4)
    defined = "\n".join(cell.source for cell in solution.cells if cell.cell_type == "code")
    for exercise in found:
        assert f"def {exercise.answer}(" in defined, exercise


def test_the_checker_calls_are_read_from_the_code_not_from_text():
    assert grade.checker_calls("checks.check_rnn_step(rnn_step)") == [("check_rnn_step", "rnn_step")]
    assert grade.checker_calls("x = 1\nchecks.check_a(f)\nchecks.check_b(g)") == [("check_a", "f"), ("check_b", "g")]
    assert grade.checker_calls("# checks.check_a(f)\nprint('checks.check_b(g)')") == []
    assert grade.checker_calls("def broken(:") == []


def test_the_chapter_comes_from_the_metadata_or_the_setup_call():
    assert grade.chapter_of(new_notebook(metadata={"course": {"chapter": 4}})) == 4
    assert grade.chapter_of(new_notebook(cells=[new_code_cell("session = course.setup(chapter=7)")])) == 7
    with pytest.raises(GradeError, match="names no chapter"):
        grade.chapter_of(new_notebook(cells=[new_code_cell("print(1)")]))


def test_what_is_not_a_notebook_gets_a_row_that_says_why(tmp_path):
    (tmp_path / "essay.ipynb").write_text("Dear grader, ...")
    rows = grade.grade([tmp_path / "essay.ipynb", tmp_path / "absent.ipynb"])
    assert [row.status for row in rows] == [grade.NOT_A_NOTEBOOK, grade.NOT_A_NOTEBOOK]
    assert "not a Jupyter notebook" in rows[0].message and "does not exist" in rows[1].message


def test_a_notebook_of_no_known_chapter_gets_a_row_that_says_why(tmp_path):
    rows = grade.grade([_notebook(tmp_path, "a.ipynb", "1", metadata={"course": {"chapter": 42}}),
                        _notebook(tmp_path, "b.ipynb", "1", metadata={})])
    assert [row.status for row in rows] == [grade.UNKNOWN_CHAPTER, grade.UNKNOWN_CHAPTER]
    assert "no chapter 42" in rows[0].message and "names no chapter" in rows[1].message


def test_notebooks_are_found_by_path_glob_or_folder(tmp_path):
    for name in ("a.ipynb", "b.ipynb", "notes.txt"):
        (tmp_path / name).write_text("")
    assert grade.notebooks_in([str(tmp_path)]) == [tmp_path / "a.ipynb", tmp_path / "b.ipynb"]
    assert grade.notebooks_in([str(tmp_path / "*.ipynb")]) == [tmp_path / "a.ipynb", tmp_path / "b.ipynb"]
    assert grade.notebooks_in([str(tmp_path / "none*.ipynb")]) == [tmp_path / "none*.ipynb"]


def test_the_csv_has_one_row_per_submission_and_exercise(tmp_path):
    rows = [Row("a.ipynb", 1, "notebook", "", "ran", "ok"), Row("a.ipynb", 1, "1.1", "bag of words", "failed", "x, y")]
    grade.write_csv(rows, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as f:
        read = list(csv.DictReader(f))
    assert [r["exercise"] for r in read] == ["notebook", "1.1"] and read[1]["message"] == "x, y"
    assert "bag of words" in grade.table(rows)


def test_the_command_line_refuses_no_notebooks_and_bad_limits(capsys):
    for argv in ([], ["a.ipynb", "--timeout", "0"]):
        with pytest.raises(SystemExit):
            grade.main(argv)
    assert "--timeout" in capsys.readouterr().err


# With a kernel: chapter 1 (the fastest), and notebooks made for the purpose ----------------------


def test_the_learners_copy_grades_as_not_attempted_and_the_solution_as_passed():
    name = grade.solution_notebook(1).name
    rows = grade.grade([REPO / "chapters" / name, REPO / "solutions" / name], timeout=300)
    learner, solution = rows[: len(rows) // 2], rows[len(rows) // 2:]
    assert [row.status for row in learner] == [grade.RAN] + [NOT_ATTEMPTED] * 3
    assert [row.status for row in solution] == [grade.RAN] + [PASSED] * 3


def _solution_source(answer: str) -> str:
    solution = nbformat.read(grade.solution_notebook(1), as_version=4)
    return next(cell.source for cell in solution.cells if f"def {answer}(" in cell.source)


def test_a_wrong_answer_fails_with_the_checkers_message_and_a_redefined_checker_does_not_pass(tmp_path):
    planted = _notebook(
        tmp_path, "planted.ipynb",
        "import numpy as np\nfrom utils.checks import ch01 as checks",
        # a planted mistake: presence (0/1) instead of counts
        "def bag_of_words(tokens, vocab):\n    vector = np.zeros(len(vocab), dtype='float32')\n"
        "    for token in tokens:\n        if token in vocab:\n            vector[vocab[token]] = 1\n    return vector",
        "checks.check_bag_of_words(bag_of_words)",
        _solution_source("make_windows"),
        # tampering in memory: the checker redefined to print a pass line, the framework broken
        "def next_char_distribution(counts, context, order, vocab_size, alpha):\n    raise NotImplementedError\n"
        "checks.check_next_char_distribution = lambda f: print('Exercise 1.3: passed all 6 checks.')\n"
        "checks.check_next_char_distribution(next_char_distribution)",
        "import utils.checks.framework, utils.results\nutils.checks.framework.checker = utils.checks.framework.Verdict = None\n"
        "(utils.results.RESULTS_DIR / 'planted.json').write_text('{}')",
    )
    rows = _by_exercise(grade.grade([planted], timeout=300))
    assert rows["notebook"].status == grade.RAN_WITH_ERRORS and "ExerciseFailed" in rows["notebook"].message
    assert rows["1.1"].status == FAILED
    assert rows["1.1"].message.startswith("Exercise 1.1 (bag of words): a word that occurs 3 times got the value 1")
    assert rows["1.2"].status == PASSED
    assert rows["1.3"].status == NOT_ATTEMPTED
    assert not (REPO / "results" / "planted.json").exists()  # written into its working copy only


def test_a_notebook_that_edits_the_course_code_is_not_graded_and_the_course_is_untouched(tmp_path):
    checkers = REPO / "utils" / "checks" / "ch01.py"
    before = hashlib.sha256(checkers.read_bytes()).hexdigest()
    edited = _notebook(tmp_path, "edited.ipynb",
                       "import pathlib, utils.checks.ch01 as checks\n"
                       "pathlib.Path(checks.__file__).write_text('raise SystemExit')")
    rows = grade.grade([edited], timeout=120)
    assert rows[0].status == grade.TAMPERED and "utils/checks/ch01.py" in rows[0].message
    assert {row.status for row in rows[1:]} == {grade.NOT_GRADED}
    assert hashlib.sha256(checkers.read_bytes()).hexdigest() == before


def test_changed_files_names_what_differs_and_what_is_new(tmp_path):
    for part in grade.GUARDED:
        (tmp_path / part).mkdir()
        (tmp_path / part / "a.py").write_text("same")
    (tmp_path / "utils" / "b.py").write_text("old")
    (tmp_path / "utils" / "__pycache__").mkdir()
    before = grade.fingerprint(tmp_path)
    (tmp_path / "utils" / "__pycache__" / "a.pyc").write_text("ignored")
    assert grade.changed_files(before, grade.fingerprint(tmp_path)) == []
    (tmp_path / "datasets" / "a.py").write_text("changed")
    (tmp_path / "utils" / "c.py").write_text("added")
    (tmp_path / "utils" / "b.py").unlink()
    assert grade.changed_files(before, grade.fingerprint(tmp_path)) == ["datasets/a.py", "utils/b.py", "utils/c.py"]


def test_a_missing_function_a_crash_and_a_hang_each_get_their_row_and_the_others_go_on(tmp_path):
    missing = _notebook(tmp_path, "missing.ipynb", "x = 1")
    crash = _notebook(tmp_path, "crash.ipynb", "import os\nos._exit(3)")
    hang = _notebook(tmp_path, "hang.ipynb", "import time\ntime.sleep(120)")
    rows = grade.grade([missing, crash, hang], timeout=15)
    by_file = {path.name: [row for row in rows if row.submission == str(path)] for path in (missing, crash, hang)}
    assert [row.status for row in by_file["missing.ipynb"]] == [grade.RAN] + [grade.MISSING] * 3
    assert "defines no `bag_of_words`" in by_file["missing.ipynb"][1].message
    assert by_file["crash.ipynb"][0].status == grade.CRASHED
    assert by_file["hang.ipynb"][0].status == grade.TIMED_OUT
    assert all(row.status == grade.NOT_GRADED for row in by_file["crash.ipynb"][1:] + by_file["hang.ipynb"][1:])


def test_the_memory_limit_stops_a_runaway_allocation(tmp_path):
    greedy = _notebook(tmp_path, "greedy.ipynb", "import numpy as np\nx = np.ones(2**33)")  # 64 GiB
    rows = grade.grade([greedy], timeout=120, memory_gib=6)
    assert rows[0].status == grade.RAN_WITH_ERRORS and "MemoryError" in rows[0].message


@pytest.mark.skipif(not os.environ.get("COURSE_GRADE_ALL"), reason="set COURSE_GRADE_ALL=1: runs all 18 notebooks")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_grades_as_not_attempted_and_its_solution_as_passed(chapter):
    name = grade.solution_notebook(chapter).name
    rows = grade.grade([REPO / "chapters" / name, REPO / "solutions" / name], timeout=600)
    learner, solution = rows[: len(rows) // 2], rows[len(rows) // 2:]
    assert {row.status for row in learner[1:]} == {NOT_ATTEMPTED}, learner
    assert {row.status for row in solution[1:]} == {PASSED}, solution
    assert learner[0].status == solution[0].status == grade.RAN, (learner[0], solution[0])


def test_offline_grading_cuts_the_network_and_the_kernel_still_runs(tmp_path):
    try:
        grade.offline_prefix()
    except GradeError as exc:
        pytest.skip(str(exc))
    reach = _notebook(tmp_path, "reach.ipynb",
                      "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=5)")  # TEST-NET-1
    rows = grade.grade([reach], timeout=60, offline=True)
    assert rows[0].status == grade.RAN_WITH_ERRORS, rows[0]
    assert "unreachable" in rows[0].message.lower(), rows[0].message


def test_the_childs_side_reports_verdicts_and_cell_errors(tmp_path):
    notebook = _notebook(tmp_path, "child.ipynb", "import numpy as np\n1 / 0", _solution_source("make_windows"))
    report = tmp_path / "report.json"
    grade.execute(notebook, report, grade.grading_cell(1, grade.exercises(1)), cell_timeout=60)
    written = json.loads(report.read_text())
    assert [v["status"] for v in written["verdicts"]] == [grade.MISSING, PASSED, grade.MISSING]
    assert len(written["errors"]) == 1 and written["errors"][0].startswith("cell 0: ZeroDivisionError")


def test_the_command_line_prints_the_table_and_writes_the_csv(tmp_path, capsys):
    (tmp_path / "essay.ipynb").write_text("not json")
    assert grade.main([str(tmp_path / "essay.ipynb"), "--csv", str(tmp_path / "out.csv")]) == 0
    assert "not a notebook" in capsys.readouterr().out
    assert "not a notebook" in (tmp_path / "out.csv").read_text()

"""Grade submitted learner notebooks: run each one, then ask the course's own checkers.

::

    python -m course_tools.grade submissions/*.ipynb --csv grades.csv
    make grade NOTEBOOKS="submissions/*.ipynb"

For every submission the grader

1. reads the notebook and finds its chapter (the notebook's ``course`` metadata, else its
   ``course.setup(chapter=N)`` call), and from the chapter's solution notebook the exercises
   with a checker and the name of the function each one checks;
2. copies the course's ``utils/``, ``datasets/`` and ``results/`` into a fresh working copy and
   runs the notebook there, in a fresh kernel, in quick mode by default, with a time limit and a
   memory limit (and, with ``--offline``, with the network cut);
3. then, in the same kernel, loads the checkers (``utils.checks.framework`` and ``utils.checks``) afresh
   from *this* checkout, not the modules the notebook imported nor its working copy's files, and
   calls each one on the function the notebook defined, collecting its verdict: passed, not
   attempted or failed with the checker's message; a function the notebook does not define is
   "missing";
4. refuses to grade a notebook that changed ``utils/`` or ``datasets/`` in its working copy
   (its functions would have run against changed code).

It prints one table and writes a CSV, one row per submission and exercise, plus one row per
submission for the notebook itself ("ran", "ran with errors", "crashed", "timed out", "not a
notebook", ...). One submission's failure never stops the others.

**Grading runs other people's code.** The working copy keeps a submission from overwriting the
course's checkers, another submission or the results, and the limits stop a runaway one. Verdicts
come from the checkers, never from the notebook's printed text: a notebook that skips or
redefines a checker call, prints a pass line of its own or breaks the checker framework in its
kernel is graded on what its functions do, and one that edits the course's files is not graded.
This is not a sandbox against code written to attack the grader itself (code that replaces a
reference implementation in ``utils`` inside its kernel, say, or reads your files): run
submissions as a user who can read nothing else of value, offline, and read a submission whose
grade matters.
"""

from __future__ import annotations

import argparse
import ast
import functools
import glob
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from utils.files import write_text_atomically

REPO = Path(__file__).resolve().parent.parent
COPIED = ("utils", "datasets", "results")  # what a submission's working copy holds besides itself
NOTEBOOK_ROW = "notebook"  # the ``exercise`` of the row about the notebook as a whole

RAN, RAN_WITH_ERRORS, CRASHED, TIMED_OUT, NOT_A_NOTEBOOK, UNKNOWN_CHAPTER, TAMPERED = (
    "ran", "ran with errors", "crashed", "timed out", "not a notebook", "unknown chapter",
    "changed the course's code")
GUARDED = ("utils", "datasets")  # what a submission may read but must not change
MISSING, NOT_GRADED = "missing", "not graded"


class GradeError(ValueError):
    """A submission that cannot be graded, with the reason in words."""


@dataclass(frozen=True)
class Exercise:
    """One checked exercise of a chapter: ``checker`` (in ``utils.checks.chNN``) checks ``answer``."""

    number: str
    title: str
    checker: str
    answer: str


@dataclass(frozen=True)
class Row:
    """One line of the grade table."""

    submission: str
    chapter: int | None
    exercise: str
    title: str
    status: str
    message: str = ""


# Which chapter, which exercises ------------------------------------------------------------------


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or a :class:`GradeError` saying why it is not one."""
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except FileNotFoundError:
        raise GradeError(f"{path} does not exist.") from None
    except (OSError, ValueError, nbformat.ValidationError, AttributeError, KeyError, TypeError) as exc:
        raise GradeError(f"{path} is not a Jupyter notebook that nbformat can read "
                         f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}). "
                         "Submit the .ipynb file as Jupyter saved it.") from None
    return notebook


def chapter_of(notebook: nbformat.NotebookNode) -> int:
    """The chapter a notebook belongs to: its ``course`` metadata, else its ``course.setup`` call."""
    chapter = notebook.metadata.get("course", {}).get("chapter")
    if isinstance(chapter, int) and not isinstance(chapter, bool):
        return chapter
    for cell in notebook.cells:
        if cell.cell_type == "code":
            found = re.search(r"course\.setup\(\s*chapter\s*=\s*(\d+)", cell.source)
            if found:
                return int(found.group(1))
    raise GradeError("the notebook names no chapter: it has neither the course's metadata nor a "
                     "`course.setup(chapter=N)` cell. Start from the chapter's notebook in chapters/.")


def solution_notebook(chapter: int, repo: Path = REPO) -> Path:
    """The solution notebook of ``chapter`` in ``repo``."""
    found = sorted((repo / "solutions").glob(f"{chapter:02d}_*.ipynb"))
    if len(found) != 1:
        raise GradeError(f"the course has no chapter {chapter} (no solutions/{chapter:02d}_*.ipynb).")
    return found[0]


def checker_calls(source: str) -> list[tuple[str, str]]:
    """``(checker, answer)`` for every ``checks.check_x(answer)`` call in a cell's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"
                and node.func.attr.startswith("check_") and node.args and isinstance(node.args[0], ast.Name)):
            calls.append((node.func.attr, node.args[0].id))
    return calls


@functools.lru_cache(maxsize=None)
def exercises(chapter: int, repo: Path = REPO) -> list[Exercise]:
    """The chapter's checked exercises, in notebook order, read from its solution notebook."""
    import importlib

    notebook = nbformat.read(solution_notebook(chapter, repo), as_version=4)
    module = importlib.import_module(f"utils.checks.ch{chapter:02d}")
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for checker_name, answer in checker_calls(cell.source):
                check = getattr(module, checker_name)
                found.append(Exercise(check.exercise, check.title, checker_name, answer))
    return found


# Running one submission (in a child process, whose limits its kernel inherits) --------------------

_GRADING_FUNCTION = '''\
def _course_grade(pristine, chapter_module, answers, namespace):
    import importlib.util, json, pathlib, sys
    checkers = [name for name in sys.modules if name in ("utils.checks.framework", "utils.checks") or name.startswith("utils.checks.")]
    own = {name: sys.modules.pop(name) for name in checkers}
    root = pathlib.Path(pristine) / "utils"

    def load(name, path, package=False):
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[str(path.parent)] if package else None)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    try:
        load("utils.checks", root / "checks" / "__init__.py", package=True)
        load("utils.checks.framework", root / "checks" / "framework.py")
        checks = load(chapter_module, root / "checks" / (chapter_module.rsplit(".", 1)[1] + ".py"))
        verdicts = []
        for checker_name, answer_name in answers:
            if answer_name not in namespace:
                verdicts.append({"status": "missing", "message": f"the notebook defines no `{answer_name}`."})
                continue
            try:
                verdict = getattr(checks, checker_name).verdict(namespace[answer_name])
                verdicts.append({"status": verdict.status, "message": verdict.message})
            except Exception as exc:  # the learner's code may break the checker in any way
                verdicts.append({"status": "failed", "message": f"the checker stopped: {type(exc).__name__}: {exc}"})
        return json.dumps(verdicts)
    finally:
        for name in [name for name in sys.modules if name in ("utils.checks.framework", "utils.checks") or name.startswith("utils.checks.")]:
            del sys.modules[name]
        sys.modules.update(own)
'''


def grading_cell(chapter: int, answers: Sequence[Exercise], pristine: Path = REPO) -> str:
    """The code the grader runs in the submission's kernel after the notebook: returns the verdicts."""
    answers_named = [(e.checker, e.answer) for e in answers]
    return (f"{_GRADING_FUNCTION}\n\n"
            f"_course_grade({str(pristine)!r}, 'utils.checks.ch{chapter:02d}', {answers_named!r}, globals())\n")


def _cell_errors(notebook: nbformat.NotebookNode) -> list[str]:
    """``cell N: ExceptionName: message`` for every code cell that ended in an error."""
    errors = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                errors.append(f"cell {index}: {output.get('ename')}: {str(output.get('evalue', ''))[:300]}")
    return errors


def execute(notebook_path: Path, report_path: Path, grading_source: str, cell_timeout: int) -> None:
    """Run the notebook, then the grading cell, in one fresh kernel; write what happened as JSON.

    This runs in the child process that :func:`grade_one` starts inside the working copy.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    notebook = nbformat.read(notebook_path, as_version=4)
    n_cells = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(grading_source))
    config = Config()  # the kernel talks to this process over Unix sockets, so it needs no network at all
    config.KernelManager.transport, config.KernelManager.ip = "ipc", str(notebook_path.parent / "kernel")
    client = NotebookClient(notebook, config=config, kernel_name="python3", timeout=cell_timeout,
                            allow_errors=True, resources={"metadata": {"path": str(notebook_path.parent)}})
    report: dict[str, object] = {}
    try:
        client.execute()
    except DeadKernelError as exc:
        report[CRASHED] = f"the kernel died ({str(exc).splitlines()[0][:200]})."
    except CellTimeoutError:
        report[TIMED_OUT] = f"a cell ran longer than {cell_timeout} s."
    grading = notebook.cells[-1]
    results = [o for o in grading.get("outputs", []) if o.get("output_type") == "execute_result"]
    if results and CRASHED not in report and TIMED_OUT not in report:
        report["verdicts"] = json.loads(ast.literal_eval(results[-1]["data"]["text/plain"]))
    elif not report:
        report[CRASHED] = "the grader's own cell failed: " + "; ".join(_cell_errors(
            nbformat.v4.new_notebook(cells=[grading])) or ["no verdicts came back"])
    notebook.cells = notebook.cells[:n_cells]
    report["errors"] = _cell_errors(notebook)
    write_text_atomically(report_path, json.dumps(report))


def fingerprint(root: Path) -> dict[str, str]:
    """The SHA-256 of every file of :data:`GUARDED` under ``root`` (caches left out), by relative path."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for part in GUARDED for path in sorted((root / part).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The files that differ between two :func:`fingerprint` results: changed, added or removed."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def _limits(memory_bytes: int) -> None:
    """In the child, before it starts: cap its address space (its kernel inherits the cap)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def offline_prefix() -> list[str]:
    """The command prefix that runs a program without network (a new network namespace)."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--map-root-user", "--net", "true"],
                                         capture_output=True).returncode != 0:
        raise GradeError("--offline needs Linux's `unshare` with user namespaces, which this machine "
                         "does not allow. Grade without --offline on a machine with no network instead.")
    return [unshare, "--map-root-user", "--net"]


def grade_one(path: Path, *, mode: str = "quick", backend: str | None = None, timeout: int = 600,
              memory_gib: float = 8.0, offline: bool = False) -> list[Row]:
    """Grade one submission: one row for the notebook, then one per exercise of its chapter."""
    name = str(path)
    try:
        notebook = read_submission(path)
    except GradeError as exc:
        return [Row(name, None, NOTEBOOK_ROW, "", NOT_A_NOTEBOOK, str(exc))]
    try:
        chapter = chapter_of(notebook)
        wanted = exercises(chapter)
    except (GradeError, ModuleNotFoundError) as exc:
        return [Row(name, None, NOTEBOOK_ROW, "", UNKNOWN_CHAPTER, str(exc))]

    def rows(status: str, message: str, verdicts: list[dict[str, str]] | None = None) -> list[Row]:
        head = [Row(name, chapter, NOTEBOOK_ROW, "", status, message)]
        if verdicts is None:
            verdicts = [{"status": NOT_GRADED, "message": f"not graded: the notebook {status}."}] * len(wanted)
        return head + [Row(name, chapter, e.number, e.title, v["status"], v["message"])
                       for e, v in zip(wanted, verdicts, strict=True)]

    with tempfile.TemporaryDirectory(prefix="course-grade-") as scratch:
        work = Path(scratch) / "course"
        for part in COPIED:
            shutil.copytree(REPO / part, work / part, ignore=shutil.ignore_patterns("__pycache__"))
        (work / "chapters").mkdir()
        copy = work / "chapters" / "submission.ipynb"
        nbformat.write(notebook, copy)
        guarded = fingerprint(work)
        report_path, cell_path = Path(scratch) / "report.json", Path(scratch) / "grading_cell.py"
        write_text_atomically(cell_path, grading_cell(chapter, wanted))
        command = [sys.executable, "-m", "course_tools.grade", "--execute", str(copy), "--report", str(report_path),
                   "--cell", str(cell_path), "--timeout", str(timeout)]
        env = {**os.environ, "PYTHONPATH": str(work), "COURSE_MODE": mode, "MPLBACKEND": "Agg",
               "KERAS_BACKEND": backend or os.environ.get("KERAS_BACKEND", "tensorflow")}
        start = time.monotonic()
        child = subprocess.Popen((offline_prefix() if offline else []) + command, cwd=work, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                 preexec_fn=lambda: _limits(int(memory_gib * 2**30)))
        try:
            output, _ = child.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            return rows(TIMED_OUT, f"stopped after {timeout} s (--timeout).")
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
        seconds = time.monotonic() - start
        if not report_path.exists():
            tail = output.decode(errors="replace").strip().splitlines()[-3:]
            return rows(CRASHED, "the notebook could not be run" + (f": {' | '.join(tail)}" if tail else "."))
        report = json.loads(report_path.read_text())
        changed = changed_files(guarded, fingerprint(work))
    if changed:
        return rows(TAMPERED, f"the notebook changed {', '.join(changed[:5])} in its working copy, so its "
                              "answers were checked against changed code; they are not graded.")
    errors = report["errors"]
    first = f" (first: {errors[0]})" if errors else ""
    for status in (CRASHED, TIMED_OUT):
        if status in report:
            return rows(status, f"{report[status]} {len(errors)} cell(s) had errors before{first}.")
    if errors:
        return rows(RAN_WITH_ERRORS, f"{len(errors)} cell(s) ended in an error{first}; {seconds:.0f} s.",
                    report["verdicts"])
    return rows(RAN, f"every cell ran without an error; {seconds:.0f} s.", report["verdicts"])


def notebooks_in(patterns: Sequence[str]) -> list[Path]:
    """Every file that ``patterns`` name: paths, globs, or directories (their ``*.ipynb``)."""
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found += sorted(path.glob("*.ipynb"))
        else:
            matches = sorted(Path(p) for p in glob.glob(pattern))
            found += matches or [path]  # a name that matches nothing gets its own "not a notebook" row
    return found


def grade(paths: Sequence[Path], **options: object) -> list[Row]:
    """Grade every submission in ``paths`` (see :func:`grade_one` for the options)."""
    rows: list[Row] = []
    for path in paths:
        rows += grade_one(path, **options)  # type: ignore[arg-type]
    return rows


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table, messages shortened to fit a terminal."""
    import pandas as pd

    frame = pd.DataFrame([asdict(row) for row in rows]).drop(columns="chapter")
    frame["message"] = frame["message"].str.slice(0, 100)
    left = {column: f"{{:<{frame[column].str.len().max()}}}".format for column in frame.columns}
    text = frame.to_string(index=False, formatters=left, justify="left")
    return "\n".join(line.rstrip() for line in text.splitlines())


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """The rows as CSV, written atomically."""
    import pandas as pd

    write_text_atomically(path, pd.DataFrame([asdict(row) for row in rows]).to_csv(index=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.grade", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="submitted notebooks, globs or directories")
    parser.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the CSV")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default=None,
                        help="Keras backend (default: KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one submission may run")
    parser.add_argument("--memory-gib", type=float, default=8.0, help="address-space limit per submission")
    parser.add_argument("--offline", action="store_true", help="run each submission with the network cut")
    parser.add_argument("--execute", type=Path, help=argparse.SUPPRESS)  # the child's side
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cell", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute:
        execute(args.execute, args.report, args.cell.read_text(), args.timeout)
        return 0
    if not args.notebooks:
        parser.error("name the notebooks to grade, for example: python -m course_tools.grade submissions/*.ipynb")
    if args.timeout < 1 or args.memory_gib <= 0:
        parser.error("--timeout and --memory-gib must be positive.")
    if args.offline:
        try:
            offline_prefix()
        except GradeError as exc:
            parser.error(str(exc))
    rows = grade(notebooks_in(args.notebooks), mode=args.mode, backend=args.backend, timeout=args.timeout,
                 memory_gib=args.memory_gib, offline=args.offline)
    print(table(rows))
    write_csv(rows, args.csv)
    print(f"\n{len(rows)} rows written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

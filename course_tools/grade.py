"""Grade submitted learner notebooks: each runs sealed off, and the course's checkers judge it from outside.

::

    python -m course_tools.grade submissions/*.ipynb --offline --csv grades.csv
    make grade NOTEBOOKS="submissions/*.ipynb" GRADE_ARGS="--offline"

For every submission the grader

1. reads the notebook and finds its chapter (the notebook's ``course`` metadata, else its
   ``course.setup(chapter=N)`` call), and from the chapter's solution notebook the exercises with a
   checker and the name of the function each one checks;
2. starts a kernel for it in a sandbox of its own (:mod:`course_tools.grading.sandbox`): its own
   unprivileged user (or user namespace), its own mount, PID and IPC namespaces (and network
   namespace, cut, with ``--offline``), a root that holds only the system, Python and a copy of the
   course's ``utils/``, ``datasets/`` and ``results/``, memory and process limits, and runs the code
   cells one by one, each with a time limit, going on after a cell that fails, hangs or kills its
   kernel (:mod:`course_tools.grading.cells`);
3. then asks the kernel only to describe and call the learner's functions: the checkers run here,
   in the grader's own process, loaded from this checkout, and each gets a proxy that forwards every
   call to the kernel and brings back plain data (:mod:`course_tools.grading.proxy`). The notebook's
   printed text and the files it writes carry no weight. An answer that reaches the course's own
   implementation of its exercise is flagged ("uses the course's reference");
4. ends every process of the submission before its slot grades the next one.

Several submissions are graded at once (``--jobs``, by default one per CPU core). It prints how the
submissions were sealed off, one table, and writes a CSV: one row per submission for the notebook
itself ("ran", "ran with errors", "timed out", "crashed", "not a notebook", "unknown chapter",
"error") and one per exercise ("passed", "not attempted", "failed" with the checker's message,
"flagged", "missing", "error", "not graded"). Whatever a submission does, its rows say so and the
others are graded; the table and the CSV are always written.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import csv
import functools
import glob
import io
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import nbformat

from course_tools.grading import seal as sealing
from course_tools.grading.cells import CellRun, run_cells
from course_tools.grading.kernel import Kernel, KernelDied
from course_tools.grading.proxy import Answers, BadReply, CallTimedOut, NotCarried
from utils.checks.framework import FAILED, PASSED
from utils.files import write_text_atomically

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_ROW = "notebook"  # the ``exercise`` of the row about the notebook as a whole
MAX_NOTEBOOK_BYTES = 50 << 20  # a larger file is not read
SETUP_TIMEOUT = 60  # seconds to install the grader's agent in a kernel and to describe the answers

RAN, RAN_WITH_ERRORS, CRASHED, TIMED_OUT, NOT_A_NOTEBOOK, UNKNOWN_CHAPTER = (
    "ran", "ran with errors", "crashed", "timed out", "not a notebook", "unknown chapter")
MISSING, NOT_GRADED, FLAGGED, ERROR = "missing", "not graded", "flagged", "error"
USES_REFERENCE = "uses the course's reference"
# The course's own implementation of an exercise is the function of utils/ with the answer's name,
# except where the notebook names the answer otherwise:
REFERENCE_ALIASES = {"decoder_io": ("utils.data.tokens.teacher_forcing",)}


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


@dataclass(frozen=True)
class Settings:
    """How every submission of one run is graded (see :func:`grade` for the meaning of each)."""

    seal: sealing.Seal
    work: Path
    mode: str = "quick"
    backend: str = "tensorflow"
    timeout: float = 600
    cell_timeout: float = 300
    check_timeout: float = 120


# Which chapter, which exercises ------------------------------------------------------------------


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, or a :class:`GradeError` saying why it is not one."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise GradeError(f"{path} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB: clear its outputs "
                             "(Edit > Clear Outputs of All Cells), save it and submit it again.")
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except GradeError:
        raise
    except FileNotFoundError:
        raise GradeError(f"{path} does not exist.") from None
    except Exception as exc:  # anything nbformat raises on a file that is not a notebook
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


def _checkers(chapter: int) -> Any:
    import importlib

    return importlib.import_module(f"utils.checks.ch{chapter:02d}")


@functools.lru_cache(maxsize=None)
def exercises(chapter: int, repo: Path = REPO) -> list[Exercise]:
    """The chapter's checked exercises, in notebook order, read from its solution notebook."""
    notebook = nbformat.read(solution_notebook(chapter, repo), as_version=4)
    module = _checkers(chapter)
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for checker_name, answer in checker_calls(cell.source):
                check = getattr(module, checker_name)
                found.append(Exercise(check.exercise, check.title, checker_name, answer))
    return found


@functools.lru_cache(maxsize=None)
def _course_functions(repo: Path = REPO) -> dict[str, tuple[str, ...]]:
    """Every top-level function and class of ``utils/`` outside its checks, by name: their qualified names."""
    found: dict[str, list[str]] = {}
    for path in sorted((repo / "utils").rglob("*.py")):
        parts = path.relative_to(repo).with_suffix("").parts
        if "checks" in parts or "__pycache__" in parts:
            continue
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.setdefault(node.name, []).append(f"{module}.{node.name}")
    return {name: tuple(qualified) for name, qualified in found.items()}


def references(exercise: Exercise) -> frozenset[str]:
    """The course's own implementations of ``exercise`` (qualified names): what an answer must not call."""
    own = _course_functions().get(exercise.answer, ())
    return frozenset(own + REFERENCE_ALIASES.get(exercise.answer, ()))


# Grading one submission ------------------------------------------------------------------------------


def _notebook_row(run: CellRun, seconds: float, settings: Settings) -> tuple[str, str]:
    """The notebook's status and message from what running its cells came to."""
    said = []
    if run.crashed:
        again = ("; the kernel was started again and the notebook run without that cell" if run.alive
                 else "; it could not be graded after that")
        said.append(f"{run.crashed[0]}{again}")
    said += [f"cell {index} ran longer than --cell-timeout ({settings.cell_timeout:g} s) and "
             + ("ignored the interrupt; the kernel was started again and the notebook run without that cell"
                if index in run.skipped else "was interrupted") for index in run.timed_out[:3]]
    if run.out_of_time is not None:
        said.append(f"the notebook ran past --timeout ({settings.timeout:g} s) in cell {run.out_of_time}; "
                    "the cells after it were not run")
    if run.errors:
        said.append(f"{len(run.errors)} cell(s) ended in an error (first: {run.errors[0]})")
    status = (CRASHED if run.crashed else TIMED_OUT if run.timed_out or run.out_of_time is not None
              else RAN_WITH_ERRORS if run.errors else RAN)
    if status == RAN:
        said.append("every cell ran without an error")
    return status, f"{'; '.join(said)}; {seconds:.0f} s."


def _judge(exercise: Exercise, checkers: Any, answers: Answers, info: dict[str, Any],
           settings: Settings) -> tuple[str, str]:
    """Run the exercise's checker here on a proxy for the learner's function; (status, message)."""
    if not info.get("defined"):
        return MISSING, f"the notebook defines no `{exercise.answer}`."
    answers.deadline = time.monotonic() + settings.check_timeout
    answers.callback_calls, answers.objects = 0, []
    try:
        verdict = getattr(checkers, exercise.checker).verdict(answers.proxy(exercise.answer, info))
    except CallTimedOut as late:
        if not late.recovered or not answers.kernel.responsive():
            answers.kernel.close()  # wedged, or its connection dropped: the next check starts a fresh kernel
        return ERROR, (f"`{exercise.answer}` {late} (--check-timeout {settings.check_timeout:g} s); "
                       "not graded.")
    except NotCarried as problem:
        return ERROR, f"not graded automatically: {problem}; read the answer."
    except BadReply as problem:
        return ERROR, f"{problem}; not graded."
    except Exception as exc:  # the learner's answer may break the checker in any way
        return FAILED, f"the checker stopped: {type(exc).__name__}: {str(exc)[:300]}"
    if answers.objects and verdict.status != PASSED:
        return ERROR, (f"not graded automatically: `{exercise.answer}` returned {answers.objects[0]}, an "
                       "object that stays in the submission's sandbox (only plain data crosses to the "
                       "grader), so its checker cannot judge it from outside; read the answer.")
    reached = sorted(references(exercise) & set(info.get("course") or ()))
    if reached:
        return FLAGGED, (f"{USES_REFERENCE}: `{exercise.answer}` calls {', '.join(reached)} instead of "
                         f"computing the answer itself. The checker said: {verdict.message}")
    return verdict.status, verdict.message


def _grade_exercises(kernel: Kernel, wanted: list[Exercise], chapter: int, cells: list[tuple[int, str]],
                     run: CellRun, settings: Settings) -> list[tuple[str, str]]:
    """(status, message) per exercise, judged on the functions the kernel holds after the notebook ran."""
    checkers = _checkers(chapter)
    verdicts: list[tuple[str, str]] = []
    answers = Answers(kernel)
    described: dict[str, dict[str, Any]] | None = None
    for exercise in wanted:
        if not kernel.alive():  # the kernel died during the previous check: a fresh one, the notebook again
            kept = [(index, source) for index, source in cells if index not in run.skipped]
            again = run_cells(kernel, kept, deadline=time.monotonic() + settings.timeout,
                              cell_timeout=settings.cell_timeout)
            described = None
            if not again.alive:
                verdicts.append((NOT_GRADED, "not graded: the kernel could not be started again after it "
                                             "died during an earlier check."))
                continue
        try:
            if described is None:
                answers.install(SETUP_TIMEOUT)
                described = answers.describe([e.answer for e in wanted], SETUP_TIMEOUT)
            verdicts.append(_judge(exercise, checkers, answers, described[exercise.answer], settings))
        except (BadReply, CallTimedOut) as problem:
            verdicts.append((ERROR, f"the grader could not ask the kernel about `{exercise.answer}`: "
                                    f"{problem}."))
        except KernelDied as death:
            verdicts.append((ERROR, f"{death} while `{exercise.answer}` was checked; not graded."))
            kernel.close()
    return verdicts


def grade_one(path: Path, settings: Settings, slot: int) -> list[Row]:
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

    def rows(status: str, message: str, verdicts: list[tuple[str, str]] | None = None) -> list[Row]:
        if verdicts is None:
            verdicts = [(NOT_GRADED, f"not graded: {message}")] * len(wanted)
        return [Row(name, chapter, NOTEBOOK_ROW, "", status, message)] + [
            Row(name, chapter, e.number, e.title, verdict, said)
            for e, (verdict, said) in zip(wanted, verdicts)]

    cells = [(index, cell.source) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    start = time.monotonic()
    try:
        with Kernel(settings.seal, settings.work, slot, course=REPO, mode=settings.mode,
                    backend=settings.backend) as kernel:
            _LIVE[slot] = kernel
            run = run_cells(kernel, cells, deadline=start + settings.timeout,
                            cell_timeout=settings.cell_timeout)
            status, message = _notebook_row(run, time.monotonic() - start, settings)
            if not run.alive:
                return rows(status, message)
            return rows(status, message, _grade_exercises(kernel, wanted, chapter, cells, run, settings))
    except Exception as exc:  # a fault of the grader's own (a full disk, say): this submission's rows say so
        return rows(ERROR, f"the grader failed on this submission: {type(exc).__name__}: {str(exc)[:300]}")
    finally:
        _LIVE.pop(slot, None)


_LIVE: dict[int, Kernel] = {}  # the kernels being graded, by slot (to end them on Ctrl-C)


# Grading a class -------------------------------------------------------------------------------------


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


@functools.lru_cache(maxsize=None)
def _sealed(unsealed: bool, offline: bool, memory_bytes: int) -> sealing.Seal:
    seal = sealing.choose(unsealed=unsealed, offline=offline, memory_bytes=memory_bytes)
    sealing.probe(seal, REPO)
    return seal


def seal_for(*, unsealed: bool = False, offline: bool = False, memory_gib: float = 8.0) -> sealing.Seal:
    """The seal of this machine, proved by one trial sandbox (once per process); SealError if none works."""
    return _sealed(unsealed, offline, int(memory_gib * 2**30))


def grade(paths: Sequence[Path], *, mode: str = "quick", backend: str | None = None, timeout: float = 600,
          cell_timeout: float = 300, check_timeout: float = 120, memory_gib: float = 8.0,
          offline: bool = False, unsealed: bool = False, jobs: int | None = None) -> list[Row]:
    """Grade every submission in ``paths``, ``jobs`` at a time (default: one per CPU core).

    ``timeout`` bounds the notebook's cells (restarts included) and ``cell_timeout`` each cell;
    ``check_timeout`` bounds each exercise's check; ``memory_gib`` is the memory limit of each
    submission; ``offline`` cuts its network; ``unsealed`` runs it as your user, unsealed.
    """
    seal = seal_for(unsealed=unsealed, offline=offline, memory_gib=memory_gib)
    jobs = max(1, min(jobs or os.cpu_count() or 1, sealing.MAX_SLOTS - 1, len(paths) or 1))
    work = Path(tempfile.mkdtemp(prefix="cg-"))
    settings = Settings(seal, work, mode, backend or os.environ.get("KERAS_BACKEND", "tensorflow"),
                        timeout, cell_timeout, check_timeout)
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)

    def one(path: Path) -> list[Row]:
        slot = slots.get()
        try:
            return grade_one(path, settings, slot)
        finally:
            slots.put(slot)

    results: list[list[Row] | None] = [None] * len(paths)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    try:
        futures = {executor.submit(one, path): k for k, path in enumerate(paths)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
    except KeyboardInterrupt:  # Ctrl-C: end every kernel, keep what was graded, mark the rest
        executor.shutdown(wait=False, cancel_futures=True)
        for kernel in list(_LIVE.values()):
            if kernel.process is not None:
                _kill(kernel.process.pid)
    finally:
        executor.shutdown(wait=True)
        shutil.rmtree(work, ignore_errors=True)
    return [row for k, path in enumerate(paths) for row in results[k] or
            [Row(str(path), None, NOTEBOOK_ROW, "", NOT_GRADED, "not graded: the run was stopped (Ctrl-C).")]]


def _kill(pid: int) -> None:
    """Ask a sandbox's launcher to end its namespace (it kills the first process, reaps it and exits)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table, messages shortened to fit a terminal."""
    import pandas as pd

    frame = pd.DataFrame([asdict(row) for row in rows]).drop(columns="chapter")
    frame["message"] = frame["message"].str.slice(0, 100)
    left = {column: f"{{:<{frame[column].str.len().max()}}}".format for column in frame.columns}
    text = frame.to_string(index=False, formatters=left, justify="left")
    return "\n".join(line.rstrip() for line in text.splitlines())


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """The rows as CSV (a chapter that is not known is left empty), written atomically."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(Row)], lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(row) for row in rows)
    write_text_atomically(path, out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.grade", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="submitted notebooks, globs or directories")
    parser.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the CSV")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default=None,
                        help="Keras backend (default: KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one notebook's cells")
    parser.add_argument("--cell-timeout", type=float, default=300, help="seconds for one cell")
    parser.add_argument("--check-timeout", type=float, default=120, help="seconds for one exercise's check")
    parser.add_argument("--memory-gib", type=float, default=8.0,
                        help="memory limit per submission (a cgroup where the grader can make one, and "
                             "RLIMIT_DATA per process; never an address-space limit, which stops CUDA)")
    parser.add_argument("--offline", action="store_true", help="run each submission with its network cut")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions graded at once (default: one per CPU core)")
    parser.add_argument("--unsealed", action="store_true",
                        help="run submissions as your user without sealing them off "
                             "(only for notebooks you trust)")
    args = parser.parse_args(argv)
    if not args.notebooks:
        parser.error("name the notebooks to grade, for example: "
                     "python -m course_tools.grade submissions/*.ipynb")
    limits = (args.timeout, args.cell_timeout, args.check_timeout, args.memory_gib, args.jobs or 1)
    if min(limits) <= 0 or args.jobs == 0:
        parser.error("--timeout, --cell-timeout, --check-timeout, --memory-gib and --jobs must be positive.")
    try:
        seal = seal_for(unsealed=args.unsealed, offline=args.offline, memory_gib=args.memory_gib)
    except sealing.SealError as exc:
        parser.error(str(exc))
    print(f"Grading with {seal.describe()}\n", flush=True)
    rows = grade(notebooks_in(args.notebooks), mode=args.mode, backend=args.backend, timeout=args.timeout,
                 cell_timeout=args.cell_timeout, check_timeout=args.check_timeout, memory_gib=args.memory_gib,
                 offline=args.offline, unsealed=args.unsealed, jobs=args.jobs)
    print(table(rows))
    write_csv(rows, args.csv)
    print(f"\n{len(rows)} rows written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate the learner's notebooks in ``chapters/`` from the worked ones in ``solutions/``.

In a solution notebook, the answer to an exercise sits between two marker lines
inside a code cell::

    def bag_of_words(tokens, vocab):
        # BEGIN SOLUTION
        ...
        # END SOLUTION

The generator replaces each marked region with a stub that raises
``NotImplementedError`` (indented like the ``BEGIN`` marker), clears outputs and
adds a note under the title. Run ``python -m course_tools.exercises`` to write
``chapters/``, or ``python -m course_tools.exercises --check`` to fail when it is stale; give it
solution notebooks (or ``--solutions FOLDER``) to touch only their learner copies.

A region whose ``BEGIN`` marker names its own stub gets that line instead. This is how a
prediction stays the learner's: the worked notebook holds the author's guess, the learner's
copy ``None``, and the cell that reveals the measurement asks for a guess while it is ``None``::

    # BEGIN SOLUTION, stub: predicted_alpha = None  # your guess, before you measure
    predicted_alpha = 0.5
    # END SOLUTION
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from utils.files import write_text_atomically

REPO = Path(__file__).resolve().parent.parent
BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code.")'
OWN_STUB = f"{BEGIN}, stub:"  # a BEGIN marker that gives the region's stub after it
BOOKKEEPING = "bookkeeping"
"""The tag of a code cell a learner reads past: the one that gathers a chapter's figures into its results
file. Such a cell is also marked ``jupyter.source_hidden`` (JupyterLab shows it folded, its output
open); the book folds its code behind a button and the slides show only its output."""
NOTE = (
    "> **Exercise notebook.** Under each *Exercise* heading, a code cell raises "
    "`NotImplementedError` until you replace that line with your answer; the checker cell after it "
    "says whether your answer is right and, if not, what is wrong. The rest of the notebook runs "
    "either way. Worked solutions: `solutions/{name}`."
)


class MarkerError(ValueError):
    """A solution notebook's ``BEGIN``/``END SOLUTION`` markers do not pair up."""


def region_stub(line: str) -> str | None:
    """The stub of the region that ``line`` opens, or None if it is not a ``BEGIN`` marker.

    ``# BEGIN SOLUTION`` opens a region stubbed by :data:`STUB`; ``# BEGIN SOLUTION, stub: CODE``
    one stubbed by ``CODE`` (one line of Python, such as ``predicted_order = None  # your guess``).
    """
    stripped = line.strip()
    if stripped == BEGIN:
        return STUB
    if stripped.startswith(OWN_STUB):
        return stripped[len(OWN_STUB):].strip()
    return None


def _check_stub(stub: str, where: str) -> None:
    """A region's own stub must be one line of Python: say what is wrong with it, if anything."""
    if not stub:
        raise MarkerError(f"{where}: '{OWN_STUB}' names no stub: write the learner's line after it, for example "
                          f"'{OWN_STUB} predicted_order = None  # your guess, before you measure'.")
    try:
        compile(stub, where, "exec")
    except SyntaxError as error:
        raise MarkerError(f"{where}: the stub {stub!r} is not a line of Python ({error.msg}).") from None


def stub_source(source: str, where: str = "cell") -> str:
    """Replace every marked solution region of one cell's source with its stub."""
    out: list[str] = []
    inside = False
    opened_at = 0
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        stub = region_stub(line)
        if stub is not None:
            if inside:
                raise MarkerError(f"{where}, line {number}: '{BEGIN}' inside an open solution region.")
            _check_stub(stub, f"{where}, line {number}")
            inside, opened_at = True, number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{stub}")
        elif stripped == END:
            if not inside:
                raise MarkerError(f"{where}, line {number}: '{END}' without a '{BEGIN}' before it.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}, line {opened_at}: '{BEGIN}' is never closed by '{END}'.")
    return "\n".join(out)


def count_exercises(notebook: NotebookNode) -> int:
    """How many exercise regions (stubbed by :data:`STUB`) a notebook marks; a prediction is not one."""
    return sum(
        line.strip() == BEGIN
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
    )


def make_exercise_notebook(solution: NotebookNode, name: str) -> NotebookNode:
    """The learner's version of a solution notebook (a new object; the input is unchanged)."""
    notebook = copy.deepcopy(solution)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.source = stub_source(cell.source, where=f"{name}, cell {index}")
            cell.outputs = []
            cell.execution_count = None
    note = nbformat.v4.new_markdown_cell(NOTE.format(name=name))
    note.pop("id", None)
    notebook.cells.insert(1, note)
    _renumber_ids(notebook)
    return notebook


def _renumber_ids(notebook: NotebookNode) -> None:
    """Give cells stable ids so the generated file does not change from run to run."""
    notebook.nbformat_minor = max(notebook.nbformat_minor, 5)  # cell ids arrived in nbformat 4.5
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"


def render(notebook: NotebookNode) -> str:
    """The notebook as the exact text that is written to disk."""
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def generate(solutions: Path | Sequence[Path], chapters: Path, *, check: bool = False,
             prune: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) the learner copies of the given solution notebooks.

    ``solutions`` is a folder (every ``*.ipynb`` in it) or a list of notebook files. Only the
    learner copies of those notebooks are written or reported: a folder that holds one chapter
    leaves every other chapter alone. With ``prune``, a learner copy in ``chapters`` that has no
    solution among them is stale too and, without ``check``, removed (everything in
    ``chapters/`` is generated); ask for it only when ``solutions`` is the whole course.
    """
    if isinstance(solutions, Path):
        sources = sorted(solutions.glob("*.ipynb"))
        if not sources:
            raise FileNotFoundError(f"no solution notebooks (*.ipynb) found in {solutions}.")
    else:
        sources = sorted(Path(source) for source in solutions)
        if not sources:
            raise FileNotFoundError("no solution notebooks were given.")
        missing = [str(source) for source in sources if not source.is_file()]
        if missing:
            raise FileNotFoundError(f"no such solution notebook: {', '.join(missing)}.")
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"two solution notebooks share a name, so they would share a learner copy: {names}.")
    stale: list[Path] = []
    for source in sources:
        solution = nbformat.read(source, as_version=4)
        text = render(make_exercise_notebook(solution, source.name))
        target = chapters / source.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            stale.append(target)
            if not check:
                write_text_atomically(target, text)
    if prune:
        expected = set(names)
        for orphan in sorted(chapters.glob("*.ipynb")):
            if orphan.name not in expected:
                stale.append(orphan)
                if not check:
                    orphan.unlink()
    return stale


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course_tools.exercises [--check] [--prune] [--solutions DIR | NOTEBOOK ...]``.

    With no notebooks and no ``--solutions``, the whole course: every learner copy is written and
    one whose solution is gone is removed. Given notebooks or a folder, only their learner copies
    are touched, unless ``--prune`` says the folder is the whole course.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="solution notebooks whose learner copies to write (default: all of solutions/)")
    parser.add_argument("--check", action="store_true", help="only report stale chapter notebooks")
    parser.add_argument("--solutions", type=Path, default=None,
                        help="a folder of solution notebooks (default: the course's solutions/)")
    parser.add_argument("--chapters", type=Path, default=REPO / "chapters")
    parser.add_argument("--prune", action="store_true",
                        help="also remove learner copies without a solution (implied for the whole course)")
    args = parser.parse_args(argv)
    if args.notebooks and args.solutions is not None:
        parser.error("give either solution notebooks or --solutions, not both")
    whole_course = not args.notebooks and args.solutions is None
    solutions = args.notebooks or (args.solutions if args.solutions is not None else REPO / "solutions")
    stale = generate(solutions, args.chapters, check=args.check, prune=args.prune or whole_course)
    if args.check:
        for path in stale:
            print(f"stale: {path} (run `python -m course_tools.exercises` to bring chapters/ up to date)",
                  file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        print(f"{'wrote' if path.exists() else 'removed'} {path}")
    if not stale:
        print("chapters/ is up to date")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

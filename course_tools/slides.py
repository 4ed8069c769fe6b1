"""Slides for every chapter, generated from the chapter's own executed notebook (reveal.js).

    python -m course_tools.slides                               # full mode on JAX (make slides)
    python -m course_tools.slides --mode quick --backend torch  # what CI builds

Each deck is the solution notebook as it ran (:mod:`course_tools.execution`; the same copies as the
book), with two changes made on the way: every exercise cell shows the learner's version
(the stub, not the worked solution, and no output), and the cells are cut into slides at the
notebook's own headings - a chapter section (``##``) starts a slide, a subsection (``###``) a
slide below it - and wherever a slide would grow past about one screen. Nothing is kept in a
second copy. The decks, ``reveal.js`` (from the sphinx-revealjs package) and MathJax (from
jupyter-server-mathjax) are written to ``build/slides/``; open ``build/slides/index.html``.
Keys: arrows to move, ``s`` for the speaker view, ``f`` for full screen, ``o`` for the overview.
"""

from __future__ import annotations

import copy
import html
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat

from course_tools import execution
from course_tools.book import BookError, command_line, executed_copies, mathjax_folder, scan
from course_tools.exercises import BEGIN, stub_source
from utils.files import write_text_atomically
from course_tools.grade import checker_calls

REPO = Path(__file__).resolve().parent.parent
SLIDES = execution.BUILD / "slides"
TEMPLATES = REPO / "book" / "templates"
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
SCREEN = 26  # lines of text that fit on one slide at the template's font size
IMAGE_LINES = 14  # what a figure counts as, in lines
_HEADING_START = re.compile(r"\n(?=#{1,3} )")  # a line that opens with a heading, inside a cell


def revealjs_folder() -> Path:
    """reveal.js (``dist/`` and ``plugin/``) as the sphinx-revealjs package ships it."""
    try:
        import sphinx_revealjs
    except ImportError:
        raise BookError("the slides need reveal.js from the sphinx-revealjs package: run `make slides`, "
                        "which installs it, or `pip install -e '.[book]'`.") from None
    folder = Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"
    if not (folder / "dist" / "reveal.js").is_file():
        raise BookError(f"no dist/reveal.js in {folder}: reinstall sphinx-revealjs.")
    return folder


def _heading_level(cell: nbformat.NotebookNode) -> int:
    """1, 2 or 3 for a markdown cell that opens with that heading; 0 otherwise."""
    if cell.cell_type != "markdown":
        return 0
    first = cell.source.lstrip().split("\n", 1)[0]
    for level in (1, 2, 3):
        if first.startswith("#" * level + " "):
            return level
    return 0


def _lines(cell: nbformat.NotebookNode) -> int:
    """How much of a slide a cell fills, in lines of text (a figure counts as IMAGE_LINES)."""
    total = len(cell.source.splitlines())
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if any(kind in data for kind in ("image/png", "image/jpeg", "image/svg+xml")):
            total += IMAGE_LINES
        elif output.get("output_type") == "stream":
            total += min(len(output.get("text", "").splitlines()), SCREEN)
        elif "text/html" in data or "text/plain" in data:
            total += min(len(str(data.get("text/html") or data.get("text/plain")).splitlines()), SCREEN)
    return total


def split_at_headings(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy in which every heading (``#`` to ``###``) inside a markdown cell starts a cell of its own."""
    notebook = copy.deepcopy(notebook)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            cells.append(cell)
            continue
        parts = [part for part in _HEADING_START.split(cell.source) if part.strip()]
        for number, part in enumerate(parts):
            piece = copy.deepcopy(cell)
            piece.source = part.strip("\n")
            if number:
                piece["id"] = f"{cell.get('id', 'cell')}-{number}"
            cells.append(piece)
    notebook.cells = cells
    return notebook


def slide_notebook(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook cut into slides, with the learner's version of every exercise."""
    notebook = split_at_headings(executed)
    filled = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(line.strip() == BEGIN for line in cell.source.splitlines()):
            cell.source = stub_source(cell.source, where=f"cell {index}")
            cell.outputs = []
        elif cell.cell_type == "code" and checker_calls(cell.source):
            cell.outputs = []  # the verdict on the worked solution would not be the room's
        level = _heading_level(cell)
        size = _lines(cell)
        if index == 0 or level in (1, 2):
            kind = "slide"
        elif level == 3 or filled + size > SCREEN:
            kind = "subslide"
        else:
            kind = "-"
        filled = size if kind != "-" else filled + size
        cell.metadata["slideshow"] = {"slide_type": kind}
    return notebook


def export(notebook: nbformat.NotebookNode, footer: str) -> str:
    """One deck as HTML, loading reveal.js and MathJax from the folders beside it."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(template_name="course_slides", extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix="reveal.js", mathjax_url=MATHJAX_URL, reveal_theme="white",
                              reveal_number="c/t", exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(notebook, resources={"course_footer": html.escape(footer)})
    return body


def count_slides(deck: str) -> int:
    """How many slides (reveal.js ``<section>`` elements) a deck has."""
    return deck.count("<section")


def verify(out: Path, names: Sequence[str]) -> list[str]:
    """Everything wrong with the built decks, one sentence each."""
    problems = []
    for folder, entry in (("reveal.js", "dist/reveal.js"), ("mathjax", "MathJax.js")):
        if not (out / folder / entry).is_file():
            problems.append(f"{folder}/{entry} is missing beside the decks.")
    for name in names:
        deck = out / f"{name}.slides.html"
        if not deck.is_file():
            problems.append(f"the deck {deck.name} is missing.")
            continue
        text = deck.read_text(encoding="utf-8")
        if count_slides(text) < 5:
            problems.append(f"{deck.name} has {count_slides(text)} slides; a chapter makes many more.")
        if BEGIN in text:
            problems.append(f"{deck.name} shows a worked solution.")
        remote = scan(deck).remote
        if remote:
            problems.append(f"{deck.name} loads from the network: {', '.join(remote[:3])}.")
    return problems


def index_page(decks: Sequence[tuple[str, str, int]]) -> str:
    """``index.html``: one link per deck with its title and number of slides."""
    items = "\n".join(f'<li><a href="{html.escape(name)}.slides.html">{html.escape(title)}</a> ({count} slides)</li>'
                      for name, title, count in decks)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Slides</title></head>\n"
            f"<body><h1>Sequence models with Keras 3: slides</h1>\n<p>One deck per chapter, made from its notebook. "
            f"Keys: arrows move, <kbd>s</kbd> opens the speaker view, <kbd>f</kbd> full screen, "
            f"<kbd>o</kbd> the overview.</p>\n<ol>\n{items}\n</ol></body></html>\n")


def _title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    for cell in notebook.cells:
        if _heading_level(cell) == 1:
            return cell.source.lstrip().split("\n", 1)[0].lstrip("# ").strip()
    return fallback


def build(*, mode: str, backend: str, notebooks: Sequence[Path] | None = None, out: Path = SLIDES,
          force: bool = False, build_dir: Path = execution.BUILD) -> Path:
    """Execute (where needed) and convert every chapter; return the folder of the decks."""
    start = time.perf_counter()
    outcomes = executed_copies(notebooks, mode=mode, backend=backend, force=force, build_dir=build_dir,
                               what="the slides are")
    executed = time.perf_counter()
    for folder, source in (("reveal.js", revealjs_folder()), ("mathjax", mathjax_folder())):
        if (out / folder).exists():
            shutil.rmtree(out / folder)
        shutil.copytree(source, out / folder)
    decks = []
    for outcome in outcomes:
        notebook = execution.without_log_noise(nbformat.read(outcome.copy, as_version=4))
        title = _title(notebook, outcome.copy.stem)
        deck = export(slide_notebook(notebook), footer=f"{title} ({mode} mode, {backend})")
        write_text_atomically(out / f"{outcome.copy.stem}.slides.html", deck)
        decks.append((outcome.copy.stem, title, count_slides(deck)))
    write_text_atomically(out / "index.html", index_page(decks))
    problems = verify(out, [name for name, _, _ in decks])
    if problems:
        raise BookError("the slides are not right:\n- " + "\n- ".join(problems))
    print(f"slides: {len(decks)} decks, {sum(count for _, _, count in decks)} slides ({mode} mode, {backend}), "
          f"built in {time.perf_counter() - executed:.0f} s after {executed - start:.0f} s of execution: "
          f"open {out / 'index.html'}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    return command_line("Build one reveal.js deck per chapter into build/slides/.", build, SLIDES, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Slides for every chapter, generated from the chapter's own executed notebook (reveal.js).

    python -m course_tools.slides                               # full mode on JAX (make slides)
    python -m course_tools.slides --mode quick --backend torch  # what CI builds

Each deck is the solution notebook as it ran (:mod:`course_tools.execution`; the same copies as the
book), made presentable on a 1280x720 screen:

- every exercise cell shows the learner's version (the stub, not the worked solution, and no
  output), and a checker's verdict on the worked solution is not shown;
- a cell whose output is a figure shows the figure without the plotting code that draws it, and a
  bookkeeping cell (the one that gathers the chapter's figures) its output without its code;
- the cells are cut into slides at the notebook's own headings - a chapter section (``##``) starts
  a slide, a subsection (``###``) a slide below it - and wherever the next cell would not fit on
  the slide: each cell's height is estimated in pixels (:func:`piece_height`: lines of text and
  code as they wrap at the slide's font sizes, figures at the size they are shown), a code cell
  taller than a slide is split at its blank lines, a long markdown cell between its paragraphs, a
  long text output between its lines and a long table between its rows (each part with the header);
- in the browser, a slide that still runs past the screen (an estimate is an estimate; the title
  slide keeps all its learning goals) is shrunk, never below :data:`MIN_FIT` of the normal sizes,
  and the code in it is made smaller before it wraps (``book/templates/course_slides``).

Nothing is kept in a second copy. The decks, ``reveal.js`` (from the sphinx-revealjs package) and
MathJax (from jupyter-server-mathjax, with the fonts it ships) are written to ``build/slides/``,
with an index page; open ``build/slides/index.html``. Keys: arrows to move, ``s`` for the
speaker view, ``f`` for full screen, ``o`` for the overview.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import math
import re
import shutil
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_tools import execution
from course_tools.book import MATHJAX_FONTS, MATHJAX_PATH, BookError, command_line, executed_copies, \
    mathjax_folder, scan
from course_tools.exercises import BEGIN, BOOKKEEPING, stub_source
from course_tools.grade import checker_calls
from utils.files import write_text_atomically

REPO = Path(__file__).resolve().parent.parent
SLIDES = execution.BUILD / "slides"
TEMPLATES = REPO / "book" / "templates"

# The slide and its type sizes, in CSS pixels of a 1280x720 slide (the template uses the same numbers).
WIDTH, HEIGHT = 1280, 720
TEXT_PX, CODE_PX = 24, 18  # body text and code
MIN_FIT = 0.8  # a slide is shrunk to no less than this share of the sizes above (text 19 px, code 14 px)
USABLE_HEIGHT = HEIGHT - 70  # less the slide's margins and the footer line
USABLE_WIDTH = WIDTH - 80
FIGURE_HEIGHT = 480  # the tallest a figure is shown (the template's max-height), so text fits beside it
TEXT_LINE, CODE_LINE = 1.4 * TEXT_PX, 1.3 * CODE_PX
TABLE_ROW = 1.25 * CODE_LINE  # a table's rows are a little taller than lines of code
TEXT_CHARS = int(USABLE_WIDTH / (0.5 * TEXT_PX))  # characters of running text per line
CODE_CHARS = int(USABLE_WIDTH / (0.6 * CODE_PX))  # characters of code per line
HEADING_PX = {1: 2 * 48, 2: 64, 3: 52}  # a heading with its margins (a title may take two lines)
BLOCK_GAP = 14  # the space between two cells, or two paragraphs
_HEADING_START = re.compile(r"\n(?=#{1,3} )")  # a line that opens with a heading, inside a cell
MATHJAX_CONFIG = {
    "tex2jax": {"inlineMath": [["$", "$"], ["\\(", "\\)"]], "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
                "processEscapes": True, "processEnvironments": True},
    "messageStyle": "none",
    "processSectionDelay": 0,
    **MATHJAX_FONTS,
}


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


# --- How tall a cell is on a slide -------------------------------------------------------------------

def _wrapped(lines: Sequence[str], chars: int) -> int:
    """How many screen lines ``lines`` take when each wraps at ``chars`` characters."""
    return sum(max(1, math.ceil(len(line.expandtabs()) / chars)) for line in lines)


def figure_size(output: nbformat.NotebookNode) -> tuple[int, int] | None:
    """(width, height) in pixels of a PNG figure output, read from its header; ``None`` if not a PNG."""
    data = output.get("data", {}).get("image/png")
    if not data:
        return None
    header = base64.b64decode("".join(data)[:64])
    if len(header) < 24 or header[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", header[16:24])


def _is_figure(output: nbformat.NotebookNode) -> bool:
    return any(kind in output.get("data", {}) for kind in ("image/png", "image/jpeg", "image/svg+xml"))


def shown_figure_height(output: nbformat.NotebookNode) -> float:
    """The height a figure output is shown at: its own size, no wider than the slide, no taller than
    :data:`FIGURE_HEIGHT`."""
    size = figure_size(output)
    if size is None:
        return FIGURE_HEIGHT
    width, height = size
    return min(FIGURE_HEIGHT, height * min(1.0, USABLE_WIDTH / max(width, 1)))


def _output_text(output: nbformat.NotebookNode) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return str(data.get("text/plain", ""))


def _table_rows(output: nbformat.NotebookNode) -> int:
    """How many rows an HTML table output (a pandas DataFrame) has; 0 if it is not one."""
    table = str(output.get("data", {}).get("text/html", ""))
    return table.count("<tr") if "<table" in table else 0


def output_height(output: nbformat.NotebookNode) -> float:
    """Pixels one output takes on a slide."""
    if _is_figure(output):
        return shown_figure_height(output) + BLOCK_GAP
    rows = _table_rows(output)
    if rows:
        return rows * TABLE_ROW + BLOCK_GAP
    return _wrapped(_output_text(output).splitlines() or [""], CODE_CHARS) * CODE_LINE + BLOCK_GAP


def markdown_height(source: str) -> float:
    """Pixels a markdown cell takes: headings, paragraphs and list items as they wrap, tables, equations."""
    total = 0.0
    in_fence = in_math = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            total += CODE_LINE / 2
            continue
        if in_fence:
            total += _wrapped([line], CODE_CHARS) * CODE_LINE
            continue
        if stripped.startswith("$$"):
            in_math = not (in_math or (len(stripped) > 2 and stripped.endswith("$$")))
            total += 1.1 * TEXT_LINE  # a displayed equation is taller than a line of text
            continue
        if in_math:
            total += TEXT_LINE
            continue
        if not stripped:
            total += BLOCK_GAP
            continue
        level = len(stripped) - len(stripped.lstrip("#"))
        if 1 <= level <= 3 and stripped[level:level + 1] == " ":
            total += HEADING_PX[level]
        elif stripped.startswith("|"):
            total += 0 if set(stripped) <= set("|-: ") else 1.2 * TEXT_LINE
        else:
            total += _wrapped([stripped], TEXT_CHARS) * TEXT_LINE
    return total + BLOCK_GAP


def piece_height(cell: nbformat.NotebookNode) -> float:
    """Pixels a cell takes on a slide (its source unless hidden, and its outputs)."""
    if cell.cell_type == "markdown":
        return markdown_height(cell.source)
    total = 0.0
    if not cell.metadata.get("transient", {}).get("remove_source") and cell.source.strip():
        total += _wrapped(cell.source.splitlines(), CODE_CHARS) * CODE_LINE + 2 * BLOCK_GAP
    return total + sum(output_height(output) for output in cell.get("outputs", []))


# --- Cells cut to fit ----------------------------------------------------------------------------------

def _chunks(lines: list[str], fits: Callable[[list[str]], bool],
            breakable: Callable[[int], bool]) -> list[list[str]]:
    """``lines`` cut into runs that each ``fits``, preferring to cut where ``breakable(index)`` (a blank
    line)."""
    chunks: list[list[str]] = []
    start = 0
    while start < len(lines):
        end = start + 1
        while end < len(lines) and fits(lines[start:end + 1]):
            end += 1
        if end < len(lines):  # cut at the last blank line of the run, if there is one past its first third
            breaks = [index for index in range(start + 1, end) if breakable(index)]
            if breaks and breaks[-1] - start >= (end - start) / 3:
                end = breaks[-1]
        chunk = lines[start:end]
        while chunk and not chunk[-1].strip():
            chunk = chunk[:-1]
        if chunk:
            chunks.append(chunk)
        start = end
        while start < len(lines) and not lines[start].strip():
            start += 1
    return chunks


def _markdown_blocks(source: str) -> list[str]:
    """A markdown cell's blocks (paragraphs, lists, tables, fences, displayed equations), in order."""
    blocks: list[list[str]] = [[]]
    in_fence = in_math = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        elif stripped.startswith("$$") and not in_fence:
            in_math = not (in_math or (len(stripped) > 2 and stripped.endswith("$$")))
        if not stripped and not in_fence and not in_math:
            blocks.append([])
        else:
            blocks[-1].append(line)
    return ["\n".join(block) for block in blocks if block]


def split_markdown(cell: nbformat.NotebookNode, budget: float) -> list[nbformat.NotebookNode]:
    """A markdown cell taller than ``budget`` pixels cut between its blocks into cells that fit (a block
    taller than the budget stays whole: the slide is shrunk in the browser)."""
    if markdown_height(cell.source) <= budget:
        return [cell]
    pieces: list[list[str]] = [[]]
    for block in _markdown_blocks(cell.source):
        if pieces[-1] and markdown_height("\n\n".join(pieces[-1] + [block])) > budget:
            pieces.append([])
        pieces[-1].append(block)
    return [_piece(cell, "\n\n".join(blocks), number) for number, blocks in enumerate(pieces)]


def _piece(cell: nbformat.NotebookNode, source: str, number: int) -> nbformat.NotebookNode:
    piece = copy.deepcopy(cell)
    piece.source = source
    if number:
        piece["id"] = f"{cell.get('id', 'cell')}-part{number}"
    return piece


_TBODY = re.compile(r"(<tbody>)(.*?)(</tbody>)", re.S)
_ROW = re.compile(r"<tr\b.*?</tr>", re.S)


def split_output(output: nbformat.NotebookNode, budget: float) -> list[nbformat.NotebookNode]:
    """An output taller than ``budget`` pixels as outputs that each fit: a text output cut between its
    lines, a table (a pandas DataFrame) between its rows, each part with the table's header. Figures,
    and whatever else cannot be cut, are left whole (the slide is shrunk in the browser)."""
    if output_height(output) <= budget:
        return [output]
    if output.get("output_type") == "stream":
        lines = output.get("text", "").splitlines()
        chunks = _chunks(lines, lambda run: _wrapped(run, CODE_CHARS) * CODE_LINE + BLOCK_GAP <= budget,
                         lambda index: not lines[index].strip())
        parts = []
        for chunk in chunks:
            part = copy.deepcopy(output)
            part.text = "\n".join(chunk) + "\n"
            parts.append(part)
        return parts
    table = str(output.get("data", {}).get("text/html", ""))
    body = _TBODY.search(table) if "<table" in table else None
    if body is None:
        return [output]
    rows = _ROW.findall(body.group(2))
    header = table[:body.start()].count("<tr")
    per_part = max(1, int((budget - BLOCK_GAP) / TABLE_ROW) - header)
    parts = []
    for start in range(0, len(rows), per_part):
        part = copy.deepcopy(output)
        kept = "\n".join(rows[start:start + per_part])
        part.data = {"text/html": table[:body.start()] + body.group(1) + kept + body.group(3)
                     + table[body.end():]}
        parts.append(part)
    return parts


def split_code(cell: nbformat.NotebookNode, budget: float) -> list[nbformat.NotebookNode]:
    """A code cell as pieces that each fit in ``budget`` pixels: its source cut at blank lines where it
    is taller than that, then its outputs (each split to fit) below the last part of the code, or on
    pieces of their own where they do not fit there."""
    hidden = cell.metadata.get("transient", {}).get("remove_source", False)
    outputs = [part for output in cell.get("outputs", []) for part in split_output(output, budget)]
    code_room = budget - 2 * BLOCK_GAP
    if hidden or not cell.source.strip():
        parts: list[str] = []
    else:
        lines = cell.source.splitlines()
        parts = ["\n".join(chunk) for chunk in _chunks(
            lines, lambda run: _wrapped(run, CODE_CHARS) * CODE_LINE <= code_room,
            lambda index: not lines[index].strip())]
    pieces = [_piece(cell, part, number) for number, part in enumerate(parts)]
    for piece in pieces:
        piece.outputs = []
    tail = pieces[-1] if pieces else None
    for output in outputs:
        below = tail is not None and piece_height(tail) + output_height(output) <= budget
        if not below:
            tail = _piece(cell, "", len(pieces))
            tail.metadata.setdefault("transient", {})["remove_source"] = True
            tail.outputs = []
            pieces.append(tail)
        tail.outputs.append(output)
    if not pieces:  # a cell with neither code to show nor outputs
        empty = _piece(cell, "", 0)
        empty.outputs = []
        empty.metadata.setdefault("transient", {})["remove_source"] = True
        pieces.append(empty)
    return pieces


# --- The deck --------------------------------------------------------------------------------------------

def presented_cells(executed: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells as the room sees them: headings split out, exercises stubbed, verdicts on the worked
    solutions removed, figures without their plotting code, bookkeeping cells showing their output only."""
    cells = []
    for index, cell in enumerate(split_at_headings(executed).cells):
        if cell.cell_type == "code":
            if any(line.strip().startswith(BEGIN) for line in cell.source.splitlines()):
                cell.source = stub_source(cell.source, where=f"cell {index}")
                cell.outputs = []
            elif checker_calls(cell.source):
                cell.outputs = []  # the verdict on the worked solution would not be the room's
            if any(_is_figure(output) for output in cell.get("outputs", [])) \
                    or BOOKKEEPING in cell.metadata.get("tags", []):
                cell.metadata.setdefault("transient", {})["remove_source"] = True
        elif cell.cell_type not in ("markdown",):
            continue
        cells.append(cell)
    return cells


def title_pieces(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """A chapter's first cell as slides: the title with the learning goals and the exercises (the title
    slide), then the introduction on the slide after it. A first cell without learning goals is cut
    like any other markdown cell."""
    blocks = _markdown_blocks(cell.source)
    goals = next((index for index, block in enumerate(blocks) if block.startswith("**Learning goals")), None)
    if goals is None or goals == 1:
        return split_markdown(cell, USABLE_HEIGHT)
    title = _piece(cell, "\n\n".join(blocks[:1] + blocks[goals:]), 0)
    introduction = _piece(cell, "\n\n".join(blocks[1:goals]), 1)
    return [title] + split_markdown(introduction, USABLE_HEIGHT)


@dataclass
class _Slide:
    kind: str  # "slide" (a new section) or "subslide" (one below it)
    filled: float = 0.0


def slide_notebook(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook cut into slides that fit a 1280x720 screen, with the learner's version of
    every exercise (each cell's ``slideshow.slide_type`` says where a slide starts)."""
    notebook = copy.deepcopy(executed)
    cells = []
    slide: _Slide | None = None
    for cell in presented_cells(executed):
        level = _heading_level(cell)
        if slide is None or level in (1, 2):
            slide = _Slide("slide")
            new = "slide"
        elif level == 3:
            slide = _Slide("subslide")
            new = "subslide"
        else:
            new = ""
        if level == 1:
            pieces = title_pieces(cell)
        elif cell.cell_type == "markdown":
            pieces = split_markdown(cell, USABLE_HEIGHT)
        else:
            pieces = split_code(cell, USABLE_HEIGHT)
        for number, piece in enumerate(pieces):
            size = piece_height(piece)
            if not new and (slide.filled + size > USABLE_HEIGHT or (level == 1 and number == 1)):
                slide = _Slide("subslide")
                new = "subslide"
            piece.metadata["slideshow"] = {"slide_type": new or "-"}
            slide.filled += size
            new = ""
            cells.append(piece)
    notebook.cells = cells
    return notebook


def export(notebook: nbformat.NotebookNode, footer: str) -> str:
    """One deck as HTML, loading reveal.js and MathJax from the folders beside it."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(template_name="course_slides", extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix="reveal.js", mathjax_url=MATHJAX_PATH, reveal_theme="white",
                              reveal_number="c/t", reveal_width=str(WIDTH), reveal_height=str(HEIGHT),
                              reveal_transition="none", exclude_input_prompt=True, exclude_output_prompt=True)
    resources = {"course_footer": html.escape(footer), "course_mathjax_config": json.dumps(MATHJAX_CONFIG),
                 "course_fit": {"min": MIN_FIT, "text_px": TEXT_PX, "code_px": CODE_PX,
                                "figure_px": FIGURE_HEIGHT}}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body


def count_slides(notebook: nbformat.NotebookNode) -> int:
    """How many slides a cut notebook makes (what reveal.js counts: every slide and every one below it)."""
    return sum(cell.metadata.get("slideshow", {}).get("slide_type") in ("slide", "subslide")
               for cell in notebook.cells)


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
        sections = text.count("<section")
        if sections < 5:
            problems.append(f"{deck.name} has {sections} slides; a chapter makes many more.")
        if BEGIN in text:
            problems.append(f"{deck.name} shows a worked solution.")
        remote = scan(deck).remote
        if remote:
            problems.append(f"{deck.name} loads from the network: {', '.join(remote[:3])}.")
    return problems


def index_page(decks: Sequence[tuple[str, str, int]], mode: str, backend: str) -> str:
    """``index.html``: one row per deck with its title and number of slides, styled like the book."""
    rows = "\n".join(
        f'<tr><td class="number">{number}</td><td><a href="{html.escape(name)}.slides.html">'
        f'{html.escape(title)}</a></td><td class="number">{count}</td></tr>'
        for number, (name, title, count) in enumerate(decks, start=1))
    quick = ("" if mode != "quick" else
             '<p class="banner"><strong>A quick-mode build</strong>: every chapter ran on small data for a '
             "few epochs, to test that it runs, so its outputs and figures are not the results the slides' "
             "text describes. <code>make slides</code> builds the decks from full-mode runs.</p>")
    template = (TEMPLATES / "slides_index.html").read_text(encoding="utf-8")
    return (template.replace("{{ rows }}", rows).replace("{{ quick }}", quick)
            .replace("{{ run }}", html.escape(f"{mode} mode, {backend}"))
            .replace("{{ total }}", str(sum(count for _, _, count in decks))))


def _title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    for cell in notebook.cells:
        if _heading_level(cell) == 1:
            return cell.source.lstrip().split("\n", 1)[0].lstrip("# ").strip()
    return fallback


def render(copies: Sequence[Path], out: Path, *, mode: str, backend: str) -> list[tuple[str, str, int]]:
    """Write one deck per executed copy, reveal.js, MathJax and the index into ``out``; return the decks
    as (name, title, number of slides)."""
    for folder, source in (("reveal.js", revealjs_folder()), ("mathjax", mathjax_folder())):
        if (out / folder).exists():
            shutil.rmtree(out / folder)
        shutil.copytree(source, out / folder)
    decks = []
    for path in copies:
        notebook = nbformat.read(path, as_version=4)
        title = _title(notebook, path.stem)
        cut = slide_notebook(notebook)
        deck = export(cut, footer=f"{title} ({mode} mode, {backend})")
        write_text_atomically(out / f"{path.stem}.slides.html", deck)
        decks.append((path.stem, title, count_slides(cut)))
    write_text_atomically(out / "index.html", index_page(decks, mode, backend))
    return decks


def build(*, mode: str, backend: str, notebooks: Sequence[Path] | None = None, out: Path = SLIDES,
          force: bool = False, build_dir: Path = execution.BUILD) -> Path:
    """Execute (where needed) and convert every chapter; return the folder of the decks."""
    start = time.perf_counter()
    outcomes = executed_copies(notebooks, mode=mode, backend=backend, force=force, build_dir=build_dir,
                               what="the slides are")
    executed = time.perf_counter()
    decks = render([outcome.copy for outcome in outcomes], out, mode=mode, backend=backend)
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

"""The course as a static HTML book: Sphinx with MyST-NB over executed copies of the solutions.

    python -m course_tools.book                              # full mode on JAX (make book)
    python -m course_tools.book --mode quick --backend torch # what CI builds

Steps: make executed copies (:mod:`course_tools.execution`, reused while up to date), lay out a
Sphinx source folder in ``build/book/source/`` (the configuration in ``book/conf.py``, a
landing page made of the README's introduction, chapter table and headline figures, one page
per chapter, the instructor's guide and the results page), build it into
``build/book/html/`` (Sphinx's own cache, its doctrees, goes to ``build/book/doctrees/``, not
into the book), then check the result: every chapter page exists, shows its figures and no error
output, and no page loads anything from the network (MathJax is copied from the
``jupyter-server-mathjax`` package). Open ``build/book/html/index.html``; no server is needed,
and search shows excerpts of the pages it finds there too (:func:`write_search_pages`).

In the chapter pages the worked solutions are folded away behind a "Show the solution"
button, so that a reader can try an exercise before reading its answer; the ``BEGIN``/``END
SOLUTION`` markers that delimit them for the exercise generator are not shown. Code and outputs
wrap inside the text column (``book/static/course.css``). A quick-mode build says so in a banner
on every page: its figures come from a few epochs on small data, not from the runs the text
describes; only a full-mode build is the book.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from course_tools import execution
from course_tools.exercises import BEGIN, BOOKKEEPING, END
from utils.files import write_text_atomically
from course_tools.readme import block

REPO = Path(__file__).resolve().parent.parent
BOOK = execution.BUILD / "book"
CONF = REPO / "book" / "conf.py"
STATIC = REPO / "book" / "static"  # the book's own CSS and scripts, copied into _static/
RUN_FILE = "course_run.json"  # what conf.py reads of the run: the title and the quick-mode banner
SEARCH_PAGES = "course_search_pages.js"
GUIDE = REPO / "INSTRUCTORS.md"
RESULTS_PAGE = REPO / "results" / "README.md"
SHOW_SOLUTION = "Show the solution"
SHOW_BOOKKEEPING = "Show the code that gathers the figures"
QUICK_BANNER_CLASS = "course-quick-build"

# Equations are typeset by the MathJax 2.7 that jupyter-server-mathjax ships, copied beside the pages.
# That package ships the STIX-Web fonts only (not MathJax's default TeX fonts), so its HTML-CSS
# output is told to use them and nothing else: a request for the TeX fonts would fail, and every
# equation would stay blank. The MathML that MathJax hides beside each equation for screen readers
# would ask for TeX fonts too (double-struck, script, fraktur and calligraphic letters): it gets
# the browser's serif instead. The book (book/conf.py) and the slides use these settings.
MATHJAX_PATH = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
_TEX_FONT_STYLES = [f'[mathvariant="{variant}"]' for variant in
                    ("double-struck", "script", "fraktur", "bold-script", "bold-fraktur")]
_TEX_FONT_STYLES += [f'[class="MJX-tex-{variant}"]' for variant in
                     ("oldstyle", "oldstyle-bold", "caligraphic", "caligraphic-bold")]
MATHJAX_FONTS = {
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
    "NativeMML": {"styles": {selector: {"font-family": "serif"} for selector in _TEX_FONT_STYLES}},
}


class BookError(RuntimeError):
    """The book could not be built, or the built book is not right: the message says what."""


def mathjax_folder() -> Path:
    """MathJax 2.7 as the ``jupyter-server-mathjax`` package ships it (``MathJax.js`` at its top)."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise BookError("the book needs the jupyter-server-mathjax package for offline equations: "
                        "run `make book`, which installs it, or `pip install -e '.[book]'`.") from None
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").is_file():
        raise BookError(f"no MathJax.js in {folder}: reinstall jupyter-server-mathjax.")
    return folder


def introduction(readme: str) -> str:
    """The README's first paragraph after its title: what the course is."""
    paragraphs = [part.strip() for part in readme.split("\n\n")]
    for part in paragraphs:
        if part and not part.startswith("#"):
            return part
    raise BookError("README.md has no paragraph after its title.")


def quick_banner(backend: str) -> str:
    """The banner on every page of a quick-mode build (HTML): what its figures are and are not."""
    return (f'<span class="{QUICK_BANNER_CLASS}"><strong>A quick-mode build</strong> ({backend}): every '
            "chapter ran on small data for a few epochs, to test that it runs. Its figures and results are "
            "not the ones the text describes; the book is the full-mode build (<code>make book</code>)."
            "</span>")


def run_settings(mode: str, backend: str) -> dict[str, str]:
    """What ``book/conf.py`` reads of the run (from ``course_run.json``): the title and a banner if quick."""
    if mode == "quick":
        return {"title_suffix": " (quick-mode build)", "announcement": quick_banner(backend)}
    return {"title_suffix": "", "announcement": ""}


def landing_page(readme: str, chapters: Sequence[str], mode: str = "full") -> str:
    """``index.md``: the introduction, the README's chapter table and headline figures, the contents."""
    title = readme.splitlines()[0].lstrip("# ").strip()
    contents = "\n".join(f"chapters/{name}" for name in chapters)
    if mode == "quick":
        about = ("This is a quick-mode build of the book: every chapter ran on small data for a few epochs, "
                 "to test that it runs, so its outputs and figures are not the results the text describes (a "
                 "model that the text says translates long inputs may translate none here). `make book` "
                 "builds the book itself, from full-mode runs.")
    else:
        about = "This book shows every chapter as it ran, in full mode, with its outputs and figures."
    return f"""# {title}

{introduction(readme)}

{about} The worked solutions of the exercises are folded away: press "{SHOW_SOLUTION}" under an
exercise to read one. To run the chapters yourself, clone the repository and run `make lab`.

## Chapters

{block(readme, "chapters")}

## Headline results

{block(readme, "headlines")}

Every figure of every chapter, and the time each notebook takes, are on the
[results page](results.md).

```{{toctree}}
:caption: Chapters
:maxdepth: 1
:hidden:

{contents}
```

```{{toctree}}
:caption: For instructors and readers
:maxdepth: 1
:hidden:

instructors
results
```
"""


def is_marker(line: str) -> bool:
    """Whether ``line`` is a ``BEGIN SOLUTION`` (with or without its own stub) or ``END SOLUTION`` marker."""
    stripped = line.strip()
    return stripped.startswith(BEGIN) or stripped == END


def book_notebook(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook as the book shows it: solutions folded behind a button, without their markers,
    and the code of bookkeeping cells (:data:`~course_tools.exercises.BOOKKEEPING`) folded behind another."""
    notebook = copy.deepcopy(executed)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if any(is_marker(line) for line in cell.source.splitlines()):
            cell.source = "\n".join(line for line in cell.source.splitlines() if not is_marker(line))
            _fold(cell, SHOW_SOLUTION, "Hide the solution")
        elif BOOKKEEPING in cell.metadata.get("tags", []):
            _fold(cell, SHOW_BOOKKEEPING, "Hide it")
    return notebook


def _fold(cell: nbformat.NotebookNode, show: str, hide: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if "hide-input" not in tags:
        tags.append("hide-input")
    cell.metadata["mystnb"] = {"code_prompt_show": show, "code_prompt_hide": hide}


def _page(path: Path, fallback: str) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else fallback


def prepare(copies: Sequence[Path], source: Path, repo: Path = REPO, *, mode: str = "full",
            backend: str = "jax") -> None:
    """Lay out the Sphinx source folder ``source`` (emptied first) from the executed ``copies`` of a
    ``mode`` run on ``backend``."""
    if source.exists():
        shutil.rmtree(source)
    (source / "chapters").mkdir(parents=True)
    shutil.copy(CONF, source / "conf.py")
    (source / RUN_FILE).write_text(json.dumps(run_settings(mode, backend), indent=1), encoding="utf-8")
    shutil.copytree(STATIC, source / "_static")
    shutil.copytree(mathjax_folder(), source / "_static" / "mathjax")
    readme = (repo / "README.md").read_text(encoding="utf-8")
    names = []
    for path in copies:
        notebook = book_notebook(nbformat.read(path, as_version=4))
        nbformat.write(notebook, source / "chapters" / path.name)
        names.append(path.stem)
    (source / "index.md").write_text(landing_page(readme, names, mode), encoding="utf-8")
    guide = _page(repo / GUIDE.name, "# Instructor's guide\n\nNot generated yet: run `python -m course_tools.guide`.\n")
    (source / "instructors.md").write_text(guide, encoding="utf-8")
    results = _page(repo / "results" / "README.md", "# Results\n\nNo results yet.\n")
    (source / "results.md").write_text(results, encoding="utf-8")


def build_html(source: Path, html: Path) -> list[str]:
    """Run Sphinx on ``source`` into ``html`` (emptied first; Sphinx's doctrees go beside it, in
    ``doctrees/``), add the pages' text for search excerpts, and return Sphinx's warnings."""
    if html.exists():
        shutil.rmtree(html)
    doctrees = html.parent / "doctrees"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-d", str(doctrees),
                           str(source), str(html)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BookError(f"Sphinx failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    (html / ".buildinfo").unlink(missing_ok=True)  # Sphinx's note to itself, like the doctrees
    if (html / "_sources").is_dir() and not any((html / "_sources").iterdir()):
        (html / "_sources").rmdir()  # empty: the pages' sources are not copied (html_copy_source)
    write_search_pages(html)
    return [line for line in done.stderr.splitlines() if "WARNING" in line or "ERROR" in line]


class _MainText(HTMLParser):
    """The main content of a built page (``role="main"``), reduced to its text and the ids of its elements.

    Search excerpts need no more: Sphinx's search takes the text of the page's main block, or of the
    section a result's anchor names.
    """

    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
             "wbr"}
    _SKIP = {"script", "style", "svg", "noscript"}
    # The theme's buttons, table of contents and footer inside the main block are not the page's text.
    _SKIP_CLASSES = {"bd-header-article", "bd-sidebar-secondary", "prev-next-area", "bd-footer-article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0  # elements open inside the main block; 0: outside it
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._VOID:
            return
        values = dict(attrs)
        if self.depth == 0:
            if values.get("role") != "main":
                return
        theme_part = self._SKIP_CLASSES & set((values.get("class") or "").split())
        if tag in self._SKIP or self.skipping or theme_part:
            self.skipping += 1
            return
        self.depth += 1
        kept = "".join(f' {name}="{html_escape(values[name] or "")}"'
                       for name in ("id", "role") if name in values)
        self.parts.append(f"<div{kept}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._VOID or self.depth == 0:
            return
        if self.skipping:
            self.skipping -= 1
            return
        self.depth -= 1
        self.parts.append("</div>")

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skipping:
            self.parts.append(html_escape(data, quote=False))


def main_text(page: str) -> str:
    """The main block of a built page as minimal HTML: its text, in elements that keep their ids."""
    parser = _MainText()
    parser.feed(page)
    return "".join(parser.parts)


def write_search_pages(html: Path) -> Path:
    """``_static/course_search_pages.js``: every page's main text, for search excerpts without a server.

    Sphinx's search shows an excerpt of each page it finds by fetching the page. A browser does not
    let a page opened from a file fetch another file, so the excerpts were empty unless the book was
    served. ``book/static/course_search.js`` (loaded by the search page only, see ``book/conf.py``)
    answers those fetches from this file when the book is opened from files.
    """
    pages = {page.relative_to(html).as_posix(): main_text(page.read_text(encoding="utf-8"))
             for page in sorted(html.rglob("*.html"))
             if "_static" not in page.relative_to(html).parts
             and page.name not in ("search.html", "genindex.html")}
    target = html / "_static" / SEARCH_PAGES
    write_text_atomically(target, f"window.COURSE_SEARCH_PAGES = {json.dumps(pages, ensure_ascii=False)};\n")
    return target


class _PageScan(HTMLParser):
    """What the checks need from one HTML page: images, tracebacks, resources from the network."""

    def __init__(self) -> None:
        super().__init__()
        self.images = 0
        self.tracebacks = 0
        self.quick_banner = False
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images += 1
        classes = (values.get("class") or "").split()
        if "traceback" in classes:
            self.tracebacks += 1
        if QUICK_BANNER_CLASS in classes:
            self.quick_banner = True
        url = values.get("src") if tag in ("script", "img", "iframe") else (
            values.get("href") if tag == "link" and values.get("rel") in ("stylesheet", "preload") else None)
        if url and re.match(r"(https?:)?//", url):
            self.remote.append(f"<{tag}> {url}")


def scan(page: Path) -> _PageScan:
    """Parse one built page."""
    parser = _PageScan()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def image_outputs(notebook: nbformat.NotebookNode) -> int:
    """How many figures (PNG, JPEG or SVG outputs) an executed notebook holds."""
    return sum(any(kind in output.get("data", {}) for kind in ("image/png", "image/jpeg", "image/svg+xml"))
               for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", []))


def verify(html: Path, copies: Sequence[Path], mode: str = "full") -> list[str]:
    """Everything wrong with a built book of a ``mode`` run, one sentence each (an empty list: all is
    well)."""
    problems = []
    for name in ("index.html", "search.html", "searchindex.js", "instructors.html", "results.html",
                 f"_static/{SEARCH_PAGES}"):
        if not (html / name).is_file():
            problems.append(f"{name} is missing from {html}.")
    if (html / ".doctrees").exists():
        problems.append("the book's folder holds Sphinx's .doctrees (build internals): build with -d "
                        "elsewhere.")
    if not (html / "_static" / "mathjax" / "MathJax.js").is_file():
        problems.append("the local MathJax (_static/mathjax/MathJax.js) is missing: equations would not render.")
    for path in copies:
        page = html / "chapters" / f"{path.stem}.html"
        if not page.is_file():
            problems.append(f"the page of {path.name} is missing ({page}).")
            continue
        notebook = nbformat.read(path, as_version=4)
        expected = image_outputs(notebook)
        found = scan(page)
        if expected == 0:
            problems.append(f"{path.name} has no figures in its executed copy.")
        if found.images < expected:
            problems.append(f"the page of {path.name} shows {found.images} images; its notebook made {expected}.")
        if found.tracebacks or execution.error_outputs(notebook):
            problems.append(f"the page of {path.name} shows error output.")
        text = page.read_text(encoding="utf-8")
        if "mathjax/MathJax.js" not in text:
            problems.append(f"the page of {path.name} does not load the local MathJax.")
        if BEGIN in text or END in text:
            problems.append(f"the page of {path.name} shows the solution markers ({BEGIN} / {END}).")
    for page in sorted(html.rglob("*.html")):
        found = scan(page)
        if found.remote:
            remote = ", ".join(found.remote[:3])
            problems.append(f"{page.relative_to(html)} loads from the network: {remote}.")
        if mode == "quick" and not found.quick_banner and "_static" not in page.relative_to(html).parts:
            problems.append(f"{page.relative_to(html)} does not say that it is a quick-mode build.")
    return problems


def folder_size(folder: Path) -> int:
    """Bytes in every file under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def executed_copies(notebooks: Sequence[Path] | None, *, mode: str, backend: str, force: bool, build_dir: Path,
                    what: str) -> list[execution.Outcome]:
    """Up-to-date executed copies of ``notebooks`` (default: every solution); BookError if one fails."""
    notebooks = list(notebooks or sorted(execution.SOLUTIONS.glob("*.ipynb")))
    outcomes = execution.execute(notebooks, mode=mode, backend=backend, force=force, build=build_dir)
    failed = [outcome.notebook.name for outcome in outcomes if outcome.error]
    if failed:
        raise BookError(f"{len(failed)} notebook(s) failed to run, so {what} not built: {', '.join(failed)}.")
    return outcomes


def build(*, mode: str, backend: str, notebooks: Sequence[Path] | None = None, out: Path = BOOK,
          force: bool = False, build_dir: Path = execution.BUILD) -> Path:
    """Execute (where needed), lay out, build and check the book; return the folder of its HTML."""
    start = time.perf_counter()
    outcomes = executed_copies(notebooks, mode=mode, backend=backend, force=force, build_dir=build_dir,
                               what="the book is")
    executed = time.perf_counter()
    copies = [outcome.copy for outcome in outcomes]
    prepare(copies, out / "source", mode=mode, backend=backend)
    warnings = build_html(out / "source", out / "html")
    problems = verify(out / "html", copies, mode)
    if problems:
        raise BookError("the built book is not right:\n- " + "\n- ".join(problems))
    built = time.perf_counter()
    ran = sum(outcome.ran for outcome in outcomes)
    print(f"book: {len(copies)} chapters ({mode} mode, {backend}; {ran} executed now in {executed - start:.0f} s), "
          f"built and checked in {built - executed:.0f} s, {folder_size(out / 'html') / 2**20:.1f} MiB, "
          f"{len(warnings)} Sphinx warnings: open {out / 'html' / 'index.html'}", flush=True)
    for warning in warnings:
        print(f"  {warning}")
    return out / "html"


def command_line(description: str, build_function: Callable[..., Path], out: Path,
                 argv: list[str] | None = None) -> int:
    """The command line shared by the book and the slides: parse, build, report errors plainly."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solutions/*.ipynb")
    parser.add_argument("--mode", choices=execution.MODES, default="full")
    parser.add_argument("--backend", choices=execution.BACKENDS, default="jax")
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--force", action="store_true", help="execute every notebook again")
    args = parser.parse_args(argv)
    try:
        build_function(mode=args.mode, backend=args.backend, notebooks=args.notebooks, out=args.out,
                       force=args.force)
    except (BookError, execution.ExecutionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return command_line("Build the course's HTML book into build/book/html/.", build, BOOK, argv)


if __name__ == "__main__":
    sys.exit(main())

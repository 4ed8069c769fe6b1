"""The course as a static HTML book: Sphinx with MyST-NB over executed copies of the solutions.

    python -m course_tools.book                              # full mode on JAX (make book)
    python -m course_tools.book --mode quick --backend torch # what CI builds

Steps: make executed copies (:mod:`course_tools.execution`, reused while up to date), lay out a
Sphinx source folder in ``build/book/source/`` (the configuration in ``book/conf.py``, a
landing page made of the README's introduction, chapter table and headline figures, one page
per chapter, the instructor's guide and the results page), build it into
``build/book/html/``, then check the result: every chapter page exists, shows its figures
and no error output, and no page loads anything from the network (MathJax is copied from the
``jupyter-server-mathjax`` package). Open ``build/book/html/index.html``.

In the chapter pages the worked solutions are folded away behind a "Show the solution"
button, so that a reader can try an exercise before reading its answer.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from course_tools import execution
from course_tools.exercises import BEGIN
from utils.files import write_text_atomically
from course_tools.readme import block

REPO = Path(__file__).resolve().parent.parent
BOOK = execution.BUILD / "book"
CONF = REPO / "book" / "conf.py"
GUIDE = REPO / "INSTRUCTORS.md"
RESULTS_PAGE = REPO / "results" / "README.md"
SHOW_SOLUTION = "Show the solution"


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


def landing_page(readme: str, chapters: Sequence[str]) -> str:
    """``index.md``: the introduction, the README's chapter table and headline figures, the contents."""
    title = readme.splitlines()[0].lstrip("# ").strip()
    contents = "\n".join(f"chapters/{name}" for name in chapters)
    return f"""# {title}

{introduction(readme)}

This book shows every chapter as it ran, with its outputs and figures. The worked solutions of
the exercises are folded away: press "{SHOW_SOLUTION}" under an exercise to read one. To run the
chapters yourself, clone the repository and run `make lab`.

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


def book_notebook(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook as the book shows it: solutions folded behind a button, no start-up log lines."""
    notebook = execution.without_log_noise(executed)
    for cell in notebook.cells:
        if cell.cell_type == "code" and any(line.strip() == BEGIN for line in cell.source.splitlines()):
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
            cell.metadata["mystnb"] = {"code_prompt_show": SHOW_SOLUTION, "code_prompt_hide": "Hide the solution"}
    return notebook


def _page(path: Path, fallback: str) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else fallback


def prepare(copies: Sequence[Path], source: Path, repo: Path = REPO) -> None:
    """Lay out the Sphinx source folder ``source`` (emptied first) from the executed ``copies``."""
    if source.exists():
        shutil.rmtree(source)
    (source / "chapters").mkdir(parents=True)
    shutil.copy(CONF, source / "conf.py")
    shutil.copytree(mathjax_folder(), source / "_static" / "mathjax")
    readme = (repo / "README.md").read_text(encoding="utf-8")
    names = []
    for path in copies:
        notebook = book_notebook(nbformat.read(path, as_version=4))
        nbformat.write(notebook, source / "chapters" / path.name)
        names.append(path.stem)
    (source / "index.md").write_text(landing_page(readme, names), encoding="utf-8")
    guide = _page(repo / GUIDE.name, "# Instructor's guide\n\nNot generated yet: run `python -m course_tools.guide`.\n")
    (source / "instructors.md").write_text(guide, encoding="utf-8")
    results = _page(repo / "results" / "README.md", "# Results\n\nNo results yet.\n")
    (source / "results.md").write_text(results, encoding="utf-8")


def build_html(source: Path, html: Path) -> list[str]:
    """Run Sphinx on ``source`` into ``html`` (emptied first); return its warnings."""
    if html.exists():
        shutil.rmtree(html)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", str(source), str(html)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BookError(f"Sphinx failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return [line for line in done.stderr.splitlines() if "WARNING" in line or "ERROR" in line]


class _PageScan(HTMLParser):
    """What the checks need from one HTML page: images, tracebacks, resources from the network."""

    def __init__(self) -> None:
        super().__init__()
        self.images = 0
        self.tracebacks = 0
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images += 1
        if "traceback" in (values.get("class") or "").split():
            self.tracebacks += 1
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


def verify(html: Path, copies: Sequence[Path]) -> list[str]:
    """Everything wrong with a built book, one sentence each (an empty list: all is well)."""
    problems = []
    for name in ("index.html", "search.html", "searchindex.js", "instructors.html", "results.html"):
        if not (html / name).is_file():
            problems.append(f"{name} is missing from {html}.")
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
        if "mathjax/MathJax.js" not in page.read_text(encoding="utf-8"):
            problems.append(f"the page of {path.name} does not load the local MathJax.")
    for page in sorted(html.rglob("*.html")):
        remote = scan(page).remote
        if remote:
            problems.append(f"{page.relative_to(html)} loads from the network: {', '.join(remote[:3])}.")
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
    prepare(copies, out / "source")
    warnings = build_html(out / "source", out / "html")
    problems = verify(out / "html", copies)
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

"""The built book and slides, as `make test` leaves them (`make check-book` runs this file).

Runs only when ``COURSE_BOOK_RUN`` names the executed run they were built from (for example
``quick-torch``); in the plain unit-test run there is nothing built to check, so it skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from course_tools import book, execution, slides

RUN = os.environ.get("COURSE_BOOK_RUN", "")
REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(not RUN, reason="COURSE_BOOK_RUN is not set: `make check-book` sets it "
                                                "after `make book slides`")


def _copies() -> list[Path]:
    mode, backend = RUN.split("-", 1)
    return [execution.executed_dir(mode, backend) / path.name for path in SOLUTIONS]


def test_every_solution_has_an_up_to_date_executed_copy() -> None:
    mode, backend = RUN.split("-", 1)
    for source, copy in zip(SOLUTIONS, _copies(), strict=True):
        assert execution.is_current(copy, execution.digest(source), mode, backend), f"{copy} is missing or stale"
        assert execution.error_outputs(nbformat.read(copy, as_version=4)) == []


def test_no_chapter_writes_to_stderr_in_quick_mode() -> None:
    """No TensorFlow start-up lines (kept out by utils.course), no raw warning with the machine's paths."""
    if not RUN.startswith("quick-"):
        pytest.skip("full mode draws its progress lines on stderr")
    written = {copy.name: execution.stderr_outputs(nbformat.read(copy, as_version=4)) for copy in _copies()}
    assert {name: lines for name, lines in written.items() if lines} == {}


def _bare_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_no_cell_shows_a_bare_number_as_its_value() -> None:
    """A check's return value (say 2.68e-07) shown again under the line the check printed is noise:
    such a call ends with `;`."""
    shown = {copy.name: [index for index, cell in enumerate(nbformat.read(copy, as_version=4).cells)
                         for output in cell.get("outputs", []) if output.get("output_type") == "execute_result"
                         and _bare_number(str(output.get("data", {}).get("text/plain", "")))]
             for copy in _copies()}
    assert {name: cells for name, cells in shown.items() if cells} == {}


def test_every_chapter_page_exists_with_its_figures_and_no_error_output() -> None:
    assert book.verify(book.BOOK / "html", _copies(), RUN.split("-", 1)[0]) == []


@pytest.mark.parametrize("source", SOLUTIONS, ids=lambda path: path.stem[:2])
def test_chapter_page_holds_the_chapter(source: Path) -> None:
    page = (book.BOOK / "html" / "chapters" / f"{source.stem}.html").read_text(encoding="utf-8")
    title = nbformat.read(source, as_version=4).cells[0].source.lstrip("# ").split("\n", 1)[0].strip()
    assert title.split(" — ")[-1] in page
    assert book.SHOW_SOLUTION in page, "the worked solutions should be folded behind a button"


def test_landing_page_has_the_chapter_table_and_links_every_chapter() -> None:
    index = (book.BOOK / "html" / "index.html").read_text(encoding="utf-8")
    for source in SOLUTIONS:
        assert f'href="chapters/{source.stem}.html"' in index


def test_every_deck_builds_and_the_index_lists_it() -> None:
    assert slides.verify(slides.SLIDES, [path.stem for path in SOLUTIONS]) == []
    index = (slides.SLIDES / "index.html").read_text(encoding="utf-8")
    for source in SOLUTIONS:
        assert f'href="{source.stem}.slides.html"' in index

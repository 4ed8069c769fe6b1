"""Executed copies, the book, the slides (course_tools.execution, course_tools.book, course_tools.slides) on small notebooks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools import book, execution, slides
from course_tools.exercises import BEGIN, BOOKKEEPING, END

REPO = Path(__file__).resolve().parent.parent
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('a line')\nplt.show()"


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=list(cells))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _write(folder: Path, name: str, notebook: nbformat.NotebookNode) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(notebook, path)
    return path


def _chapter() -> nbformat.NotebookNode:
    return _notebook(
        new_markdown_cell("# Chapter 1 — A small chapter\n\nWith an equation $x_t \\in \\mathbb{R}^n$."),
        new_markdown_cell("## 0. Setup"),
        new_code_cell("import os\nprint('mode', os.environ['COURSE_MODE'], os.environ['KERAS_BACKEND'])"),
        new_markdown_cell("## 1. A figure\n\n### Exercise 1.1 (warm-up): double it"),
        new_code_cell(f"def double(x):\n    {BEGIN}\n    return 2 * x\n    {END}"),
        new_code_cell("from types import SimpleNamespace\nchecks = SimpleNamespace(check_double=lambda f: "
                      "print('Exercise 1.1: passed', f(2)))\nchecks.check_double(double)"),
        new_code_cell(PLOT),
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[execution.Outcome]]:
    """One small chapter, executed once for the tests below (about 3 s)."""
    root = tmp_path_factory.mktemp("course")
    source = _write(root / "solutions", "01_small.ipynb", _chapter())
    outcomes = execution.execute([source], mode="quick", backend="torch", build=root / "build", show=False)
    return root, outcomes


def test_an_executed_copy_holds_outputs_figures_timings_and_its_stamp(executed) -> None:
    _, [outcome] = executed
    assert outcome.error is None and outcome.ran
    copy = nbformat.read(outcome.copy, as_version=4)
    assert outcome.copy.parent.name == "quick-torch"
    assert copy.metadata[execution.METADATA_KEY]["mode"] == "quick"
    assert "mode quick torch" in copy.cells[2].outputs[0].text
    assert book.image_outputs(copy) == 1
    assert all(execution.cell_seconds(cell) is not None for cell in copy.cells if cell.cell_type == "code")


def test_an_up_to_date_copy_is_reused_and_a_changed_notebook_runs_again(executed, tmp_path: Path) -> None:
    root, [outcome] = executed
    again = execution.execute([outcome.notebook], mode="quick", backend="torch", build=root / "build", show=False)
    assert not again[0].ran
    stamp = nbformat.read(outcome.copy, as_version=4).metadata[execution.METADATA_KEY]
    assert not execution.is_current(outcome.copy, stamp["digest"], "full", "torch")
    assert not execution.is_current(outcome.copy, "another digest", "quick", "torch")
    changed = tmp_path / "01_small.ipynb"
    notebook = _chapter()
    notebook.cells.append(new_code_cell("1 + 1"))
    nbformat.write(notebook, changed)
    assert execution.digest(changed) != stamp["digest"]


def test_the_stamped_time_and_memory_are_recorded_in_the_timings_file(executed, tmp_path: Path) -> None:
    root, [outcome] = executed
    stamp = nbformat.read(outcome.copy, as_version=4).metadata[execution.METADATA_KEY]
    assert stamp["seconds"] > 0 and stamp["peak_mib"] > 10  # a kernel takes tens of MiB at least
    timings = tmp_path / "timings.json"
    timings.write_text('{"solutions/09_other.ipynb": {"jax": {"full": {"seconds": 1.0}}}}')
    [line] = execution.record_timings([outcome.copy.parent], timings)
    assert "solutions/01_small.ipynb torch quick" in line
    table = json.loads(timings.read_text())
    assert stamp["machine"] == execution.machine()
    assert table["solutions/01_small.ipynb"]["torch"]["quick"] == {
        "machine": stamp["machine"], "peak_mib": stamp["peak_mib"], "seconds": stamp["seconds"]}
    assert table["solutions/09_other.ipynb"] == {"jax": {"full": {"seconds": 1.0}}}  # other entries are kept
    with pytest.raises(execution.ExecutionError, match="holds no executed copies"):
        execution.record_timings([tmp_path / "empty"], timings)


def test_a_failing_cell_fails_the_run_names_the_cell_and_writes_no_copy(tmp_path: Path) -> None:
    source = _write(tmp_path / "solutions", "02_broken.ipynb",
                    _notebook(new_code_cell("x = 1"), new_code_cell("raise ValueError('planted failure')")))
    [outcome] = execution.execute([source], mode="quick", backend="torch", build=tmp_path / "build", show=False)
    assert outcome.error is not None
    assert "planted failure" in outcome.error and "02_broken.ipynb" in outcome.error
    assert not outcome.copy.exists()


def test_bad_arguments_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        execution.execute([], mode="fast", backend="torch")
    with pytest.raises(ValueError, match="backend must be one of"):
        execution.execute([], mode="quick", backend="numpy")
    with pytest.raises(execution.ExecutionError, match="is not a file"):
        execution.execute([tmp_path / "missing.ipynb"], mode="quick", backend="torch", build=tmp_path)


def test_tensorflow_start_up_lines_are_kept_out_at_the_import_and_other_lines_pass(tmp_path: Path, capfd,
                                                                                   monkeypatch) -> None:
    """utils.course imports TensorFlow with file descriptor 2 caught: its start-up lines go, others stay."""
    from utils import course

    (tmp_path / "chatty_library.py").write_text(
        "import os, warnings\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are written '\n"
        "            b'to STDERR\\n'\n"
        "            b'I0000 00:00:1796188004.034214    2810 port.cc:153] oneDNN custom operations are on.'\n"
        "            b'\\n'\n"
        "            b'W0000 00:00:1796188004.1    2810 gpu.cc:9] a real warning from C++\\n')\n"
        "warnings.warn('a real Python warning')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(UserWarning, match="a real Python warning"):  # Python's warnings are not touched
        assert course.import_without_start_up_lines("chatty_library") is True
    err = capfd.readouterr().err
    assert "a real warning from C++" in err
    assert "absl::InitializeLog" not in err and "oneDNN" not in err
    assert course.import_without_start_up_lines("chatty_library") is False  # imported already
    assert course.import_without_start_up_lines("no_such_module_anywhere") is False


def test_a_kernel_that_sets_up_the_course_writes_nothing_to_stderr(tmp_path: Path) -> None:
    """The first cell of every chapter, run in its own kernel on PyTorch: the course's line, no log lines."""
    source = _write(tmp_path / "solutions", "01_setup.ipynb",
                    _notebook(new_code_cell("from utils import course\nsession = course.setup(chapter=1)")))
    [outcome] = execution.execute([source], mode="quick", backend="torch", build=tmp_path / "build",
                                  show=False)
    assert outcome.error is None
    copy = nbformat.read(outcome.copy, as_version=4)
    assert execution.stderr_outputs(copy) == []
    assert copy.cells[0].outputs[0].text.startswith("Chapter 1 | Keras")


def test_stderr_outputs_are_listed_by_cell() -> None:
    cell = new_code_cell("x")
    cell.outputs = [new_output("stream", name="stdout", text="fine\n"),
                    new_output("stream", name="stderr", text="/x/keras.py:1: UserWarning: odd\n")]
    assert execution.stderr_outputs(_notebook(new_code_cell("1"), cell)) == [
        "cell 1: /x/keras.py:1: UserWarning: odd"]


def test_error_outputs_are_listed_by_cell() -> None:
    cell = new_code_cell("1 / 0")
    cell.outputs = [new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    assert execution.error_outputs(_notebook(new_code_cell("1"), cell)) == ["cell 1: ZeroDivisionError: division by zero"]


def test_the_book_folds_solutions_without_their_markers_and_leaves_other_cells_alone() -> None:
    chapter = _chapter()
    chapter.cells.append(new_code_cell(f"{BEGIN}, stub: guess = None\nguess = 3\n{END}\nprint(guess)"))
    shown = book.book_notebook(chapter)
    assert "hide-input" in shown.cells[4].metadata["tags"]
    assert shown.cells[4].metadata["mystnb"]["code_prompt_show"] == book.SHOW_SOLUTION
    assert shown.cells[4].source == "def double(x):\n    return 2 * x"
    assert shown.cells[-1].source == "guess = 3\nprint(guess)"
    assert "hide-input" in shown.cells[-1].metadata["tags"]
    assert "tags" not in shown.cells[6].metadata
    assert BEGIN in chapter.cells[4].source  # the input is not changed


def test_the_book_and_the_slides_fold_the_code_of_bookkeeping_cells_and_keep_their_output() -> None:
    gathering = new_code_cell("metrics = {'a': 1}\nresults.save(session, metrics)", metadata={"tags": [BOOKKEEPING]})
    gathering.outputs = [new_output("stream", name="stdout", text="a 1\n")]
    shown = book.book_notebook(_notebook(new_code_cell("1"), gathering))
    assert "hide-input" in shown.cells[1].metadata["tags"]
    assert shown.cells[1].metadata["mystnb"]["code_prompt_show"] == book.SHOW_BOOKKEEPING
    assert shown.cells[1].source == gathering.source and shown.cells[1].outputs == gathering.outputs
    assert "tags" not in shown.cells[0].metadata
    [presented] = [cell for cell in slides.presented_cells(_notebook(gathering)) if cell.cell_type == "code"]
    assert presented.metadata["transient"]["remove_source"] and presented.outputs == gathering.outputs


def test_the_landing_page_carries_the_readme_tables_and_a_contents() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    page = book.landing_page(readme, ["01_sequences_and_baselines"])
    assert page.startswith("# Sequence models with Keras 3\n")
    assert "| # | chapter |" in page and "chapters/01_sequences_and_baselines" in page
    assert book.introduction(readme).startswith("A notebook course")
    assert "in full mode" in page and "quick-mode build" not in page
    quick = book.landing_page(readme, ["01_sequences_and_baselines"], mode="quick")
    assert "This is a quick-mode build of the book" in quick and "`make book` builds the book itself" in quick
    with pytest.raises(book.BookError, match="no paragraph"):
        book.introduction("# Title only")


def test_only_a_quick_build_gets_a_banner_and_a_title_that_say_so() -> None:
    quick, full = book.run_settings("quick", "torch"), book.run_settings("full", "jax")
    assert book.QUICK_BANNER_CLASS in quick["announcement"] and "(torch)" in quick["announcement"]
    assert quick["title_suffix"] == " (quick-mode build)"
    assert full == {"title_suffix": "", "announcement": ""}


def test_the_main_text_of_a_page_keeps_its_text_and_ids_and_drops_scripts() -> None:
    page = ('<html><body><nav id="nav">menu</nav><main id="main-content" role="main">'
            '<div class="bd-header-article"><button>Light Dark</button></div><section id="s-1">'
            '<h1>Title &amp; more</h1><script>var x = 1;</script><p>Some <em>text</em><br>here</p>'
            '<img src="a.png">'
            '<svg><path d="M0"/></svg></section></main><footer>foot</footer></body></html>')
    assert book.main_text(page) == ('<div id="main-content" role="main"><div id="s-1"><div>Title &amp; more'
                                    '</div><div>Some <div>text</div>here</div></div></div>')


def test_a_small_book_builds_and_passes_its_checks(executed, tmp_path: Path) -> None:
    _, [outcome] = executed
    book.prepare([outcome.copy], tmp_path / "source", mode="quick", backend="torch")
    book.build_html(tmp_path / "source", tmp_path / "html")
    html = tmp_path / "html"
    assert book.verify(html, [outcome.copy], "quick") == []
    assert not (html / ".doctrees").exists() and (tmp_path / "doctrees").is_dir()
    page = (html / "chapters" / "01_small.html").read_text(encoding="utf-8")
    assert book.SHOW_SOLUTION in page and "mathjax/MathJax.js" in page
    assert BEGIN not in page and END not in page and "double" in page
    assert book.QUICK_BANNER_CLASS in page and "(quick-mode build)" in page
    assert '"webFont": "STIX-Web"' in page and '"availableFonts": []' in page  # the fonts the package ships
    assert "MJX-tex-caligraphic" in page  # the screen readers' MathML does not ask for TeX fonts either
    search = (html / "search.html").read_text(encoding="utf-8")
    assert book.SEARCH_PAGES in search and "course_search.js" in search and book.SEARCH_PAGES not in page
    pages = (html / "_static" / book.SEARCH_PAGES).read_text(encoding="utf-8")
    assert '"chapters/01_small.html"' in pages and "A small chapter" in pages
    assert (html / "_static" / "course_search.js").is_file() and (html / "_static" / "course.css").is_file()
    # MathJax 2 reads its settings from a text/x-mathjax-config script; a MathJax 3 style
    # `window.MathJax = {...}` object (which MyST adds unless told not to) stops it typesetting.
    assert 'type="text/x-mathjax-config"' in page and "window.MathJax" not in page

    # Each kind of damage is found and named.
    (html / "chapters" / "01_small.html").write_text(page.replace("<img", "<span"), encoding="utf-8")
    assert any("shows 0 images" in problem for problem in book.verify(html, [outcome.copy]))
    (html / "chapters" / "01_small.html").write_text(
        page + '<div class="output traceback">boom</div><script src="https://cdn.example/x.js"></script>',
        encoding="utf-8")
    problems = " ".join(book.verify(html, [outcome.copy]))
    assert "shows error output" in problems and "loads from the network: <script> https://cdn.example/x.js" in problems
    (html / "chapters" / "01_small.html").write_text(page.replace(book.QUICK_BANNER_CLASS, "x").replace(
        "</article>", f"{BEGIN}</article>"), encoding="utf-8")
    (html / ".doctrees").mkdir()
    problems = " ".join(book.verify(html, [outcome.copy], "quick"))
    assert "chapters/01_small.html does not say that it is a quick-mode build" in problems
    assert "shows the solution markers" in problems and "holds Sphinx's .doctrees" in problems
    (html / "chapters" / "01_small.html").unlink()
    shutil.rmtree(html / "_static" / "mathjax")
    problems = " ".join(book.verify(html, [outcome.copy]))
    assert "the page of 01_small.ipynb is missing" in problems and "local MathJax" in problems


def test_slides_cut_at_headings_show_the_learners_version_and_build(executed, tmp_path: Path) -> None:
    _, [outcome] = executed
    cut = slides.slide_notebook(nbformat.read(outcome.copy, as_version=4))
    kinds = [cell.metadata["slideshow"]["slide_type"] for cell in cut.cells]
    assert kinds[:5] == ["slide", "slide", "-", "slide", "subslide"]  # the exercise heading got a cell
    assert "NotImplementedError" in cut.cells[5].source and "2 * x" not in cut.cells[5].source
    assert cut.cells[6].outputs == []  # the checker's verdict on the worked solution is not shown
    figure = cut.cells[7]  # the figure, without the plotting code that draws it
    assert figure.metadata["transient"]["remove_source"] and book.image_outputs(_notebook(figure)) == 1
    deck = slides.export(cut, footer="a footer")
    (tmp_path / "01_small.slides.html").write_text(deck, encoding="utf-8")
    assert slides.count_slides(cut) == kinds.count("slide") + kinds.count("subslide") == 5
    assert len(re.findall(r"<section(?![^<]*<section)", deck)) == 5  # reveal.js shows as many slides
    assert "plt.plot" not in deck and "a footer" in deck
    # MathJax is told to use the STIX-Web fonts that the copied package ships, not its TeX fonts.
    assert '"webFont": "STIX-Web"' in deck and '"availableFonts": []' in deck
    assert "width: 1280" in deck and "height: 720" in deck
    problems = slides.verify(tmp_path, ["01_small"])
    assert problems == [f"{folder}/{entry} is missing beside the decks."
                        for folder, entry in (("reveal.js", "dist/reveal.js"), ("mathjax", "MathJax.js"))]
    shutil.copytree(slides.revealjs_folder(), tmp_path / "reveal.js")
    shutil.copytree(book.mathjax_folder(), tmp_path / "mathjax")
    assert slides.verify(tmp_path, ["01_small"]) == []
    (tmp_path / "01_small.slides.html").write_text(deck + BEGIN, encoding="utf-8")
    assert slides.verify(tmp_path, ["01_small"]) == ["01_small.slides.html shows a worked solution."]


def _slides_of(cut: nbformat.NotebookNode) -> list[list[nbformat.NotebookNode]]:
    """The cells of a cut notebook, grouped by the slide they are on."""
    grouped: list[list[nbformat.NotebookNode]] = []
    for cell in cut.cells:
        if cell.metadata["slideshow"]["slide_type"] != "-":
            grouped.append([])
        grouped[-1].append(cell)
    return grouped


def test_a_long_section_is_cut_into_slides_below_its_heading() -> None:
    long_cells = [new_code_cell("\n".join(f"x{i} = {i}" for i in range(12))) for _ in range(5)]
    cut = slides.slide_notebook(_notebook(new_markdown_cell("# Title"), new_markdown_cell("## 1. Long"), *long_cells))
    kinds = [cell.metadata["slideshow"]["slide_type"] for cell in cut.cells]
    assert kinds[:2] == ["slide", "slide"] and "subslide" in kinds[2:] and "-" in kinds[2:]
    assert all(sum(map(slides.piece_height, group)) <= slides.USABLE_HEIGHT for group in _slides_of(cut))


def test_a_code_cell_taller_than_a_slide_is_split_at_its_blank_lines_and_its_output_follows() -> None:
    blocks = ["\n".join(f"value_{block}_{line} = {line}" for line in range(9)) for block in range(4)]
    cell = new_code_cell("\n\n".join(blocks))
    cell.outputs = [new_output("stream", name="stdout", text="".join(f"line {i}\n" for i in range(60)))]
    cut = slides.slide_notebook(_notebook(new_markdown_cell("## 1. Long"), cell))
    groups = _slides_of(cut)
    code = [piece.source for group in groups for piece in group if piece.cell_type == "code" and piece.source]
    assert "\n\n".join(code) == cell.source and len(code) > 1
    assert all(part.split("\n", 1)[0].endswith("_0 = 0") for part in code)  # cut between the blocks
    printed = [output.text for group in groups for piece in group for output in piece.get("outputs", [])]
    assert "".join(printed) == cell.outputs[0].text and len(printed) > 1  # every line, over several slides
    assert all(sum(map(slides.piece_height, group)) <= slides.USABLE_HEIGHT for group in groups)


def test_a_long_table_is_split_between_its_rows_each_part_with_the_header() -> None:
    rows = "".join(f"<tr><th>row {i}</th><td>{i}</td></tr>\n" for i in range(40))
    table = f'<table><thead><tr><th></th><th>value</th></tr></thead><tbody>\n{rows}</tbody></table>'
    output = new_output("execute_result", data={"text/html": table, "text/plain": "a table"},
                        execution_count=1)
    parts = slides.split_output(output, slides.USABLE_HEIGHT)
    assert len(parts) > 1 and all(slides.output_height(part) <= slides.USABLE_HEIGHT for part in parts)
    assert all("<thead><tr><th></th><th>value</th></tr></thead>" in part.data["text/html"] for part in parts)
    assert sum(part.data["text/html"].count("<tr><th>row") for part in parts) == 40
    figure = new_output("display_data", data={"image/png": "iVBORw0KGgo="})
    assert slides.split_output(figure, 10) == [figure]  # a figure is never cut


def test_the_title_slide_holds_the_learning_goals_and_the_introduction_follows() -> None:
    title = ("# Chapter 3 — Something\n\n" + "An introduction that runs on. " * 40 + "\n\n"
             "**Learning goals.** After this chapter you can\n\n1. one;\n2. two;\n3. three.\n\n"
             "**Exercises:** 3.1 a warm-up.")
    cut = slides.slide_notebook(_notebook(new_markdown_cell(title), new_markdown_cell("## 0. Setup")))
    first, second = _slides_of(cut)[:2]
    assert first[0].source.startswith("# Chapter 3") and "3. three." in first[0].source
    assert "**Exercises:**" in first[0].source and "An introduction" not in first[0].source
    assert second[0].source.startswith("An introduction")
    assert second[0].metadata["slideshow"]["slide_type"] == "subslide"


def test_figure_sizes_come_from_the_png_header() -> None:
    import base64
    import struct

    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 830, 891) + b"\x08\x06\x00\x00\x00"
    output = new_output("display_data", data={"image/png": base64.b64encode(header).decode()})
    assert slides.figure_size(output) == (830, 891)
    assert slides.shown_figure_height(output) == slides.FIGURE_HEIGHT  # shown no taller than that
    wide = new_output("display_data", data={"image/png": base64.b64encode(
        header.replace(struct.pack(">II", 830, 891), struct.pack(">II", 2400, 600))).decode()})
    assert slides.shown_figure_height(wide) == 600 * slides.USABLE_WIDTH / 2400
    assert slides.figure_size(new_output("display_data", data={"image/jpeg": "abc"})) is None


def test_the_index_of_the_slides_lists_every_deck_with_its_count() -> None:
    decks = [("01_a", "Chapter 1 — A & B", 12), ("02_b", "Chapter 2 — C", 30)]
    page = slides.index_page(decks, "quick", "torch")
    assert '<a href="01_a.slides.html">Chapter 1 — A &amp; B</a></td><td class="number">12</td>' in page
    assert "42 slides in all" in page and "A quick-mode build" in page and "quick mode, torch" in page
    assert "A quick-mode build" not in slides.index_page(decks, "full", "jax")


def test_the_builders_run_end_to_end_on_executed_copies(executed, tmp_path: Path, capsys) -> None:
    root, [outcome] = executed
    html = book.build(mode="quick", backend="torch", notebooks=[outcome.notebook], out=tmp_path / "book",
                      build_dir=root / "build")
    assert (html / "chapters" / "01_small.html").is_file()
    decks = slides.build(mode="quick", backend="torch", notebooks=[outcome.notebook], out=tmp_path / "slides",
                         build_dir=root / "build")
    index = (decks / "index.html").read_text(encoding="utf-8")
    assert "01_small.slides.html" in index and "Chapter 1 — A small chapter" in index
    printed = capsys.readouterr().out
    assert "book: 1 chapters (quick mode, torch;" in printed and "slides: 1 decks" in printed


def test_the_commands_report_bad_input_without_a_traceback(tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "missing.ipynb")
    for main in (book.main, slides.main, execution.main):
        assert main([missing, "--mode", "quick", "--backend", "torch"]) != 0
        assert "is not a file" in capsys.readouterr().err


def test_a_failed_notebook_stops_the_book_and_the_slides(tmp_path: Path, capsys) -> None:
    source = _write(tmp_path / "solutions", "03_broken.ipynb", _notebook(new_code_cell("1 / 0")))
    assert execution.main([str(source), "--mode", "quick", "--backend", "torch"]) == 1
    for build in (book.build, slides.build):
        with pytest.raises(book.BookError, match="failed to run"):
            build(mode="quick", backend="torch", notebooks=[source], out=tmp_path / "out", build_dir=tmp_path / "b")
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_one_notebook_runs_in_this_process_too(tmp_path: Path) -> None:
    """The child's side of course_tools.execution, run here so that its errors are seen directly."""
    source = _write(tmp_path, "04_one.ipynb", _notebook(new_code_cell("print(6 * 7)")))
    target = tmp_path / "out" / "04_one.ipynb"
    execution._run_in_this_process(source, target, "quick", "torch", "a digest", 60)
    copy = nbformat.read(target, as_version=4)
    assert copy.cells[0].outputs[0].text == "42\n" and copy.metadata[execution.METADATA_KEY]["digest"] == "a digest"
    broken = _write(tmp_path, "05_broken.ipynb", _notebook(new_code_cell("raise KeyError('k')")))
    with pytest.raises(execution.ExecutionError, match="05_broken.ipynb failed on torch"):
        execution._run_in_this_process(broken, tmp_path / "out" / "05.ipynb", "quick", "torch", "d", 60)


def test_a_heading_inside_a_markdown_cell_starts_a_slide_of_its_own() -> None:
    cell = new_markdown_cell("The end of section 6.\n\n## 7. Next\n\nText of 7.\n\n### 7.1 Detail\n\nMore.")
    cut = slides.slide_notebook(_notebook(new_markdown_cell("# Title"), cell))
    assert [c.source.split("\n", 1)[0] for c in cut.cells] == ["# Title", "The end of section 6.", "## 7. Next",
                                                                 "### 7.1 Detail"]
    assert [c.metadata["slideshow"]["slide_type"] for c in cut.cells] == ["slide", "-", "slide", "subslide"]
    assert len({c.get("id") for c in cut.cells}) == 4


def test_a_long_markdown_cell_is_cut_between_its_blocks_never_inside_a_fence_or_an_equation() -> None:
    paragraphs = [f"Paragraph {i}: " + "words that run on " * 20 for i in range(8)]
    fence = "```python\nx = 1\n\ny = 2\n```"
    equation = "$$\na = b\n\n+ c\n$$"
    table = "| a | b |\n| --- | --- |\n| 1 | 2 |"
    source = "\n\n".join(paragraphs[:3] + [fence] + paragraphs[3:6] + [equation, table] + paragraphs[6:])
    pieces = slides.split_markdown(new_markdown_cell(source), slides.USABLE_HEIGHT)
    assert len(pieces) > 1 and "\n\n".join(piece.source for piece in pieces) == source
    assert any(fence in piece.source for piece in pieces) and any(equation in piece.source for piece in pieces)
    assert all(slides.markdown_height(piece.source) <= slides.USABLE_HEIGHT for piece in pieces)
    assert slides.markdown_height(table) < slides.markdown_height(paragraphs[0])

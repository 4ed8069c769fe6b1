"""utils.results, utils.checks.targets and course_tools.readme: targets, results files and the README
tables rendered from them."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from course_tools import readme as readme_module
from utils import results as results_module
from course_tools.readme import (
    main,
    render_chapter_table,
    render_headline_table,
    render_readme,
    render_results_page,
    render_results_table,
    render_timings_table,
    replace_block,
)
from utils.checks.targets import Target, TargetMissed, check_targets
from utils.course import Session
from utils.results import RESULTS_DIR, load_results, reported, results_path, save, write_json

REPO = Path(__file__).resolve().parent.parent
HEADER = ["| chapter | figure | tensorflow | jax | torch |", "| --- | --- | ---: | ---: | ---: |"]


def _record(
    chapter: int, backend: str, metrics: dict[str, float], wall: float = 12.0, mode: str = "full"
) -> dict:
    return {"chapter": chapter, "backend": backend, "mode": mode, "wall_time_s": wall, "metrics": metrics}


# Targets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("<", 2.0, True), ("<", 1.5, False), ("<", 1.0, False),
        ("<=", 1.5, True), ("<=", 1.4, False),
        (">", 1.0, True), (">", 1.5, False),
        (">=", 1.5, True), (">=", 1.6, False),
    ],
)  # fmt: skip
def test_target_compares_a_metric_with_a_number(op, value, expected):
    assert Target("mae", op, value, why="w").met({"mae": 1.5}) is expected


@pytest.mark.parametrize(("model_mae", "expected"), [(1.9, True), (2.0, False), (2.5, False)])
def test_target_compares_a_metric_with_another_metric(model_mae, expected):
    target = Target("model_mae", "<", "baseline_mae", why="beat the baseline")
    metrics = {"model_mae": model_mae, "baseline_mae": 2.0}
    assert target.threshold(metrics) == 2.0
    assert target.met(metrics) is expected
    assert target.describe() == "model_mae < baseline_mae"


def test_target_with_an_unknown_comparison():
    with pytest.raises(ValueError, match=r"unknown comparison '=='; use one of \['<', '<=', '>', '>='\]"):
        Target("mae", "==", 1.0, why="w").met({"mae": 1.0})


@pytest.mark.parametrize(
    ("target", "missing"),
    [(Target("rmse", "<", 1.0, why="w"), "rmse"), (Target("mae", "<", "baseline", why="w"), "baseline")],
)
def test_target_naming_an_unknown_metric(target, missing):
    with pytest.raises(KeyError, match=rf"target names metric '{missing}', which is not among \['mae'\]"):
        target.met({"mae": 1.0})


TARGETS = [
    Target("mae", "<", 2.0, why="beat persistence"),
    Target("accuracy", ">=", 0.9, why="most right"),
    Target("bits", "<", "baseline_bits", why="learn something", full_only=False),
]


def test_check_targets_reports_every_target_that_applies():
    metrics = {"mae": 1.0, "accuracy": 0.95, "bits": 2.0, "baseline_bits": 3.0}
    assert check_targets(metrics, TARGETS, "full") == [
        {"target": "mae < 2.0", "why": "beat persistence", "met": True},
        {"target": "accuracy >= 0.9", "why": "most right", "met": True},
        {"target": "bits < baseline_bits", "why": "learn something", "met": True},
    ]


def test_quick_mode_skips_full_only_targets():
    metrics = {"mae": 9.0, "accuracy": 0.1, "bits": 2.0, "baseline_bits": 3.0}
    assert check_targets(metrics, TARGETS, "quick") == [
        {"target": "bits < baseline_bits", "why": "learn something", "met": True}
    ]


def test_quick_mode_still_checks_targets_that_apply_to_it():
    with pytest.raises(TargetMissed, match=r"^1 target\(s\) missed in quick mode:\n- bits < baseline_bits"):
        check_targets({"mae": 9.0, "accuracy": 0.1, "bits": 4.0, "baseline_bits": 3.0}, TARGETS, "quick")


def test_missed_targets_are_all_listed_with_values_and_reasons():
    metrics = {"mae": 2.5, "accuracy": 0.95, "bits": 3.5, "baseline_bits": 3.25}
    with pytest.raises(TargetMissed) as caught:
        check_targets(metrics, TARGETS, "full")
    assert str(caught.value) == (
        "2 target(s) missed in full mode:\n"
        "- mae < 2.0 (got 2.5, threshold 2): beat persistence\n"
        "- bits < baseline_bits (got 3.5, threshold 3.25): learn something"
    )


# Results files ----------------------------------------------------------------------------------


def test_results_path_names_chapter_backend_and_mode(tmp_path):
    assert results_path(3, "jax", "quick", tmp_path) == tmp_path / "ch03.jax.quick.json"
    assert results_path(12, "torch", "full") == RESULTS_DIR / "ch12.torch.full.json"


def test_save_writes_the_record(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(results_module, "_quoted", {})
    session = Session(chapter=1, backend="tensorflow", mode="full", seed=1234)
    metrics = {"val_mae": np.float32(1.5), "baseline_mae": 2}
    path = save(session, metrics, [Target("val_mae", "<", "baseline_mae", why="beat it")], directory=tmp_path)

    assert path == tmp_path / "ch01.tensorflow.full.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    assert set(record) == {
        "chapter",
        "backend",
        "mode",
        "seed",
        "wall_time_s",
        "metrics",
        "targets",
        "keras",
        "python",
        "device",
        "machine",
        "recorded",
        "quoted",
    }
    assert record["quoted"] == []
    assert record["chapter"] == 1
    assert record["backend"] == "tensorflow"
    assert record["mode"] == "full"
    assert record["seed"] == 1234
    assert record["metrics"] == {"val_mae": 1.5, "baseline_mae": 2.0}
    assert record["targets"] == [{"target": "val_mae < baseline_mae", "why": "beat it", "met": True}]
    assert record["wall_time_s"] >= 0.0
    assert record["keras"].startswith("3.")
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file may be left behind"
    out = capsys.readouterr().out
    assert f"Saved 2 figures to {tmp_path.name}/ch01.tensorflow.full.json" in out
    assert "1 targets met" in out


def test_save_does_not_write_when_a_target_is_missed(tmp_path):
    session = Session(chapter=2, backend="jax", mode="full", seed=1)
    with pytest.raises(TargetMissed):
        save(session, {"mae": 3.0}, [Target("mae", "<", 2.0, why="w")], directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_save_in_quick_mode_ignores_full_only_targets(tmp_path):
    session = Session(chapter=2, backend="torch", mode="quick", seed=1)
    path = save(session, {"mae": 3.0}, [Target("mae", "<", 2.0, why="w")], directory=tmp_path)
    assert json.loads(path.read_text(encoding="utf-8"))["targets"] == []


def test_write_json_creates_folders_and_ends_with_a_newline(tmp_path):
    path = tmp_path / "a" / "b.json"
    write_json(path, {"é": [1, 2.5]})
    assert path.read_text(encoding="utf-8") == '{\n  "é": [\n    1,\n    2.5\n  ]\n}\n'


def test_write_json_that_fails_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "r.json"
    write_json(path, {"old": 1})
    with pytest.raises(TypeError):
        write_json(path, {"new": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_load_results_groups_one_mode_by_chapter_and_backend(tmp_path):
    for record in [
        _record(1, "tensorflow", {"mae": 1.0}),
        _record(1, "jax", {"mae": 1.1}),
        _record(2, "tensorflow", {"bits": 2.0}),
        _record(1, "tensorflow", {"mae": 9.0}, mode="quick"),
    ]:
        write_json(results_path(record["chapter"], record["backend"], record["mode"], tmp_path), record)
    write_json(tmp_path / "timings.json", {})

    full = load_results(tmp_path)
    assert sorted(full) == [1, 2]
    assert sorted(full[1]) == ["jax", "tensorflow"]
    assert full[1]["jax"]["metrics"] == {"mae": 1.1}
    assert load_results(tmp_path, mode="quick")[1]["tensorflow"]["metrics"] == {"mae": 9.0}
    assert load_results(tmp_path / "nothing-here") == {}


# Tables -----------------------------------------------------------------------------------------


def test_results_table_has_a_row_per_metric_and_a_column_per_backend():
    table = render_results_table(
        {
            2: {"torch": _record(2, "torch", {"bits": 2.345678}, wall=1234.5)},
            1: {
                "tensorflow": _record(1, "tensorflow", {"mae": 1.23456, "rmse": 0.5}, wall=60.0),
                "jax": _record(1, "jax", {"mae": 1.2, "r2": 0.9}, wall=45.25),
            },
        }
    )
    assert table.splitlines() == [
        *HEADER,
        "| 1 | mae | 1.23 | 1.2 | - |",
        "| 1 | rmse | 0.5 | - | - |",
        "| 1 | r2 | - | 0.9 | - |",
        "| 1 | wall time (s) | 60 | 45.2 | - |",
        "| 2 | bits | - | - | 2.35 |",
        "| 2 | wall time (s) | - | - | 1,234 |",
    ]


def test_results_table_without_results_is_just_the_header():
    assert render_results_table({}).splitlines() == HEADER


def test_timings_table_skips_modes_never_measured():
    timings = {
        "solutions/02_rnn.ipynb": {"jax": {"full": {"seconds": 300.4, "peak_mib": 1500.6}}},
        "solutions/01_baselines.ipynb": {
            "tensorflow": {
                "quick": {"seconds": 20.2, "peak_mib": 800},
                "full": {"seconds": 95, "peak_mib": 900},
            },
            "torch": {"quick": {"seconds": 25.0, "peak_mib": 700}},
        },
    }
    assert render_timings_table(timings).splitlines() == [
        "| notebook | mode | tensorflow | jax | torch |",
        "| --- | --- | ---: | ---: | ---: |",
        "| `solutions/01_baselines.ipynb` | quick | 20 s, 800 MiB | - | 25 s, 700 MiB |",
        "| `solutions/01_baselines.ipynb` | full | 95 s, 900 MiB | - | - |",
        "| `solutions/02_rnn.ipynb` | full | - | 300 s, 1501 MiB | - |",
    ]


CARDS = {
    "01_baselines.ipynb": {
        "chapter": 1,
        "title": "Baselines",
        "builds": "a persistence forecast",
        "data": "temps",
    },
    "02_rnn.ipynb": {"chapter": 2, "title": "Recurrent networks", "builds": "an LSTM", "data": "docs"},
}


def _write_solutions(directory: Path, cards: dict[str, dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, card in cards.items():
        notebook = new_notebook(cells=[new_markdown_cell("# Title")])
        notebook.metadata["course"] = card
        nbformat.write(notebook, directory / name)
    return directory


def test_chapter_table_from_notebook_metadata_and_tensorflow_timings(tmp_path):
    solutions = _write_solutions(tmp_path, CARDS)
    timings = {
        "solutions/01_baselines.ipynb": {
            "tensorflow": {"quick": {"seconds": 21.4}, "full": {"seconds": 95.0}},
            "jax": {"quick": {"seconds": 1.0}},
        },
        "solutions/02_rnn.ipynb": {"jax": {"full": {"seconds": 50.0}}},
    }
    assert render_chapter_table(solutions, timings).splitlines() == [
        "| # | chapter | what you build | data | quick / full time |",
        "| ---: | --- | --- | --- | --- |",
        "| 1 | [Baselines](chapters/01_baselines.ipynb) | a persistence forecast | temps | 21.4 s / 95 s |",
        "| 2 | [Recurrent networks](chapters/02_rnn.ipynb) | an LSTM | docs | not measured yet |",
    ]


def test_chapter_table_names_missing_metadata(tmp_path):
    solutions = _write_solutions(tmp_path, {"03_cnn.ipynb": {"chapter": 3, "title": "CNN"}})
    with pytest.raises(ValueError, match=r"03_cnn.ipynb metadata 'course' lacks \['builds', 'data'\]"):
        render_chapter_table(solutions, {})


def test_replace_block_replaces_only_between_the_markers():
    text = "intro\n<!-- results:begin -->\nold\nlines\n<!-- results:end -->\noutro\n"
    assert replace_block(text, "results", "| new |") == (
        "intro\n<!-- results:begin -->\n| new |\n<!-- results:end -->\noutro\n"
    )


def test_replace_block_inserts_the_body_literally():
    text = "<!-- t:begin -->\n<!-- t:end -->"
    body = r"C:\path\1 and \g<0>"
    assert replace_block(text, "t", body) == f"<!-- t:begin -->\n{body}\n<!-- t:end -->"


def test_replace_block_without_the_block_says_which_is_missing():
    with pytest.raises(
        ValueError, match=r"README has no '<!-- timings:begin -->' ... '<!-- timings:end -->' block"
    ):
        replace_block("<!-- results:begin -->\n<!-- results:end -->", "timings", "x")


# README rendering and the command line -----------------------------------------------------------

README = """# Course

<!-- chapters:begin -->
stale chapters
<!-- chapters:end -->

## Results

<!-- headlines:begin -->
old headlines
<!-- headlines:end -->
"""


@pytest.fixture
def readme_repo(tmp_path: Path, monkeypatch) -> tuple[Path, Path, Path]:
    monkeypatch.setattr(readme_module, "HEADLINES", {1: ("mae",)})
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    results_dir = tmp_path / "results"
    write_json(results_path(1, "jax", "full", results_dir),
               _record(1, "jax", {"mae": 1.5, "rmse": 2.0}, wall=30.0))
    write_json(
        results_dir / "timings.json",
        {"solutions/01_baselines.ipynb": {"tensorflow": {"quick": {"seconds": 20.0, "peak_mib": 800.0}}}},
    )
    solutions = _write_solutions(tmp_path / "solutions", {"01_baselines.ipynb": CARDS["01_baselines.ipynb"]})
    return readme, results_dir, solutions


def test_render_readme_fills_the_chapter_and_headline_blocks(readme_repo):
    readme, results_dir, solutions = readme_repo
    text = render_readme(readme, results_dir, solutions)
    assert text.startswith("# Course\n\n<!-- chapters:begin -->\n| # | chapter |")
    assert "stale chapters" not in text and "old headlines" not in text
    assert (
        "| 1 | [Baselines](chapters/01_baselines.ipynb) | a persistence forecast | temps | 20 s / - s |"
        in text
    )
    assert "| 1 | mae | - | 1.5 | - |" in text
    assert "rmse" not in text, "only the headline figures go into the README"
    assert readme.read_text(encoding="utf-8") == README, "rendering must not write"


def test_render_readme_without_timings_file(readme_repo):
    readme, results_dir, solutions = readme_repo
    (results_dir / "timings.json").unlink()
    assert "not measured yet" in render_readme(readme, results_dir, solutions)
    assert "| notebook | mode | tensorflow | jax | torch |\n| --- | --- |" in render_results_page(results_dir)


def test_the_results_page_has_every_figure_and_every_timing(readme_repo):
    _, results_dir, _ = readme_repo
    page = render_results_page(results_dir)
    assert page.startswith("# Results\n")
    for row in ("| 1 | mae | - | 1.5 | - |", "| 1 | rmse | - | 2 | - |", "| 1 | wall time (s) | - | 30 | - |",
                "| `solutions/01_baselines.ipynb` | quick | 20 s, 800 MiB | - | - |"):
        assert row in page.splitlines()


def test_a_headline_figure_that_no_results_file_has_is_named():
    record = {"wall_time_s": 1.0, "metrics": {"mae": 1.0}}
    assert "| 2 | mae | - | 1 | - |" in render_headline_table({2: {"jax": record}}, {2: ("mae",)})
    with pytest.raises(ValueError, match="chapter 2's headline figure 'MAE' is in none of its results files"):
        render_headline_table({2: {"jax": record}}, {2: ("MAE",)})


def test_every_headline_figure_is_in_the_course_results():
    table = render_headline_table(load_results())
    assert len(table.splitlines()) == 2 + sum(len(names) for names in readme_module.HEADLINES.values())


def _main(readme: Path, results_dir: Path, solutions: Path, *flags: str) -> int:
    return main(
        [*flags, "--readme", str(readme), "--results", str(results_dir), "--solutions", str(solutions)]
    )


def test_main_check_fails_when_stale_then_passes_after_rendering(readme_repo, capsys):
    readme, results_dir, solutions = readme_repo
    assert _main(readme, results_dir, solutions, "--check") == 1
    err = capsys.readouterr().err
    assert f"{readme} is out of date" in err and f"{results_dir / 'README.md'} is out of date" in err
    assert readme.read_text(encoding="utf-8") == README and not (results_dir / "README.md").exists()

    assert _main(readme, results_dir, solutions) == 0
    assert f"updated {readme} and {results_dir / 'README.md'}" in capsys.readouterr().out
    assert readme.read_text(encoding="utf-8") == render_readme(readme, results_dir, solutions)
    assert (results_dir / "README.md").read_text(encoding="utf-8") == render_results_page(results_dir)

    assert _main(readme, results_dir, solutions, "--check") == 0
    assert capsys.readouterr().err == ""


def test_main_check_notices_a_new_results_file(readme_repo):
    readme, results_dir, solutions = readme_repo
    _main(readme, results_dir, solutions)
    write_json(results_path(1, "torch", "full", results_dir), _record(1, "torch", {"mae": 1.4}))
    assert _main(readme, results_dir, solutions, "--check") == 1


def test_reported_reads_an_earlier_chapters_full_mode_figure(tmp_path):
    write_json(results_path(1, "jax", "full", tmp_path), {"chapter": 1, "backend": "jax", "metrics": {"mae": 0.5}})
    assert reported(1, "mae", "jax", tmp_path) == 0.5
    with pytest.raises(KeyError, match="no figure named 'rmse'; it has: mae"):
        reported(1, "rmse", "jax", tmp_path)
    with pytest.raises(FileNotFoundError, match="no full-mode results for the torch backend"):
        reported(1, "mae", "torch", tmp_path)


def test_save_records_the_figures_quoted_from_other_chapters_once(tmp_path, monkeypatch):
    monkeypatch.setattr(results_module, "_quoted", {})
    write_json(results_path(1, "jax", "full", tmp_path), {"chapter": 1, "backend": "jax", "metrics": {"mae": 0.5}})
    assert reported(1, "mae", "jax", tmp_path) == 0.5
    session = Session(chapter=2, backend="jax", mode="full", seed=1)
    record = json.loads(save(session, {"mse": 1.0}, directory=tmp_path).read_text(encoding="utf-8"))
    assert record["quoted"] == [{"chapter": 1, "metric": "mae", "backend": "jax", "value": 0.5}]
    # The next chapter saved in the same process quotes nothing it did not read itself.
    session = Session(chapter=3, backend="jax", mode="full", seed=1)
    assert json.loads(save(session, {"mse": 1.0}, directory=tmp_path).read_text(encoding="utf-8"))["quoted"] == []


def test_a_bar_in_a_figure_name_is_escaped_in_the_results_table():
    record = {"wall_time_s": 1.0, "metrics": {"largest |slope - log10 rho|": 0.001}}
    table = render_results_table({3: {"jax": record}})
    assert "| 3 | largest \\|slope - log10 rho\\| | - | 0.001 | - |" in table.splitlines()


def test_save_adds_the_parity_checks_as_figures_and_targets(tmp_path, capsys):
    from utils.checks.parity import ParityLog

    parity = ParityLog(tolerance=1e-5)
    parity.check("cell vs layer", [1.0], [1.0 + 1e-7])
    session = Session(chapter=4, backend="jax", mode="quick", seed=1)
    path = save(session, {"mae": 1.0}, [Target("mae", "<", 2.0, why="learns", full_only=False)],
                directory=tmp_path, parity=parity)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["metrics"]["max difference: cell vs layer"] == pytest.approx(1e-7)
    assert {"target": "max difference: cell vs layer <= 1e-05", "why": "float32 agreement with the reference",
            "met": True} in record["targets"]
    out = capsys.readouterr().out
    assert "2 targets met" in out and "- learns  [mae < 2.0]" in out


# Figures quoted across chapters stay fresh ---------------------------------------------------------

_CPU_FULL = re.compile(r"^ch(\d\d)\.(tensorflow|jax|torch)\.full\.json$")
_QUOTES = re.compile(r"results\.reported\((\d+)\s*,")


def _recorded(record: dict) -> datetime:
    return datetime.strptime(record["recorded"].removesuffix(" UTC"), "%Y-%m-%d %H:%M:%S")


def _quoted_chapters(chapter: int) -> set[int]:
    """The chapters whose results a solution notebook quotes, read from its ``results.reported`` calls."""
    (notebook,) = (REPO / "solutions").glob(f"{chapter:02d}_*.ipynb")
    sources = ["".join(cell.source) for cell in nbformat.read(notebook, as_version=4).cells
               if cell.cell_type == "code"]
    return {int(number) for source in sources for number in _QUOTES.findall(source)}


def _committed_full_results() -> list[Path]:
    return sorted(path for path in RESULTS_DIR.iterdir() if _CPU_FULL.match(path.name))


@pytest.mark.parametrize("path", _committed_full_results(), ids=lambda path: path.name)
def test_figures_quoted_from_other_chapters_equal_their_source(path: Path):
    """Every figure a chapter's results file quotes from another chapter equals that chapter's file now.

    :func:`utils.results.save` writes what the chapter read with ``reported`` into its ``quoted`` list,
    so a source chapter re-run after the quoting chapter (with other figures, or another training
    time) makes this test fail until the quoting chapter is re-run. A file written before quotes were
    recorded has no such list: it is skipped, and the reason says whether its date shows it stale.
    """
    chapter, backend = int(_CPU_FULL.match(path.name)[1]), _CPU_FULL.match(path.name)[2]
    record = json.loads(path.read_text(encoding="utf-8"))
    rerun = (f"re-run chapter {chapter} in full mode on {backend} (`python -m course_tools.execution --mode full "
             f"--backend {backend} solutions/{chapter:02d}_*.ipynb`)")
    if "quoted" not in record:
        later = [source for source in sorted(_quoted_chapters(chapter))
                 if _recorded(json.loads(results_path(source, backend, "full").read_text(encoding="utf-8")))
                 > _recorded(record)]
        state = (f"stale by date: chapter(s) {', '.join(map(str, later))} were re-recorded later; {rerun}"
                 if later else "not stale by date")
        pytest.skip(f"{path.name} was recorded before quoted figures were stored ({state}).")
    assert {quote["chapter"] for quote in record["quoted"]} <= _quoted_chapters(chapter) | {chapter}
    for quote in record["quoted"]:
        current = reported(quote["chapter"], quote["metric"], quote["backend"])
        assert quote["value"] == current, (
            f"{path.name} quotes chapter {quote['chapter']}'s {quote['metric']!r} as {quote['value']}, but its "
            f"results file now says {current}: {rerun}.")


def test_a_stale_quote_is_caught(tmp_path, monkeypatch):
    """The comparison above fails when the source changed after the quote was stored."""
    monkeypatch.setattr(results_module, "_quoted", {})
    write_json(results_path(1, "jax", "full", tmp_path), {"chapter": 1, "backend": "jax", "metrics": {"mae": 0.5}})
    reported(1, "mae", "jax", tmp_path)
    stored = json.loads(save(Session(chapter=2, backend="jax", mode="full", seed=1), {"x": 1.0},
                             directory=tmp_path).read_text(encoding="utf-8"))["quoted"]
    write_json(results_path(1, "jax", "full", tmp_path), {"chapter": 1, "backend": "jax", "metrics": {"mae": 0.6}})
    assert [reported(q["chapter"], q["metric"], q["backend"], tmp_path) == q["value"] for q in stored] == [False]


def test_the_quote_finder_reads_the_notebooks():
    assert _quoted_chapters(9) >= {6, 8}
    assert _quoted_chapters(1) == set()

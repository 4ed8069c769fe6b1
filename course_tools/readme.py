"""The README's generated tables and the full results page, ``results/README.md``.

``python -m course_tools.readme`` (``make readme``) renders the README's chapter table (from the
notebooks' ``course`` metadata and ``results/timings.json``) and its headline figures, and the page
of every figure, from the results files that :func:`utils.results.save` writes. No notebook imports
this module. The README's figures and times are the CPU's; runs made on a GPU, which write files of
their own, get tables of their own on the results page, one per device, after the CPU's.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat

from course_tools.execution import accelerator_timings
from utils.files import write_text_atomically
from utils.results import BACKENDS, REPO, RESULTS_DIR, load_results, result_devices


# The few figures per chapter that the README shows; results/README.md shows them all.
HEADLINES: dict[int, tuple[str, ...]] = {
    1: ("persistence MAE, 6 h ahead (°C)", "time-delay MLP MAE, 24 h window (°C)",
        "n-gram, best order (bits/char)"),
    2: ("char RNN test bits/char", "JapaneseVowels test accuracy, bidirectional RNN"),
    3: ("adding problem, simple RNN, T=10 (test MSE)", "adding problem, simple RNN, T=50 (test MSE)",
        "BPTT vs autodiff, largest relative difference"),
    4: ("adding problem T=100, SimpleRNN (test MSE)", "adding problem T=100, LSTM (test MSE)",
        "adding problem T=100, GRU (test MSE)"),
    5: ("forecast 1 h, best recurrent (test MAE °C)", "forecast 24 h mean, best recurrent (test MAE °C)",
        "vowels, bidirectional GRU, masked (mean of seeds) (test accuracy)"),
    6: ("Kneser-Ney, order chosen on validation (test bits/char)", "LSTM (test bits/char)",
        "mixture of the LSTM and Kneser-Ney (test bits/char)", "adaptive mixture (test bits/char)",
        "compressor lzma (test bits/char)", "tunes: LSTM, T = 1.0, rhythm validity"),
    7: ("Cho GRU, test exact match", "Sutskever LSTM, test exact match",
        "Cho GRU, exact match, beyond the training lengths"),
    8: ("attention, test exact match", "attention, exact match, beyond the training lengths"),
    9: ("transformer, test exact match", "transformer, exact match, beyond the training lengths",
        "GPT (test bits/char, sliding windows)"),
    10: ("GPT on tokens (test bits/char)", "vowels, encoder with positions (test accuracy, mean of seeds)",
         "cache speed-up at the longest position"),
}


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) < 999.5 else f"{value:,.0f}"


def _backend_header(*first: str) -> list[str]:
    """The two header lines of a Markdown table: the ``first`` columns, then one per backend."""
    names = " | ".join([*first, *BACKENDS])
    return [f"| {names} |", "|" + " --- |" * len(first) + " ---: |" * len(BACKENDS)]


def render_results_table(results: Mapping[int, Mapping[str, Mapping]]) -> str:
    """Markdown table: one row a chapter metric, one column a backend (full mode)."""
    lines = _backend_header("chapter", "figure")
    for chapter in sorted(results):
        by_backend = results[chapter]
        names: list[str] = []
        for record in by_backend.values():
            names.extend(name for name in record["metrics"] if name not in names)
        for name in [*names, "wall time (s)"]:
            cells = []
            for backend in BACKENDS:
                record = by_backend.get(backend)
                value = None
                if record is not None:
                    value = record["wall_time_s"] if name == "wall time (s)" else record["metrics"].get(name)
                cells.append(_fmt(value))
            shown = name.replace("|", "\\|")  # a "|" inside a name would end the table cell
            lines.append(f"| {chapter} | {shown} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_headline_table(results: Mapping[int, Mapping[str, Mapping]],
                          headlines: Mapping[int, Sequence[str]] | None = None) -> str:
    """Markdown table of each chapter's headline figures (full mode; :data:`HEADLINES` by default)."""
    headlines = HEADLINES if headlines is None else headlines
    lines = _backend_header("chapter", "figure")
    for chapter in sorted(results):
        by_backend = results[chapter]
        for name in headlines.get(chapter, ()):
            values = [by_backend[b]["metrics"].get(name) if b in by_backend else None for b in BACKENDS]
            if all(value is None for value in values):
                raise ValueError(f"chapter {chapter}'s headline figure {name!r} is in none of its results "
                                 "files: rename it in course_tools/readme.py HEADLINES.")
            shown = name.replace("|", "\\|")
            lines.append(f"| {chapter} | {shown} | " + " | ".join(_fmt(value) for value in values) + " |")
    return "\n".join(lines)


def _notebook_card(path: Path) -> dict[str, str]:
    card = nbformat.read(path, as_version=4).metadata.get("course", {})
    missing = {"chapter", "title", "builds", "data"} - set(card)
    if missing:
        raise ValueError(f"{path} metadata 'course' lacks {sorted(missing)}.")
    return card


def render_chapter_table(solutions: Path, timings: Mapping[str, Mapping]) -> str:
    """Markdown chapter table from the notebooks' ``course`` metadata and measured times."""
    lines = [
        "| # | chapter | what you build | data | quick / full time |",
        "| ---: | --- | --- | --- | --- |",
    ]
    for path in sorted(solutions.glob("*.ipynb")):
        card = _notebook_card(path)
        runs = timings.get(f"solutions/{path.name}", {}).get("tensorflow", {})
        quick = runs.get("quick", {}).get("seconds")
        full = runs.get("full", {}).get("seconds")
        time_cell = f"{_fmt(quick)} s / {_fmt(full)} s" if quick or full else "not measured yet"
        lines.append(
            f"| {card['chapter']} | [{card['title']}](chapters/{path.name}) | {card['builds']} | "
            f"{card['data']} | {time_cell} |"
        )
    return "\n".join(lines)


def render_timings_table(timings: Mapping[str, Mapping]) -> str:
    """Markdown table of per-notebook wall time and peak memory, per backend and mode."""
    lines = _backend_header("notebook", "mode")
    for notebook in sorted(timings):
        for mode in ("quick", "full"):
            cells = []
            for backend in BACKENDS:
                run = timings[notebook].get(backend, {}).get(mode)
                memory = f", {run['peak_mib']:.0f} MiB" if run and "peak_mib" in run else ""
                cells.append(f"{run['seconds']:.0f} s{memory}" if run else "-")
            if any(cell != "-" for cell in cells):
                lines.append(f"| `{notebook}` | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str:
    """Replace what stands between ``<!-- name:begin -->`` and ``<!-- name:end -->``."""
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"README has no '<!-- {name}:begin -->' ... '<!-- {name}:end -->' block.")
    return pattern.sub(lambda match: match.group(1) + body + "\n" + match.group(2), text)


def block(text: str, name: str) -> str:
    """What stands between ``<!-- name:begin -->`` and ``<!-- name:end -->`` (without the markers)."""
    match = re.search(rf"<!-- {name}:begin -->\n(.*?)\n?<!-- {name}:end -->", text, re.DOTALL)
    if not match:
        raise ValueError(f"README has no '<!-- {name}:begin -->' ... '<!-- {name}:end -->' block.")
    return match.group(1)


RESULTS_PAGE_HEAD = """# Results

Generated by `python -m course_tools.readme` (`make readme`) from the files in this folder: each
full-mode run of a chapter writes `chNN.<backend>.full.json` after checking the chapter's
targets, and `scripts/benchmark.py` (`make benchmark`, `make benchmark-full`) writes
`timings.json`. Nothing here is typed by hand. The README shows a few headline figures per
chapter; this page shows them all. A run that computed on a GPU writes
`chNN.<backend>.full.<device>.json` and `timings.<device>.json` instead, never the CPU's files, and
gets tables of its own below the CPU's.

## Every figure, full mode

"""


def _timings(results_dir: Path) -> dict:
    timings_file = results_dir / "timings.json"
    return json.loads(timings_file.read_text(encoding="utf-8")) if timings_file.exists() else {}


def render_readme(readme: Path, results_dir: Path, solutions: Path,
                  headlines: Mapping[int, Sequence[str]] | None = None) -> str:
    """The README text with its two generated tables (chapters, headline figures) brought up to date."""
    text = readme.read_text(encoding="utf-8")
    text = replace_block(text, "chapters", render_chapter_table(solutions, _timings(results_dir)))
    return replace_block(text, "headlines", render_headline_table(load_results(results_dir), headlines))


def _machines(records: Sequence[Mapping]) -> str:
    """The machines named in results records or timing runs, for a table's caption."""
    return ", ".join(sorted({str(record["machine"]) for record in records if "machine" in record})) or "-"


def render_results_page(results_dir: Path) -> str:
    """``results/README.md``: every figure of every chapter and every notebook's time and memory, on the
    CPU, then on each GPU that has results (figures and times, each device in a table of its own)."""
    parts = [RESULTS_PAGE_HEAD + render_results_table(load_results(results_dir))]
    for device in result_devices(results_dir):
        results = load_results(results_dir, device=device)
        records = [record for by_backend in results.values() for record in by_backend.values()]
        parts.append(f"## Every figure, full mode, on {device}\n\nFrom the runs that computed on this "
                     f"GPU (machine: {_machines(records)}).\n\n" + render_results_table(results))
    parts.append("## Time and peak memory per notebook\n\nWall time and peak memory of the notebook's "
                 "kernel, kernel start included, on the 2-core CPU.\n\n"
                 + render_timings_table(_timings(results_dir)))
    for device, timings in sorted(accelerator_timings(results_dir / "timings.json").items()):
        runs = [run for backends in timings.values() for modes in backends.values() for run in modes.values()]
        parts.append(f"### On {device}\n\nThe same, for the runs that computed on this GPU "
                     f"(machine: {_machines(runs)}).\n\n" + render_timings_table(timings))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course_tools.readme [--check]``: the README's tables and the results page."""
    parser = argparse.ArgumentParser(description="Render the README's tables and results/README.md.")
    parser.add_argument("--check", action="store_true", help="fail if either file is out of date")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions")
    args = parser.parse_args(argv)
    page = args.results / "README.md"
    rendered = {args.readme: render_readme(args.readme, args.results, args.solutions),
                page: render_results_page(args.results)}
    if args.check:
        stale = [path for path, text in rendered.items()
                 if not path.exists() or text != path.read_text(encoding="utf-8")]
        for path in stale:
            print(f"{path} is out of date: run `python -m course_tools.readme`.", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered.items():
        write_text_atomically(path, text)
    print(f"updated {args.readme} and {page}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

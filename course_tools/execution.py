"""Executed copies of the solution notebooks, for the book, the slides and the instructor's guide.

    python -m course_tools.execution --mode quick --backend torch      # all nine chapters
    python -m course_tools.execution --mode full --backend jax solutions/04_lstm_and_gru.ipynb

Each notebook runs in a fresh kernel of its own child process (as in the tests: the kernel's
working directory is ``solutions/``), with ``COURSE_MODE`` and ``KERAS_BACKEND`` set, and its
copy with every output, figure and per-cell timing is written to
``build/executed/<mode>-<backend>/``. The committed notebooks are never touched. A copy is
reused while the notebook, ``utils/`` and ``datasets/`` are unchanged (their digest is stored
in the copy's metadata), so the book and the slides do not run a chapter twice.

A cell that raises fails the run: the notebook's name, the cell and the error are printed, no
copy is written for it, and the exit status is 1, so running this is also a test of every
notebook on that backend and mode. A full-mode run also writes the chapter's results files,
as ``make test-full`` does.

Each copy's stamp also holds the run's wall time (kernel start included), the kernel's peak
memory and the device the kernel computed on (asked of the kernel itself after the last cell);
``python -m course_tools.execution --record-timings build/executed/full-jax`` merges them into
``results/timings.json``, as ``scripts/benchmark.py`` does for its own runs. Runs that computed
on a GPU go to a file of their own beside it, ``results/timings.<device>.json``, so that a GPU's
times never stand in the CPU's table.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from utils.files import write_text_atomically
from utils.training.device import CPU, device_slug, machine

if TYPE_CHECKING:  # imported where a notebook is executed, not by every user of this module
    from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
BUILD = REPO / "build"
MODES = ("quick", "full")
BACKENDS = ("tensorflow", "jax", "torch")
METADATA_KEY = "course_execution"
TIMINGS = REPO / "results" / "timings.json"


class ExecutionError(RuntimeError):
    """A notebook could not be executed: the message names it and says why."""


def executed_dir(mode: str, backend: str, build: Path = BUILD) -> Path:
    """Where the executed copies of one mode and backend live."""
    return build / "executed" / f"{mode}-{backend}"


def digest(notebook: Path, repo: Path = REPO) -> str:
    """A digest of the notebook and of every file under ``utils/`` and ``datasets/``.

    The outputs of a run depend on all three; any change in them makes an executed copy stale.
    The build tools in ``course_tools/``, which no notebook imports, are not part of it.
    """
    hasher = hashlib.sha256()
    hasher.update(notebook.read_bytes())
    for folder in ("utils", "datasets"):
        for path in sorted((repo / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                hasher.update(str(path.relative_to(repo)).encode())
                hasher.update(path.read_bytes())
    return hasher.hexdigest()


def is_current(copy: Path, source_digest: str, mode: str, backend: str) -> bool:
    """Whether ``copy`` is an executed copy of this exact source, mode and backend."""
    if not copy.exists():
        return False
    try:
        stamp = nbformat.read(copy, as_version=4).metadata.get(METADATA_KEY, {})
    except Exception:  # a damaged copy is simply stale
        return False
    return (stamp.get("digest"), stamp.get("mode"), stamp.get("backend")) == (source_digest, mode, backend)


def error_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """One line per error output in ``notebook``: the cell's index and the exception."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return found


def stderr_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """One line per output that ``notebook`` wrote to standard error (a warning, a log line): the cell's
    index and the output's first line. The course's notebooks write none in quick mode, where no
    progress line is drawn (``utils.course`` keeps TensorFlow's start-up log lines out of them at the
    source); ``tests/test_built_book.py`` holds that for the run the book is built from."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            stream = output.get("output_type") == "stream" and output.get("name") == "stderr"
            if stream and output.text.strip():
                found.append(f"cell {index}: {output.text.strip().splitlines()[0][:200]}")
    return found


def cell_seconds(cell: nbformat.NotebookNode) -> float | None:
    """Seconds a code cell took to run, from the timestamps nbclient records; None if absent."""
    stamps = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(stamps["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(stamps["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError, AttributeError):
        return None
    return max(0.0, (end - start).total_seconds())


def _run_in_this_process(source: Path, target: Path, mode: str, backend: str, source_digest: str,
                         cell_timeout: int) -> None:
    """Execute ``source`` in a fresh kernel and write the executed copy to ``target``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3", record_timing=True,
                            coalesce_streams=True, resources={"metadata": {"path": str(source.parent)}})
    start = time.perf_counter()
    try:
        device = execute_reporting_device(client)
    except CellExecutionError as error:
        raise ExecutionError(f"{source.name} failed on {backend} ({mode} mode):\n{error}") from None
    seconds = time.perf_counter() - start
    peak_mib = peak_child_mib()  # the kernel has exited: nbclient shuts it down after the last cell
    errors = error_outputs(notebook)
    if errors:  # a cell tagged raises-exception is allowed to fail; none of the course's is
        raise ExecutionError(f"{source.name} has error outputs on {backend} ({mode} mode): " + "; ".join(errors))
    notebook.metadata[METADATA_KEY] = {
        "mode": mode, "backend": backend, "digest": source_digest, "seconds": round(seconds, 1),
        "peak_mib": peak_mib, "device": device, "machine": machine(device),
        "date": datetime.date.today().isoformat(), "source": source.name,
    }
    write_text_atomically(target, nbformat.writes(notebook) + "\n")


def peak_child_mib() -> float:
    """Peak resident memory (MiB) of the largest child process this process has waited for."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    return round(peak / 1024 if platform.system() == "Linux" else peak / 2**20, 0)


# Run in the kernel after a notebook's last cell: the kernel is the process whose backend chose a device.
DEVICE_PROBE = "from utils.training.device import accelerator_used as _device\nprint(_device())"


def execute_reporting_device(client: NotebookClient) -> str:
    """Execute ``client``'s notebook, then return the device its kernel computed on ("cpu" or a GPU's name).

    A cell running :data:`DEVICE_PROBE` is added after the last one and removed again, ran or not,
    so the notebook comes back with its own cells only. Errors of the notebook's cells propagate.
    """
    notebook = client.nb
    notebook.cells.append(nbformat.v4.new_code_cell(DEVICE_PROBE))
    try:
        client.execute()
    finally:
        probe = notebook.cells.pop()
    printed = "".join(output.get("text", "") for output in probe.get("outputs", [])
                      if output.get("output_type") == "stream" and output.get("name") == "stdout").strip()
    if not printed:
        raise ExecutionError("the kernel did not say which device it computed on (the probe cell printed "
                             "nothing): check that `import utils` works in the notebook's kernel.")
    return printed


def timings_path(device: str = CPU, timings: Path = TIMINGS) -> Path:
    """The timings file of runs on ``device``: ``timings`` for the CPU, ``timings.<device>.json`` beside
    it for an accelerator."""
    if device == CPU:
        return timings
    return timings.with_name(f"{timings.stem}.{device_slug(device)}{timings.suffix}")


def merge_timings(runs: Sequence[tuple[str, str, str, dict]], timings: Path = TIMINGS) -> None:
    """Merge runs ``(notebook, backend, mode, run)`` into the timings files, each into its device's file.

    ``run`` holds ``seconds`` and, where known, ``peak_mib``, ``machine`` and ``device`` (the CPU when
    absent); a CPU run is stored without the ``device`` entry, as ``results/timings.json`` always was.
    """
    tables: dict[Path, dict] = {}
    for notebook, backend, mode, run in runs:
        run = dict(run)
        path = timings_path(run.get("device", CPU), timings)
        if run.get("device", CPU) == CPU:
            run.pop("device", None)
        if path not in tables:
            tables[path] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        tables[path].setdefault(notebook, {}).setdefault(backend, {})[mode] = run
    for path, table in tables.items():
        write_text_atomically(path, json.dumps(table, indent=2, sort_keys=True) + "\n")


def accelerator_timings(timings: Path = TIMINGS) -> dict[str, dict]:
    """Timings files of accelerators beside ``timings``: ``{device: {notebook: {backend: {mode: run}}}}``."""
    found: dict[str, dict] = {}
    for path in sorted(timings.parent.glob(f"{timings.stem}.*{timings.suffix}")):
        table = json.loads(path.read_text(encoding="utf-8"))
        devices = {run["device"] for backends in table.values() for modes in backends.values()
                   for run in modes.values() if "device" in run}
        for device in devices:
            found.setdefault(device, {}).update(table)
    return found


def record_timings(folders: Sequence[Path], timings: Path = TIMINGS) -> list[str]:
    """Merge the wall time and peak memory stamped in the executed copies in ``folders`` (folders of
    copies, or copies) into ``timings``, runs on a GPU into that device's file beside it
    (:func:`timings_path`).

    Returns one line per recorded notebook. A copy without a stamp is an error that names it;
    a copy stamped before memory and machine were stamped gives its time only, on this machine.
    """
    runs = []
    lines = []
    for folder in folders:
        copies = sorted(Path(folder).glob("*.ipynb")) if Path(folder).is_dir() else [Path(folder)]
        if not copies or not copies[0].is_file():
            raise ExecutionError(f"{folder} holds no executed copies: run python -m course_tools.execution first.")
        for copy_path in copies:
            stamp = nbformat.read(copy_path, as_version=4).metadata.get(METADATA_KEY)
            if not stamp or "seconds" not in stamp:
                raise ExecutionError(f"{copy_path} has no timing stamp: execute it again with --force.")
            device = stamp.get("device", CPU)
            run = {"machine": stamp.get("machine", machine()), "seconds": stamp["seconds"],
                   "device": device}
            if "peak_mib" in stamp:
                run["peak_mib"] = stamp["peak_mib"]
            name = f"solutions/{stamp['source']}"
            runs.append((name, stamp["backend"], stamp["mode"], run))
            memory = f", {run['peak_mib']:.0f} MiB" if "peak_mib" in run else " (no memory figure)"
            where = "" if device == CPU else f" on {device}"
            lines.append(f"{name} {stamp['backend']} {stamp['mode']}{where}: {run['seconds']:.1f} s{memory}")
    merge_timings(runs, timings)
    return lines


@dataclass
class Outcome:
    """What became of one notebook: its copy, whether it ran now, and how long it took."""

    notebook: Path
    copy: Path
    ran: bool
    seconds: float
    error: str | None = None


def execute(notebooks: Sequence[Path], *, mode: str, backend: str, build: Path = BUILD,
            cell_timeout: int = 1800, force: bool = False, show: bool = True) -> list[Outcome]:
    """Make an up-to-date executed copy of each notebook (each in its own child process)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}.")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}.")
    outcomes = []
    folder = executed_dir(mode, backend, build)
    for notebook in notebooks:
        notebook = Path(notebook).resolve()
        if not notebook.is_file():
            raise ExecutionError(f"{notebook} is not a file: pass solution notebooks (solutions/*.ipynb).")
        copy = folder / notebook.name
        source_digest = digest(notebook)
        if not force and is_current(copy, source_digest, mode, backend):
            stamp = nbformat.read(copy, as_version=4).metadata[METADATA_KEY]
            outcomes.append(Outcome(notebook, copy, False, stamp.get("seconds", 0.0)))
            if show:
                print(f"{notebook.name}: up to date ({mode}, {backend})", flush=True)
            continue
        env = dict(os.environ, COURSE_MODE=mode, KERAS_BACKEND=backend)
        env.pop("MPLBACKEND", None)  # the kernel's inline backend is what records the figures
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "course_tools.execution", "--one", str(notebook), "--to", str(copy),
             "--mode", mode, "--backend", backend, "--digest", source_digest,
             "--cell-timeout", str(cell_timeout)],
            env=env, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        error = None if done.returncode == 0 else (done.stderr.strip() or done.stdout.strip())[-4000:]
        outcomes.append(Outcome(notebook, copy, True, seconds, error))
        if show:
            state = "ran" if error is None else "FAILED"
            print(f"{notebook.name}: {state} in {seconds:.1f} s ({mode}, {backend})", flush=True)
            if error:
                print(error, file=sys.stderr, flush=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute solution notebooks into build/executed/.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solutions/*.ipynb")
    parser.add_argument("--mode", choices=MODES, default="full")
    parser.add_argument("--backend", choices=BACKENDS, default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--force", action="store_true", help="run even where an up-to-date copy exists")
    parser.add_argument("--cell-timeout", type=int, default=1800)
    parser.add_argument("--record-timings", nargs="+", type=Path, metavar="FOLDER",
                        help="merge the times stamped in these folders' copies (or these copies) into "
                             "results/timings.json, a GPU's into results/timings.<gpu>.json (runs nothing)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--digest", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        try:
            _run_in_this_process(args.one, args.to, args.mode, args.backend, args.digest, args.cell_timeout)
        except ExecutionError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    if args.record_timings:
        try:
            print("\n".join(record_timings(args.record_timings)))
        except ExecutionError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    notebooks = args.notebooks or sorted(SOLUTIONS.glob("*.ipynb"))
    try:
        outcomes = execute(notebooks, mode=args.mode, backend=args.backend, force=args.force,
                           cell_timeout=args.cell_timeout)
    except (ExecutionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = [outcome.notebook.name for outcome in outcomes if outcome.error]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

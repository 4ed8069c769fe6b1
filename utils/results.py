"""A chapter's results files: written at its end, read by the chapters that quote it.

At its end a chapter notebook calls :func:`save` with the figures it reached; that writes
``results/chNN.<backend>.<mode>.json`` and, in full mode, asserts the chapter's targets
(:mod:`utils.checks.targets`). Each file names the device the run computed on; a run on a GPU
writes ``results/chNN.<backend>.<mode>.<device>.json`` instead (for example
``ch04.torch.full.nvidia-h100-80gb-hbm3.json``), so it never overwrites the CPU's figures, which
stay the ones the README quotes. A later chapter quotes an earlier one's figure with
:func:`reported`. The README's tables are rendered from these files by
:mod:`course_tools.readme`, which no notebook imports.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from utils.checks.targets import Target, check_targets, parity_targets
from utils.files import write_text_atomically
from utils.training.device import CPU, accelerator, device_slug, machine

if TYPE_CHECKING:  # importing utils.course would import Keras, which this module does not need
    from utils.course import Session
    from utils.checks.parity import ParityLog

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "results"
BACKENDS = ("tensorflow", "jax", "torch")

# The figures this process has quoted from other chapters' results files with :func:`reported`,
# ``{(chapter, metric, backend): value}``: :func:`save` writes them into the quoting chapter's file,
# so that a test can tell when a source chapter was re-run and the quote went stale.
_quoted: dict[tuple[int, str, str], float] = {}


def results_path(chapter: int, backend: str, mode: str, directory: Path | None = None,
                 device: str = CPU) -> Path:
    """Where a chapter's results for one backend, mode and device are written.

    On the CPU ``chNN.<backend>.<mode>.json``; on an accelerator the device's name follows the
    mode (``chNN.<backend>.<mode>.<device>.json``), so the CPU's file is never overwritten and a
    reader of the CPU's files (``ch*.*.full.json``) does not pick up a GPU's.
    """
    suffix = "" if device == CPU else f".{device_slug(device)}"
    return (directory or RESULTS_DIR) / f"ch{chapter:02d}.{backend}.{mode}{suffix}.json"


def write_json(path: Path, data: object) -> None:
    """Write JSON atomically: a reader never sees a half-written file."""
    write_text_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save(
    session: Session,
    metrics: Mapping[str, float],
    targets: Sequence[Target] = (),
    directory: Path | None = None,
    parity: ParityLog | None = None,
) -> Path:
    """Check the targets, then write the chapter's figures, wall time, backend, mode and device.

    The device is the one the active Keras backend computes on
    (:func:`~utils.training.device.accelerator`): a run on a GPU writes a file of its own
    (:func:`results_path`).

    ``parity``, the chapter's :class:`~utils.checks.parity.ParityLog`, adds every recorded difference
    to the figures and a target that it stays within its tolerance.
    """
    clean = {name: float(value) for name, value in metrics.items()}
    all_targets = list(targets)
    if parity is not None:
        clean.update(parity.metrics())
        all_targets += parity_targets(parity)
    report = check_targets(clean, all_targets, session.mode)
    device = accelerator()
    record = {
        "chapter": session.chapter,
        "backend": session.backend,
        "mode": session.mode,
        "seed": session.seed,
        "wall_time_s": round(session.elapsed(), 1),
        "metrics": clean,
        "targets": report,
        "keras": version("keras"),
        "python": platform.python_version(),
        "device": device,
        "machine": machine(device),
        "recorded": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "quoted": [{"chapter": chapter, "metric": metric, "backend": backend, "value": value}
                   for (chapter, metric, backend), value in sorted(_quoted.items())],
    }
    path = results_path(session.chapter, session.backend, session.mode, directory, device)
    write_json(path, record)
    _quoted.clear()
    print(f"Saved {len(clean)} figures to {path.relative_to(path.parent.parent)} "
          f"({record['wall_time_s']} s, {len(report)} targets met).")
    claims = [line for line in report if not str(line["why"]).startswith("float32 agreement")]
    if claims:
        print("Targets checked in this mode (each met):")
        for line in claims:
            print(f"  - {line['why']}  [{line['target']}]")
    return path


def load_results(directory: Path | None = None, mode: str = "full",
                 device: str = CPU) -> dict[int, dict[str, dict]]:
    """Results files of one mode and device (the CPU's by default): ``{chapter: {backend: record}}``."""
    suffix = "" if device == CPU else f".{device_slug(device)}"
    found: dict[int, dict[str, dict]] = {}
    for path in sorted((directory or RESULTS_DIR).glob(f"ch*.*.{mode}{suffix}.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found.setdefault(int(record["chapter"]), {})[record["backend"]] = record
    return found


def result_devices(directory: Path | None = None, mode: str = "full") -> list[str]:
    """The accelerators with results files of ``mode``, by the name each file records (not the CPU)."""
    devices = {json.loads(path.read_text(encoding="utf-8")).get("device", CPU)
               for path in (directory or RESULTS_DIR).glob(f"ch*.*.{mode}.*.json")}
    return sorted(devices - {CPU})


def reported(chapter: int, metric: str, backend: str, directory: Path | None = None) -> float:
    """A figure an earlier chapter reached in full mode on ``backend``, read from its results file.

    Chapters quote earlier results through this function, so the numbers they show are the
    ones that ran, never typed by hand. The figure is the CPU's, on a GPU run too: those are the
    figures the course reports. Each figure read is remembered and written by :func:`save`
    into the quoting chapter's results file (its ``quoted`` list), where a test compares it with
    the source.
    """
    path = results_path(chapter, backend, "full", directory)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: chapter {chapter} has no full-mode results for the {backend} backend. "
            f"Run solutions/{chapter:02d}_*.ipynb with COURSE_MODE=full (or `make benchmark-full`), "
            "or restore the file with `git checkout -- results/`."
        )
    metrics = json.loads(path.read_text(encoding="utf-8"))["metrics"]
    if metric not in metrics:
        raise KeyError(f"{path.name} has no figure named {metric!r}; it has: {', '.join(sorted(metrics))}.")
    value = float(metrics[metric])
    _quoted[(chapter, metric, backend)] = value
    return value

"""A chapter's results files: written at its end, read by the chapters that quote it.

At its end a chapter notebook calls :func:`save` with the figures it reached; that writes
``results/chNN.<backend>.<mode>.json`` and, in full mode, asserts the chapter's targets
(:mod:`utils.checks.targets`). A later chapter quotes an earlier one's figure with
:func:`reported`. The README's tables are rendered from these files by
:mod:`course_tools.readme`, which no notebook imports.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from utils.checks.targets import Target, check_targets, parity_targets
from utils.files import write_text_atomically

if TYPE_CHECKING:  # importing utils.course would import Keras, which this module does not need
    from utils.course import Session
    from utils.checks.parity import ParityLog

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "results"
BACKENDS = ("tensorflow", "jax", "torch")


def results_path(chapter: int, backend: str, mode: str, directory: Path | None = None) -> Path:
    """Where a chapter's results for one backend and mode are written."""
    return (directory or RESULTS_DIR) / f"ch{chapter:02d}.{backend}.{mode}.json"


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
    """Check the targets, then write the chapter's figures, wall time, backend and mode.

    ``parity``, the chapter's :class:`~utils.checks.parity.ParityLog`, adds every recorded difference
    to the figures and a target that it stays within its tolerance.
    """
    clean = {name: float(value) for name, value in metrics.items()}
    all_targets = list(targets)
    if parity is not None:
        clean.update(parity.metrics())
        all_targets += parity_targets(parity)
    report = check_targets(clean, all_targets, session.mode)
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
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "recorded": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    path = results_path(session.chapter, session.backend, session.mode, directory)
    write_json(path, record)
    print(f"Saved {len(clean)} figures to {path.relative_to(path.parent.parent)} "
          f"({record['wall_time_s']} s, {len(report)} targets met).")
    claims = [line for line in report if not str(line["why"]).startswith("float32 agreement")]
    if claims:
        print("Targets checked in this mode (each met):")
        for line in claims:
            print(f"  - {line['why']}  [{line['target']}]")
    return path


def load_results(directory: Path | None = None, mode: str = "full") -> dict[int, dict[str, dict]]:
    """Results files of one mode: ``{chapter: {backend: record}}``."""
    found: dict[int, dict[str, dict]] = {}
    for path in sorted((directory or RESULTS_DIR).glob(f"ch*.*.{mode}.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found.setdefault(int(record["chapter"]), {})[record["backend"]] = record
    return found


def reported(chapter: int, metric: str, backend: str, directory: Path | None = None) -> float:
    """A figure an earlier chapter reached in full mode on ``backend``, read from its results file.

    Chapters quote earlier results through this function, so the numbers they show are the
    ones that ran, never typed by hand.
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
    return float(metrics[metric])

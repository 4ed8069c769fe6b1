"""Time every notebook, per backend and mode, and record peak memory.

    python scripts/benchmark.py --mode quick --backends tensorflow jax torch

Each notebook runs in a fresh kernel, in a child process of its own, so the peak
resident memory of that kernel can be read after it exits. Wall time includes kernel
start-up and imports: it is what a learner or CI waits for. The figures are merged
into ``results/timings.json`` (runs that computed on a GPU into ``results/timings.<device>.json``);
``python -m course_tools.readme`` renders them into the README.
A notebook that fails is reported and the script exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from course_tools.execution import (  # noqa: E402  (after the path is set)
    execute_reporting_device, machine, merge_timings, peak_child_mib)


def run_one(notebook: Path) -> dict[str, float | str]:
    """Execute one notebook in this process's child kernel; return seconds, peak MiB and its device."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    device = execute_reporting_device(client)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 1), "peak_mib": peak_child_mib(), "device": device}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("quick", "full"), required=True)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--notebooks", nargs="+", type=Path,
                        default=sorted([*REPO.glob("chapters/*.ipynb"), *REPO.glob("solutions/*.ipynb")]))
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0

    failures = 0
    for backend in args.backends:
        for notebook in args.notebooks:
            notebook = notebook.resolve()
            name = str(notebook.relative_to(REPO))
            env = dict(os.environ, KERAS_BACKEND=backend, COURSE_MODE=args.mode, MPLBACKEND="Agg")
            done = subprocess.run([sys.executable, __file__, "--mode", args.mode, "--one", str(notebook)],
                                  env=env, capture_output=True, text=True)
            if done.returncode != 0:
                failures += 1
                print(f"FAILED {name} on {backend} ({args.mode}):\n{done.stderr[-3000:]}", file=sys.stderr)
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["machine"] = machine(figures["device"])
            merge_timings([(name, backend, args.mode, figures)])
            print(f"{name:50s} {backend:10s} {args.mode:5s} {figures['seconds']:7.1f} s "
                  f"{figures['peak_mib']:6.0f} MiB on {figures['device']}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

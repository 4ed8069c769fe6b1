"""Run a submission's code cells one by one in its kernel, and keep going whatever a cell does.

Each cell has its own time limit (``--cell-timeout``) within the notebook's (``--timeout``). A cell
that raises is noted and the next one runs. A cell that runs too long is interrupted; if it ignores
the interrupt, or a cell kills its kernel, the kernel is started afresh and the cells that ran before
it are run again, without it, so that what the notebook defines before and after a bad cell can
still be graded. :class:`CellRun` says what happened, in numbers the grade table turns into words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from course_tools.grading.kernel import Kernel, KernelDied

MAX_RESTARTS = 2  # fresh kernels one submission may need after a cell killed or wedged its kernel


@dataclass
class CellRun:
    """What running a notebook's cells came to. Cells are named by their index in the notebook."""

    errors: list[str] = field(default_factory=list)  # "cell N: ErrorName: message"
    timed_out: list[int] = field(default_factory=list)  # cells interrupted after --cell-timeout
    crashed: list[str] = field(default_factory=list)  # "cell N: how the kernel died", or why it did not start
    out_of_time: int | None = None  # the cell during which the notebook's --timeout ran out
    restarts: int = 0
    skipped: set[int] = field(default_factory=set)  # cells left out when the kernel was started again
    alive: bool = False  # whether a kernel holding what the notebook defined is there to be graded


def _error(reply: dict[str, object]) -> str:
    return f"{str(reply.get('ename', 'Error'))[:100]}: {str(reply.get('evalue', ''))[:300]}"


def run_cells(kernel: Kernel, cells: list[tuple[int, str]], *, deadline: float, cell_timeout: float,
              restarts: int = MAX_RESTARTS) -> CellRun:
    """Start ``kernel`` and run ``cells`` (``(index, source)`` pairs) in it until ``deadline`` (monotonic)."""
    run = CellRun()
    try:
        kernel.start()
    except KernelDied as death:
        run.crashed.append(f"the kernel did not start: {death}")
        return run
    done = 0  # cells run once already: after a restart they run again, the bad ones left out
    while True:
        positions = [p for p in range(done) if cells[p][0] not in run.skipped] + list(range(done, len(cells)))
        stuck = False
        for position in positions:
            index, source = cells[position]
            first, left = position >= done, deadline - time.monotonic()
            if left <= 0:
                run.out_of_time = index
                run.alive = kernel.alive()
                return run
            try:
                reply = kernel.execute(source, min(cell_timeout, left))
            except KernelDied as death:
                run.skipped.add(index)
                run.crashed.append(f"cell {index}: {death}")
                done, stuck = max(done, position + 1), True
                break
            if reply is None:
                if left <= cell_timeout:
                    run.out_of_time = index
                elif first or index not in run.timed_out:
                    run.timed_out.append(index)
                if not kernel.interrupt():
                    run.skipped.add(index)
                    done, stuck = max(done, position + 1), True
                    break
                if run.out_of_time is not None:
                    run.alive = kernel.alive()
                    return run
            elif first and reply.get("status") == "error":
                run.errors.append(f"cell {index}: {_error(reply)}")
            done = max(done, position + 1)
        if not stuck:
            run.alive = kernel.alive()
            return run
        if run.restarts >= restarts or time.monotonic() >= deadline:
            return run
        run.restarts += 1
        try:
            kernel.start()
        except KernelDied as death:
            run.crashed.append(f"the kernel did not start again: {death}")
            return run

"""Why a sandboxed run stopped, in words a student understands, naming the cell.

Cells are named by their index in the notebook's ``cells`` list (the ``stopped_cell`` of the
result) and, when they have one, their nbgrader grade_id: ``cell 12 (test_output_size)``.
"""

import signal
from dataclasses import dataclass

import nbformat

from autograder.sandbox.limits import Limits, format_bytes
from autograder.sandbox.runner_records import Progress


@dataclass(frozen=True)
class Stop:
    """completed, or where and why execution stopped (see ``SandboxResult``)."""

    completed: bool
    cell: int | None = None
    reason: str | None = None


def cell_name(nb: nbformat.NotebookNode, index: int) -> str:
    """``"cell 12 (test_output_size)"``, or ``"cell 12"`` for a cell without a grade_id."""
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index} ({grade_id})" if grade_id else f"cell {index}"


def exit_words(code: int | None) -> str:
    """``0`` -> ``"exit code 0"``; ``-11`` -> ``"killed by signal 11, SIGSEGV"``."""
    if code is None:
        return "exit code unknown"
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by signal {-code}, {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def describe_stop(progress: Progress | None, nb: nbformat.NotebookNode, limits: Limits, *,
                  exit_code: int, killed_at_deadline: bool, memory_cap_hit: bool,
                  notebook_readable: bool) -> Stop:
    """Combine the runner's last record with what the host saw.

    exit_code: the sandbox's first process's exit status; killed_at_deadline: the host killed
    the sandbox at its hard deadline; memory_cap_hit: the memory cgroup OOM-killed a process;
    notebook_readable: the executed notebook came back intact.
    """
    if progress is not None and progress.status == "finished" and not killed_at_deadline:
        if notebook_readable:
            return Stop(completed=True)
        return Stop(completed=False, reason="the executed notebook could not be read back "
                                            "(damaged, or larger than the output caps allow)")
    cell = progress.cell if progress is not None else None
    status = progress.status if progress is not None else None
    named = cell_name(nb, cell) if cell is not None else None
    where = f"while {named} ran" if named else "before any cell ran"
    if killed_at_deadline or status == "notebook_timeout":
        reason = f"the whole notebook ran past the {limits.submission_timeout_s:g} s limit"
        reason += f" while {named} ran" if named else ""
    elif memory_cap_hit:
        cap = format_bytes(limits.memory_bytes)
        reason = f"{named} ran past the memory cap of {cap}" if named \
            else f"the kernel ran past the memory cap of {cap} before any cell ran"
    elif status == "kernel_died":
        reason = f"the kernel died {where} ({exit_words(progress.exit_code)})"
    elif status == "cell_stuck":
        reason = (f"{named} ran past the {limits.cell_timeout_s:g} s limit per cell and did not "
                  "stop when interrupted")
    elif status == "failed":
        reason = f"the notebook runner failed {where}: {progress.message}" if named \
            else f"the notebook could not be run: {progress.message}"
    elif status in ("starting", "running"):
        reason = f"the sandbox stopped {where} ({exit_words(exit_code)})"
    else:
        reason = f"the sandbox left no readable record of the run ({exit_words(exit_code)})"
    return Stop(completed=False, cell=cell, reason=reason)

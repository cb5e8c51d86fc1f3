"""Run one job's notebook in a sandbox (or, if the instructor insists, without) and collect it.

Steps: copy the job's files into ``workdir``; put the run under its limits (``LimitGuard``);
start the runner in bwrap; kill everything at ``submission_timeout_s + HOST_GRACE_S`` at the
latest; make sure no process of it is left; read its records as untrusted data; say why it
stopped.
"""

import time
from dataclasses import replace
from pathlib import Path

import nbformat

from autograder.sandbox.availability import find_bwrap, start_bwrap
from autograder.sandbox.bwrap_command import bwrap_argv
from autograder.sandbox.environment import matplotlib_font_lists, prepare_host_tmp, sandbox_env
from autograder.sandbox.job import SandboxJob, SandboxResult
from autograder.sandbox.layout import INSIDE, WorkFolders, runner_argv
from autograder.sandbox.limit_guard import LimitGuard
from autograder.sandbox.process import Exit, run_until
from autograder.sandbox.runner_records import cleared, merge_executed, read_progress
from autograder.sandbox.stop_reason import describe_stop
from autograder.sandbox.untrusted_files import keep_plain_files

#: Seconds the host waits past ``submission_timeout_s`` (kernel start, last writes) before it kills.
HOST_GRACE_S = 60
#: Room per code cell in executed.ipynb beyond its output cap (execution metadata, JSON framing).
RECORD_SLACK_BYTES = 65_536

RUNNER_ENFORCED = {
    "cell_timeout_s": "runner (interrupts the kernel)",
    "submission_timeout_s": f"runner, and the host kills the run {HOST_GRACE_S} s later",
    "max_output_bytes_per_cell": "runner (drops output past the cap as it arrives)",
}
NOT_SANDBOXED = "not enforced: isolation='none'"


def _run_in_bwrap(job: SandboxJob, folders: WorkFolders, seconds: float) -> tuple[Exit, bool, dict]:
    """(exit, memory cap hit, limit -> mechanism) of one bwrap run; raises SandboxUnavailable.

    The runner leaves the kernel running when it is done: the runner's exit ends bwrap's pid
    namespace, which kills every process left in it."""
    bwrap = find_bwrap()
    font_lists = matplotlib_font_lists()
    guard = LimitGuard(job.limits)
    try:
        exit = start_bwrap(
            bwrap, lambda fd: bwrap_argv(bwrap, folders, job.notebook.resolve(), job.mounts,
                                         job.limits, font_lists,
                                         runner_argv(INSIDE, job.limits, fd, job.kernel_args,
                                                     leave_kernel=True)),
            env=sandbox_env(INSIDE, job.limits, job.env), cwd=str(folders.root), seconds=seconds,
            preexec_fn=guard.preexec)
        memory_cap_hit = guard.memory_cap_hit()
    finally:
        guard.close()
    if exit.code > 128:  # bwrap reports its child's death by signal N as status 128 + N
        exit = replace(exit, code=128 - exit.code)
    return exit, memory_cap_hit, guard.enforced | RUNNER_ENFORCED


def _run_unsandboxed(job: SandboxJob, folders: WorkFolders, seconds: float) -> tuple[Exit, bool, dict]:
    """Like ``_run_in_bwrap`` with the runner as a plain child process: no isolation, no caps."""
    paths = folders.runner_paths(job.notebook.resolve())
    prepare_host_tmp(paths.tmp)
    exit = run_until(lambda fd: runner_argv(paths, job.limits, fd, job.kernel_args,
                                            leave_kernel=False),
                     env=sandbox_env(paths, job.limits, job.env), cwd=str(paths.work),
                     seconds=seconds, own_process_group=True)
    if not exit.started and not exit.killed_at_deadline:
        raise RuntimeError(f"the notebook runner did not start: {exit.output_tail[-2000:]}")
    enforced = {name: NOT_SANDBOXED for name in ("memory_bytes", "max_processes", "max_file_bytes")}
    enforced["cpu_threads"] = f"{NOT_SANDBOXED} (OMP/MKL/OPENBLAS_NUM_THREADS are set, not enforced)"
    return exit, False, enforced | RUNNER_ENFORCED


def run_sandboxed(job: SandboxJob, workdir: Path, isolation: str = "bwrap") -> SandboxResult:
    """Execute ``job.notebook`` in a fresh sandbox with ``workdir`` as its host-side folder.

    ``workdir`` (created if missing) gets ``work/``, ``output/``, ``runner/`` and ``tmp/``, each
    replaced if already there. ``isolation="none"`` runs the same runner as a plain subprocess:
    student code then runs with the caller's rights, mounts are not applied, and processes it
    detaches from its session may outlive the call (the instructor's explicit escape hatch).

    Raises SandboxUnavailable when bwrap cannot start a sandbox here, FileNotFoundError for a
    missing mount, and nbformat's errors when ``job.notebook`` is not a notebook.
    """
    if isolation not in ("bwrap", "none"):
        raise ValueError(f"isolation must be 'bwrap' or 'none', not {isolation!r}")
    started = time.monotonic()
    original = nbformat.read(job.notebook, as_version=4)
    folders = WorkFolders.prepare(workdir, job.files)
    seconds = job.limits.submission_timeout_s + HOST_GRACE_S
    run = _run_in_bwrap if isolation == "bwrap" else _run_unsandboxed
    exit, memory_cap_hit, enforced = run(job, folders, seconds)

    code_cells = sum(cell.cell_type == "code" for cell in original.cells)
    max_record_bytes = (job.notebook.stat().st_size + RECORD_SLACK_BYTES
                        + code_cells * (job.limits.max_output_bytes_per_cell + RECORD_SLACK_BYTES))
    executed = merge_executed(original, folders.state, max_record_bytes)
    notebook = executed or cleared(original)
    progress = read_progress(folders.state, len(original.cells))
    stop = describe_stop(progress, notebook, job.limits, exit_code=exit.code,
                         killed_at_deadline=exit.killed_at_deadline, memory_cap_hit=memory_cap_hit,
                         notebook_readable=executed is not None)
    keep_plain_files(folders.output)
    return SandboxResult(notebook=notebook, output_dir=folders.output, completed=stop.completed,
                         stopped_cell=stop.cell, stop_reason=stop.reason,
                         limits_enforced=enforced, seconds=time.monotonic() - started)

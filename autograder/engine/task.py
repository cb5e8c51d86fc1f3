"""One submission's sandboxed run as a Dask task: plain data in, plain data out.

:func:`run_submission` is what a Dask worker executes for one student. It takes a
:class:`SubmissionTask`, writes the notebook and the handed-in files into a private temporary
folder of the worker's machine, runs them with :func:`autograder.sandbox.run_sandboxed`, and
returns a :class:`TaskResult`; the temporary folder (in the worker's scratch space) is deleted
whatever happens, and the worker's own cleanup removes it if the worker dies. It never
touches the gradebook or the grading work folder, and has no other effect, so Dask may run it
again on another worker when the first one is lost mid-task: the grading process receives one
result per task and is the only writer of the gradebook.

A worker needs the kit installed (the same version as the grading process) and the released
data prepared (``python datasets.py prepare ...``): the sandbox mounts them from the worker's
own machine (:meth:`autograder.assignment_kit.AssignmentKit.mounts`).
"""

import json
import socket
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from autograder.assignment_kit import assignment_kit
from autograder.course import ASSIGNMENTS
from autograder.engine.file_trees import read_tree, remove_tree, write_tree
from autograder.judging.evidence_reader import MAX_JSON_BYTES, MAX_NPZ_BYTES
from autograder.sandbox.availability import SandboxUnavailable
from autograder.sandbox.job import SandboxJob
from autograder.sandbox.limits import Limits
from autograder.sandbox.run import run_sandboxed
from vislab.paths import cache_dir

#: the largest evidence file that comes back (the evidence reader reads none larger)
MAX_EVIDENCE_FILE_BYTES = max(MAX_JSON_BYTES, MAX_NPZ_BYTES)
#: all evidence files of one run together
MAX_EVIDENCE_BYTES = 2 * MAX_EVIDENCE_FILE_BYTES


@dataclass(frozen=True)
class SubmissionTask:
    """What a worker needs to run one submission (plain data: it pickles to any machine).

    assignment_id, student: whose run this is.
    notebook_json: the notebook to execute (nbformat v4 JSON text): the student's cells with the
        source's test and locked cells (:func:`autograder.graded_notebook.notebook_to_grade`).
    files: the handed-in folder's plain files, ``{relative POSIX path: bytes}``: the kernel's
        working directory starts as a copy of them.
    limits: the fields of :class:`autograder.sandbox.limits.Limits`.
    isolation: ``"bwrap"`` (a sandbox) or ``"none"`` (``--unsafe-no-sandbox``).
    kernel_env: the graded kernel's extra environment
        (:meth:`autograder.assignment_kit.AssignmentKit.kernel_env` of the grading process);
        ``VISLAB_CACHE`` is replaced by the worker's own cache, which is what its sandbox mounts.
    kernel_args: the graded kernel's extra command-line options
        (:data:`autograder.graded_notebook.KERNEL_ARGS`).
    checks_dir: the assignment's checks folder when it is not ``autograder/checks/<id>`` of the
        worker's kit (a path on the worker's machine).
    """

    assignment_id: str
    student: str
    notebook_json: str
    files: dict[str, bytes]
    limits: dict
    isolation: str
    kernel_env: dict[str, str]
    kernel_args: list[str]
    checks_dir: str | None = None


@dataclass(frozen=True)
class TaskResult:
    """What comes back from one run (plain data).

    student, worker: whose run, and the name of the Dask worker that ran it.
    notebook_json: the executed notebook (nbformat v4 JSON text: the sources as sent, the
        outputs of the cells that ran); None when the sandbox could not start (see ``error``).
    evidence: the files the hidden test cells wrote to ``$SANDBOX_OUTPUT/evidence``,
        ``{relative POSIX path: bytes}``, read without following links.
    evidence_left_out: relative paths of evidence that did not come back (a link, a special
        file, a file over ``MAX_EVIDENCE_FILE_BYTES`` or past ``MAX_EVIDENCE_BYTES`` in all).
    completed, stopped_cell, stop_reason, limits_enforced, seconds: as in
        :class:`autograder.sandbox.job.SandboxResult`.
    error: why no sandbox could start on the worker, in words; None when it ran.
    """

    student: str
    worker: str
    notebook_json: str | None
    evidence: dict[str, bytes] = field(default_factory=dict)
    evidence_left_out: list[str] = field(default_factory=list)
    completed: bool = False
    stopped_cell: int | None = None
    stop_reason: str | None = None
    limits_enforced: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


def make_task(assignment_id: str, student: str, notebook: nbformat.NotebookNode,
              files: dict[str, bytes], limits: Limits, isolation: str,
              kernel_env: dict[str, str], kernel_args: list[str],
              checks_dir: Path | None) -> SubmissionTask:
    """The task of one submission, from the grading process's objects."""
    return SubmissionTask(assignment_id=assignment_id, student=student,
                          notebook_json=nbformat.writes(notebook), files=files,
                          limits=asdict(limits), isolation=isolation, kernel_env=dict(kernel_env),
                          kernel_args=list(kernel_args),
                          checks_dir=str(checks_dir) if checks_dir else None)


def run_submission(task: SubmissionTask) -> TaskResult:
    """Run ``task`` in a sandbox on this machine and return what came back (see the module)."""
    folder = Path(tempfile.mkdtemp(prefix=f"vislab-{task.assignment_id}-{task.student}-",
                                   dir=_scratch_space()))
    try:
        return _run_in(folder, task)
    finally:
        remove_tree(folder)


def _run_in(folder: Path, task: SubmissionTask) -> TaskResult:
    kit = assignment_kit(task.assignment_id, ASSIGNMENTS,
                         Path(task.checks_dir) if task.checks_dir else None)
    notebook = folder / "notebook.ipynb"
    notebook.write_text(task.notebook_json, encoding="utf-8")
    write_tree(task.files, folder / "files")
    (folder / "empty.py").touch()
    env = {**task.kernel_env, "VISLAB_CACHE": str(cache_dir().resolve())}
    job = SandboxJob(notebook=notebook, files=folder / "files",
                     mounts=kit.mounts(folder / "empty.py"), env=env, limits=Limits(**task.limits),
                     kernel_args=list(task.kernel_args))
    try:
        result = run_sandboxed(job, folder / "sandbox", task.isolation)
    except SandboxUnavailable as error:
        return TaskResult(task.student, worker_name(), None,
                          error=f"the sandbox could not start on {worker_name()}: {error}")
    evidence, left_out = read_tree(result.output_dir / "evidence", MAX_EVIDENCE_FILE_BYTES,
                                   MAX_EVIDENCE_BYTES)
    return TaskResult(student=task.student, worker=worker_name(),
                      notebook_json=json.dumps(result.notebook), evidence=evidence,
                      evidence_left_out=left_out, completed=result.completed,
                      stopped_cell=result.stopped_cell, stop_reason=result.stop_reason,
                      limits_enforced=dict(result.limits_enforced), seconds=result.seconds)


def _scratch_space() -> str | None:
    """The Dask worker's own folder (a worker that dies leaves it behind, and the next worker
    started in the same scratch space deletes it); None (the system's) outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except ValueError:
        return None


def worker_name() -> str:
    """The name of the Dask worker running this (its host name outside a worker)."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except ValueError:  # not in a worker
        return socket.gethostname()

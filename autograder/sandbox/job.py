"""What a sandboxed notebook run is asked to do, and what it gives back."""

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.sandbox.limits import Limits

#: Inside paths a Mount may not cover: the sandbox's own folders and kernel file systems.
RESERVED_INSIDE = (Path("/sandbox"), Path("/proc"), Path("/dev"))


@dataclass(frozen=True)
class Mount:
    """A read-only view of host folder or file ``host`` at ``inside`` (both absolute).

    With ``isolation="none"`` nothing is mounted: code then sees host paths, which is only the
    same when ``inside == host`` (as for the kit's own packages at ``vislab.paths.REPO_ROOT``).
    """

    host: Path
    inside: Path

    def __post_init__(self):
        if not self.host.is_absolute() or not self.inside.is_absolute():
            raise ValueError(f"mount paths must be absolute: {self.host} -> {self.inside}")
        if self.inside == Path("/") or any(self.inside == r or r in self.inside.parents
                                           for r in RESERVED_INSIDE):
            raise ValueError(f"cannot mount over {self.inside}: the sandbox uses it")


@dataclass
class SandboxJob:
    """One notebook to execute in one sandbox.

    notebook: host path of the notebook to execute (read, never written).
    files: host folder copied (symlinks as symlinks) into the private writable folder that is
        the kernel's working directory; the copy's changes never reach ``files``.
    mounts: extra read-only views (kit code, released data).
    env: extra environment for the kernel, e.g. ``{"NBGRADER_EXECUTION": "autograde"}``.
    kernel_args: extra command-line options of the kernel, e.g.
        ``["--InlineBackend.figure_formats=set()"]``.
    """

    notebook: Path
    files: Path
    mounts: list[Mount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    kernel_args: list[str] = field(default_factory=list)


@dataclass
class SandboxResult:
    """What came back from one sandboxed run.

    notebook: the job's notebook (sources and metadata as on the host) with the outputs and
        execution counts of the cells that ran; cells that did not run keep no outputs.
    output_dir: host folder with what the kernel wrote to ``$SANDBOX_OUTPUT`` (regular files and
        folders only: links and special files it made there are removed).
    completed: every cell ran (some may have errors or a CellTimeoutError output).
    stopped_cell: index into ``notebook.cells`` of the cell running when execution stopped.
    stop_reason: why it stopped, in words a student understands, naming the cell, e.g.
        "the kernel died while cell 12 (test_output_size) ran (exit code 0)"; None if completed.
    limits_enforced: Limits field name -> mechanism ("cgroup v1 ...", "rlimit ...",
        "runner ...", "not enforced: why").
    seconds: wall-clock time of the whole run, copying included.
    """

    notebook: nbformat.NotebookNode
    output_dir: Path
    completed: bool
    stopped_cell: int | None
    stop_reason: str | None
    limits_enforced: dict[str, str]
    seconds: float

"""The folders of one sandboxed run, on the host and as the runner sees them, and its command line.

On the host, ``workdir`` holds (wiped and made afresh by ``WorkFolders.prepare``)::

    work/     private writable copy of the job's files: the kernel's working directory
    output/   $SANDBOX_OUTPUT: what the kernel leaves for the grader
    runner/   the runner's own records: progress.json and executed.ipynb
    tmp/      HOME etc. when running without a sandbox (inside one, /tmp is a private tmpfs)
    empty     an empty file, bound over files the sandbox must see as empty

Inside the sandbox the same folders are ``INSIDE``'s fixed paths.
"""

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.limits import Limits


@dataclass(frozen=True)
class RunnerPaths:
    """Where the runner reads the notebook and writes, as paths it can open."""

    notebook: Path
    work: Path
    output: Path
    state: Path
    tmp: Path


INSIDE = RunnerPaths(notebook=Path("/sandbox/notebook.ipynb"), work=Path("/sandbox/work"),
                     output=Path("/sandbox/output"), state=Path("/sandbox/runner"),
                     tmp=Path("/tmp"))


@dataclass(frozen=True)
class WorkFolders:
    """The host side of one run's folders (see the module docstring)."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def state(self) -> Path:
        return self.root / "runner"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def empty_file(self) -> Path:
        return self.root / "empty"

    @classmethod
    def prepare(cls, workdir: Path, files: Path) -> "WorkFolders":
        """Make ``workdir``'s folders afresh and copy ``files`` into ``work/`` (links stay links)."""
        folders = cls(workdir.resolve())
        folders.root.mkdir(parents=True, exist_ok=True)
        for folder in (folders.work, folders.output, folders.state, folders.tmp):
            if folder.exists():
                shutil.rmtree(folder)
        shutil.copytree(files, folders.work, symlinks=True)
        for folder in (folders.output, folders.state, folders.tmp):
            folder.mkdir()
        folders.empty_file.write_bytes(b"")
        return folders

    def runner_paths(self, notebook: Path) -> RunnerPaths:
        """The paths for a runner that runs on the host itself (``isolation="none"``)."""
        return RunnerPaths(notebook=notebook, work=self.work, output=self.output,
                           state=self.state, tmp=self.tmp)


def runner_argv(paths: RunnerPaths, limits: Limits, ready_fd: int, kernel_args: list[str],
                leave_kernel: bool) -> list[str]:
    """The command that starts ``autograder.sandbox.runner`` with this interpreter.

    ``ready_fd``: an inherited pipe's write end, where the runner signals that it started;
    ``kernel_args``: command-line options the runner gives the kernel; ``leave_kernel``: the
    runner does not shut the kernel down (only where its exit kills every process of the run).

    ``-I`` keeps the working directory (the student's files) off ``sys.path``, so a student's
    ``json.py`` cannot replace a module the runner imports.
    """
    return [sys.executable, "-I", "-m", "autograder.sandbox.runner",
            "--notebook", str(paths.notebook), "--state", str(paths.state),
            "--cell-timeout-s", str(limits.cell_timeout_s),
            "--notebook-timeout-s", str(limits.submission_timeout_s),
            "--max-output-bytes", str(limits.max_output_bytes_per_cell),
            "--ready-fd", str(ready_fd), *(f"--kernel-arg={arg}" for arg in kernel_args),
            *(["--leave-kernel"] if leave_kernel else [])]

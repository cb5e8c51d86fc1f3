"""Executing one student's notebook in a bubblewrap sandbox.

Student code is hostile. ``run_sandboxed`` runs a submission's notebook with nbclient inside
bubblewrap (the sandbox Flatpak uses), one sandbox per submission:

- isolation (``bwrap_command.py``): new user, pid, network, ipc, uts and cgroup namespaces;
  uid 65534 without capabilities; no network but its own loopback; a read-only view of the
  system, the Python environment and what the caller mounts; the repository hidden but for
  those mounts; writable only a private /tmp, a private copy of the submission (the kernel's
  working directory) and the output folder (``$SANDBOX_OUTPUT``);
- limits (``limit_guard.py``): memory, processes and CPU by cgroup v1 where writable, else by
  rlimits; file size by rlimit; wall-clock per cell and per notebook by the runner
  (``runner.py``), and per notebook once more by the host, which kills the whole sandbox;
- cleanup: the sandbox's pid namespace dies with its first process, and the host empties and
  removes its cgroups, so no process of it outlives ``run_sandboxed``;
- results (``runner_records.py``): what comes back is read as untrusted data (JSON / nbformat,
  no links followed, size-capped, never unpickled); sources always come from the host's copy.

``result.limits_enforced`` says which mechanism enforced each limit on this machine.
"""

from autograder.sandbox.availability import SandboxUnavailable, check_sandbox
from autograder.sandbox.job import Mount, SandboxJob, SandboxResult
from autograder.sandbox.limits import Limits
from autograder.sandbox.run import run_sandboxed

__all__ = ["Limits", "Mount", "SandboxJob", "SandboxResult", "SandboxUnavailable",
           "check_sandbox", "run_sandboxed"]

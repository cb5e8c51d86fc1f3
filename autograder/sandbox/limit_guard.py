"""Putting one sandbox's process tree under its Limits: cgroup v1 where writable, else rlimits.

A ``LimitGuard`` is made before the sandbox starts and closed after it ended. Its ``preexec``
runs in the sandbox's first process between fork and exec, so everything the sandbox ever
starts inherits the caps. ``close`` kills whatever is left in the cgroups and removes them.

Mechanisms, by limit (the words end up in ``SandboxResult.limits_enforced``):

- memory: cgroup v1 ``memory.limit_in_bytes`` (+ ``memory.memsw.limit_in_bytes``) over all
  processes together; the kernel OOM-kills inside the group past it. Fallback: RLIMIT_AS per
  process (an allocation past it fails with MemoryError instead).
- processes: cgroup v1 ``pids.max`` (threads count too). Fallback: RLIMIT_NPROC, which counts
  every process of the user and which the kernel ignores for the host's root, so running as root
  without a pids cgroup leaves processes uncapped (reported as such).
- CPU: cgroup v1 ``cpu.cfs_quota_us`` of ``cpu_threads`` CPUs. The thread variables that cap
  OpenMP / MKL / OpenBLAS are set in the environment either way (see ``environment.py``).
- file size: RLIMIT_FSIZE; core dumps: RLIMIT_CORE 0, always.
"""

import os
import resource
import uuid

from autograder.sandbox.cgroup_v1 import ControllerGroup
from autograder.sandbox.limits import Limits

CFS_PERIOD_US = 100_000
CONTROLLERS = ("memory", "pids", "cpu")


class LimitGuard:
    """The cgroups (and rlimits) of one sandbox run.

    enforced: Limits field name -> mechanism in words, for the fields this guard enforces
        (``memory_bytes``, ``max_processes``, ``cpu_threads``, ``max_file_bytes``).
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        name = f"vislab-sandbox-{uuid.uuid4().hex[:12]}"
        self.groups: dict[str, ControllerGroup] = {}
        for controller in CONTROLLERS:
            group = ControllerGroup.create(controller, name)
            if group is None:
                continue
            try:
                self._set_caps(controller, group)
            except OSError:  # a cap this kernel refuses: fall back as if the group were absent
                group.kill_all_and_remove()
                continue
            self.groups[controller] = group
        self._procs_files = [group.procs_file() for group in self.groups.values()]
        self._rlimits = self._plan_rlimits()
        self.enforced = self._describe()

    def _set_caps(self, controller: str, group: ControllerGroup) -> None:
        if controller == "memory":
            group.write("memory.limit_in_bytes", self.limits.memory_bytes)
            if (group.folder / "memory.memsw.limit_in_bytes").exists():
                group.write("memory.memsw.limit_in_bytes", self.limits.memory_bytes)
        elif controller == "pids":
            group.write("pids.max", self.limits.max_processes)
        elif controller == "cpu":
            group.write("cpu.cfs_period_us", CFS_PERIOD_US)
            group.write("cpu.cfs_quota_us", self.limits.cpu_threads * CFS_PERIOD_US)

    def _plan_rlimits(self) -> list[tuple[int, int]]:
        """(resource, value) pairs that ``preexec`` sets as both soft and hard limit."""
        planned = [(resource.RLIMIT_FSIZE, self.limits.max_file_bytes), (resource.RLIMIT_CORE, 0)]
        if "memory" not in self.groups:
            planned.append((resource.RLIMIT_AS, self.limits.memory_bytes))
        if "pids" not in self.groups and os.getuid() != 0:
            planned.append((resource.RLIMIT_NPROC, self.limits.max_processes))
        return planned

    def _describe(self) -> dict[str, str]:
        groups = self.groups
        return {
            "memory_bytes": "cgroup v1 (memory.limit_in_bytes, all processes together)"
            if "memory" in groups else "rlimit (RLIMIT_AS, per process)",
            "max_processes": "cgroup v1 (pids.max)" if "pids" in groups
            else "rlimit (RLIMIT_NPROC, counts every process of this user)" if os.getuid() != 0
            else "not enforced: no writable pids cgroup, and RLIMIT_NPROC does not apply to root",
            "cpu_threads": "cgroup v1 (cpu.cfs_quota_us) + OMP/MKL/OPENBLAS_NUM_THREADS"
            if "cpu" in groups else "environment only (OMP/MKL/OPENBLAS_NUM_THREADS)",
            "max_file_bytes": "rlimit (RLIMIT_FSIZE)",
        }

    def preexec(self) -> None:
        """Run in the child between fork and exec: join the cgroups, set the rlimits.

        Only system calls, no allocation-heavy Python, as subprocess's ``preexec_fn`` requires.
        """
        for procs_file in self._procs_files:
            fd = os.open(procs_file, os.O_WRONLY)
            try:
                os.write(fd, b"0")  # cgroup v1: 0 means the writing process
            finally:
                os.close(fd)
        for kind, value in self._rlimits:
            resource.setrlimit(kind, (value, value))

    def memory_cap_hit(self) -> bool:
        """Whether the kernel OOM-killed a process of the group (False without a memory cgroup)."""
        group = self.groups.get("memory")
        if group is None:
            return False
        try:
            return group.read_int("memory.oom_control", "oom_kill") > 0
        except KeyError:  # kernels before 4.13 do not count OOM kills
            return False

    def pids(self) -> list[int]:
        """Host pids still in the sandbox's cgroups (empty without cgroups)."""
        return sorted({pid for group in self.groups.values() for pid in group.pids()})

    def close(self) -> None:
        """Kill every process left in the groups, wait until they are empty, remove them."""
        groups, self.groups = self.groups, {}
        for group in groups.values():
            group.kill_all_and_remove()

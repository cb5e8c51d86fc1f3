"""One child cgroup (v1) per controller: create it, set caps, list, kill and remove its processes.

The child is created under this process's own cgroup of the controller (``/proc/self/cgroup``),
at the controller's mount point found in ``/proc/self/mountinfo``. Everything here needs write
access to that cgroup folder (root on a host or container that mounts cgroup v1 read-write);
``ControllerGroup.create`` returns None where it has none.
"""

import os
import signal
import time
from pathlib import Path


def _controller_mounts() -> dict[str, tuple[Path, str]]:
    """controller -> (mount point, cgroup path at the mount's root) of every cgroup v1 mount."""
    mounts = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        after = fields.index("-")
        if fields[after + 1] != "cgroup":
            continue
        for option in fields[after + 3].split(","):
            mounts.setdefault(option, (Path(fields[4]), fields[3]))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path, e.g. ``{"memory": "/process_api/57b8"}``."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller:
                own[controller] = path
    return own


class ControllerGroup:
    """A child cgroup of one v1 controller (``memory``, ``pids`` or ``cpu``) that this process made."""

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def create(cls, controller: str, name: str) -> "ControllerGroup | None":
        """Make ``<own cgroup>/<name>`` of ``controller``; None where that is not possible here."""
        try:
            mount_point, mount_root = _controller_mounts()[controller]
            own = _own_cgroups()[controller]
            relative = os.path.relpath(own, mount_root)
            folder = (mount_point / relative).resolve() / name
            folder.mkdir()
        except (KeyError, OSError, ValueError):
            return None
        return cls(folder)

    def write(self, file: str, value: int | str) -> None:
        """Write one control file, e.g. ``write("pids.max", 128)``."""
        (self.folder / file).write_text(str(value))

    def read_int(self, file: str, key: str | None = None) -> int:
        """A control file as an int, or the value of ``key`` in a ``key value`` per-line file."""
        text = (self.folder / file).read_text()
        if key is None:
            return int(text)
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
        raise KeyError(f"{key} not in {self.folder / file}")

    def procs_file(self) -> bytes:
        """The path of ``cgroup.procs`` as bytes (what a pre-exec hook writes ``0`` into)."""
        return os.fsencode(self.folder / "cgroup.procs")

    def pids(self) -> list[int]:
        """Host pids of the processes in the group now."""
        return [int(pid) for pid in (self.folder / "cgroup.procs").read_text().split()]

    def kill_all_and_remove(self, timeout_s: float = 10.0) -> list[int]:
        """SIGKILL every process in the group until it is empty, then remove the group.

        Returns the pids that had to be killed (empty when the group was already empty).
        Raises TimeoutError if processes are still there after ``timeout_s``.
        """
        killed: list[int] = []
        deadline = time.monotonic() + timeout_s
        while pids := self.pids():
            if time.monotonic() > deadline:
                raise TimeoutError(f"processes {pids} survive in {self.folder}")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                killed.append(pid)
            time.sleep(0.02)
        while True:
            try:
                self.folder.rmdir()
                return killed
            except OSError:  # EBUSY for a moment while the last exit is accounted
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

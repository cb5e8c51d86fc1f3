"""The caps one sandboxed notebook run lives under, and how to say them in words."""

from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Caps for one submission's sandbox; sizes in bytes, times in seconds.

    memory_bytes: all processes of the sandbox together (cgroup v1), or each process's address
        space where only rlimits are available (then keep it >= 4 GiB: ``import torch`` needs it).
    max_processes: processes and threads alive at once in the sandbox (cgroup v1 ``pids.max``).
    cpu_threads: CPU time share (cgroup v1 quota of this many CPUs) and the thread count that
        OpenMP / MKL / OpenBLAS are told to use.
    cell_timeout_s: one cell's wall-clock time; the kernel is then interrupted.
    submission_timeout_s: the whole notebook's wall-clock time, kernel start included.
    max_output_bytes_per_cell: output kept per cell; the rest is dropped as it arrives.
    max_file_bytes: the largest file any process in the sandbox may write (RLIMIT_FSIZE).
    """

    memory_bytes: int = 4 * GiB
    max_processes: int = 128
    cpu_threads: int = 1
    cell_timeout_s: float = 180
    submission_timeout_s: float = 1800
    max_output_bytes_per_cell: int = 1_000_000
    max_file_bytes: int = 1 * GiB


def format_bytes(count: int) -> str:
    """``4294967296`` -> ``"4 GiB"``, ``536870912`` -> ``"512 MiB"``, ``1000`` -> ``"1000 bytes"``.

    >>> format_bytes(4 * GiB), format_bytes(512 * MiB), format_bytes(3 * GiB // 2), format_bytes(1000)
    ('4 GiB', '512 MiB', '1.5 GiB', '1000 bytes')
    """
    for unit, size in (("GiB", GiB), ("MiB", MiB)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"

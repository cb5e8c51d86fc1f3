"""Start the sandbox's first process, wait for it under a hard deadline, keep its output's tail.

The runner proves it started by writing one byte to a pipe it gets at ``--ready-fd`` and
closing it before any kernel exists, so nothing a student's code does can make a started
runner look like a sandbox that never came up (or the reverse).
"""

import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

TAIL_BYTES = 16_384
READY_BYTE = b"R"


@dataclass(frozen=True)
class Exit:
    """How the first process ended.

    code: its exit status (negative: killed by that signal).
    killed_at_deadline: the host killed it because the hard deadline passed.
    started: the runner signalled that it started.
    output_tail: the last ``TAIL_BYTES`` of its stdout and stderr, decoded leniently.
    """

    code: int
    killed_at_deadline: bool
    started: bool
    output_tail: str


def _keep_tail(stream, tail: deque) -> None:
    """Read ``stream`` to its end, keeping at most TAIL_BYTES in ``tail`` (a deque of chunks)."""
    kept = 0
    while chunk := stream.read1(65_536):
        tail.append(chunk)
        kept += len(chunk)
        while kept - len(tail[0]) >= TAIL_BYTES:
            kept -= len(tail.popleft())


def run_until(argv_for_fd: Callable[[int], list[str]], env: dict[str, str], cwd: str,
              seconds: float, preexec_fn: Callable[[], None] | None = None,
              own_process_group: bool = False) -> Exit:
    """Run ``argv_for_fd(ready_fd)`` and wait at most ``seconds``, then SIGKILL it.

    ``own_process_group``: start it in a new session and SIGKILL that whole process group when
    it ends (for runs without a sandbox, whose pid namespace would otherwise do that).
    """
    ready_read, ready_write = os.pipe()
    try:
        process = subprocess.Popen(
            argv_for_fd(ready_write), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(ready_write,),
            preexec_fn=preexec_fn, start_new_session=own_process_group)
    finally:
        os.close(ready_write)
    tail: deque = deque()
    reader = threading.Thread(target=_keep_tail, args=(process.stdout, tail), daemon=True)
    reader.start()
    try:
        process.wait(timeout=seconds)
        killed = False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        killed = True
    finally:
        if own_process_group:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    reader.join(timeout=5)
    if not reader.is_alive():
        process.stdout.close()
    os.set_blocking(ready_read, False)
    try:
        started = os.read(ready_read, 1) == READY_BYTE
    except BlockingIOError:
        started = False
    finally:
        os.close(ready_read)
    return Exit(code=process.returncode, killed_at_deadline=killed, started=started,
                output_tail=b"".join(tail)[-TAIL_BYTES:].decode(errors="replace"))

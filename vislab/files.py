"""Writing files atomically: a reader sees the old file or the whole new one, never a torn one."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable) -> None:
    """Call ``write(handle)`` on a binary scratch file beside ``path``, then rename it to ``path``.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> atomic_write(target, lambda handle: handle.write(b"hello"))
    >>> target.read_text()
    'hello'
    """
    path = Path(path)
    descriptor, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.replace(scratch, path)
    except BaseException:
        os.unlink(scratch)
        raise

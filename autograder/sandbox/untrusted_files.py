"""Handling files that sandboxed code could have written: never follow its links.

Inside the sandbox, code may leave symbolic links (say ``output/labels.csv -> /etc/shadow``),
named pipes (a reader would block forever) or huge files where the host expects data.
"""

import os
import stat
from pathlib import Path


def read_regular_file(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not a link) of at most ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        data = file.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None


def is_plain(path: Path) -> bool:
    """Whether ``path`` itself (not what a link points to) is a regular file or a folder."""
    mode = os.lstat(path).st_mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def keep_plain_files(folder: Path) -> list[Path]:
    """Delete everything under ``folder`` that is neither a regular file nor a folder.

    Returns what was deleted (links, pipes, sockets), in walk order.
    """
    removed = []
    for parent, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            path = Path(parent, name)
            if not is_plain(path):
                path.unlink()
                removed.append(path)
    return removed

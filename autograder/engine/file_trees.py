"""Folders as data: ``{relative POSIX path: bytes}`` of the plain files under a folder.

This is how a submission travels to a Dask worker and how its evidence comes back: plain data
that pickles, and hashes, the same on every machine. Reading never follows a link: links,
pipes, sockets and files over the caps are left out and their relative paths returned, so the
caller can say so. Writing refuses a path that would leave the target folder. Folders that hold
no file do not travel.
"""

import os
import shutil
import stat
from pathlib import Path, PurePosixPath

from autograder.sandbox.untrusted_files import read_regular_file


def read_tree(folder: Path, max_file_bytes: int, max_total_bytes: int | None = None,
              skip_folders: tuple[str, ...] = ()) -> tuple[dict[str, bytes], list[str]]:
    """``(files, left_out)``: every regular file under ``folder`` of at most ``max_file_bytes``
    (while the total stays within ``max_total_bytes``), in sorted path order, and the relative
    paths of what was left out (links, special files, files over a cap). Folders named in
    ``skip_folders`` are skipped silently; a missing ``folder`` is an empty tree.
    """
    files: dict[str, bytes] = {}
    left_out: list[str] = []
    total = 0
    root = Path(folder)
    for parent, folders, names in os.walk(root):  # never descends into a linked folder
        here = Path(parent)
        kept = []
        for name in sorted(folders):
            if name in skip_folders:
                continue
            if stat.S_ISDIR(os.lstat(here / name).st_mode):
                kept.append(name)
            else:
                left_out.append((here / name).relative_to(root).as_posix())
        folders[:] = kept
        for name in sorted(names):
            relative = (here / name).relative_to(root).as_posix()
            size = os.lstat(here / name).st_size  # read no more than is there: no huge buffers
            data = read_regular_file(here / name, size) if size <= max_file_bytes else None
            if data is None or (max_total_bytes is not None and total + len(data) > max_total_bytes):
                left_out.append(relative)
                continue
            files[relative] = data
            total += len(data)
    return dict(sorted(files.items())), sorted(left_out)


def safe_relative(name: str) -> PurePosixPath:
    """``name`` as a relative path that stays inside its folder; ``ValueError`` otherwise.

    >>> safe_relative("runs/a.json")
    PurePosixPath('runs/a.json')
    >>> safe_relative("../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: not a relative path inside the folder: '../etc/passwd'
    """
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) \
            or "\x00" in name:
        raise ValueError(f"not a relative path inside the folder: {name!r}")
    return path


def write_tree(files: dict[str, bytes], folder: Path) -> None:
    """Write ``files`` under ``folder`` (created if missing; files already there stay)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = folder.joinpath(*safe_relative(name).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def remove_tree(folder: Path) -> None:
    """Delete ``folder`` and everything in it, also folders sandboxed code made unwritable."""
    def make_writable_and_retry(function, path, _):
        for target in (Path(path).parent, Path(path)):
            try:
                if not os.path.islink(target):  # a link's target may be anyone's file
                    os.chmod(target, stat.S_IRWXU)
            except OSError:
                pass
        try:
            function(path)
        except FileNotFoundError:
            pass

    if os.path.lexists(folder):
        shutil.rmtree(folder, onerror=make_writable_and_retry)

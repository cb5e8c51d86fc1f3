"""The bubblewrap command line that runs the runner in a fresh, unprivileged, offline sandbox.

What the sandboxed processes get:

- new user, pid, network, ipc, uts and cgroup namespaces; uid/gid 65534; no capabilities; no
  further user namespaces; killed with the host process that started them;
- only a loopback network (nothing of the host's, not even its 127.0.0.1);
- read-only: the system folders (/usr, /bin, /lib, /lib64, /sbin, /etc), the Python install
  (``sys.base_prefix``) and environment (``sys.prefix``), the caller's mounts, the runner module;
- hidden: files and folders under /etc that other users may not read (shadow, private keys),
  because inside the namespace the sandbox user owns root's files; everything else of the host,
  in particular the repository (``vislab.paths.REPO_ROOT``), which is covered by an empty tmpfs
  so that only what the caller mounts there shows (packages' ``__init__.py`` that the runner
  needs are bound empty, so importing the runner runs nothing else of the kit);
- writable: a private /tmp and /dev/shm (tmpfs, at most the memory cap), the private copy of the
  submission (the working directory), the output folder, the runner's record folder;
- /proc of its own pid namespace, its /proc/sys covered by a read-only view of the host's
  (the sandbox user is the host's root in the kernel's eyes, so writable sysctls such as
  kernel.core_pattern would be an escape; bwrap itself leaves them writable in that case).
"""

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from autograder.sandbox.job import Mount
from autograder.sandbox.layout import INSIDE, WorkFolders
from autograder.sandbox.limits import Limits
from vislab.paths import REPO_ROOT

SANDBOX_UID = 65534
SYSTEM_DIRS = (Path("/usr"), Path("/bin"), Path("/lib"), Path("/lib64"), Path("/sbin"), Path("/etc"))
NAMESPACE_ARGS = ["--unshare-all", "--unshare-user", "--disable-userns",
                  "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
                  "--cap-drop", "ALL", "--die-with-parent", "--new-session"]
RUNNER_PACKAGE = Path(__file__).resolve().parent


def hidden_from_others(root: Path) -> Iterator[Path]:
    """Files and folders under ``root`` that users other than the owner may not read.

    A hidden folder is listed once, without its contents; symbolic links are skipped.
    """
    for folder, subfolders, files in os.walk(root):
        for name in list(subfolders):
            mode = os.lstat(os.path.join(folder, name)).st_mode
            if stat.S_ISDIR(mode) and not mode & stat.S_IROTH:
                subfolders.remove(name)
                yield Path(folder, name)
        for name in files:
            mode = os.lstat(os.path.join(folder, name)).st_mode
            if stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                yield Path(folder, name)


def _system_mounts(empty_file: Path) -> list[tuple[Path, list[str]]]:
    mounts = []
    for folder in SYSTEM_DIRS:
        if folder.is_symlink():
            mounts.append((folder, ["--symlink", os.readlink(folder), str(folder)]))
        elif folder.is_dir():
            mounts.append((folder, ["--ro-bind", str(folder), str(folder)]))
    for path in hidden_from_others(Path("/etc")):
        mask = ["--tmpfs", str(path), "--remount-ro", str(path)] if path.is_dir() \
            else ["--ro-bind", str(empty_file), str(path)]
        mounts.append((path, mask))
    for prefix in sorted({Path(sys.base_prefix), Path(sys.prefix)}):
        mounts.append((prefix, ["--ro-bind", str(prefix), str(prefix)]))
    return mounts


def _private_mounts(limits: Limits, font_lists: list[Path]) -> list[tuple[Path, list[str]]]:
    size = ["--size", str(limits.memory_bytes)]
    mounts = [(Path("/proc"), ["--proc", "/proc"]),
              (Path("/proc/sys"), ["--ro-bind", "/proc/sys", "/proc/sys"]),
              (Path("/dev"), ["--dev", "/dev"]),
              (Path("/dev/shm"), [*size, "--tmpfs", "/dev/shm"]),
              (INSIDE.tmp, [*size, "--tmpfs", str(INSIDE.tmp)]),
              (INSIDE.tmp / "home", ["--dir", str(INSIDE.tmp / "home")]),
              (INSIDE.tmp / "matplotlib", ["--dir", str(INSIDE.tmp / "matplotlib")])]
    for font_list in font_lists:
        inside = INSIDE.tmp / "matplotlib" / font_list.name
        mounts.append((inside, ["--ro-bind", str(font_list), str(inside)]))
    return mounts


def _runner_mounts(folders: WorkFolders, notebook: Path) -> list[tuple[Path, list[str]]]:
    empty = str(folders.empty_file)
    mounts = [(REPO_ROOT, ["--tmpfs", str(REPO_ROOT)])]
    for init in (RUNNER_PACKAGE.parent / "__init__.py", RUNNER_PACKAGE / "__init__.py"):
        mounts.append((init, ["--ro-bind", empty, str(init)]))
    runner = RUNNER_PACKAGE / "runner.py"
    mounts.append((runner, ["--ro-bind", str(runner), str(runner)]))
    mounts += [(INSIDE.notebook, ["--ro-bind", str(notebook), str(INSIDE.notebook)]),
               (INSIDE.work, ["--bind", str(folders.work), str(INSIDE.work)]),
               (INSIDE.output, ["--bind", str(folders.output), str(INSIDE.output)]),
               (INSIDE.state, ["--bind", str(folders.state), str(INSIDE.state)])]
    return mounts


def bwrap_argv(bwrap: str | Path, folders: WorkFolders, notebook: Path, mounts: list[Mount],
               limits: Limits, font_lists: list[Path], command: list[str]) -> list[str]:
    """The full ``bwrap ... -- command`` argv, ``command`` as it runs inside (see ``INSIDE``).

    Mounts are ordered parents first, so a later mount (the caller's view of
    ``REPO_ROOT/vislab``, a hidden /etc file) lands on top of the one that contains it; the
    root and the tmpfs over ``REPO_ROOT`` are made read-only last, when every mount point exists.
    Raises FileNotFoundError for a mount whose host path is missing.
    """
    for mount in mounts:
        if not mount.host.exists():
            raise FileNotFoundError(f"cannot mount {mount.host} in the sandbox: it does not exist")
    planned = [*_system_mounts(folders.empty_file), *_private_mounts(limits, font_lists),
               *((m.inside, ["--ro-bind", str(m.host), str(m.inside)]) for m in mounts),
               *_runner_mounts(folders, notebook)]
    planned.sort(key=lambda mount: len(mount[0].parts))
    arguments = [argument for _, mount_arguments in planned for argument in mount_arguments]
    read_only_last = ["--remount-ro", "/", "--remount-ro", str(REPO_ROOT)]
    return [str(bwrap), *NAMESPACE_ARGS, *arguments, *read_only_last, "--chdir", str(INSIDE.work),
            "--", *command]

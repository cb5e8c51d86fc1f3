"""The environment of a sandboxed run: made from scratch, never copied from the host's.

Host variables (tokens, proxies, the instructor's paths) never reach student code. Matplotlib's
font list is seeded from the host's cache (see ``matplotlib_font_lists``) so that a run does not
spend seconds rebuilding it.
"""

import os
import shutil
import sys
from pathlib import Path

from autograder.sandbox.layout import RunnerPaths
from autograder.sandbox.limits import Limits

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def sandbox_env(paths: RunnerPaths, limits: Limits, extra: dict[str, str]) -> dict[str, str]:
    """Variable -> value for the runner and its kernel; ``extra`` (the job's env) wins.

    HOME, JUPYTER_RUNTIME_DIR and MPLCONFIGDIR lie under ``paths.tmp``; SANDBOX_OUTPUT is
    ``paths.output``; PATH starts with this interpreter's environment's ``bin``.
    """
    env = {
        "PATH": os.pathsep.join([str(Path(sys.prefix) / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(paths.tmp / "home"),
        "TMPDIR": str(paths.tmp),
        "JUPYTER_RUNTIME_DIR": str(paths.tmp / "jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "MPLCONFIGDIR": str(paths.tmp / "matplotlib"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "SANDBOX_OUTPUT": str(paths.output),
        **{name: str(limits.cpu_threads) for name in THREAD_VARIABLES},
    }
    return env | extra


def matplotlib_font_lists() -> list[Path]:
    """The host's cached matplotlib font lists (``fontlist-v*.json``), maybe none.

    Looked up where matplotlib keeps them ($MPLCONFIGDIR, else $XDG_CACHE_HOME/matplotlib, else
    ~/.cache/matplotlib) without importing matplotlib.
    """
    if os.environ.get("MPLCONFIGDIR"):
        cache = Path(os.environ["MPLCONFIGDIR"])
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"
    return sorted(cache.glob("fontlist-v*.json"))


def prepare_host_tmp(tmp: Path) -> None:
    """Make HOME and a seeded MPLCONFIGDIR under ``tmp`` for a run without a sandbox.

    (Inside a sandbox, ``bwrap_command`` makes the same in the private /tmp.)
    """
    (tmp / "home").mkdir(parents=True, exist_ok=True)
    (tmp / "matplotlib").mkdir(exist_ok=True)
    for font_list in matplotlib_font_lists():
        shutil.copyfile(font_list, tmp / "matplotlib" / font_list.name)

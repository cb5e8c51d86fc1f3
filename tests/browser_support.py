"""What the browser tests share: finding Chromium, a page that reaches only this machine, full-page
screenshots kept as test artefacts, and JupyterLab started on 127.0.0.1 and stopped again.

Chromium is the system's (Debian/Ubuntu package ``chromium``, or ``$VISLAB_CHROMIUM``), driven by
the ``playwright`` package; Playwright's own browser download is not used (it needs the internet).
"""

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from vislab.paths import REPO_ROOT

#: set to 1 (CI does) to make a missing browser fail the browser tests instead of skipping them
REQUIRE_BROWSER = "VISLAB_REQUIRE_BROWSER"
INSTALL_CHROMIUM = ("Chromium (Debian/Ubuntu package chromium: apt-get install chromium, "
                    "or set VISLAB_CHROMIUM to a Chromium binary)")
INSTALL_PLAYWRIGHT = "the Python package playwright (pip install -r requirements.txt)"
#: what the page may load: this machine's files and servers, nothing else
LOCAL_URL = re.compile(r"(file|data|blob|about):|https?://127\.0\.0\.1[:/]")
TOKEN = "vislab-browser-test"


def chromium_executable() -> str:
    """The Chromium binary to drive; when it or playwright is missing, skip the calling test
    saying what to install, or fail it when ``$VISLAB_REQUIRE_BROWSER`` is 1."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append(INSTALL_PLAYWRIGHT)
    executable = os.environ.get("VISLAB_CHROMIUM") or shutil.which("chromium")
    if not executable or not os.access(executable, os.X_OK):
        missing.append(INSTALL_CHROMIUM)
    if missing:
        message = "the browser tests need " + " and ".join(missing)
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(f"{message} ({REQUIRE_BROWSER}=1)", pytrace=False)
        pytest.skip(message)
    return executable


def artifacts_dir() -> Path:
    """Where screenshots are kept: ``$VISLAB_TEST_ARTIFACTS``, else ``test-artifacts/browser``."""
    folder = Path(os.environ.get("VISLAB_TEST_ARTIFACTS")
                  or REPO_ROOT / "test-artifacts" / "browser")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG of ``page`` as ``<artifacts>/<name>.png``."""
    from playwright.sync_api import Error

    path = artifacts_dir() / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    try:
        page.screenshot(path=path, full_page=True)
    except Error:  # now and then Chromium is "unable to capture" a tall page on a busy machine
        page.screenshot(path=path, full_page=True)
    return path


@contextmanager
def local_page(browser, width: int = 1400, height: int = 1000) -> Iterator:
    """A page in a fresh browser context whose requests to anything but this machine are
    aborted (a feedback page must work offline; the tests never reach the internet)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route("**/*", lambda route: route.continue_() if LOCAL_URL.match(route.request.url)
                  else route.abort())
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class Lab:
    """A running JupyterLab."""

    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_in(self, page) -> None:
        """Give ``page`` the server's login cookie, as opening JupyterLab with its token does.

        Not by opening a formgrader page with ``?token=``: formgrader's handlers have an empty
        ``base_url``, so that cookie would hold only for the page's own folder and the page's
        requests to ``/formgrader/api`` would be sent to the login page ("Loading, please wait...").
        """
        page.goto(f"{self.url('/api/status')}?token={TOKEN}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                     headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def jupyter_lab(root: Path, home: Path, timeout: float = 90,
                env: dict[str, str] | None = None) -> Iterator[Lab]:
    """Run ``jupyter lab`` with ``root`` as its folder and working directory (nbgrader's Validate
    and formgrader read ``nbgrader_config.py`` there) on a free port of 127.0.0.1; ``env`` adds
    to the environment of the server and its kernels.

    Jupyter's user folders are in ``home`` (no user settings, no news or update checks, nothing
    written to the real home). The server and its process group are ended on exit, also when the
    test failed.
    """
    port, log = _free_port(), home / "jupyter-lab.log"
    settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"), **(env or {})}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
             f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class="
             "jupyterlab.handlers.announcements.NeverCheckForUpdate"],
            cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Lab(port, log)
    finally:
        _end(process)


def _end(process: subprocess.Popen) -> None:
    """Stop a server started in a process group of its own: SIGTERM (the server shuts its kernels
    down), then SIGKILL for whatever of the group is still there."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()

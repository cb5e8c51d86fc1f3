"""Formgrader started in the course root (the repository's ``nbgrader_config.py``), the way an
instructor opens it: it answers in a fresh clone, where ``grading/`` does not exist yet and
jupyter was started by its path (no ``alembic`` on PATH), and after ``grade`` it lists the graded
students. A real ``jupyter server`` on 127.0.0.1 answers formgrader's own API."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import TINY_ID, write_tiny_assignment

from autograder.grade import grade_class
from autograder.nbgrader_plugins import FIT_TO_PAGE_CSS
from vislab.paths import REPO_ROOT

TOKEN = "vislab-formgrader-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def course_root(tmp_path_factory):
    """A course root like a fresh clone: the repository's nbgrader_config.py and the tiny
    assignment in assignments/, no grading/ folder."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    write_tiny_assignment(root)
    return root


@pytest.fixture(scope="module")
def server(course_root):
    """``jupyter server`` started by its path in the course root, with a PATH that lacks this
    environment's bin/ (as `.venv/bin/jupyter lab` has when the environment is not activated)."""
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
           "PATH": os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                   if p != bin_dir)}
    log = open(course_root / "server.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(Path(bin_dir) / "jupyter"), "server", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={course_root}"],
        cwd=course_root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(port, "/api/status")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"jupyter server did not start:\n{(course_root / 'server.log').read_text()}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_formgrader_answers_in_a_fresh_clone(course_root, server):
    status, body = _get(server, "/formgrader/api/assignments")
    assert status == 200, (body[-2000:], (course_root / "server.log").read_text()[-3000:])
    assert TINY_ID in [assignment["name"] for assignment in json.loads(body)]


def test_formgrader_lists_the_graded_students_as_autograded(course_root, server, tmp_path):
    submissions = tmp_path / "submissions"
    (submissions / "ada").mkdir(parents=True)
    shutil.copy(course_root / "assignments" / TINY_ID / f"{TINY_ID}.ipynb",
                submissions / "ada" / f"{TINY_ID}.ipynb")
    table = grade_class(TINY_ID, submissions, course_root / "grading", progress=False,
                        assignments_dir=course_root / "assignments",
                        checks_dir=course_root / "checks" / TINY_ID, demo_key=True)
    row = table.set_index("student").loc["ada"]
    assert row["status"] == "graded" and row["total"] > 0
    status, body = _get(server, f"/formgrader/api/submissions/{TINY_ID}")
    assert status == 200, body[-2000:]
    graded = {row["student"]: row for row in json.loads(body)}
    assert graded["ada"]["autograded"], "formgrader counts the graded student as not autograded"
    assert (graded["ada"]["score"], graded["ada"]["max_score"]) == (row["total"], row["max_total"])


def test_a_submission_page_draws_its_maths_with_mathjax_from_the_server(course_root, server):
    """Formgrader's page of a submission loads MathJax from jupyter-server-mathjax, not a CDN
    (offline, the page's grading script stops at the missing MathJax), and fits figures."""
    status, body = _get(server, f"/formgrader/api/submitted_notebooks/{TINY_ID}/{TINY_ID}")
    assert status == 200, body[-2000:]
    submission_id = {row["student"]: row["id"] for row in json.loads(body)}["ada"]
    status, page = _get(server, f"/formgrader/submissions/{submission_id}/")
    assert status == 200, page[-2000:]
    assert "cdnjs" not in page and "https://" not in page.split("</head>")[0]
    served = re.search(r'<script src="(/static/jupyter_server_mathjax/MathJax\.js\?[^"]+)"', page)
    assert served, "the page does not load MathJax from this server"
    assert _get(server, served.group(1).replace("&amp;", "&"))[0] == 200
    assert FIT_TO_PAGE_CSS.strip() in page

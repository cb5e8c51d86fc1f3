"""The adversarial class of a3_cifar (:mod:`autograder.cheats`), graded once in real sandboxes.

Every cheat gets exactly its expected points and reasons, and never a point more than the same
submission without the cheat; the victim is graded as if no one had cheated; nothing outside the
sandboxes changes (handed-in folders, the grading side's copies, the cache, the held-out labels,
the host's files, the other students' gradebook rows); no sandbox process survives grading;
regrading gives the same table. The class runs on a private cache and held-out folder, so hashes
before and after compare only what grading touches.
"""

import hashlib
import os
import re
import shutil
import socket
import sqlite3
import sysconfig
import threading
import time
import uuid
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder.assignment_kit import assignment_kit
from autograder.cheats import (
    ASSIGNMENT,
    BASES,
    CHEATS,
    NOTEBOOK,
    VICTIM,
    Target,
    base_points,
    expected_points,
    fill_in,
    write_class,
)
from autograder.course import ASSIGNMENTS
from autograder.grade import grade_class
from autograder.heldout.key import DEMO_KEY
from autograder.heldout.store import DIR_VARIABLE, heldout_root
from autograder.sandbox.limits import Limits
from autograder.submission_time import TIMESTAMP_FILE
from vislab.paths import REPO_ROOT, cache_dir

CELL_TIMEOUT = 60
#: graded a second time, into the same work folder
REGRADED = ["overwrite_victim", VICTIM]
#: seconds given to anything left over to show itself after grading
AFTERMATH_S = 3
RELEASED = ("textured-digits", "textured-digits-test")


class HostListeners:
    """A TCP port on the host's 127.0.0.1 and an abstract unix socket named ``token``; every
    connection that reaches either is kept in ``received``."""

    def __init__(self, token: str):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind("\0" + token)
        self.unix.listen()
        self.port = self.tcp.getsockname()[1]
        self.received: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, args=(server,), daemon=True)
                         for server in (self.tcp, self.unix)]
        for thread in self._threads:
            thread.start()

    def _accept(self, server: socket.socket) -> None:
        server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.received.append(repr(connection.recv(200)))
                except OSError as error:
                    self.received.append(f"a connection ({error})")

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.tcp.close()
        self.unix.close()


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (of a link: its target)."""
    digest = {}
    for path in sorted(Path(folder).rglob("*")):
        if "__pycache__" in path.parts:
            continue
        if path.is_symlink():
            digest[str(path.relative_to(folder))] = "-> " + os.readlink(path)
        elif path.is_file():
            digest[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def gradebook_rows(db_path: Path) -> dict[str, list[tuple]]:
    """student -> (cell, auto_score, manual_score, extra_credit) of each of their grades."""
    query = """SELECT student.id, base_cell.name, grade.auto_score, grade.manual_score,
                      grade.extra_credit
               FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
               JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
               JOIN student ON submitted_assignment.student_id = student.id
               JOIN base_cell ON grade.cell_id = base_cell.id"""
    rows: dict[str, list[tuple]] = {}
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        for student, *grade in db.execute(query):
            rows.setdefault(student, []).append(tuple(grade))
    return {student: sorted(grades) for student, grades in rows.items()}


def sandbox_processes(mark: str) -> list[str]:
    """Processes whose command line or environment mentions ``mark``: not this one, and not the
    resource tracker that ``multiprocessing`` keeps beside it for the life of this process (the
    local Dask cluster's processes start it; it is ours, not a sandbox's)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"multiprocessing.resource_tracker" in cmdline:
            continue
        if mark.encode() in cmdline + environ:
            command = cmdline.replace(b"\0", b" ")[:200].decode(errors="replace")
            found.append(f"{pid}: {command}")
    return found


def written_after(folder: Path, moment: float) -> list[str]:
    """Files and folders under ``folder`` changed after ``moment`` (a time.time())."""
    return [str(path) for path in Path(folder).rglob("*") if path.lstat().st_mtime > moment]


def host_plants(target: Target) -> list[Path]:
    """Where the ``escape`` cheat tries to leave files on the host."""
    return [REPO_ROOT / "tests" / f"planted_{target.token}.py", Path(f"/root/planted-{target.token}"),
            Path(f"/tmp/planted-{target.token}"), target.workdir / f"planted-{target.token}"]


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


@dataclass
class Graded:
    table: pd.DataFrame
    root: Path
    submissions: Path
    target: Target
    cell_points: dict[str, float]
    digests_before: dict[str, dict[str, str]]
    digests_after: dict[str, dict[str, str]]
    rows_after_grading: dict[str, list[tuple]]
    survivors: list[str]
    late_writes: list[str]
    received: list[str]

    @property
    def workdir(self) -> Path:
        return self.target.workdir

    def feedback(self, student: str) -> str:
        path = self.workdir / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        return text_of(path.read_text()) if path.exists() else ""

    def outputs(self, student: str) -> str:
        """Everything the cells of ``student``'s graded notebook printed (stdout and stderr)."""
        nb = nbformat.read(self.workdir / "autograded" / student / ASSIGNMENT / NOTEBOOK,
                           as_version=4)
        return "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                       for output in cell.outputs if output.output_type == "stream")


def _private_stores(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A private cache and held-out folder, seeded from this machine's when they have a3's
    released data and demo labels (else prepared from scratch)."""
    cache, heldout = root / "cache", root / "heldout"
    for name in RELEASED:
        if (cache_dir() / "datasets" / name).is_dir():
            shutil.copytree(cache_dir() / "datasets" / name, cache / "datasets" / name)
    labels = heldout_root() / DEMO_KEY.fingerprint
    if labels.is_dir():
        shutil.copytree(labels, heldout / DEMO_KEY.fingerprint)
    monkeypatch.setenv("VISLAB_CACHE", str(cache))
    monkeypatch.setenv(DIR_VARIABLE, str(heldout))
    assignment_kit(ASSIGNMENT, ASSIGNMENTS).prepare(DEMO_KEY)
    return cache, heldout


def _digests(graded_paths: dict[str, Path]) -> dict[str, dict[str, str]]:
    return {name: tree_digest(path) for name, path in graded_paths.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    token = f"vislab-adversarial-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        cache, heldout = _private_stores(root, monkeypatch)
        listeners = HostListeners(token)
        target = Target(workdir=root / "work", heldout=heldout, markers=root / "markers",
                        secret=root / "secret.txt", port=listeners.port, token=token)
        target.markers.mkdir()
        target.secret.write_text(f"{token}: the instructor's key\n")  # one line, as a key file
        submissions = write_class(root / "class", target)
        watched = {"handed-in folders": submissions, "cache": cache, "held-out labels": heldout,
                   "a3 checks": REPO_ROOT / "autograder" / "checks" / ASSIGNMENT}
        before = _digests(watched)
        try:
            table = grade_class(ASSIGNMENT, submissions, target.workdir, workers=2, progress=False,
                                cell_timeout=CELL_TIMEOUT, demo_key=True)
            ended = time.time()
            rows = gradebook_rows(target.workdir / "gradebook.db")
            time.sleep(AFTERMATH_S)
            survivors = sandbox_processes(str(root))
            late = written_after(root, ended)
            after = _digests(watched)
        finally:
            listeners.close()
        cell_points = assignment_kit(ASSIGNMENT, ASSIGNMENTS).test_cell_points
        yield Graded(table.set_index("student"), root, submissions, target, cell_points, before,
                     after, rows, survivors, late, listeners.received)
    for plant in host_plants(target):  # a sandbox that leaked leaves no garbage behind
        plant.unlink(missing_ok=True)


def _graded_cells(graded: Graded) -> list[str]:
    fixed = {"status", "reason", "total", "max_total", "manual_pending", "feedback"}
    return [column for column in graded.table.columns if column not in fixed]


def test_the_bases_and_the_victim_get_their_points(graded):
    for student, base in [("solution", "solution"), ("partial", "partial"), (VICTIM, "solution")]:
        row = graded.table.loc[student]
        assert row["status"] == "graded" and row["reason"] == "", (student, row["reason"])
        assert {cell: row[cell] for cell in graded.cell_points} == \
            base_points(base, graded.cell_points), student
    assert set(BASES) <= set(graded.table.index)


def test_every_cheat_gets_exactly_its_expected_points(graded):
    wrong = {}
    for student, cheat in CHEATS.items():
        row = graded.table.loc[student]
        got = {cell: row[cell] for cell in graded.cell_points}
        expected = expected_points(cheat, graded.cell_points)
        if row["status"] != "graded" or got != expected:
            wrong[f"{student} ({cheat.what})"] = row["status"] if row["status"] != "graded" \
                else {cell: (got[cell], expected[cell]) for cell in expected
                      if got[cell] != expected[cell]}
    assert not wrong, f"cheat: {{cell: (points, expected)}}: {wrong}"


def test_no_cheat_gains_a_point_over_the_same_submission_without_it(graded):
    gains = {}
    for student, cheat in CHEATS.items():
        row, base = graded.table.loc[student], graded.table.loc[cheat.base]
        for cell in _graded_cells(graded):
            compared = graded.table.loc["solution"] if cell in cheat.answers else base
            if row[cell] > compared[cell]:
                gains.setdefault(student, {})[cell] = (row[cell], compared[cell])
    assert not gains, f"cheat: {{cell: (points, without the cheat)}}: {gains}"


def test_each_cheat_gets_its_reasons_in_words(graded):
    missing = {}
    for student, cheat in CHEATS.items():
        reason, feedback = graded.table.loc[student, "reason"], graded.feedback(student)
        printed = graded.outputs(student)
        words = [("reason", w, reason) for w in cheat.reason] + \
                [("feedback", w, feedback) for w in cheat.feedback] + \
                [("printed", fill_in(w, graded.target, graded.submissions, student), printed)
                 for w in cheat.printed]
        absent = [f"{where}: {word!r}" for where, word, text in words if word not in text]
        if not cheat.reason and not cheat.points and reason:
            absent.append("reason: none expected")
        if absent:
            missing[student] = absent + [f"reason was {reason!r}"]
    assert not missing, missing


def test_every_student_gets_a_feedback_page(graded):
    without = {student: graded.table.loc[student, "reason"] for student in graded.table.index
               if not graded.feedback(student)}
    assert not without, f"no feedback page (student: reason): {without}"


def test_reasons_never_say_a_cell_scores_0_when_it_has_points(graded):
    false_zeroes = {}
    for student, row in graded.table.iterrows():
        match = re.search(r"did not run and score 0: ([\w, ]+)", row["reason"])
        named = match.group(1).split(", ") if match else []
        scored = [cell for cell in named if row[cell] > 0]
        if scored:
            false_zeroes[student] = {cell: row[cell] for cell in scored}
    assert not false_zeroes, f"the reason says these cells score 0, the gradebook disagrees: " \
                             f"{false_zeroes}"


def test_the_victim_is_graded_as_if_no_one_had_cheated(graded):
    columns = ["status", "reason", "total", *_graded_cells(graded)]
    assert graded.table.loc[VICTIM, columns].equals(graded.table.loc["solution", columns])


def test_nothing_outside_the_sandboxes_changed(graded):
    for name, before in graded.digests_before.items():
        assert graded.digests_after[name] == before, f"the {name} changed"
    for student in graded.table.index:  # the grading side's copies: what was handed in, links
        handed_in = tree_digest(graded.submissions / student)  # left out (and said so)
        links = [name for name, digest in handed_in.items() if digest.startswith("-> ")]
        staged = tree_digest(graded.workdir / "submitted" / student / ASSIGNMENT)
        assert staged.pop(TIMESTAMP_FILE, None), f"{student}: no {TIMESTAMP_FILE} for formgrader"
        assert staged == {name: digest for name, digest in handed_in.items()
                          if name not in links and name != TIMESTAMP_FILE}, student
        for name in links:
            assert f"{name} is a link or a special file" in graded.table.loc[student, "reason"]
    assert not [path for path in host_plants(graded.target) if path.exists()]
    site_customize = Path(sysconfig.get_paths()["purelib"]) / "sitecustomize.py"
    assert not (site_customize.exists() and "planted by a cheat" in site_customize.read_text())
    assert not list(graded.target.markers.iterdir()), "a cheat wrote on the host (or unpickled)"


def test_the_gradebook_holds_only_what_the_judges_gave(graded):
    rows = gradebook_rows(graded.workdir / "gradebook.db")
    assert rows == graded.rows_after_grading, "gradebook rows changed after grading"
    touched = {student: grades for student, grades in rows.items()
               if any(manual is not None or extra is not None for _, _, manual, extra in grades)}
    assert not touched, f"manual scores or extra credit no TA gave: {touched}"
    for student, grades in rows.items():
        assert graded.table.loc[student, "total"] == sum(auto or 0 for _, auto, _, _ in grades)


def test_no_sandbox_process_survives_grading(graded):
    assert not graded.survivors, graded.survivors
    assert not graded.late_writes, f"written after grading ended: {graded.late_writes}"


def test_nothing_reached_the_hosts_loopback(graded):
    assert graded.received == []


def test_no_student_sees_a_file_of_the_grading_machine(graded):
    secret = graded.target.secret.read_text().strip()
    pages = {f"{student}'s feedback": graded.feedback(student) for student in graded.table.index}
    pages |= {path.name: path.read_text(errors="replace") for path in graded.workdir.glob("*.csv")}
    assert not [name for name, page in pages.items() if secret in page], \
        "the first line of a host file that a handed-in link points at is shown"


def test_a_huge_output_is_cut_to_the_cap(graded):
    nb = nbformat.read(graded.workdir / "autograded" / "huge_output" / ASSIGNMENT / NOTEBOOK,
                       as_version=4)
    sizes = [sum(len(output.get("text", "")) for output in cell.outputs)
             for cell in nb.cells if cell.cell_type == "code"]
    assert max(sizes) <= Limits().max_output_bytes_per_cell + 1000


def test_regrading_gives_the_same_table(graded):
    again_class = graded.root / "regrade"
    for student in REGRADED:
        shutil.copytree(graded.submissions / student, again_class / student, symlinks=True)
    others = {student: grades for student, grades in graded.rows_after_grading.items()
              if student not in REGRADED}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("VISLAB_CACHE", str(graded.root / "cache"))
        monkeypatch.setenv(DIR_VARIABLE, str(graded.target.heldout))
        again = grade_class(ASSIGNMENT, again_class, graded.workdir, workers=2, progress=False,
                            cell_timeout=CELL_TIMEOUT, demo_key=True).set_index("student")
    columns = ["status", "reason", "total", *_graded_cells(graded)]
    assert again[columns].equals(graded.table.loc[REGRADED, columns])
    rows = gradebook_rows(graded.workdir / "gradebook.db")
    assert {student: rows[student] for student in others} == others
    time.sleep(AFTERMATH_S)
    assert not sandbox_processes(str(graded.root))

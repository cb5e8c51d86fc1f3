"""The Dask engine end to end: a real ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 grade a small class of the tiny assignment through ``scheduler=``, with one worker
killed mid-run; then a second run skips everything and ``force=True`` grades everyone again.

The class: the solution, the starter, a wrong answer, an endless loop (a short cell timeout), a
deleted test cell, and a notebook that is not JSON (never sent to a worker).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import TINY_ID, write_tiny_assignment
from distributed import Client
from sqlalchemy import create_engine, text

from autograder import grade
from autograder.course import WorkCourse, open_work_course
from autograder.engine.run_record import read_record
from autograder.grade import grade_class
from autograder.sample_classes import with_cell_deleted, with_cell_replaced

DASK = Path(sys.executable).parent / "dask"
GRADABLE = ["deleter", "looper", "solution", "starter", "wrong"]
COMPARED = ["status", "reason", "total", "max_total", "manual_pending", "test_add",
            "test_mul_with_warning", "test_partial"]
CELL_TIMEOUT = 5


@dataclass
class Cluster:
    address: str
    workers: dict[str, subprocess.Popen]
    client: Client


@dataclass
class Graded:
    table: object
    workdir: Path
    records: dict[str, int]  # student -> times the grading process recorded a result


def _start(argv: list, log: Path) -> subprocess.Popen:
    """A process in a session of its own, so that it and its children can be killed together."""
    with open(log, "wb") as out:
        return subprocess.Popen([str(part) for part in argv], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and workers ``w1``, ``w2`` (one thread each), all on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes: dict[str, subprocess.Popen] = {}
    client = None
    try:
        processes["scheduler"] = _start(
            [DASK, "scheduler", "--scheduler-file", scheduler_file, "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
            folder / "scheduler.log")
        for name in ("w1", "w2"):
            processes[name] = _start(
                [DASK, "worker", "--scheduler-file", scheduler_file, "--name", name,
                 "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                 "--local-directory", folder / name], folder / f"{name}.log")
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:"), address
        client = Client(address, set_as_default=False, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield Cluster(address, {name: processes[name] for name in ("w1", "w2")}, client)
    finally:
        if client is not None:
            client.close()
        for process in processes.values():
            _stop(process)


@pytest.fixture(scope="module")
def tiny_class(tmp_path_factory):
    """(assignments, checks, submissions) of the tiny assignment."""
    tmp_path = tmp_path_factory.mktemp("tiny")
    assignments, checks = write_tiny_assignment(tmp_path)
    course = open_work_course(tmp_path / "setup", TINY_ID, assignments)
    notebook = f"{TINY_ID}.ipynb"
    solution = assignments / TINY_ID / notebook
    submissions = tmp_path / "submissions"
    for student, source in [("solution", solution),
                            ("starter", course.root / "release" / TINY_ID / notebook)]:
        (submissions / student).mkdir(parents=True)
        shutil.copy(source, submissions / student / notebook)
    with_cell_replaced(solution, "add", "def add(a, b):\n    return 2", submissions / "wrong" / notebook)
    with_cell_replaced(solution, "mul", "def mul(a, b):\n    while True:\n        pass",
                       submissions / "looper" / notebook)
    with_cell_deleted(solution, "test_mul_with_warning", submissions / "deleter" / notebook)
    (submissions / "broken").mkdir()
    (submissions / "broken" / notebook).write_text('{"cells": [')
    return assignments, checks, submissions


def _grade(tiny_class, workdir: Path, monkeypatch, **engine) -> Graded:
    """Grade the class; count, per student, how often the grading process recorded a result."""
    assignments, checks, submissions = tiny_class
    records: dict[str, int] = {}
    record = grade._record

    def counting_record(kit, course, runs, intake, *args):
        records[intake.student] = records.get(intake.student, 0) + 1
        return record(kit, course, runs, intake, *args)

    monkeypatch.setattr(grade, "_record", counting_record)
    try:
        table = grade_class(TINY_ID, submissions, workdir, progress=False,
                            assignments_dir=assignments, checks_dir=checks,
                            cell_timeout=CELL_TIMEOUT, demo_key=True, **engine)
    finally:
        monkeypatch.undo()
    return Graded(table.set_index("student"), workdir, records)


def _tasks_run(client: Client) -> list[str]:
    """Keys of the grading tasks the scheduler has run so far (its transition log)."""
    return client.run_on_scheduler(lambda dask_scheduler: [
        str(t.key) for t in dask_scheduler.transition_log
        if t.finish == "memory" and str(t.key).startswith("vislab-grade-")])


def _rows(workdir: Path, query: str) -> list[tuple]:
    engine = create_engine(WorkCourse(workdir).db_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query)).all()]
    finally:
        engine.dispose()


def _submission_rows(workdir: Path) -> dict[str, int]:
    return dict(_rows(workdir, "SELECT s.student_id, count(*) FROM submitted_assignment s "
                               "JOIN assignment a ON a.id = s.assignment_id "
                               f"WHERE a.name = '{TINY_ID}' GROUP BY s.student_id"))


def _graded_runs(workdir: Path) -> dict[str, str]:
    return {student: graded_at for student, graded_at in _rows(
        workdir, "SELECT student, graded_at FROM vislab_graded_runs "
                 f"WHERE assignment = '{TINY_ID}'")}


class _Killer:
    """Kills worker ``w1`` (its whole process group) once a task has been running on it for
    a second; remembers the tasks it was running."""

    def __init__(self, cluster: Cluster):
        self.cluster, self.keys, self.done = cluster, [], threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        client = self.cluster.client
        address = next(address for address, info in client.scheduler_info()["workers"].items()
                       if info["name"] == "w1")
        while not self.done.is_set():
            if client.processing(workers=[address]).get(address):
                time.sleep(1.0)
                self.keys = list(client.processing(workers=[address]).get(address, []))
                os.killpg(self.cluster.workers["w1"].pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.done.set()
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def graded_locally(tiny_class, tmp_path_factory):
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _grade(tiny_class, tmp_path_factory.mktemp("local"), monkeypatch, workers=2)


@pytest.fixture(scope="module")
def graded_on_cluster(tiny_class, cluster, tmp_path_factory):
    """The class graded on the cluster; w1 is killed while it runs a task."""
    workdir = tmp_path_factory.mktemp("cluster")
    with _Killer(cluster) as killer, pytest.MonkeyPatch.context() as monkeypatch:
        graded = _grade(tiny_class, workdir, monkeypatch, scheduler=cluster.address)
    return graded, killer.keys


@pytest.fixture(scope="module")
def regraded(graded_on_cluster, tiny_class, cluster):
    """The same class graded again, as is (``skipped``) and with ``force`` (``forced``); with
    the tasks the scheduler ran and the hash rows around each run."""
    graded, _ = graded_on_cluster
    runs = {"before": (_tasks_run(cluster.client), _graded_runs(graded.workdir))}
    with pytest.MonkeyPatch.context() as monkeypatch:
        started = time.monotonic()
        skipped = _grade(tiny_class, graded.workdir, monkeypatch, scheduler=cluster.address)
        seconds = time.monotonic() - started
    runs["skipped"] = (_tasks_run(cluster.client), _graded_runs(graded.workdir))
    with pytest.MonkeyPatch.context() as monkeypatch:
        forced = _grade(tiny_class, graded.workdir, monkeypatch, scheduler=cluster.address,
                        force=True)
    runs["forced"] = (_tasks_run(cluster.client), _graded_runs(graded.workdir))
    return skipped, forced, runs, seconds


def test_the_local_engine_grades_the_class(graded_locally):
    table = graded_locally.table
    assert table.loc["solution", "total"] == 4.5 and table.loc["wrong", "test_add"] == 0
    assert table.loc["looper", "test_mul_with_warning"] == 0 and table.loc["looper", "test_add"] == 2
    assert table.loc["broken", "status"] == "not graded"
    assert sorted(graded_locally.records) == GRADABLE


def test_a_cluster_with_a_worker_killed_mid_run_grades_like_the_local_engine(
        graded_on_cluster, graded_locally, cluster):
    graded, killed_keys = graded_on_cluster
    assert killed_keys, "w1 was killed while it ran a grading task"
    assert cluster.workers["w1"].poll() is not None, "w1 is dead"
    assert graded.table[COMPARED].equals(graded_locally.table[COMPARED])
    for key in killed_keys:  # what w1 was running ran again on w2
        student = next(s for s in GRADABLE if key.startswith(f"vislab-grade-{TINY_ID}-{s}-"))
        assert read_record(graded.workdir, TINY_ID, student).worker == "w2"


def test_everyone_is_graded_exactly_once(graded_on_cluster):
    graded, _ = graded_on_cluster
    assert graded.records == dict.fromkeys(GRADABLE, 1), "one recorded result per student"
    assert _submission_rows(graded.workdir) == dict.fromkeys(GRADABLE, 1)
    assert sorted(_graded_runs(graded.workdir)) == GRADABLE, "one content hash per student"
    verdicts = read_record(graded.workdir, TINY_ID, "solution").verdicts
    assert verdicts["test_partial"].points == 1.5


def test_a_second_run_skips_everything_and_gives_the_same_table(regraded, graded_on_cluster):
    graded, _ = graded_on_cluster
    skipped, _, runs, seconds = regraded
    assert skipped.records == {}, "no result was recorded again"
    assert runs["skipped"] == runs["before"], "no task ran, no hash row was rewritten"
    assert skipped.table.drop(columns="feedback").equals(graded.table.drop(columns="feedback"))
    assert seconds < 30


def test_force_grades_everyone_again(regraded, graded_on_cluster):
    graded, _ = graded_on_cluster
    _, forced, runs, _ = regraded
    assert forced.records == dict.fromkeys(GRADABLE, 1)
    tasks_before, hashes_before = runs["skipped"]
    tasks_after, hashes_after = runs["forced"]
    assert len(tasks_after) - len(tasks_before) == len(GRADABLE), "each student ran once more"
    assert all(hashes_after[student] > hashes_before[student] for student in GRADABLE)
    assert forced.table[COMPARED].equals(graded.table[COMPARED])
    assert _submission_rows(graded.workdir) == dict.fromkeys(GRADABLE, 1)

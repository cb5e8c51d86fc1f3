"""Judging one submission: run an assignment's judges through pytest's API, points per test cell.

A cell's points: 0 when any of its judges fails (the failure's message says why, in the words of
the judge's ``assert``); else what its judges gave with ``credit`` (capped at the cell's points)
when any did; else all of the cell's points. The judges run in this process, one submission at
a time (pytest is not re-entrant); the judge modules are imported once and stay cached.
"""

import contextlib
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.heldout.store import TamperedLabels
from autograder.judging.plugin import CREDIT, MissingEvidence

#: pytest runs one suite at a time in a process
_PYTEST_LOCK = threading.Lock()


@dataclass
class JudgeOutcome:
    """One judge's result: ``message`` is None when it passed."""

    judge: str
    cell: str
    passed: bool
    message: str | None = None
    credit: float | None = None


@dataclass
class CellVerdict:
    """The points of one test cell and the words that explain them."""

    cell: str
    points: float
    max_points: float
    outcomes: list[JudgeOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[JudgeOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]


class JudgingError(RuntimeError):
    """The judges or their held-out labels are broken (not the submission): grading stops, and
    the message says how to fix it."""


class _Collector:
    """Records each judge's outcome and cell while pytest runs."""

    def __init__(self):
        self.cells: dict[str, str] = {}
        self.outcomes: list[JudgeOutcome] = []
        self.errors: list[str] = []

    def pytest_collection_modifyitems(self, items):
        for item in items:
            marker = item.get_closest_marker("cell")
            if marker is None or not marker.args:
                self.errors.append(f"judge {item.nodeid} has no @pytest.mark.cell(grade_id)")
            else:
                self.cells[item.nodeid] = marker.args[0]

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(f"the judges could not be collected: {report.longreprtext[-1500:]}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(TamperedLabels):
            self.errors.append(str(call.excinfo.value))  # the grading side's fault: stop
        if call.when == "call" or (report.failed and call.when == "setup"):
            credits = [value for key, value in item.user_properties if key == CREDIT]
            self.outcomes.append(JudgeOutcome(
                judge=item.name, cell=self.cells.get(item.nodeid, ""), passed=report.passed,
                message=None if report.passed else student_message(call.excinfo),
                credit=sum(credits) if credits else None))
        return report


def student_message(excinfo) -> str:
    """What a student reads for a failed judge: the assert's words, never a traceback."""
    if excinfo is None:
        return "the check failed"
    error = excinfo.value
    if isinstance(error, MissingEvidence | AssertionError | pytest.fail.Exception):
        text = str(error).strip()
        return text.split("\nassert ")[0] if text else "the check failed"
    return (f"the check could not use your result ({type(error).__name__}: "
            f"{str(error).strip().splitlines()[0][:200] if str(error).strip() else ''})")


def judge_submission(judges: Path, evidence_dir: Path, submission_dir: Path,
                     cell_points: dict[str, float], demo_key: bool = False,
                     ) -> dict[str, CellVerdict]:
    """Run the judges in ``judges`` (a file) on one submission; a verdict for every cell of
    ``cell_points`` (grade_id -> max points). A cell no judge decides is a ``JudgingError``.
    ``demo_key``: the held-out labels were made with the public demo key."""
    collector = _Collector()
    args = [str(judges), "-p", "autograder.judging.plugin", "--evidence", str(evidence_dir),
            "--submission", str(submission_dir), "-q", "--assert=plain", "-p", "no:cacheprovider",
            "-o", "addopts=", "--tb=no", "--no-header", "-W", "ignore::DeprecationWarning",
            "-p", "no:unraisableexception",  # its gc.collect() per test costs a second per run
            "--import-mode=importlib",  # judges of two checks folders may share a file name
            *(["--demo-key"] if demo_key else [])]
    with _PYTEST_LOCK, contextlib.redirect_stdout(io.StringIO()) as output:
        exit_code = pytest.main(args, plugins=[collector])
    if exit_code == pytest.ExitCode.INTERRUPTED:  # pytest swallows Ctrl-C: pass it on
        raise KeyboardInterrupt
    if collector.errors:
        raise JudgingError("; ".join(collector.errors) + output.getvalue()[-1000:])
    unjudged = sorted(set(cell_points) - set(collector.cells.values()))
    if unjudged:
        raise JudgingError(f"no judge in {judges} decides the test cells {unjudged}")
    return {cell: _verdict(cell, max_points, collector.outcomes)
            for cell, max_points in cell_points.items()}


def _verdict(cell: str, max_points: float, outcomes: list[JudgeOutcome]) -> CellVerdict:
    mine = [outcome for outcome in outcomes if outcome.cell == cell]
    if not mine or any(not outcome.passed for outcome in mine):  # no judge ran: no points
        points = 0.0
    else:
        credits = [outcome.credit for outcome in mine if outcome.credit is not None]
        points = min(max_points, max(0.0, sum(credits))) if credits else max_points
    return CellVerdict(cell, round(points, 2), max_points, mine)

"""The record of one student's graded run, kept so that a resumed ``grade`` can skip it.

``<workdir>/verdicts/<assignment>/<student>.json``, written by the grading process after the
grades and the feedback, before the content hash (:mod:`autograder.engine.graded_runs`)::

    {"format": 1, "assignment": "a3_cifar", "student": "ada", "content_hash": "<sha256 hex>",
     "worker": "tcp://10.0.0.7:40123", "seconds": 21.4,
     "problems": ["the kernel died while cell 12 (test_output_size) ran ...", ...],
     "verdicts": {"<grade_id>": {"cell": "<grade_id>", "points": 2.0, "max_points": 2.0,
                                 "outcomes": [{"judge": "test_...", "cell": "<grade_id>",
                                               "passed": false, "message": "...",
                                               "credit": null}, ...]}, ...}}

``problems`` are the reasons in words this run added to the grade table (notes on changed test
cells, evidence that could not be read, why the run stopped, ...); the reasons found before a
run (intake, handed-in links, missing files) are found again on every run.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.judging.verdicts import CellVerdict, JudgeOutcome

FORMAT = 1


@dataclass
class RunRecord:
    assignment: str
    student: str
    content_hash: str
    worker: str
    seconds: float
    problems: list[str]
    verdicts: dict[str, CellVerdict]


def record_path(root: Path, assignment: str, student: str) -> Path:
    return Path(root) / "verdicts" / assignment / f"{student}.json"


def write_record(root: Path, record: RunRecord) -> Path:
    """Write ``record`` (atomically: a crash leaves the old file or the new one)."""
    path = record_path(root, record.assignment, record.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": FORMAT, **asdict(record)}
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=1))
    partial.replace(path)
    return path


def read_record(root: Path, assignment: str, student: str) -> RunRecord | None:
    """The student's record, or None when it is missing or unreadable."""
    try:
        document = json.loads(record_path(root, assignment, student).read_text())
        if document.pop("format") != FORMAT:
            return None
        verdicts = {name: CellVerdict(**{**verdict, "outcomes": [
                        JudgeOutcome(**outcome) for outcome in verdict["outcomes"]]})
                    for name, verdict in document.pop("verdicts").items()}
        return RunRecord(**document, verdicts=verdicts)
    except (OSError, ValueError, KeyError, TypeError):
        return None

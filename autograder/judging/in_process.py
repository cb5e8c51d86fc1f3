"""Judging evidence collected in this process: for authors checking their judges, and for tests.

:func:`judge_collected` runs ``collect()`` (calls into an assignment's evidence functions, on a
reference answer or a known-wrong one) with the evidence going to a folder of the caller's, then
judges that folder exactly as grading does. Only the instructor's own code runs here: student
code runs in a sandbox (:mod:`autograder.sandbox`).
"""

import os
from collections.abc import Callable
from pathlib import Path

from autograder.assignment_kit import assignment_kit
from autograder.course import ASSIGNMENTS
from autograder.evidence import FOLDER, OUTPUT_VARIABLE
from autograder.judging.verdicts import CellVerdict, judge_submission


def judge_collected(assignment_id: str, collect: Callable[[], None], output_dir: Path,
                    submission: Path | None = None, demo_key: bool = True,
                    ) -> dict[str, CellVerdict]:
    """Verdicts of every test cell of ``assignment_id`` on what ``collect()`` recorded."""
    kit = assignment_kit(assignment_id, ASSIGNMENTS)
    previous = os.environ.get(OUTPUT_VARIABLE)
    os.environ[OUTPUT_VARIABLE] = str(output_dir)
    try:
        collect()
    finally:
        if previous is None:
            del os.environ[OUTPUT_VARIABLE]
        else:
            os.environ[OUTPUT_VARIABLE] = previous
    return judge_submission(kit.judges, Path(output_dir) / FOLDER, Path(submission or output_dir),
                            kit.test_cell_points, demo_key=demo_key)

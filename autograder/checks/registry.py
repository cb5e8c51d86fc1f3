"""Finding an assignment's hidden-check module and what it declares for the grading process.

A check module (``autograder.checks.<assignment_id>``) may declare:

- ``OUTSIDE_KERNEL = {grade_id: score(submission_dir) -> points}``: cells whose points come from
  handed-in files (a predictions CSV). The grading process scores them again from the submitted
  copy, outside the student's kernel, and that score is the one the gradebook keeps.
- ``LEADERBOARD = LeaderboardSpec(...)``: how to score the predictions CSV for the leaderboard.
- ``prepare_grading()``: builds what grading needs (an embedded dataset, held-out labels) once,
  before the parallel workers start, so that they never build it side by side.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class LeaderboardSpec:
    """``score(csv_path) -> (public, private)``; raises ``InvalidPredictions`` for a bad file."""

    file_name: str
    metric: str
    score: Callable[[Path], tuple[float, float]]
    higher_is_better: bool = True


def check_module(assignment_id: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"autograder.checks.{assignment_id}")
    except ModuleNotFoundError as error:
        if error.name == f"autograder.checks.{assignment_id}":
            return None
        raise


def outside_kernel_scores(assignment_id: str) -> dict[str, Callable[[Path], float]]:
    module = check_module(assignment_id)
    return dict(getattr(module, "OUTSIDE_KERNEL", {})) if module else {}


def leaderboard_spec(assignment_id: str) -> LeaderboardSpec | None:
    module = check_module(assignment_id)
    return getattr(module, "LEADERBOARD", None) if module else None


def prepare_grading(assignment_id: str) -> None:
    module = check_module(assignment_id)
    if module is not None and hasattr(module, "prepare_grading"):
        module.prepare_grading()

"""Seconds per submission: plain `nbgrader autograde` vs `autograder grade` with 1 and 2 workers.

Run by hand: `python benchmarks/grading_speed.py [--copies N]`. The class is N copies of the
a3_cifar reference submission (the demo's solution), so every run grades the same work.
"""

import argparse
import tempfile
import time
from pathlib import Path

from autograder.course import open_work_course
from autograder.demo import SAMPLE
from autograder.grade import _stage_submission, grade_class
from autograder.intake import Intake
from autograder.sample_classes import copy_submission

ASSIGNMENT = "a3_cifar"


def make_class(folder: Path, copies: int) -> Path:
    for index in range(copies):
        copy_submission(SAMPLE, folder / f"student{index:02d}")
    return folder


def plain_nbgrader(root: Path, submissions: Path) -> float:
    """Stage the class and run one `nbgrader autograde` over all of it (nbgrader's own loop)."""
    course = open_work_course(root, ASSIGNMENT)
    for folder in sorted(submissions.iterdir()):
        _stage_submission(course, Intake(folder.name, folder), ASSIGNMENT)
    start = time.perf_counter()
    result = course.nbgrader("autograde", ASSIGNMENT, "--force", "--create")
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return time.perf_counter() - start


def kit(root: Path, submissions: Path, workers: int) -> float:
    """The kit's whole pipeline: intake, autograde, out-of-kernel rescoring, feedback, tables."""
    start = time.perf_counter()
    grade_class(ASSIGNMENT, submissions, root, workers=workers, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        submissions = make_class(scratch / "class", args.copies)
        rows = [("nbgrader autograde (no feedback)", plain_nbgrader(scratch / "plain", submissions))]
        for workers in (1, 2):
            rows.append((f"autograder grade --workers {workers} (with feedback)",
                         kit(scratch / f"kit{workers}", submissions, workers)))
    print(f"{args.copies} submissions of {ASSIGNMENT}")
    for label, seconds in rows:
        print(f"{label:45} {seconds:7.1f} s total  {seconds / args.copies:6.1f} s/submission")


if __name__ == "__main__":
    main()

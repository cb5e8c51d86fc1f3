"""Seconds per a3_cifar submission: the floor, plain `nbgrader autograde`, and the kit's grading in
a sandbox (1 and 2 workers) and without one, all measured in the same run.

Run by hand: `python benchmarks/grading_speed.py [--copies N]`. The class is N copies of the
a3_cifar reference submission, so every run grades the same work.

- floor: one kernel started and `import torch, torchvision, pandas, matplotlib` run in it, the
  least any grading of a notebook that imports them can cost;
- plain nbgrader: nbgrader's own autograde loop over the class with its default preprocessors
  (unsandboxed, nothing judged outside, no feedback): the reference point of nbgrader itself;
- kit: `grade_class` end to end (intake, sandboxed runs, judges, gradebook, feedback, tables).
"""

import argparse
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

from autograder.course import open_work_course
from autograder.demo import SAMPLE
from autograder.grade import _stage_submission, grade_class
from autograder.intake import Intake
from autograder.sample_classes import copy_submission

ASSIGNMENT = "a3_cifar"
FLOOR_IMPORTS = "import torch, torchvision, pandas, matplotlib"
#: nbgrader's own autograde preprocessors (the kit's config refuses plain autograde)
NBGRADER_DEFAULTS = """
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, LimitOutput,
                                    SaveAutoGrades)
c.Autograde.autograde_preprocessors = [Execute, LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
"""


def make_class(folder: Path, copies: int) -> Path:
    for index in range(copies):
        copy_submission(SAMPLE, folder / f"student{index:02d}")
    return folder


def floor_seconds(repeats: int) -> float:
    """Mean seconds to start a kernel and import the notebook's libraries in it."""
    total = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3")
        client.execute_interactive(FLOOR_IMPORTS, timeout=300)
        total += time.perf_counter() - start
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return total / repeats


def plain_nbgrader(root: Path, submissions: Path) -> float:
    """Stage the class and run one `nbgrader autograde` over all of it (nbgrader's own loop)."""
    course = open_work_course(root, ASSIGNMENT)
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(NBGRADER_DEFAULTS)
    for folder in sorted(submissions.iterdir()):
        _stage_submission(course, Intake(folder.name, folder), ASSIGNMENT)
    start = time.perf_counter()
    result = course.nbgrader("autograde", ASSIGNMENT, "--force", "--create")
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return time.perf_counter() - start


def kit(root: Path, submissions: Path, workers: int, sandboxed: bool = True) -> float:
    start = time.perf_counter()
    grade_class(ASSIGNMENT, submissions, root, workers=workers, progress=False, demo_key=True,
                unsafe_no_sandbox=not sandboxed)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        submissions = make_class(scratch / "class", args.copies)
        floor = floor_seconds(3)
        per_submission = {
            "plain nbgrader autograde (no sandbox, no feedback)":
                plain_nbgrader(scratch / "plain", submissions) / args.copies,
            "kit, sandboxed, 1 worker": kit(scratch / "kit1", submissions, 1) / args.copies,
            "kit, sandboxed, 2 workers": kit(scratch / "kit2", submissions, 2) / args.copies,
            "kit, no sandbox, 1 worker": kit(scratch / "none1", submissions, 1, False) / args.copies,
        }
    print(f"{args.copies} submissions of {ASSIGNMENT}; floor (kernel + imports) {floor:.1f} s")
    plain = per_submission["plain nbgrader autograde (no sandbox, no feedback)"]
    for label, seconds in per_submission.items():
        print(f"{label:52} {seconds:6.1f} s/submission  {seconds / floor:5.2f}x floor  "
              f"{seconds / plain:5.2f}x plain nbgrader")


if __name__ == "__main__":
    main()

"""``python -m autograder demo``: grade a simulated class of a3_cifar on the embedded data.

The class: ``solution`` (the reference submission in ``autograder/samples/a3_cifar``:
the executed solution notebook, its three CSVs and its ``runs/``), ``starter`` (the unchanged
starter notebook), ``partial`` (the solution with a wrong convolution by hand and an
``output_size`` that forgets the padding, from :mod:`autograder.known_wrong.a3_cifar`: it loses
exactly those cells' points), ``broken`` (a notebook that is not valid JSON) and ``deleter``
(the solution with a test cell deleted).
"""

import shutil
from pathlib import Path

import pandas as pd

from autograder.grade import grade_class
from autograder.known_wrong import class_sources
from autograder.known_wrong.a3_cifar import CLASS, KNOWN_WRONG
from autograder.sample_classes import SAMPLES, copy_submission, sample_class, with_cell_deleted

ASSIGNMENT = "a3_cifar"
SAMPLE = SAMPLES / ASSIGNMENT
#: the test cell the deleter removed
DELETED_CELL = "test_invariance"


def make_class(submissions: Path) -> Path:
    """Write the simulated class into ``submissions`` (replacing what was there)."""
    if submissions.exists():
        shutil.rmtree(submissions)
    notebook = f"{ASSIGNMENT}.ipynb"
    sample_class(ASSIGNMENT, submissions, class_sources(KNOWN_WRONG, CLASS))
    (submissions / "broken").mkdir()
    (submissions / "broken" / notebook).write_text((SAMPLE / notebook).read_text()[:5000])
    deleter = copy_submission(SAMPLE, submissions / "deleter")
    with_cell_deleted(deleter / notebook, DELETED_CELL, deleter / notebook)
    return submissions


def run_demo(workdir: Path, workers: int = 2) -> pd.DataFrame:
    """Build the class in ``workdir/submissions`` and grade it in ``workdir``."""
    workdir = Path(workdir)
    submissions = make_class(workdir / "submissions")
    print(f"Simulated class in {submissions}: "
          + ", ".join(sorted(p.name for p in submissions.iterdir())))
    print("Graded with the kit's public demo key: its test labels are public, so use it for the "
          "demo only (a course grades with its own key: `python datasets.py secret`).")
    return grade_class(ASSIGNMENT, submissions, workdir, workers=workers, demo_key=True)

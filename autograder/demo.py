"""``python -m autograder demo``: grade a simulated class of a3_cifar on the embedded data.

The class: ``solution`` (the reference submission in ``autograder/samples/a3_cifar``:
the executed solution notebook, its three CSVs and its ``runs/``), ``starter`` (the unchanged
starter notebook), ``partial`` (the solution with a wrong convolution by hand and an
``output_size`` that forgets the padding: it loses exactly those 5 points), ``broken`` (a
notebook that is not valid JSON) and ``deleter`` (the solution with a test cell deleted).
"""

import shutil
from pathlib import Path

import pandas as pd

from autograder.grade import grade_class
from autograder.samples import copy_submission, sample_class, with_cell_deleted
from vislab.paths import REPO_ROOT

ASSIGNMENT = "a3_cifar"
SAMPLE = REPO_ROOT / "autograder" / "samples" / ASSIGNMENT

#: the partly correct student's two wrong cells (grade_id -> source)
PARTIAL_ANSWERS = {
    "conv_by_hand": 'convention = "cross-correlation"\n'
                    "conv_result = np.array([[2, -1, 11, 0, -11],\n"
                    "                        [10, -4, 8, 2, -18],\n"
                    "                        [14, -1, -5, 6, -9]])",
    "output_size": "def output_size(size, kernel_size, stride=1, padding=0):\n"
                   "    return (size - kernel_size) // stride + 1",
}
#: points the partly correct submission must lose, by cell
PARTIAL_LOSSES = {"test_conv_by_hand": 3, "test_output_size": 2}


def make_class(submissions: Path) -> Path:
    """Write the simulated class into ``submissions`` (replacing what was there)."""
    if submissions.exists():
        shutil.rmtree(submissions)
    notebook = f"{ASSIGNMENT}.ipynb"
    sample_class(ASSIGNMENT, submissions, {"partial": PARTIAL_ANSWERS})
    (submissions / "broken").mkdir()
    (submissions / "broken" / notebook).write_text((SAMPLE / notebook).read_text()[:5000])
    deleter = copy_submission(SAMPLE, submissions / "deleter")
    with_cell_deleted(deleter / notebook, "test_invariance", deleter / notebook)
    return submissions


def run_demo(workdir: Path, workers: int = 2) -> pd.DataFrame:
    """Build the class in ``workdir/submissions`` and grade it in ``workdir``."""
    workdir = Path(workdir)
    submissions = make_class(workdir / "submissions")
    print(f"Simulated class in {submissions}: "
          + ", ".join(sorted(p.name for p in submissions.iterdir())))
    return grade_class(ASSIGNMENT, submissions, workdir, workers=workers)

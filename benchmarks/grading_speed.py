"""Seconds per a3_cifar submission: the floor, plain `nbgrader autograde`, and the kit's grading in
a sandbox (1 and 2 workers) and without one, all measured in the same run.

Run by hand: `python benchmarks/grading_speed.py [--copies N] [--variants ...]`. The class is N
copies of the a3_cifar reference submission, so every run grades the same work.

- floor: one kernel started and `import torch, torchvision, pandas, matplotlib` run in it, the
  least any grading of a notebook that imports them can cost; measured before and after each
  variant, and each variant's ratio taken to the floors next to it (the load of a shared
  machine changes during a run);
- plain nbgrader: nbgrader's own autograde loop over the class with its default preprocessors
  (unsandboxed, every cell executed, nothing judged outside, no feedback): the reference point
  of nbgrader itself;
- kit: `grade_class` end to end (intake, sandboxed runs, judges, gradebook, feedback, tables),
  over the class (seconds / N, which includes starting the engine and registering the
  assignment once) and, for 1 worker, per extra submission: (T(N) - T(1)) / (N - 1), what each
  student of a large class costs.

`--cells` instead prints the seconds of each cell of one reference submission graded in a
sandbox (the runner's timing records): the way to find cells worth marking
``"vislab": {"not_graded": true}`` (docs/authoring.md), and to see what marking saved.
"""

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

from autograder.assignment_kit import assignment_kit
from autograder.course import ASSIGNMENTS, open_work_course
from autograder.demo import SAMPLE
from autograder.grade import _stage_submission, grade_class
from autograder.graded_notebook import KERNEL_ARGS, notebook_to_grade
from autograder.heldout.key import DEMO_KEY
from autograder.intake import Intake
from autograder.notebook_cells import grade_id
from autograder.sample_classes import SAMPLES, copy_submission
from autograder.sandbox.job import SandboxJob
from autograder.sandbox.limits import Limits
from autograder.sandbox.run import run_sandboxed
from autograder.sandbox.runner import not_re_run

ASSIGNMENT = "a3_cifar"
FLOOR_IMPORTS = "import torch, torchvision, pandas, matplotlib"
FLOOR_REPEATS = 2
#: nbgrader's own autograde preprocessors (the kit's config refuses plain autograde)
NBGRADER_DEFAULTS = """
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, LimitOutput,
                                    SaveAutoGrades)
c.Autograde.autograde_preprocessors = [Execute, LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
"""
PLAIN = "plain nbgrader autograde (no sandbox, no feedback)"
VARIANTS = {"plain": PLAIN, "kit1": "kit, sandboxed, 1 worker", "kit2": "kit, sandboxed, 2 workers",
            "none1": "kit, no sandbox, 1 worker"}
MARGINAL = "kit, sandboxed, 1 worker, per extra submission"


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
    table = grade_class(ASSIGNMENT, submissions, root, workers=workers, progress=False,
                        demo_key=True, unsafe_no_sandbox=not sandboxed)
    seconds = time.perf_counter() - start
    if not (table["status"] == "graded").all():
        raise RuntimeError(f"not every copy was graded:\n{table[['student', 'reason']]}")
    return seconds


def cell_seconds(assignment_id: str, workdir: Path) -> list[tuple[float, int, str, bool]]:
    """``(seconds, index, name, not re-run)`` of each code cell of the reference submission of
    ``assignment_id`` run in a sandbox as grading runs it (demo key, 2 CPU threads)."""
    kit_ = assignment_kit(assignment_id, ASSIGNMENTS)
    kit_.prepare(DEMO_KEY)
    sample = SAMPLES / assignment_id
    to_grade = notebook_to_grade(nbformat.read(sample / f"{assignment_id}.ipynb", as_version=4),
                                 kit_.source).nb
    notebook = workdir / f"{assignment_id}.ipynb"
    nbformat.write(to_grade, notebook)
    (workdir / "empty.py").touch()
    job = SandboxJob(notebook=notebook, files=sample, mounts=kit_.mounts(workdir / "empty.py"),
                     env=kit_.kernel_env(), limits=Limits(cpu_threads=2), kernel_args=KERNEL_ARGS)
    start = time.perf_counter()
    run_sandboxed(job, workdir / "sandbox")
    print(f"{assignment_id}: sandboxed run {time.perf_counter() - start:.1f} s")
    executed = nbformat.read(workdir / "sandbox" / "runner" / "executed.ipynb", as_version=4)
    rows = []
    for index, cell in enumerate(executed.cells):
        times = cell.metadata.get("execution", {})  # a cell not re-run keeps the student's
        if not_re_run(to_grade.cells[index]):
            seconds = 0.0
        elif "shell.execute_reply" in times:
            seconds = (_instant(times["shell.execute_reply"])
                       - _instant(times["iopub.execute_input"])).total_seconds()
        else:
            continue
        name = grade_id(cell) or cell.source.strip().splitlines()[0][:50]
        rows.append((seconds, index, name, not_re_run(to_grade.cells[index])))
    return rows


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--cells", metavar="ASSIGNMENT", help="print each cell's seconds instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if args.cells:
            rows = cell_seconds(args.cells, scratch)
            for seconds, index, name, skipped in sorted(rows, reverse=True):
                print(f"{seconds:6.2f} s  cell {index:3}  {'not re-run ' if skipped else ''}{name}")
            print(f"{sum(row[0] for row in rows):6.2f} s  all cells")
            return
        submissions = make_class(scratch / "class", args.copies)
        floors = [floor_seconds(FLOOR_REPEATS)]  # before and after each variant: the load of a
        per_submission, floor_near = {}, {}  # shared machine changes, so each variant's ratio
        for variant in args.variants:  # is to the mean of the floors measured next to it
            if variant == "plain":
                per_submission[PLAIN] = plain_nbgrader(scratch / "plain", submissions) / args.copies
            elif variant == "kit1":
                whole = kit(scratch / "kit1", submissions, 1)
                per_submission[VARIANTS[variant]] = whole / args.copies
                if args.copies > 1:
                    one = kit(scratch / "kit1_one", make_class(scratch / "one", 1), 1)
                    per_submission[MARGINAL] = (whole - one) / (args.copies - 1)
            else:
                per_submission[VARIANTS[variant]] = kit(
                    scratch / variant, submissions, int(variant[-1]), variant != "none1") \
                    / args.copies
            floors.append(floor_seconds(FLOOR_REPEATS))
            for label in per_submission.keys() - floor_near.keys():
                floor_near[label] = (floors[-2] + floors[-1]) / 2
    print(f"{args.copies} submissions of {ASSIGNMENT}; floor (kernel + imports) "
          f"{sum(floors) / len(floors):.1f} s ({min(floors):.1f} to {max(floors):.1f} s over the run; "
          "each ratio is to the floor measured before and after its variant)")
    plain = per_submission.get(PLAIN)
    for label, seconds in per_submission.items():
        print(f"{label:52} {seconds:6.1f} s/submission  {seconds / floor_near[label]:5.2f}x floor"
              + (f"  {seconds / plain:5.2f}x plain nbgrader" if plain else ""))


if __name__ == "__main__":
    main()

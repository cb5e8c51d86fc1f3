"""Grading a whole class: intake, nbgrader autograde in parallel, out-of-kernel re-scoring,
feedback, the grade table and the leaderboard.

``grade_class`` is what ``python -m autograder grade`` runs. Each student is autograded by its own
``nbgrader autograde`` process (``workers`` at a time); one failing student never stops the others.
"""

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from autograder import gradebook_export, rescoring
from autograder.checks.registry import prepare_grading
from autograder.course import ASSIGNMENTS, WorkCourse, open_work_course
from autograder.intake import Intake, inspect_submission
from autograder.leaderboard import build_leaderboard
from autograder.notebook_cells import graded_cell_ids, read_notebook

#: one student's autograde may take this long before it is stopped (cells have their own timeout)
STUDENT_TIMEOUT_S = 1800
#: SQLite can refuse a write while another worker holds the lock; such a student is retried
LOCKED_MARKERS = ("database is locked", "database table is locked")


@dataclass
class Outcome:
    """How grading one student went."""

    student: str
    autograded: bool
    problems: list[str]


def discover_submissions(submissions_dir: Path) -> list[Path]:
    """Every student folder in ``submissions_dir`` (hidden folders skipped), sorted."""
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"{submissions_dir} is not a folder: pass the folder that holds "
                                "one sub-folder per student (<student>/<assignment>.ipynb + files)")
    folders = sorted(p for p in submissions_dir.iterdir()
                     if p.is_dir() and not p.name.startswith((".", "_")))
    if not folders:
        raise FileNotFoundError(f"{submissions_dir} holds no student folders")
    return folders


def grade_class(assignment_id: str, submissions_dir: str | Path, workdir: str | Path = "grading",
                workers: int = 1, progress: bool = True, assignments_dir: Path = ASSIGNMENTS,
                cell_timeout: int | None = None) -> pd.DataFrame:
    """Grade every submission in ``submissions_dir``; return the grade table (also written to CSV).

    The table has one row per student: ``student``, ``status`` (``graded`` or ``not graded``),
    ``reason``, ``total``, ``max_total``, ``manual_pending``, one column of points per graded
    cell, and ``feedback`` (the student's feedback HTML). Files written in ``workdir``:
    ``<assignment>_grades.csv`` and, for assignments with a predictions CSV,
    ``<assignment>_leaderboard.csv``. ``assignments_dir`` holds the nbgrader source folders;
    ``cell_timeout`` (seconds) stops a cell that runs too long (default: nbgrader_config.py).
    """
    course = open_work_course(workdir, assignment_id, assignments_dir, cell_timeout)
    source_dir = course.root / "source" / assignment_id
    notebook_names = sorted(p.stem for p in source_dir.glob("*.ipynb"))
    source_cells = {name: graded_cell_ids(read_notebook(source_dir / f"{name}.ipynb"))
                    for name in notebook_names}
    intakes = [inspect_submission(folder, assignment_id, notebook_names, source_cells)
               for folder in discover_submissions(Path(submissions_dir))]
    gradable = [intake for intake in intakes if intake.gradable]
    prepare_grading(assignment_id)
    for intake in gradable:
        _stage_submission(course, intake, assignment_id)

    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    outcomes = _run_parallel(lambda intake: _autograde(course, intake, assignment_id, threads),
                             gradable, workers, "autograding", progress)
    locked = [o.student for o in outcomes.values() if _was_locked(o)]
    for student in locked:  # retried one at a time: no other writer holds the gradebook now
        outcomes[student] = _autograde(course, next(i for i in gradable if i.student == student),
                                       assignment_id, threads)
    graded = [intake for intake in gradable if outcomes[intake.student].autograded]
    for intake in graded:
        gradebook_export.score_deleted_cells(course, assignment_id, intake)
        outcomes[intake.student].problems += rescoring.rescore_outside_kernel(
            course, assignment_id, intake.student)
    _run_parallel(lambda intake: _feedback(course, intake, assignment_id, outcomes), graded,
                  workers, "feedback", progress)

    cell_order = [cell for name in notebook_names for cell in source_cells[name]]
    table = gradebook_export.grade_table(course, assignment_id, intakes, outcomes, cell_order)
    table.to_csv(course.root / f"{assignment_id}_grades.csv", index=False)
    leaderboard = build_leaderboard(assignment_id, {i.student: course.submitted(
        i.student, assignment_id) for i in gradable})
    if leaderboard is not None:
        leaderboard.to_csv(course.root / f"{assignment_id}_leaderboard.csv", index=False)
    return table


def _stage_submission(course: WorkCourse, intake: Intake, assignment_id: str) -> None:
    """Copy the student's folder into ``submitted/`` (replacing an earlier copy)."""
    target = course.submitted(intake.student, assignment_id)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(intake.folder, target,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def _autograde(course: WorkCourse, intake: Intake, assignment_id: str, threads: int) -> Outcome:
    problems = list(intake.problems)
    try:
        result = course.nbgrader("autograde", assignment_id, "--student", intake.student,
                                 "--force", "--create", timeout=STUDENT_TIMEOUT_S,
                                 threads=threads)
    except subprocess.TimeoutExpired:
        return Outcome(intake.student, False, problems + [
            f"grading took longer than {STUDENT_TIMEOUT_S} s and was stopped"])
    log = result.stdout + result.stderr
    if result.returncode != 0:
        return Outcome(intake.student, False, problems + [_autograde_failure(log)])
    return Outcome(intake.student, True, problems)


def _autograde_failure(log: str) -> str:
    lines = [line for line in log.splitlines() if "[ERROR]" in line or "Error" in line]
    detail = lines[-1].strip() if lines else log.strip().splitlines()[-1:]
    return f"nbgrader could not autograde this submission: {detail}"


def _was_locked(outcome: Outcome) -> bool:
    return not outcome.autograded and any(m in p for p in outcome.problems for m in LOCKED_MARKERS)


def _feedback(course: WorkCourse, intake: Intake, assignment_id: str,
              outcomes: dict[str, Outcome]) -> None:
    result = course.nbgrader("generate_feedback", assignment_id, "--student", intake.student,
                             "--force")
    if result.returncode != 0:
        outcomes[intake.student].problems.append("feedback could not be generated: "
                                                 + _autograde_failure(result.stdout + result.stderr))


def _run_parallel(job, intakes: list[Intake], workers: int, label: str, progress: bool) -> dict:
    """Run ``job(intake)`` for every intake, ``workers`` at a time, with a progress bar."""
    results = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(job, intake): intake.student for intake in intakes}
        bar = tqdm(total=len(futures), desc=label, unit="student", disable=not progress)
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update()
        bar.close()
    return results

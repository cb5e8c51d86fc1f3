"""Grading a whole class: intake, a sandboxed run per submission, judging outside, the gradebook,
feedback, the grade table and the leaderboard.

``grade_class`` is what ``python -m autograder grade`` runs. For each student:

1. intake (:mod:`autograder.intake`): is there a notebook nbgrader can read?
2. the handed-in folder is copied to ``submitted/<student>/<id>/``: the grading side's copy,
   which no sandbox ever gets to write;
3. the notebook to grade (:mod:`autograder.graded_notebook`: the student's cells, the original
   test and locked cells) runs in a sandbox of its own (:mod:`autograder.sandbox`), ``workers``
   at a time; its hidden test cells only collect evidence;
4. in this process, one submission at a time as the runs finish: the judges
   (:mod:`autograder.judging`) turn the evidence into points per test cell, and this process
   alone writes the gradebook (:mod:`autograder.gradebook_writer`) and the autograded notebook;
5. feedback for every student (nbgrader's, or a page saying why a notebook was not graded), the
   grade table and the leaderboard of the scored CSVs.

A crash costs only what it breaks: cells judged before a kernel death keep their points, and the
reason names the cell that was running.
"""

import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
from tqdm.auto import tqdm

from autograder import gradebook_export
from autograder.assignment_kit import AssignmentKit, assignment_kit
from autograder.course import (
    ASSIGNMENTS,
    CourseError,
    WorkCourse,
    check_assignment,
    open_work_course,
)
from autograder.feedback import write_feedback, write_not_graded_page
from autograder.gradebook_writer import forget_submission, write_grades
from autograder.graded_notebook import notebook_to_grade, with_verdicts
from autograder.heldout.key import DEMO_KEY, HeldoutKey, MissingKey, load_key
from autograder.intake import Intake, inspect_submission
from autograder.judging.evidence_reader import read_evidence
from autograder.judging.verdicts import CellVerdict, JudgingError, judge_submission
from autograder.leaderboard import build_leaderboard
from autograder.notebook_cells import grade_id, graded_cell_ids
from autograder.sandbox.availability import SandboxUnavailable, check_sandbox
from autograder.sandbox.job import SandboxJob, SandboxResult
from autograder.sandbox.limits import Limits
from autograder.sandbox.run import run_sandboxed

UNSAFE_NOTE = "graded WITHOUT a sandbox (--unsafe-no-sandbox): its code ran with the grader's rights"


@dataclass
class Outcome:
    """How grading one student went: ``problems`` are reasons in words for the grade table."""

    student: str
    autograded: bool
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


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
                cell_timeout: int | None = None, demo_key: bool = False,
                unsafe_no_sandbox: bool = False, checks_dir: Path | None = None,
                limits: Limits | None = None) -> pd.DataFrame:
    """Grade every submission in ``submissions_dir``; return the grade table (also written to CSV).

    The table has one row per student: ``student``, ``status`` (``graded`` or ``not graded``),
    ``reason``, ``total``, ``max_total``, ``manual_pending``, one column of points per graded
    cell, and ``feedback`` (the student's feedback HTML). Files written in ``workdir``:
    ``<assignment>_grades.csv``, ``<assignment>_leaderboard.csv`` (assignments with a predictions
    CSV), ``feedback/``, ``autograded/``, ``evidence/`` and the gradebook.

    ``demo_key`` grades with the kit's public demo split instead of the instructor's key;
    ``unsafe_no_sandbox`` runs student code without a sandbox (the table says so);
    ``cell_timeout`` (seconds) stops a cell that runs too long; ``limits`` overrides all caps.
    """
    check_assignment(assignment_id, assignments_dir)
    folders = discover_submissions(Path(submissions_dir))
    kit = assignment_kit(assignment_id, assignments_dir, checks_dir)
    isolation = "none" if unsafe_no_sandbox else "bwrap"
    if not unsafe_no_sandbox:
        _require_sandbox()
    key = _heldout_key(demo_key)
    limits = limits or _default_limits(workers, cell_timeout)
    course = open_work_course(workdir, assignment_id, assignments_dir, cell_timeout)
    kit.prepare(key)
    source_cells = {kit.notebook_name: graded_cell_ids(kit.source)}
    intakes = [inspect_submission(folder, assignment_id, [kit.notebook_name], source_cells)
               for folder in folders]
    outcomes = {i.student: Outcome(i.student, False, list(i.problems)) for i in intakes}
    for intake in intakes:
        if intake.gradable:
            outcomes[intake.student].problems += _stage_submission(course, intake, assignment_id)
            outcomes[intake.student].problems += _missing_files(kit, course, intake.student)
        else:
            forget_submission(course.db_url, assignment_id, intake.student)

    gradable = [intake for intake in intakes if intake.gradable]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_run, kit, course, intake, limits, isolation): intake
                   for intake in gradable}
        bar = tqdm(total=len(futures), desc="grading", unit="student", disable=not progress)
        for future in as_completed(futures):  # judged here, one at a time, as runs finish
            intake = futures[future]
            _judge(kit, course, intake, future.result(), outcomes[intake.student], key)
            if unsafe_no_sandbox:
                outcomes[intake.student].problems.append(UNSAFE_NOTE)
            bar.update()
        bar.close()

    for intake in intakes:
        outcome = outcomes[intake.student]
        if outcome.autograded:
            problem = write_feedback(course, assignment_id, intake.student)
            outcome.problems += [problem] if problem else []
        else:
            write_not_graded_page(course, assignment_id, intake.student, outcome.problems)
    table = gradebook_export.grade_table(course, assignment_id, intakes, outcomes,
                                         source_cells[kit.notebook_name])
    table.to_csv(course.root / f"{assignment_id}_grades.csv", index=False)
    scored = {i.student: course.submitted(i.student, assignment_id) for i in gradable
              if outcomes[i.student].autograded}
    leaderboard = build_leaderboard(kit.leaderboard, scored, key)
    if leaderboard is not None:
        leaderboard.to_csv(course.root / f"{assignment_id}_leaderboard.csv", index=False)
    return table


def _require_sandbox() -> None:
    try:
        check_sandbox()
    except SandboxUnavailable as error:
        raise CourseError(f"no sandbox can start on this machine, so student code cannot run "
                          f"safely: {error}. Fix that, or pass --unsafe-no-sandbox to grade "
                          "without one (the grade table will say so).") from None


def _heldout_key(demo_key: bool) -> HeldoutKey:
    if demo_key:
        return DEMO_KEY
    try:
        return load_key()
    except MissingKey as error:
        raise CourseError(str(error)) from None


def _default_limits(workers: int, cell_timeout: int | None) -> Limits:
    """One CPU share per worker; the cell timeout of the command line when given."""
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    return Limits(cpu_threads=threads, **({"cell_timeout_s": cell_timeout} if cell_timeout else {}))


def _stage_submission(course: WorkCourse, intake: Intake, assignment_id: str) -> list[str]:
    """Copy the student's folder into ``submitted/`` (replacing an earlier copy) with its plain
    files and folders only: a link or a pipe is left out (the grading side, which reads this
    copy with its own rights, must never follow one); say what was left out."""
    target = course.submitted(intake.student, assignment_id)
    if target.exists():
        shutil.rmtree(target)
    left_out = []

    def not_copied(folder: str, names: list[str]) -> list[str]:
        special = [name for name in names if not _is_plain(Path(folder, name))]
        left_out.extend(str(Path(folder, name).relative_to(intake.folder)) for name in special)
        return special + [name for name in names if name in (".ipynb_checkpoints", "__pycache__")]

    shutil.copytree(intake.folder, target, symlinks=True, ignore=not_copied)
    return [f"{name} is a link or a special file, not a file you wrote: it was left out"
            for name in left_out]


def _is_plain(path: Path) -> bool:
    mode = os.lstat(path).st_mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _missing_files(kit: AssignmentKit, course: WorkCourse, student: str) -> list[str]:
    folder = course.submitted(student, kit.assignment_id)
    return [f"{name} was not handed in: the cells graded from it score 0"
            for name in kit.handed_in_files if not (folder / name).exists()]


@dataclass
class _Run:
    """What a worker hands back: the sandbox's result and the notes on changed test cells."""

    result: SandboxResult | None
    notes: list[str]
    error: str | None = None


def _run(kit: AssignmentKit, course: WorkCourse, intake: Intake, limits: Limits,
         isolation: str) -> _Run:
    """Execute one submission's notebook in a sandbox of its own (runs in a worker thread)."""
    job_dir = course.root / "jobs" / intake.student
    if job_dir.exists():
        shutil.rmtree(job_dir)
    job_dir.mkdir(parents=True)
    submitted = course.submitted(intake.student, kit.assignment_id)
    student_nb = nbformat.read(submitted / f"{kit.notebook_name}.ipynb", as_version=4)
    to_grade = notebook_to_grade(student_nb, kit.source)
    notebook = job_dir / f"{kit.notebook_name}.ipynb"
    nbformat.write(to_grade.nb, notebook)
    (job_dir / "empty.py").touch()
    job = SandboxJob(notebook=notebook, files=submitted, mounts=kit.mounts(job_dir / "empty.py"),
                     env=kit.kernel_env(), limits=limits)
    try:
        return _Run(run_sandboxed(job, job_dir / "sandbox", isolation), to_grade.notes)
    except SandboxUnavailable as error:
        return _Run(None, to_grade.notes, f"the sandbox could not start: {error}")


def _judge(kit: AssignmentKit, course: WorkCourse, intake: Intake, run: _Run, outcome: Outcome,
           key: HeldoutKey) -> None:
    """Judge one run's evidence and record it: gradebook, autograded notebook, reasons."""
    student = intake.student
    outcome.problems += run.notes
    if run.result is None:
        outcome.problems.append(run.error)
        forget_submission(course.db_url, kit.assignment_id, student)
        return
    result = run.result
    evidence_dir = course.root / "evidence" / student
    if evidence_dir.exists():
        shutil.rmtree(evidence_dir)
    shutil.copytree(result.output_dir / "evidence", evidence_dir) \
        if (result.output_dir / "evidence").is_dir() else evidence_dir.mkdir(parents=True)
    outcome.problems += read_evidence(evidence_dir).problems
    try:
        verdicts = judge_submission(kit.judges, evidence_dir,
                                    course.submitted(student, kit.assignment_id),
                                    kit.test_cell_points, demo_key=key.demo)
    except JudgingError as error:
        raise CourseError(f"grading stopped at {student}: {error}") from None
    if result.stop_reason:
        outcome.problems.append(result.stop_reason + _cells_not_run(result, kit, verdicts))
    deleted = intake.deleted_cells.get(kit.notebook_name, [])
    write_grades(course.db_url, kit.assignment_id, student, kit.notebook_name, result.notebook,
                 verdicts, deleted)
    autograded = course.autograded(student, kit.assignment_id)
    if autograded.exists():
        shutil.rmtree(autograded)
    autograded.mkdir(parents=True)
    nbformat.write(with_verdicts(result.notebook, verdicts),
                   autograded / f"{kit.notebook_name}.ipynb")
    shutil.rmtree(course.root / "jobs" / student, ignore_errors=True)
    outcome.autograded, outcome.seconds = True, result.seconds


def _cells_not_run(result: SandboxResult, kit: AssignmentKit,
                   verdicts: dict[str, CellVerdict]) -> str:
    """``"; ... score 0: test_a, test_b"``: the test cells from the one that stopped on that
    lost their points (cells judged from handed-in files keep theirs)."""
    if result.stopped_cell is None:
        return ""
    later = [grade_id(cell) for cell in result.notebook.cells[result.stopped_cell:]]
    lost = [name for name in later if name in kit.test_cell_points and not verdicts[name].points]
    return f"; the cells from there on did not run and score 0: {', '.join(lost)}" if lost else ""

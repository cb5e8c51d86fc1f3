"""Grading a whole class: intake, a sandboxed run per submission as a Dask task, judging in this
process, the gradebook, feedback, the grade table and the leaderboard; re-running resumes.

``grade_class`` is what ``python -m autograder grade`` runs. For each student:

1. intake (:mod:`autograder.intake`): is there a notebook nbgrader can read?
2. the handed-in folder is copied to ``submitted/<student>/<id>/``: the grading side's copy,
   which no sandbox ever gets to write;
3. its content hash (:mod:`autograder.engine.content_hash`: the handed-in files, the
   assignment's source notebook and checks package, the kit's version, the grading settings)
   is compared with the one kept in the gradebook's database
   (:mod:`autograder.engine.graded_runs`): a student graded from the same content, whose
   outputs are all there, is not run again (unless ``force``); its verdicts, seconds and
   reasons are read back from its run record (:mod:`autograder.engine.run_record`);
4. the notebook to grade of each other student (:mod:`autograder.graded_notebook`: the
   student's cells, the original test and locked cells) runs as one Dask task
   (:mod:`autograder.engine.task`) in a sandbox of its own, on a local cluster of ``workers``
   processes or on the existing cluster at ``scheduler``; the task returns the executed
   notebook and the evidence as data and writes nothing here; a task whose worker is lost runs
   again on another one;
5. in this process, one submission at a time as results arrive (:func:`_record`): the judges
   (:mod:`autograder.judging`) turn the evidence into points per test cell, and this process
   alone writes the evidence copy, the autograded notebook, the gradebook
   (:mod:`autograder.gradebook_writer`), the feedback, the run record and, last, the content
   hash;
6. a page for every student who was not graded, then the grade table (from the gradebook) and
   the leaderboard of the scored CSVs, rebuilt on every run.

A crash costs only what it breaks: cells judged before a kernel death keep their points, and the
reason names the cell that was running. Ctrl-C or a killed grading process leaves every student
either graded from the content its hash names, or without a hash (graded on the next run).
"""

import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat
import pandas as pd
from nbgrader.api import Gradebook, MissingEntry

from autograder import gradebook_export
from autograder.assignment_kit import CHECKS, AssignmentKit, assignment_kit
from autograder.class_report import write_class_report
from autograder.course import (
    ASSIGNMENTS,
    CourseError,
    WorkCourse,
    check_assignment,
    open_work_course,
)
from autograder.engine.cluster import cpu_share, grading_client
from autograder.engine.content_hash import assignment_fingerprint, submission_hash
from autograder.engine.dispatch import run_tasks
from autograder.engine.file_trees import read_tree, remove_tree, write_tree
from autograder.engine.graded_runs import GradedRuns
from autograder.engine.run_record import RunRecord, read_record, write_record
from autograder.engine.task import SubmissionTask, TaskResult, make_task
from autograder.feedback import write_feedback, write_not_graded_page
from autograder.gradebook_writer import forget_submission, write_grades
from autograder.graded_notebook import (
    KERNEL_ARGS,
    NotebookToGrade,
    notebook_to_grade,
    with_saved_figures,
    with_verdicts,
)
from autograder.heldout.key import DEMO_KEY, HeldoutKey, MissingKey, load_key
from autograder.intake import Intake, inspect_submission
from autograder.judging.evidence_reader import read_evidence
from autograder.judging.verdicts import CellVerdict, JudgingError, judge_submission
from autograder.leaderboard import build_leaderboard
from autograder.notebook_cells import grade_id, graded_cell_ids
from autograder.sandbox.availability import SandboxUnavailable, check_sandbox
from autograder.sandbox.limits import Limits
from autograder.sandbox.untrusted_files import is_plain
from autograder.submission_time import read_submission_time, stamp_submission

UNSAFE_NOTE = "graded WITHOUT a sandbox (--unsafe-no-sandbox): its code ran with the grader's rights"
#: the largest handed-in file sent to a sandbox (as large as a sandbox may write one)
MAX_HANDED_IN_FILE_BYTES = Limits().max_file_bytes


@dataclass
class Outcome:
    """How grading one student went: ``problems`` are reasons in words for the grade table;
    ``verdicts`` (grade_id -> verdict) and ``seconds`` (the sandboxed run) once autograded."""

    student: str
    autograded: bool
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    verdicts: dict[str, CellVerdict] = field(default_factory=dict)
    worker: str = ""


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
                limits: Limits | None = None, scheduler: str | None = None,
                force: bool = False) -> pd.DataFrame:
    """Grade every submission in ``submissions_dir``; return the grade table (also written to CSV).

    The table has one row per student: ``student``, ``status`` (``graded`` or ``not graded``),
    ``reason``, ``total``, ``max_total``, ``manual_pending``, one column of points per graded
    cell, and ``feedback`` (the student's feedback HTML). Files written in ``workdir``:
    ``<assignment>_grades.csv``, ``<assignment>_leaderboard.csv`` (assignments with a predictions
    CSV), ``feedback/``, ``autograded/``, ``evidence/``, ``verdicts/`` and the gradebook.

    The runs go to a local Dask cluster of ``workers`` processes, or to the cluster whose
    scheduler is at ``scheduler`` (``tcp://HOST:PORT``). A student graded before from the same
    content is not run again unless ``force``.

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
    course = open_work_course(workdir, assignment_id, assignments_dir, cell_timeout)
    kit.prepare(key)
    source_cells = {kit.notebook_name: graded_cell_ids(kit.source)}
    intakes = {folder.name: inspect_submission(folder, assignment_id, [kit.notebook_name],
                                               source_cells) for folder in folders}
    outcomes = {student: Outcome(student, False, list(i.problems)) for student, i in intakes.items()}
    base_limits = limits or Limits(**({"cell_timeout_s": cell_timeout} if cell_timeout else {}))
    fingerprint = assignment_fingerprint(kit, _settings(base_limits, isolation, key.demo))

    with GradedRuns(course.db_url) as runs, _ctrl_c_noticed() as ctrl_c:
        to_run = _plan(kit, course, runs, list(intakes.values()), outcomes, fingerprint, force)
        if to_run:
            with grading_client(scheduler, workers) as client:
                run_limits = limits or replace(base_limits, cpu_threads=cpu_share(client))
                sent: dict[str, NotebookToGrade] = {}

                def on_result(student: str, result: TaskResult | None, failure: str | None):
                    _record(kit, course, runs, intakes[student], to_run[student],
                            sent.pop(student), result, failure, outcomes[student], key,
                            unsafe_no_sandbox, ctrl_c)

                tasks = _tasks(kit, course, to_run, run_limits, isolation, kit.kernel_env(), sent)
                run_tasks(client, tasks, len(to_run), on_result, progress)

    for student, outcome in outcomes.items():
        if not outcome.autograded:
            write_not_graded_page(course, assignment_id, student, outcome.problems)
    table = gradebook_export.grade_table(course, assignment_id, list(intakes.values()), outcomes,
                                         source_cells[kit.notebook_name])
    table.to_csv(course.root / f"{assignment_id}_grades.csv", index=False)
    scored = {student: course.submitted(student, assignment_id)
              for student, outcome in outcomes.items() if outcome.autograded}
    leaderboard = build_leaderboard(kit.leaderboard, scored, key)
    if leaderboard is not None:
        leaderboard.to_csv(course.root / f"{assignment_id}_leaderboard.csv", index=False)
    write_class_report(course.root, assignment_id, table, *class_results(outcomes), leaderboard)
    return table


def class_results(outcomes: dict[str, Outcome]) -> tuple[dict[str, dict[str, CellVerdict]],
                                                        dict[str, float]]:
    """``(verdicts, seconds)`` of the autograded students, for the class report:
    student -> {grade_id -> verdict}, and student -> seconds of its sandboxed run."""
    graded = {student: outcome for student, outcome in outcomes.items() if outcome.autograded}
    return ({student: outcome.verdicts for student, outcome in graded.items()},
            {student: outcome.seconds for student, outcome in graded.items()})


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


@contextmanager
def _ctrl_c_noticed() -> Iterator[list[bool]]:
    """A list that gets an item on every Ctrl-C (SIGINT) while grading; Ctrl-C still raises
    KeyboardInterrupt. The judges run in pytest, which catches KeyboardInterrupt and returns:
    with this list the grading process still notices, and stops before it writes a verdict
    that judges cut short decided."""
    noticed: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield noticed  # signal handlers belong to the main thread: nothing to add
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        noticed.append(True)
        if callable(previous):
            previous(signum, frame)  # Python's default raises KeyboardInterrupt
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield noticed
    finally:
        signal.signal(signal.SIGINT, previous)


def _settings(limits: Limits, isolation: str, demo_key: bool) -> dict:
    """The grading settings that can change a grade (the CPU share cannot: it changes with the
    number of workers, which must not make a resumed class run again)."""
    caps = {name: value for name, value in asdict(limits).items() if name != "cpu_threads"}
    return {"limits": caps, "isolation": isolation, "demo_key": demo_key}


def _plan(kit: AssignmentKit, course: WorkCourse, runs: GradedRuns, intakes: list[Intake],
          outcomes: dict[str, Outcome], fingerprint: str, force: bool) -> dict[str, str]:
    """Stage every gradable submission and decide what runs: ``{student: content hash}`` of the
    students to run; the others are restored from their run records (or cannot be graded)."""
    stored = runs.hashes(kit.assignment_id)
    in_gradebook = _students_in_gradebook(course, kit.assignment_id)
    to_run = {}
    for intake in intakes:
        student, outcome = intake.student, outcomes[intake.student]
        if not intake.gradable:
            runs.forget(kit.assignment_id, student)
            forget_submission(course.db_url, kit.assignment_id, student)
            continue
        outcome.problems += _stage_submission(course, intake, kit.assignment_id)
        outcome.problems += _missing_files(kit, course, student)
        files, too_large = read_tree(course.submitted(student, kit.assignment_id),
                                     MAX_HANDED_IN_FILE_BYTES)
        outcome.problems += [f"{name} is larger than {MAX_HANDED_IN_FILE_BYTES >> 20} MiB: it was "
                             "left out" for name in too_large]
        content_hash = submission_hash(fingerprint, files)
        record = None if force or stored.get(student) != content_hash else \
            _graded_record(kit, course, student, content_hash, in_gradebook)
        if record is None:
            to_run[student] = content_hash
        else:
            outcome.problems += record.problems
            outcome.autograded, outcome.seconds = True, record.seconds
            outcome.verdicts, outcome.worker = record.verdicts, record.worker
    return to_run


def _students_in_gradebook(course: WorkCourse, assignment_id: str) -> set[str]:
    with Gradebook(course.db_url) as gb:
        try:
            return {submission.student_id
                    for submission in gb.find_assignment(assignment_id).submissions}
        except MissingEntry:
            return set()


def _graded_record(kit: AssignmentKit, course: WorkCourse, student: str, content_hash: str,
                   in_gradebook: set[str]) -> RunRecord | None:
    """The student's run record when every output of that run is still there, else None."""
    record = read_record(course.root, kit.assignment_id, student)
    feedback = course.feedback(student, kit.assignment_id)
    present = (record is not None and record.content_hash == content_hash
               and student in in_gradebook
               and (course.autograded(student, kit.assignment_id)
                    / f"{kit.notebook_name}.ipynb").is_file()
               and (course.root / "evidence" / student).is_dir()
               and feedback.is_dir() and any(feedback.glob("*.html")))
    return record if present else None


def _stage_submission(course: WorkCourse, intake: Intake, assignment_id: str) -> list[str]:
    """Copy the student's folder into ``submitted/`` (replacing an earlier copy) with its plain
    files and folders only: a link or a pipe is left out (the grading side, which reads this
    copy with its own rights, must never follow one); say what was left out."""
    target = course.submitted(intake.student, assignment_id)
    if target.exists():
        shutil.rmtree(target)
    left_out = []

    def not_copied(folder: str, names: list[str]) -> list[str]:
        special = [name for name in names if not is_plain(Path(folder, name))]
        left_out.extend(str(Path(folder, name).relative_to(intake.folder)) for name in special)
        return special + [name for name in names if name in (".ipynb_checkpoints", "__pycache__")]

    shutil.copytree(intake.folder, target, symlinks=True, ignore=not_copied)
    stamp_submission(target)
    return [f"{name} is a link or a special file, not a file you wrote: it was left out"
            for name in left_out]


def _missing_files(kit: AssignmentKit, course: WorkCourse, student: str) -> list[str]:
    folder = course.submitted(student, kit.assignment_id)
    return [f"{name} was not handed in: the cells graded from it score 0"
            for name in kit.handed_in_files if not (folder / name).exists()]


def _tasks(kit: AssignmentKit, course: WorkCourse, to_run: dict[str, str], limits: Limits,
           isolation: str, kernel_env: dict[str, str], sent: dict[str, NotebookToGrade]):
    """``(task, content hash)`` of each student to run, built when the dispatcher asks for it
    (a task holds the submission's files); ``sent`` gets each student's notebook to grade, for
    its notes on changed test cells and its saved figures."""
    checks_dir = None if kit.checks_dir == CHECKS / kit.assignment_id else kit.checks_dir.resolve()
    for student, content_hash in to_run.items():
        submitted = course.submitted(student, kit.assignment_id)
        student_nb = nbformat.read(submitted / f"{kit.notebook_name}.ipynb", as_version=4)
        to_grade = notebook_to_grade(student_nb, kit.source)
        sent[student] = to_grade
        files, _ = read_tree(submitted, MAX_HANDED_IN_FILE_BYTES)
        task: SubmissionTask = make_task(kit.assignment_id, student, to_grade.nb, files, limits,
                                         isolation, kernel_env, KERNEL_ARGS, checks_dir)
        yield task, content_hash


def _record(kit: AssignmentKit, course: WorkCourse, runs: GradedRuns, intake: Intake,
            content_hash: str, to_grade: NotebookToGrade, result: TaskResult | None,
            failure: str | None, outcome: Outcome, key: HeldoutKey, unsafe_no_sandbox: bool,
            ctrl_c: list[bool]) -> None:
    """Judge one run and write what it decides, in this order: (1) forget the student's content
    hash, so that from here on a crash means "grade again"; (2) the evidence copy; (3) the
    judges' verdicts; (4) the autograded notebook; (5) the grades (one gradebook transaction);
    (6) the feedback, which reads them; (7) the run record; (8) the content hash (its own
    transaction), only when all of that was written. A Ctrl-C noticed while the judges ran
    (``ctrl_c``) stops grading before (4)."""
    student, assignment_id = intake.student, kit.assignment_id
    runs.forget(assignment_id, student)
    problems = list(to_grade.notes)
    if result is None or result.notebook_json is None:
        problems.append(result.error if result is not None else
                        f"the grading task failed ({failure}); it runs again on the next `grade`")
        outcome.problems += problems + ([UNSAFE_NOTE] if unsafe_no_sandbox else [])
        forget_submission(course.db_url, assignment_id, student)
        return
    evidence_dir = course.root / "evidence" / student
    remove_tree(evidence_dir)
    write_tree(result.evidence, evidence_dir)
    problems += [f"evidence {name} did not come back from the sandbox (a link, a special file or "
                 "too large): the checks that need it score 0" for name in result.evidence_left_out]
    problems += read_evidence(evidence_dir).problems
    try:
        verdicts = judge_submission(kit.judges, evidence_dir,
                                    course.submitted(student, assignment_id),
                                    kit.test_cell_points, demo_key=key.demo)
    except JudgingError as error:
        raise CourseError(f"grading stopped at {student}: {error}") from None
    if ctrl_c:  # pytest swallowed a Ctrl-C: these verdicts may lack judges that did not run
        raise KeyboardInterrupt
    notebook = with_saved_figures(nbformat.reads(result.notebook_json, as_version=4),
                                  to_grade.saved_figures)
    if result.stop_reason:
        problems.append(result.stop_reason
                        + _cells_not_run(notebook, result.stopped_cell, kit, verdicts))
    if unsafe_no_sandbox:
        problems.append(UNSAFE_NOTE)
    autograded = course.autograded(student, assignment_id)
    remove_tree(autograded)
    autograded.mkdir(parents=True)
    nbformat.write(with_verdicts(notebook, verdicts, outcome.problems + problems),
                   autograded / f"{kit.notebook_name}.ipynb")
    write_grades(course.db_url, assignment_id, student, kit.notebook_name, notebook, verdicts,
                 intake.deleted_cells.get(kit.notebook_name, []),
                 read_submission_time(course.submitted(student, assignment_id)))
    remove_tree(course.feedback(student, assignment_id))
    feedback_problem = write_feedback(course, assignment_id, student)
    problems += [feedback_problem] if feedback_problem else []
    write_record(course.root, RunRecord(assignment_id, student, content_hash, result.worker,
                                        result.seconds, problems, verdicts))
    if feedback_problem is None:
        runs.record(assignment_id, student, content_hash)
    outcome.problems += problems
    outcome.autograded, outcome.seconds = True, result.seconds
    outcome.verdicts, outcome.worker = verdicts, result.worker


def _cells_not_run(notebook: nbformat.NotebookNode, stopped_cell: int | None, kit: AssignmentKit,
                   verdicts: dict[str, CellVerdict]) -> str:
    """``"; ... score 0: test_a, test_b"``: the test cells from the one that stopped on that
    lost their points (cells judged from handed-in files keep theirs)."""
    if stopped_cell is None:
        return ""
    later = [grade_id(cell) for cell in notebook.cells[stopped_cell:]]
    lost = [name for name in later if name in kit.test_cell_points and not verdicts[name].points]
    return f"; the cells from there on did not run and score 0: {', '.join(lost)}" if lost else ""

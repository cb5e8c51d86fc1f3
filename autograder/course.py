"""The nbgrader course folders: the repository's own, and grading work folders.

The repository root is the course for authoring (``assignments/`` -> ``starter/`` and
``solutions/``). Grading happens in a *work folder* (``grading/`` by default, ignored by git) that
is a complete nbgrader course of its own: ``source/``, ``submitted/``, ``autograded/``,
``feedback/`` and ``gradebook.db``, with an ``nbgrader_config.py`` that loads the repository's
config and points the directories there. A class can be graded again and again in the same work
folder; the instructor's repository is never written to.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from nbgrader.converters import GenerateAssignment, NbGraderException
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from vislab.paths import REPO_ROOT

ASSIGNMENTS = REPO_ROOT / "assignments"
CONFIG_FILE = "nbgrader_config.py"
GRADEBOOK_URL_VARIABLE = "VISLAB_GRADEBOOK_URL"
#: files in an assignment's source folder that are a run's artefacts, never course material
ARTEFACT_PATTERNS = ("runs", "*.csv", ".ipynb_checkpoints", "__pycache__")

WORK_CONFIG = """\
# Written by `python -m autograder`: the repository's course config, with this folder as the course.
load_subconfig({repo_config!r})
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.solution_directory = "solution"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = {db_url!r}
"""


class CourseError(RuntimeError):
    """The course or an assignment is not set up; the message says how to fix it."""


def assignment_ids(assignments_dir: Path = ASSIGNMENTS) -> list[str]:
    """Every assignment with a source notebook in ``assignments_dir``."""
    return sorted(p.name for p in assignments_dir.iterdir()
                  if p.is_dir() and list(p.glob("*.ipynb")))


def check_assignment(assignment_id: str, assignments_dir: Path = ASSIGNMENTS) -> Path:
    """The source folder of ``assignment_id``; a ``CourseError`` names the known ones if absent."""
    source = Path(assignments_dir) / assignment_id
    if not list(source.glob("*.ipynb")):
        raise CourseError(f"no assignment {assignment_id!r}: known ones are "
                          f"{assignment_ids(Path(assignments_dir))}")
    return source


def run_nbgrader(args: list[str], cwd: Path, timeout: float | None = None,
                 threads: int | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``cwd`` with this Python; output captured, never raises on failure.

    ``threads`` caps the CPU threads of the kernels it starts (unless ``OMP_NUM_THREADS`` is
    set already), so that parallel graders do not fight over the cores.
    """
    # nbgrader runs `alembic` and the kernel from PATH: put this environment's bin first
    env = {**os.environ,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    env.pop("NBGRADER_EXECUTION", None)
    if threads is not None and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class WorkCourse:
    """A grading work folder for one or more assignments."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        """``$VISLAB_GRADEBOOK_URL`` (e.g. a PostgreSQL database shared by several instructors),
        else SQLite in the work folder."""
        return os.environ.get(GRADEBOOK_URL_VARIABLE) or f"sqlite:///{self.db_path}"

    def submitted(self, student: str, assignment_id: str) -> Path:
        return self.root / "submitted" / student / assignment_id

    def autograded(self, student: str, assignment_id: str) -> Path:
        return self.root / "autograded" / student / assignment_id

    def feedback(self, student: str, assignment_id: str) -> Path:
        return self.root / "feedback" / student / assignment_id

    def nbgrader(self, *args: str, timeout: float | None = None, threads: int | None = None,
                 ) -> subprocess.CompletedProcess:
        return run_nbgrader(list(args), cwd=self.root, timeout=timeout, threads=threads)


def open_work_course(workdir: str | Path, assignment_id: str,
                     assignments_dir: Path = ASSIGNMENTS, cell_timeout: int | None = None,
                     ) -> WorkCourse:
    """Create (or refresh) the work folder and register the assignment in its gradebook.

    ``cell_timeout`` (seconds) overrides how long one cell may run while grading.
    """
    source = check_assignment(assignment_id, assignments_dir)
    course = WorkCourse(Path(workdir).resolve())
    course.root.mkdir(parents=True, exist_ok=True)
    config = WORK_CONFIG.format(repo_config=str(REPO_ROOT / "nbgrader_config.py"),
                                root=str(course.root), db_url=course.db_url)
    if cell_timeout is not None:
        config += f"c.Execute.timeout = {int(cell_timeout)}\n"
    (course.root / CONFIG_FILE).write_text(config)
    work_source = course.root / "source" / assignment_id
    if work_source.exists():
        shutil.rmtree(work_source)
    shutil.copytree(source, work_source, ignore=shutil.ignore_patterns(*ARTEFACT_PATTERNS))
    _register_assignment(course.root, assignment_id)
    return course


def _register_assignment(root: Path, assignment_id: str) -> None:
    """What ``nbgrader generate_assignment <id> --force`` does in ``root`` (the assignment and
    its cells in the gradebook, the release copy), in this process: 2 s less than the command,
    whose start and imports are most of its time."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    config.CourseDirectory.assignment_id = assignment_id
    config.GenerateAssignment.force = True
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
    try:
        converter.start()
    except NbGraderException as error:
        raise CourseError(f"nbgrader could not register {assignment_id}: {error}") from None

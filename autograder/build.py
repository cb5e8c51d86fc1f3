"""Regenerating ``starter/`` and ``solutions/`` from the nbgrader source in ``assignments/``.

``starter/<id>`` is what students get (``nbgrader generate_assignment``: solutions replaced by
stubs, hidden tests removed); ``solutions/<id>`` is the worked solution without hidden tests
(``nbgrader generate_solution``). Both are generated, never edited by hand; a test compares
them with a fresh build.
"""

import tempfile
from pathlib import Path

from autograder.course import REPO_ROOT, CourseError, check_assignment, run_nbgrader


def build_assignment(assignment_id: str, starter_dir: Path | None = None,
                     solutions_dir: Path | None = None) -> None:
    """Generate the starter and solution versions (by default into the repository)."""
    check_assignment(assignment_id)
    with tempfile.TemporaryDirectory() as scratch:  # generate_solution opens a gradebook
        scratch_db = f"--CourseDirectory.db_url=sqlite:///{Path(scratch) / 'build.db'}"
        _generate(assignment_id, starter_dir, solutions_dir, scratch_db)


def _generate(assignment_id: str, starter_dir: Path | None, solutions_dir: Path | None,
              scratch_db: str) -> None:
    steps = [
        ["generate_assignment", assignment_id, "--force"]
        + ([f"--CourseDirectory.release_directory={starter_dir}"] if starter_dir else []),
        ["generate_solution", assignment_id, "--force"]
        + ([f"--CourseDirectory.solution_directory={solutions_dir}"] if solutions_dir else []),
    ]
    for args in steps:
        result = run_nbgrader(args + [scratch_db], cwd=REPO_ROOT)
        if result.returncode != 0:
            raise CourseError(f"nbgrader {args[0]} {assignment_id} failed:\n"
                              f"{(result.stdout + result.stderr)[-3000:]}")

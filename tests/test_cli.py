"""``python -m autograder`` itself, run as a subprocess the way an instructor runs it."""

import subprocess
import sys

import pytest

from autograder.sample_classes import SAMPLES, copy_submission
from vislab.paths import REPO_ROOT


def autograder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


def test_build_writes_the_starter_and_the_solution_where_asked(tmp_path):
    result = autograder("build", "a3_cifar", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for folder in ("starter", "solutions"):  # the same as the committed, up-to-date build
        built = (tmp_path / folder / "a3_cifar" / "a3_cifar.ipynb").read_text()
        assert built == (REPO_ROOT / folder / "a3_cifar" / "a3_cifar.ipynb").read_text(), folder


@pytest.fixture(scope="module")
def graded_by_cli(tmp_path_factory):
    """One reference submission of a3_cifar graded with `grade`, then `leaderboard`."""
    root = tmp_path_factory.mktemp("cli")
    copy_submission(SAMPLES / "a3_cifar", root / "submissions" / "solution")
    grade = autograder("grade", "a3_cifar", "--submissions", str(root / "submissions"),
                       "--workdir", str(root / "work"), "--demo-key")
    board = autograder("leaderboard", "a3_cifar", "--workdir", str(root / "work"))
    return root, grade, board


def test_grade_prints_the_grade_table_and_where_the_files_are(graded_by_cli):
    root, grade, _ = graded_by_cli
    assert grade.returncode == 0, grade.stderr[-2000:]
    assert "Grades (points per graded cell):" in grade.stdout
    assert "test_conv_by_hand" in grade.stdout
    assert (root / "work" / "a3_cifar_grades.csv").exists()


def test_leaderboard_prints_the_ranked_class(graded_by_cli):
    _, _, board = graded_by_cli
    assert board.returncode == 0, board.stderr
    header, first = board.stdout.splitlines()[:2]
    assert "private_accuracy" in header and first.split()[:2] == ["1", "solution"]


@pytest.mark.parametrize(("args", "message"), [
    (["grade", "a9_nothing", "--submissions", "."], "no assignment 'a9_nothing'"),
    (["build", "a9_nothing"], "no assignment 'a9_nothing'"),
    (["grade", "a3_cifar", "--submissions", "/no/such/folder"], "is not a folder"),
    (["leaderboard", "a3_cifar", "--workdir", "/no/such/folder"], "grade the class first"),
])
def test_a_bad_id_or_a_missing_folder_exits_2_with_a_message(args, message):
    result = autograder(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr

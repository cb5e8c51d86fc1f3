"""nbgrader's Validate on an unchanged starter, with the course config: every failed cell's error
is one line in words, never a traceback into the kit's or a library's internals."""

import re
import shutil
import subprocess
import sys

import pytest

from vislab.paths import REPO_ROOT


@pytest.mark.parametrize("assignment_id", ["a3_cifar"])
def test_validate_reports_one_line_per_failed_cell(tmp_path, assignment_id):
    notebook = tmp_path / f"{assignment_id}.ipynb"
    shutil.copy(REPO_ROOT / "starter" / assignment_id / notebook.name, notebook)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(notebook)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    report = result.stdout
    assert "VALIDATION FAILED ON" in report, report[-3000:]
    assert "Traceback (most recent call last)" not in report and "site-packages" not in report
    errors = re.findall(r"The error was:\n\n(.*?)\n\n\n", report, flags=re.S)
    assert errors, report[-3000:]
    for error in errors:
        lines = [line.strip() for line in error.splitlines() if line.strip()]
        assert len(lines) == 1, error
    assert "    AssertionError: set convention" in report  # the visible test's own words

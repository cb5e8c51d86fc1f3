"""What students, TAs and instructors see, checked in Chromium (driven by Playwright).

- A student opens a3's starter in JupyterLab, runs its first cells and presses nbgrader's
  *Validate*: the dialog names each failed or unfinished cell with one short line.
- A student opens a feedback page of the graded demo class: the maths is drawn, no hidden test
  shows, the summary at the top gives each check's result in words; a notebook that could not be
  graded gets a page that says why and what to do.
- An instructor opens formgrader in the demo's work folder: the graded students with their scores.

Every test keeps full-page screenshots in ``test-artifacts/browser/`` (``$VISLAB_TEST_ARTIFACTS``).
Without Chromium or playwright the tests are skipped saying what to install, or fail when
``VISLAB_REQUIRE_BROWSER=1`` (CI). Servers and pages use 127.0.0.1 only.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import (
    artifacts_dir,
    chromium_executable,
    jupyter_lab,
    local_page,
    screenshot,
)

from autograder.course import WorkCourse
from autograder.gradebook_export import cell_max_points
from vislab.paths import REPO_ROOT

ASSIGNMENT = "a3_cifar"
#: the embedded dataset a3's starter loads
DATASET = "textured-digits"
#: the demo's students whose notebooks were graded ("broken" was not)
GRADED = ["solution", "partial", "starter", "deleter"]
#: the longest line Validate may give a failed cell
MAX_ERROR_LINE = 200
CELL_TIMEOUT_MS = 120_000
VALIDATE_TIMEOUT_MS = 240_000


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """Chromium's path, checked before anything else this file needs (the demo's grading too)."""
    return chromium_executable()


@pytest.fixture(scope="module")
def browser(chromium):
    """Headless Chromium, one for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A page that reaches only this machine; what it shows at the end of the test, passed or
    failed, is kept as ``<test name>.png``."""
    with local_page(browser) as page:
        page.set_default_timeout(30_000)
        yield page
        screenshot(page, request.node.name)


# --- Validate in JupyterLab ---------------------------------------------------------------------

@dataclass
class Validated:
    """What JupyterLab showed: the outputs of the first code cells, then Validate's dialog."""

    outputs: list[str]  # the text each of the first code cells printed
    figures: int  # images those cells drew
    seconds: float  # from pressing Validate to its dialog
    dialog_class: str  # "validation-failed", "validation-success", ...
    failures: list[tuple[str, str]]  # (the cell's source, its error) per failed cell


def _run_cell(page, index: int):
    """Run code cell ``index`` as a student does (click it, Shift+Enter), wait for its execution
    count and give its output area."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    cell.locator(".jp-InputPrompt").filter(has_text=re.compile(r"\[\d+\]")) \
        .wait_for(timeout=CELL_TIMEOUT_MS)
    return cell.locator(".jp-OutputArea")


@pytest.fixture(scope="module")
def validated(browser, tmp_path_factory) -> Validated:
    """a3's starter in a copy of the course root, opened in JupyterLab: its first two code cells
    run, then *Validate* pressed. Screenshots: ``validate_1_first_cells_ran``,
    ``validate_2_dialog``; the dialog's text and time: ``validate_dialog.txt``. The student's
    data is in a cache of its own, prepared as a student practising with the kit alone would."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root)
    shutil.copy(REPO_ROOT / "starter" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root)
    cache = {"VISLAB_CACHE": str(tmp_path_factory.mktemp("vislab-cache"))}
    subprocess.run([sys.executable, "datasets.py", "prepare", DATASET], cwd=REPO_ROOT,
                   env={**os.environ, **cache}, check=True, capture_output=True)
    with jupyter_lab(root, tmp_path_factory.mktemp("jupyter-home"), env=cache) as lab, \
            local_page(browser) as page:
        try:
            lab.log_in(page)
            page.goto(lab.url(f"/lab/tree/{ASSIGNMENT}.ipynb"))
            page.get_by_text("| Idle").wait_for(timeout=CELL_TIMEOUT_MS)
            outputs = [_run_cell(page, index) for index in range(2)]
            texts = [output.inner_text() for output in outputs]
            figures = sum(output.locator("img").count() for output in outputs)
            screenshot(page, "validate_1_first_cells_ran")
            started = time.monotonic()
            page.locator(".validate-button").click()
            dialog = page.locator("#validation-message")
            dialog.wait_for(timeout=VALIDATE_TIMEOUT_MS)
            seconds = time.monotonic() - started
            # the dialog lists, per failed cell, "The following cell failed:", its source, its error
            shown = [text.strip() for text in dialog.locator(".jp-RenderedText").all_inner_texts()]
            (artifacts_dir() / "validate_dialog.txt").write_text(
                f"Validate took {seconds:.1f} s\n\n{dialog.inner_text()}")
        finally:
            screenshot(page, "validate_2_dialog")
        return Validated(texts, figures, seconds, dialog.get_attribute("class"),
                         list(zip(shown[::2], shown[1::2], strict=True)))


def test_the_first_cells_run_in_jupyterlab(validated):
    printed, _ = validated.outputs
    assert printed.startswith("dataset ") and " train, " in printed, printed
    assert validated.figures >= 1, "the second cell shows training images"


def test_validate_reports_each_failed_cell_in_one_short_line(validated, record_property):
    record_property("validate_seconds", round(validated.seconds, 1))
    print(f"Validate took {validated.seconds:.1f} s")
    assert "validation-failed" in validated.dialog_class
    errors = [error for _, error in validated.failures]
    assert errors[0] == "AssertionError: set convention", "the first visible test's own words"
    assert "You did not provide a response." in errors, "an unanswered written question"
    for source, error in validated.failures:
        assert "Traceback" not in error and "site-packages" not in error, (source, error)
        assert len(error.splitlines()) == 1 and len(error) <= MAX_ERROR_LINE, (source, error)


def _in_words(error: str) -> bool:
    """A sentence, or an error with its message (the starter's stub of an unfinished task says
    "not done yet: ...")."""
    return " " in error


def test_validate_says_in_words_what_each_failed_cell_lacks(validated):
    bare = [(source, error) for source, error in validated.failures if not _in_words(error)]
    assert not bare


# --- feedback pages of the graded demo class ----------------------------------------------------

@pytest.fixture(scope="module")
def demo(graded_demo):
    """The graded demo class: (grade table by student, work folder, max points per graded cell)."""
    table, workdir = graded_demo
    table = table.set_index("student")
    return table, workdir, cell_max_points(WorkCourse(workdir), ASSIGNMENT, list(table.columns))


def _open_feedback(page, demo, student: str) -> str:
    """Open ``student``'s feedback page from disk; the text it shows."""
    table, *_ = demo
    page.goto(Path(table.loc[student, "feedback"]).as_uri())
    return page.locator("body").inner_text()


def test_feedback_draws_its_maths(page, demo):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    text = _open_feedback(page, demo, "partial")
    boxes = page.locator("math").evaluate_all(
        "ms => ms.map(m => { const box = m.getBoundingClientRect();"
        " return [getComputedStyle(m).display, box.width, box.height]; })")
    assert len(boxes) >= 10
    for display, width, height in boxes:
        assert display in ("math", "block math", "inline math") and width > 0 and height > 0
    assert "$$" not in text and "\\begin{" not in text
    assert [url for url in requested if not url.startswith("file:")] == [], \
        "the page asks the network for something (it must work offline)"


@pytest.mark.parametrize("student", GRADED)
def test_feedback_shows_no_hidden_test(page, demo, student):
    text = _open_feedback(page, demo, student)
    for hidden in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "autograder.checks",
                   "from autograder", "import autograder"):
        assert hidden not in text
    check_outputs = page.locator(".code_cell").evaluate_all(
        "cells => cells.filter(c => c.querySelector('.nbgrader-label')?.innerText.startsWith('Check'))"
        ".map(c => c.querySelector('.output_wrapper')?.innerText || '')")
    assert check_outputs, "the page shows the test cells"
    for output in check_outputs:
        assert "Traceback" not in output and 'File "' not in output, output


#: per graded cell's panel: its label, how much of the panel's width its code gets, and how far
#: the heading's result reaches below the heading (over the code)
PANEL_LAYOUT_JS = """panels => panels.map(panel => {
    const body = panel.querySelector('.panel-body').getBoundingClientRect();
    const code = panel.querySelector('.input_area pre')?.getBoundingClientRect();
    const heading = [...panel.querySelectorAll('.panel-heading > *')];
    return [panel.querySelector('.nbgrader-label').innerText, code ? code.width / body.width : 1,
            Math.max(...heading.map(part => part.getBoundingClientRect().bottom)) - body.top];
})"""
@pytest.mark.parametrize("student", GRADED)
def test_feedback_shows_each_graded_cells_code_in_full_under_its_heading(page, demo, student):
    _open_feedback(page, demo, student)
    panels = page.locator(".nbgrader_cell").evaluate_all(PANEL_LAYOUT_JS)
    assert panels
    for label, code_width, heading_overlap in panels:
        assert code_width > 0.9 and heading_overlap <= 0, (label, code_width, heading_overlap)


#: a check in the page's summary: "check test_x: 0 / 3 points, <result in words>"
CHECK_ROW = re.compile(r"check (?P<cell>\w+): (?P<got>[\d.]+) / (?P<max>[\d.]+) points, "
                       r"(?P<words>.+)")


def _summary(page) -> list[str]:
    return page.locator("#toc li").all_inner_texts()


@pytest.mark.parametrize("student", GRADED)
def test_feedback_summary_gives_each_checks_points_and_result_in_words(page, demo, student):
    table, _, max_points = demo
    _open_feedback(page, demo, student)
    row = table.loc[student]
    heading = page.locator("h4").first.inner_text()
    assert heading.startswith(f"{ASSIGNMENT}: {row['total']:g} of {row['max_total']:g} points")
    checks = [match for line in _summary(page) if (match := CHECK_ROW.fullmatch(line))]
    assert len(checks) >= 8
    for check in checks:
        got, most, words = float(check["got"]), float(check["max"]), check["words"]
        assert (got, most) == (row[check["cell"]], max_points[check["cell"]]), check.group()
        if got == most:
            assert words == "passed", check.group()
        elif not (words == "partial credit" and got > 0):  # else the reason, in a sentence
            assert len(words.split()) >= 4 and "Traceback" not in words, check.group()


@pytest.mark.parametrize("student", GRADED)
def test_feedback_summary_accounts_for_every_graded_cell(page, demo, student):
    """Each graded cell is named at the top: in the list of results, or (a deleted test cell)
    in what went wrong with the hand-in."""
    _, _, max_points = demo
    _open_feedback(page, demo, student)
    top = page.locator(".panel-heading").first.inner_text()
    assert [cell for cell in max_points if not re.search(rf"\b{cell}\b", top)] == []


def test_a_notebook_that_could_not_be_graded_gets_a_page_saying_why_and_what_to_do(page, demo):
    table, *_ = demo
    text = _open_feedback(page, demo, "broken")
    assert "could not be graded" in text
    assert table.loc["broken", "reason"] in text, "why: the grade table's reason"
    assert re.search(r"What to do: .*hand in", text, flags=re.S), text


# --- formgrader in the demo's work folder -------------------------------------------------------

@pytest.fixture(scope="module")
def formgrader(demo, tmp_path_factory):
    """JupyterLab started in the demo's work folder, which holds its own course config and
    gradebook, as an instructor starts it for another ``--workdir``."""
    _, workdir, _ = demo
    assert (workdir / "nbgrader_config.py").is_file() and (workdir / "gradebook.db").is_file()
    with jupyter_lab(workdir, tmp_path_factory.mktemp("jupyter-home")) as lab:
        yield lab


def _wait_for_cell(page, text: str) -> None:
    """Wait until formgrader's table (filled in by the page's script) has a cell reading ``text``."""
    page.locator("td").filter(has_text=re.compile(rf"^{re.escape(text)}$")).first.wait_for()


def _table_rows(page) -> list[dict[str, str]]:
    """The rows of the page's table, each as {column heading: cell text}."""
    return page.locator("table").first.evaluate(
        "t => { const heads = [...t.tHead.rows[0].cells].map(th => th.innerText.trim());"
        " return [...t.tBodies[0].rows].map(tr => Object.fromEntries("
        "[...tr.cells].map((td, i) => [heads[i], td.innerText.trim()]))); }")


def test_formgrader_lists_the_assignment_with_its_graded_submissions(page, formgrader):
    formgrader.log_in(page)
    page.goto(formgrader.url("/formgrader"))
    _wait_for_cell(page, ASSIGNMENT)
    rows = {row["Name"]: row for row in _table_rows(page)}
    assert rows[ASSIGNMENT]["# Submissions"] == str(len(GRADED)), rows


def test_formgrader_lists_each_graded_student_with_their_score(page, formgrader, demo):
    table, *_ = demo
    formgrader.log_in(page)
    page.goto(formgrader.url(f"/formgrader/manage_submissions/{ASSIGNMENT}"))
    _wait_for_cell(page, GRADED[0])
    shown = {row["Student ID"]: row["Score"] for row in _table_rows(page)}
    expected = {student: f"{table.loc[student, 'total']:g} / {table.loc[student, 'max_total']:g}"
                for student in GRADED}
    assert expected.items() <= shown.items(), shown


def test_formgrader_draws_a_submissions_maths_with_mathjax_from_the_server(page, formgrader):
    """The submission a TA grades: MathJax comes from the Jupyter server (no CDN, blocked here),
    draws the notebook's maths, and the grading page's script runs without an error."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    formgrader.log_in(page)
    listing = page.request.get(
        formgrader.url(f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}"))
    submission = {row["student"]: row["id"] for row in listing.json()}["partial"]
    page.goto(formgrader.url(f"/formgrader/submissions/{submission}/"))
    page.locator(".MathJax_Display").first.wait_for(timeout=60_000)
    assert page.locator(".MathJax, .MathJax_Display").count() >= 10
    assert errors == [], errors

"""The class report on small synthetic classes: the files, the numbers on the page, escaped
student text, and classes where nobody was graded, without a leaderboard, of one student."""

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from autograder.class_report import (
    check_results,
    failure_messages,
    slowest_runs,
    write_class_report,
)
from autograder.class_report_plots import _score_bins, _visible_shares
from autograder.judging.verdicts import CellVerdict, JudgeOutcome

ASSIGNMENT = "a9_toy"
#: the toy assignment's cells in notebook order: two checks and one manually graded answer
CELLS = {"test_sizes": 2.0, "answer": 3.0, "test_loss": 4.0}
CHECKS = {"test_sizes": 2.0, "test_loss": 4.0}
PNG = b"\x89PNG\r\n\x1a\n"


def grade_row(student: str, points: dict[str, float], status: str = "graded",
              reason: str = "") -> dict:
    cells = {cell: points.get(cell, 0.0) for cell in CELLS}
    return {"student": student, "status": status, "reason": reason,
            "total": sum(cells.values()), "max_total": sum(CELLS.values()),
            "manual_pending": 1 if status == "graded" else 0, **cells,
            "feedback": f"feedback/{student}/{ASSIGNMENT}/{ASSIGNMENT}.html"}


def grade_table(rows: list[dict]) -> pd.DataFrame:
    columns = ["student", "status", "reason", "total", "max_total", "manual_pending", *CELLS,
               "feedback"]
    return pd.DataFrame(rows, columns=columns)


def verdict(cell: str, points: float, *messages: str) -> CellVerdict:
    outcomes = [JudgeOutcome(f"judge_{i}", cell, False, message)
                for i, message in enumerate(messages)] or [JudgeOutcome("judge", cell, True)]
    return CellVerdict(cell, points, CHECKS[cell], outcomes)


@pytest.fixture
def small_class():
    """Five graded students and one not graded, with their verdicts and run times."""
    loss_wrong = "the loss of the fixed batch should be 0.6931, not 1.3862"
    verdicts = {
        "ana": {"test_sizes": verdict("test_sizes", 2), "test_loss": verdict("test_loss", 4)},
        "ben": {"test_sizes": verdict("test_sizes", 2),
                "test_loss": verdict("test_loss", 0, loss_wrong)},
        "cleo": {"test_sizes": verdict("test_sizes", 1),
                 "test_loss": verdict("test_loss", 0, loss_wrong, loss_wrong)},
        "dan": {"test_sizes": verdict("test_sizes", 0, "output_size(32, 3) should be 30"),
                "test_loss": verdict("test_loss", 0, loss_wrong, "no evidence: the cell died")},
        "eve": {"test_sizes": verdict("test_sizes", 2), "test_loss": verdict("test_loss", 2)},
    }
    rows = [grade_row(student, {cell: v.points for cell, v in cells.items()} | {"answer": 3})
            for student, cells in verdicts.items()]
    rows.append(grade_row("fay", {}, "not graded", "a9_toy.ipynb is not valid JSON"))
    seconds = {"ana": 12.5, "ben": 30.25, "cleo": 8.0, "dan": 61.0, "eve": 9.0}
    leaderboard = pd.DataFrame({
        "rank": pd.array([1, 2, 2, None], dtype="Int64"),
        "student": ["eve", "ana", "ben", "dan"],
        "public_accuracy": [0.91, 0.88, 0.87, None],
        "private_accuracy": [0.9, 0.85, 0.85, None],
        "problem": ["", "", "", "predictions.csv was not handed in"]})
    return grade_table(rows), verdicts, seconds, leaderboard


class Tables(HTMLParser):
    """The text of every table cell of a page, table by table, row by row."""

    def __init__(self, page: str):
        super().__init__()
        self.tables, self._cell = [], None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None

    def starting_with(self, *header: str) -> list[list[str]]:
        """The rows (header left out) of the one table whose header starts with ``header``."""
        found = [table for table in self.tables if tuple(table[0][:len(header)]) == header]
        assert len(found) == 1, f"{len(found)} tables with the header {header}"
        return found[0][1:]


def write(folder: Path, table, verdicts, seconds, leaderboard) -> str:
    page = write_class_report(folder, ASSIGNMENT, table, verdicts, seconds, leaderboard)
    assert page == folder / f"{ASSIGNMENT}_report.html"
    return page.read_text(encoding="utf-8")


def test_the_page_and_its_plots_are_written_next_to_each_other_and_work_offline(
        tmp_path, small_class):
    page = write(tmp_path, *small_class)
    for name in ("scores", "checks"):
        plot = tmp_path / f"{ASSIGNMENT}_report_{name}.png"
        assert plot.read_bytes().startswith(PNG)
        assert f'src="{plot.name}"' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_pass_rates_count_graded_students_with_full_partial_and_zero_points_per_check(
        tmp_path, small_class):
    checks = check_results(small_class[0], small_class[1])
    assert checks["cell"].tolist() == ["test_sizes", "test_loss"]  # notebook order, no manual cell
    assert checks[["graded", "full", "partial", "zero"]].values.tolist() == [[5, 3, 1, 1],
                                                                            [5, 1, 1, 3]]
    rows = Tables(write(tmp_path, *small_class)).starting_with("check", "points", "graded")
    assert rows == [["test_sizes", "2", "5", "3", "1", "1", "60%"],
                    ["test_loss", "4", "5", "1", "1", "3", "20%"]]


def test_a_grade_fixed_by_hand_in_the_gradebook_counts_over_the_verdict(small_class):
    table, verdicts, _, _ = small_class
    table.loc[table["student"] == "dan", "test_sizes"] = 2.0  # a TA gave dan full points
    assert check_results(table, verdicts).loc[0, ["full", "zero"]].tolist() == [4, 0]


def test_equal_failure_messages_are_counted_once_per_student(tmp_path, small_class):
    messages = failure_messages(small_class[0], small_class[1])
    loss_wrong = "the loss of the fixed batch should be 0.6931, not 1.3862"
    assert messages.values.tolist() == [
        ["test_sizes", "output_size(32, 3) should be 30", 1],
        ["test_loss", loss_wrong, 3],
        ["test_loss", "no evidence: the cell died", 1]]
    rows = Tables(write(tmp_path, *small_class)).starting_with("check", "message", "students")
    assert rows[1] == ["test_loss", loss_wrong, "3"]


def test_summary_leaderboard_failed_and_slowest_submissions_are_on_the_page(
        tmp_path, small_class):
    page = write(tmp_path, *small_class)
    assert "6 students: 5 graded, 1 not graded." in page
    assert "5 students have cells waiting for a manual grade" in page
    tables = Tables(page)
    assert tables.starting_with("rank", "student") == [
        ["1", "eve", "0.91", "0.9"], ["2", "ana", "0.88", "0.85"], ["2", "ben", "0.87", "0.85"]]
    assert "3 files scored, 1 could not be scored" in page
    assert tables.starting_with("problem") == [["predictions.csv was not handed in", "1", "dan"]]
    assert tables.starting_with("student", "reason") == [["fay",
                                                          "a9_toy.ipynb is not valid JSON"]]
    assert tables.starting_with("student", "seconds") == [
        ["dan", "61.0", "graded"], ["ben", "30.2", "graded"], ["ana", "12.5", "graded"],
        ["eve", "9.0", "graded"], ["cleo", "8.0", "graded"]]


def test_only_the_ten_slowest_runs_are_listed():
    table = grade_table([grade_row(f"s{i:02d}", {}) for i in range(14)])
    slowest = slowest_runs(table, {f"s{i:02d}": float(i) for i in range(14)})
    assert slowest["student"].tolist() == [f"s{i:02d}" for i in range(13, 3, -1)]


def test_student_text_is_escaped(tmp_path, small_class):
    table, verdicts, seconds, leaderboard = small_class
    name, message = "<script>alert('name')</script>", '<img src=x onerror="alert(1)">'
    table.loc[table["student"] == "fay", ["student", "reason"]] = [name, message + " & more"]
    verdicts["ben"]["test_loss"] = verdict("test_loss", 0, message)
    leaderboard.loc[3, "problem"] = message
    seconds[name] = 99.0
    page = write(tmp_path, table, verdicts, seconds, leaderboard)
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page
    assert page.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") == 3
    assert "&amp; more" in page


def test_a_class_where_nobody_was_graded_gets_a_page_without_plots(tmp_path, small_class):
    write(tmp_path, *small_class)  # an earlier run's plots must not stay next to the new page
    table = grade_table([grade_row("fay", {}, "not graded", "not valid JSON"),
                         grade_row("gus", {}, "not graded", "no notebook handed in")])
    page = write(tmp_path, table, {}, {}, pd.DataFrame(
        columns=["rank", "student", "public_accuracy", "private_accuracy", "problem"]))
    assert not list(tmp_path.glob("*.png"))
    assert "2 students: 0 graded, 2 not graded." in page
    assert "Nobody was graded" in page and "No check was judged" in page
    assert "0 files scored, 0 could not be scored" in page
    assert [row[0] for row in Tables(page).starting_with("student", "reason")] == ["fay", "gus"]


def test_an_empty_grade_table_still_gives_a_page(tmp_path):
    page = write(tmp_path, grade_table([]), {}, {}, None)
    assert "0 students: 0 graded, 0 not graded." in page
    assert "This assignment has no leaderboard" in page and "No run time was recorded" in page


def test_a_single_student_without_a_leaderboard(tmp_path):
    table = grade_table([grade_row("ana", {"test_sizes": 2, "test_loss": 4})])
    verdicts = {"ana": {"test_sizes": verdict("test_sizes", 2),
                        "test_loss": verdict("test_loss", 4)}}
    page = write(tmp_path, table, verdicts, {"ana": 3.0}, None)
    assert (tmp_path / f"{ASSIGNMENT}_report_scores.png").exists()
    assert "1 student: 1 graded, 0 not graded." in page
    assert "No judge failed for any graded student" in page
    assert "Every student was graded" in page and "This assignment has no leaderboard" in page


def test_graded_students_without_verdicts_count_in_the_shares_from_the_table(tmp_path,
                                                                            small_class):
    table, verdicts, seconds, leaderboard = small_class
    del verdicts["dan"], verdicts["eve"]  # not judged again in this run (e.g. resumed)
    assert check_results(table, verdicts)["graded"].tolist() == [5, 5]
    page = write(tmp_path, table, verdicts, seconds, leaderboard)
    assert "Failure messages are known for 3 of the 5 graded students" in page


def test_score_bins_are_whole_points_up_to_40_then_wider():
    assert _score_bins(26).tolist() == [x - 0.5 for x in range(28)]
    assert _score_bins(50).tolist() == list(range(0, 51, 2))
    assert _score_bins(100).tolist() == list(range(0, 101, 5))
    assert len(_score_bins(1000)) - 1 <= 30


def test_every_non_zero_share_is_drawn_and_a_bar_still_ends_at_100():
    drawn = _visible_shares(pd.DataFrame([[999.0 / 10, 0.1, 0.0]]).to_numpy())
    assert drawn[0, 1] >= 1.0 and drawn[0, 2] == 0 and drawn.sum() == pytest.approx(100)

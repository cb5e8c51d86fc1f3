"""The class report: one HTML page for instructors, written by ``grade`` next to the grade table.

``<assignment>_report.html`` shows the score distribution, the pass rate of every check, the most
common failure messages per check, the top of the leaderboard with the files it could not score,
and the failed and slowest submissions. Its plots are PNG files next to it
(``<assignment>_report_scores.png``, ``<assignment>_report_checks.png``,
:mod:`autograder.class_report_plots`); the page needs no network and no script. Every text a
student controls (names, messages, reasons) is escaped.

What the page counts:

- *graded* students are the grade table's rows with status ``graded``; the others are listed with
  their reason and left out of every share;
- a *check* is a test cell that a judge decides (a cell of ``verdicts``); manually graded cells
  are not checks. A check's points per student are the grade table's (the gradebook's: a grade a
  TA fixed by hand counts), its maximum the verdicts';
- a *failure message* is what a failed judge told the student; equal messages are one row, with
  the number of students who got it.
"""

import html
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from autograder.class_report_plots import check_bars, score_histogram
from autograder.judging.verdicts import CellVerdict

#: how many rows of each list the page shows
TOP_MESSAGES, TOP_LEADERBOARD, SLOWEST = 5, 10, 10
#: a longer message is cut on the page (it is counted whole)
MESSAGE_CHARS = 400
GRADED = "graded"
PLOTS = ("scores", "checks")


def write_class_report(folder: Path, assignment_id: str, table: pd.DataFrame,
                       verdicts: dict[str, dict[str, CellVerdict]], seconds: dict[str, float],
                       leaderboard: pd.DataFrame | None) -> Path:
    """Write ``folder/<assignment_id>_report.html`` and its plots; return the page's path.

    ``table``: the grade table (:func:`autograder.gradebook_export.grade_table`);
    ``verdicts``: student -> test cell -> verdict, for the students judged (graded students
    missing from it still count in the shares, from the table; only their messages are unknown);
    ``seconds``: student -> run time of the sandboxed run; ``leaderboard``: the frame of
    :func:`autograder.leaderboard.build_leaderboard`, or None for an assignment without one.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    graded = _graded(table)
    checks = check_results(table, verdicts)
    images = {}
    for name in PLOTS:  # a plot of an earlier run must not outlive it
        (folder / f"{assignment_id}_report_{name}.png").unlink(missing_ok=True)
    if len(graded):
        max_total = float(table["max_total"].max())
        path = folder / f"{assignment_id}_report_scores.png"
        images["scores"] = (path, score_histogram(graded["total"].astype(float).tolist(),
                                                  max_total, len(table) - len(graded), path))
        if len(checks):
            path = folder / f"{assignment_id}_report_checks.png"
            images["checks"] = (path, check_bars(checks, path))
    sections = [
        _summary(assignment_id, table, graded, verdicts),
        _scores_section(images.get("scores"), graded),
        _checks_section(images.get("checks"), checks),
        _failures_section(failure_messages(table, verdicts)),
        _leaderboard_section(leaderboard),
        _submissions_section(table, seconds),
    ]
    page = folder / f"{assignment_id}_report.html"
    page.write_text(PAGE.format(title=_text(f"{assignment_id}: class report"),
                                body="\n".join(sections)), encoding="utf-8")
    return page


def check_results(table: pd.DataFrame, verdicts: dict[str, dict[str, CellVerdict]],
                  ) -> pd.DataFrame:
    """One row per check in notebook order (the table's column order): ``cell``,
    ``max_points``, ``graded`` (students counted), ``full``, ``partial``, ``zero`` (students
    with full, partial and no points) and ``full_share`` (``full / graded``, NaN for none)."""
    maxima = _check_maxima(table, verdicts)
    graded = _graded(table)
    rows = []
    for cell, max_points in maxima.items():
        points = _cell_points(graded, cell, verdicts)
        full = points >= max_points - 1e-9
        zero = (points <= 1e-9) & ~full
        counts = {"full": int(full.sum()), "partial": int((~full & ~zero).sum()),
                  "zero": int(zero.sum())}
        rows.append({"cell": cell, "max_points": max_points, "graded": len(points), **counts,
                     "full_share": counts["full"] / len(points) if len(points) else float("nan")})
    return pd.DataFrame(rows, columns=["cell", "max_points", "graded", "full", "partial", "zero",
                                       "full_share"])


def failure_messages(table: pd.DataFrame, verdicts: dict[str, dict[str, CellVerdict]],
                     ) -> pd.DataFrame:
    """Columns ``cell``, ``message``, ``students`` (how many graded students got that message
    in that cell; a student counts once per message), in notebook order, then most students
    first, then message."""
    graded = set(_graded(table)["student"])
    students: dict[tuple[str, str], set[str]] = {}
    for student, cells in verdicts.items():
        if student not in graded:
            continue
        for cell, verdict in cells.items():
            for outcome in verdict.failures:
                message = (outcome.message or "the check failed").strip()
                students.setdefault((cell, message), set()).add(student)
    order = {cell: index for index, cell in enumerate(_check_maxima(table, verdicts))}
    rows = sorted(((cell, message, len(who)) for (cell, message), who in students.items()),
                  key=lambda row: (order.get(row[0], len(order)), -row[2], row[1]))
    return pd.DataFrame(rows, columns=["cell", "message", "students"])


def slowest_runs(table: pd.DataFrame, seconds: dict[str, float], count: int = SLOWEST,
                 ) -> pd.DataFrame:
    """The ``count`` longest runs: ``student``, ``seconds``, ``status``, slowest first."""
    status = dict(zip(table["student"], table["status"], strict=True)) if len(table) else {}
    rows = [{"student": student, "seconds": float(value), "status": status.get(student, "")}
            for student, value in seconds.items() if value is not None and value == value]
    frame = pd.DataFrame(rows, columns=["student", "seconds", "status"])
    return frame.sort_values(["seconds", "student"], ascending=[False, True]).head(count)


def _graded(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == GRADED] if len(table) else table


def _check_maxima(table: pd.DataFrame, verdicts: dict[str, dict[str, CellVerdict]],
                  ) -> dict[str, float]:
    """Max points of every check, in notebook order (the table's columns, then the others)."""
    maxima = {}
    for cells in verdicts.values():
        for cell, verdict in cells.items():
            maxima.setdefault(cell, float(verdict.max_points))
    order = [column for column in table.columns if column in maxima]
    return {cell: maxima[cell] for cell in order + [c for c in maxima if c not in order]}


def _cell_points(graded: pd.DataFrame, cell: str, verdicts: dict[str, dict[str, CellVerdict]],
                 ) -> pd.Series:
    """The points of ``cell`` per graded student: the table's, else the verdict's; students
    with neither left out."""
    column = graded[cell] if cell in graded.columns else pd.Series(None, index=graded.index)
    points = pd.to_numeric(column, errors="coerce").astype(float)
    for index in points.index[points.isna()]:
        verdict = verdicts.get(graded.at[index, "student"], {}).get(cell)
        points[index] = float(verdict.points) if verdict is not None else float("nan")
    return points.dropna()


# --- the page ---------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; font-size: 16px; line-height: 1.45; color: #222;
       max-width: 900px; margin: 1.5em auto; padding: 0 1em; }}
h1 {{ font-size: 1.6em; margin-bottom: .3em; }}
h2 {{ font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }}
img {{ max-width: 100%; height: auto; display: block; margin: .5em 0; }}
table {{ border-collapse: collapse; margin: .5em 0 1em; font-size: .95em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .55em; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.msg {{ white-space: pre-wrap; overflow-wrap: anywhere; max-width: 36em; }}
.note {{ color: #555; }}
nav a {{ margin-right: 1em; }}
</style></head>
<body>
{body}
</body></html>
"""


def _summary(assignment_id: str, table: pd.DataFrame, graded: pd.DataFrame,
             verdicts: dict) -> str:
    parts = [f"<h1>{_text(assignment_id)}: class report</h1>",
             '<nav><a href="#scores">Scores</a><a href="#checks">Checks</a>'
             '<a href="#failures">Failure messages</a><a href="#leaderboard">Leaderboard</a>'
             '<a href="#submissions">Failed and slowest</a></nav>']
    not_graded = len(table) - len(graded)
    facts = [f"{len(table)} {_plural(len(table), 'student')}: {len(graded)} graded, "
             f"{not_graded} not graded."]
    if len(graded):
        totals = graded["total"].astype(float)
        facts.append(f"Totals of the graded: mean {_num(totals.mean())}, median "
                     f"{_num(totals.median())}, lowest {_num(totals.min())}, highest "
                     f"{_num(totals.max())}, of {_num(float(table['max_total'].max()))} points.")
        pending = int((graded["manual_pending"].fillna(0).astype(int) > 0).sum())
        if pending:
            facts.append(f"{pending} {_plural(pending, 'student')} "
                         f"{'has' if pending == 1 else 'have'} cells waiting for a "
                         "manual grade: their totals do not include those cells yet.")
        judged = len(set(graded["student"]) & set(verdicts))
        if judged < len(graded):
            facts.append(f"Failure messages are known for {judged} of the {len(graded)} graded "
                         "students (the others were not judged in this run).")
    return "\n".join(parts + [f"<p>{' '.join(_text(fact) for fact in facts)}</p>"])


def _scores_section(image: tuple | None, graded: pd.DataFrame) -> str:
    head = '<h2 id="scores">Score distribution</h2>'
    if image is None:
        return head + "\n<p>Nobody was graded: there is no score to show.</p>"
    return head + "\n" + _image(image, f"Histogram of the totals of {len(graded)} graded students")


def _checks_section(image: tuple | None, checks: pd.DataFrame) -> str:
    head = '<h2 id="checks">Pass rate of every check</h2>'
    if not len(checks) or image is None:
        return head + "\n<p>No check was judged.</p>"
    rows = [[row.cell, _num(row.max_points), row.graded, row.full, row.partial, row.zero,
             _percent(row.full_share)] for row in checks.itertuples()]
    return "\n".join([head, '<p class="note">Share of graded students with full, partial and no '
                      "points, per test cell, in notebook order.</p>",
                      _image(image, "Bar chart of the share of graded students with full, "
                                    "partial and no points per check"),
                      _table(["check", "points", "graded", "full", "partial", "zero",
                              "full points"], rows, numeric=range(1, 7))])


def _failures_section(messages: pd.DataFrame) -> str:
    head = '<h2 id="failures">Most common failure messages</h2>'
    if not len(messages):
        return head + "\n<p>No judge failed for any graded student.</p>"
    rows, omitted = [], []
    for cell in dict.fromkeys(messages["cell"]):
        mine = messages[messages["cell"] == cell]
        for row in mine.head(TOP_MESSAGES).itertuples():
            text = row.message if len(row.message) <= MESSAGE_CHARS else \
                row.message[:MESSAGE_CHARS] + " …"
            rows.append([cell, text, row.students])
        if len(mine) > TOP_MESSAGES:
            rest = mine.iloc[TOP_MESSAGES:]
            omitted.append(f"{cell}: {len(rest)} more {_plural(len(rest), 'message')} "
                           f"({int(rest['students'].sum())} in all)")
    note = ('<p class="note">Equal messages are counted together; a student counts once per '
            f"message. Up to {TOP_MESSAGES} messages per check.</p>")
    more = f'<p class="note">Not shown: {_text("; ".join(omitted))}.</p>' if omitted else ""
    return "\n".join([head, note, _table(["check", "message", "students"], rows, numeric=[2],
                                         message=1), more])


def _leaderboard_section(leaderboard: pd.DataFrame | None) -> str:
    head = '<h2 id="leaderboard">Leaderboard</h2>'
    if leaderboard is None:
        return head + "\n<p>This assignment has no leaderboard.</p>"
    scored = leaderboard[leaderboard["rank"].notna()] if len(leaderboard) else leaderboard
    unscored = leaderboard[leaderboard["rank"].isna()] if len(leaderboard) else leaderboard
    scores = [c for c in leaderboard.columns if c.startswith(("public_", "private_"))]
    parts = [head, f"<p>{len(scored)} {_plural(len(scored), 'file')} scored, {len(unscored)} "
                   f"could not be scored. Ranked by the private score.</p>"]
    if len(scored):
        parts.append(_table(["rank", "student", *scores],
                            [[int(row["rank"]), row["student"], *(_num(row[c], 4) for c in scores)]
                             for _, row in scored.head(TOP_LEADERBOARD).iterrows()],
                            numeric=[0, *range(2, 2 + len(scores))]))
        if len(scored) > TOP_LEADERBOARD:
            parts.append(f'<p class="note">The top {TOP_LEADERBOARD} of {len(scored)}: the '
                         "whole leaderboard is the CSV next to this page.</p>")
    if len(unscored):
        problems = unscored.groupby("problem", sort=False)["student"].apply(list)
        rows = [[problem or "(no reason given)", len(who), _names(who)]
                for problem, who in sorted(problems.items(), key=lambda item: -len(item[1]))]
        parts += ["<p>Why files could not be scored:</p>",
                  _table(["problem", "files", "students"], rows, numeric=[1], message=0)]
    return "\n".join(parts)


def _submissions_section(table: pd.DataFrame, seconds: dict[str, float]) -> str:
    head = '<h2 id="submissions">Failed and slowest submissions</h2>'
    failed = table[table["status"] != GRADED] if len(table) else table
    parts = [head]
    if len(failed):
        parts += [f"<p>{len(failed)} {_plural(len(failed), 'student')} not graded:</p>",
                  _table(["student", "reason"],
                         [[row["student"], row["reason"] if pd.notna(row["reason"]) else ""]
                          for _, row in failed.sort_values("student").iterrows()], message=1)]
    else:
        parts.append("<p>Every student was graded.</p>")
    slowest = slowest_runs(table, seconds)
    if len(slowest):
        runs = [float(v) for v in seconds.values() if v is not None and v == v]
        parts += [f"<p>The {len(slowest)} slowest of {len(runs)} runs (median "
                  f"{pd.Series(runs).median():.1f} s, {sum(runs):.0f} s in all):</p>",
                  _table(["student", "seconds", "status"],
                         [[row.student, f"{row.seconds:.1f}", row.status]
                          for row in slowest.itertuples()], numeric=[1])]
    else:
        parts.append("<p>No run time was recorded.</p>")
    return "\n".join(parts)


def _image(image: tuple[Path, tuple[int, int]], alt: str) -> str:
    path, (width, height) = image
    return (f'<img src="{_text(quote(path.name))}" width="{width}" height="{height}" '
            f'alt="{_text(alt)}">')


def _table(headers: list[str], rows: list[list], numeric=(), message: int | None = None) -> str:
    """An HTML table; every cell escaped; ``numeric`` columns right-aligned."""
    numeric = set(numeric)

    def cell(index: int, value) -> str:
        kind = ' class="n"' if index in numeric else ' class="msg"' if index == message else ""
        return f"<td{kind}>{_text(value)}</td>"

    head = "".join(f"<th>{_text(header)}</th>" for header in headers)
    body = "\n".join("<tr>" + "".join(cell(i, value) for i, value in enumerate(row)) + "</tr>"
                     for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def _text(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value, decimals: int = 2) -> str:
    """``21.33``, ``26``, ``0.8871`` (``decimals=4``): rounded, no trailing zeros."""
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):.{decimals}f}".rstrip("0").rstrip(".")


def _percent(share: float) -> str:
    return "" if pd.isna(share) else f"{100 * share:.0f}%"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _names(students: list[str], shown: int = 5) -> str:
    names = ", ".join(sorted(students)[:shown])
    return names + (f" and {len(students) - shown} more" if len(students) > shown else "")

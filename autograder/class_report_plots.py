"""The class report's two plots, as PNG files: the score distribution and the pass rate of every
check (:mod:`autograder.class_report` writes the page that shows them).

Both are drawn for a page about 900 CSS pixels wide: saved at twice the resolution they are shown
at (sharp on high-density screens), text at 10 pt or more (14 px on the page), counts on
whole-number axes and written next to their bars, and a bar drawn at least a few pixels long
whenever its count is not zero (its exact count is written next to it). No pyplot: each figure is
its own object, so plots can be drawn from any thread.
"""

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: width of both plots, and the resolution they are shown at (CSS pixels per inch)
WIDTH_IN, SHOWN_DPI = 8.6, 100
#: Okabe-Ito colours, told apart by colour-blind readers too
FULL, PARTIAL, ZERO, BARS = "#009E73", "#E69F00", "#D55E00", "#0072B2"
#: the smallest share of the axis a non-zero bar is drawn with
MIN_VISIBLE = 0.012
STYLE = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 10,
         "ytick.labelsize": 10, "legend.fontsize": 10, "text.parse_math": False,
         "axes.spines.top": False, "axes.spines.right": False}


def score_histogram(totals: list[float], max_total: float, not_graded: int,
                    path: Path) -> tuple[int, int]:
    """Histogram of the graded students' ``totals`` with the maximum and the median marked;
    ``not_graded`` students are named in the title, not drawn. Returns the size to show it at
    (CSS pixels)."""
    totals = np.asarray(totals, dtype=float)
    top = max([max_total, *totals]) if len(totals) else max_total
    edges = _score_bins(top)
    counts, _ = np.histogram(totals, bins=edges)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_IN, 4.0), layout="constrained")
        axes = figure.add_subplot()
        y_top = max(1, counts.max()) * 1.18
        axes.bar(centres, _visible(counts, y_top), width=width * 0.9, color=BARS, zorder=2)
        for x, count in zip(centres, counts, strict=True):
            if count:
                axes.annotate(str(count), (x, max(count, y_top * MIN_VISIBLE)), ha="center",
                              va="bottom", xytext=(0, 2), textcoords="offset points", fontsize=10,
                              zorder=4, bbox={"boxstyle": "square,pad=0.1", "color": "white"})
        axes.axvline(max_total, color="black", linestyle="--", linewidth=1.5, zorder=1,
                     label=f"maximum: {_number(max_total)} points")
        if len(totals):
            median = float(np.median(totals))
            axes.axvline(median, color="#555555", linestyle=":", linewidth=1.5, zorder=1,
                         label=f"median: {_number(median)} points")
        axes.set_xlim(edges[0] - width * 0.2, edges[-1] + width * 0.2)
        axes.set_ylim(0, y_top)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("total points")
        axes.set_ylabel("students")
        axes.grid(axis="y", color="#dddddd", zorder=0)
        axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2, frameon=False,
                    borderaxespad=0.2)
        axes.set_title(f"Totals of {len(totals)} graded student{'s' * (len(totals) != 1)}"
                       + (f" ({not_graded} not graded, not shown)" if not_graded else ""),
                       loc="left", pad=26)
        return _save(figure, path)


def check_bars(checks: pd.DataFrame, path: Path) -> tuple[int, int]:
    """One bar per check, top to bottom in notebook order, split into the shares of graded
    students with full, partial and zero points; the counts are written after each bar.

    ``checks``: columns ``cell``, ``full``, ``partial``, ``zero`` (students), as
    :func:`autograder.class_report.check_results` gives. Returns the size to show it at."""
    parts = [("full", "full points", FULL), ("partial", "partial", PARTIAL),
             ("zero", "zero", ZERO)]
    counts = checks[[name for name, _, _ in parts]].to_numpy(dtype=float)
    students = counts.sum(axis=1, keepdims=True)
    shares = np.divide(100 * counts, students, out=np.zeros_like(counts), where=students > 0)
    drawn = _visible_shares(shares)
    rows = np.arange(len(checks))
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(WIDTH_IN, 1.5 + 0.34 * len(checks)), layout="constrained")
        axes = figure.add_subplot()
        left = np.zeros(len(checks))
        for column, (_, label, colour) in enumerate(parts):
            axes.barh(rows, drawn[:, column], left=left, height=0.7, color=colour, label=label,
                      zorder=2)
            left += drawn[:, column]
        for row, (full, partial, zero) in enumerate(counts.astype(int)):
            axes.annotate(f"{full} · {partial} · {zero}", (100, row), xytext=(6, 0),
                          textcoords="offset points", va="center", fontsize=10)
        axes.set_yticks(rows, [str(cell) for cell in checks["cell"]])
        axes.set_ylim(len(checks) - 0.5, -0.5)
        axes.set_xlim(0, 100)
        axes.set_xticks(range(0, 101, 20), [f"{x}%" for x in range(0, 101, 20)])
        axes.set_xlabel("share of graded students  (written after each bar: full · partial · "
                        "zero, in students)")
        axes.grid(axis="x", color="#dddddd", zorder=0)
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, frameon=False,
                    borderaxespad=0.2)
        axes.spines["right"].set_visible(False)
        figure.get_layout_engine().set(w_pad=0.1)
        axes.set_title("Points per check", loc="left", pad=26)
        return _save(figure, path)


def _score_bins(top: float) -> np.ndarray:
    """One bar per whole point up to 40 points; beyond, bars of 2, 2.5, 5, 10, ... points (at
    most 30 of them), the last one closed."""
    if top <= 40:
        return np.arange(-0.5, math.ceil(top) + 1, 1.0)
    width = next(step * 10**power for power in range(0, 12) for step in (1, 2, 2.5, 5)
                 if top / (step * 10**power) <= 30)
    return np.arange(0, math.ceil(top / width) * width + width / 2, width)


def _visible(counts: np.ndarray, axis_top: float) -> np.ndarray:
    """Bar heights: a non-zero count is drawn at least ``MIN_VISIBLE`` of the axis high."""
    return np.where(counts > 0, np.maximum(counts, axis_top * MIN_VISIBLE), 0)


def _visible_shares(shares: np.ndarray) -> np.ndarray:
    """Percentages per row with every non-zero one drawn at least 1.2% wide, the row still
    summing to 100."""
    drawn = np.where(shares > 0, np.maximum(shares, 100 * MIN_VISIBLE), 0.0)
    totals = drawn.sum(axis=1, keepdims=True)
    return np.divide(100 * drawn, totals, out=np.zeros_like(drawn), where=totals > 0)


def _number(value: float) -> str:
    return f"{value:g}"


def _save(figure: Figure, path: Path) -> tuple[int, int]:
    figure.savefig(path, dpi=2 * SHOWN_DPI, facecolor="white")
    width, height = figure.get_size_inches()
    return round(width * SHOWN_DPI), round(height * SHOWN_DPI)

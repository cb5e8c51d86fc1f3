"""A local Kaggle-style leaderboard from the graded students' predictions CSVs.

Each file is scored on a public and a private part of the held-out labels (as on Kaggle, the
public score is what students see during the assignment; the private one decides the ranking
at the end; :mod:`autograder.public_private`). Only scored files are ranked; a file that cannot
be scored is listed without a rank, with the reason in the file's terms.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from autograder.heldout.key import HeldoutKey
from autograder.predictions_csv import InvalidPredictions


@dataclass(frozen=True)
class LeaderboardSpec:
    """``score(csv_path, key) -> (public, private)``; raises ``InvalidPredictions`` for a bad
    file. ``key`` unlocks the held-out labels (:mod:`autograder.heldout`)."""

    file_name: str
    metric: str
    score: Callable[[Path, HeldoutKey], tuple[float, float]]
    higher_is_better: bool = True


def build_leaderboard(spec: LeaderboardSpec | None, folders: dict[str, Path],
                      key: HeldoutKey) -> pd.DataFrame | None:
    """Score ``folder/<spec.file_name>`` of each student; ``None`` without a spec.

    Columns: ``rank`` (empty for a file that could not be scored), ``student``,
    ``public_<metric>``, ``private_<metric>``, ``problem``; sorted by the private score (equal
    scores share a rank), unscored files last.
    """
    if spec is None:
        return None
    public_column, private_column = f"public_{spec.metric}", f"private_{spec.metric}"
    rows = []
    for student, folder in folders.items():
        row = {"student": student, public_column: None, private_column: None, "problem": ""}
        try:
            row[public_column], row[private_column] = spec.score(Path(folder) / spec.file_name, key)
        except InvalidPredictions as error:
            row["problem"] = str(error)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["student", public_column, private_column, "problem"])
    private = frame[private_column].astype(float)
    rank = private.rank(method="min", ascending=not spec.higher_is_better, na_option="keep")
    frame.insert(0, "rank", rank.astype("Int64"))
    order = frame.assign(unscored=rank.isna()).sort_values(["unscored", "rank", "student"],
                                                           kind="stable")
    return order.drop(columns="unscored").reset_index(drop=True)

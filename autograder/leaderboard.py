"""A local Kaggle-style leaderboard from the students' predictions CSVs.

Each file is scored on a public and a private part of the held-out labels (as on Kaggle, the
public score is what students see during the assignment; the private one decides the ranking
at the end). A file that cannot be scored is listed with the reason.
"""

from pathlib import Path

import pandas as pd

from autograder.checks.registry import leaderboard_spec
from autograder.predictions_csv import InvalidPredictions


def build_leaderboard(assignment_id: str, folders: dict[str, Path]) -> pd.DataFrame | None:
    """Score ``folder/<file_name>`` for each student; ``None`` for assignments without a CSV.

    Columns: ``rank``, ``student``, ``public_<metric>``, ``private_<metric>``, ``problem``;
    sorted by the private score (equal scores share a rank), files that could not be scored last.
    """
    spec = leaderboard_spec(assignment_id)
    if spec is None:
        return None
    rows = []
    for student, folder in folders.items():
        row = {"student": student, f"public_{spec.metric}": None,
               f"private_{spec.metric}": None, "problem": ""}
        try:
            public, private = spec.score(Path(folder) / spec.file_name)
            row[f"public_{spec.metric}"], row[f"private_{spec.metric}"] = public, private
        except InvalidPredictions as error:
            row["problem"] = str(error)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["student", f"public_{spec.metric}",
                                        f"private_{spec.metric}", "problem"])
    private = frame[f"private_{spec.metric}"].astype(float)
    rank = private.rank(method="min", ascending=not spec.higher_is_better, na_option="bottom")
    frame.insert(0, "rank", rank.astype(int))
    return frame.sort_values(["rank", "student"], kind="stable").reset_index(drop=True)

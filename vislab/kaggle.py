"""Writing Kaggle-style prediction CSVs: one ``Id`` column, then the prediction columns.

The header is fixed per assignment (the notebook says which); the autograder validates the file
(header, ids, row count, duplicates, NaN, range) and scores it on held-out labels.
"""

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from vislab import grading

ID_COLUMN = "Id"


def write_predictions(path: str | Path, ids: Sequence, columns: dict[str, Sequence],
                      ) -> Path:
    """Write ``ids`` and the prediction ``columns`` (same length) to ``path`` as CSV.

    Under nbgrader nothing is written: the handed-in predictions are what gets graded.

    >>> import tempfile, os
    >>> out = write_predictions(os.path.join(tempfile.mkdtemp(), "p.csv"), [0, 1], {"Category": [3, 7]})
    >>> print(out.read_text().strip())
    Id,Category
    0,3
    1,7
    """
    path = Path(path)
    lengths = {name: len(values) for name, values in columns.items()}
    if any(length != len(ids) for length in lengths.values()):
        raise ValueError(f"{len(ids)} ids but columns of lengths {lengths}: give one prediction "
                         "per test image")
    if grading.is_grading():
        print(f"Grading: {path} is not written; the handed-in file is graded.")
        return path
    frame = pd.DataFrame({ID_COLUMN: list(ids), **{k: list(v) for k, v in columns.items()}})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path

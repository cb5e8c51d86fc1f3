"""Reading and validating a student's Kaggle-style predictions CSV.

Every fault gets its own :class:`InvalidPredictions` message that says what is wrong and what to
do, so a student (and the grade table) knows why the file scored nothing. Assignment-specific
checks (a prediction string's grammar, a box inside the image) run on the frame this returns.
"""

import io
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from autograder.sandbox.untrusted_files import read_regular_file
from vislab.kaggle import ID_COLUMN

#: a predictions file larger than this is refused unread
MAX_BYTES = 64 * 2**20


class InvalidPredictions(ValueError):
    """The predictions file cannot be scored; the message says how to fix it."""


def read_predictions(path: str | Path, columns: list[str], ids: Iterable,
                     value_range: tuple[float, float] | None = None,
                     allowed_values: Iterable | None = None) -> pd.DataFrame:
    """Read ``path`` and check it against the expected header, ids and values.

    ``columns`` are the prediction columns after ``Id``; ``ids`` the expected test ids (each
    exactly once). ``value_range`` bounds numeric columns (inclusive); ``allowed_values`` lists
    the only values allowed (class labels). Returns the frame sorted like ``ids``.
    """
    path = Path(path)
    if not os.path.lexists(path):
        raise InvalidPredictions(f"{path.name} was not handed in: run the notebook so that it "
                                 "writes the file, and hand it in next to the notebook")
    data = read_regular_file(path, MAX_BYTES)  # a handed-in file: never follow its links
    if data is None:
        raise InvalidPredictions(f"{path.name} is not a plain file (a link, a pipe?) or is larger "
                                 f"than {MAX_BYTES // 2**20} MB: hand in the CSV itself")
    _check_text(path.name, data)
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={ID_COLUMN: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InvalidPredictions(f"{path.name} is not a readable CSV file ({error}); write it with "
                                 "vislab.kaggle.write_predictions") from None
    expected_header = [ID_COLUMN, *columns]
    if list(frame.columns) != expected_header:
        raise InvalidPredictions(f"{path.name} has the header {list(frame.columns)}, expected "
                                 f"{expected_header} (in that order)")
    expected_ids = [str(i) for i in ids]
    _check_ids(frame[ID_COLUMN], expected_ids, path.name)
    values = frame[columns]
    if values.isna().any().any():
        rows = frame.loc[values.isna().any(axis=1), ID_COLUMN].head(5).tolist()
        raise InvalidPredictions(f"{path.name} has empty or NaN predictions (ids {rows}...): "
                                 "predict a value for every test image")
    _check_finite(frame, columns, path.name)
    if value_range is not None:
        _check_range(frame, columns, value_range, path.name)
    if allowed_values is not None:
        allowed = {str(v) for v in allowed_values}
        bad = ~values.map(_as_label).isin(allowed).all(axis=1)
        if bad.any():
            rows = frame.loc[bad, ID_COLUMN].head(5).tolist()
            raise InvalidPredictions(f"{path.name} has predictions outside {sorted(allowed)} "
                                     f"(ids {rows}...)")
    return frame.set_index(ID_COLUMN).loc[expected_ids].reset_index()


def _check_text(name: str, data: bytes) -> None:
    """Faults of the file as text, named in its own terms before pandas reads it."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise InvalidPredictions(f"{name} starts with a byte-order mark (BOM, bytes EF BB BF): "
                                 "save it as plain UTF-8 (vislab.kaggle.write_predictions does)")
    first_line = data[:4096].split(b"\n", 1)[0]
    if b";" in first_line and b"," not in first_line:
        raise InvalidPredictions(f"{name} separates its columns with ';': use ',' (as "
                                 "vislab.kaggle.write_predictions does)")


def _check_ids(found: pd.Series, expected: list[str], name: str) -> None:
    floats = found[found.str.fullmatch(r"-?\d+\.0+", na=False)]
    if len(floats) and not set(floats) & set(expected):
        raise InvalidPredictions(f"{name} writes its ids as decimals ({floats.iloc[0]!r}): write "
                                 "them as whole numbers, e.g. 1 instead of 1.0")
    duplicated = found[found.duplicated()].unique().tolist()
    if duplicated:
        raise InvalidPredictions(f"{name} lists some ids more than once ({duplicated[:5]}): "
                                 "write one row per test image")
    missing = sorted(set(expected) - set(found))
    if missing:
        raise InvalidPredictions(f"{name} has no row for {len(missing)} test ids (e.g. "
                                 f"{missing[:5]}): predict every test image")
    unknown = sorted(set(found) - set(expected))
    if unknown:
        raise InvalidPredictions(f"{name} has {len(unknown)} ids that are not test images (e.g. "
                                 f"{unknown[:5]}): use the ids the test loader gives")


def _check_finite(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    numbers = frame[columns].apply(pd.to_numeric, errors="coerce")
    infinite = np.isinf(numbers.to_numpy(dtype=float)).any(axis=1)
    if np.any(infinite):
        rows = frame.loc[infinite, ID_COLUMN].head(5).tolist()
        raise InvalidPredictions(f"{name} has infinite values (inf) at ids {rows}...: write finite "
                                 "predictions")


def _as_label(value) -> str:
    """``6``, ``6.0`` and ``"6"`` are all the label ``"6"``; anything else stays as written."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_range(frame: pd.DataFrame, columns: list[str], value_range: tuple[float, float],
                 name: str) -> None:
    low, high = value_range
    try:
        values = frame[columns].to_numpy(dtype=float)
    except ValueError:
        raise InvalidPredictions(f"{name} has predictions that are not numbers") from None
    bad = ((values < low) | (values > high)).any(axis=1)
    if np.any(bad):
        rows = frame.loc[bad, ID_COLUMN].head(5).tolist()
        raise InvalidPredictions(f"{name} has values outside [{low}, {high}] (ids {rows}...): "
                                 "write probabilities (apply the sigmoid/softmax), not logits")

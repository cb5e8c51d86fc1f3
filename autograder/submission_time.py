"""When a submission was handed in, as nbgrader keeps it: ``timestamp.txt`` in the grading side's
copy (``submitted/<student>/<assignment>/``) and the same time on the gradebook's submission.
Formgrader counts a submission as autograded only when the two are equal.

A handed-in ``timestamp.txt`` (nbgrader's exchange writes one when a student submits) is kept when
it parses; otherwise the time is the newest modification time of the handed-in files, so that
grading the same files again writes the same file (and the same content hash).
"""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.utils import parse_utc

TIMESTAMP_FILE = "timestamp.txt"


def stamp_submission(staged: Path) -> datetime:
    """Write ``staged / timestamp.txt`` (see the module) and return its time (naive UTC)."""
    path = staged / TIMESTAMP_FILE
    try:
        return read_submission_time(staged)
    except (OSError, ValueError, OverflowError):
        pass
    newest = max((os.lstat(Path(folder, name)).st_mtime
                  for folder, _, names in os.walk(staged) for name in names
                  if name != TIMESTAMP_FILE), default=0.0)
    instant = datetime.fromtimestamp(newest, UTC)
    if path.is_dir():  # the staged copy holds no links (grade._stage_submission)
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    path.write_text(instant.isoformat(" "))
    return parse_utc(instant)


def read_submission_time(staged: Path) -> datetime:
    """The time in ``staged / timestamp.txt`` (naive UTC), read as formgrader reads it; raises
    OSError when it is missing and ValueError or OverflowError when it does not parse."""
    with open(staged / TIMESTAMP_FILE, encoding="utf-8") as file:
        return parse_utc(file.read(200).strip())

"""Knowing whether a notebook runs under nbgrader.

nbgrader sets ``NBGRADER_EXECUTION`` in the kernel: ``"autograde"`` when an instructor grades,
``"validate"`` when a student presses Validate. Training is separated from grading:

- autograde: never train; load what the student saved (histories, checkpoints, CSVs);
- validate: load what is saved, otherwise train for a token budget so the code path runs;
- neither: the student's own run, full training.
"""

import os

AUTOGRADE = "autograde"
VALIDATE = "validate"

#: batches per epoch and epochs used when validating without saved results
VALIDATE_BATCHES = 5
VALIDATE_EPOCHS = 1


def execution_mode() -> str | None:
    """``"autograde"``, ``"validate"`` or ``None`` for a student's own run."""
    return os.environ.get("NBGRADER_EXECUTION") or None


def is_autograding() -> bool:
    return execution_mode() == AUTOGRADE


def is_validating() -> bool:
    return execution_mode() == VALIDATE


def is_grading() -> bool:
    """True under nbgrader (autograde or validate): training is skipped or shortened."""
    return execution_mode() is not None


class MissingArtefact(FileNotFoundError):
    """A file the graded notebook needs was not handed in with it."""

    def __init__(self, path, what: str):
        super().__init__(
            f"{path} is missing. It holds {what}. Run the notebook yourself (not under nbgrader) "
            f"so that it writes {path}, and hand it in next to the notebook."
        )

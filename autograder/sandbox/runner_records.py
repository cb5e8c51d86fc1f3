"""Reading what the runner recorded, as untrusted data (the kernel can write there too).

Files are opened without following links, only when they are regular files under a size
cap, and parsed as JSON / nbformat, never unpickled. From the executed notebook only each code
cell's ``outputs`` and ``execution_count`` (and the widget state) are taken, and only when its
cells line up with the job's own notebook, so sources and metadata always come from the host.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.sandbox.untrusted_files import read_regular_file

STATUSES = ("starting", "running", "finished", "kernel_died", "cell_stuck", "notebook_timeout",
            "failed")
PROGRESS_MAX_BYTES = 65_536
MESSAGE_MAX_CHARS = 300


@dataclass(frozen=True)
class Progress:
    """progress.json (format in ``autograder.sandbox.runner``), checked."""

    status: str
    cell: int | None
    exit_code: int | None
    message: str | None


def _optional_int(value) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"not an int: {value!r}")


def read_progress(state: Path, cell_count: int) -> Progress | None:
    """The runner's last progress record, or None if it is missing or malformed."""
    data = read_regular_file(state / "progress.json", PROGRESS_MAX_BYTES)
    if data is None:
        return None
    try:
        record = json.loads(data)
        progress = Progress(status=record["status"], cell=_optional_int(record["cell"]),
                            exit_code=_optional_int(record["exit_code"]),
                            message=record["message"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if progress.status not in STATUSES or record.get("cell_count") != cell_count:
        return None
    if progress.cell is not None and not 0 <= progress.cell < cell_count:
        return None
    if progress.message is not None and not isinstance(progress.message, str):
        return None
    if progress.message is not None:
        progress = Progress(progress.status, progress.cell, progress.exit_code,
                            progress.message[:MESSAGE_MAX_CHARS])
    return progress


def cleared(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose code cells have no outputs and no execution counts (the outputs
    are left out before copying: they are most of a notebook's bytes). ``from_dict`` makes new
    dicts and lists all the way down; the strings it shares cannot change."""
    cells = [{**cell, "outputs": [], "execution_count": None} if cell.cell_type == "code"
             else cell for cell in nb.cells]
    return nbformat.from_dict({**nb, "cells": cells})


def merge_executed(original: nbformat.NotebookNode, state: Path,
                   max_bytes: int) -> nbformat.NotebookNode | None:
    """``original`` (cleared) with the outputs from ``state/executed.ipynb``.

    None when that file is missing, larger than ``max_bytes``, not a valid notebook, or its
    cells do not match ``original``'s in number, kind and source.
    """
    data = read_regular_file(state / "executed.ipynb", max_bytes)
    if data is None:
        return None
    merged = cleared(original)
    try:
        executed = nbformat.reads(data.decode(), as_version=4)
        if len(executed.cells) != len(merged.cells):
            return None
        for mine, theirs in zip(merged.cells, executed.cells, strict=True):
            if mine.cell_type != theirs.cell_type or mine.source != theirs.source:
                return None
            if mine.cell_type == "code":
                mine.outputs = theirs.outputs
                mine.execution_count = theirs.execution_count
        if "widgets" in executed.metadata:
            merged.metadata["widgets"] = executed.metadata["widgets"]
        nbformat.validate(merged)
    except (ValueError, KeyError, AttributeError, TypeError, RecursionError,
            nbformat.ValidationError):  # what nbformat raises on malformed input
        return None
    return merged

"""The content a student's grades come from, as one SHA-256: what lets ``grade`` resume.

``submission_hash(assignment_fingerprint(kit, settings), files)`` covers:

- the handed-in files (``{relative path: bytes}``, the grading side's copy in ``submitted/``);
- the assignment's source notebook and every file of its checks package (evidence, judges,
  references; ``__pycache__`` left out);
- the kit's version (``vislab.__version__``);
- the grading settings that can change a grade: the limits but the CPU share (the cell and
  notebook timeouts, memory, processes, output and file caps), the isolation, and whether the
  public demo key was used.

Each part is framed by its name and length, so no two different contents give the same bytes.
"""

import hashlib
import json

import vislab
from autograder.assignment_kit import AssignmentKit
from autograder.engine.file_trees import read_tree

#: a checks package's files are the instructor's: any size is read
_NO_CAP = 1 << 40


def _frame(digest, name: str, data: bytes) -> None:
    label = name.encode("utf-8")
    digest.update(len(label).to_bytes(8, "big") + label + len(data).to_bytes(8, "big"))
    digest.update(data)


def assignment_fingerprint(kit: AssignmentKit, settings: dict) -> str:
    """SHA-256 hex of everything but the submission: kit version, source notebook, checks
    package, ``settings`` (a JSON-able dict)."""
    digest = hashlib.sha256()
    _frame(digest, "kit version", vislab.__version__.encode())
    _frame(digest, "assignment", kit.assignment_id.encode())
    _frame(digest, "source notebook", (kit.source_dir / f"{kit.notebook_name}.ipynb").read_bytes())
    checks, _ = read_tree(kit.checks_dir, _NO_CAP, skip_folders=("__pycache__",))
    for name, data in checks.items():
        if not name.endswith(".pyc"):
            _frame(digest, f"checks/{name}", data)
    _frame(digest, "settings", json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def submission_hash(fingerprint: str, files: dict[str, bytes]) -> str:
    """SHA-256 hex of one submission's handed-in ``files`` under ``fingerprint``.

    >>> a = submission_hash("f", {"a.csv": b"1", "runs/b.json": b"{}"})
    >>> a == submission_hash("f", {"runs/b.json": b"{}", "a.csv": b"1"})
    True
    >>> a == submission_hash("f", {"a.csv": b"1", "runs/b.json": b"{ }"})
    False
    >>> a == submission_hash("g", {"a.csv": b"1", "runs/b.json": b"{}"})
    False
    """
    digest = hashlib.sha256()
    _frame(digest, "assignment fingerprint", fingerprint.encode())
    for name in sorted(files):
        _frame(digest, f"handed in/{name}", files[name])
    return digest.hexdigest()

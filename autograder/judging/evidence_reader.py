"""Reading the evidence a sandbox wrote: untrusted files, read as data only.

The format is written by :mod:`autograder.evidence` (one ``<name>.json`` per check, its arrays in
``<name>.npz``). Here it is read with ``json`` and ``numpy.load(allow_pickle=False)`` only; a
record that is too large, not valid JSON, or refers to an array that is missing is left out with
a reason in words, so a forged or broken record can cost its own check and nothing else.
"""

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_JSON_BYTES = 8 * 2**20
MAX_NPZ_BYTES = 256 * 2**20
MAX_RECORDS = 200


@dataclass
class Evidence:
    """Every record of one submission: ``records[name]`` is a dict of decoded values (arrays as
    numpy arrays); ``problems`` says in words which records could not be read and why."""

    records: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_evidence(folder: Path) -> Evidence:
    """Read every record in ``folder`` (missing folder: no records)."""
    evidence = Evidence()
    folder = Path(folder)
    if not folder.is_dir():
        return evidence
    paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    if len(paths) > MAX_RECORDS:
        evidence.problems.append(f"{len(paths)} evidence records, more than {MAX_RECORDS}: "
                                 f"only the first {MAX_RECORDS} were read")
    for path in paths[:MAX_RECORDS]:
        try:
            evidence.records[path.stem] = _read_record(path)
        except RecordError as error:
            evidence.problems.append(f"evidence {path.stem!r} was not read: {error}")
    return evidence


class RecordError(ValueError):
    """A record that cannot be read as data; the message says why."""


def _read_record(path: Path) -> dict:
    if path.is_symlink() or not path.is_file():
        raise RecordError("not a plain file")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise RecordError(f"larger than {MAX_JSON_BYTES // 2**20} MiB")
    try:
        document = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordError(f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise RecordError("not a JSON object")
    arrays = _read_arrays(path.with_suffix(".npz"))
    return {key: _decode(value, arrays) for key, value in document.items()}


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    if path.is_symlink() or not path.is_file():
        raise RecordError("its .npz is not a plain file")
    if path.stat().st_size > MAX_NPZ_BYTES:
        raise RecordError(f"its arrays are larger than {MAX_NPZ_BYTES // 2**20} MiB")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise RecordError(f"its .npz cannot be read without pickle ({error})") from None


def _decode(value, arrays: dict[str, np.ndarray]):
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"$array"}:
        if value["$array"] not in arrays:
            raise RecordError(f"array {value['$array']!r} is missing from its .npz")
        return arrays[value["$array"]]
    if set(value) == {"$float"}:
        return float(value["$float"]) if value["$float"] in ("nan", "inf", "-inf") else value
    return {key: _decode(item, arrays) for key, item in value.items()}

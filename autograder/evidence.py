"""Evidence: what a hidden test cell collects in the student's kernel for the judges outside.

A hidden test cell calls a function of ``autograder.checks.<id>.evidence``. That function runs
the student's code on hidden inputs and calls :func:`record` with what came out. Nothing here
decides points or sees a reference: the grading process reads the records (never with pickle),
judges them with the hidden pytest checks of ``autograder.checks.<id>.judges``, and writes the
gradebook. A student who forges a record only states outputs their code could have produced.

This module runs inside the sandbox, next to the student's code, and imports nothing else of
``autograder``. One record per check, written as soon as it is collected, into
``$SANDBOX_OUTPUT/evidence/``:

- ``<name>.json``: the values (numbers, strings, booleans, ``None``, lists, dicts with string
  keys); an array in them is replaced by ``{"$array": "<key>"}``, anything else by
  ``{"$object": "<type name>", "repr": "..."}``;
- ``<name>.npz``: the arrays (numpy arrays and torch tensors, as numpy), ``allow_pickle`` never
  needed.
"""

import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from vislab.files import atomic_write

OUTPUT_VARIABLE = "SANDBOX_OUTPUT"
FOLDER = "evidence"
#: records that do not fit are cut by the sandbox's file-size cap and refused by the reader
MAX_ARRAY_BYTES = 64 * 2**20


def evidence_dir() -> Path:
    """``$SANDBOX_OUTPUT/evidence`` while grading; a scratch folder elsewhere."""
    root = os.environ.get(OUTPUT_VARIABLE) or os.path.join(tempfile.gettempdir(), "vislab-output")
    folder = Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def record(name: str, **values) -> None:
    """Write the evidence ``values`` of check ``name`` (replacing an earlier record of it)."""
    arrays: dict[str, np.ndarray] = {}
    document = {key: _encode(value, arrays) for key, value in values.items()}
    folder = evidence_dir()
    if arrays:
        atomic_write(folder / f"{name}.npz", lambda handle: np.savez_compressed(handle, **arrays))
    else:
        (folder / f"{name}.npz").unlink(missing_ok=True)
    text = json.dumps(document, allow_nan=True)
    atomic_write(folder / f"{name}.json", lambda handle: handle.write(text.encode()))


def outcome(function, *args, **kwargs) -> dict:
    """Call the student's ``function``: ``{"value": result}`` or ``{"error": "Type: message"}``.

    A crash on one hidden input is evidence too: the judge says which input and what was raised.
    """
    try:
        return {"value": function(*args, **kwargs)}
    except Exception as error:  # noqa: BLE001 (student code may raise anything)
        return {"error": describe_error(error)}


def describe_error(error: BaseException) -> str:
    """``"TypeError: the first line of its message"`` (at most 300 characters of message)."""
    lines = str(error).strip().splitlines()
    first = lines[0][:300] if lines else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def parameter_facts(model) -> list[list]:
    """``[name, shape, requires_grad]`` of every parameter of a torch module, in order."""
    return [[name, list(parameter.shape), bool(parameter.requires_grad)]
            for name, parameter in model.named_parameters()]


def _encode(value, arrays: dict):
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": str(value)}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays)
    array = _as_array(value)
    if array is not None:
        if array.dtype == object or array.nbytes > MAX_ARRAY_BYTES:
            return {"$object": type(value).__name__, "repr": f"array {array.shape} {array.dtype}"}
        key = f"a{len(arrays)}"
        arrays[key] = array
        return {"$array": key}
    if isinstance(value, list | tuple):
        return [_encode(item, arrays) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _encode(item, arrays) for key, item in value.items()}
    return {"$object": type(value).__name__, "repr": repr(value)[:200]}


def _as_array(value) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    torch = sys.modules.get("torch")  # a notebook without torch never pays for importing it
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().float().numpy() if value.is_floating_point() \
            else value.detach().cpu().numpy()
    return None

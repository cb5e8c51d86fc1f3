"""The list of every dataset and checkpoint the kit knows, for ``datasets.py``.

Any module of ``vislab`` (the core's readers, ``vislab.pretrained``, an assignment's subpackage)
declares what it provides as ``DATASETS = [DatasetSpec(...), ...]``; :func:`all_specs` finds them
by walking the package, so adding a dataset or an assignment never means editing a central list.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import vislab


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset or checkpoint that ``datasets.py`` can prepare and verify.

    ``prepare(source)`` builds an embedded dataset (``source`` is ignored), or reads a real
    dataset from the directory ``source`` (``None``: download through torchvision when a network
    is there, otherwise fail with a message saying where to get it). ``verify()`` returns a
    one-line summary or raises with what is wrong and how to fix it. ``is_ready()`` is cheap.
    """

    name: str
    kind: str  # "embedded", "real" or "checkpoint"
    description: str
    prepare: Callable[[Path | None], None]
    verify: Callable[[], str]
    is_ready: Callable[[], bool]


def all_specs() -> dict[str, DatasetSpec]:
    """Every registered spec by name, in a stable order."""
    modules = [m.name for m in pkgutil.walk_packages(vislab.__path__, "vislab.") if not m.ispkg]
    specs = {}
    for module_name in sorted(modules):
        module = importlib.import_module(module_name)
        for spec in getattr(module, "DATASETS", []):
            if spec.name in specs:
                raise ValueError(f"dataset {spec.name!r} is declared twice ({module_name})")
            specs[spec.name] = spec
    return specs


def get_spec(name: str) -> DatasetSpec:
    specs = all_specs()
    if name not in specs:
        raise KeyError(f"unknown dataset {name!r}; `python datasets.py list` shows the known ones: "
                       + ", ".join(specs))
    return specs[name]

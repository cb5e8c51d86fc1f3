"""The held-out labels on the grading side, sealed with the instructor's key.

``$VISLAB_HELDOUT_DIR`` (default ``<repo>/grading/heldout``, ignored by git) holds one folder per
key (its public fingerprint) and dataset: ``labels.pt`` (a dict of tensors, read with
``weights_only``) and ``seal.txt``, an HMAC of the tensors' hash made with the key. No sandbox
mounts this folder. Before it trusts the labels, the grading side checks the seal: labels
rewritten by anyone without the key, even with a recomputed plain hash, are refused with a
message, and grading stops.
"""

import os
from pathlib import Path

import torch

from autograder.heldout.key import HeldoutKey
from vislab.data.tensor_cache import tensors_sha256
from vislab.files import atomic_write
from vislab.paths import REPO_ROOT

DIR_VARIABLE = "VISLAB_HELDOUT_DIR"
LABELS_FILE = "labels.pt"
SEAL_FILE = "seal.txt"


class TamperedLabels(RuntimeError):
    """Held-out labels whose seal does not match: grading must not go on."""


def heldout_root() -> Path:
    return Path(os.environ.get(DIR_VARIABLE) or REPO_ROOT / "grading" / "heldout").expanduser()


def _folder(name: str, key: HeldoutKey) -> Path:
    return heldout_root() / key.fingerprint / name


def has_labels(name: str, key: HeldoutKey) -> bool:
    folder = _folder(name, key)
    return (folder / LABELS_FILE).exists() and (folder / SEAL_FILE).exists()


def save_labels(name: str, tensors: dict[str, torch.Tensor], key: HeldoutKey) -> None:
    """Store the held-out ``tensors`` of dataset ``name`` with their seal."""
    folder = _folder(name, key)
    folder.mkdir(parents=True, exist_ok=True)
    seal = key.seal(f"{name}:{tensors_sha256(tensors)}".encode())
    atomic_write(folder / LABELS_FILE, lambda handle: torch.save(tensors, handle))
    atomic_write(folder / SEAL_FILE, lambda handle: handle.write((seal + "\n").encode()))


def load_labels(name: str, key: HeldoutKey) -> dict[str, torch.Tensor]:
    """The held-out tensors of ``name``, after checking their seal with ``key``."""
    folder = _folder(name, key)
    if not has_labels(name, key):
        raise FileNotFoundError(f"no held-out labels of {name!r} in {folder}: run `python "
                                f"datasets.py prepare {name}` on the grading machine")
    tensors = torch.load(folder / LABELS_FILE, weights_only=True)
    expected = key.seal(f"{name}:{tensors_sha256(tensors)}".encode())
    if (folder / SEAL_FILE).read_text().strip() != expected:
        raise TamperedLabels(
            f"the held-out labels of {name!r} in {folder} do not match their seal: they were "
            f"changed after they were made, or made with another key than {key.describe()}. "
            f"Grading stopped. Delete {folder} and run `python datasets.py prepare {name}` again.")
    return tensors

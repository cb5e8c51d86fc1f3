"""The instructor's key and the sealed held-out labels of the grading side."""

import os
import stat

import pytest
import torch

from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY, HeldoutKey, MissingKey, load_key, make_key
from vislab.data import tensor_cache


@pytest.fixture
def heldout_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    return tmp_path / "heldout"


def test_a_made_key_is_private_and_never_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HELDOUT_KEY_FILE", str(tmp_path / "k" / "heldout.key"))
    path = make_key()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = load_key()
    assert not key.demo and key.seed("x") != DEMO_KEY.seed("x")
    with pytest.raises(FileExistsError, match="keep it"):
        make_key()


def test_grading_without_a_key_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("VISLAB_HELDOUT_KEY_FILE", str(tmp_path / "none.key"))
    with pytest.raises(MissingKey, match="python datasets.py secret"):
        load_key()


def test_sealed_labels_read_back_with_their_key(heldout_dir):
    labels = {"test_y": torch.arange(10)}
    store.save_labels("digits", labels, DEMO_KEY)
    assert torch.equal(store.load_labels("digits", DEMO_KEY)["test_y"], labels["test_y"])
    other = HeldoutKey(b"another instructor's key of 32 characters or more")
    assert not store.has_labels("digits", other), "each key has labels of its own"


def test_labels_rewritten_with_a_fresh_plain_hash_are_refused(heldout_dir):
    store.save_labels("digits", {"test_y": torch.arange(10)}, DEMO_KEY)
    folder = heldout_dir / DEMO_KEY.fingerprint / "digits"
    forged = {"test_y": torch.zeros(10, dtype=torch.int64)}
    torch.save(forged, folder / store.LABELS_FILE)  # what a cheat with write access would do
    (folder / "tensors.sha256").write_text(tensor_cache.tensors_sha256(forged))
    with pytest.raises(store.TamperedLabels, match="do not match their seal"):
        store.load_labels("digits", DEMO_KEY)

"""a3's data: the embedded textured digits, the real CIFAR-10 loader on files in its own format,
the photograph of Task 4c."""

import pickle

import numpy as np
import pytest
import skimage.data
import torch

from autograder.checks.a3_cifar import heldout
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY, HeldoutKey
from vislab.a3_cifar import textured_digits
from vislab.a3_cifar.data import load_a3_data
from vislab.data import cifar10, tensor_cache
from vislab.data.photo_sources import skimage_photo
from vislab.data.test_inputs import load_test_inputs
from vislab.seeds import seeded_generator

REAL_KEY = HeldoutKey(b"an instructor's key of at least thirty-two characters")


def test_textured_digits_are_deterministic_and_well_formed():
    first = textured_digits.build(num_train=60)
    second = textured_digits.build(num_train=60)
    assert tensor_cache.tensors_sha256(first) == tensor_cache.tensors_sha256(second)
    assert set(first) == {"train_X", "train_y"}, "the student side builds no test labels"
    assert first["train_X"].shape == (60, 3, 32, 32) and first["train_X"].dtype == torch.uint8
    assert set(first["train_y"].tolist()) <= set(range(10))
    assert first["train_X"].float().std() > 20, "images are not blank"


@pytest.fixture
def grading_side(tmp_cache, tmp_path, monkeypatch):
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    monkeypatch.setattr(textured_digits, "NUM_TRAIN", 50)
    monkeypatch.setattr(textured_digits, "NUM_TEST", 30)


def test_the_demo_key_draws_the_published_test_split_after_the_training_images(grading_side):
    heldout.prepare_textured_digits(DEMO_KEY)
    generator = seeded_generator(textured_digits.SEED)  # the kit's published order of draws
    textured_digits.draw_images(textured_digits.writer_pool("train"), 50, generator)
    X, y = textured_digits.draw_images(textured_digits.writer_pool("test"), 30, generator)
    assert torch.equal(load_test_inputs(textured_digits.NAME)["test_X"], X)
    assert torch.equal(store.load_labels(textured_digits.NAME, DEMO_KEY)["test_y"], y)


def test_a_real_key_draws_another_test_split_with_its_own_sealed_labels(grading_side):
    heldout.prepare_textured_digits(DEMO_KEY)
    demo_X = load_test_inputs(textured_digits.NAME)["test_X"]
    heldout.prepare_textured_digits(REAL_KEY)
    real_X = load_test_inputs(textured_digits.NAME)["test_X"]
    assert not torch.equal(real_X, demo_X)
    assert store.has_labels(textured_digits.NAME, REAL_KEY)
    assert not torch.equal(store.load_labels(textured_digits.NAME, REAL_KEY)["test_y"],
                           store.load_labels(textured_digits.NAME, DEMO_KEY)["test_y"])


def _write_cifar_batch(path, X, y):
    data = X.reshape(len(X), -1).numpy()  # each row: 1024 red, 1024 green, 1024 blue bytes
    with open(path, "wb") as handle:
        pickle.dump({b"data": data, b"labels": y.tolist(), b"batch_label": b"x",
                     b"filenames": [b"f"] * len(y)}, handle)


@pytest.fixture
def tiny_cifar(tmp_path):
    """A CIFAR-10 'python version' folder: 5 training batches of 4 images, a test batch of 3."""
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    generator = seeded_generator(0)
    batches = {}
    for name in cifar10.TRAIN_BATCHES + [cifar10.TEST_BATCH]:
        count = 3 if name == cifar10.TEST_BATCH else 4
        X = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)
        if name == "data_batch_1":  # a pure red image: CIFAR stores the red plane first
            X[0] = 0
            X[0, 0] = 255
        y = torch.randint(0, 10, (count,), generator=generator)
        _write_cifar_batch(root / name, X, y)
        batches[name] = (X, y)
    with open(root / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)]}, handle)
    return tmp_path, batches


def test_cifar10_is_read_plane_by_plane_and_test_labels_held_out(tiny_cifar, grading_side,
                                                                monkeypatch):
    source, batches = tiny_cifar
    cifar10.prepare(source)  # the parent folder of cifar-10-batches-py
    heldout.prepare_cifar10(DEMO_KEY, source)
    monkeypatch.setenv("VISLAB_A3_DATASET", "cifar10")
    data = load_a3_data(val_fraction=0.25)
    assert data.class_names[3] == "class3"
    assert len(data.train_X) + len(data.val_X) == 20
    test_X, test_y = batches[cifar10.TEST_BATCH]
    assert torch.equal(data.test_X, test_X)
    assert torch.equal(store.load_labels("cifar10", DEMO_KEY)["test_y"], test_y)
    assert not hasattr(data, "test_y")
    first_X, first_y = batches["data_batch_1"]
    images = torch.cat([data.train_X, data.val_X])
    labels = torch.cat([data.train_y, data.val_y])
    seen = {bytes(x.numpy()): int(y) for x, y in zip(images, labels, strict=True)}
    assert seen[bytes(first_X[0].numpy())] == int(first_y[0])
    red = cifar10.read_batch(source / "cifar-10-batches-py" / "data_batch_1")[0][0]
    assert red[0].min() == 255 and red[1:].max() == 0


def test_cifar10_problems_say_what_to_do(tmp_path, tmp_cache):
    with pytest.raises(FileNotFoundError, match="python version of CIFAR-10"):
        cifar10.prepare(tmp_path)
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="extract the archive again"):
        cifar10.read_batch(tmp_path / "test_batch")


def test_an_unprepared_real_dataset_says_how_to_prepare_it(tmp_cache, monkeypatch):
    monkeypatch.setenv("VISLAB_A3_DATASET", "cifar10")
    with pytest.raises(FileNotFoundError, match="datasets.py prepare cifar10"):
        load_a3_data()


def test_an_unknown_dataset_name_lists_the_known_ones(monkeypatch):
    monkeypatch.setenv("VISLAB_A3_DATASET", "imagenet")
    with pytest.raises(ValueError, match="textured-digits"):
        load_a3_data()


def test_a_corrupted_cache_is_detected(tmp_cache):
    tensor_cache.save_tensors("toy", {"X": torch.arange(4)})
    folder = tmp_cache / "datasets" / "toy"
    torch.save({"X": torch.arange(5)}, folder / tensor_cache.DATA_FILE)
    with pytest.raises(RuntimeError, match="corrupt"):
        tensor_cache.load_tensors("toy")


@pytest.mark.parametrize("name", ["chelsea", "astronaut", "coffee"])
def test_a_photo_read_from_its_file_is_what_skimage_data_gives(name):
    photo = skimage_photo(name)
    assert photo.dtype == np.uint8 and photo.shape[2] == 3
    assert photo.flags.writeable, "torch.from_numpy warns about a read-only array"
    np.testing.assert_array_equal(photo, getattr(skimage.data, name)())

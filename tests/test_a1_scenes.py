"""The embedded scenes of a1: deterministic, co-occurring labels, NIR-only labels; the test split
drawn on the grading side (the demo key's is the published one, a real key's cannot be rebuilt)."""

import numpy as np
import pytest
import torch

from autograder.checks.a1_multilabel import heldout, prepare_grading
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY, HeldoutKey
from vislab.a1_multilabel import browser, runs
from vislab.a1_multilabel import data as multilabel
from vislab.a1_multilabel import scenes as multilabel_scenes
from vislab.data.test_inputs import has_test_inputs, inputs_fingerprint, load_test_inputs

CLASSES = multilabel_scenes.CLASSES


def scenes(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    pairs = [multilabel_scenes.make_scene(rng) for _ in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def test_a_scene_is_four_bands_and_twenty_labels():
    images, labels = scenes(20)
    assert images.shape == (20, 4, 64, 64) and images.dtype == np.uint8
    assert labels.shape == (20, 20) and set(np.unique(labels)) <= {0, 1}
    objects = [CLASSES.index(name) for name in multilabel_scenes.OBJECTS]
    assert (labels[:, objects].sum(1) >= 1).all(), "every scene holds an object"
    assert len(CLASSES) == len(set(CLASSES)) == 20


def test_scenes_are_deterministic():
    first, second = scenes(6, seed=3), scenes(6, seed=3)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert not np.array_equal(first[0], scenes(6, seed=4)[0])


def test_nir_only_labels_change_the_nir_band_only():
    rng = np.random.default_rng(0)
    canvas = rng.uniform(0, 0.5, (64, 64, 4)).astype(np.float32)
    for name in multilabel_scenes.NIR_ONLY:
        drawn = canvas.copy()
        multilabel_scenes._add_nir_only(np.random.default_rng(1), drawn, name)
        assert np.array_equal(drawn[:, :, :3], canvas[:, :, :3]), name
        assert np.abs(drawn[:, :, 3] - canvas[:, :, 3]).max() > 0.2, name


def test_labels_co_occur_like_scenes():
    _, labels = scenes(300)
    column = {name: labels[:, CLASSES.index(name)].astype(bool) for name in CLASSES}

    def given(a, b):  # P(a | b)
        return column[a][column[b]].mean()

    for label, condition in [("horse", "grass"), ("starfield", "moon"), ("tablecloth", "cup"),
                             ("irrigation", "grass")]:
        assert given(label, condition) > 2 * column[label].mean(), (label, condition)
    assert given("heat_source", "rocket") > 0.7  # engines are warm
    assert given("starfield", "tablecloth") == 0  # never in the same scene type


@pytest.fixture
def small(tmp_cache, tmp_path, monkeypatch):
    """Tiny splits (5 training, 3 validation, 4 test scenes), an empty cache and held-out store."""
    monkeypatch.setattr(multilabel_scenes, "SPLIT_SIZES", {"train": 5, "val": 3})
    monkeypatch.setattr(multilabel_scenes, "NUM_TEST", 4)
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    monkeypatch.delenv("VISLAB_A1_DATASET", raising=False)
    return tmp_cache


def test_build_makes_training_and_validation_scenes_only(small):
    tensors = multilabel_scenes.build()
    assert set(tensors) == {"train_X", "train_y", "val_X", "val_y"}
    images, labels = scenes(8, seed=multilabel_scenes.SEED)
    assert np.array_equal(tensors["train_X"].numpy(), images[:5])
    assert np.array_equal(tensors["val_y"].numpy(), labels[5:])


def test_the_demo_key_draws_the_published_test_split_on_the_grading_side(small):
    heldout.prepare_scenes(DEMO_KEY)
    images, labels = scenes(12, seed=multilabel_scenes.SEED)  # the public sequence, continued
    test_X = load_test_inputs(multilabel_scenes.CACHE_NAME)["test_X"]
    assert np.array_equal(test_X.numpy(), images[8:])
    assert inputs_fingerprint(multilabel_scenes.CACHE_NAME) == DEMO_KEY.fingerprint
    ids, test_y, classes = heldout.sealed_test_labels(DEMO_KEY, "scenes")
    assert ids == ["0", "1", "2", "3"] and classes == CLASSES
    assert np.array_equal(test_y.numpy(), labels[8:])


def test_a_real_key_draws_a_test_split_the_student_side_cannot_rebuild(small):
    heldout.prepare_scenes(DEMO_KEY)
    demo_X = load_test_inputs(multilabel_scenes.CACHE_NAME)["test_X"]
    key = HeldoutKey(b"an instructor's secret of at least 32 characters")
    heldout.prepare_scenes(key)
    test_X = load_test_inputs(multilabel_scenes.CACHE_NAME)["test_X"]
    assert inputs_fingerprint(multilabel_scenes.CACHE_NAME) == key.fingerprint
    assert test_X.shape == demo_X.shape and not torch.equal(test_X, demo_X)
    public_images, _ = scenes(40, seed=multilabel_scenes.SEED)  # nothing public draws them
    assert not any(np.array_equal(x, y) for x in test_X.numpy() for y in public_images)
    _, test_y, _ = heldout.sealed_test_labels(key, "scenes")
    assert test_y.shape == (4, 20)
    with pytest.raises(FileNotFoundError):  # another key's labels are not these
        store.load_labels(multilabel_scenes.CACHE_NAME, HeldoutKey(b"x" * 32))
    # the student side holds no test labels: not in the cache it reads, not in its package
    for path in small.rglob("*.pt"):
        assert not {"test_y", "labels"} & set(torch.load(path, weights_only=True)), path
    for module in (multilabel, multilabel_scenes, runs, browser):
        assert not [name for name in vars(module) if "heldout" in name.lower()], module


def test_assignment_loader_on_the_scenes(small):
    with pytest.raises(FileNotFoundError, match="datasets.py prepare multilabel-scenes`"):
        multilabel.load_multilabel("scenes")
    heldout.prepare_scenes(DEMO_KEY)
    data = multilabel.load_multilabel("scenes")
    assert (data.num_classes, data.bands) == (20, ("red", "green", "blue", "nir"))
    X, y = data.train[0]
    assert X.shape == (4, 64, 64) and X.dtype == torch.float32 and y.shape == (20,)
    assert data.test[0].shape == (4, 64, 64) and data.test_ids == (0, 1, 2, 3)
    shown = data.unnormalize(X)
    raw = multilabel_scenes.load()["train_X"][0].float() / 255
    assert torch.allclose(shown, raw, atol=1e-5)
    assert torch.equal(data.labels("val"), multilabel_scenes.load()["val_y"].float())
    rgb = data.select_bands(["red", "green", "blue"])
    assert rgb.train[0][0].shape == (3, 64, 64) and rgb.mean == data.mean[:3]
    assert torch.equal(rgb.labels("train"), data.labels("train"))
    assert rgb.test[0].shape == (3, 64, 64)
    with pytest.raises(ValueError, match="not \\['swir'\\]"):
        data.select_bands(["red", "swir"])


def test_prepare_grading_builds_the_scenes_and_checks_the_seal(small):
    prepare_grading(DEMO_KEY)
    assert multilabel_scenes.load()["train_X"].shape == (5, 4, 64, 64)
    assert has_test_inputs(multilabel_scenes.CACHE_NAME, DEMO_KEY.fingerprint)
    prepare_grading(DEMO_KEY)  # once per key: nothing to redo

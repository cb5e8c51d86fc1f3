"""The embedded scenes of a1: deterministic, co-occurring labels, NIR-only labels, held-out test."""

import numpy as np
import pytest
import torch

from vislab.a1_multilabel import data as multilabel
from vislab.a1_multilabel import scenes as multilabel_scenes
from vislab.a1_multilabel.heldout import read_heldout_labels

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
def small_build(tmp_cache, monkeypatch):
    monkeypatch.setattr(multilabel_scenes, "SPLIT_SIZES", {"train": 5, "val": 3, "test": 4})
    return tmp_cache


def test_build_keeps_test_labels_out_of_the_student_cache(small_build):
    tensors = multilabel_scenes.build()
    assert set(tensors) == {"train_X", "train_y", "val_X", "val_y", "test_X", "test_ids"}
    assert tensors["test_X"].shape == (4, 4, 64, 64)
    assert tensors["test_ids"].tolist() == [0, 1, 2, 3]
    ids, labels, classes = read_heldout_labels(multilabel_scenes.CACHE_NAME)
    _, expected = scenes(12, seed=multilabel_scenes.SEED)
    assert ids == ["0", "1", "2", "3"] and classes == CLASSES
    assert np.array_equal(labels.numpy(), expected[8:])
    assert np.array_equal(tensors["train_y"].numpy(), expected[:5])


def test_assignment_loader_on_the_scenes(small_build):
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
    with pytest.raises(ValueError, match="not \\['swir'\\]"):
        data.select_bands(["red", "swir"])
    ids, labels, _ = multilabel.heldout_labels("scenes")
    assert ids == ["0", "1", "2", "3"] and labels.shape == (4, 20)

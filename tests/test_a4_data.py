"""a4_detection data on the students' side: the INF265 format and reader, MNIST idx files, the
scenes, the loaders. The held-out detection test boxes are tested on the grading side
(``test_a4_heldout.py``)."""

import gzip
import struct

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from vislab.a4_detection import data as digit_boxes
from vislab.a4_detection import embedded as embedded_digit_boxes
from vislab.a4_detection import glyph_splits, mnist
from vislab.a4_detection.scenes import SceneStyle, detection_scenes, localization_scenes, tight_glyphs
from vislab.data import inf265, mnist_idx, tensor_cache
from vislab.data.inf265_labels import (
    InvalidLabels,
    flatten_objects,
    objects_to_grid,
    unflatten_objects,
    validate_localization_labels,
)
from vislab.data.test_inputs import load_test_inputs, save_test_inputs

CLEAN = SceneStyle(digit_height=(20, 30), contrast=(1.0, 1.0), background=(0.0, 0.0),
                   gradient=(0.0, 0.0), clutter=(0, 0), blur_sigma=(0.0, 0.0),
                   noise_std=(0.0, 0.0))


def _glyphs(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Blocky 28 x 28 'digits': a filled rectangle of random size per glyph, classes 0..9."""
    rng = np.random.default_rng(seed)
    glyphs = np.zeros((count, 28, 28), dtype=np.uint8)
    for glyph in glyphs:
        top, left = rng.integers(2, 8, size=2)
        glyph[top:top + rng.integers(12, 20), left:left + rng.integers(6, 16)] = 255
    return glyphs, np.arange(count) % 10


def _objects(rng: np.random.Generator, count: int) -> torch.Tensor:
    cells = rng.permutation(6)[:count]
    rows = [[1.0, (c % 3 + 0.5) / 3, (c // 3 + 0.5) / 2, 0.2, 0.3, float(rng.integers(2))]
            for c in cells]
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)


def _write_inf265(folder, sizes=(5, 3, 4)) -> dict:
    """The course's nine .pt files with tiny random content; returns what was written."""
    rng = np.random.default_rng(1)
    written = {}
    for split, n in zip(inf265.SPLITS, sizes, strict=True):
        X = torch.rand(n, 1, 48, 60)
        y = torch.zeros(n, 6)
        y[1:, 0] = 1
        y[1:, 1:5] = torch.tensor([0.5, 0.5, 0.3, 0.4])
        y[1:, 5] = torch.arange(1, n).float() % 10
        torch.save(TensorDataset(X, y), folder / f"localization_{split}.pt")
        objects = [_objects(rng, int(rng.integers(0, 4))) for _ in range(n)]
        X_det = torch.rand(n, 1, 48, 60)
        torch.save(TensorDataset(X_det, objects_to_grid(objects)), folder / f"detection_{split}.pt")
        torch.save([list(o) for o in objects], folder / f"list_y_true_{split}.pt")
        written[split] = (X, y, X_det, objects)
    return written


def test_inf265_files_are_read_and_cached_without_the_detection_test_labels(tmp_path, tmp_cache):
    written = _write_inf265(tmp_path)
    (tmp_path / "list_y_true_test.pt").unlink()  # the students' side never needs it
    digit_boxes.prepare_inf265(tmp_path)
    loc = digit_boxes.load_localization("inf265")
    det = digit_boxes.load_detection("inf265")
    assert torch.equal(loc.train.tensors[0], written["train"][0])
    assert torch.equal(loc.test.tensors[1], written["test"][1])
    assert torch.equal(det.val.tensors[0], written["val"][2])
    for got, expected in zip(det.val_objects, written["val"][3], strict=True):
        assert torch.equal(got, expected)
    assert det.test_ids == [0, 1, 2, 3] and torch.equal(det.test_X, written["test"][2])
    cached = {**tensor_cache.load_tensors("digit-boxes-inf265"),
              **load_test_inputs("digit-boxes-inf265")}
    assert sorted(cached) == sorted(inf265.RELEASED_KEYS)
    assert not (tmp_cache / "heldout").exists()
    assert "localisation 5/3/4" in digit_boxes.verify_inf265()


def test_inf265_reader_says_which_file_is_missing(tmp_path):
    _write_inf265(tmp_path)
    (tmp_path / "list_y_true_val.pt").unlink()
    with pytest.raises(FileNotFoundError, match="list_y_true_val.pt is missing"):
        inf265.read_inf265(tmp_path)


@pytest.mark.parametrize(("change", "message"), [
    (lambda X, y: (X[:, :, :40], y), r"shape \(N, 1, 48, 60\)"),
    (lambda X, y: (X, y * torch.tensor([1, 60, 48, 60, 48, 1.0])), "are they pixels"),
    (lambda X, y: (X, torch.cat([y[:, :1] * 2, y[:, 1:]], 1)), "must be 0 or 1"),
    (lambda X, y: (X, y[:, :5]), r"shape \(N, 6\)"),
    (lambda X, y: (X * 255, y), "were they normalised"),
    (lambda X, y: (X, torch.cat([y[:, :5], y[:, 5:] + 0.5], 1)), "whole number"),
])
def test_inf265_reader_rejects_malformed_localisation_files(tmp_path, change, message):
    written = _write_inf265(tmp_path)
    X, y = change(*written["train"][:2])
    torch.save(TensorDataset(X, y), tmp_path / "localization_train.pt")
    with pytest.raises(InvalidLabels, match=message):
        inf265.read_inf265(tmp_path)


def test_inf265_reader_rejects_image_coordinates_in_grid_labels(tmp_path):
    written = _write_inf265(tmp_path)
    grid = objects_to_grid(written["train"][3])
    grid[..., 1] = torch.where(grid[..., 0] == 1, 1.5, 0.0)
    torch.save(TensorDataset(written["train"][2], grid), tmp_path / "detection_train.pt")
    with pytest.raises(InvalidLabels, match="cell units"):
        inf265.read_inf265(tmp_path)


def test_inf265_reader_refuses_files_that_are_not_tensors(tmp_path):
    _write_inf265(tmp_path)
    (tmp_path / "detection_test.pt").write_bytes(b"not a torch file")
    with pytest.raises(InvalidLabels, match="cannot be read as tensors"):
        inf265.read_inf265(tmp_path)


def _write_idx(path, array: np.ndarray, gzipped: bool = False) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                          *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gzipped else data)


def test_read_idx_reads_plain_and_gzipped_files(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "plain", array)
    _write_idx(tmp_path / "packed.gz", array, gzipped=True)
    assert np.array_equal(mnist_idx.read_idx(tmp_path / "plain"), array)
    assert np.array_equal(mnist_idx.read_idx(tmp_path / "packed.gz"), array)


def test_read_idx_explains_damaged_files(tmp_path):
    _write_idx(tmp_path / "labels", np.arange(10, dtype=np.uint8))
    (tmp_path / "cut").write_bytes((tmp_path / "labels").read_bytes()[:-3])
    with pytest.raises(mnist_idx.InvalidIdxFile, match="truncated"):
        mnist_idx.read_idx(tmp_path / "cut")
    (tmp_path / "png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(mnist_idx.InvalidIdxFile, match="not an idx file"):
        mnist_idx.read_idx(tmp_path / "png")


def test_mnist_builder_makes_valid_splits_from_idx_files(tmp_path):
    glyphs, classes = _glyphs(60)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "train-images-idx3-ubyte.gz", glyphs[:40], gzipped=True)
    _write_idx(raw / "train-labels-idx1-ubyte.gz", classes[:40], gzipped=True)
    _write_idx(raw / "t10k-images-idx3-ubyte", glyphs[40:])
    _write_idx(raw / "t10k-labels-idx1-ubyte", classes[40:])
    sizes = {"train": 12, "val": 4, "test": 6}
    tensors = mnist.build_from_mnist(tmp_path, sizes, sizes, seed=0)
    inf265.validate_splits(tensors, "mnist")
    assert sorted(tensors) == sorted(inf265.TRAINING_KEYS)  # the test scenes: grading side
    assert tensors["loc_train_X"].shape == (12, 1, 48, 60)
    assert tensors["loc_test_y"].shape == (6, 6)
    assert set(tensors["det_train_objects"][:, 6].tolist()) <= {0.0, 1.0}


def test_mnist_builder_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        mnist.build_from_mnist(tmp_path)


def test_a_localisation_box_is_the_tight_box_around_the_digit_ink():
    glyphs, classes = _glyphs(10)
    X, y = localization_scenes(tight_glyphs(glyphs), classes, 20, 0.3, np.random.default_rng(2),
                               CLEAN)
    assert (y[:, 0] == 0).any() and (y[:, 0] == 1).any()
    for image, label in zip(X, y, strict=True):
        ink = image[0] > 0
        if label[0] == 0:
            assert not ink.any()
            continue
        rows, cols = ink.any(dim=1).nonzero()[:, 0], ink.any(dim=0).nonzero()[:, 0]
        x1, y1, x2, y2 = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
        expected = torch.tensor([(x1 + x2) / 120, (y1 + y2) / 96, (x2 - x1) / 60, (y2 - y1) / 48])
        assert torch.allclose(label[1:5], expected, atol=1e-6)


def test_detection_scenes_put_one_digit_per_cell_without_overlap():
    glyphs, classes = _glyphs(10)
    X, objects, grid = detection_scenes(tight_glyphs(glyphs), classes % 2, 30, [0, 0, 0, 1.0],
                                        np.random.default_rng(3), CLEAN)
    assert sum(len(o) for o in objects) == int(grid[..., 0].sum()) > 30
    for rows in objects:
        x1 = (rows[:, 1] - rows[:, 3] / 2) * 60
        x2 = (rows[:, 1] + rows[:, 3] / 2) * 60
        y1 = (rows[:, 2] - rows[:, 4] / 2) * 48
        y2 = (rows[:, 2] + rows[:, 4] / 2) * 48
        for i in range(len(rows)):
            for j in range(i):
                assert x2[i] <= x1[j] or x2[j] <= x1[i] or y2[i] <= y1[j] or y2[j] <= y1[i]


def test_objects_to_grid_refuses_two_centres_in_one_cell():
    rows = torch.tensor([[1.0, 0.1, 0.1, 0.1, 0.1, 0], [1.0, 0.2, 0.2, 0.1, 0.1, 1]])
    with pytest.raises(ValueError, match=r"cell \(0, 0\)"):
        objects_to_grid([rows])


def test_flattened_objects_come_back_per_image():
    objects = [_objects(np.random.default_rng(i), i % 4) for i in range(6)]
    back = unflatten_objects(flatten_objects(objects), 6)
    assert all(torch.equal(a, b) for a, b in zip(objects, back, strict=True))


def test_empty_images_need_no_box_but_digits_do():
    labels = torch.tensor([[0.0, 0, 0, 0, 0, 0], [1.0, 0.5, 0.5, 0.0, 0.2, 3]])
    with pytest.raises(InvalidLabels, match="positive width"):
        validate_localization_labels(labels, 10, "test")
    validate_localization_labels(labels[:1], 10, "test")


def test_embedded_default_is_deterministic_with_disjoint_glyph_pools():
    pools = embedded_digit_boxes.glyph_pools(100, seed=5)
    assert sorted(np.concatenate(list(pools.values())).tolist()) == list(range(100))
    glyphs, classes = _glyphs(100)
    sizes = {"train": 6, "val": 3, "test": 3}
    first = glyph_splits.build_from_glyphs(glyphs, classes, pools, sizes, sizes, seed=5)
    second = glyph_splits.build_from_glyphs(glyphs, classes, pools, sizes, sizes, seed=5)
    assert sorted(first) == sorted(inf265.TRAINING_KEYS)
    assert all(torch.equal(first[k], second[k]) for k in inf265.TRAINING_KEYS)


def test_the_loader_builds_the_embedded_default_on_first_use(tmp_cache, monkeypatch):
    monkeypatch.setattr(embedded_digit_boxes, "LOCALIZATION_SIZES",
                        {"train": 20, "val": 5, "test": 5})
    monkeypatch.setattr(embedded_digit_boxes, "DETECTION_SIZES", {"train": 10, "val": 5, "test": 6})
    monkeypatch.delenv("VISLAB_A4_DATASET", raising=False)
    loc = digit_boxes.load_localization()
    assert loc.train.tensors[0].dtype == torch.float32 and loc.train.tensors[0].max() <= 1
    assert len(loc.test) == 5 and "VISLAB_A4_DATASET=digits" in loc.source
    assert "test not on this machine yet" in loc.source
    assert sorted(tensor_cache.load_tensors("digit-boxes")) == sorted(inf265.TRAINING_KEYS)
    assert [folder.name for folder in tmp_cache.iterdir()] == ["datasets"]
    with pytest.raises(FileNotFoundError, match="test images of 'digit-boxes' are not on this"):
        digit_boxes.load_detection()


def test_detection_test_images_come_from_the_released_test_inputs(tmp_cache, monkeypatch):
    monkeypatch.setattr(embedded_digit_boxes, "LOCALIZATION_SIZES",
                        {"train": 20, "val": 5, "test": 5})
    monkeypatch.setattr(embedded_digit_boxes, "DETECTION_SIZES", {"train": 10, "val": 5, "test": 6})
    monkeypatch.delenv("VISLAB_A4_DATASET", raising=False)
    released = torch.randint(0, 256, (7, 1, 48, 60), dtype=torch.uint8)
    save_test_inputs("digit-boxes", {"det_test_X": released}, "a-key-fingerprint")
    det = digit_boxes.load_detection()
    assert det.test_ids == list(range(7)) and torch.equal(det.test_X, released.float() / 255)
    assert len(det.train) == 10 and len(det.val_objects) == 5
    assert "test 7 (without labels)" in det.source


def test_an_unknown_dataset_setting_lists_the_known_ones(monkeypatch):
    monkeypatch.setenv("VISLAB_A4_DATASET", "coco")
    with pytest.raises(ValueError, match="digits, inf265, mnist"):
        digit_boxes.load_localization()


def test_a_real_source_that_was_not_prepared_says_how_to_prepare_it(tmp_cache):
    with pytest.raises(FileNotFoundError, match="datasets.py prepare digit-boxes-mnist"):
        digit_boxes.load_detection("mnist")

"""a4_detection's held-out detection test boxes, on the grading side: sealed with the key, the
demo key reproduces the split the kit published, a real key gives another split whose labels the
students' side cannot rebuild; INF265's and MNIST's test labels are made from the source folder
by the grading side's builders."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import vislab.a4_detection
from autograder.checks.a4_detection import LEADERBOARD, heldout, prepare_grading
from autograder.checks.a4_detection.references import objects_to_targets
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY, HeldoutKey
from vislab.a4_detection import data, embedded, mnist
from vislab.a4_detection.detections_csv import format_prediction_string
from vislab.a4_detection.glyph_splits import EMPTY_FRACTION, SEED, GlyphPools, detection_split
from vislab.a4_detection.scenes import localization_scenes
from vislab.data import inf265, tensor_cache
from vislab.data.inf265_labels import objects_to_grid, unflatten_objects
from vislab.data.test_inputs import inputs_fingerprint, load_test_inputs
from vislab.kaggle import write_predictions

LOCALIZATION_SIZES = {"train": 12, "val": 4, "test": 5}
DETECTION_SIZES = {"train": 8, "val": 4, "test": 10}
REAL_KEY = HeldoutKey(b"an instructor's secret key, 32 characters or more")


@pytest.fixture
def small_sets(tmp_cache, tmp_path, monkeypatch):
    """Small embedded and MNIST sets, a cache and a held-out store of the test's own."""
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    monkeypatch.delenv("VISLAB_A4_DATASET", raising=False)
    for module in (embedded, mnist):
        monkeypatch.setattr(module, "LOCALIZATION_SIZES", LOCALIZATION_SIZES)
        monkeypatch.setattr(module, "DETECTION_SIZES", DETECTION_SIZES)
    return tmp_path / "heldout"


def published_build(glyphs: GlyphPools) -> dict:
    """The build the kit published before the test labels moved to the grading side: one
    generator seeded with ``SEED`` draws, for train, val and test in turn, the localisation
    scenes and then the detection scenes."""
    rng = np.random.default_rng(SEED)
    splits = {}
    for split, pool in glyphs.pools.items():
        splits[f"loc_{split}"] = localization_scenes(
            [glyphs.glyphs[i] for i in pool], glyphs.classes[pool], LOCALIZATION_SIZES[split],
            EMPTY_FRACTION, rng)
        splits[f"det_{split}"] = detection_split(glyphs, split, DETECTION_SIZES[split], rng)
    return splits


def _released_test_images(name: str) -> torch.Tensor:
    return load_test_inputs(name)["det_test_X"]


def _sealed_objects(name: str, key: HeldoutKey) -> list[torch.Tensor]:
    labels = store.load_labels(name, key)
    return unflatten_objects(labels["det_test_objects"], len(labels["det_test_y"]))


def test_the_demo_key_draws_the_split_the_kit_published(small_sets):
    published = published_build(embedded.digit_glyphs())
    prepare_grading(DEMO_KEY)
    X, objects, grid = published["det_test"]
    assert torch.equal(_released_test_images("digit-boxes"), X)
    sealed = _sealed_objects("digit-boxes", DEMO_KEY)
    assert all(torch.equal(a, b) for a, b in zip(sealed, objects, strict=True))
    assert torch.equal(store.load_labels("digit-boxes", DEMO_KEY)["det_test_y"], grid)
    loc = data.load_localization()  # the students' splits are the published ones too
    assert torch.equal(loc.test.tensors[1], published["loc_test"][1])
    det = data.load_detection()
    assert torch.equal(det.val.tensors[1], published["det_val"][2])


def test_the_labels_are_sealed_outside_the_cache_and_tampering_stops_grading(small_sets,
                                                                            tmp_cache):
    prepare_grading(DEMO_KEY)
    assert not (tmp_cache / "heldout").exists()
    for folder in (tmp_cache / "datasets").iterdir():
        tensors = tensor_cache.load_tensors(folder.name)
        assert not any(key.startswith("det_test_") and key != "det_test_X" for key in tensors)
    labels_file = small_sets / DEMO_KEY.fingerprint / "digit-boxes" / store.LABELS_FILE
    labels = torch.load(labels_file, weights_only=True)
    labels["det_test_objects"][:, 6] = 1 - labels["det_test_objects"][:, 6]  # every class flipped
    torch.save(labels, labels_file)
    with pytest.raises(store.TamperedLabels, match="do not match their seal"):
        LEADERBOARD.score(Path("a4_detections.csv"), DEMO_KEY)


def test_a_real_key_gives_another_split_that_the_students_side_cannot_rebuild(small_sets):
    published = published_build(embedded.digit_glyphs())
    prepare_grading(REAL_KEY)
    released = _released_test_images("digit-boxes")
    assert inputs_fingerprint("digit-boxes") == REAL_KEY.fingerprint
    assert released.shape == (DETECTION_SIZES["test"], 1, 48, 60)
    assert not torch.equal(released, published["det_test"][0])  # not the public continuation
    assert len(_sealed_objects("digit-boxes", REAL_KEY)) == DETECTION_SIZES["test"]
    assert not store.has_labels("digit-boxes", DEMO_KEY)


def test_prepare_grading_builds_once_per_key(small_sets):
    prepare_grading(DEMO_KEY)
    labels_file = small_sets / DEMO_KEY.fingerprint / "digit-boxes" / store.LABELS_FILE
    made = labels_file.stat().st_mtime_ns
    prepare_grading(DEMO_KEY)
    assert labels_file.stat().st_mtime_ns == made
    prepare_grading(REAL_KEY)
    assert inputs_fingerprint("digit-boxes") == REAL_KEY.fingerprint
    demo_labels = store.load_labels("digit-boxes", DEMO_KEY)
    prepare_grading(DEMO_KEY)  # the demo split is drawn again: the same
    assert inputs_fingerprint("digit-boxes") == DEMO_KEY.fingerprint
    assert torch.equal(store.load_labels("digit-boxes", DEMO_KEY)["det_test_objects"],
                       demo_labels["det_test_objects"])


def test_the_students_side_holds_no_test_labels():
    package = Path(vislab.a4_detection.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text()
        for forbidden in ("heldout", "save_labels", "det_test_y", "det_test_objects"):
            assert forbidden not in text, f"{path.name} mentions {forbidden}"


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                          *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _tiny_mnist(folder: Path) -> Path:
    """Four idx files of blocky 28 x 28 'digits' (60 training, 30 test), classes 0..9."""
    rng = np.random.default_rng(0)
    glyphs = np.zeros((90, 28, 28), dtype=np.uint8)
    for glyph in glyphs:
        top, left = rng.integers(2, 8, size=2)
        glyph[top:top + rng.integers(12, 20), left:left + rng.integers(6, 16)] = 255
    classes = np.arange(90) % 10
    folder.mkdir()
    for prefix, part in (("train", slice(0, 60)), ("t10k", slice(60, 90))):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", glyphs[part])
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", classes[part])
    return folder


def test_mnist_test_scenes_are_drawn_on_the_grading_side(small_sets, tmp_path, monkeypatch):
    source = _tiny_mnist(tmp_path / "mnist")
    mnist.prepare(source)
    assert sorted(tensor_cache.load_tensors(mnist.NAME)) == sorted(inf265.TRAINING_KEYS)
    heldout.HELDOUT_BUILDERS[mnist.NAME](DEMO_KEY, source)
    published = published_build(mnist.mnist_glyphs(source))
    assert torch.equal(_released_test_images(mnist.NAME), published["det_test"][0])
    heldout.HELDOUT_BUILDERS[mnist.NAME](REAL_KEY, source)
    assert not torch.equal(_released_test_images(mnist.NAME), published["det_test"][0])
    monkeypatch.setenv("VISLAB_A4_DATASET", "mnist")
    prepare_grading(REAL_KEY)  # ready: nothing to build
    assert len(data.load_detection().test_X) == DETECTION_SIZES["test"]


def _write_inf265(folder: Path) -> list[torch.Tensor]:
    """The course's nine files with tiny random content; returns the test images' objects."""
    rng = np.random.default_rng(1)
    folder.mkdir()
    for split, n in (("train", 5), ("val", 3), ("test", 4)):
        y = torch.zeros(n, 6)
        y[1:] = torch.tensor([1.0, 0.5, 0.5, 0.3, 0.4, 7])
        torch.save(TensorDataset(torch.rand(n, 1, 48, 60), y), folder / f"localization_{split}.pt")
        objects = []
        for _ in range(n):
            cells = rng.permutation(6)[:rng.integers(1, 4)]
            objects.append(torch.tensor([[1.0, (c % 3 + 0.5) / 3, (c // 3 + 0.5) / 2, 0.2, 0.3,
                                          float(rng.integers(2))] for c in cells],
                                        dtype=torch.float32))
        torch.save(TensorDataset(torch.rand(n, 1, 48, 60), objects_to_grid(objects)),
                   folder / f"detection_{split}.pt")
        torch.save([list(o) for o in objects], folder / f"list_y_true_{split}.pt")
    return objects


def test_inf265_test_labels_are_read_from_the_course_files_by_the_grading_side(
        small_sets, tmp_path, monkeypatch):
    objects = _write_inf265(tmp_path / "course")
    data.prepare_inf265(tmp_path / "course")
    monkeypatch.setenv("VISLAB_A4_DATASET", "inf265")
    with pytest.raises(FileNotFoundError, match="datasets.py prepare digit-boxes-inf265 --from"):
        prepare_grading(REAL_KEY)
    heldout.HELDOUT_BUILDERS["digit-boxes-inf265"](REAL_KEY, tmp_path / "course")
    prepare_grading(REAL_KEY)
    sealed = _sealed_objects("digit-boxes-inf265", REAL_KEY)
    assert all(torch.equal(a, b) for a, b in zip(sealed, objects, strict=True))
    strings = [format_prediction_string(t["boxes"], torch.full((len(t["boxes"]),), 0.9),
                                        t["labels"]) for t in objects_to_targets(objects)]
    csv = write_predictions(tmp_path / "a4_detections.csv", range(4),
                            {"PredictionString": strings})
    assert LEADERBOARD.score(csv, REAL_KEY) == pytest.approx((1.0, 1.0))


def test_every_dataset_of_a4_has_a_builder_of_its_held_out_labels():
    assert sorted(heldout.HELDOUT_BUILDERS) == sorted(data.SOURCES.values())

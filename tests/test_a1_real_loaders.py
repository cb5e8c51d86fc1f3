"""The PASCAL VOC and Planet loaders of a1, on tiny copies in the datasets' own formats: the
student side sees the test images only, the grading side reads their labels from the same files."""

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch
from PIL import Image

from autograder.checks.a1_multilabel import heldout
from autograder.heldout import store
from autograder.heldout.key import DEMO_KEY
from vislab.a1_multilabel import data as multilabel
from vislab.data import planet, voc


@pytest.fixture
def heldout_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(store.DIR_VARIABLE, str(tmp_path / "heldout"))
    return tmp_path / "heldout"


def write_voc(root, split_ids: dict[str, list[str]], flags: dict[str, dict[str, int]]):
    """A VOC tree: JPEGImages, Annotations and ImageSets/Main/<class>_<split>.txt files.

    ``flags[image_id][class]`` is 1, 0 (difficult) or -1 (absent, the default).
    """
    (root / "JPEGImages").mkdir(parents=True)
    (root / "Annotations").mkdir()
    main = root / "ImageSets" / "Main"
    main.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for ids in split_ids.values():
        for image_id in ids:
            pixels = rng.integers(0, 256, (30 + len(image_id), 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "JPEGImages" / f"{image_id}.jpg")
            (root / "Annotations" / f"{image_id}.xml").write_text(
                f"<annotation><filename>{image_id}.jpg</filename></annotation>")
    for split, ids in split_ids.items():
        for name in voc.VOC_CLASSES:
            lines = [f"{i} {flags.get(i, {}).get(name, -1):>2}" for i in ids]
            (main / f"{name}_{split}.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def voc_root(tmp_path):
    root = tmp_path / "VOCdevkit" / "VOC2012"
    ids = {"train": ["2008_000001", "2008_000002", "2008_000003"],
           "val": [f"2009_00000{i}" for i in range(6)]}
    flags = {"2008_000001": {"cat": 1, "dog": 0}, "2008_000002": {"person": 1, "car": 1},
             "2008_000003": {"dog": 1}, "2009_000000": {"cat": 1}, "2009_000003": {"bus": 0}}
    write_voc(root, ids, flags)
    return root


def test_voc_labels_and_difficult(voc_root):
    ids, labels = voc.read_image_set_labels(voc_root, "train")
    assert ids == ["2008_000001", "2008_000002", "2008_000003"]
    assert labels.shape == (3, 20)
    col = {name: i for i, name in enumerate(voc.VOC_CLASSES)}
    assert labels[0, col["cat"]] == 1 and labels[0, col["dog"]] == 1  # difficult -> positive
    assert labels[1, [col["person"], col["car"]]].tolist() == [1, 1]
    assert labels.sum() == 5
    _, negative = voc.read_image_set_labels(voc_root, "train", difficult="negative")
    assert negative[0, col["dog"]] == 0 and negative.sum() == 4
    with pytest.raises(ValueError, match="difficult must be one of"):
        voc.read_image_set_labels(voc_root, "train", difficult="ignore")


def test_voc_dataset_items(voc_root):
    dataset = voc.VocMultilabel(voc_root, "train")
    X, y = dataset[1]
    assert X.dtype == torch.uint8 and X.shape == (3, 41, 40)
    assert y.dtype == torch.float32 and y.sum() == 2
    (voc_root / "JPEGImages" / "2008_000003.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="JPEGImages/ does not hold it"):
        dataset[2]


def test_voc_bad_files_say_what_is_wrong(voc_root):
    main = voc_root / "ImageSets" / "Main"
    (main / "cat_train.txt").write_text("2008_000001 1\n2008_000002 yes\n")
    with pytest.raises(ValueError, match=r"cat_train.txt, line 2: expected"):
        voc.read_image_set_labels(voc_root, "train")
    (main / "cat_train.txt").write_text("2008_000001 1\n")
    with pytest.raises(ValueError, match="lists other images"):
        voc.read_image_set_labels(voc_root, "train")
    with pytest.raises(FileNotFoundError, match="is the split right"):
        voc.read_image_set_labels(voc_root, "trainval")


def test_voc_prepare_and_assignment_loader(voc_root, tmp_cache, heldout_dir):
    with pytest.raises(FileNotFoundError, match="prepare voc2012"):
        multilabel.load_multilabel("voc2012")
    assert voc.prepare("2012", voc_root.parent.parent) == voc_root.resolve()
    assert "train 3 images" in voc.verify("2012")
    data = multilabel.load_multilabel("voc2012", image_size=32)
    assert data.classes == voc.VOC_CLASSES and data.bands == ("red", "green", "blue")
    assert len(data.train) == 3 and len(data.val) == 3 and len(data.test) == 3
    X, y = data.val[0]
    assert X.shape == (3, 32, 32) and X.dtype == torch.float32 and y.shape == (20,)
    assert data.test[0].shape == (3, 32, 32)  # images only
    assert not hasattr(data.test, "labels")
    heldout.HELDOUT_BUILDERS["voc2012"](DEMO_KEY, None)  # from the copy `prepare` recorded
    ids, labels, classes = heldout.sealed_test_labels(DEMO_KEY, "voc2012")
    assert ids == list(data.test_ids) and classes == voc.VOC_CLASSES
    assert not set(ids) & set(data.val.ids)
    assert sorted(ids + data.val.ids) == [f"2009_00000{i}" for i in range(6)]
    _, all_val = voc.read_image_set_labels(voc_root, "val")
    expected = all_val[[int(i[-1]) for i in ids]]
    assert torch.equal(labels.float(), expected)
    heldout.HELDOUT_BUILDERS["voc2012"](DEMO_KEY, voc_root.parent.parent)  # or from --from DIR
    assert torch.equal(heldout.sealed_test_labels(DEMO_KEY, "voc2012")[1], labels)


def write_planet(root, tags: list[str], size: int = 16):
    (root / planet.IMAGE_FOLDER).mkdir(parents=True)
    pd.DataFrame({"image_name": [f"train_{i}" for i in range(len(tags))], "tags": tags}) \
        .to_csv(root / planet.LABELS_FILE, index=False)
    for i in range(len(tags)):
        # band b of chip i holds the value 1000 * (b + 1) + i, in the file's order B, G, R, NIR
        bands = np.stack([np.full((size, size), 1000 * (b + 1) + i, np.uint16) for b in range(4)],
                         axis=2)
        tifffile.imwrite(root / planet.IMAGE_FOLDER / f"train_{i}.tif", bands)


PLANET_TAGS = ["clear primary", "haze primary water", "cloudy", "partly_cloudy primary road",
               "clear agriculture habitation primary road", "clear primary slash_burn",
               "clear primary", "cloudy", "clear bare_ground primary", "haze primary"]


def test_planet_tags_and_bands(tmp_path):
    write_planet(tmp_path, PLANET_TAGS)
    names, labels = planet.read_tags(tmp_path / planet.LABELS_FILE)
    assert names[1] == "train_1" and labels.shape == (10, 17)
    col = {name: i for i, name in enumerate(planet.PLANET_CLASSES)}
    assert labels[1].nonzero().flatten().tolist() == sorted([col["haze"], col["primary"],
                                                             col["water"]])
    X = planet.read_bands(tmp_path / planet.IMAGE_FOLDER / "train_3.tif")
    assert X.shape == (4, 16, 16) and X.dtype == torch.float32
    # red, green, blue, nir: the file's third, second, first and fourth bands
    assert X[:, 0, 0].tolist() == [3003, 2003, 1003, 4003]


def test_planet_bad_files(tmp_path):
    write_planet(tmp_path, ["clear primary", "clear sunny"])
    with pytest.raises(ValueError, match="unknown tag 'sunny'"):
        planet.read_tags(tmp_path / planet.LABELS_FILE)
    pd.DataFrame({"name": ["a"], "tags": ["clear"]}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(ValueError, match="expected \\['image_name', 'tags'\\]"):
        planet.read_tags(tmp_path / "other.csv")
    tifffile.imwrite(tmp_path / "grey.tif", np.zeros((8, 8), np.uint16))
    with pytest.raises(ValueError, match="expected a 4-band image"):
        planet.read_bands(tmp_path / "grey.tif")


def test_planet_split_is_seeded_and_disjoint():
    parts = planet.split_indices(300)
    assert [len(parts[s]) for s in ("train", "val", "test")] == [201, 49, 50]
    assert sorted(sum(parts.values(), [])) == list(range(300))
    assert planet.split_indices(300) == parts
    with pytest.raises(ValueError, match="cannot be split"):
        planet.split_indices(4)


def test_planet_prepare_and_assignment_loader(tmp_path, tmp_cache, heldout_dir):
    with pytest.raises(FileNotFoundError, match="kaggle.com"):
        planet.prepare(None)
    write_planet(tmp_path / "planet", PLANET_TAGS * 2)
    planet.prepare(tmp_path / "planet")
    assert "20 chips" in planet.verify()
    data = multilabel.load_multilabel("planet", image_size=8)
    assert data.bands == ("red", "green", "blue", "nir") and data.num_classes == 17
    assert len(data.train) + len(data.val) + len(data.test) == 20
    X, y = data.val[0]
    assert X.shape == (4, 8, 8) and y.shape == (17,)
    rgb = data.select_bands(["red", "green", "blue"])
    assert rgb.val[0][0].shape == (3, 8, 8) and torch.equal(rgb.val[0][0], X[:3])
    assert rgb.test[0].shape == (3, 8, 8)
    assert not hasattr(data.test, "labels")
    heldout.HELDOUT_BUILDERS["planet"](DEMO_KEY, tmp_path / "planet")
    ids, labels, classes = heldout.sealed_test_labels(DEMO_KEY, "planet")
    assert ids == list(data.test_ids) and classes == planet.PLANET_CLASSES
    _, all_labels = planet.read_tags(tmp_path / "planet" / planet.LABELS_FILE)
    assert torch.equal(labels.float(), all_labels[[int(i.split("_")[1]) for i in ids]])


def test_grading_a_real_dataset_reads_its_labels_from_the_prepared_copy(voc_root, tmp_cache,
                                                                         heldout_dir, monkeypatch):
    monkeypatch.setenv("VISLAB_A1_DATASET", "voc2012")
    with pytest.raises(FileNotFoundError, match="prepare voc2012"):
        heldout.prepare_grading(DEMO_KEY)
    voc.prepare("2012", voc_root)
    heldout.prepare_grading(DEMO_KEY)
    ids, labels, _ = heldout.sealed_test_labels(DEMO_KEY)
    assert len(ids) == 3 and labels.shape == (3, 20)


def test_dataset_choice_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("VISLAB_A1_DATASET", "voc2007")
    assert multilabel.dataset_name() == "voc2007"
    monkeypatch.setenv("VISLAB_A1_DATASET", "imagenet")
    with pytest.raises(ValueError, match="choose one of scenes, voc2012"):
        multilabel.dataset_name()
    monkeypatch.delenv("VISLAB_A1_DATASET")
    assert multilabel.dataset_name() == "scenes"

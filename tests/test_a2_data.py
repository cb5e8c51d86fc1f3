"""a2's images (embedded held-out crops, or a folder of the user's own) and the conv+BN helpers."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from vislab.a2_bn_folding import photos as heldout_photos
from vislab.a2_bn_folding.pairs import calibrate_batchnorms, conv_bn_pairs, count_batchnorms
from vislab.a2_bn_folding.timing import time_inference
from vislab.data.registry import all_specs
from vislab.paths import REPO_ROOT
from vislab.seeds import seeded_generator


@pytest.fixture
def few_crops(monkeypatch):
    monkeypatch.setattr(heldout_photos, "CROPS_PER_SOURCE", 3)


def test_build_is_deterministic_and_interleaves_sources(few_crops):
    first, second = heldout_photos.build(), heldout_photos.build()
    assert first["X"].shape == (6, 3, 64, 64) and first["X"].dtype == torch.uint8
    assert first["source"].tolist() == [0, 1, 0, 1, 0, 1]
    assert torch.equal(first["X"], second["X"])
    assert not torch.equal(first["X"][0], first["X"][2])  # crops differ
    assert not torch.equal(heldout_photos.build(seed=1)["X"], first["X"])


def test_crops_come_from_photos_the_checkpoint_never_saw():
    from vislab.data.photo_sources import SKIMAGE_PHOTOS, SKIMAGE_TEXTURES

    used_for_pretraining = set(SKIMAGE_PHOTOS + SKIMAGE_TEXTURES)
    assert not {"stereo_motorcycle"} & used_for_pretraining
    sources = heldout_photos.source_images()
    assert all(image.ndim == 3 and image.shape[2] == 3 for image in sources.values())


def test_a2_images_are_cached_with_their_hash_and_registered(few_crops, tmp_cache, monkeypatch):
    monkeypatch.delenv(heldout_photos.VARIABLE, raising=False)
    X, where = heldout_photos.a2_images(4)
    assert X.shape == (4, 3, 64, 64) and "stereo_motorcycle" in where
    assert (tmp_cache / "datasets" / heldout_photos.NAME / "tensors.sha256").exists()
    spec = all_specs()[heldout_photos.NAME]
    assert spec.is_ready() and "6 crops" in spec.verify()
    with pytest.raises(ValueError, match="holds only 6"):
        heldout_photos.a2_images(7)


def _write_images(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)).save(folder / "b.png")
    Image.fromarray(rng.integers(0, 255, (70, 70), dtype=np.uint8)).save(folder / "a.jpg")
    Image.fromarray(rng.integers(0, 255, (64, 90, 4), dtype=np.uint8)).save(folder / "c.PNG")
    (folder / "notes.txt").write_text("not an image")


def test_a_folder_of_own_images_replaces_the_embedded_ones(tmp_path, monkeypatch):
    folder = tmp_path / "images"
    _write_images(folder)
    monkeypatch.setenv(heldout_photos.VARIABLE, str(folder))
    X, where = heldout_photos.a2_images()
    assert X.shape == (3, 3, 64, 64) and X.dtype == torch.uint8
    assert str(folder) in where
    grey = X[0]  # a.jpg sorts first: grey, so its three channels are equal
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])
    with Image.open(folder / "b.png") as image:
        expected = torchvision.transforms.v2.functional.center_crop(
            torchvision.transforms.v2.functional.resize(
                torchvision.transforms.v2.functional.pil_to_tensor(image), 64, antialias=True),
            64)
    assert torch.equal(X[1], expected)


def test_a_bad_folder_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(heldout_photos.VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        heldout_photos.a2_images()
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(heldout_photos.VARIABLE, str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="holds no .jpg or .png"):
        heldout_photos.a2_images()


def test_resnet18_has_twenty_conv_bn_pairs_in_running_order():
    pairs = conv_bn_pairs(torchvision.models.resnet18())
    assert len(pairs) == 20
    assert pairs[0] == ("conv1", "bn1")
    assert ("layer2.0.downsample.0", "layer2.0.downsample.1") in pairs
    assert pairs[-1] == ("layer4.1.conv2", "layer4.1.bn2")


class _Branching(nn.Module):
    """conv_a feeds a BN and a skip connection; conv_b runs twice; conv_c is a clean pair."""

    def __init__(self):
        super().__init__()
        self.conv_a, self.bn_a = nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)
        self.conv_b, self.bn_b = nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)
        self.conv_c, self.bn_c = nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)

    def forward(self, X):
        a = self.conv_a(X)
        y = self.bn_a(a) + a
        y = self.bn_b(self.conv_b(self.conv_b(y)))
        return self.bn_c(self.conv_c(y))


class _Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)

    def forward(self, X):
        return self.bn(self.conv(X)) if X.sum() > 0 else X


def test_only_convs_whose_output_goes_only_into_the_bn_are_paired():
    assert conv_bn_pairs(_Branching()) == [("conv_c", "bn_c")]


def test_an_untraceable_model_gets_a_clear_error():
    with pytest.raises(ValueError, match="cannot trace"):
        conv_bn_pairs(_Untraceable())


def test_calibration_sets_running_statistics_and_restores_settings():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=0.7)).eval()
    X = 3 + 2 * torch.randn(16, 3, 8, 8, generator=seeded_generator(0))
    calibrate_batchnorms(net, X, num_batches=2, batch_size=8)
    with torch.no_grad():
        z = net[0](X)
    assert torch.allclose(net[1].running_mean, z.mean(dim=(0, 2, 3)), atol=1e-5)
    batch_vars = torch.stack([b.var(dim=(0, 2, 3)) for b in z.split(8)])  # unbiased, as BN keeps
    assert torch.allclose(net[1].running_var, batch_vars.mean(0), rtol=1e-4)
    assert net[1].momentum == 0.7 and not net.training
    assert count_batchnorms(net) == 1
    with pytest.raises(ValueError, match="needs 16 images"):
        calibrate_batchnorms(net, X[:4])


def test_timing_table_has_one_row_per_input_and_the_ratio_column():
    models = {"original": nn.Conv2d(3, 4, 3), "folded": nn.Conv2d(3, 4, 1)}
    inputs = {"small": torch.zeros(2, 3, 8, 8), "large": torch.zeros(2, 3, 16, 16)}
    table = time_inference(models, inputs, rounds=2, min_run_time=0.01)
    assert list(table.index) == ["small", "large"]
    assert list(table.columns) == ["batch", "original ms", "original images/s", "folded ms",
                                   "folded images/s", "folded vs original"]
    row = table.loc["small"]
    assert row["batch"] == 2 and row["original ms"] > 0
    assert row["folded vs original"] == pytest.approx(row["folded ms"] / row["original ms"],
                                                      abs=1e-3)
    with pytest.raises(ValueError, match="at least one model"):
        time_inference({}, inputs)


def test_importing_the_timing_helpers_prints_no_cuda_warning():
    """torch.utils.benchmark warns "No CUDA runtime is found" on a CPU machine with a CUDA_HOME
    (this one has one): a red line under a2's first cell that only alarms students."""
    result = subprocess.run([sys.executable, "-c", "import vislab.a2_bn_folding.timing"],
                            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0 and "No CUDA runtime" not in result.stderr, result.stderr

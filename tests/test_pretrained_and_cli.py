"""vislab.pretrained's weight sources, and the datasets.py command line."""

import torch
import torchvision

import datasets
from vislab import grading, pretrained


def test_imagenet_weights_on_disk_are_used_first(tmp_path, tmp_cache, monkeypatch):
    reference = torchvision.models.resnet18()
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(reference.state_dict(), path)
    monkeypatch.setenv("VISLAB_RESNET18_WEIGHTS", str(path))
    model, source = pretrained.resnet18_backbone()
    assert "ImageNet" in source
    assert torch.equal(model.conv1.weight, reference.conv1.weight)


def test_grading_never_pretrains(tmp_cache, monkeypatch):
    monkeypatch.delenv("VISLAB_RESNET18_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_cache / "hub"))
    monkeypatch.setenv("NBGRADER_EXECUTION", grading.AUTOGRADE)
    model, source = pretrained.resnet18_backbone()
    assert source.startswith("Random weights")
    assert not pretrained.kit_checkpoint_path().exists()
    assert model.fc.out_features == 1000


def test_the_kits_checkpoint_is_made_loaded_and_described(tmp_cache, monkeypatch):
    monkeypatch.delenv("VISLAB_RESNET18_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_cache / "hub"))
    path = pretrained.pretrain_resnet18(num_epochs=1, images_per_epoch=32, batch_size=16,
                                        val_images=22)
    saved = torch.load(path, weights_only=True)
    model, source = pretrained.resnet18_backbone()
    assert "vislab's own checkpoint" in source and f"{len(saved['classes'])} photos" in source
    assert torch.equal(model.conv1.weight, saved["state_dict"]["conv1.weight"])
    assert 0 <= saved["val_accuracy"] <= 1


def test_photo_crop_task_gives_normalised_64px_crops():
    X, label = pretrained.PhotoCropTask(4)[1]
    assert X.shape == (3, 64, 64) and X.dtype == torch.float32
    assert label == 1
    assert -3 < X.mean() < 3


def test_datasets_list_names_every_dataset(capsys):
    assert datasets.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("textured-digits", "cifar10", "resnet18-vislab"):
        assert name in out


def test_datasets_verify_reports_what_is_missing_and_how_to_fix_it(tmp_cache, capsys):
    assert datasets.main(["verify", "cifar10"]) == 1
    assert "datasets.py prepare cifar10" in capsys.readouterr().out


def test_datasets_prepare_unknown_name_is_a_clear_error(capsys):
    assert datasets.main(["prepare", "imagenet21k"]) == 2
    assert "unknown dataset" in capsys.readouterr().err

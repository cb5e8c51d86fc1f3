"""vislab.pretrained's weight sources, and the datasets.py command line."""

import pytest
import torch
import torchvision

import datasets
from vislab import grading, pretrained
from vislab.pretraining_task import CHARACTERS, PretrainingTask, printed_glyphs


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
    path = pretrained.pretrain_resnet18(num_images=32, batch_size=16, val_images=20)
    saved = torch.load(path, weights_only=True)
    assert len(saved["classes"]) == 22 + 62 and saved["num_images"] == 32
    model, source = pretrained.resnet18_backbone()
    assert "vislab's own checkpoint" in source and "62 printed characters" in source
    assert torch.equal(model.conv1.weight, saved["state_dict"]["conv1.weight"])
    assert set(saved["val_accuracy"]) == {"photos", "characters"}
    assert all(0 <= value <= 1 for value in saved["val_accuracy"].values())


def test_a_changed_checkpoint_is_refused_with_the_command_that_remakes_it(tmp_cache):
    path = pretrained.pretrain_resnet18(num_images=16, batch_size=16, val_images=10)
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(RuntimeError, match="datasets.py prepare resnet18-vislab"):
        pretrained.load_kit_checkpoint()


def test_the_pretraining_task_gives_64px_collages_and_printed_characters():
    task = PretrainingTask(seed=3)
    X, photos, characters = task.batch(40)
    assert X.shape == (40, 3, 64, 64) and X.dtype == torch.float32
    assert 0 <= X.min() and X.max() <= 1
    assert photos.shape == (20, len(task.photo_names)) and characters.shape == (20,)
    shown = photos.sum(1)
    assert (shown >= 1).all() and (shown <= 3).all(), "a collage shows one to three photos"
    assert (shown > 1).any(), "some collages have a band or a patch of another photo"
    assert (characters < len(CHARACTERS)).all()
    again, _, _ = PretrainingTask(seed=3).batch(40)
    assert torch.equal(X, again), "the same seed draws the same images"


def test_the_pretraining_loss_reads_photo_outputs_of_collages_and_character_outputs_of_the_rest():
    photos = torch.zeros(2, 22)
    photos[0, [0, 4]] = 1  # a collage of two photos
    photos[1, 7] = 1
    characters = torch.tensor([3, 61])
    y_hat = torch.full((4, 22 + 62), -20.0)
    y_hat[:2, :22][photos.bool()] = 20.0
    y_hat[2, 22 + 3] = y_hat[3, 22 + 61] = 20.0
    assert pretrained.pretraining_loss(y_hat, photos, characters) < 1e-3
    ignored = y_hat.clone()
    ignored[:2, 22:] = torch.randn(2, 62)  # character outputs of collages
    ignored[2:, :22] = torch.randn(2, 22)  # photo outputs of printed characters
    assert pretrained.pretraining_loss(ignored, photos, characters) < 1e-3
    wrong = y_hat.clone()
    wrong[:2, 4] = -20.0  # the second photo of the first collage missed
    assert pretrained.pretraining_loss(wrong, photos, characters) > 0.4
    wrong = y_hat.clone()
    wrong[3, 22 + 60] = 40.0  # the last character read as another one
    assert pretrained.pretraining_loss(wrong, photos, characters) > 5


def test_every_character_is_printed_in_many_fonts():
    glyphs, characters = printed_glyphs()
    assert glyphs.shape[1:] == (32, 32)
    counts = torch.bincount(characters, minlength=len(CHARACTERS))
    assert counts.min() >= 15, "each of the 62 characters is drawn by most of the 21 fonts"
    ink_box = glyphs.amax(dim=1).gt(0.5).sum(1).float()  # inked columns per glyph
    assert ink_box.median() >= 10, "glyphs are scaled to fill their box"


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

"""vislab.training: fit keeps the best epoch, saves its run, stops on NaN, never trains under autograde."""

import json
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vislab import grading
from vislab.metrics import accuracy
from vislab.seeds import seeded_generator
from vislab.training import History, fit, predict


def _separable_data(n=256, seed=0):
    generator = seeded_generator(seed)
    X = torch.randn(n, 4, generator=generator)
    y = (X[:, 0] + X[:, 1] > 0).long()
    return DataLoader(TensorDataset(X, y), batch_size=32)


def _fit(tmp_path, model, num_epochs=5, lr=0.1, **kwargs):
    loader = _separable_data()
    return fit(model, loader, _separable_data(seed=1), nn.CrossEntropyLoss(),
               torch.optim.SGD(model.parameters(), lr=lr), num_epochs, name="run",
               metric_fn=accuracy, run_dir=tmp_path / "runs", device="cpu", **kwargs)


def test_fit_learns_keeps_history_and_saves_the_run(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    history = _fit(tmp_path, model)
    assert len(history.epochs) == 5
    assert history.best["val_accuracy"] == max(history.series("val_accuracy"))
    assert history.best["val_accuracy"] > 0.9
    saved = json.loads((tmp_path / "runs" / "run.json").read_text())
    assert saved["best_epoch"] == history.best_epoch
    weights = torch.load(tmp_path / "runs" / "run.pt", weights_only=True)
    assert torch.equal(weights["weight"], model.weight), "the best epoch's weights are kept"


def test_fit_restores_the_best_epoch_not_the_last(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    history = _fit(tmp_path, model, num_epochs=6, lr=5.0)  # large steps: accuracy jumps around
    y_hat, y = predict(model, _separable_data(seed=1), device="cpu")
    assert accuracy(y_hat, y) == pytest.approx(history.best["val_accuracy"])


def test_fit_stops_on_a_non_finite_loss(tmp_path):
    class Exploding(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 2)

        def forward(self, X):
            return self.linear(X) * math.inf

    history = _fit(tmp_path, Exploding())
    assert history.epochs == []
    assert "non-finite loss" in history.stopped_because


def test_fit_stops_early_after_patience_epochs(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    history = _fit(tmp_path, model, num_epochs=30, patience=2)
    assert len(history.epochs) < 30
    assert len(history.epochs) - history.best_epoch == 2
    assert history.stopped_because.startswith("early stopping")


def test_autograde_loads_the_saved_run_instead_of_training(tmp_path, monkeypatch):
    torch.manual_seed(0)
    trained = nn.Linear(4, 2)
    history = _fit(tmp_path, trained)
    monkeypatch.setenv("NBGRADER_EXECUTION", grading.AUTOGRADE)
    fresh = nn.Linear(4, 2)
    loaded = _fit(tmp_path, fresh, lr=1e6)  # would wreck the weights if it trained
    assert loaded == history
    assert torch.equal(fresh.weight, trained.weight)


def test_autograde_without_a_saved_run_names_the_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", grading.AUTOGRADE)
    with pytest.raises(grading.MissingArtefact, match="run.json is missing"):
        _fit(tmp_path, nn.Linear(4, 2))


def test_validate_without_a_saved_run_trains_briefly_and_saves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", grading.VALIDATE)
    history = _fit(tmp_path, nn.Linear(4, 2), num_epochs=10)
    assert len(history.epochs) == grading.VALIDATE_EPOCHS
    assert not (tmp_path / "runs").exists()


def test_history_round_trips_through_json(tmp_path):
    history = History(name="x", metric_name="accuracy",
                      epochs=[{"epoch": 1, "train_loss": 1.0, "val_loss": 0.5}], best_epoch=1)
    history.save(tmp_path / "x.json")
    assert History.load(tmp_path / "x.json") == history

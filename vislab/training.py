"""Training loops: ``train_one_epoch``, ``evaluate`` and ``fit`` with a saved history.

``fit`` keeps a :class:`History`, shows a progress bar (:mod:`vislab.progress`), stops on a non-finite
loss, stops early when the validation metric has not improved for ``patience`` epochs, and
restores the weights of the best validation epoch. Each run is saved under ``run_dir``:
``<name>.json`` (the history) and, with ``save_weights=True``, ``<name>.pt`` (the best weights).

Under nbgrader (see :mod:`vislab.grading`) ``fit`` does not train: autograde loads the saved
run (or raises :class:`vislab.grading.MissingArtefact`); validate loads it when present and
otherwise trains ``VALIDATE_EPOCHS`` epochs of ``VALIDATE_BATCHES`` batches without saving.
"""

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from vislab import grading
from vislab.progress import progress_bar

MetricFn = Callable[[torch.Tensor, torch.Tensor], float]


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class History:
    """What happened in one run of :func:`fit`.

    ``epochs[i]`` holds ``train_loss``, ``val_loss`` and ``val_<metric_name>`` of epoch ``i + 1``.
    ``best_epoch`` is 1-based (0 when no epoch finished).
    """

    name: str
    metric_name: str
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    stopped_because: str = "finished"
    seconds: float = 0.0

    def series(self, key: str) -> list[float]:
        """One column of the history, e.g. ``series("val_loss")``."""
        return [row[key] for row in self.epochs]

    @property
    def best(self) -> dict:
        """The row of the best epoch."""
        if not self.best_epoch:
            raise ValueError(f"run {self.name!r} has no finished epoch")
        return self.epochs[self.best_epoch - 1]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "History":
        return cls(**json.loads(Path(path).read_text()))


def train_one_epoch(model: nn.Module, loader, loss_fn, optimizer, device=None,
                    max_batches: int | None = None, progress: bool = True) -> float:
    """Train ``model`` for one pass over ``loader``; return the mean training loss.

    ``loader`` yields ``(X, y)`` batches. Returns ``nan`` as soon as a loss is not finite.
    """
    device = device or default_device()
    model.train()
    total, count = 0.0, 0
    with progress_bar(loader, desc="train", leave=False, disable=not progress,
                      total=_batch_count(loader, max_batches)) as batches:
        for index, (X, y) in enumerate(batches):
            if max_batches is not None and index >= max_batches:
                break
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            if not torch.isfinite(loss):
                return math.nan
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X)
            count += len(X)
    return total / max(count, 1)


@torch.no_grad()
def predict(model: nn.Module, loader, device=None, max_batches: int | None = None,
            ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Model outputs for every batch of ``loader``, concatenated on the CPU.

    ``loader`` yields ``(X, y)`` or ``X`` alone; returns ``(y_hat, y)`` with ``y`` ``None`` when
    the loader has no labels.
    """
    device = device or default_device()
    model.eval()
    outputs, targets = [], []
    for index, batch in enumerate(loader):
        if max_batches is not None and index >= max_batches:
            break
        X, y = batch if isinstance(batch, list | tuple) else (batch, None)
        outputs.append(model(X.to(device)).cpu())
        if y is not None:
            targets.append(y)
    y_hat = torch.cat(outputs)
    return y_hat, (torch.cat(targets) if targets else None)


def evaluate(model: nn.Module, loader, loss_fn, metric_fn: MetricFn | None = None, device=None,
             max_batches: int | None = None) -> dict[str, float]:
    """Mean loss (and the metric, when given) of ``model`` over ``loader``.

    Returns ``{"loss": ..., "metric": ...}`` (``metric`` only with ``metric_fn``).
    """
    y_hat, y = predict(model, loader, device, max_batches)
    result = {"loss": float(loss_fn(y_hat, y))}
    if metric_fn is not None:
        result["metric"] = float(metric_fn(y_hat, y))
    return result


def fit(model: nn.Module, train_loader, val_loader, loss_fn, optimizer, num_epochs: int, *,
        name: str, metric_fn: MetricFn | None = None, metric_name: str = "accuracy",
        scheduler=None, patience: int | None = None, run_dir: str | Path = "runs",
        save_weights: bool = True, device=None) -> History:
    """Train ``model`` and keep the weights of its best validation epoch.

    The best epoch has the highest ``metric_fn`` on ``val_loader`` (the lowest validation loss
    when there is no metric). ``patience``: stop after that many epochs without improvement.
    ``scheduler`` is stepped once per epoch. Returns the :class:`History`, also saved as
    ``run_dir/<name>.json``; with ``save_weights`` the best weights go to ``run_dir/<name>.pt``.
    """
    run_dir = Path(run_dir)
    history_path, weights_path = run_dir / f"{name}.json", run_dir / f"{name}.pt"
    if grading.is_grading():
        saved = _load_saved_run(model, history_path, weights_path if save_weights else None)
        if saved is not None:
            return saved
        num_epochs, max_batches = grading.VALIDATE_EPOCHS, grading.VALIDATE_BATCHES
        print(f"Validating: no saved run {history_path}; training {num_epochs} epoch of "
              f"{max_batches} batches only to check that the code runs (nothing is saved).")
    else:
        max_batches = None
    device = device or default_device()
    model.to(device)
    history = History(name=name, metric_name=metric_name)
    best_state, best_score, since_best = None, -math.inf, 0
    start = time.perf_counter()
    epochs = progress_bar(range(1, num_epochs + 1), desc=name, unit="epoch")
    for epoch in epochs:
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device, max_batches)
        if math.isnan(train_loss):
            history.stopped_because = (f"non-finite loss in epoch {epoch}: lower the learning "
                                       "rate or check the loss function")
            print(f"Stopped {name}: {history.stopped_because}")
            break
        val = evaluate(model, val_loader, loss_fn, metric_fn, device, max_batches)
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val["loss"]}
        if metric_fn is not None:
            row[f"val_{metric_name}"] = val["metric"]
        history.epochs.append(row)
        score = val["metric"] if metric_fn is not None else -val["loss"]
        if score > best_score:
            best_score, since_best, history.best_epoch = score, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
        epochs.set_postfix({k: round(v, 4) for k, v in row.items() if k != "epoch"})
        if scheduler is not None:
            scheduler.step()
        if patience is not None and since_best >= patience:
            history.stopped_because = f"early stopping: no improvement for {patience} epochs"
            break
    epochs.close()  # its final line shows where a stopped run stopped
    history.seconds = round(time.perf_counter() - start, 2)
    if best_state is not None:
        model.load_state_dict(best_state)
    if not grading.is_grading():
        history.save(history_path)
        if save_weights and best_state is not None:
            torch.save(best_state, weights_path)
    return history


def _load_saved_run(model: nn.Module, history_path: Path, weights_path: Path | None,
                    ) -> History | None:
    """The saved run under grading; ``None`` when validating without one."""
    needed = [history_path] + ([weights_path] if weights_path is not None else [])
    missing = [path for path in needed if not path.exists()]
    if missing:
        if grading.is_autograding():
            raise grading.MissingArtefact(missing[0], "a training run saved by `fit`")
        return None
    if weights_path is not None:
        model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    history = History.load(history_path)
    print(f"Grading: loaded the saved run {history_path} (best epoch {history.best_epoch}) "
          "instead of training.")
    return history


def _batch_count(loader, max_batches: int | None) -> int | None:
    try:
        count = len(loader)
    except TypeError:
        return max_batches
    return count if max_batches is None else min(count, max_batches)

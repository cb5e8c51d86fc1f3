"""What a1 saves next to the notebook so that grading never retrains: scores, the model, a replay.

- :func:`scores_of` computes a model's sigmoid scores on a loader and saves them (with the
  labels) under ``runs/``; under nbgrader it loads them instead, so the plots, the browser and
  the predictions CSV of a graded notebook show the student's own results.
- :func:`save_model` keeps the chosen model's weights (tens of MB: they stay on the student's
  machine and are not handed in).
- :func:`reproduce` reloads those weights, recomputes the validation scores and fails loudly
  when they differ from the saved ones.
"""

from pathlib import Path

import torch
from torch import nn

from vislab import grading
from vislab.training import predict


def scores_of(model: nn.Module, loader, path: str | Path, device=None,
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(scores, labels)``: sigmoid scores (Tensor[N, C]) of ``model`` on ``loader``.

    ``labels`` (Tensor[N, C]) is ``None`` for a loader without labels. A student's own run
    computes and saves them to ``path``; autograde loads ``path`` (``MissingArtefact`` when it
    was not handed in); validate loads it when present, otherwise computes without saving.
    """
    path = Path(path)
    if grading.is_grading() and path.exists():
        saved = torch.load(path, weights_only=True)
        print(f"Grading: loaded the saved scores {path}.")
        return saved["scores"], saved["labels"]
    if grading.is_autograding():
        raise grading.MissingArtefact(path, "a model's scores saved by `scores_of`")
    max_batches = grading.VALIDATE_BATCHES if grading.is_validating() else None
    logits, labels = predict(model, loader, device, max_batches)
    scores = torch.sigmoid(logits)
    if not grading.is_grading():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"scores": scores, "labels": labels}, path)
    return scores, labels


def save_model(model: nn.Module, path: str | Path) -> None:
    """Save ``model``'s weights to ``path`` (not under nbgrader: grading never overwrites)."""
    if grading.is_grading():
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)


def reproduce(model: nn.Module, weights_path: str | Path, loader, scores_path: str | Path,
              atol: float = 1e-5, device=None) -> float | None:
    """Reload ``weights_path`` into ``model``, recompute its scores on ``loader`` and compare.

    Returns the largest absolute difference from the scores saved in ``scores_path``; raises
    ``AssertionError`` when it exceeds ``atol`` or the images are not the same. Under nbgrader
    without the weights (they are not handed in) it says so and returns ``None``.
    """
    weights_path, scores_path = Path(weights_path), Path(scores_path)
    if not weights_path.exists():
        if grading.is_grading():
            print(f"The reproduction runs on your machine only: {weights_path} (the model's "
                  "weights) is not handed in.")
            return None
        raise FileNotFoundError(f"{weights_path} is missing: run the cell that saves the model")
    saved = torch.load(scores_path, weights_only=True)
    model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    logits, labels = predict(model, loader, device)
    if saved["labels"] is not None and not torch.equal(labels, saved["labels"]):
        raise AssertionError("the loader does not give the images the scores were saved for "
                             "(same split, same order, no shuffling)")
    difference = (torch.sigmoid(logits) - saved["scores"]).abs().max().item()
    if difference > atol:
        raise AssertionError(f"reproduction failed: recomputed scores differ from the saved ones "
                             f"by up to {difference:.2e} (allowed {atol:.0e}). Was the model "
                             "changed after saving, or is it in training mode somewhere?")
    return difference

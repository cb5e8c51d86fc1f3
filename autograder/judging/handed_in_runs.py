"""A training run a student handed in (``runs/<name>.json``, as :func:`vislab.training.fit` saves
it), read by a judge as untrusted data: every fault fails the calling judge with words a student
can act on."""

import json
from pathlib import Path

import pytest

#: the largest run file a judge reads (fit's are a few kB)
MAX_RUN_BYTES = 2**20


def handed_in_epochs(submission: Path, run: str, model: str) -> list[dict]:
    """The epochs of the run ``submission / run`` (e.g. ``runs/converted_b.json``) of ``model``
    (words: "the converted model"), each a dict with a numeric ``train_loss``.

    Fails the calling judge when the file is missing, too large or not a run fit saved."""
    path = submission / run
    assert path.is_file(), (f"{run} was not handed in: train {model} with fit (name=\""
                            f"{Path(run).stem}\") and hand in the runs/ folder with the notebook")
    assert path.stat().st_size <= MAX_RUN_BYTES, \
        f"{run} is larger than {MAX_RUN_BYTES // 2**20} MiB: hand in the file fit saved"
    try:
        epochs = json.loads(path.read_text())["epochs"]
        losses = [epoch["train_loss"] for epoch in epochs]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        pytest.fail(f"{run} is not a training run saved by vislab.training.fit: pass the History "
                    f"that fit returned for {model}", pytrace=False)
    assert all(isinstance(loss, float | int) and not isinstance(loss, bool) for loss in losses), \
        f"{run} holds training losses that are not numbers"
    return epochs

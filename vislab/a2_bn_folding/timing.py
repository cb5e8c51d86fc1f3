"""Measuring inference time on the CPU: the original model against its folded copy.

Timing uses ``torch.utils.benchmark`` (warm-up, blocked repeats, median). Models are timed in
interleaved rounds, so a burst of load from another process on a shared machine hits every
model alike; the table reports the median over rounds.
"""

import logging

import pandas as pd
import torch
from torch import nn


class _WithoutCudaRuntimeNote(logging.Filter):
    """Drops the warning "No CUDA runtime is found" that importing ``torch.utils.benchmark``
    logs (through ``torch.utils.cpp_extension``) on a CPU machine that has a CUDA_HOME: nothing
    here compiles CUDA code, and a red warning under a notebook's first cell only alarms."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "No CUDA runtime is found" not in record.getMessage()


_cpp_extension_log = logging.getLogger("torch.utils.cpp_extension")
_note_filter = _WithoutCudaRuntimeNote()
_cpp_extension_log.addFilter(_note_filter)
try:
    from torch.utils import benchmark
finally:
    _cpp_extension_log.removeFilter(_note_filter)


def inference_milliseconds(model: nn.Module, X: torch.Tensor, min_run_time: float = 0.5) -> float:
    """Median milliseconds of one eval-mode forward pass of ``X`` (Tensor[N, C, H, W]).

    >>> inference_milliseconds(nn.Conv2d(3, 4, 3), torch.zeros(1, 3, 8, 8), 0.01) > 0
    True
    """
    model.eval()
    timer = benchmark.Timer(stmt="with torch.inference_mode(): model(X)",
                            globals={"model": model, "X": X, "torch": torch})
    return timer.blocked_autorange(min_run_time=min_run_time).median * 1e3


def time_inference(models: dict[str, nn.Module], inputs: dict[str, torch.Tensor],
                   rounds: int = 3, min_run_time: float = 0.5) -> pd.DataFrame:
    """A table of inference times: one row per input, one ``<model> ms`` column per model.

    Each input is timed on every model in ``rounds`` interleaved rounds of ``min_run_time``
    seconds each; cells hold the median milliseconds per batch. ``images/s`` columns give the
    throughput, and ``<last> vs <first>`` the relative time (e.g. 0.9: 10% faster).
    """
    if not models or not inputs:
        raise ValueError("time_inference needs at least one model and one input")
    rows = []
    for input_name, X in inputs.items():
        times = {name: [] for name in models}
        for _ in range(rounds):
            for name, model in models.items():
                times[name].append(inference_milliseconds(model, X, min_run_time))
        row = {"input": input_name, "batch": len(X)}
        for name in models:
            row[f"{name} ms"] = round(float(torch.tensor(times[name]).median()), 2)
            row[f"{name} images/s"] = round(len(X) / row[f"{name} ms"] * 1e3, 1)
        first, last = list(models)[0], list(models)[-1]
        if first != last:
            row[f"{last} vs {first}"] = round(row[f"{last} ms"] / row[f"{first} ms"], 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("input")

"""Timing and set-up shared by the bench scripts (run as scripts, so bench/ is on sys.path)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from xanes_core.data.dataset import XanesDataset


def best_of(function: Callable[[], object], repeat: int = 3, clock: Callable[[], float] = time.perf_counter) -> float:
    """The shortest of ``repeat`` runs in seconds of ``clock`` (wall time, or e.g. ``time.thread_time``)."""
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        function()
        best = min(best, clock() - start)
    return best


def demo_run(root: Path, epochs: int) -> tuple["XanesDataset", Path]:
    """The full-size demo saved under ``root`` and a symmetry CNN of the default architecture
    trained on it for ``epochs`` (no augmentation): the set-up of the prediction benchmarks,
    where the model's size matters and its quality does not. Exits if training fails."""
    import sys

    from xanes_core.data.demo import generate_demo
    from xanes_core.learn.config import TrainingConfig
    from xanes_core.learn.training import Trainer

    dataset = generate_demo()
    dataset.save(root / "demo")
    config = TrainingConfig(dataset=str(root / "demo"), model="symmetry", epochs=epochs, augment=False)
    final = Trainer(config, out=root / "run", dataset=dataset).start().join()
    if final.status != "completed":
        sys.exit(f"training failed: {final.message}")
    return dataset, root / "run"

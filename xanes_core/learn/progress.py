"""A run's live progress as a page sees it: an immutable snapshot behind a lock (no TensorFlow,
so a page can show progress without loading it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class TrainingSnapshot:
    """A consistent copy of the training state at one moment (what a page renders)."""

    status: str = "queued"
    run_dir: str = ""
    device: str = ""
    message: str = ""
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    val_balanced_accuracy: float | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None  # measured estimate (after the first epoch), see xanes_core.learn.eta
    eta_low_s: float | None = None  # the range shown until then
    eta_high_s: float | None = None
    history: tuple[dict[str, Any], ...] = ()
    member: int = 0  # the ensemble's CNN whose epoch and batch are shown (1-based; 0: not an ensemble)
    members: int = 0
    side_by_side: int = 0  # an ensemble's CNNs training at this moment
    member_done: tuple[float, ...] = ()  # share of each CNN's planned batches done, 0-1

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    @property
    def fraction_done(self) -> float:
        """Share of the planned batches done, 0-1, over every CNN of the run (early stopping
        may end a run sooner)."""
        return sum(self.member_done) / len(self.member_done) if self.member_done else 0.0


def member_fraction(epoch: int, epochs: int, batch: int, batches: int) -> float:
    """Share of one CNN's planned batches done after ``batch`` of ``batches`` in ``epoch`` (1-based)."""
    if not (epochs and batches):
        return 0.0
    return min(max((epoch - 1 + batch / batches) / epochs, 0.0), 1.0)


class TrainingState:
    """Thread-safe holder of the latest :class:`TrainingSnapshot`."""

    def __init__(self, run_dir: str) -> None:
        self._lock = threading.Lock()
        self._snapshot = TrainingSnapshot(run_dir=run_dir)

    def update(self, **changes: Any) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)

    def snapshot(self) -> TrainingSnapshot:
        with self._lock:
            return self._snapshot

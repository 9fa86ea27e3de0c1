"""Time left in a training run, from measured batch and epoch times (no TensorFlow).

An estimate from "elapsed / fraction done" is wrong twice: the first batch carries graph
tracing (seconds, so the first estimate says hours), and an epoch is more than its training
batches: the validation pass and the epoch-end scoring come after them (so the estimate then
falls well short). Here:

- a **batch time** is the mean of the latest measured batch durations, never counting the
  run's first batch (graph tracing) nor any epoch's first batch, which also waits for Keras to
  start the epoch's data pipeline (0.03 s in one process, but often 2-4 s, some 200 batches'
  worth, for ensemble members training side by side on single-threaded workers);
- an **epoch's start** is the duration of its first batch, from the second epoch on (the mean
  of the last three; a plain batch time until one has been measured);
- an **epoch's overhead** is the time from its last training batch to its end (validation pass,
  validation scoring, callbacks). The first epoch's validation pass also traces the test
  function once; that one-off excess is removed by comparing the pass with the epoch-end
  scoring, an untraced forward pass over the same validation data;
- until the first epoch has ended the overhead is unknown, so the estimate is a **range**: the
  batch time +/-25 % (it settles during the first epoch), from no overhead up to a validation
  pass costing as much per batch as training plus one more tracing as long as the first
  batch's;
- after that it is one number: remaining batches x batch time + remaining epoch starts x the
  epoch start + remaining epoch ends x the mean overhead of the last three epochs.

Early stopping may end a run sooner than any estimate for the planned epochs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW = 200  # batches in the moving mean
SPREAD = 0.25  # relative uncertainty of the batch time during the first epoch


@dataclass(frozen=True)
class Estimate:
    """Seconds left; ``seconds`` once measured, else only ``low``-``high``."""

    low: float
    high: float
    seconds: float | None


class EtaEstimator:
    """Fed by a training callback (monotonic times of batch, validation and epoch ends)."""

    def __init__(self, epochs: int, validation_batches: int = 0) -> None:
        self.epochs = epochs
        self.validation_batches = validation_batches
        self.batches = 0
        self._durations: deque[float] = deque(maxlen=WINDOW)
        self._overheads: deque[float] = deque(maxlen=3)
        self._starts: deque[float] = deque(maxlen=3)
        self._epoch, self._batch = 1, 0
        self._last_batch_end: float | None = None
        self._tracing = 0.0
        self._validation: list[float] = []

    def epoch_started(self, now: float, epoch: int, batches: int) -> None:
        self._epoch, self._batch, self.batches = epoch, 0, batches
        self._last_batch_end, self._validation = now, []

    def batch_done(self, now: float, batch: int) -> None:
        """``batch``: 1-based number of the batch just finished in the current epoch."""
        if self._last_batch_end is not None:
            duration = now - self._last_batch_end
            if batch > 1:
                self._durations.append(duration)
            elif self._epoch > 1:
                self._starts.append(duration)
            else:
                self._tracing = duration  # the run's first batch
        self._batch, self._last_batch_end = batch, now

    def validation_started(self, now: float) -> None:
        self._validation = [now]

    def validation_done(self, now: float) -> None:
        self._validation.append(now)

    def epoch_done(self, now: float) -> None:
        if self._last_batch_end is None:
            return
        overhead = now - self._last_batch_end
        if not self._overheads and len(self._validation) == 2:  # first epoch: drop the test tracing
            validation = self._validation[1] - self._validation[0]
            scoring = now - self._validation[1]
            overhead -= max(validation - scoring, 0.0)
        self._overheads.append(max(overhead, 0.0))

    def estimate(self) -> Estimate | None:
        """None until a batch time has been measured (the second batch of the run)."""
        if not self._durations:
            return None
        batch_time = sum(self._durations) / len(self._durations)
        epoch_start = sum(self._starts) / len(self._starts) if self._starts else batch_time
        later_epochs = self.epochs - self._epoch
        remaining_batches = (self.batches - self._batch) + later_epochs * (self.batches - 1)
        remaining_ends = later_epochs + 1
        base = remaining_batches * batch_time + later_epochs * epoch_start
        if self._overheads:
            seconds = base + remaining_ends * (sum(self._overheads) / len(self._overheads))
            return Estimate(seconds, seconds, seconds)
        high = base * (1 + SPREAD) + remaining_ends * self.validation_batches * batch_time + self._tracing
        return Estimate(base * (1 - SPREAD), high, None)


def pool_time_left(running_left: list[float], queued: int, per_member: float, places: int) -> float:
    """Seconds until an ensemble's last CNN ends: those training now end after ``running_left``;
    each of ``queued`` more, ``per_member`` seconds long, starts on the first of ``places``
    side-by-side places to come free (one place: members one after another)."""
    free = sorted([*running_left, *[0.0] * max(places - len(running_left), 0)])
    for _ in range(queued):
        free[0] += per_member
        free.sort()
    return max(free, default=0.0)

"""Hyperparameter search on the validation split: one worker's trials of an Optuna study.

Objective: the **validation balanced accuracy** (threshold 0.5) of the model a trial would
deploy, i.e. after early stopping restored its best weights. Not the validation loss: the
search varies label smoothing and the sample weights, which change what the loss measures, so
losses of two trials are not comparable, while the balanced accuracy is the paper's headline
number and means the same for every trial. Each epoch's validation balanced accuracy is
reported to the study, and the median pruner stops trials that fall behind.

A trial sees the training and validation splits only: :func:`validation_data` packs those two
and nothing else, so no trial can touch the test split. The best configuration becomes a normal
run (``tune-best``, the Tuning page), scored on test once, after the search.

Every trial takes this process's training turn (:mod:`xanes_core.learn.turns`), so a search
started on the dashboard and a training run started there take turns rather than fight.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

import keras
import numpy as np
import optuna
from sklearn.metrics import balanced_accuracy_score

from xanes_core.data.dataset import XanesDataset
from xanes_core.errors import XanesError
from xanes_core.learn import turns
from xanes_core.learn.config import TrainingConfig
from xanes_core.learn.features import pack
from xanes_core.learn.search_space import config_from_params, suggest
from xanes_core.learn.studies import WORKER, StudySummary, TuningRequest, open_study, summarize


class Stopped(Exception):
    """The person asked the search to stop: the current trial ends failed, no new one starts."""


@dataclass(frozen=True)
class ValidationData:
    """What a trial may see: packed training and validation materials and their labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


def validation_data(dataset: XanesDataset) -> ValidationData:
    """The training and validation splits packed; the test split is never read."""
    train, val = dataset.split_indices("train"), dataset.split_indices("validation")
    if train.size == 0 or val.size == 0:
        raise XanesError("Tuning needs a training and a validation split; assign splits first.")
    labels = dataset.labels
    return ValidationData(pack(dataset, train), labels[train], pack(dataset, val), labels[val])


EpochHook = Callable[[int, int, dict], None]  # (trial number, epoch, logs)


class _TrialReport(keras.callbacks.Callback):
    """Reports each epoch's validation balanced accuracy, prunes, and stops within a batch."""

    def __init__(self, trial: optuna.Trial, stop: threading.Event, on_epoch: EpochHook) -> None:
        super().__init__()
        self.trial, self.stop, self.on_epoch = trial, stop, on_epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.stop.is_set():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.on_epoch(self.trial.number, epoch + 1, logs)
        self.trial.report(float(logs["val_balanced_accuracy"]), epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr("epochs_run", epoch + 1)
            raise optuna.TrialPruned(f"pruned at epoch {epoch + 1}")


def objective(data: ValidationData, base: TrainingConfig, stop: threading.Event,
              on_epoch: EpochHook = lambda trial, epoch, logs: None) -> Callable[[optuna.Trial], float]:
    """The function Optuna calls per trial: draw settings, fit on train, score on validation."""

    def run_trial(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", WORKER)
        config = config_from_params(base, suggest(trial, base.model))
        if not turns.wait_turn(trial, stop.is_set):
            trial.set_user_attr("error", "stopped on request before it started")
            raise Stopped()
        started = time.monotonic()
        try:
            classifier = config.classifier()
            classifier.fit(data.X_train, data.y_train, validation=(data.X_val, data.y_val),
                           callbacks=[_TrialReport(trial, stop, on_epoch)])
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])
            raise
        finally:
            turns.release_turn(trial)
            trial.set_user_attr("seconds", round(time.monotonic() - started, 2))
        if stop.is_set():
            trial.set_user_attr("error", "stopped on request")
            raise Stopped()
        trial.set_user_attr("epochs_run", len(classifier.history_))
        return float(balanced_accuracy_score(data.y_val, classifier.predict(data.X_val)))

    return run_trial


def run_study(request: TuningRequest, dataset: XanesDataset | None = None,
              stop: threading.Event | None = None, on_epoch: EpochHook | None = None) -> StudySummary:
    """Open (create or join) the study, then :func:`search`."""
    started = time.monotonic()
    study, base = open_study(request)
    return search(study, base, request, dataset, stop, on_epoch, started)


def search(study: optuna.Study, base: TrainingConfig, request: TuningRequest, dataset: XanesDataset | None = None,
           stop: threading.Event | None = None, on_epoch: EpochHook | None = None,
           started: float | None = None) -> StudySummary:
    """Run this worker's trials (``request.n_trials`` and/or until ``request.timeout_s``), then
    summarize the whole study. ``stop`` ends the search within one batch."""
    started = time.monotonic() if started is None else started
    data = validation_data(dataset if dataset is not None else XanesDataset.load(base.dataset))
    stop = stop or threading.Event()
    run_trial = objective(data, base, stop, on_epoch or (lambda trial, epoch, logs: None))
    # A failed trial (its error in its attributes) does not end the worker; a stop request does.
    study.optimize(run_trial, n_trials=request.n_trials, timeout=request.timeout_s, catch=(Exception,),
                   callbacks=[lambda study, trial: study.stop() if stop.is_set() else None], gc_after_trial=True)
    return summarize(study, request.storage, time.monotonic() - started)


@dataclass(frozen=True)
class TuningSnapshot:
    """A search's progress as a page shows it."""

    status: str = "queued"  # queued, running, completed, failed, cancelled
    message: str = ""
    trial: int | None = None
    epoch: int = 0
    summary: StudySummary | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")


class TuningJob:
    """One worker's search in a background thread (the dashboard's): poll :meth:`snapshot`,
    stop with :meth:`cancel` (the current trial ends failed within one batch)."""

    def __init__(self, request: TuningRequest, dataset: XanesDataset | None = None) -> None:
        self.request = request
        self._dataset = dataset
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._snapshot = TuningSnapshot(message="starting")
        self._thread = threading.Thread(target=self._work, name=f"tuning-{request.study}", daemon=True)

    def snapshot(self) -> TuningSnapshot:
        with self._lock:
            return self._snapshot

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)

    def start(self) -> "TuningJob":
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._stop.set()
        turns.wake()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> TuningSnapshot:
        self._thread.join(timeout)
        return self.snapshot()

    def _on_epoch(self, trial: int, epoch: int, logs: dict) -> None:
        self._update(trial=trial, epoch=epoch,
                     message=f"trial {trial}, epoch {epoch}: validation balanced accuracy "
                             f"{logs.get('val_balanced_accuracy', float('nan')):.3f}")

    def _work(self) -> None:
        self._update(status="running", message="opening the study and loading data")
        try:
            summary = run_study(self.request, self._dataset, self._stop, self._on_epoch)
            status = "cancelled" if self._stop.is_set() else "completed"
            self._update(status=status, summary=summary, message=f"{summary.n_trials} trials in the study, "
                         f"best {summary.best_value if summary.best_value is not None else '-'}")
        except BaseException as exc:  # noqa: BLE001 - any failure must end as a failed search
            message = str(exc) if isinstance(exc, XanesError) else f"{type(exc).__name__}: {exc}"
            self._update(status="failed", message=message)

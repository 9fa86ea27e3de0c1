"""Training engine: a TrainingConfig runs in a background thread and reports as it goes.

The dashboard and the CLI use the same :class:`Trainer`. Progress goes into a locked
:class:`TrainingState` (polled by the page) and into the run folder (:mod:`xanes_core.learn.runs`).
One training runs at a time per process (:mod:`xanes_core.learn.turns`, shared with tuning
trials): later trainers wait, FIFO, in state "queued", so two users cannot make two trainings
fight over one GPU or two CPU cores.

The recipe itself lives in the classifiers (:mod:`xanes_core.learn.classifiers`,
:mod:`xanes_core.learn.baselines`): the Trainer packs the dataset's splits, fits the classifier
on the training split (validation split for early stopping), saves it and scores the test split.
The test split never reaches the fit.
"""

from __future__ import annotations

import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import keras
import numpy as np

from xanes_core.data.classes import BINARY, TASK_CLASSES, class_names, task_labels
from xanes_core.data.dataset import SPLITS, XanesDataset, check_dataset_folder
from xanes_core.data.reference import REFERENCE_FILE, EnergyReference
from xanes_core.errors import XanesError
from xanes_core.learn import runs, turns
from xanes_core.learn.binding import check_stored, record_dataset
from xanes_core.learn.config import CNN_TYPES, TrainingConfig
from xanes_core.learn.eta import EtaEstimator, pool_time_left
from xanes_core.learn.evaluation import Evaluation, evaluate_run
from xanes_core.learn.features import pack
from xanes_core.learn.progress import TrainingSnapshot, TrainingState, member_fraction


class _RunProgress:
    """A run's progress over its CNN(s): the live state, the time left, the history in the run
    folder. Each CNN reports through its own :class:`_Progress`; an ensemble's CNNs may train
    several at once (``places`` side by side), one after another, or both."""

    def __init__(self, trainer: "Trainer", validation_batches: int, members: int, places: int) -> None:
        self.trainer, self.validation_batches = trainer, validation_batches
        self.members, self.places = members, places
        self.history: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.running: dict[int, _Progress] = {}
        self.durations: list[float] = []  # of the CNNs done
        self.done = [0.0] * members
        trainer.state.update(member_done=tuple(self.done))

    def member_callbacks(self, index: int) -> list["_Progress"]:
        """The callbacks of CNN ``index`` (0-based), as it starts: a cancel stops here."""
        if self.trainer.cancel_requested:
            raise Cancelled()
        progress = _Progress(self, index)
        self.running[index] = progress
        self._say_who()
        return [progress]

    def shown(self, index: int) -> bool:
        """Whether CNN ``index`` is the one whose epoch and batch the state shows (the first running)."""
        return index == min(self.running, default=index)

    def _say_who(self) -> None:
        if self.trainer.config.ensemble is None or not self.running:
            return
        numbers = sorted(index + 1 for index in self.running)
        device = self.trainer.state.snapshot().device
        if len(numbers) == 1:
            message = f"training CNN {numbers[0]} of {self.members} on {device}"
        else:
            message = (f"training CNNs {', '.join(map(str, numbers))} of {self.members} side by side "
                       f"({self.places} processes on the {device})")
        self.trainer.state.update(member=numbers[0], members=self.members, side_by_side=len(numbers), message=message)

    def batch_done(self, progress: "_Progress", fraction: float) -> None:
        self.done[progress.index] = fraction
        self._report()

    def _report(self) -> None:
        now = time.monotonic()
        low, high, seconds = self._time_left(now)
        self.trainer.state.update(elapsed_s=now - self.started, member_done=tuple(self.done),
                                  eta_s=seconds, eta_low_s=low, eta_high_s=high)

    def _time_left(self, now: float) -> tuple[float | None, float | None, float | None]:
        """(low, high, measured) seconds until the last CNN ends: those running from their own
        estimates, those not begun at the mean time of the CNNs done (or, before one is done,
        of the running ones' projected times), as side-by-side places come free."""
        waiting = self.members - len(self.running) - len(self.durations)
        if not self.running and not waiting:
            return 0.0, 0.0, 0.0  # every CNN trained: evaluation is all that is left
        estimates = [progress.eta.estimate() for progress in self.running.values()]
        if not estimates or None in estimates:
            return None, None, None
        values = []
        for part in ("low", "high", "seconds"):
            left = [getattr(estimate, part) for estimate in estimates]
            if None in left:
                values.append(None)
                continue
            projected = [now - progress.began + seconds for progress, seconds in zip(self.running.values(), left)]
            per_member = sum(self.durations or projected) / len(self.durations or projected)
            values.append(pool_time_left(left, waiting, per_member, self.places))
        return values[0], values[1], values[2]

    def epoch_done(self, progress: "_Progress", entry: dict[str, Any]) -> None:
        """One CNN's epoch into the history (kept in order of CNN, then epoch) and the state."""
        self.history.append(entry)
        self.history.sort(key=lambda item: item.get("member", 0))
        runs.write_history(self.trainer.run_dir, self.history)
        changes = {"val_loss": entry.get("val_loss"), "val_accuracy": entry.get("val_accuracy"),
                   "val_balanced_accuracy": entry.get("val_balanced_accuracy")}
        self.trainer.state.update(**(changes if self.shown(progress.index) else {}), history=tuple(self.history))

    def member_ended(self, progress: "_Progress") -> None:
        self.durations.append(time.monotonic() - progress.began)
        self.done[progress.index] = 1.0
        self.running.pop(progress.index, None)
        self._report()  # the ended CNN's estimate no longer counts
        self._say_who()


class _Progress(keras.callbacks.Callback):
    """One CNN's training events (replayed from a worker process when an ensemble trains side by
    side): its time-left estimate, its epochs in the history; stops within one batch when
    cancelled."""

    def __init__(self, run: _RunProgress, index: int) -> None:
        super().__init__()
        self.run, self.index, self.trainer = run, index, run.trainer
        self.began = self.epoch_started = time.monotonic()
        self.eta = EtaEstimator(self.trainer.config.epochs, run.validation_batches)
        self.epoch, self.steps = 1, 0

    def _check_cancel(self) -> None:
        if self.trainer.cancel_requested:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_started = time.monotonic()
        self.epoch, self.steps = epoch + 1, int(self.params.get("steps") or 0)
        self.eta.epoch_started(self.epoch_started, self.epoch, self.steps)
        if self.run.shown(self.index):
            self.trainer.state.update(epoch=self.epoch, batch=0, batches=self.steps)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.eta.batch_done(time.monotonic(), batch + 1)
        if self.run.shown(self.index):
            self.trainer.state.update(epoch=self.epoch, batch=batch + 1, batches=self.steps,
                                      loss=_num(logs.get("loss")), accuracy=_num(logs.get("accuracy")))
        self.run.batch_done(self, member_fraction(self.epoch, self.trainer.config.epochs, batch + 1, self.steps))
        self._check_cancel()

    def on_test_begin(self, logs: dict | None = None) -> None:
        self.eta.validation_started(time.monotonic())  # fit's validation pass

    def on_test_end(self, logs: dict | None = None) -> None:
        self.eta.validation_done(time.monotonic())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.eta.epoch_done(time.monotonic())
        member = {"member": self.index + 1} if self.trainer.config.ensemble else {}
        self.run.epoch_done(self, {**member, "epoch": epoch + 1,
                                   "seconds": round(time.monotonic() - self.epoch_started, 3),
                                   **{key: _num(value) for key, value in (logs or {}).items()}})
        self._check_cancel()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.run.member_ended(self)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


class Cancelled(Exception):
    """Raised inside the worker when a cancel arrives between training phases."""


def _check_trainable(config: TrainingConfig, dataset: XanesDataset | None) -> None:
    """The dataset exists and has labelled materials (unlabelled ones are in no split and never
    trained on; a library of only unlabelled spectra cannot be trained on at all)."""
    if dataset is None:
        manifest = check_dataset_folder(config.dataset)
        n_labelled = manifest.get("n_labelled", manifest.get("n_samples"))  # older folders: all labelled
    else:
        check_stored(dataset, config.dataset)  # a run records which stored version it learns from
        n_labelled = int(dataset.labelled.sum())
    if not n_labelled:
        raise XanesError("The dataset has no labelled materials (every label is unknown): it can be "
                         "browsed and matched, not trained on.")


class Trainer:
    """Run one TrainingConfig in a background thread; poll :attr:`state`, stop with cancel().

    The run folder is created (config + status "queued") when the trainer is made, so a page
    can list it at once. ``dataset`` may pass an already loaded dataset (it must be the one at
    ``config.dataset``); otherwise the worker loads it. ``origin``, when given, is recorded
    in config.json under that key: where the settings came from (e.g. a tuning study's trial).
    """

    def __init__(self, config: TrainingConfig, out: str | Path | None = None,
                 dataset: XanesDataset | None = None, origin: dict[str, Any] | None = None) -> None:
        self.config = config
        _check_trainable(config, dataset)  # a bad request leaves no run folder behind
        self.run_dir = runs.new_run_dir(config.model, out)
        self.state = TrainingState(str(self.run_dir))
        self.error: BaseException | None = None
        self.evaluation: Evaluation | None = None
        self._dataset = dataset
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"training-{self.run_dir.name}", daemon=True)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        runs.write_config(self.run_dir, {**config.to_dict(), "created": created,
                                         **({"origin": origin} if origin else {})})
        runs.write_status(self.run_dir, "queued", "waiting to start")

    # ------------------------------------------------------------ control
    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> "Trainer":
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the run to stop; a running epoch stops after the current batch."""
        self._cancel.set()
        turns.wake()

    def join(self, timeout: float | None = None) -> TrainingSnapshot:
        self._thread.join(timeout)
        return self.state.snapshot()

    # ------------------------------------------------------------- worker
    def _set_status(self, status: str, message: str = "") -> None:
        """The live state first, then the run folder: whoever reads a status on disk (the run
        table) finds the live panel already there."""
        self.state.update(status=status, message=message)
        runs.write_status(self.run_dir, status, message)

    def _show_queue(self, ahead: int) -> None:
        self.state.update(message=f"queued: {ahead} training(s) ahead")

    def _work(self) -> None:
        started = time.monotonic()
        try:
            if not turns.wait_turn(self, lambda: self.cancel_requested, self._show_queue):
                raise Cancelled()
            self._set_status("running", "loading data")
            self._train()
            self._set_status("completed", f"finished in {time.monotonic() - started:.1f} s")
        except Cancelled:
            self._set_status("cancelled", "stopped on request")
        except BaseException as exc:  # noqa: BLE001 - any failure must end as a failed run
            self.error = exc
            message = str(exc) if isinstance(exc, XanesError) else f"{type(exc).__name__}: {exc}"
            runs.write_status(self.run_dir, "failed", message, traceback=traceback.format_exc())
            self.state.update(status="failed", message=message)
        finally:
            turns.release_turn(self)
            self.state.update(elapsed_s=time.monotonic() - started, eta_s=0.0, eta_low_s=0.0, eta_high_s=0.0)

    def _train(self) -> None:
        config = self.config
        dataset = self._dataset if self._dataset is not None else XanesDataset.load(config.dataset)
        y = task_labels(dataset.metadata, config.task)
        splits = task_splits(dataset, y, config.task)
        binding = record_dataset(self.run_dir, dataset, config.dataset)  # this exact version, for good
        runs.write_config(self.run_dir, {**runs.read_config(self.run_dir), **binding})
        runs.write_splits(self.run_dir, splits)
        save_energy_reference(self.run_dir, dataset, splits["train"])
        X = pack(dataset)
        train, validation = splits["train"], splits["validation"]
        classifier = config.classifier()
        if config.model in CNN_TYPES:
            from xanes_core.learn.classifiers import select_device

            device = select_device()[1]
            self.state.update(device=device, epochs=config.epochs, message=f"training on {device}")
            places = classifier.side_by_side() if config.ensemble else 1
            progress = _RunProgress(self, -(-len(validation) // config.batch_size), config.ensemble or 1, places)
            if config.ensemble:
                classifier.fit(X[train], y[train], validation=(X[validation], y[validation]),
                               member_callbacks=progress.member_callbacks)
            else:
                classifier.fit(X[train], y[train], validation=(X[validation], y[validation]),
                               callbacks=progress.member_callbacks(0))
        else:
            self.state.update(device="CPU", message=f"fitting the {config.model} baseline")
            classifier.fit(X[train], y[train])
        if self.cancel_requested:
            raise Cancelled()
        runs.save_classifier(self.run_dir, classifier)
        self.state.update(message="evaluating on the test split")
        self.evaluation = evaluate_run(runs.load_run(self.run_dir), dataset)
        runs.write_metrics(self.run_dir, self.evaluation.to_dict())


def task_splits(dataset: XanesDataset, labels: np.ndarray, task: str) -> dict[str, np.ndarray]:
    """Each split's materials that have a class for ``task`` (never an unlabelled one); a
    XanesError when a split is empty or the training split lacks one of the task's classes."""
    splits = {name: (members := dataset.split_indices(name))[labels[members] >= 0] for name in SPLITS}
    for name, members in splits.items():
        if members.size == 0:
            which = "" if task == BINARY else f" with a {task} class"
            raise XanesError(f"The dataset has no '{name}' samples{which}; assign splits first.")
    present = set(labels[splits["train"]].tolist())
    if task == BINARY and len(present) < 2:
        raise XanesError("The training split needs both topological and trivial samples.")
    if len(present) < len(TASK_CLASSES[task]):
        missing = sorted(set(class_names(task)) - {class_names(task)[k] for k in present})
        raise XanesError(f"The training split has no {', '.join(missing)} materials: the {task} task needs all "
                         f"of {', '.join(class_names(task))}.")
    return splits


def save_energy_reference(run_dir: Path, dataset: XanesDataset, train: np.ndarray) -> None:
    """The training split's per-element energy reference and domain thresholds, with the run:
    predictions are aligned to it and judged against it (:mod:`xanes_core.data.reference`)."""
    EnergyReference.fit_dataset(dataset, train).save(run_dir / REFERENCE_FILE)

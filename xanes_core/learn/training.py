"""Training engine: a TrainingConfig runs in a background thread and reports as it goes.

The dashboard and the CLI use the same :class:`Trainer`. Progress goes into a locked
:class:`TrainingState` (polled by the page) and into the run folder (:mod:`xanes_core.learn.runs`).
One training runs at a time per process: later trainers wait, FIFO, in state "queued", so
two users cannot make two trainings fight over one GPU or two CPU cores.

CNN recipe (paper): training split copied with +/-1 eV shifts (x3), class x element-rarity
sample weights (:mod:`xanes_core.data.weights`), Adam + binary cross-entropy, early stopping on the
(weighted) validation loss with the best weights restored. One addition to the paper: the
cross-entropy uses label smoothing (``TrainingConfig.label_smoothing``, default 0.1, targets
0.05/0.95), which keeps the validation loss from rising with over-confidence before the
balanced accuracy has peaked, so early stopping no longer restores an epoch-1 model. Baselines ("svm", "elements") fit on
the unaugmented training split with the same weights and are stored as runs as well.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from xanes_core.learn import runs
from xanes_core.learn.baselines import BASELINES
from xanes_core.data.dataset import SPLITS, XanesDataset, check_dataset_folder
from xanes_core.errors import XanesError
from xanes_core.learn.evaluation import Evaluation, evaluate_run
from xanes_core.learn.model import (MODEL_TYPES, CNNClassifier, EncodedSpectra, ModelConfig,
                              SpectraBatches, build_model)
from xanes_core.data.preprocess import Standardizer, augment_shifts
from xanes_core.data.weights import sample_weights

ALL_MODEL_TYPES = MODEL_TYPES + tuple(BASELINES)


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a run (saved as config.json)."""

    dataset: str
    model: str = "symmetry"
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 5
    seed: int = 0
    augment: bool = True
    label_smoothing: float = 0.1
    model_config: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        if self.model not in ALL_MODEL_TYPES:
            raise XanesError(f"Unknown model '{self.model}'; use one of {', '.join(ALL_MODEL_TYPES)}.")
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                raise XanesError(f"{name.replace('_', ' ').capitalize()} must be at least 1.")
        if not self.learning_rate > 0:
            raise XanesError("The learning rate must be positive.")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise XanesError("Label smoothing must be at least 0 and below 1.")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "model_config": self.model_config.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainingConfig":
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        known["model_config"] = ModelConfig.from_dict(values.get("model_config", {}))
        return cls(**known)


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
    eta_s: float | None = None
    history: tuple[dict[str, Any], ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")


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


# One training at a time per process: FIFO of waiting trainers guarded by a condition.
_turn = threading.Condition()
_waiting: deque["Trainer"] = deque()


def select_device() -> tuple[tf.distribute.Strategy, str]:
    """MirroredStrategy over several GPUs, the single GPU if one, else the CPU (with its name)."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        names = [g.name for g in gpus]
        return tf.distribute.MirroredStrategy(names), ",".join(f"GPU:{i}" for i in range(len(gpus)))
    if len(gpus) == 1:
        return tf.distribute.OneDeviceStrategy(gpus[0].name), "GPU:0"
    return tf.distribute.get_strategy(), "CPU"


class _Progress(keras.callbacks.Callback):
    """Feeds the state and the run folder; stops within one batch when cancelled."""

    def __init__(self, trainer: "Trainer", encoded: EncodedSpectra, validation: np.ndarray,
                 labels: np.ndarray, batches: int) -> None:
        super().__init__()
        self.trainer, self.encoded, self.validation, self.labels = trainer, encoded, validation, labels
        self.batches = batches
        self.history: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.epoch_started = self.started

    def _check_cancel(self) -> None:
        if self.trainer.cancel_requested:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_started = time.monotonic()
        self.trainer.state.update(epoch=epoch + 1, batch=0)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        done = self.trainer.state.snapshot().epoch - 1 + (batch + 1) / self.batches
        elapsed = time.monotonic() - self.started
        total = self.trainer.config.epochs
        self.trainer.state.update(batch=batch + 1, loss=_num(logs.get("loss")),
                                  accuracy=_num(logs.get("accuracy")), elapsed_s=elapsed,
                                  eta_s=elapsed / done * (total - done) if done else None)
        self._check_cancel()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        probabilities = CNNClassifier(self.model, self.trainer.config.model).predict_proba(
            self.encoded, self.validation)
        predicted = probabilities >= 0.5
        recalls = [float((predicted[self.labels == 1]).mean()), float((~predicted[self.labels == 0]).mean())]
        entry = {"epoch": epoch + 1, "seconds": round(time.monotonic() - self.epoch_started, 3),
                 **{key: _num(value) for key, value in logs.items()},
                 "val_balanced_accuracy": float(np.mean(recalls))}
        self.history.append(entry)
        runs.write_history(self.trainer.run_dir, self.history)
        self.trainer.state.update(val_loss=entry.get("val_loss"), val_accuracy=entry.get("val_accuracy"),
                                  val_balanced_accuracy=entry["val_balanced_accuracy"],
                                  history=tuple(self.history))
        self._check_cancel()


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


class Cancelled(Exception):
    """Raised inside the worker when a cancel arrives between training phases."""


class Trainer:
    """Run one TrainingConfig in a background thread; poll :attr:`state`, stop with cancel().

    The run folder is created (config + status "queued") when the trainer is made, so a page
    can list it at once. ``dataset`` may pass an already loaded dataset (it must be the one at
    ``config.dataset``); otherwise the worker loads it.
    """

    def __init__(self, config: TrainingConfig, out: str | Path | None = None,
                 dataset: XanesDataset | None = None) -> None:
        self.config = config
        if dataset is None:
            check_dataset_folder(config.dataset)  # a bad request leaves no run folder behind
        self.run_dir = runs.new_run_dir(config.model, out)
        self.state = TrainingState(str(self.run_dir))
        self.error: BaseException | None = None
        self.evaluation: Evaluation | None = None
        self._dataset = dataset
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"training-{self.run_dir.name}", daemon=True)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        runs.write_config(self.run_dir, {**config.to_dict(), "created": created})
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
        with _turn:
            _turn.notify_all()

    def join(self, timeout: float | None = None) -> TrainingSnapshot:
        self._thread.join(timeout)
        return self.state.snapshot()

    # ------------------------------------------------------------- worker
    def _set_status(self, status: str, message: str = "") -> None:
        runs.write_status(self.run_dir, status, message)
        self.state.update(status=status, message=message)

    def _wait_turn(self) -> bool:
        with _turn:
            _waiting.append(self)
            while _waiting[0] is not self:
                if self.cancel_requested:
                    _waiting.remove(self)
                    _turn.notify_all()
                    return False
                self.state.update(message=f"queued: {list(_waiting).index(self)} training(s) ahead")
                _turn.wait(0.5)
        return not self.cancel_requested

    def _release_turn(self) -> None:
        with _turn:
            if self in _waiting:
                _waiting.remove(self)
            _turn.notify_all()

    def _work(self) -> None:
        started = time.monotonic()
        try:
            if not self._wait_turn():
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
            self._release_turn()
            self.state.update(elapsed_s=time.monotonic() - started, eta_s=0.0)

    def _train(self) -> None:
        config = self.config
        dataset = self._dataset if self._dataset is not None else XanesDataset.load(config.dataset)
        splits = {name: dataset.split_indices(name) for name in SPLITS}
        for name, members in splits.items():
            if members.size == 0:
                raise XanesError(f"The dataset has no '{name}' samples; assign splits first.")
        if len(set(dataset.labels[splits["train"]].tolist())) < 2:
            raise XanesError("The training split needs both topological and trivial samples.")
        standardizer = Standardizer.fit_dataset(dataset, splits["train"])
        runs.write_config(self.run_dir, {**runs.read_config(self.run_dir), "dataset_samples": dataset.n_samples})
        runs.write_splits(self.run_dir, splits)
        standardizer.save(self.run_dir / runs.STANDARDIZER)
        keras.utils.set_random_seed(config.seed)
        if config.model in BASELINES:
            classifier = self._fit_baseline(dataset, splits, standardizer)
        else:
            classifier = self._fit_cnn(dataset, splits, standardizer)
        if self.cancel_requested:
            raise Cancelled()
        runs.save_classifier(self.run_dir, classifier)
        self.state.update(message="evaluating on the test split")
        self.evaluation = evaluate_run(runs.load_run(self.run_dir), dataset)
        runs.write_metrics(self.run_dir, self.evaluation.to_dict())

    def _fit_baseline(self, dataset: XanesDataset, splits: dict[str, np.ndarray],
                      standardizer: Standardizer) -> runs.Classifier:
        self.state.update(device="CPU", message=f"fitting the {self.config.model} baseline")
        train = splits["train"]
        return BASELINES[self.config.model].fit(
            EncodedSpectra(dataset, standardizer), train, dataset.labels[train],
            sample_weights(dataset, train))

    def _fit_cnn(self, dataset: XanesDataset, splits: dict[str, np.ndarray],
                 standardizer: Standardizer) -> CNNClassifier:
        config = self.config
        train_set = augment_shifts(dataset, splits["train"]) if config.augment else dataset.subset(splits["train"])
        train_samples = np.arange(train_set.n_samples)
        encoded_train = EncodedSpectra(train_set, standardizer)
        encoded = EncodedSpectra(dataset, standardizer)
        validation = splits["validation"]
        batches = SpectraBatches(encoded_train, train_samples, config.batch_size, train_set.labels,
                                 sample_weights(train_set, train_samples), shuffle=True,
                                 seed=config.seed, model_type=config.model)
        val_batches = SpectraBatches(encoded, validation, 1024, dataset.labels[validation],
                                     sample_weights(dataset, validation), model_type=config.model)
        strategy, device = select_device()
        self.state.update(device=device, epochs=config.epochs, batches=len(batches),
                          message=f"training on {device}")
        with strategy.scope():
            model = build_model(config.model, config.model_config)
            model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                          loss=keras.losses.BinaryCrossentropy(label_smoothing=config.label_smoothing),
                          metrics=["accuracy"], jit_compile=False)
        progress = _Progress(self, encoded, validation, dataset.labels[validation], len(batches))
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                                restore_best_weights=True)
        model.fit(batches, validation_data=val_batches, epochs=config.epochs,
                  callbacks=[progress, stopper], verbose=0)
        return CNNClassifier(model, config.model)


def run_train_command(dataset: str, model: str = "symmetry", epochs: int | None = None,
                      seed: int = 0, out: str | None = None) -> dict[str, Any]:
    """``python -m xanes_core train``: train in the foreground, evaluate, return the JSON object.

    A user error (XanesError) raised by the run is re-raised here for the CLI to report.
    """
    overrides = {"epochs": epochs} if epochs is not None else {}
    config = TrainingConfig(dataset=str(Path(dataset).resolve()), model=model, seed=seed, **overrides)
    trainer = Trainer(config, out=out).start()
    final = trainer.join()
    if final.status == "failed":
        if isinstance(trainer.error, XanesError):
            raise trainer.error
        raise RuntimeError(final.message) from trainer.error
    if final.status != "completed" or trainer.evaluation is None:
        raise XanesError(f"Training ended as {final.status}: {final.message}")
    evaluation = trainer.evaluation
    return {
        "run_dir": str(trainer.run_dir),
        "model": model,
        "device": final.device,
        "seconds": round(final.elapsed_s, 2),
        "epochs_run": len(final.history),
        "test": evaluation.summary(),
        "roc_auc": (evaluation.curves["roc"] or {}).get("auc"),
        "reference_balanced_accuracy": evaluation.reference_balanced_accuracy,
    }

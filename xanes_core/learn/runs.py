"""The run registry: one folder per training run, the same for CLI and dashboard runs.

``cache/runs/<run_id>/`` (or an explicit folder) holds, each written atomically:

- ``config.json``: the resolved TrainingConfig (with the dataset path) and schema version;
- ``status.json``: queued / running / completed / failed / cancelled, the writer's pid, a
  message and timestamps. A run still marked queued/running whose pid is no longer alive is
  reported as ``interrupted`` (the process died without saying so);
- ``history.json``: one entry per finished epoch (loss, accuracy, validation metrics, seconds);
- ``splits.npz``: the train / validation / test sample positions in the dataset;
- ``standardizer.npz``: the per-element standardizer fitted on the training split;
- ``model.keras`` (CNNs, loaded with safe mode) or ``baseline.npz`` (svm / elements), written by
  the classifier itself (:mod:`xanes_core.learn.classifiers`, :mod:`xanes_core.learn.baselines`);
  an ensemble writes ``members/<i>/`` (one CNN each) and ``ensemble.json`` instead
  (:mod:`xanes_core.learn.ensemble`);
- ``energy_reference.npz``: the training split's per-element energy reference and domain
  thresholds (:mod:`xanes_core.data.reference`), for aligning and judging predictions;
- ``metrics.json``: the test-split evaluation (see :mod:`xanes_core.learn.evaluation`);
- ``.claimed``: empty, created exclusively when the folder is given to the run, so that no
  other run (in any process) is ever written into it.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from xanes_core import atomic
from xanes_core.data.classes import BINARY
from xanes_core.data.dataset import CLASS_NAMES, SPLITS, XanesDataset
from xanes_core.data.preprocess import Standardizer
from xanes_core.errors import RunError
from xanes_core.learn.binding import (
    RECORD,
    DatasetBinding,
    check_dataset,
    dataset_binding,
)
from xanes_core.learn.config import TrainingConfig
from xanes_core.npz import read_arrays
from xanes_core.paths import runs_root

SCHEMA_VERSION = 1
STATUSES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
CONFIG, STATUS, HISTORY, SPLITS_FILE = "config.json", "status.json", "history.json", "splits.npz"
METRICS = "metrics.json"
CLAIM = ".claimed"  # created exclusively when a folder is given to a run (see new_run_dir)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_dir(model_type: str, out: str | Path | None = None) -> Path:
    """A fresh run folder that no other run, in this process or another, can be given.

    ``out``: that folder, which must not exist yet or be empty; default: a new name under
    runs_root(). The folder is claimed by creating :data:`CLAIM` in it exclusively (O_EXCL),
    so two trainings started together into one cache, or with the same ``out``, never share one.
    """
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise RunError(f"{path} exists and is not a folder.")
        path.mkdir(parents=True, exist_ok=True)
        if not _claim(path):
            raise RunError(f"{path} already holds a run or other files; choose another --out folder.")
        return path
    while True:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = runs_root() / f"{stamp}-{model_type}-{secrets.token_hex(3)}"
        path.mkdir(parents=True, exist_ok=True)
        if _claim(path):
            return path


def _claim(path: Path) -> bool:
    """Claim an empty folder for one run; False if it holds anything or another run got it first."""
    if any(entry.name != CLAIM for entry in path.iterdir()):
        return False
    try:
        os.close(os.open(path / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    atomic.write_json(run_dir / CONFIG, {"schema_version": SCHEMA_VERSION, **config})


def read_config(run_dir: str | Path) -> dict[str, Any]:
    return read_json(Path(run_dir) / CONFIG)


def write_status(run_dir: Path, status: str, message: str = "", **extra: Any) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status}")
    atomic.write_json(run_dir / STATUS, {"status": status, "message": message, "pid": os.getpid(),
                                         "updated": _now(), **extra})


def write_history(run_dir: Path, history: list[dict[str, Any]]) -> None:
    atomic.write_json(run_dir / HISTORY, history)


def write_metrics(run_dir: Path, metrics: dict[str, Any]) -> None:
    atomic.write_json(run_dir / METRICS, metrics)


def write_splits(run_dir: Path, splits: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(splits[name], dtype=np.int64) for name in SPLITS})
    atomic.write_bytes(run_dir / SPLITS_FILE, buffer.getvalue())


def save_classifier(run_dir: Path, classifier: Any) -> None:
    """The fitted classifier's own files (model or baseline arrays, and its standardizer)."""
    classifier.save(run_dir)


def read_json(path: Path, default: Any = None) -> Any:
    """A run file's JSON; ``default`` when it is missing, else RunError (one reader for every module)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        if default is not None:
            return default
        raise RunError(f"{path.parent} is not a complete run: {path.name} is missing.") from None
    except (OSError, ValueError):
        raise RunError(f"{path} is unreadable or not JSON.") from None


def read_metrics(run_dir: str | Path) -> dict[str, Any]:
    """metrics.json ({} while the run has none); RunError naming the file when it is damaged."""
    path = Path(run_dir) / METRICS
    metrics = read_json(path, default={})
    if not isinstance(metrics, dict) or (metrics and not _holds_test_metrics(metrics)):
        raise RunError(f"{path} is damaged: it does not hold a run's test metrics.")
    return metrics


def _holds_test_metrics(metrics: dict[str, Any]) -> bool:
    test = metrics.get("test")
    classes = metrics.get("classes", list(CLASS_NAMES.values()))  # older runs: the two classes
    return (isinstance(test, dict) and isinstance(classes, list)
            and all(isinstance(test.get(name), dict) for name in classes)
            and {"balanced_accuracy", "n_samples"} <= set(test)
            and all(isinstance(metrics.get(key), kind) for key, kind in
                    (("per_element", dict), ("confusion", list), ("curves", dict), ("projection", dict))))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(run_dir: str | Path) -> dict[str, Any]:
    """status.json, with a queued/running run of a dead process reported as interrupted."""
    status = read_json(Path(run_dir) / STATUS, default={"status": "interrupted", "message": "no status file"})
    if status.get("status") in ACTIVE and not _pid_alive(int(status.get("pid", -1))):
        status = {**status, "status": "interrupted",
                  "message": f"the process (pid {status.get('pid')}) ended while the run was {status['status']}"}
    return status


@dataclass(frozen=True)
class RunSummary:
    """One line of the run list (no model loaded). ``dataset``: the folder it was trained on;
    ``dataset_state``: whether that folder still holds the version it was trained on
    (:class:`~xanes_core.learn.binding.DatasetBinding`)."""

    run_dir: str
    run_id: str
    model: str
    status: str
    message: str
    created: str
    dataset: str
    balanced_accuracy: float | None
    dataset_state: str = "same"
    task: str = "binary"


def list_runs(root: str | Path | None = None, *, dataset: str | Path | None = None,
              status: str | None = None) -> list[RunSummary]:
    """Runs under ``root`` (default runs_root()), newest first; unreadable folders are skipped.

    ``dataset``: only runs trained on that dataset folder; ``status``: only runs in that state.
    """
    root = Path(root) if root is not None else runs_root()
    if not root.is_dir():
        return []
    wanted = Path(dataset).resolve() if dataset is not None else None
    found = []
    for path in root.iterdir():
        if path.name.startswith(".") or not (path / CONFIG).is_file():
            continue
        try:
            summary = _summary(path)
        except RunError:
            continue
        if (wanted is None or Path(summary.dataset).resolve() == wanted) and status in (None, summary.status):
            found.append(summary)
    return sorted(found, key=lambda run: (run.created, run.run_id), reverse=True)


def _summary(path: Path) -> RunSummary:
    """One run's line; a damaged metrics.json is the line's message (the run stays listed, so
    the page that opens it says which file is damaged)."""
    config = read_json(path / CONFIG)
    state = read_status(path)
    message, score = state.get("message", ""), None
    try:
        score = (read_metrics(path).get("test") or {}).get("balanced_accuracy")
    except RunError as exc:
        message = str(exc)
    return RunSummary(
        run_dir=str(path), run_id=path.name, model=str(config.get("model", "?")),
        status=state.get("status", "interrupted"), message=message,
        created=str(config.get("created", "")), dataset=str(config.get("dataset", "")),
        balanced_accuracy=score, dataset_state=dataset_binding(path, config).state,
        task=run_task(config),
    )


def run_task(config: dict[str, Any]) -> str:
    """The task a run's config.json was trained for (runs saved before tasks existed: binary)."""
    return str(config.get("task", BINARY))


@dataclass(frozen=True)
class RunRecord:
    """What a run folder says about itself, without loading its model (see :func:`read_run`)."""

    run_dir: Path
    config: dict[str, Any]
    status: dict[str, Any]
    history: list[dict[str, Any]]
    metrics: dict[str, Any]

    @property
    def model_type(self) -> str:
        return str(self.config["model"])

    @property
    def task(self) -> str:
        return run_task(self.config)


@dataclass(frozen=True)
class LoadedRun(RunRecord):
    """A run ready to predict: its record plus splits and the fitted scikit-learn-style
    ``classifier`` (CNN or baseline), see :func:`load_run`."""

    splits: dict[str, np.ndarray]
    classifier: Any

    @property
    def standardizer(self) -> Standardizer:
        return self.classifier.standardizer_


def load_splits(run_dir: str | Path) -> dict[str, np.ndarray]:
    """splits.npz: the sample positions of each split; RunError naming the file if damaged."""
    path = Path(run_dir) / SPLITS_FILE
    splits = read_arrays(path, SPLITS)
    if any(s.ndim != 1 or s.dtype.kind not in "iu" or (s.size and s.min() < 0) for s in splits.values()):
        raise RunError(f"{path} is damaged: its splits are not lists of sample positions.")
    return splits


def training_config(config: dict[str, Any]) -> TrainingConfig:
    """A run's config.json as the TrainingConfig it was made from."""
    try:
        return TrainingConfig.from_dict(config)
    except (TypeError, ValueError) as exc:
        raise RunError(f"The run's config.json does not describe a run ({exc}).") from None


def load_classifier(run_dir: str | Path, config: dict[str, Any]) -> Any:
    """The run's fitted classifier: its settings from config.json, its state from its files
    (a CNN loads in Keras safe mode; TensorFlow is imported only for CNN runs)."""
    return training_config(config).classifier().restore(run_dir)


def read_run(run_dir: str | Path) -> RunRecord:
    """A run's config (schema checked), status, history and metrics: the one reader of run folders."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).is_file():
        raise RunError(f"No run at {run_dir} (no {CONFIG}).")
    config = read_json(run_dir / CONFIG)
    if config.get("schema_version") != SCHEMA_VERSION:
        raise RunError(f"Run {run_dir} has schema version {config.get('schema_version')}; "
                       f"this tool reads version {SCHEMA_VERSION}.")
    return RunRecord(run_dir=run_dir, config=config, status=read_status(run_dir),
                     history=read_json(run_dir / HISTORY, default=[]), metrics=read_metrics(run_dir))


def load_run(run_dir: str | Path) -> LoadedRun:
    """Load a completed run's record, splits and fitted classifier."""
    record = read_run(run_dir)
    return LoadedRun(**vars(record), splits=load_splits(record.run_dir),
                     classifier=load_classifier(record.run_dir, record.config))


def check_run_dataset(run: RunRecord, dataset: XanesDataset) -> DatasetBinding:
    """RunError unless ``dataset`` is the version the run was trained on (see :mod:`.binding`)."""
    return check_dataset(run.run_dir, run.config, dataset)


def load_run_dataset(run: RunRecord) -> XanesDataset:
    """The dataset a run was trained on, refused (RunError) if it changed or is gone."""
    binding = dataset_binding(run.run_dir, run.config)
    if not binding.usable:
        raise RunError(binding.message)
    dataset = XanesDataset.load(run.config["dataset"])
    check_run_dataset(run, dataset)  # the folder may have been rebuilt since its manifest was read
    return dataset


def read_dataset_record(run_dir: str | Path) -> dict[str, Any] | None:
    """The dataset.json the run wrote at training time (None for runs from before it existed)."""
    record = read_json(Path(run_dir) / RECORD, default=False)
    if record is False:
        return None
    if not isinstance(record, dict):
        raise RunError(f"{Path(run_dir) / RECORD} is damaged: it does not describe a dataset.")
    return record

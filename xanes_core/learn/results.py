"""A finished run's results as plain tables, read from its folder without loading the model.

The Results page, the HTML report and notebooks share these readers: everything they show is
already in the run folder (config.json, status.json, history.json, metrics.json, and the
provenance of its own dataset version in dataset.json), so no Keras import or model load is
needed to look at a run; the dataset's manifest is read only to say whether that version is
still at its path (:mod:`xanes_core.learn.binding`).
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, replace
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xanes_core.data.elements import CHANNELS
from xanes_core.errors import RunError
from xanes_core.learn import operating_point, runs
from xanes_core.learn.binding import DatasetBinding, dataset_binding
from xanes_core.learn.evaluation import run_classes
from xanes_core.learn.run_settings import RunSettings, read_settings

METRICS = ("recall", "precision", "f1")
METRIC_NAMES = {"recall": "Recall", "precision": "Precision", "f1": "F1"}
MODEL_NAMES = {"symmetry": "CNN + symmetry", "core": "CNN (spectra only)", "svm": "SVM (RBF)",
               "elements": "Elements + symmetry (no spectra)"}
_VERSIONED = ("xanes-topology", "numpy", "pandas", "scikit-learn", "tensorflow", "keras", "plotly",
              "streamlit")


@dataclass(frozen=True)
class RunResults(runs.RunRecord):
    """What a completed run reports. ``provenance``: that of the dataset version it was trained
    on (its own dataset.json; for an older run, the manifest at its dataset path when that still
    has the sample count it saw, else empty); ``binding``: whether that version is still at its
    path; ``settings`` its name, note and operating point. ``metrics`` are at ``threshold`` (see
    :meth:`at`)."""

    provenance: dict[str, Any]
    settings: RunSettings = RunSettings()
    binding: DatasetBinding = DatasetBinding("same")

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def model(self) -> str:
        return str(self.config.get("model", "?"))

    @property
    def title(self) -> str:
        """The run's given name, else its id."""
        return self.settings.title(self.run_id)

    @property
    def label(self) -> str:
        """Short human name: model and run name (used in legends and selectboxes)."""
        return f"{MODEL_NAMES.get(self.model, self.model)} · {self.title}"

    @property
    def dataset_name(self) -> str:
        """The dataset's folder name: what a reader needs, without this machine's paths."""
        return Path(str(self.config.get("dataset", "?"))).name

    @property
    def is_demo(self) -> bool:
        return self.provenance.get("kind") == "demo"

    @property
    def threshold(self) -> float | None:
        """The cut on p(topological) the metrics are at (None for a three-class run: no cut)."""
        if not self.is_binary:
            return None
        return float(self.metrics.get("threshold") or operating_point.run_default(self.metrics))

    @property
    def classes(self) -> dict[str, int]:
        """Class name -> class number of the run's task (two classes, or three)."""
        return run_classes(self.metrics)

    @property
    def is_binary(self) -> bool:
        return operating_point.is_binary(self.metrics)

    def at(self, threshold: float | None = None) -> "RunResults":
        """The same run with every thresholded number at ``threshold`` (default: the saved
        operating point); RunError if the run has no saved scores and the cut is not its own.
        A three-class run has no threshold and comes back as it is."""
        cut = operating_point.saved_threshold(self.settings, self.metrics) if threshold is None else float(threshold)
        return replace(self, metrics=operating_point.at_threshold(self.metrics, cut))


def read_provenance(dataset_path: str | Path) -> dict[str, Any]:
    """The dataset manifest's provenance, or {} when the dataset is no longer there."""
    try:
        return dict(json.loads((Path(dataset_path) / "manifest.json").read_text()).get("provenance", {}))
    except (OSError, ValueError, AttributeError):
        return {}


def load_results(run_dir: str | Path) -> RunResults:
    """Read a completed run's folder; RunError if it is not complete."""
    record = runs.read_run(run_dir)
    state = record.status.get("status")
    if state != "completed":
        raise RunError(f"Run {record.run_dir.name} is {state}, not completed: it has no results.")
    if not record.metrics:
        raise RunError(f"{record.run_dir} is not a complete run: {runs.METRICS} is missing.")
    binding = dataset_binding(record.run_dir, record.config)
    return RunResults(**vars(record), provenance=_own_provenance(record, binding),
                      settings=read_settings(record.run_dir), binding=binding)


def _own_provenance(record: runs.RunRecord, binding: DatasetBinding) -> dict[str, Any]:
    """The provenance of the data the run was trained on, never that of another version."""
    own = runs.read_dataset_record(record.run_dir)
    if own is not None:
        return dict(own.get("provenance") or {})
    return read_provenance(record.config.get("dataset", "")) if binding.state == "unverified" else {}


def results_stamp(run_dir: str | Path) -> int:
    """Modification time of metrics.json: a cache key part that changes if a run is re-evaluated."""
    try:
        return (Path(run_dir) / runs.METRICS).stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def topological_prevalence(results: RunResults) -> float | None:
    """Fraction of topological test materials (of any kind): the chance level of the
    precision-recall curve."""
    test = results.metrics["test"]
    return 1.0 - test["trivial"]["support"] / test["n_samples"] if test["n_samples"] else None


def class_table(results: RunResults) -> pd.DataFrame:
    """Paper Fig. 3e as a table: recall, precision, F1, support and predicted count per class."""
    test = results.metrics["test"]
    return pd.DataFrame([
        {"class": name, **{METRIC_NAMES[m]: test[name][m] for m in METRICS},
         "test samples": test[name]["support"], "predicted as this class": test[name]["n_predicted"]}
        for name in results.classes
    ])


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """95 % Wilson score interval of a proportion (None without trials): honest for small n,
    where the plain p +/- 1.96 sqrt(p(1-p)/n) interval collapses to zero width at 0 or 1."""
    if not trials:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def element_table(results: RunResults) -> pd.DataFrame:
    """Per absorbing element in atomic-number order: the metrics of each class and the test
    counts behind them."""
    rows = []
    for symbol, values in sorted(results.metrics["per_element"].items(), key=lambda item: CHANNELS.index(item[0])):
        row: dict[str, Any] = {"element": symbol, "test samples": values["n_samples"],
                               "balanced accuracy": values["balanced_accuracy"]}
        for name in results.classes:
            row[f"{name} samples"] = values[name]["support"]
            row[f"predicted {name}"] = values[name]["n_predicted"]
            row.update({f"{name} {m}": values[name][m] for m in METRICS})
        rows.append(row)
    return pd.DataFrame(rows)


def summary_row(results: RunResults) -> dict[str, Any]:
    """One run's headline numbers (a row of the comparison table)."""
    test, curves = results.metrics["test"], results.metrics.get("curves", {})
    row: dict[str, Any] = {"run": results.title, "model": MODEL_NAMES.get(results.model, results.model),
                           "balanced accuracy": test["balanced_accuracy"]}
    for name in results.classes:
        row.update({f"{name} {m}": test[name][m] for m in METRICS})
    row["ROC AUC"] = (curves.get("roc") or {}).get("auc")
    row["PR AUC (topological)"] = (curves.get("pr") or {}).get("auc")
    row["epochs run"] = len(results.history) or None
    row["test samples"] = test["n_samples"]
    return row


def comparison_table(results: list[RunResults]) -> pd.DataFrame:
    """Runs side by side, one row each."""
    return pd.DataFrame([summary_row(r) for r in results]).astype({"epochs run": "Int64"})


def no_spectra_baseline(results: RunResults) -> "RunResults | None":
    """The newest completed element-presence + symmetry baseline on the same dataset (the model
    that never sees a spectrum), at its own saved operating point; None when there is none."""
    if results.model == "elements":
        return None
    for summary in runs.list_runs(results.run_dir.parent, dataset=results.config.get("dataset", ""),
                                  status="completed"):
        if summary.model == "elements":
            try:
                return load_results(summary.run_dir).at()
            except RunError:
                continue
    return None


def config_table(results: RunResults) -> pd.DataFrame:
    """The run's configuration flattened to (setting, value) rows, architecture included."""
    flat = {k: v for k, v in results.config.items() if k not in ("model_config", "schema_version")}
    flat["dataset"] = results.dataset_name  # the folder name: no path of this machine in a report
    if results.model not in ("svm", "elements"):
        flat.update({f"architecture: {k}": v for k, v in results.config.get("model_config", {}).items()})
    flat["status"] = results.status.get("message", "")
    return pd.DataFrame({"setting": list(flat), "value": [_text(v) for v in flat.values()]})


def provenance_table(provenance: dict[str, Any]) -> pd.DataFrame:
    """The dataset's provenance (nested generator parameters flattened with dotted names)."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            flat[prefix] = value

    walk("", provenance)
    return pd.DataFrame({"field": list(flat), "value": [_text(v) for v in flat.values()]})


def software_table() -> pd.DataFrame:
    """Python and key package versions from installed metadata (imports nothing heavy)."""
    return pd.DataFrame(list(_software_versions().items()), columns=["package", "version"])


def _software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)

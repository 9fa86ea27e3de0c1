"""Which version of its dataset a run was trained on, and whether that version is still there.

When a run trains, it records the dataset's manifest content hashes (SHA-256 of ``arrays.npz``
and ``metadata.parquet``) in its config.json as ``dataset_sha256`` and copies what the dataset
says about itself (path, counts, hashes, provenance) into the run folder as ``dataset.json``.
Later the manifest at the recorded path tells, without loading an array, where the run stands:

- ``same``: that exact version is there;
- ``changed``: another version is there (rebuilt, e.g. the demo with another seed): the run is
  never re-scored on it nor given neighbours from it; its saved results stay those of the
  version it was trained on, described by its own dataset.json;
- ``missing``: no usable dataset is there any more;
- ``unverified``: a run from before runs recorded hashes, whose dataset has as many samples as
  it saw: bound by that count only (a rebuilt dataset of the same size would not be noticed).

No TensorFlow here: the run list, the Results page and the report use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xanes_core import atomic
from xanes_core.data.dataset import XanesDataset, check_dataset_folder
from xanes_core.errors import DatasetError, RunError, XanesError

RECORD = "dataset.json"
STATE_LABELS = {"same": "as trained", "changed": "changed since training", "missing": "missing",
                "unverified": "older run: sample count only"}


@dataclass(frozen=True)
class DatasetBinding:
    """Where a run stands towards the dataset at its recorded path (see the module docstring);
    ``message`` says it in a sentence (empty when ``state`` is "same")."""

    state: str
    message: str = ""

    @property
    def usable(self) -> bool:
        """The run may be scored on, and list neighbours from, the dataset at its path."""
        return self.state in ("same", "unverified")

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def check_stored(dataset: XanesDataset, path: str | Path) -> None:
    """XanesError unless ``dataset`` is the version stored at ``path`` now (a run records it)."""
    if not dataset.content_sha256:
        raise XanesError("The dataset given to the trainer was never saved: save it to its folder first, "
                         "so that the run can record which version of the data it learns from.")
    if check_dataset_folder(path).get("sha256") != dataset.content_sha256:
        raise XanesError(f"The dataset at {path} has changed since it was loaded here: load it again, so "
                         "that the run learns from the version its folder holds.")


def record_dataset(run_dir: Path, dataset: XanesDataset, path: str | Path) -> dict[str, Any]:
    """Write the run's dataset.json and return the keys that bind its config.json to this version."""
    check_stored(dataset, path)
    atomic.write_json(run_dir / RECORD, {
        "path": str(path), "n_samples": dataset.n_samples, "n_spectra": int(len(dataset.spectra)),
        "sha256": dataset.content_sha256, "provenance": dataset.provenance})
    return {"dataset_samples": dataset.n_samples, "dataset_sha256": dict(dataset.content_sha256)}


def dataset_binding(run_dir: str | Path, config: dict[str, Any]) -> DatasetBinding:
    """How the run at ``run_dir`` (its config.json read as ``config``) stands towards the
    dataset at its recorded path; reads that dataset's manifest only."""
    path, name = config.get("dataset", ""), Path(run_dir).name
    try:
        manifest = check_dataset_folder(path)
    except DatasetError as exc:
        return DatasetBinding("missing", f"The dataset run {name} was trained on is no longer usable: {exc}")
    recorded = config.get("dataset_sha256")
    if recorded:
        if manifest.get("sha256") == recorded:
            return DatasetBinding("same")
        return DatasetBinding("changed", _changed(path, name))
    return _by_count(path, name, manifest.get("n_samples"), config.get("dataset_samples"))


def check_dataset(run_dir: str | Path, config: dict[str, Any], dataset: XanesDataset) -> DatasetBinding:
    """How the run stands towards a dataset already in memory; RunError unless it is the run's
    own version (an older run: unless it has the number of samples the run saw)."""
    path, name = config.get("dataset", ""), Path(run_dir).name
    recorded = config.get("dataset_sha256")
    if recorded:
        if dataset.content_sha256 != recorded:
            raise RunError(_changed(path, name))
        return DatasetBinding("same")
    binding = _by_count(path, name, dataset.n_samples, config.get("dataset_samples"))
    if not binding.usable:
        raise RunError(binding.message)
    return binding


def _changed(path: str, name: str) -> str:
    return (f"The dataset at {path} is not the version run {name} was trained on (its content hashes "
            "differ): the run is not re-scored on it nor given neighbours from it; its saved results "
            "are those of the version it was trained on.")


def _by_count(path: str, name: str, n_samples: Any, seen: Any) -> DatasetBinding:
    """The binding of a run trained before hashes were recorded: by its sample count only."""
    if n_samples != seen:
        return DatasetBinding("changed", f"The dataset at {path} has changed since run {name} was "
                                         f"trained ({n_samples} samples, the run saw {seen}).")
    return DatasetBinding("unverified", f"Run {name} was trained before runs recorded their dataset's "
                                        f"version: it is bound to {path} by its sample count only "
                                        f"({seen}), so a rebuilt dataset of that size would not be noticed.")

"""XanesDataset: the stored form of a spectra collection.

Only spectra that exist are stored: ``spectra`` is (n_spectra, 200) float32 with, per row, the
sample it belongs to (``sample_index``) and its element channel (``channel``). Stored as the
paper's dense (n_samples, 200, 81) tensor, 16,458 samples x3 augmentation would exceed 3 GB; the
model takes materials packed slot by slot instead (:mod:`xanes_core.learn.features`).

On-disk format (one folder, schema version :data:`SCHEMA_VERSION`):

- ``manifest.json``: format name, schema version, counts (``n_labelled`` from the start of
  unlabelled samples; older folders lack it and hold only labelled ones), SHA-256 of the other two files,
  provenance (where the data came from, generator parameters, creation date).
- ``arrays.npz``: ``spectra`` (float32), ``sample_index`` (int32), ``channel`` (int16),
  ``coverage`` (float32, fraction of the grid the source spectrum covered), ``grids``
  (81 x 200 float64, eV). Loaded with ``allow_pickle=False``.
- ``metadata.parquet``: one row per sample (see :data:`REQUIRED_COLUMNS`).

Labels: 1 topological, 0 trivial, or :data:`UNLABELLED` (-1) for a material whose class is not
known (a reference library built from local files). An unlabelled material belongs to no split
(its ``split`` is missing), so everything that selects by split (training, validation, test
scores, clustering fits, nearest training materials) skips it by construction; it can still be
browsed and matched. :meth:`XanesDataset.labelled` says which samples carry a class.

The folder is written atomically and checked on load (manifest, version, hashes, shapes), so a
corrupt or foreign folder is refused with a clear message rather than partly loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xanes_core import atomic
from xanes_core.data.elements import CHANNELS, GRID_POINTS, N_CHANNELS, all_grids
from xanes_core.errors import DatasetError

FORMAT_NAME = "xanes-topology-dataset"
SCHEMA_VERSION = 1
SPLITS = ("train", "validation", "test")
# What the metadata's ``label`` column means (the one home of the class names).
CLASS_NAMES = {1: "topological", 0: "trivial"}
UNLABELLED = -1
# Names for any sample's label, unknown ones included (tables and figures of all samples).
LABEL_NAMES = {**CLASS_NAMES, UNLABELLED: "unknown"}
REQUIRED_COLUMNS = (
    "sample_id", "formula", "elements", "space_group", "crystal_system", "point_group",
    "label", "source", "split",
)
_ARRAYS = "arrays.npz"
_METADATA = "metadata.parquet"
_MANIFEST = "manifest.json"


@dataclass
class XanesDataset:
    """Sparse spectra plus one metadata row per sample.

    ``metadata`` row ``i`` describes sample ``i``; ``sample_index`` refers to those positions.
    ``content_sha256``: the manifest's SHA-256 of the stored files this object was loaded from
    or last saved as, i.e. which version of the data it is (empty for one never stored); a run
    records it to stay bound to exactly this version.
    """

    spectra: np.ndarray
    sample_index: np.ndarray
    channel: np.ndarray
    metadata: pd.DataFrame
    coverage: np.ndarray | None = None
    grids: np.ndarray = field(default_factory=all_grids)
    provenance: dict[str, Any] = field(default_factory=dict)
    content_sha256: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.spectra = np.ascontiguousarray(self.spectra, dtype=np.float32)
        self.sample_index = np.asarray(self.sample_index, dtype=np.int32)
        self.channel = np.asarray(self.channel, dtype=np.int16)
        if self.coverage is None:
            self.coverage = np.ones(len(self.spectra), dtype=np.float32)
        self.coverage = np.asarray(self.coverage, dtype=np.float32)
        self.metadata = self.metadata.reset_index(drop=True)
        self._validate()

    # ----------------------------------------------------------------- checks
    def _validate(self) -> None:
        n_rows = len(self.spectra)
        if self.spectra.ndim != 2 or self.spectra.shape[1] != GRID_POINTS:
            raise DatasetError(f"Spectra must be (n, {GRID_POINTS}); got {self.spectra.shape}.")
        for name in ("sample_index", "channel", "coverage"):
            if len(getattr(self, name)) != n_rows:
                raise DatasetError(f"'{name}' has {len(getattr(self, name))} rows, spectra {n_rows}.")
        if self.grids.shape != (N_CHANNELS, GRID_POINTS):
            raise DatasetError(f"Energy grids must be ({N_CHANNELS}, {GRID_POINTS}).")
        missing = [c for c in REQUIRED_COLUMNS if c not in self.metadata.columns]
        if missing:
            raise DatasetError(f"Metadata lacks columns: {', '.join(missing)}.")
        n_samples = len(self.metadata)
        if n_rows and (self.sample_index.min() < 0 or self.sample_index.max() >= n_samples):
            raise DatasetError("Spectra refer to samples that are not in the metadata.")
        if n_rows and (self.channel.min() < 0 or self.channel.max() >= N_CHANNELS):
            raise DatasetError("Spectra refer to element channels that do not exist.")
        if not np.isfinite(self.spectra).all():
            raise DatasetError("Spectra contain NaN or infinite values.")
        bad_split = set(self.metadata["split"].dropna()) - set(SPLITS)
        if bad_split:
            raise DatasetError(f"Unknown split names: {sorted(bad_split)}.")
        self._validate_labels()

    def _validate_labels(self) -> None:
        """Labels are 1, 0 or UNLABELLED, and an unlabelled sample is in no split."""
        labels = pd.to_numeric(self.metadata["label"], errors="coerce")
        bad = ~labels.isin(list(LABEL_NAMES))
        if bad.any():
            raise DatasetError(f"Label '{self.metadata['label'][bad].iloc[0]}' is not 1, 0 or "
                               f"{UNLABELLED} (unknown).")
        in_split = (labels == UNLABELLED) & self.metadata["split"].notna().to_numpy()
        if in_split.any():
            raise DatasetError(f"Sample '{self.metadata['sample_id'][in_split].iloc[0]}' has no label "
                               "but is in a split; unlabelled materials belong to none.")

    # ------------------------------------------------------------------ views
    @property
    def n_samples(self) -> int:
        return len(self.metadata)

    @property
    def labels(self) -> np.ndarray:
        return self.metadata["label"].to_numpy(dtype=np.int8)

    @property
    def labelled(self) -> np.ndarray:
        """(n_samples,) True where the sample's class is known (label 1 or 0)."""
        return self.labels != UNLABELLED

    @property
    def is_demo(self) -> bool:
        return self.provenance.get("kind") == "demo"

    def split_indices(self, split: str) -> np.ndarray:
        """Sample positions in one split (train / validation / test)."""
        if split not in SPLITS:
            raise DatasetError(f"Unknown split '{split}'; use one of {', '.join(SPLITS)}.")
        return np.flatnonzero(self.metadata["split"].to_numpy() == split)

    def rows_for_samples(self, samples: np.ndarray) -> np.ndarray:
        """Spectrum rows that belong to the given sample positions (in row order)."""
        return np.flatnonzero(np.isin(self.sample_index, np.asarray(samples)))

    def element_rows(self, symbol: str) -> np.ndarray:
        """Spectrum rows of one absorbing element."""
        return np.flatnonzero(self.channel == CHANNELS.index(symbol))

    def presence(self) -> np.ndarray:
        """(n_samples, 81) boolean: which absorbing elements each sample has."""
        present = np.zeros((self.n_samples, N_CHANNELS), dtype=bool)
        present[self.sample_index, self.channel] = True
        return present

    def subset(self, samples: np.ndarray) -> "XanesDataset":
        """A new dataset with only these samples (renumbered in the given order)."""
        samples = np.asarray(samples, dtype=np.int64)
        remap = np.full(self.n_samples, -1, dtype=np.int64)
        remap[samples] = np.arange(samples.size)
        rows = np.flatnonzero(remap[self.sample_index] >= 0)
        rows = rows[np.argsort(remap[self.sample_index[rows]], kind="stable")]
        return XanesDataset(
            spectra=self.spectra[rows],
            sample_index=remap[self.sample_index[rows]],
            channel=self.channel[rows],
            coverage=self.coverage[rows],
            metadata=self.metadata.iloc[samples].reset_index(drop=True),
            grids=self.grids,
            provenance={**self.provenance, "subset_of": self.provenance.get("name")},
        )

    def summary(self) -> dict[str, Any]:
        """The counts the CLI's ``info`` and ``demo-data`` print (paper Table 1 included)."""
        labels = self.metadata["label"].to_numpy()
        n_elements = self.metadata["elements"].map(len).to_numpy()
        by_count = {}
        for count in sorted(set(n_elements.tolist())):
            mask = n_elements == count
            by_count[str(count)] = [int((labels[mask] == 1).sum()), int((labels[mask] == 0).sum())]
        return {
            "n_samples": int(self.n_samples),
            "n_spectra": int(len(self.spectra)),
            "n_topological": int((labels == 1).sum()),
            "n_trivial": int((labels == 0).sum()),
            "n_unlabelled": int((labels == UNLABELLED).sum()),
            "n_channels": int(N_CHANNELS),
            "n_elements_present": int(np.unique(self.channel).size),
            "by_element_count": by_count,
            "splits": {s: int((self.metadata["split"] == s).sum()) for s in SPLITS},
            "kind": self.provenance.get("kind", "unknown"),
            "stored_megabytes": round(self.spectra.nbytes / 1e6, 2),
            "dense_megabytes": round(self.n_samples * GRID_POINTS * N_CHANNELS * 4 / 1e6, 2),
        }

    # -------------------------------------------------------------------- I/O
    def save(self, path: str | Path, extra_files: dict[str, bytes] | None = None) -> Path:
        """Write the dataset folder atomically (replacing any previous one).

        ``extra_files`` (name -> content) go into the same folder in the same rename, e.g. a
        build's list of dropped rows, so they can never describe another version of the data.
        """
        path = Path(path)
        arrays = io.BytesIO()
        np.savez(
            arrays, spectra=self.spectra, sample_index=self.sample_index, channel=self.channel,
            coverage=self.coverage, grids=self.grids,
        )
        table = io.BytesIO()
        self.metadata.to_parquet(table, index=False)
        blobs = {_ARRAYS: arrays.getvalue(), _METADATA: table.getvalue()}
        manifest = {
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION,
            "n_samples": self.n_samples,
            "n_spectra": int(len(self.spectra)),
            "n_labelled": int(self.labelled.sum()),  # read without loading (a training request)
            "sha256": {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()},
            "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "provenance": self.provenance,
        }
        with atomic.atomic_directory(path) as tmp:
            for name, blob in {**(extra_files or {}), **blobs}.items():
                (tmp / name).write_bytes(blob)
            (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        self.content_sha256 = dict(manifest["sha256"])
        return path

    @classmethod
    def load(cls, path: str | Path) -> "XanesDataset":
        """Read a dataset folder, refusing anything corrupt, foreign or of another version."""
        path = Path(path)
        manifest = check_dataset_folder(path)
        blobs = {}
        for name in (_ARRAYS, _METADATA):
            try:
                blobs[name] = (path / name).read_bytes()
            except OSError:
                raise DatasetError(f"Dataset at {path} is incomplete: {name} is missing.") from None
            expected = manifest.get("sha256", {}).get(name)
            if hashlib.sha256(blobs[name]).hexdigest() != expected:
                raise DatasetError(f"Dataset at {path} is corrupt: {name} does not match its checksum.")
        try:
            with np.load(io.BytesIO(blobs[_ARRAYS]), allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in ("spectra", "sample_index", "channel", "coverage", "grids")}
            metadata = pd.read_parquet(io.BytesIO(blobs[_METADATA]))
        except (KeyError, ValueError, OSError) as exc:
            raise DatasetError(f"Dataset at {path} cannot be read: {exc}") from None
        metadata["elements"] = metadata["elements"].map(list)
        dataset = cls(metadata=metadata, provenance=manifest.get("provenance", {}),
                      content_sha256=dict(manifest.get("sha256", {})), **arrays)
        if dataset.n_samples != manifest.get("n_samples") or len(dataset.spectra) != manifest.get("n_spectra"):
            raise DatasetError(f"Dataset at {path} does not match its manifest counts.")
        return dataset


def check_dataset_folder(path: str | Path) -> dict[str, Any]:
    """The manifest of a folder holding a dataset of this schema, without loading the arrays
    (so a training request fails before it creates a run folder); DatasetError otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"No dataset folder at {path}.")
    return _read_manifest(path)


def check_replaceable(path: str | Path) -> None:
    """DatasetError unless ``path`` may be (re)written by a dataset save: absent, an empty
    folder, or a dataset folder. A save replaces the whole folder, so anything else (a folder of
    the user's own files, the spectra a dataset is built from) is refused, not deleted."""
    path = Path(path)
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return
    if path.is_dir() and (path / _MANIFEST).is_file():
        return
    raise DatasetError(f"{path} exists and is not a dataset folder; choose a new or empty folder "
                       "(saving a dataset replaces the whole folder).")


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / _MANIFEST).read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path} is not a dataset folder (no {_MANIFEST}).") from None
    except (OSError, ValueError):
        raise DatasetError(f"Dataset manifest in {path} is unreadable or not JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise DatasetError(f"{path} holds no {FORMAT_NAME} (foreign manifest).")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DatasetError(
            f"Dataset at {path} has schema version {version}; this version of the tool reads "
            f"version {SCHEMA_VERSION}. Rebuild it."
        )
    return manifest


def list_datasets(root: str | Path) -> list[Path]:
    """Dataset folders directly under ``root`` (those with a manifest), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / _MANIFEST).is_file() and not p.name.startswith("."))

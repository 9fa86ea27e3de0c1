"""Batch prediction: every material of a manifest through one loaded run.

The manifest is the one ``build-dataset`` reads (:func:`xanes_core.sources.local_files.read_manifest`:
``material_id, formula, space_group, label, element, file``, one row per spectrum); ``label`` is
ignored. Rows of one ``material_id`` make one material. Each material is read and prepared as a
single prediction is (alignment, similarity, applicability domain, missing elements); one that
cannot be (an unreadable or missing file, a wrong element, no space group for a symmetry run)
fails with its reason in ``warnings`` and the others go on. The materials that could be prepared
are scored in one model call, which is what makes a batch fast.

The result table has :data:`COLUMNS`, one row per material in manifest order: ``p_topological``
and ``label`` empty for a failed material, ``in_domain`` empty where it cannot be told.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from xanes_core import atomic
from xanes_core.analysis.materials import MaterialInput, prepare_material
from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.errors import XanesError
from xanes_core.io import read_spectrum
from xanes_core.sources.local_files import (
    MANIFEST_NAME,
    FileSource,
    archive_files,
    files_beside,
    manifest_bytes,
    read_manifest,
)

if TYPE_CHECKING:
    from xanes_core.analysis.prediction import Predictor

COLUMNS = ("material_id", "p_topological", "label", "in_domain", "warnings")
WARNING_SEPARATOR = " | "


@dataclass(frozen=True, eq=False)
class BatchResult:
    """One row per material (:data:`COLUMNS`) and the counts the CLI prints."""

    table: pd.DataFrame
    seconds: float

    @property
    def n_failed(self) -> int:
        return int(self.table["p_topological"].isna().sum())

    def to_dict(self, out: str | Path | None) -> dict[str, Any]:
        """The ``predict-batch`` command's JSON object."""
        return {"n_materials": len(self.table), "n_predicted": len(self.table) - self.n_failed,
                "n_failed": self.n_failed, "out": None if out is None else str(out), "seconds": self.seconds}

    def csv_bytes(self) -> bytes:
        return self.table.to_csv(index=False).encode("utf-8")


def predict_manifest(predictor: "Predictor", manifest: str | Path, *, align: bool = True) -> BatchResult:
    """``predict-batch``: a manifest file and the spectrum files beside it."""
    manifest = Path(manifest)
    return predict_batch(predictor, manifest_bytes(manifest), manifest.name, files_beside(manifest.parent),
                         align=align)


def predict_archive(predictor: "Predictor", archive: bytes, archive_name: str, manifest: bytes | None = None,
                    manifest_name: str | None = None, *, align: bool = True) -> BatchResult:
    """The Predict page's batch: a zip of spectrum files (the safe zip reader, nothing written)
    and its manifest, uploaded beside it or as manifest.csv at the zip's top level."""
    raw, name, files = archive_files(archive, archive_name, manifest, manifest_name or MANIFEST_NAME)
    return predict_batch(predictor, raw, name, files, align=align)


def predict_batch(predictor: "Predictor", manifest: bytes, manifest_name: str, files: FileSource, *,
                  align: bool = True) -> BatchResult:
    """Predict every material of the manifest (see module doc); SourceError for a manifest
    that cannot be read at all (a missing column, no rows)."""
    started = time.perf_counter()
    table = read_manifest(manifest, manifest_name)
    outcomes: list[dict[str, Any]] = []
    prepared, scored = [], []
    for material_id, rows in _materials(table):
        outcome = {"material_id": material_id, "p_topological": np.nan, "label": "", "in_domain": "", "warnings": ""}
        try:
            ready = predictor.prepare(_material(rows, files, predictor.needs_space_group), align)
        except XanesError as exc:
            outcome["warnings"] = f"failed: {exc}"
        else:
            prepared.append(ready)
            scored.append(outcome)
            outcome.update(in_domain="" if ready.check.in_domain is None else ready.check.in_domain,
                           warnings=WARNING_SEPARATOR.join(ready.warnings))
        outcomes.append(outcome)
    if prepared:
        threshold = predictor.threshold
        for outcome, p in zip(scored, predictor.probabilities(prepared)):
            outcome.update(p_topological=float(p), label=CLASS_NAMES[int(p >= threshold)])
    return BatchResult(pd.DataFrame(outcomes, columns=list(COLUMNS)), round(time.perf_counter() - started, 3))


def write_csv(result: BatchResult, out: str | Path) -> Path:
    """The result table as CSV, written atomically."""
    out = Path(out)
    atomic.write_bytes(out, result.csv_bytes())
    return out


def _materials(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Rows grouped by material id, in the order the manifest first names each material; a row
    without an id is a material of its own, named after its line (it fails)."""
    ids = table["material_id"].where(table["material_id"] != "", "line " + (table.index + 2).astype(str))
    return [(str(key), rows) for key, rows in table.groupby(ids, sort=False)]


def _material(rows: pd.DataFrame, files: FileSource, with_space_group: bool) -> MaterialInput:
    """One material's spectra, formula and (for a model that uses it) space group from its rows."""
    if rows["material_id"].iloc[0] == "":
        raise XanesError("the row has no material_id")
    spectra = []
    for record in rows.to_dict("records"):
        source = files(record["file"])
        if source is None:
            raise XanesError(f"{record['file'] or '(empty file)'}: no such file beside the manifest")
        name = PurePosixPath(record["file"].replace("\\", "/")).name
        spectra.append(read_spectrum(source, name, element=record["element"] or None))
    space_group = _first(rows, "space_group") if with_space_group else None
    return prepare_material(spectra, space_group, formula=_first(rows, "formula"))


def _first(rows: pd.DataFrame, column: str) -> str | None:
    """The material's value of ``column`` (its first non-empty cell; rows of one material agree)."""
    values = [value for value in rows[column] if value]
    return values[0] if values else None

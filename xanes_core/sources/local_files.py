"""Build a dataset from spectrum files a user already has, listed in a CSV manifest.

The manifest has one row per spectrum, with the columns of :data:`MANIFEST_COLUMNS`:
``material_id, formula, space_group, label, element, file`` (``file`` relative to the
manifest's folder). ``label`` is topological/trivial/1/0, or empty for a material whose class is
not known: it is kept with label :data:`~xanes_core.data.dataset.UNLABELLED` and no split, so it
can be browsed and matched but is never trained on or scored. ``formula`` and ``space_group`` may
be empty (a reference library), but a labelled material needs its space group (the model's
symmetry input), so a labelled row without one is dropped.

Each file is read by the project's readers and prepared exactly as the Predict page prepares an
upload (:func:`~xanes_core.io.normalize_for_model`: computed spectra as computed, measured ones
normalized), then resampled onto its element's grid: a spectrum in the dataset and the same file
uploaded later are identical. Rows of one material (one per absorbing element) become one
sample. A row that cannot be used is dropped with a reason (:data:`DROP_REASONS`) instead of
failing the build, and so is the rest of its material: a material is kept only with every
spectrum its manifest lists, as the paper keeps only materials with every element's spectrum.
Only a manifest that cannot be read at all (a missing column, no rows) stops the build.
The dataset and its ``drops.csv`` (one line per dropped row) are written in one atomic rename.

Files come from the manifest's folder (``build-dataset``) or from an uploaded zip
(:func:`build_from_archive`, through the safe reader :func:`xanes_core.io.archive.read_zip`,
which unpacks nothing to disk); a ``file`` entry never reaches outside either.
"""

from __future__ import annotations

import hashlib
import io
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import numpy as np
import pandas as pd

from xanes_core.data.dataset import UNLABELLED, XanesDataset, check_replaceable
from xanes_core.data.elements import CHANNELS, channel_index, energy_grid, normalize_symbol
from xanes_core.data.preprocess import assign_splits, resample
from xanes_core.data.symmetry import symmetry_info, validate_space_group
from xanes_core.errors import SourceError, XanesError
from xanes_core.io import normalize_for_model, read_spectrum
from xanes_core.io.archive import read_zip
from xanes_core.io.limits import MANIFEST_MB, MANIFEST_ROWS, MB, check_size
from xanes_core.io.source import check_table_shape

MANIFEST_COLUMNS = ("material_id", "formula", "space_group", "label", "element", "file")
LABEL_WORDS = {"topological": 1, "1": 1, "trivial": 0, "0": 0, "": UNLABELLED}
SOURCE = "local files"
DROPS_FILE = "drops.csv"
MANIFEST_NAME = "manifest.csv"  # looked for at the top of an uploaded zip
DROP_REASONS = {
    "no_material_id": "the row has no material_id",
    "bad_label": "label is not topological, trivial, 1, 0 or empty",
    "bad_space_group": "space_group is not a whole number from 1 to 230",
    "no_space_group": "a labelled material needs its space group (the model's symmetry input)",
    "unknown_element": "element is empty or not a chemical element symbol",
    "element_without_channel": "the element has no model channel (e.g. H, He, noble gases)",
    "file_outside_folder": "file is empty, absolute, or leads out of the manifest's folder",
    "file_not_found": "no such file next to the manifest",
    "unreadable_file": "the spectrum readers cannot read the file",
    "not_k_edge": "the file holds another edge than K",
    "outside_energy_window": "the energies miss the element's K-edge window (wrong element or units?)",
    "unusable_spectrum": "the spectrum could not be normalized or resampled",
    "duplicate_element": "the material has two rows for this element",
    "inconsistent_material": "rows of one material disagree on formula, space group or label",
    "material_incomplete": "another row of this material was dropped",
}
_DROP_COLUMNS = ["line", "material_id", "element", "file", "reason", "detail"]
#: Where a manifest's ``file`` entries are: a path or the bytes of the file, None when absent.
FileSource = Callable[[str], "Path | bytes | None"]


@dataclass(frozen=True)
class LocalBuildResult:
    """What a build from local files produced; :meth:`to_dict` is the CLI's JSON."""

    path: Path
    n_samples: int
    n_spectra: int
    n_labelled: int
    n_topological: int
    n_trivial: int
    dropped: dict[str, int]  # reason -> number of manifest rows
    seconds: float
    drops: pd.DataFrame = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "n_samples": self.n_samples, "n_spectra": self.n_spectra,
                "n_labelled": self.n_labelled, "n_topological": self.n_topological,
                "n_trivial": self.n_trivial, "dropped": dict(self.dropped), "seconds": self.seconds}


@dataclass
class _Row:
    """One manifest row on its way through the checks; ``reason`` set once it is dropped."""

    line: int
    material_id: str
    formula: str
    element: str
    file: str
    label: int = UNLABELLED
    space_group: int = 0  # 0: unknown
    reason: str = ""
    detail: str = ""
    values: np.ndarray | None = None
    coverage: float = 0.0

    def drop(self, reason: str, detail: str = "") -> None:
        if not self.reason:
            self.reason, self.detail = reason, detail


def build_local_dataset(manifest: str | Path, out: str | Path, *, seed: int = 0) -> LocalBuildResult:
    """``build-dataset``: the manifest file and the spectrum files in its folder."""
    manifest = Path(manifest)
    return build_dataset(manifest_bytes(manifest), manifest.name, files_beside(manifest.parent), out, seed=seed)


def build_from_archive(archive: bytes, out: str | Path, *, archive_name: str = "archive.zip",
                       manifest: bytes | None = None, manifest_name: str = MANIFEST_NAME,
                       seed: int = 0) -> LocalBuildResult:
    """The Data sources page's build: a zip of spectrum files (read by the safe zip reader,
    nothing unpacked to disk) and a manifest, uploaded beside it or at the zip's top level."""
    manifest, manifest_name, files = archive_files(archive, archive_name, manifest, manifest_name)
    return build_dataset(manifest, manifest_name, files, out, seed=seed)


def archive_files(archive: bytes, archive_name: str, manifest: bytes | None = None,
                  manifest_name: str = MANIFEST_NAME) -> tuple[bytes, str, FileSource]:
    """(manifest bytes, its name, the zip's files) of an uploaded zip and the manifest given
    beside it, or its top-level manifest.csv (shared by the dataset build and batch prediction)."""
    members = read_zip(archive, archive_name)
    if manifest is None:
        manifest = members.pop(MANIFEST_NAME, None)
        if manifest is None:
            raise SourceError(f"{archive_name} has no {MANIFEST_NAME} at its top level; add it, or upload "
                              "the manifest beside the zip.")
        manifest_name = f"{archive_name}: {MANIFEST_NAME}"
    return manifest, manifest_name, _in_members(members)


def build_dataset(manifest: bytes, manifest_name: str, files: FileSource, out: str | Path, *,
                  seed: int = 0) -> LocalBuildResult:
    """Read every row of the manifest, keep what is usable, save the dataset to ``out``.

    ``files`` finds a row's ``file`` (a folder on disk, or the members of an uploaded zip).
    Raises :class:`SourceError` (nothing written) for a bad manifest or when no row at all is
    usable, :class:`~xanes_core.errors.DatasetError` when ``out`` is an existing folder other
    than a dataset (a save replaces the whole folder).
    """
    started = time.perf_counter()
    out = Path(out)
    table = read_manifest(manifest, manifest_name)
    check_replaceable(out)
    rows = [_checked_row(line, record) for line, record in enumerate(table.to_dict("records"), start=2)]
    _check_materials(rows)
    for row in rows:
        if not row.reason:
            _read(row, files)
    _drop_incomplete(rows)
    drops = pd.DataFrame([[r.line, r.material_id, r.element, r.file, r.reason, r.detail]
                          for r in rows if r.reason], columns=_DROP_COLUMNS)
    dataset = _assemble([r for r in rows if not r.reason], seed, len(rows), drops)
    dataset.provenance = _provenance(manifest, manifest_name, out, seed, drops)
    dataset.save(out, extra_files={DROPS_FILE: drops.to_csv(index=False).encode("utf-8")})
    labels = dataset.labels
    return LocalBuildResult(
        path=out, n_samples=dataset.n_samples, n_spectra=len(dataset.spectra),
        n_labelled=int(dataset.labelled.sum()), n_topological=int((labels == 1).sum()),
        n_trivial=int((labels == 0).sum()), dropped=_counts(drops),
        seconds=round(time.perf_counter() - started, 3), drops=drops)


def read_manifest(raw: bytes, name: str) -> pd.DataFrame:
    """The manifest as strings (blank cells ""), columns lower-cased; SourceError (one line)
    when it cannot be read, lacks a column of :data:`MANIFEST_COLUMNS` or has no rows."""
    check_size(len(raw), MANIFEST_MB * MB, "manifests", f"Manifest {name}", SourceError)
    try:
        text = raw.decode("utf-8-sig")
        check_table_shape(text, f"Manifest {name}", MANIFEST_ROWS, SourceError)
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"Cannot read manifest {name}: {_first_line(exc)}") from None
    table.columns = [str(column).strip().lower() for column in table.columns]
    missing = [column for column in MANIFEST_COLUMNS if column not in table.columns]
    if missing:
        raise SourceError(f"Manifest {name} lacks column(s) {', '.join(missing)}; it needs "
                          f"{', '.join(MANIFEST_COLUMNS)}.")
    if table.empty:
        raise SourceError(f"Manifest {name} has no rows.")
    return table[list(MANIFEST_COLUMNS)].apply(lambda column: column.str.strip())


def manifest_bytes(path: Path) -> bytes:
    """A manifest file's bytes, refused (SourceError, one line) past the size limit or unreadable."""
    try:
        check_size(path.stat().st_size, MANIFEST_MB * MB, "manifests", f"Manifest {path.name}", SourceError)
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"Cannot read manifest {path.name}: {exc.strerror or type(exc).__name__}.") from None


def _in_members(members: dict[str, bytes]) -> FileSource:
    """Files of an uploaded zip, by the member names the zip reader normalized."""
    def find(file: str) -> bytes | None:
        return members.get("/".join(_relative(unicodedata.normalize("NFC", file)).parts))  # as the reader names them
    return find


def files_beside(folder: Path) -> FileSource:
    """Files beside a manifest in ``folder``; None for one that is absent or whose ``file``
    leads out of the folder (see :func:`_inside_folder`). Batch prediction reads files this way too."""
    def find(file: str) -> Path | None:
        path = folder.joinpath(*_relative(file).parts)
        return path if _inside_folder(file) and path.is_file() else None
    return find


def _relative(file: str) -> PurePosixPath:
    """A manifest's ``file`` as a relative path: '/' or '\\' separators, '.' parts gone."""
    return PurePosixPath(file.replace("\\", "/"))


# ------------------------------------------------------------------------------ row checks
def _checked_row(line: int, record: dict[str, str]) -> _Row:
    """A row with its fields parsed, dropped (first problem wins) if a field is unusable."""
    row = _Row(line, record["material_id"], record["formula"], record["element"], record["file"])
    if not row.material_id:
        row.drop("no_material_id")
    label = LABEL_WORDS.get(record["label"].lower())
    if label is None:
        row.drop("bad_label", record["label"])
    else:
        row.label = label
    if record["space_group"]:
        try:
            row.space_group = validate_space_group(record["space_group"])
        except XanesError:
            row.drop("bad_space_group", record["space_group"])
    elif row.label != UNLABELLED:
        row.drop("no_space_group")
    _check_element(row)
    if not _inside_folder(row.file):
        row.drop("file_outside_folder", row.file)
    return row


def _check_element(row: _Row) -> None:
    try:
        row.element = normalize_symbol(row.element)
    except XanesError:
        row.drop("unknown_element", row.element)
        return
    try:
        channel_index(row.element)
    except XanesError:
        row.drop("element_without_channel", row.element)


def _inside_folder(file: str) -> bool:
    """A relative path that stays in the manifest's folder: not empty, not absolute (nor a
    Windows drive), and no '..' that climbs above where it started."""
    path = _relative(file)
    if not path.parts or path.is_absolute() or ":" in path.parts[0]:
        return False
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            return False
    return True


def _check_materials(rows: list[_Row]) -> None:
    """Two rows of one element, or rows that disagree about their material: drop them."""
    for members in _by_material(rows).values():
        usable = [r for r in members if not r.reason]
        if len({(r.formula, r.space_group, r.label) for r in usable}) > 1:
            for row in usable:
                row.drop("inconsistent_material", row.material_id)
        counts = Counter(r.element for r in usable)
        for row in usable:
            if counts[row.element] > 1:
                row.drop("duplicate_element", f"{row.material_id}: {counts[row.element]} rows for {row.element}")


def _drop_incomplete(rows: list[_Row]) -> None:
    for members in _by_material(rows).values():
        dropped = [r for r in members if r.reason]
        if dropped:
            for row in members:
                row.drop("material_incomplete", f"line {dropped[0].line}: {dropped[0].reason}")


def _by_material(rows: list[_Row]) -> dict[str, list[_Row]]:
    groups: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.material_id:
            groups[row.material_id].append(row)
    return groups


# ------------------------------------------------------------------------------ reading
def _read(row: _Row, files: FileSource) -> None:
    """Read, check, normalize and resample one row's file; drop the row with the reason if not."""
    source = files(row.file)
    if source is None:
        row.drop("file_not_found", row.file)
        return
    try:
        spectrum = read_spectrum(source, _relative(row.file).name, element=row.element)
    except XanesError as exc:
        row.drop("unreadable_file", _first_line(exc))
        return
    if spectrum.edge not in (None, "K"):
        row.drop("not_k_edge", f"{row.file}: {spectrum.edge} edge")
        return
    grid = energy_grid(row.element)
    if spectrum.energy[-1] < grid[0] or spectrum.energy[0] > grid[-1]:
        row.drop("outside_energy_window", f"{row.file}: {spectrum.energy[0]:.0f}-{spectrum.energy[-1]:.0f} eV, "
                                          f"{row.element} K window {grid[0]:.0f}-{grid[-1]:.0f} eV")
        return
    try:
        normalized = normalize_for_model(spectrum)
        row.values, row.coverage = resample(normalized.energy, normalized.mu_norm, row.element)
    except XanesError as exc:
        row.drop("unusable_spectrum", _first_line(exc))


# ------------------------------------------------------------------------------ assembly
def _assemble(rows: list[_Row], seed: int, n_rows: int, drops: pd.DataFrame) -> XanesDataset:
    """One sample per material (its spectra in channel order); labelled ones split 70/10/20."""
    materials = _by_material(rows)
    if not materials:
        raise SourceError(f"None of the {n_rows} manifest rows could be used (dropped: {_counts(drops)}).")
    records, spectra = [], []
    for index, members in enumerate(materials.values()):
        members = sorted(members, key=lambda r: channel_index(r.element))
        first = members[0]
        info = symmetry_info(first.space_group) if first.space_group else None
        records.append({
            "sample_id": first.material_id, "formula": first.formula,
            "elements": [r.element for r in members], "space_group": first.space_group,
            "crystal_system": info.crystal_system if info else "", "point_group": info.point_group if info else "",
            "label": first.label, "source": SOURCE,
        })
        spectra.extend((index, r) for r in members)
    metadata = pd.DataFrame(records)
    metadata["label"] = metadata["label"].astype("int8")
    metadata["split"] = _splits(metadata, seed)
    return XanesDataset(
        spectra=np.stack([r.values for _, r in spectra]),
        sample_index=np.array([index for index, _ in spectra]),
        channel=np.array([CHANNELS.index(r.element) for _, r in spectra]),
        coverage=np.array([r.coverage for _, r in spectra]),
        metadata=metadata,
    )


def _splits(metadata: pd.DataFrame, seed: int) -> np.ndarray:
    """The balanced 70/10/20 split over the labelled materials; unlabelled ones get none."""
    splits = np.full(len(metadata), None, dtype=object)
    labelled = (metadata["label"] != UNLABELLED).to_numpy()
    if labelled.any():
        splits[labelled] = assign_splits(metadata[labelled].reset_index(drop=True), seed)
    return splits


def _provenance(manifest: bytes, manifest_name: str, out: Path, seed: int, drops: pd.DataFrame) -> dict[str, Any]:
    return {
        "kind": "local", "name": out.name, "source": SOURCE, "manifest": manifest_name,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(), "seed": seed,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "dropped": _counts(drops),
    }


def _counts(drops: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in drops["reason"].value_counts().sort_index().items()}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().split("\n", 1)[0] or type(exc).__name__)[:300]

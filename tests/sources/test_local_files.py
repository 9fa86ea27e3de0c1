"""build-dataset: a dataset from a manifest over real spectrum files.

Real inputs: real FEFF Cu K-edge spectra of Materials Project oxides (``../shared/data/real_feff``)
written back as the ``xmu.dat`` files FEFF leaves behind, and the fixture files (a measured Cu
foil XDI, an MP JSON, an MP TSV, a FEFF ``xmu.dat``, a Pt L3 XDI, a non-XAS MP document). The
real FEFF materials carry no topology labels (see SOURCES.md): the labels given them here are
placeholders that exercise storage, counts and splits, not physics.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.sources.feff_files import RealFeff, load_real_feff, write_xmu
from xanes_core.analysis.materials import prepare_material
from xanes_core.cli.main import main
from xanes_core.data.dataset import SPLITS, UNLABELLED, XanesDataset
from xanes_core.data.elements import CHANNELS, energy_grid
from xanes_core.data.preprocess import assign_splits
from xanes_core.errors import DatasetError, SourceError
from xanes_core.io import read_spectrum
from xanes_core.sources.local_files import (
    DROP_REASONS,
    MANIFEST_COLUMNS,
    build_from_archive,
    build_local_dataset,
)

N_FEFF = 24
PLACEHOLDER_LABELS = ("topological", "trivial", "1", "0", "", "Trivial")
JSON_KEYS = ["path", "n_samples", "n_spectra", "n_labelled", "n_topological", "n_trivial", "dropped", "seconds"]


@pytest.fixture(scope="module")
def real_feff(fixtures_dir) -> RealFeff:
    folder = fixtures_dir.parent / "data" / "real_feff"
    if not (folder / "cu_feff_materials.npz").is_file():
        pytest.skip(f"real FEFF spectra not found in {folder}")
    return load_real_feff(folder)


def write_manifest(folder: Path, rows: list[dict], name: str = "manifest.csv") -> Path:
    path = folder / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(material_id: str, element: str, file: str, label: str = "", space_group: object = "",
        formula: str = "") -> dict:
    return {"material_id": material_id, "formula": formula, "space_group": space_group, "label": label,
            "element": element, "file": file}


def copy_fixture(fixtures_dir: Path, relative: str, folder: Path) -> str:
    """A fixture file put beside the manifest, as a user's own file would be; its name there."""
    target = folder / "files" / Path(relative).name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures_dir / "spectra" / relative, target)
    return f"files/{target.name}"


@pytest.fixture
def library(tmp_path, real_feff, fixtures_dir) -> tuple[Path, list[dict]]:
    """A manifest over 24 real FEFF Cu spectra plus measured and MP fixture files."""
    folder = tmp_path / "mine"
    rows = []
    for i in range(N_FEFF):
        write_xmu(folder / "feff" / f"{real_feff.mp_id[i]}.xmu.dat", real_feff.energy[i], real_feff.mu[i])
        rows.append(row(real_feff.mp_id[i], "Cu", f"feff/{real_feff.mp_id[i]}.xmu.dat",
                        PLACEHOLDER_LABELS[i % len(PLACEHOLDER_LABELS)], int(real_feff.space_group[i]),
                        real_feff.formula[i]))
    rows.append(row("mp-30", "Cu", copy_fixture(fixtures_dir, "xdi/cu_metal_rt.xdi", folder), "trivial", 225, "Cu"))
    # One material, two elements from two files: Co from an MP document, O from a FEFF run.
    rows.append(row("mp-24850", "co", copy_fixture(fixtures_dir, "mp/LiCoO2_k_xanes.json", folder)))
    rows.append(row("mp-24850", "O", copy_fixture(fixtures_dir, "feff/xmu.dat", folder)))
    rows.append(row("mp-13", "Fe", copy_fixture(fixtures_dir, "mp/xas.XANES.K.Fe.mp-13.tsv", folder), "0", 229, "Fe"))
    return write_manifest(folder, rows), rows


def test_real_files_become_a_dataset(library, real_feff, tmp_path) -> None:
    manifest, rows = library
    result = build_local_dataset(manifest, tmp_path / "db")
    labels = [r["label"].lower() for r in rows]
    printed = result.to_dict()
    assert list(printed) == JSON_KEYS
    expected_labelled = sum(1 for r in rows if r["label"])  # every labelled material has one row here
    assert printed | {"seconds": 0} == {
        "path": str(tmp_path / "db"), "n_samples": N_FEFF + 3, "n_spectra": N_FEFF + 4,
        "n_labelled": expected_labelled, "n_topological": labels.count("topological") + labels.count("1"),
        "n_trivial": labels.count("trivial") + labels.count("0"), "dropped": {}, "seconds": 0}
    dataset = XanesDataset.load(tmp_path / "db")
    meta = dataset.metadata.set_index("sample_id")
    assert list(dataset.metadata["sample_id"]) == list(dict.fromkeys(r["material_id"] for r in rows))
    assert meta.loc["mp-24850", "elements"] == ["O", "Co"]  # channel order
    assert meta.loc["mp-24850", "label"] == UNLABELLED and pd.isna(meta.loc["mp-24850", "split"])
    assert meta.loc["mp-13", "space_group"] == 229 and meta.loc["mp-13", "crystal_system"] == "cubic"
    assert meta.loc["mp-24850", "space_group"] == 0  # unknown: an all-zero symmetry input
    assert set(dataset.metadata["split"][dataset.labelled]) <= set(SPLITS)
    assert (pd.read_csv(tmp_path / "db" / "drops.csv").columns.tolist()
            == ["line", "material_id", "element", "file", "reason", "detail"])
    assert dataset.provenance["kind"] == "local" and dataset.provenance["manifest"] == "manifest.csv"


def test_feff_spectra_are_kept_as_computed(library, real_feff, tmp_path) -> None:
    """A FEFF spectrum is stored as FEFF wrote it, resampled (the arrays it came from, not the reader)."""
    manifest, _ = library
    build_local_dataset(manifest, tmp_path / "db")
    dataset = XanesDataset.load(tmp_path / "db")
    grid = energy_grid("Cu")
    for i in (0, 7, N_FEFF - 1):
        rows = dataset.rows_for_samples([i])
        expected = np.interp(grid, real_feff.energy[i], real_feff.mu[i])
        np.testing.assert_allclose(dataset.spectra[rows[0]], expected, atol=2e-4)  # files keep 0.001 eV, 6 digits


def test_stored_spectra_equal_what_the_predict_path_makes_of_the_same_files(library, tmp_path) -> None:
    """Measured (XDI, normalized), MP JSON and FEFF files: the dataset holds exactly what
    prepare_material (the Predict page's preparation) makes of each file."""
    manifest, rows = library
    build_local_dataset(manifest, tmp_path / "db")
    dataset = XanesDataset.load(tmp_path / "db")
    for material_id in ("mp-30", "mp-24850", "mp-13"):
        files = [(r["element"], manifest.parent / r["file"]) for r in rows if r["material_id"] == material_id]
        prepared = prepare_material([read_spectrum(path, element=element) for element, path in files])
        index = int(np.flatnonzero(dataset.metadata["sample_id"] == material_id)[0])
        stored = {dataset.channel[r]: dataset.spectra[r] for r in dataset.rows_for_samples([index])}
        assert len(stored) == len(prepared.spectra)
        for entry in prepared.spectra:
            np.testing.assert_array_equal(stored[CHANNELS.index(entry.element)], entry.mu)


def test_unlabelled_materials_leave_the_labelled_split_unchanged(library, tmp_path) -> None:
    """Labelled materials get the project's balanced split as if the unlabelled ones were absent."""
    manifest, rows = library
    build_local_dataset(manifest, tmp_path / "all")
    labelled_only = write_manifest(manifest.parent, [r for r in rows if r["label"]], "labelled.csv")
    build_local_dataset(labelled_only, tmp_path / "labelled")
    everything = XanesDataset.load(tmp_path / "all").metadata
    alone = XanesDataset.load(tmp_path / "labelled").metadata
    split_all = everything[everything["label"] != UNLABELLED].set_index("sample_id")["split"]
    assert split_all.to_dict() == alone.set_index("sample_id")["split"].to_dict()
    assert list(alone["split"]) == list(assign_splits(alone, 0))
    assert everything["split"][everything["label"] == UNLABELLED].isna().all()


def test_bad_rows_are_dropped_with_reasons_and_the_rest_is_built(library, tmp_path, fixtures_dir) -> None:
    manifest, rows = library
    folder = manifest.parent
    (folder / "files" / "junk.dat").write_bytes(b"\x00\x01binary\x00" * 50)
    cu = "feff/" + Path(rows[0]["file"]).name
    bad = [
        row("", "Cu", cu),  # no_material_id
        row("b1", "Cu", cu, "maybe", 12),  # bad_label
        row("b2", "Cu", cu, "", 231),  # bad_space_group
        row("b3", "Cu", cu, "topological"),  # no_space_group
        row("b4", "Xx", cu),  # unknown_element
        row("b5", "", cu),  # unknown_element
        row("b6", "He", cu),  # element_without_channel
        row("b7", "Cu", "../outside.dat"),  # file_outside_folder
        row("b8", "Cu", "/etc/hostname"),  # file_outside_folder
        row("b9", "Cu", "feff/missing.dat"),  # file_not_found
        row("b10", "Cu", "files/junk.dat"),  # unreadable_file
        row("b11", "Cu", copy_fixture(fixtures_dir, "mp/mp-30_Cu.json", folder)),  # unreadable_file (not XAS)
        row("b12", "Pt", copy_fixture(fixtures_dir, "xdi/pt_metal_rt.xdi", folder)),  # not_k_edge (L3)
        row("b13", "Fe", cu),  # outside_energy_window: a Cu spectrum called Fe
        row("b14", "Cu", cu), row("b14", "Cu", rows[1]["file"]),  # duplicate_element x2
        row("b15", "Cu", cu, "1", 12), row("b15", "O", "files/xmu.dat", "0", 12),  # inconsistent_material x2
        row("b16", "O", "files/xmu.dat"), row("b16", "Cu", "feff/missing.dat"),  # material_incomplete + file_not_found
    ]
    path = write_manifest(folder, rows + bad, "with-bad.csv")
    result = build_local_dataset(path, tmp_path / "db")
    assert result.dropped == {
        "bad_label": 1, "bad_space_group": 1, "duplicate_element": 2, "element_without_channel": 1,
        "file_not_found": 2, "file_outside_folder": 2, "inconsistent_material": 2, "material_incomplete": 1,
        "no_material_id": 1, "no_space_group": 1, "not_k_edge": 1, "outside_energy_window": 1,
        "unknown_element": 2, "unreadable_file": 2,
    }
    assert set(result.dropped) <= set(DROP_REASONS)
    assert (result.n_samples, result.n_spectra) == (N_FEFF + 3, N_FEFF + 4)  # the good rows, untouched
    drops = pd.read_csv(tmp_path / "db" / "drops.csv", keep_default_na=False)
    assert len(drops) == len(bad)
    first_bad_line = len(rows) + 2  # header is line 1
    assert drops.set_index("line").loc[first_bad_line + 1, "reason"] == "bad_label"
    assert "Fe K window" in drops.set_index("material_id").loc["b13", "detail"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("content", [
    b"material_id,formula,label,element,file\nmp-1,Cu,,Cu,a.dat\n",  # no space_group column
    b"material_id,formula,space_group,label,element,file\n",  # no rows
    b"",  # empty file
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",  # not text
    b'material_id,formula,space_group,label,element,file\n"mp-1,Cu\n',  # broken quoting
])
def test_bad_manifest_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, content) -> None:
    (tmp_path / "manifest.csv").write_bytes(content)
    code, out, err = run_cli(capsys, "build-dataset", "--manifest", str(tmp_path / "manifest.csv"),
                             "--out", str(tmp_path / "db"))
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and "manifest.csv" in err
    assert not (tmp_path / "db").exists()


def test_missing_column_is_named(tmp_path) -> None:
    (tmp_path / "m.csv").write_text("material_id,formula,label,element\nmp-1,Cu,,Cu\n")
    with pytest.raises(SourceError, match="lacks column\\(s\\) space_group, file"):
        build_local_dataset(tmp_path / "m.csv", tmp_path / "db")


def test_no_usable_row_is_an_error_and_writes_nothing(tmp_path, capsys) -> None:
    write_manifest(tmp_path, [row("a", "Cu", "nothing.dat"), row("b", "Xx", "nothing.dat")])
    code, out, err = run_cli(capsys, "build-dataset", "--manifest", str(tmp_path / "manifest.csv"),
                             "--out", str(tmp_path / "db"))
    assert (code, out) == (2, "") and "None of the 2 manifest rows" in err and "file_not_found" in err
    assert not (tmp_path / "db").exists()


def test_out_must_not_be_a_folder_of_other_files(library, tmp_path) -> None:
    manifest, _ = library
    before = sorted(p.relative_to(manifest.parent) for p in manifest.parent.rglob("*"))
    with pytest.raises(DatasetError, match="not a dataset folder"):
        build_local_dataset(manifest, manifest.parent)  # would replace the user's own spectra
    assert sorted(p.relative_to(manifest.parent) for p in manifest.parent.rglob("*")) == before
    build_local_dataset(manifest, tmp_path / "db")
    build_local_dataset(manifest, tmp_path / "db")  # an existing dataset is replaced


def test_cli_prints_the_json_and_info_counts_the_unlabelled(library, tmp_path, capsys) -> None:
    manifest, rows = library
    code, out, err = run_cli(capsys, "build-dataset", "--manifest", str(manifest), "--out", str(tmp_path / "db"))
    assert (code, err) == (0, "")
    printed = json.loads(out)
    assert list(printed) == JSON_KEYS and printed["n_samples"] == N_FEFF + 3
    code, out, _ = run_cli(capsys, "info", str(tmp_path / "db"))
    info = json.loads(out)
    assert info["n_unlabelled"] == printed["n_samples"] - printed["n_labelled"] == 1 + N_FEFF // len(PLACEHOLDER_LABELS)
    assert sum(info["splits"].values()) == printed["n_labelled"]


def test_a_zip_of_the_same_files_builds_the_same_dataset(library, tmp_path) -> None:
    """The page's path (an uploaded zip, read in memory by the safe reader) and the CLI's (a folder)."""
    manifest, rows = library
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in manifest.parent.rglob("*"):
            if path.is_file() and path != manifest:
                archive.write(path, path.relative_to(manifest.parent).as_posix())
    spelled = [dict(r, file=("./" + r["file"]) if i % 2 else r["file"].replace("/", "\\")) for i, r in enumerate(rows)]
    zipped = build_from_archive(buffer.getvalue(), tmp_path / "zipped", archive_name="mine.zip",
                                manifest=write_manifest(tmp_path, spelled, "spelled.csv").read_bytes())
    folder = build_local_dataset(write_manifest(manifest.parent, spelled, "spelled.csv"), tmp_path / "folder")
    assert {**zipped.to_dict(), "path": "", "seconds": 0} == {**folder.to_dict(), "path": "", "seconds": 0}
    a, b = XanesDataset.load(tmp_path / "zipped"), XanesDataset.load(tmp_path / "folder")
    np.testing.assert_array_equal(a.spectra, b.spectra)
    assert a.metadata.drop(columns="elements").equals(b.metadata.drop(columns="elements"))

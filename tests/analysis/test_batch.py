"""Batch prediction over a manifest of real files: one bad file fails its material, not the batch;
every prepared material gets the probability a single prediction gives."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tests.sources.feff_files import write_xmu
from xanes_core.analysis.batch import COLUMNS, WARNING_SEPARATOR, predict_archive, predict_manifest
from xanes_core.analysis.prediction import Predictor
from xanes_core.errors import SourceError
from xanes_core.io import read_spectrum
from xanes_core.sources.local_files import MANIFEST_COLUMNS

N_FEFF = 12


@pytest.fixture(scope="module")
def predictors(runs, demo_small):
    return {model: Predictor(runs[model], dataset=demo_small) for model in ("core", "symmetry")}


def write_manifest(folder, rows):
    table = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS)).fillna("")
    path = folder / "manifest.csv"
    table.to_csv(path, index=False)
    return path


def copy_fixture(fixtures_dir, relative, folder):
    target = folder / "files" / relative.split("/")[-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures_dir / "spectra" / relative, target)
    return f"files/{target.name}"


@pytest.fixture(scope="module")
def manifest(real_feff, fixtures_dir, tmp_path_factory):
    """Real FEFF Cu spectra as xmu.dat files, a measured Cu foil, a two-element material of MP
    files, an unreadable file, a missing file and a row without a material id."""
    folder = tmp_path_factory.mktemp("batch")
    rows = []
    for i in range(N_FEFF):
        mp_id = real_feff.mp_id[i]
        write_xmu(folder / "feff" / f"{mp_id}.xmu.dat", real_feff.energy[i], real_feff.mu[i])
        rows.append([mp_id, real_feff.formula[i], real_feff.space_group[i], "", "Cu", f"feff/{mp_id}.xmu.dat"])
    rows.append(["cu-foil", "Cu", 225, "trivial", "Cu", copy_fixture(fixtures_dir, "xdi/cu_metal_rt.xdi", folder)])
    rows.append(["co-fe", "LiCoFeO4", 166, "", "Co", copy_fixture(fixtures_dir, "mp/LiCoO2_k_xanes.json", folder)])
    rows.append(["co-fe", "LiCoFeO4", 166, "", "Fe", copy_fixture(fixtures_dir, "mp/xas.XANES.K.Fe.mp-13.tsv", folder)])
    (folder / "files" / "broken.xdi").write_text("# XDI/1.0\n# Element.symbol: Cu\nnot numbers at all\n")
    rows.append(["broken", "CuO", 15, "", "Cu", "files/broken.xdi"])
    rows.append(["absent", "CuO", 15, "", "Cu", "files/nowhere.xdi"])
    rows.append(["", "CuO", 15, "", "Cu", f"feff/{real_feff.mp_id[0]}.xmu.dat"])
    rows.append(["escape", "CuO", 15, "", "Cu", "../outside.xdi"])
    return write_manifest(folder, rows)


def test_every_material_gets_a_row_and_bad_files_fail_only_their_material(predictors, manifest):
    result = predict_manifest(predictors["core"], manifest)
    table = result.table
    assert list(table.columns) == list(COLUMNS) and len(table) == N_FEFF + 6
    assert list(table["material_id"][-4:]) == ["broken", "absent", "line 19", "escape"]
    failed = table.set_index("material_id").loc[["broken", "absent", "line 19", "escape"]]
    assert failed["p_topological"].isna().all() and (failed["label"] == "").all()
    assert all(w.startswith("failed: ") for w in failed["warnings"])
    assert "no such file" in failed.at["absent", "warnings"] and "no such file" in failed.at["escape", "warnings"]
    assert "no material_id" in failed.at["line 19", "warnings"]
    done = table.dropna(subset=["p_topological"])
    assert len(done) == N_FEFF + 2 and done["p_topological"].between(0, 1).all()
    assert set(done["label"]) <= {"topological", "trivial"} and set(done["in_domain"]) <= {True, False}
    assert result.to_dict("x.csv") == {"n_materials": N_FEFF + 6, "n_predicted": N_FEFF + 2, "n_failed": 4,
                                       "out": "x.csv", "seconds": result.seconds}


def test_batch_probabilities_are_the_single_predictions(predictors, manifest):
    for model, space_group in (("core", None), ("symmetry", 166)):
        table = predict_manifest(predictors[model], manifest).table.set_index("material_id")
        folder = manifest.parent / "files"
        spectra = [read_spectrum(folder / "LiCoO2_k_xanes.json"), read_spectrum(folder / "xas.XANES.K.Fe.mp-13.tsv")]
        single = predictors[model].predict(spectra, space_group=space_group, formula="LiCoFeO4")
        assert table.at["co-fe", "p_topological"] == pytest.approx(single.p_topological, abs=1e-5)
        assert table.at["co-fe", "warnings"] == WARNING_SEPARATOR.join(single.warnings)
        assert "names Li, O too" in table.at["co-fe", "warnings"]


def test_a_symmetry_run_fails_materials_without_a_space_group(predictors, manifest, tmp_path):
    table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    table.loc[table["material_id"] == "cu-foil", "space_group"] = ""
    edited = manifest.parent / "no-group.csv"
    table.to_csv(edited, index=False)
    outcome = predict_manifest(predictors["symmetry"], edited).table.set_index("material_id")
    assert "needs the material's space group" in outcome.at["cu-foil", "warnings"]
    assert np.isfinite(outcome.at["co-fe", "p_topological"])


@pytest.mark.parametrize("content, words", [
    ("material_id,formula,element,file\nx,Cu,Cu,a.xdi\n", "lacks column(s) space_group, label"),
    (",".join(MANIFEST_COLUMNS) + "\n", "has no rows"),
    ("", "Cannot read manifest"),
])
def test_bad_manifests_are_refused_in_one_line(predictors, tmp_path, content, words):
    path = tmp_path / "manifest.csv"
    path.write_text(content)
    with pytest.raises(SourceError, match=words.replace("(", r"\(").replace(")", r"\)")):
        predict_manifest(predictors["core"], path)


def test_a_zip_gives_the_same_table_as_the_folder(predictors, manifest):
    import io
    import zipfile

    folder = manifest.parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix != ".csv":
                archive.write(path, path.relative_to(folder).as_posix())
    raw = buffer.getvalue()
    from_folder = predict_manifest(predictors["core"], manifest).table
    beside = predict_archive(predictors["core"], raw, "mine.zip", manifest.read_bytes(), "manifest.csv").table
    pd.testing.assert_frame_equal(from_folder, beside)
    with pytest.raises(SourceError, match="mine.zip has no manifest.csv"):
        predict_archive(predictors["core"], raw, "mine.zip")

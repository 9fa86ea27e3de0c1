"""``python -m xanes_core predict --run RUN_DIR FILE [FILE ...] [--space-group N | --cif FILE]`` and
``predict-batch --run RUN_DIR --manifest FILE.csv [--out FILE.csv]``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from xanes_core.analysis.prediction import Predictor
from xanes_core.io import read_spectrum
from xanes_core.learn.training import Trainer, TrainingConfig


@pytest.fixture(scope="module")
def run_dir(demo_small, demo_small_path, tmp_path_factory):
    """A tiny symmetry run (2 epochs on the small demo) made by the real Trainer.

    Every CLI call that reaches the model imports TensorFlow (seconds), so few tests do.
    """
    out = tmp_path_factory.mktemp("cli-runs") / "symmetry"
    config = TrainingConfig(dataset=str(demo_small_path), model="symmetry", epochs=2, augment=False)
    final = Trainer(config, out=out, dataset=demo_small).start().join()
    assert final.status == "completed", final.message
    return str(out)


@pytest.fixture(scope="module")
def files(fixtures_dir):
    mp = fixtures_dir / "spectra" / "mp"
    return {"Co": str(mp / "LiCoO2_k_xanes.json"), "Fe": str(mp / "xas.XANES.K.Fe.mp-13.tsv"),
            "Pt-L3": str(fixtures_dir / "spectra" / "xdi" / "pt_metal_rt.xdi")}


def predict_cli(*args):
    return subprocess.run([sys.executable, "-m", "xanes_core", "predict", *args],
                          capture_output=True, text=True)


def assert_user_error(result, *words):
    """Exit 2, nothing on stdout, and stderr is the one-line error (TensorFlow's start-up lines
    go to the log file, also for errors found after the run is loaded)."""
    assert result.returncode == 2 and result.stdout == "", result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and all(word in line for word in words), line


def test_prints_one_json_object(run_dir, files, tmp_path):
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    cif = tmp_path / "licoo2.cif"
    structure = Structure.from_spacegroup(166, Lattice.hexagonal(2.82, 14.05), ["Li", "Co", "O"],
                                          [[0, 0, 0.5], [0, 0, 0], [0, 0, 0.26]])
    cif.write_text(str(CifWriter(structure)))
    result = predict_cli("--run", run_dir, files["Co"], files["Fe"], "--cif", str(cif))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no library start-up lines on the terminal
    out = json.loads(result.stdout)
    assert {"p_topological", "label", "elements", "contributions", "warnings"} <= set(out)
    expected = Predictor(run_dir).predict([read_spectrum(files["Co"]), read_spectrum(files["Fe"])], cif=cif.read_text())
    assert out["p_topological"] == pytest.approx(expected.p_topological, abs=1e-6)
    assert out["label"] == expected.label
    assert out["elements"] == ["Co", "Fe"] and set(out["contributions"]) == {"Co", "Fe"}
    for element, contribution in expected.contributions.items():  # the old keys stay, the split is added
        assert out["contributions"][element] == pytest.approx(contribution.to_dict(), abs=1e-6)
        assert {"p_without", "delta", "spectrum_effect", "presence_effect"} <= set(out["contributions"][element])
    assert out["space_group"] == 166 and any("has no Fe" in w for w in out["warnings"])
    assert out["nearest"] and out["model"] == "symmetry"
    assert set(out["alignment"]) == set(out["similarity"]) == {"Co", "Fe"}
    assert out["in_domain"] in (True, False) and out["missing_elements"] == ["Li", "O"]


def test_formula_and_no_align(run_dir, files):
    result = predict_cli("--run", run_dir, files["Co"], "--space-group", "166", "--formula", "LiCoO2", "--no-align")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["alignment"] == {"Co": 0.0} and out["missing_elements"] == ["Li", "O"]
    assert any("names Li, O too" in w for w in out["warnings"])


@pytest.mark.parametrize("case", ["l-edge", "space-group", "cif", "missing-file"])
def test_input_errors_are_one_line_before_the_model_loads(run_dir, files, tmp_path, case):
    bad_cif = tmp_path / "bad.cif"
    bad_cif.write_text("data_x\n_cell_length_a nonsense\n")
    args, words = {
        "l-edge": ([files["Pt-L3"]], ["L3-edge", "K-edge spectra only"]),
        "space-group": ([files["Co"], "--space-group", "231"], ["1 to 230"]),
        "cif": ([files["Co"], "--cif", str(bad_cif)], ["CIF could not be read"]),
        "missing-file": ([str(tmp_path / "nothing.json")], ["no such file"]),
    }[case]
    result = predict_cli("--run", run_dir, *args)
    assert_user_error(result, *words)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_symmetry_run_without_space_group_exits_2(run_dir, files):
    assert_user_error(predict_cli("--run", run_dir, files["Co"]), "needs the material's space group")


def test_usage_errors_exit_2(run_dir, files):
    both = predict_cli("--run", run_dir, files["Co"], "--space-group", "1", "--cif", "x.cif")
    assert both.returncode == 2 and "not allowed with" in both.stderr
    assert predict_cli(files["Co"]).returncode == 2  # --run is required


def batch_cli(*args):
    return subprocess.run([sys.executable, "-m", "xanes_core", "predict-batch", *args], capture_output=True, text=True)


def test_predict_batch_writes_the_table_and_prints_the_counts(run_dir, files, tmp_path):
    import shutil

    for name in ("Co", "Fe"):
        shutil.copy(files[name], tmp_path / Path(files[name]).name)
    manifest = tmp_path / "mine.csv"
    manifest.write_text("material_id,formula,space_group,label,element,file\n"
                        f"lco,LiCoO2,166,,Co,{Path(files['Co']).name}\n"
                        f"fe,Fe,229,trivial,Fe,{Path(files['Fe']).name}\n"
                        "gone,Fe,229,,Fe,missing.tsv\n")
    result = batch_cli("--run", run_dir, "--manifest", str(manifest))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["n_materials", "n_predicted", "n_failed", "out", "seconds"]
    assert (out["n_materials"], out["n_predicted"], out["n_failed"]) == (3, 2, 1)
    assert out["out"] == str(tmp_path / "mine_predictions.csv")
    table = pd.read_csv(out["out"], keep_default_na=False)
    assert list(table.columns) == ["material_id", "p_topological", "label", "in_domain", "warnings"]
    assert list(table["material_id"]) == ["lco", "fe", "gone"] and table["warnings"][2].startswith("failed: ")


@pytest.mark.parametrize("case", ["columns", "out-is-manifest", "no-manifest"])
def test_predict_batch_input_errors_are_one_line_before_the_model_loads(run_dir, tmp_path, case):
    manifest = tmp_path / "bad.csv"
    manifest.write_text("material_id,file\nx,a.xdi\n")
    args, words = {
        "columns": (["--manifest", str(manifest)], ["lacks column(s)"]),
        "out-is-manifest": (["--manifest", str(manifest), "--out", str(manifest)], ["must not be the manifest"]),
        "no-manifest": (["--manifest", str(tmp_path / "none.csv")], ["Cannot read manifest"]),
    }[case]
    result = batch_cli("--run", run_dir, *args)
    assert_user_error(result, *words)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr

"""A run is bound to the exact version of its dataset: a rebuilt or vanished dataset is said so by
every reader and never used to re-score the run; older runs load, bound by sample count only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xanes_core.analysis.prediction import Predictor
from xanes_core.cli import main
from xanes_core.data.dataset import XanesDataset, check_dataset_folder
from xanes_core.data.demo import generate_demo
from xanes_core.errors import XanesError
from xanes_core.learn import runs
from xanes_core.learn.binding import dataset_binding
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.results import load_results
from xanes_core.learn.training import Trainer, TrainingConfig
from xanes_core.viz.report import build_report

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8))


@pytest.fixture(scope="module")
def trained(demo_small, tmp_path_factory) -> Path:
    """A folder with the small demo (seed 1) in demo/ and a 1-epoch core CNN trained on it in run/."""
    root = tmp_path_factory.mktemp("binding")
    demo_small.save(root / "demo")
    config = TrainingConfig(dataset=str(root / "demo"), model="core", epochs=1, augment=False, model_config=TINY)
    final = Trainer(config, out=root / "run", dataset=demo_small).start().join()
    assert final.status == "completed", final.message
    return root


@pytest.fixture
def copy(trained, tmp_path) -> tuple[Path, Path]:
    """(run, dataset) copied for one test, the run pointing at the copied dataset."""
    data, run = shutil.copytree(trained / "demo", tmp_path / "demo"), shutil.copytree(trained / "run", tmp_path / "run")
    config = runs.read_config(run)
    runs.write_config(run, {**{k: v for k, v in config.items() if k != "schema_version"}, "dataset": str(data)})
    return run, data


def _sample(dataset: XanesDataset) -> int:
    return int(np.flatnonzero(dataset.metadata["elements"].map(len).to_numpy() >= 2)[0])


def _error_line(capsys) -> str:
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    return line


def test_a_run_records_the_version_and_provenance_of_its_dataset(trained, demo_small):
    run = trained / "run"
    config = runs.read_config(run)
    assert config["dataset_sha256"] == check_dataset_folder(trained / "demo")["sha256"] == demo_small.content_sha256
    record = runs.read_dataset_record(run)
    assert record["sha256"] == config["dataset_sha256"] and record["provenance"] == demo_small.provenance
    assert dataset_binding(run, config).state == "same"
    assert [r.dataset_state for r in runs.list_runs(trained)] == ["same"]
    assert load_results(run).binding.message == ""


def test_a_rebuilt_dataset_of_the_same_size_is_never_used_for_the_run(copy, demo_small, capsys):
    run, data = copy
    generate_demo(n_samples=demo_small.n_samples, seed=2).save(data)  # same folder, same size, other materials
    config = runs.read_config(run)
    assert dataset_binding(run, config).state == "changed"
    assert [r.dataset_state for r in runs.list_runs(run.parent)] == ["changed"]

    assert main(["evaluate", str(run)]) == 2  # never re-scored on other materials
    assert "not the version run run was trained on" in _error_line(capsys)
    prediction = Predictor(run).predict_sample(demo_small, _sample(demo_small))
    assert prediction.nearest == () and any("not the version" in w for w in prediction.warnings)

    results = load_results(run)  # its own results and provenance, said to be of another version
    assert results.provenance == demo_small.provenance and results.provenance["seed"] == 1
    assert results.binding.state == "changed" and "not the version" in results.binding.message
    html = build_report(run)
    assert "not the version" in html and str(data) not in html
    assert main(["report", str(run), "--out", str(run.parent / "r.html")]) == 0
    assert "not the version" in json.loads(capsys.readouterr().out)["warnings"][0]


def test_a_batch_prediction_says_so_for_every_material(copy, demo_small, fixtures_dir, capsys):
    run, data = copy
    generate_demo(n_samples=demo_small.n_samples, seed=2).save(data)
    shutil.copy(fixtures_dir / "spectra" / "mp" / "LiCoO2_k_xanes.json", run.parent / "co.json")
    manifest = run.parent / "mine.csv"
    manifest.write_text("material_id,formula,space_group,label,element,file\nlco,LiCoO2,166,,Co,co.json\n")
    assert main(["predict-batch", "--run", str(run), "--manifest", str(manifest)]) == 0
    table = pd.read_csv(json.loads(capsys.readouterr().out)["out"], keep_default_na=False)
    assert table["p_topological"][0] > 0 and "not the version run run was trained on" in table["warnings"][0]


def test_a_vanished_dataset_is_said_so(copy, demo_small, capsys):
    run, data = copy
    shutil.rmtree(data)
    assert dataset_binding(run, runs.read_config(run)).state == "missing"
    assert main(["evaluate", str(run)]) == 2
    assert "no longer usable" in _error_line(capsys)
    assert load_results(run).provenance == demo_small.provenance
    prediction = Predictor(run).predict_sample(demo_small, _sample(demo_small))
    assert prediction.nearest == () and any("no longer usable" in w for w in prediction.warnings)


def test_a_run_from_before_version_binding_loads_with_a_note(copy, demo_small, capsys):
    run, data = copy
    config = runs.read_config(run)
    for key in ("schema_version", "dataset_sha256"):
        config.pop(key)
    runs.write_config(run, config)
    (run / "dataset.json").unlink()
    binding = dataset_binding(run, config)
    assert binding.state == "unverified" and "sample count only" in binding.message

    assert main(["evaluate", str(run)]) == 0
    assert "sample count only" in json.loads(capsys.readouterr().out)["warnings"][0]
    prediction = Predictor(run).predict_sample(demo_small, _sample(demo_small))
    assert prediction.nearest and any("sample count only" in w for w in prediction.warnings)
    assert load_results(run).provenance == demo_small.provenance  # read from the folder, which it still matches

    generate_demo(n_samples=300, seed=2).save(data)
    assert dataset_binding(run, config).state == "changed"
    assert load_results(run).provenance == {}  # never another dataset's provenance
    assert main(["evaluate", str(run)]) == 2
    assert "300 samples, the run saw 600" in _error_line(capsys)


def test_the_trainer_takes_only_the_version_stored_at_its_dataset_path(tmp_path):
    dataset = generate_demo(n_samples=120, seed=4)
    config = TrainingConfig(dataset=str(tmp_path / "demo"), model="elements")
    with pytest.raises(XanesError, match="never saved"):
        Trainer(config, out=tmp_path / "run", dataset=dataset)
    dataset.save(tmp_path / "elsewhere")
    dataset.save(tmp_path / "demo")  # the same data saved again: the same version
    assert dataset.content_sha256 == check_dataset_folder(tmp_path / "elsewhere")["sha256"]
    generate_demo(n_samples=120, seed=5).save(tmp_path / "demo")
    with pytest.raises(XanesError, match="has changed since it was loaded"):
        Trainer(config, out=tmp_path / "run", dataset=dataset)
    assert not (tmp_path / "run").exists()

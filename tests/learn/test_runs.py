"""Run registry: status on disk, interrupted runs, listing, baselines stored without pickle."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.svm import SVC

from xanes_core.learn import runs
from xanes_core.learn.baselines import ElementsBaseline, SVMBaseline, flattened_spectra
from xanes_core.errors import RunError
from xanes_core.learn.model import EncodedSpectra
from xanes_core.paths import runs_root
from xanes_core.data.preprocess import Standardizer


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_running_run_of_a_dead_process_reads_as_interrupted(tmp_path, monkeypatch):
    # A cache of its own: the suite-wide one holds runs of other tests (e.g. the CLI's failed ones).
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    run_dir = runs.new_run_dir("symmetry")
    assert run_dir.parent == runs_root()
    runs.write_config(run_dir, {"model": "symmetry", "created": "2026-01-01T00:00:00"})
    runs.write_status(run_dir, "running", "epoch 3")
    assert runs.read_status(run_dir)["status"] == "running"  # this process is alive
    status = json.loads((run_dir / runs.STATUS).read_text())
    (run_dir / runs.STATUS).write_text(json.dumps({**status, "pid": _dead_pid()}))
    assert runs.read_status(run_dir)["status"] == "interrupted"
    listed = runs.list_runs()
    assert [r.run_id for r in listed] == [run_dir.name] and listed[0].status == "interrupted"


def test_out_folder_holding_a_run_is_refused(tmp_path):
    run_dir = runs.new_run_dir("core", tmp_path / "mine")
    runs.write_config(run_dir, {"model": "core"})
    with pytest.raises(RunError):
        runs.new_run_dir("core", run_dir)
    with pytest.raises(RunError):
        runs.load_run(tmp_path / "nothing-here")


def test_incomplete_run_cannot_be_loaded(tmp_path):
    run_dir = runs.new_run_dir("core", tmp_path / "half")
    runs.write_config(run_dir, {"model": "core"})
    with pytest.raises(RunError):
        runs.load_run(run_dir)


def test_baselines_round_trip_through_npz_and_match_sklearn(demo_small, tmp_path):
    train = demo_small.split_indices("train")
    test = demo_small.split_indices("test")
    encoded = EncodedSpectra(demo_small, Standardizer.fit_dataset(demo_small, train))
    labels = demo_small.labels[train]
    weights = np.ones(train.size)
    svm = SVMBaseline.fit(encoded, train, labels, weights)
    reference = SVC(kernel="rbf", gamma="scale").fit(flattened_spectra(encoded, train), labels)
    np.testing.assert_allclose(svm.decision(encoded, test),
                               reference.decision_function(flattened_spectra(encoded, test)), atol=1e-6)
    svm.save(tmp_path / "svm.npz")
    np.testing.assert_allclose(SVMBaseline.load(tmp_path / "svm.npz").predict_proba(encoded, test),
                               svm.predict_proba(encoded, test))
    elements = ElementsBaseline.fit(encoded, train, labels, weights)
    elements.save(tmp_path / "elements.npz")
    np.testing.assert_allclose(ElementsBaseline.load(tmp_path / "elements.npz").predict_proba(encoded, test),
                               elements.predict_proba(encoded, test))
    with pytest.raises(RunError):
        SVMBaseline.load(tmp_path / "elements.npz")
    with np.load(tmp_path / "svm.npz", allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)

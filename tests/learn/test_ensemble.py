"""Ensembles of CNNs: members, calibration on validation only, saving, and damaged folders."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone

from tests.learn.test_training import TINY, _config, train_clean_and_poisoned
from xanes_core.errors import RunError
from xanes_core.learn import runs
from xanes_core.learn.classifiers import CNNClassifier
from xanes_core.learn.ensemble import ENSEMBLE_FILE, EnsembleClassifier
from xanes_core.learn.features import pack
from xanes_core.learn.training import Trainer


@pytest.fixture(scope="module")
def ensemble_run(demo_small, tmp_path_factory):
    """A completed run of two tiny CNNs on the small demo."""
    folder = tmp_path_factory.mktemp("ensemble")
    demo_small.save(folder / "data")
    trainer = Trainer(_config(folder / "data", epochs=2, ensemble=2, seed=4), out=folder / "run").start()
    final = trainer.join(timeout=600)
    assert final.status == "completed", final.message
    return trainer


def test_members_differ_and_the_probability_is_their_calibrated_mean(ensemble_run, demo_small):
    run = runs.load_run(ensemble_run.run_dir)
    ensemble = run.classifier
    assert isinstance(ensemble, EnsembleClassifier) and [m.seed for m in ensemble.members_] == [4, 5]
    X = pack(demo_small, run.splits["test"])
    raw = ensemble.member_probabilities(X)
    assert raw.shape == (2, X.shape[0], 2) and not np.allclose(raw[0], raw[1])
    output = ensemble.predict_distribution(X)
    calibrated = ensemble.calibration_.apply(raw)
    np.testing.assert_allclose(output.probability, calibrated.mean(axis=0))
    np.testing.assert_allclose(output.uncalibrated, raw.mean(axis=0))
    np.testing.assert_allclose(output.spread, calibrated.std(axis=0, ddof=1))
    assert (output.low <= output.probability + 1e-12).all() and (output.probability <= output.high + 1e-12).all()
    np.testing.assert_allclose(ensemble.predict_proba(X), output.probability)
    expected = (output.probability[:, 1] >= ensemble.class_prior_[1]).astype(int)
    np.testing.assert_array_equal(ensemble.predict(X), expected)


def test_the_run_records_calibration_and_per_material_spread(ensemble_run):
    metrics = json.loads((ensemble_run.run_dir / runs.METRICS).read_text())
    test = metrics["scores"]["test"]
    assert {"uncalibrated", "uncertainty", "low", "high"} <= set(test)
    assert metrics["ensemble"]["n_members"] == 2 and metrics["ensemble"]["calibration"]["method"] == "temperature"
    assert metrics["threshold"] == pytest.approx(metrics["ensemble"]["class_prior"][1])
    assert 0 <= metrics["ece"] <= 1 and 0 <= metrics["ece_uncalibrated"] <= 1 and 0 <= metrics["brier"] <= 1
    history = json.loads((ensemble_run.run_dir / runs.HISTORY).read_text())
    assert {entry["member"] for entry in history} == {1, 2}


def test_calibration_is_fitted_on_validation_never_on_test(demo_small, tmp_path):
    """Poisoning the test split (spectra blown up, labels flipped) changes no member and not the
    calibration map: only the test scores move."""
    clean, poisoned = (run.metrics for run in train_clean_and_poisoned(demo_small, tmp_path, epochs=1, ensemble=2,
                                                                         seed=2))
    calibration = clean["ensemble"]["calibration"]
    assert poisoned["ensemble"]["calibration"]["temperature"] == pytest.approx(calibration["temperature"], rel=1e-5)
    assert poisoned["ensemble"]["calibration"]["bias"] == pytest.approx(calibration["bias"], rel=1e-5, abs=1e-6)
    assert clean["ece"] != poisoned["ece"]


def test_scikit_learn_can_clone_it_and_reach_member_settings():
    ensemble = EnsembleClassifier(CNNClassifier(epochs=3, seed=10), n_members=3)
    copy = clone(ensemble)
    assert copy.get_params()["estimator__epochs"] == 3 and copy.n_members == 3
    assert [copy._member(i).seed for i in range(3)] == [10, 11, 12]


def test_a_missing_member_is_one_run_error_naming_it(ensemble_run, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(ensemble_run.run_dir, damaged)
    (damaged / "members" / "1" / "model.keras").unlink()
    with pytest.raises(RunError, match=r"member 2 \(members/1/model.keras\) is missing"):
        runs.load_run(damaged)
    (damaged / ENSEMBLE_FILE).write_text('{"n_members": "two"}')
    with pytest.raises(RunError, match="ensemble.json is damaged"):
        runs.load_run(damaged)
    (damaged / ENSEMBLE_FILE).unlink()
    with pytest.raises(RunError, match="no ensemble.json"):
        runs.load_run(damaged)


def test_single_cnn_runs_saved_before_ensembles_still_load_as_one_cnn(tmp_path):
    config = _config(tmp_path, model="core").to_dict()
    for key in ("ensemble", "task"):  # what a config.json written before them holds
        config.pop(key)
    classifier = runs.training_config(config).classifier()
    assert type(classifier) is CNNClassifier and classifier.model_type == "core"
    assert classifier.get_params()["filters"] == TINY.filters


def test_a_calibrated_run_decides_at_its_training_prevalence_until_a_person_chooses(ensemble_run):
    """The paper's balanced cut on calibrated probabilities is the training share of topological
    materials: the Results page, the report and the Predictor use it unless another is saved."""
    from xanes_core.analysis.prediction import Predictor
    from xanes_core.learn import operating_point
    from xanes_core.learn.results import load_results
    from xanes_core.learn.run_settings import read_settings, update_settings

    run_dir = ensemble_run.run_dir
    metrics = runs.read_run(run_dir).metrics
    prior = metrics["ensemble"]["class_prior"][1]
    assert operating_point.run_default(metrics) == pytest.approx(prior) and 0.1 < prior < 0.3
    assert operating_point.choices(metrics)[0].threshold == pytest.approx(prior)
    update_settings(run_dir, name="named, threshold untouched")
    assert load_results(run_dir).at().threshold == pytest.approx(prior)
    assert Predictor(run_dir).threshold == pytest.approx(prior)
    update_settings(run_dir, threshold=0.4, threshold_rule="balanced_accuracy")
    assert load_results(run_dir).at().threshold == pytest.approx(0.4)
    update_settings(run_dir, threshold=0.5, threshold_rule="paper")
    assert operating_point.saved_threshold(read_settings(run_dir), metrics) == pytest.approx(prior)


def test_an_ensemble_attribution_adds_up_to_its_calibrated_effect(ensemble_run, demo_small):
    """Integrated gradients of an ensemble: the mean of its members' attributions of their
    calibrated probabilities, so they add up to the ensemble's own change of p(topological)."""
    from xanes_core.learn.features import unpack
    from xanes_core.learn.gradients import integrated_gradients

    ensemble = runs.load_run(ensemble_run.run_dir).classifier
    X = pack(demo_small, np.arange(40))
    baseline = X.copy()
    unpack(baseline).spectra[...] *= 0.7
    attributions = integrated_gradients(ensemble, X, baseline, target=1, steps=64)
    effect = ensemble.predict_proba(X)[:, 1] - ensemble.predict_proba(baseline)[:, 1]
    np.testing.assert_allclose(attributions.sum(axis=(1, 2)), effect, atol=5e-3)
    raw = ensemble.member_probabilities(X)[:, :, 1].mean(axis=0) - ensemble.member_probabilities(baseline)[:, :, 1].mean(0)
    assert not np.allclose(effect, raw, atol=5e-3)  # the calibration is inside the gradient, not ignored

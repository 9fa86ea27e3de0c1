"""``train --ensemble [N]``, ``train --task three-class``, and what ``evaluate`` and ``predict``
print about calibration and uncertainty."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import run_command
from xanes_core.analysis.prediction import Predictor, interval_warnings
from xanes_core.cli.main import build_parser
from xanes_core.cli.train_config import training_config
from xanes_core.data.classes import class_names
from xanes_core.errors import RunError
from xanes_core.io import read_spectrum
from xanes_core.learn.calibration import brier_score, expected_calibration_error
from xanes_core.learn.confidence import read_test_scores


@pytest.fixture(scope="module")
def ensemble_dir(demo_small_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-ensemble") / "ensemble"
    result = run_command("train", "--dataset", str(demo_small_path), "--model", "core", "--epochs", "2",
                         "--ensemble", "3", "--out", str(out))
    return out, result


def test_train_ensemble_prints_calibration_and_members(ensemble_dir):
    out, result = ensemble_dir
    assert result["n_members"] == 3 and result["task"] == "binary"
    metrics = json.loads((out / "metrics.json").read_text())
    scores = read_test_scores(metrics)
    assert result["ece"] == pytest.approx(expected_calibration_error(scores.labels, scores.probability))
    assert result["ece_uncalibrated"] == pytest.approx(expected_calibration_error(scores.labels, scores.uncalibrated))
    assert result["brier"] == pytest.approx(brier_score(scores.labels, scores.probability))
    assert result["ece"] != result["ece_uncalibrated"]  # calibrated: the two differ
    evaluated = run_command("evaluate", str(out))
    for key in ("ece", "ece_uncalibrated", "brier", "n_members"):
        assert evaluated[key] == pytest.approx(result[key]), key
    assert evaluated["test"]["balanced_accuracy"] == pytest.approx(result["test"]["balanced_accuracy"])


def test_ensemble_without_a_number_means_five_and_plain_train_one_cnn():
    parser = build_parser()
    assert parser.parse_args(["train", "--dataset", "d", "--ensemble"]).ensemble == 5
    assert parser.parse_args(["train", "--dataset", "d", "--ensemble", "2"]).ensemble == 2
    plain = training_config(parser.parse_args(["train", "--dataset", "d"]))
    assert plain.ensemble is None and plain.task == "binary"
    three = training_config(parser.parse_args(["train", "--dataset", "d", "--task", "three-class", "--ensemble"]))
    assert three.ensemble == 5 and three.task == "three-class"


def test_predict_reports_the_interval_and_the_spread(ensemble_dir, fixtures_dir):
    out, _ = ensemble_dir
    spectrum = str(fixtures_dir / "spectra" / "mp" / "LiCoO2_k_xanes.json")
    result = subprocess.run([sys.executable, "-m", "xanes_core", "predict", "--run", str(out), spectrum],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    expected = Predictor(out).predict([read_spectrum(spectrum)])
    low, high = printed["p_interval"]
    assert low <= printed["p_topological"] <= high and printed["uncertainty"] >= 0
    assert printed["p_interval"] == pytest.approx(list(expected.p_interval), abs=1e-6)
    assert printed["uncertainty"] == pytest.approx(expected.uncertainty, abs=1e-6)
    assert printed["threshold"] == pytest.approx(json.loads((out / "metrics.json").read_text())["threshold"])


def test_wide_intervals_and_split_members_are_said_in_words():
    assert interval_warnings(None, 0.5, 1) == []
    assert interval_warnings((0.10, 0.15), 0.5, 5) == []
    (wide,) = interval_warnings((0.05, 0.40), 0.5, 5)
    assert "Wide interval" in wide and "5 CNNs" in wide and "5% to 40%" in wide
    split = interval_warnings((0.15, 0.25), 0.2, 5)
    assert len(split) == 1 and "disagree on the class" in split[0]
    assert len(interval_warnings((0.05, 0.60), 0.2, 5)) == 2


def test_three_class_training_prints_each_class_and_is_refused_by_predict(demo_small_path, tmp_path, fixtures_dir):
    out = tmp_path / "three"
    result = run_command("train", "--dataset", str(demo_small_path), "--model", "core", "--epochs", "1",
                         "--task", "three-class", "--out", str(out))
    assert result["task"] == "three-class"
    assert set(result["test"]) == {*class_names("three-class"), "balanced_accuracy"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.asarray(metrics["confusion"]).shape == (3, 3) and metrics["threshold"] is None
    assert np.asarray(metrics["scores"]["test"]["probability"]).shape[1] == 3
    assert 0.3 < result["reference_balanced_accuracy"] <= 1
    with pytest.raises(RunError, match="three classes"):
        Predictor(out)
    with pytest.raises(RunError, match="three classes"):  # attribution explains p(topological) of binary runs
        run_command("attribute", str(out))


@pytest.mark.parametrize("args, words", [
    (["--ensemble", "0"], "1 to 20"),
    (["--model", "svm", "--task", "three-class"], "need a CNN"),
    (["--model", "elements", "--ensemble", "3"], "need a CNN"),
])
def test_bad_ensemble_or_task_requests_are_one_line(demo_small_path, args, words):
    result = subprocess.run([sys.executable, "-m", "xanes_core", "train", "--dataset", str(demo_small_path), *args],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error:") and words in line, line


def test_three_class_on_a_dataset_without_fine_classes_is_one_clear_line(demo_small, tmp_path):
    plain = demo_small.metadata.drop(columns=["fine_class"])
    from xanes_core.data.dataset import XanesDataset

    XanesDataset(spectra=demo_small.spectra, sample_index=demo_small.sample_index, channel=demo_small.channel,
                 coverage=demo_small.coverage, metadata=plain, provenance=demo_small.provenance).save(tmp_path / "d")
    result = subprocess.run([sys.executable, "-m", "xanes_core", "train", "--dataset", str(tmp_path / "d"), "--model",
                             "core", "--task", "three-class", "--epochs", "1"], capture_output=True, text=True)
    assert result.returncode == 2 and "no fine classes" in result.stderr and len(result.stderr.splitlines()) == 1

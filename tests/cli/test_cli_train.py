"""`python -m xanes_core train` and `evaluate` through the real command line, as scripts call them."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)

from tests.helpers import TRAIN_KEYS, run_command
from xanes_core.data.dataset import XanesDataset
from xanes_core.learn.features import pack
from xanes_core.learn.runs import load_run


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "xanes_core", *args], capture_output=True, text=True)


def expected_scores(run_dir) -> tuple[dict, dict]:
    """The run's test object and per-element sample counts recomputed with scikit-learn from
    its saved classifier, splits and dataset (independently of xanes_core's evaluation code)."""
    run = load_run(run_dir)
    dataset = XanesDataset.load(run.config["dataset"])
    test = run.splits["test"]
    labels = dataset.labels[test].astype(int)
    predicted = (run.classifier.predict_proba(pack(dataset, test))[:, 1] >= 0.5).astype(int)
    scores = {"balanced_accuracy": balanced_accuracy_score(labels, predicted)}
    for name, label in (("topological", 1), ("trivial", 0)):
        recall, precision, f1 = (metric(labels, predicted, pos_label=label, zero_division=np.nan)
                                 for metric in (recall_score, precision_score, f1_score))
        scores[name] = {"recall": recall, "precision": precision, "f1": f1}
    elements = dataset.metadata["elements"].iloc[test]
    counts = {symbol: int(elements.map(lambda present, s=symbol: s in present).sum())
              for symbol in set().union(*elements)}
    return scores, counts


def assert_scores(printed: dict, expected: dict) -> None:
    assert printed["balanced_accuracy"] == pytest.approx(expected["balanced_accuracy"], abs=1e-9)
    for name in ("topological", "trivial"):
        for metric, value in expected[name].items():
            if np.isnan(value):
                assert printed[name][metric] is None, (name, metric)
            else:
                assert printed[name][metric] == pytest.approx(value, abs=1e-9), (name, metric)


def test_train_then_evaluate_print_the_documented_json(demo_small_path, tmp_path):
    run_dir = tmp_path / "run"
    trained = run_cli("train", "--dataset", str(demo_small_path), "--model", "core", "--epochs", "1",
                      "--seed", "1", "--out", str(run_dir))
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert trained.stderr == ""  # no library start-up lines on the terminal
    result = json.loads(trained.stdout)
    assert set(result) == TRAIN_KEYS
    assert result["epochs_run"] == 1 and result["device"] == training_device()
    scores, counts = expected_scores(run_dir)
    assert_scores(result["test"], scores)

    evaluated = run_cli("evaluate", str(run_dir))
    assert evaluated.returncode == 0 and evaluated.stderr == "", evaluated.stderr[-2000:]
    again = json.loads(evaluated.stdout)
    assert again["test"] == result["test"]
    assert {symbol: m["n_samples"] for symbol, m in again["per_element"].items()} == counts
    for metrics in again["per_element"].values():
        assert metrics["topological"]["support"] + metrics["trivial"]["support"] == metrics["n_samples"]


def training_device() -> str:
    """Where TensorFlow trains on this machine (CPU, or the GPU of a GPU machine)."""
    from xanes_core.learn.classifiers import select_device

    return select_device()[1]


@pytest.mark.parametrize("args", [
    ["train", "--dataset", "/no/such/dataset"],
    ["train", "--dataset", ".", "--model", "transformer"],
    ["train", "--dataset", ".", "--epochs", "0"],
    ["evaluate", "/no/such/run"],
])
def test_bad_training_requests_exit_2_with_one_error_line(args):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error:")


@pytest.mark.parametrize("model", ["elements", "svm", "core"])
def test_cli_hooks_print_the_documented_objects(demo_small_path, tmp_path, model):
    out = tmp_path / f"run-{model}"
    result = run_command("train", "--dataset", str(demo_small_path), "--model", model, "--epochs", "1", "--seed", "3", "--out", str(out))
    assert result["run_dir"] == str(out) and result["seconds"] > 0
    assert result["device"] == ("CPU" if model in ("svm", "elements") else training_device())
    assert result["epochs_run"] == (1 if model == "core" else 0)
    test = result["test"]
    assert set(test) == {"topological", "trivial", "balanced_accuracy"}
    assert set(test["topological"]) == {"recall", "precision", "f1"}
    assert_scores(test, expected_scores(out)[0])
    evaluated = run_command("evaluate", str(out))
    assert evaluated["test"]["balanced_accuracy"] == pytest.approx(test["balanced_accuracy"], abs=1e-6)
    assert evaluated["test"]["topological"] == pytest.approx(test["topological"], abs=1e-6)
    symbol, metrics = next(iter(evaluated["per_element"].items()))
    assert metrics["n_samples"] > 0 and {"recall", "precision", "f1", "support"} <= set(metrics["topological"])
    json.dumps(result), json.dumps(evaluated)

"""`python -m xanes_core train` and `evaluate` through the real command line, as scripts call them."""

import json
import subprocess
import sys

import pytest

from tests.helpers import run_command


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "xanes_core", *args], capture_output=True, text=True)


def check_test_object(test):
    for cls in ("topological", "trivial"):
        assert set(test[cls]) >= {"recall", "precision", "f1"}
    assert 0.0 <= test["balanced_accuracy"] <= 1.0


def test_train_then_evaluate_print_the_documented_json(demo_small_path, tmp_path):
    run_dir = tmp_path / "run"
    trained = run_cli("train", "--dataset", str(demo_small_path), "--model", "core", "--epochs", "1",
                      "--seed", "1", "--out", str(run_dir))
    assert trained.returncode == 0, trained.stderr[-2000:]
    result = json.loads(trained.stdout)
    assert set(result) >= {"run_dir", "device", "seconds", "epochs_run", "test"}
    assert result["epochs_run"] == 1 and result["device"].startswith(("CPU", "GPU"))
    check_test_object(result["test"])

    evaluated = run_cli("evaluate", str(run_dir))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    again = json.loads(evaluated.stdout)
    assert again["test"] == result["test"]
    assert "Fe" in again["per_element"] or again["per_element"]
    some = next(iter(again["per_element"].values()))
    assert "topological" in some and "trivial" in some


@pytest.mark.parametrize("args", [
    ["train", "--dataset", "/no/such/dataset"],
    ["train", "--dataset", ".", "--model", "transformer"],
    ["train", "--dataset", ".", "--epochs", "0"],
    ["evaluate", "/no/such/run"],
])
def test_bad_training_requests_exit_2_with_one_error_line(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("model", ["elements", "svm", "core"])
def test_cli_hooks_print_the_documented_objects(demo_small_path, tmp_path, model):
    out = tmp_path / f"run-{model}"
    result = run_command("train", "--dataset", str(demo_small_path), "--model", model, "--epochs", "1", "--seed", "3", "--out", str(out))
    assert result["run_dir"] == str(out) and result["device"] == "CPU" and result["seconds"] > 0
    assert result["epochs_run"] == (1 if model == "core" else 0)
    test = result["test"]
    assert set(test) == {"topological", "trivial", "balanced_accuracy"}
    assert set(test["topological"]) == {"recall", "precision", "f1"}
    evaluated = run_command("evaluate", str(out))
    assert evaluated["test"]["balanced_accuracy"] == pytest.approx(test["balanced_accuracy"], abs=1e-6)
    assert evaluated["test"]["topological"] == pytest.approx(test["topological"], abs=1e-6)
    symbol, metrics = next(iter(evaluated["per_element"].items()))
    assert metrics["n_samples"] > 0 and {"recall", "precision", "f1", "support"} <= set(metrics["topological"])
    json.dumps(result), json.dumps(evaluated)

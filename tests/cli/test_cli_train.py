"""`python -m xanes_core train` and `evaluate` through the real command line, as scripts call them."""

import json
import subprocess
import sys

import pytest


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

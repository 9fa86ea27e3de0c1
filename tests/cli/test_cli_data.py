"""The data commands of `python -m xanes_core` as other tools call them: JSON out, exit 2 on errors."""

import json
import subprocess
import sys

import pytest


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "xanes_core", *args], capture_output=True, text=True, env=env)


def test_demo_data_then_info_print_the_same_counts(tmp_path):
    out = tmp_path / "demo"
    built = run_cli("demo-data", "--n-samples", "400", "--seed", "2", "--out", str(out))
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)
    for key in ("path", "n_samples", "n_topological", "n_trivial", "n_channels", "by_element_count", "seconds"):
        assert key in summary
    assert summary["n_samples"] == 400 == summary["n_topological"] + summary["n_trivial"]
    assert summary["n_channels"] == 81
    assert sum(sum(pair) for pair in summary["by_element_count"].values()) == 400
    info = run_cli("info", str(out))
    assert info.returncode == 0, info.stderr
    again = json.loads(info.stdout)
    assert {k: again[k] for k in ("n_samples", "by_element_count")} == {k: summary[k] for k in ("n_samples", "by_element_count")}


@pytest.mark.parametrize("args", [
    ["info", "/nonexistent/dataset"],
    ["demo-data", "--n-samples", "ten"],
    ["demo-data", "--n-samples", "5"],
    ["no-such-command"],
])
def test_bad_arguments_give_one_line_and_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_info_on_a_corrupt_dataset_is_a_clear_error(demo_small_path, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(demo_small_path, broken)
    (broken / "arrays.npz").write_bytes(b"junk")
    result = run_cli("info", str(broken))
    assert result.returncode == 2
    assert "corrupt" in result.stderr


def test_demo_data_never_replaces_a_folder_of_other_files(tmp_path):
    (tmp_path / "mine.xdi").write_text("my measurement")
    result = run_cli("demo-data", "--n-samples", "60", "--out", str(tmp_path))
    assert result.returncode == 2 and result.stdout == "" and "not a dataset folder" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.xdi"]

"""``python -m xanes_core attribute RUN_DIR [--split test] [--element EL] [--out FILE.csv]``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.analysis.helpers import train_tiny
from tests.helpers import run_command
from xanes_core.analysis.attribution import attribution_path, read_split_attribution
from xanes_core.data.elements import CHANNELS
from xanes_core.errors import XanesError


@pytest.fixture(scope="module")
def run_dir(demo_small, demo_small_path, tmp_path_factory):
    return str(train_tiny(demo_small, demo_small_path, "symmetry", tmp_path_factory.mktemp("attribute") / "run"))


def attribute_cli(*args):
    return subprocess.run([sys.executable, "-m", "xanes_core", "attribute", *args], capture_output=True, text=True)


def test_prints_one_json_object_and_writes_the_csv(run_dir, demo_small, tmp_path):
    result = attribute_cli(run_dir, "--out", str(tmp_path / "attribution.csv"))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["run_dir", "split", "n_samples", "elements", "seconds"]
    assert out["split"] == "test" and out["n_samples"] == len(demo_small.split_indices("test"))
    test_rows = demo_small.rows_for_samples(demo_small.split_indices("test"))
    present = set(demo_small.metadata.iloc[demo_small.split_indices("test")]["elements"].explode())
    assert set(out["elements"]) == present
    for element, summary in out["elements"].items():
        assert 0 <= summary["informative_share"] <= 1  # the demo: ground truth ranges are known
        assert all(low <= high for low, high in summary["top_ranges_ev"])
    table = pd.read_csv(tmp_path / "attribution.csv")
    assert list(table.columns) == ["element", "energy_ev", "energy_minus_e0_ev", "mean_attribution_topological",
                                   "mean_attribution_trivial"]
    assert len(table) == 200 * len(present) and table["element"].nunique() == len(present)
    assert sum(s["n_spectra"] for s in out["elements"].values()) == len(test_rows)
    cached = read_split_attribution(run_dir)
    cu = table[table["element"] == "Cu"]
    assert cu["mean_attribution_trivial"].to_numpy() == pytest.approx(cached.mean_attribution("Cu", 0), rel=1e-5)


def test_one_element_another_split_from_the_cache(run_dir, tmp_path):
    out = run_command("attribute", run_dir, "--split", "validation", "--element", "o", "--out", str(tmp_path / "o.csv"))
    assert list(out["elements"]) == ["O"] and attribution_path(run_dir, "validation").is_file()
    again = run_command("attribute", run_dir, "--split", "validation", "--element", "O")
    assert again["elements"] == out["elements"]
    table = pd.read_csv(tmp_path / "o.csv")
    assert set(table["element"]) == {"O"} and np.isfinite(table["energy_minus_e0_ev"]).all()


def test_user_errors(run_dir, demo_small):
    present = set(demo_small.metadata.iloc[demo_small.split_indices("test")]["elements"].explode())
    absent = next(e for e in CHANNELS if e not in present)
    for args, words in ((["--element", "Xx"], "not a chemical element"),
                        (["--element", absent], f"has no {absent} spectrum"),
                        (["--out", "table.txt"], "must name a .csv file")):
        with pytest.raises(XanesError, match=words):
            run_command("attribute", run_dir, *args)


def test_a_baseline_or_missing_run_is_one_line(demo_small, demo_small_path, tmp_path):
    baseline = train_tiny(demo_small, demo_small_path, "elements", tmp_path / "elements")
    for target, words in ((baseline, "elements baseline: attribution over energy needs a CNN run"),
                          (tmp_path / "nothing", "No run at")):
        result = attribute_cli(str(target))
        assert result.returncode == 2 and result.stdout == "", result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: ") and words in line, line

"""``python -m xanes_core read FILE [--json]`` as other tools call it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def read_cli(*args):
    return subprocess.run([sys.executable, "-m", "xanes_core", "read", *args], capture_output=True, text=True)


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_read_prints_one_json_object(fixtures_dir, flag):
    result = read_cli(str(fixtures_dir / "spectra" / "xdi" / "fe2o3_rt.xdi"), *flag)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"format", "element", "edge", "n_points", "energy_min", "energy_max", "warnings"} <= set(out)
    assert (out["format"], out["element"], out["edge"]) == ("xdi", "Fe", "K")
    assert out["n_points"] == 348 and out["energy_min"] < out["energy_max"]


def test_unreadable_file_is_one_line_and_exit_2(tmp_path):
    empty = tmp_path / "empty.dat"
    empty.write_text("")
    result = read_cli(str(empty))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "empty" in result.stderr

"""run_read: the function behind ``python -m xanes_core read FILE [--json]``."""

from __future__ import annotations

import json

import pytest

from xanes_core.errors import SpectrumError
from xanes_core.io.cli import run_read


def test_run_read_json(fixtures_dir, capsys):
    assert run_read(str(fixtures_dir / "spectra" / "xdi" / "fe2o3_rt.xdi"), as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"format", "element", "edge", "n_points", "energy_min", "energy_max", "warnings"} <= set(out)
    assert (out["format"], out["element"], out["edge"]) == ("xdi", "Fe", "K")
    assert out["n_points"] == 348 and out["energy_min"] < out["energy_max"]


def test_run_read_text(fixtures_dir, capsys):
    assert run_read(str(fixtures_dir / "spectra" / "feff" / "xmu.dat"), as_json=False) == 0
    assert "element: O" in capsys.readouterr().out


def test_run_read_propagates_user_errors(tmp_path):
    empty = tmp_path / "empty.dat"
    empty.write_text("")
    with pytest.raises(SpectrumError, match="empty"):
        run_read(str(empty), as_json=True)

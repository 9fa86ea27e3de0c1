"""Figure pack: every figure of a run as PNG + SVG + CSV in one zip, from Python and the CLI."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.viz.test_report import make_run
from xanes_core.cli import main
from xanes_core.learn.results import load_results
from xanes_core.viz.figure_pack import run_figures

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run_dir(demo_small_path: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pack-runs")
    make_run(root / "no-spectra", demo_small_path, "elements", 4, history=False)
    return make_run(root / "cnn", demo_small_path, "symmetry", 5)


def test_every_figure_has_a_name_a_title_and_its_data(run_dir: Path) -> None:
    packed = run_figures(load_results(run_dir).at())
    names = [item.name for item in packed]
    assert len(set(names)) == len(names)
    assert {"confusion_matrix", "roc_curve", "operating_point", "vs_no_spectra_baseline",
            "ptable_topological_recall"} <= set(names)
    for item in packed:
        assert item.figure.layout.title.text and not item.table.empty
        assert any(a.text == "synthetic demo data" for a in item.figure.layout.annotations)


@pytest.mark.skipif(not CHROMIUM.exists() or shutil.which("chromium") is None,
                    reason="kaleido renders PNG/SVG with Debian's chromium at /usr/bin/chromium, absent here")
@pytest.mark.timeout(240)
def test_cli_writes_the_zip_and_prints_path_count_and_seconds(run_dir: Path, tmp_path, capsys) -> None:
    out = tmp_path / "figures.zip"
    assert main(["figures", str(run_dir), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["path", "n_figures", "seconds"]  # exactly these keys (issue 14)
    assert printed["path"] == str(out) and printed["seconds"] > 0
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        stems = {name.rsplit(".", 1)[0] for name in names if name.endswith(".png")}
        assert len(stems) == printed["n_figures"]
        for stem in stems:
            assert archive.read(f"{stem}.png")[:8] == b"\x89PNG\r\n\x1a\n"
            assert b"<svg" in archive.read(f"{stem}.svg")[:400]
            assert not pd.read_csv(io.BytesIO(archive.read(f"{stem}.csv"))).empty
        readme = archive.read("README.txt").decode()
    assert "threshold 0.500" in readme and str(run_dir.parent) not in readme and "demo-small" in readme


def test_cli_refuses_a_bad_request_in_one_line(run_dir: Path, tmp_path, capsys) -> None:
    assert main(["figures", str(run_dir), "--out", str(tmp_path / "figures.png")]) == 2
    assert main(["figures", str(run_dir), "--out", str(tmp_path / "f.zip"), "--threshold", "2"]) == 2
    assert main(["figures", str(tmp_path / "missing"), "--out", str(tmp_path / "f.zip")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert not list(tmp_path.glob("*.zip"))

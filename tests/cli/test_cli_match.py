"""``python -m xanes_core match --dataset DIR FILE [--element EL] [--top K] [--no-align]`` against
a library built with ``build-dataset`` from the real Cu FEFF spectra."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.analysis.helpers import feff_database, real_feff_or_skip
from tests.helpers import run_command
from xanes_core.errors import XanesError

NEAR_METALLIC_CU = {"mp-1232365", "mp-1213626"}  # Cu27CO, Cu64O: the set has no pure Cu metal


@pytest.fixture(scope="module")
def library_dir(fixtures_dir, tmp_path_factory):
    """The real Cu FEFF spectra as FEFF xmu.dat files, built into a dataset with build-dataset."""
    return str(feff_database(real_feff_or_skip(fixtures_dir), tmp_path_factory.mktemp("library")))


@pytest.fixture(scope="module")
def foil(fixtures_dir):
    return str(fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi")


def test_prints_the_matches_of_a_measured_spectrum(library_dir, foil):
    result = subprocess.run([sys.executable, "-m", "xanes_core", "match", "--dataset", library_dir, foil,
                             "--top", "3"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["element", "is_computed", "shift_ev", "matches", "seconds"]
    assert out["element"] == "Cu" and out["is_computed"] is False and out["shift_ev"] > 0
    assert [list(m) for m in out["matches"]] == [["sample_id", "formula", "label", "similarity", "shift_ev"]] * 3
    assert {m["sample_id"] for m in out["matches"][:2]} == NEAR_METALLIC_CU


def test_no_align_and_element_choice(library_dir, foil):
    out = run_command("match", "--dataset", library_dir, foil, "--element", "Cu", "--no-align", "--top", "1")
    assert out["shift_ev"] == 0.0 and len(out["matches"]) == 1


@pytest.mark.parametrize("case", ["top", "element", "dataset"])
def test_user_errors_are_one_line(library_dir, foil, fixtures_dir, tmp_path, case):
    iron = str(fixtures_dir / "spectra" / "mp" / "xas.XANES.K.Fe.mp-13.tsv")
    args, words = {
        "top": (["--dataset", library_dir, foil, "--top", "0"], "at least 1"),
        "element": (["--dataset", library_dir, iron], "no Fe spectrum"),
        "dataset": (["--dataset", str(tmp_path / "none"), foil], "No dataset folder"),
    }[case]
    with pytest.raises(XanesError, match=words):
        run_command("match", *args)
    if case == "element":
        result = subprocess.run([sys.executable, "-m", "xanes_core", "match", *args], capture_output=True, text=True)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")

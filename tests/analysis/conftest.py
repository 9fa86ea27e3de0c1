"""Fixtures for the analysis tests: tiny CNN runs on the small demo, and libraries of real spectra
(see :mod:`tests.analysis.helpers`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.analysis.helpers import library, train_tiny
from xanes_core.data.preprocess import resample


@pytest.fixture(scope="package")
def runs(demo_small, demo_small_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("predict-runs")
    return {model: train_tiny(demo_small, demo_small_path, model, root / model)
            for model in ("symmetry", "core")}


@pytest.fixture(scope="session")
def real_feff(fixtures_dir):
    """(mp_id, formula, space group, energy, mu) of the real Cu FEFF spectra."""
    folder = fixtures_dir.parent / "data" / "real_feff"
    if not (folder / "cu_feff_materials.npz").is_file():
        pytest.skip(f"real FEFF Cu spectra not found in {folder}")
    with np.load(folder / "cu_feff_materials.npz", allow_pickle=False) as npz:
        ids, formulas, energy, mu = (npz[k] for k in ("mp_id", "formula", "energy", "mu"))
    groups = pd.read_csv(folder / "cu_materials_formula_sg.csv").set_index("mp_id")
    space_group = groups.reindex(ids)["spacegroup_symprec0.1"].to_numpy()
    return ids.astype(str), formulas.astype(str), space_group, energy.astype(np.float64), mu.astype(np.float64)


@pytest.fixture(scope="session")
def feff_library(real_feff):
    """The real Cu FEFF spectra as a dataset, each resampled on the Cu grid as computed."""
    ids, formulas, groups, energy, mu = real_feff
    resampled = [resample(e, m, "Cu") for e, m in zip(energy, mu)]
    return library(ids, formulas, ["Cu"] * len(ids), [r[0] for r in resampled],
                   [r[1] for r in resampled], groups)

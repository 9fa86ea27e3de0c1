"""Fixtures for the analysis tests: tiny CNN runs on the small demo, and libraries of real spectra
(see :mod:`tests.analysis.helpers`)."""

from __future__ import annotations

import pytest

from tests.analysis.helpers import feff_database, real_feff_or_skip, train_tiny
from xanes_core.data.dataset import XanesDataset


@pytest.fixture(scope="package")
def runs(demo_small, demo_small_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("predict-runs")
    return {model: train_tiny(demo_small, demo_small_path, model, root / model)
            for model in ("symmetry", "core")}


@pytest.fixture(scope="session")
def real_feff(fixtures_dir):
    """The 2,589 real Cu FEFF spectra (mp_id, formula, space_group, energy, mu)."""
    return real_feff_or_skip(fixtures_dir)


@pytest.fixture(scope="session")
def feff_library(real_feff, tmp_path_factory):
    """The real Cu FEFF spectra as a dataset made by build-dataset from FEFF xmu.dat files."""
    return XanesDataset.load(feff_database(real_feff, tmp_path_factory.mktemp("feff-database")))

"""Fixtures for the analysis tests: tiny CNN runs on the small demo, and libraries of real spectra
(see :mod:`tests.analysis.helpers`)."""

from __future__ import annotations

import pytest

from tests.analysis.helpers import feff_dataset, load_real_feff, train_tiny


@pytest.fixture(scope="package")
def runs(demo_small, demo_small_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("predict-runs")
    return {model: train_tiny(demo_small, demo_small_path, model, root / model)
            for model in ("symmetry", "core")}


@pytest.fixture(scope="session")
def real_feff(fixtures_dir):
    """(mp_id, formula, space group, energy, mu) of the real Cu FEFF spectra."""
    return load_real_feff(fixtures_dir)


@pytest.fixture(scope="session")
def feff_library(real_feff):
    """The real Cu FEFF spectra as a dataset, each resampled on the Cu grid as computed."""
    return feff_dataset(real_feff)

"""The demo looks like real FEFF K-edge spectra: edge position (E0 = maximum of the derivative,
relative to the tabulated K edge) and mean shape on the element's grid.

Real inputs: 2,589 FEFF Cu K-edge spectra of Materials Project oxides (``../shared/data/real_feff``)
and Materials Project documents in ``../shared/fixtures/spectra/mp`` (LiCoO2 Co, mp-13 Fe).
"""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.data.demo.feff import modelled_e0_offset
from xanes_core.data.elements import energy_grid, k_edge_energy
from xanes_core.data.preprocess import resample
from xanes_core.io.detect import find_e0
from xanes_core.io.reader import read_spectrum


@pytest.fixture(scope="module")
def real_cu(fixtures_dir):
    path = fixtures_dir.parent / "data" / "real_feff" / "cu_feff_materials.npz"
    if not path.is_file():
        pytest.skip(f"real FEFF Cu spectra not found at {path}")
    with np.load(path, allow_pickle=False) as npz:
        return npz["energy"].astype(np.float64), npz["mu"].astype(np.float64)


def _demo_statistics(dataset, symbol: str) -> tuple[float, np.ndarray]:
    """Median E0 - E_K of the demo's spectra of one element, and their mean spectrum."""
    spectra = dataset.spectra[dataset.element_rows(symbol)]
    e0 = np.median([find_e0(energy_grid(symbol), spectrum) for spectrum in spectra])
    return float(e0 - k_edge_energy(symbol)), spectra.mean(axis=0)


def test_cu_edges_and_mean_spectrum_match_real_feff(demo_full, real_cu):
    energy, mu = real_cu
    real_e0 = np.median([find_e0(e, m) for e, m in zip(energy, mu)]) - k_edge_energy("Cu")
    real_mean = np.mean([resample(e, m, "Cu")[0] for e, m in zip(energy, mu)], axis=0)
    demo_e0, demo_mean = _demo_statistics(demo_full, "Cu")
    assert 15.0 < real_e0 < 21.0  # FEFF puts Cu edges ~18 eV above the tabulated 8979 eV
    assert abs(demo_e0 - real_e0) < 3.0
    assert np.corrcoef(demo_mean, real_mean)[0, 1] >= 0.8


@pytest.mark.parametrize("name, symbol", [("LiCoO2_k_xanes.json", "Co"), ("xas.XANES.K.Fe.mp-13.tsv", "Fe")])
def test_materials_project_documents_match_the_demo(demo_full, fixtures_dir, name, symbol):
    spectrum = read_spectrum(fixtures_dir / "spectra" / "mp" / name)
    assert spectrum.element == symbol
    real_e0 = find_e0(spectrum.energy, spectrum.mu) - k_edge_energy(symbol)
    real_on_grid, _ = resample(spectrum.energy, spectrum.mu, symbol)
    demo_e0, demo_mean = _demo_statistics(demo_full, symbol)
    assert abs(demo_e0 - real_e0) < 3.0
    assert np.corrcoef(demo_mean, real_on_grid)[0, 1] >= 0.8


def test_smooth_model_predicts_fe_metal_it_was_not_fitted_on(fixtures_dir):
    spectrum = read_spectrum(fixtures_dir / "spectra" / "mp" / "xas.XANES.K.Fe.mp-13.tsv")
    real_e0 = find_e0(spectrum.energy, spectrum.mu) - k_edge_energy("Fe")
    assert abs(modelled_e0_offset("Fe") - real_e0) < 3.0


def test_feff_edges_lie_below_the_tabulated_edge_for_oxygen_and_above_it_for_metals():
    assert modelled_e0_offset("O") < -5 < 10 < modelled_e0_offset("Ti") < modelled_e0_offset("Pd")

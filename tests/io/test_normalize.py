"""normalize_for_model: XAS-standard normalization for measured data, computed data as they are."""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.errors import ElementError, ElementNeeded, SpectrumError
from xanes_core.io import normalize_for_model, read_spectrum
from xanes_core.io.spectrum import Spectrum


def make(energy, mu, element="Fe", edge="K", computed=False) -> Spectrum:
    return Spectrum(
        energy=np.asarray(energy, float), mu=np.asarray(mu, float), element=element, edge=edge,
        source_format="columns", name="s", warnings=(), is_computed=computed, metadata={},
    )


ENERGY = np.linspace(6900.0, 7700.0, 800)
STEP = 0.01 / (1.0 + np.exp(-(ENERGY - 7112.0) / 1.0))  # a 0.01 edge step at 7112 eV
MEASURED = 0.3 - 2e-5 * (ENERGY - 6900.0) + STEP


def test_measured_spectrum_gets_edge_step_one():
    result = normalize_for_model(make(ENERGY, MEASURED))
    assert result.method == "pre-edge/post-edge"
    assert result.e0 == pytest.approx(7112.0, abs=2.0)
    assert result.edge_step == pytest.approx(0.01, rel=0.1)
    above = (ENERGY > 7200) & (ENERGY < 7600)
    assert np.allclose(result.mu_norm[above], 1.0, atol=0.1)
    assert np.allclose(result.mu_norm[ENERGY < 7050], 0.0, atol=0.05)
    assert result.mu_raw is not result.mu_norm


def test_computed_spectrum_keeps_its_scale():
    energy = np.linspace(7115.0, 7175.0, 100)
    mu = 1.0 / (1.0 + np.exp(-(energy - 7125.0) / 1.5))
    result = normalize_for_model(make(energy, mu, computed=True))
    assert result.method == "as computed" and np.array_equal(result.mu_norm, mu)
    assert result.edge_step == pytest.approx(1.0, abs=0.05)


def test_unknown_element_is_asked_for():
    with pytest.raises(ElementNeeded, match="element unknown: give it"):
        normalize_for_model(make(ENERGY, MEASURED, element=None))


def test_l_edge_refused_with_reason():
    with pytest.raises(SpectrumError, match="trained on K-edge"):
        normalize_for_model(make(ENERGY, MEASURED, edge="L3"))


def test_element_without_channel():
    with pytest.raises(ElementError, match="No absorbing-element channel for Kr"):
        normalize_for_model(make(ENERGY, MEASURED, element="Kr"))


def test_energy_range_missing_the_window():
    with pytest.raises(SpectrumError, match="miss the Cu K-edge window"):
        normalize_for_model(make(ENERGY, MEASURED, element="Cu"))


def test_partial_coverage_and_edge_mismatch_warn():
    part = ENERGY < 7130
    result = normalize_for_model(make(ENERGY[part], MEASURED[part]))
    assert any("covers only" in w for w in result.warnings)
    shifted = normalize_for_model(make(ENERGY + 40.0, MEASURED))
    assert any("Edge mismatch" in w for w in shifted.warnings)


def test_missing_edge_is_assumed_k_with_warning():
    result = normalize_for_model(make(ENERGY, MEASURED, edge=None))
    assert any("assumed K" in w for w in result.warnings)


def test_flat_signal_has_no_edge():
    with pytest.raises(SpectrumError, match="no rising absorption edge"):
        normalize_for_model(make(ENERGY, np.full(ENERGY.size, 0.5)))


def test_real_files_normalize(fixtures_dir):
    measured = normalize_for_model(read_spectrum(fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi"))
    assert measured.e0 == pytest.approx(8979.0, abs=5.0) and measured.method == "pre-edge/post-edge"
    computed = normalize_for_model(
        read_spectrum(fixtures_dir / "spectra" / "mp" / "xas.XANES.K.Fe.mp-13.tsv")
    )
    assert computed.method == "as computed" and computed.edge_step == pytest.approx(1.0, abs=0.1)
    assert not any("covers only" in w for w in computed.warnings)
    with pytest.raises(SpectrumError, match="L3-edge"):
        normalize_for_model(read_spectrum(fixtures_dir / "spectra" / "xdi" / "pt_metal_rt.xdi"))


@pytest.mark.parametrize("name", ["xdi/fe2o3_rt.xdi", "xdi/cu_metal_rt.xdi", "columns/feo_xafs.dat"])
def test_measured_post_edge_is_flattened_to_one(fixtures_dir, name):
    """Far above the edge a flattened spectrum oscillates around 1 (no atomic-background slope)."""
    normalized = normalize_for_model(read_spectrum(fixtures_dir / "spectra" / name))
    far = normalized.mu_norm[normalized.energy > normalized.e0 + 150]
    assert far.size > 10
    assert far.mean() == pytest.approx(1.0, abs=0.03)
    assert abs(np.polyfit(normalized.energy[normalized.energy > normalized.e0 + 150], far, 1)[0]) < 1e-4

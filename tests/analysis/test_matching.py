"""Spectrum matching on real spectra: a spectrum finds its own material among its siblings, and a
measured spectrum finds the computed spectra of its material where plain correlation does not."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.helpers import library_of_files
from xanes_core.analysis.matching import SpectrumLibrary
from xanes_core.data.similarity import RESIDUAL_EV, RESIDUAL_STEP_EV, features
from xanes_core.errors import XanesError
from xanes_core.io import normalize_for_model, read_spectra, read_spectrum

# The two most metal-like materials of the real Cu FEFF set (it holds no pure Cu metal).
NEAR_METALLIC_CU = {"mp-1232365", "mp-1213626"}  # Cu27CO, Cu64O


@pytest.fixture(scope="module")
def cu_library(feff_library):
    return SpectrumLibrary(feff_library)


def plain_rank(dataset, rows, energy, mu, element, wanted_rows) -> int:
    """Best rank of ``wanted_rows`` by the Pearson correlation of the raw curves on the grid
    (no alignment, no smoothing, no shift): what matching would be without this module."""
    from xanes_core.data.preprocess import resample

    query = resample(energy, mu, element)[0].astype(np.float64)
    library = dataset.spectra[rows].astype(np.float64)
    score = np.array([np.corrcoef(query, row)[0, 1] for row in library])
    order = np.argsort(-score, kind="stable")
    return int(np.flatnonzero(np.isin(rows[order], wanted_rows))[0]) + 1


def test_a_spectrum_finds_its_own_material_first_among_its_siblings(cu_library, real_feff):
    ids, energy, mu = real_feff.mp_id, real_feff.energy.astype(float), real_feff.mu.astype(float)
    for i in np.random.default_rng(7).choice(len(ids), 12, replace=False):
        for shift in (0.0, -23.5, 30.0):
            result = cu_library.match(energy[i] + shift, mu[i], "Cu", top=3, is_computed=True)
            best = result.matches[0]
            assert best.sample_id == ids[i] and best.similarity == pytest.approx(1.0, abs=1e-4)
            assert best.shift_ev == pytest.approx(-shift, abs=0.1)
            assert [m.similarity for m in result.matches] == sorted((m.similarity for m in result.matches), reverse=True)


def test_measured_cu_foil_finds_the_most_metallic_feff_spectra_where_plain_correlation_does_not(
        cu_library, feff_library, fixtures_dir):
    rows = np.arange(len(feff_library.spectra))
    wanted = np.flatnonzero(np.isin(feff_library.metadata["sample_id"], list(NEAR_METALLIC_CU)))
    for path in ("xdi/cu_metal_rt.xdi", "athena/cu.prj"):
        foil = normalize_for_model(read_spectra(fixtures_dir / "spectra" / path)[0])
        result = cu_library.match(foil.energy, foil.mu_norm, "Cu", top=5, is_computed=False)
        assert {m.sample_id for m in result.matches[:2]} == NEAR_METALLIC_CU, result.matches
        assert 3.0 < result.shift_ev < 15.0  # a measured edge sits below FEFF's absolute energies
        assert plain_rank(feff_library, rows, foil.energy, foil.mu_norm, "Cu", wanted) > 200


def test_computed_fe_metal_finds_the_measured_fe_foil_where_plain_correlation_does_not(fixtures_dir):
    spectra = fixtures_dir / "spectra"
    measured = [*read_spectra(spectra / "athena" / "Fe.prj"),
                read_spectrum(spectra / "xdi" / "fe2o3_rt.xdi"), read_spectrum(spectra / "xdi" / "feo_rt1.xdi")]
    dataset = library_of_files(measured)
    computed = normalize_for_model(read_spectrum(spectra / "mp" / "xas.XANES.K.Fe.mp-13.tsv"))
    result = SpectrumLibrary(dataset).match(computed.energy, computed.mu_norm, "Fe", top=len(measured))
    assert result.matches[0].sample_id == "Fe foil" and len(result.matches) == len(measured)
    assert result.matches[0].similarity - result.matches[1].similarity > 0.02
    foil = np.flatnonzero(dataset.metadata["sample_id"] == "Fe foil")
    assert plain_rank(dataset, np.arange(len(measured)), computed.energy, computed.mu_norm, "Fe", foil) >= 5


def test_json_keys_and_refusals(cu_library, real_feff):
    energy, mu = real_feff.energy.astype(float), real_feff.mu.astype(float)
    out = cu_library.match(energy[0], mu[0], "Cu", top=2, is_computed=True).to_dict()
    assert list(out) == ["element", "is_computed", "shift_ev", "matches", "seconds"]
    assert list(out["matches"][0]) == ["sample_id", "formula", "label", "similarity", "shift_ev"]
    assert out["matches"][0]["label"] == "unknown" and out["is_computed"] is True
    with pytest.raises(XanesError, match="no Fe spectrum"):
        cu_library.match(energy[0], mu[0], "Fe")
    with pytest.raises(XanesError, match="at least one match"):
        cu_library.match(energy[0], mu[0], "Cu", top=0)
    assert cu_library.elements == ("Cu",)


def test_without_alignment_the_spectrum_is_compared_where_it_is(cu_library, real_feff):
    ids, energy, mu = real_feff.mp_id, real_feff.energy.astype(float), real_feff.mu.astype(float)
    result = cu_library.match(energy[3] + 25.0, mu[3], "Cu", top=1, align=False)
    assert result.shift_ev == 0.0 and abs(result.matches[0].shift_ev) <= RESIDUAL_EV + RESIDUAL_STEP_EV
    assert result.matches[0].sample_id != ids[3] and result.matches[0].similarity < 0.95
    assert cu_library.match(energy[3] + 25.0, mu[3], "Cu", top=1).matches[0].sample_id == ids[3]


def test_similarity_features_are_correlations(real_feff):
    energy, mu = real_feff.energy.astype(float), real_feff.mu.astype(float)
    rows = features(np.stack([np.interp(np.linspace(8970, 9040, 200), e, m) for e, m in zip(energy[:4], mu[:4])]))
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.allclose(rows @ rows.T, (rows @ rows.T).T) and features(np.ones((1, 200))).sum() == 0

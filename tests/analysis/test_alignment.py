"""Energy alignment on real FEFF spectra: shifted copies come back to where the unshifted one
goes, through the coarse stage, the refined stage and a prediction."""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.analysis.alignment import coarse_shift, coverage_after
from xanes_core.analysis.matching import SpectrumLibrary
from xanes_core.analysis.prediction import Predictor
from xanes_core.io import normalize_for_model, read_spectrum

SHIFTS_EV = (-30.0, -21.3, -8.7, 0.0, 4.4, 17.9, 30.0)
HELD_OUT = 8


@pytest.fixture(scope="module")
def held_out(feff_library):
    """A library of the real Cu FEFF set without HELD_OUT materials, and those materials' rows."""
    rows = np.random.default_rng(3).choice(feff_library.n_samples, HELD_OUT, replace=False)
    kept = np.setdiff1d(np.arange(feff_library.n_samples), rows)
    return SpectrumLibrary(feff_library, kept), rows


def test_coarse_alignment_brings_shifted_copies_back(feff_library, real_feff):
    energy, mu = real_feff.energy.astype(float), real_feff.mu.astype(float)
    mean = feff_library.spectra.mean(axis=0)
    for i in np.random.default_rng(5).choice(len(energy), 20, replace=False):
        unshifted = coarse_shift(energy[i], mu[i], "Cu", mean)
        for shift in SHIFTS_EV:
            assert coarse_shift(energy[i] + shift, mu[i], "Cu", mean) == pytest.approx(unshifted - shift, abs=1.0)


def test_refined_alignment_brings_shifted_copies_back_to_the_nearest_other_material(held_out, real_feff):
    library, rows = held_out
    energy, mu = real_feff.energy.astype(float), real_feff.mu.astype(float)
    for i in rows:
        unshifted = library.nearest(energy[i], mu[i], "Cu")
        assert unshifted.sample_index != i
        for shift in SHIFTS_EV:
            moved = library.nearest(energy[i] + shift, mu[i], "Cu")
            assert moved.sample_id == unshifted.sample_id
            assert moved.shift_ev == pytest.approx(unshifted.shift_ev - shift, abs=1.0)


def test_a_spectrum_that_covers_part_of_the_grid_is_aligned_on_what_it_covers(feff_library, real_feff):
    energy, mu = real_feff.energy.astype(float), real_feff.mu.astype(float)
    mean = feff_library.spectra.mean(axis=0)
    short = energy[11] < energy[11][0] + 45.0  # edge and the first ~30 eV above it only
    unshifted = coarse_shift(energy[11][short], mu[11][short], "Cu", mean)
    assert coverage_after(energy[11][short], "Cu", unshifted) < 0.7
    for shift in (-30.0, 30.0):
        assert coarse_shift(energy[11][short] + shift, mu[11][short], "Cu", mean) == pytest.approx(
            unshifted - shift, abs=1.0)


def test_predictions_of_shifted_copies_agree(runs, held_out, real_feff):
    """A real FEFF spectrum and its copies shifted by up to +/-30 eV get the same probability."""
    predictor = Predictor(runs["core"])
    energy, mu = real_feff.energy.astype(float), real_feff.mu.astype(float)
    for i in held_out[1][:3]:
        reference = predictor.predict([("Cu", energy[i], mu[i])])
        for shift in SHIFTS_EV:
            moved = predictor.predict([("Cu", energy[i] + shift, mu[i])])
            assert moved.p_topological == pytest.approx(reference.p_topological, abs=0.02)
            assert moved.alignment["Cu"] == pytest.approx(reference.alignment["Cu"] - shift, abs=1.0)


def test_measured_spectra_are_aligned_too_and_alignment_can_be_turned_off(runs, fixtures_dir):
    predictor = Predictor(runs["core"])
    foil = read_spectrum(fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi")
    aligned = predictor.predict([foil])
    plain = predictor.predict([foil], align=False)
    assert plain.alignment == {"Cu": 0.0} and aligned.alignment["Cu"] != 0.0
    assert not any("aligned to the training spectra" in w for w in plain.warnings)
    normalized = normalize_for_model(foil)
    expected = np.interp(aligned.spectra["Cu"].energy - aligned.alignment["Cu"], normalized.energy, normalized.mu_norm)
    assert np.allclose(aligned.spectra["Cu"].mu, expected, atol=1e-5)
    if abs(aligned.alignment["Cu"]) > 1.0:
        assert any(f"aligned to the training spectra by {aligned.alignment['Cu']:+.1f} eV" in w
                   for w in aligned.warnings)

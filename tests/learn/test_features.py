"""Packed materials, the X of every classifier: layout, standardizing, shifted copies."""

from __future__ import annotations

import numpy as np
import pytest

from tests.learn.test_architecture import _hand_dataset
from xanes_core.data.elements import GRID_POINTS
from xanes_core.data.preprocess import Standardizer, shift_spectra
from xanes_core.errors import XanesError
from xanes_core.learn.architecture import model_inputs
from xanes_core.learn.features import (
    pack,
    pack_rows,
    presence,
    shifted_copies,
    standardize,
    unpack,
)


def test_pack_rows_pads_slots_per_material_in_any_order():
    spectra = np.arange(4 * GRID_POINTS, dtype=np.float32).reshape(4, GRID_POINTS)
    X = pack_rows(spectra, np.array([7, 3, 9, 5]), np.array([1, 0, 1, 1]), 3, np.array([1, 2, 225]))
    materials = unpack(X)
    assert X.shape == (3, 1 + 3 * (1 + GRID_POINTS))
    assert materials.channels.tolist() == [[3, -1, -1], [7, 9, 5], [-1, -1, -1]]
    np.testing.assert_array_equal(materials.spectra[1, 1], spectra[2])
    assert materials.space_groups.tolist() == [1, 2, 225]
    inputs = model_inputs(X, "symmetry")
    assert inputs["spectra"].shape == (3, 3, GRID_POINTS) and inputs["symmetry"].shape == (3, 269)
    assert inputs["symmetry"].sum() == 9 and "symmetry" not in model_inputs(X, "core")
    with pytest.raises(XanesError):
        pack_rows(spectra, np.array([7, 3, 9, 5]), np.zeros(4, dtype=int), 1, None, width=2)


def test_pack_matches_the_dataset_and_keeps_unknown_space_groups_zero():
    dataset = _hand_dataset()
    X = pack(dataset, np.array([3, 1]))
    np.testing.assert_array_equal(presence(X), dataset.presence()[[3, 1]].astype(np.float32))
    unknown = pack_rows(dataset.spectra[:1], dataset.channel[:1], np.array([0]), 1, None)
    assert model_inputs(unknown, "symmetry")["symmetry"].sum() == 0


def test_standardize_touches_present_slots_only_and_shift_copies_keep_padding():
    dataset = _hand_dataset()
    X = pack(dataset)
    standardizer = Standardizer.fit_dataset(dataset, np.arange(dataset.n_samples))
    standardized = unpack(standardize(X, standardizer))
    valid = standardized.valid
    assert np.all(standardized.spectra[~valid] == 0)
    rows = dataset.rows_for_samples([0])
    expected = standardizer.transform(dataset.spectra[rows], dataset.channel[rows])
    np.testing.assert_allclose(np.sort(standardized.spectra[0][valid[0]], axis=0), np.sort(expected, axis=0), atol=1e-5)
    copies = shifted_copies(X, (-1.0, 0.0, 1.0))
    assert copies.shape == (3 * len(X), X.shape[1])
    np.testing.assert_array_equal(copies[len(X):2 * len(X)], X)
    assert np.all(unpack(copies).spectra[~np.tile(unpack(X).valid, (3, 1))] == 0)


def test_shifted_copies_of_a_demo_split_shift_every_spectrum_together(demo_small):
    train = demo_small.split_indices("train")
    X = pack(demo_small, train)
    copies = shifted_copies(X, (-1.0, 0.0, 1.0))
    low, same, high = np.split(copies, 3)
    np.testing.assert_array_equal(same, X)
    valid = unpack(X).valid
    spectra = unpack(X).spectra[valid]
    np.testing.assert_allclose(unpack(high).spectra[valid], shift_spectra(spectra, 1.0), atol=1e-6)
    np.testing.assert_allclose(unpack(low).spectra[valid], shift_spectra(spectra, -1.0), atol=1e-6)
    np.testing.assert_array_equal(unpack(high).channels, unpack(X).channels)

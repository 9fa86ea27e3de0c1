import numpy as np
import pytest

from tests.helpers import with_unlabelled
from xanes_core.data.elements import energy_grid
from xanes_core.data.preprocess import (
    Standardizer,
    assign_splits,
    resample,
    shift_spectra,
    split_balance,
)
from xanes_core.errors import RunError, SpectrumError
from xanes_core.viz.dataset import split_balance_bars


def test_resample_holds_edges_and_reports_coverage():
    grid = energy_grid("Fe")
    energy = np.linspace(grid[50], grid[149], 400)
    values, coverage = resample(energy, energy - grid[0], "Fe")
    assert coverage == pytest.approx(100 / 200)
    assert values[0] == pytest.approx(energy[0] - grid[0], rel=1e-5)
    assert values[-1] == pytest.approx(energy[-1] - grid[0], rel=1e-5)
    assert np.allclose(values[50:150], grid[50:150] - grid[0], rtol=1e-4)


@pytest.mark.parametrize("energy, mu, message", [
    ([1.0, 2.0, np.nan], [0, 1, 2], "NaN"),
    ([3.0, 2.0, 1.0], [0, 1, 2], "increase"),
    ([1.0], [2.0], "at least 2"),
])
def test_resample_refuses_unusable_spectra(energy, mu, message):
    with pytest.raises(SpectrumError, match=message):
        resample(np.array(energy), np.array(mu), "Fe")


def test_shift_moves_features_by_the_requested_energy():
    grid = energy_grid("Cu")
    spectrum = np.exp(-0.5 * ((grid - grid[100]) / 2.0) ** 2)[None].astype(np.float32)
    shifted = shift_spectra(spectrum, 1.0)
    peak = np.sum(grid * shifted[0]) / shifted[0].sum()
    assert peak - grid[100] == pytest.approx(1.0, abs=0.02)


def test_standardizer_uses_training_statistics_and_round_trips(demo_small, tmp_path):
    train = demo_small.split_indices("train")
    standardizer = Standardizer.fit_dataset(demo_small, train)
    rows = demo_small.rows_for_samples(train)
    values = standardizer.transform(demo_small.spectra[rows], demo_small.channel[rows])
    for channel in np.unique(demo_small.channel[rows]):
        mask = demo_small.channel[rows] == channel
        assert np.allclose(values[mask].mean(axis=0), 0, atol=1e-4)
    standardizer.save(tmp_path / "std.npz")
    again = Standardizer.load(tmp_path / "std.npz")
    assert np.array_equal(again.mean, standardizer.mean) and np.array_equal(again.fitted, standardizer.fitted)
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(RunError):
        Standardizer.load(tmp_path / "bad.npz")


def test_split_is_70_10_20_and_balanced_per_element_and_class(demo_full):
    meta = demo_full.metadata
    fractions = meta.split.value_counts(normalize=True)
    assert fractions["train"] == pytest.approx(0.7, abs=0.01)
    assert fractions["validation"] == pytest.approx(0.1, abs=0.01)
    assert fractions["test"] == pytest.approx(0.2, abs=0.01)
    for label in (0, 1):
        share = meta[meta.label == label].split.value_counts(normalize=True)
        assert share["test"] == pytest.approx(0.2, abs=0.02)
    balance = split_balance(demo_full)
    common = balance[balance.n_samples >= 200]
    assert (abs(common.train - 0.7) < 0.06).all() and (abs(common.test - 0.2) < 0.06).all()


def test_split_is_seeded(demo_small):
    a = assign_splits(demo_small.metadata, seed=3)
    assert np.array_equal(a, assign_splits(demo_small.metadata, seed=3))
    assert not np.array_equal(a, assign_splits(demo_small.metadata, seed=4))


def test_split_balance_counts_labelled_samples_only(demo_small):
    """Unlabelled materials are in no split: they neither dilute an element's fractions nor
    break the figure of a library that has no labelled material at all."""
    mixed = with_unlabelled(demo_small, 100)
    assert split_balance(mixed).equals(split_balance(demo_small))
    library = mixed.subset(np.arange(demo_small.n_samples, mixed.n_samples))
    empty = split_balance(library)
    assert empty.empty and list(empty.columns) == ["element", "n_samples", "train", "validation", "test"]
    assert [len(trace.x) for trace in split_balance_bars(empty).data] == [0, 0, 0]  # the figure still draws

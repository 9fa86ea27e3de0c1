"""The demo generator reproduces the paper's composition statistics and carries a spectral signal."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from xanes_core.data.demo import (
    PAPER_TABLE_1,
    bayes_balanced_accuracy,
    element_odds,
    generate_demo,
)
from xanes_core.data.elements import CHANNELS, energy_grid, k_edge_energy
from xanes_core.data.symmetry import symmetry_features, symmetry_info


def test_table_1_counts_within_three_percent_per_cell(demo_full):
    summary = demo_full.summary()
    assert summary["n_samples"] == 16_458
    for n, (top, triv) in PAPER_TABLE_1.items():
        got_top, got_triv = summary["by_element_count"].get(str(n), [0, 0])
        assert abs(got_top - top) <= 0.03 * top
        assert abs(got_triv - triv) <= 0.03 * triv


def test_element_frequencies_follow_the_catalogue_per_class(demo_full):
    counts = pd.read_csv("xanes_core/data/priors/element_class_counts.csv").set_index("element").reindex(CHANNELS)
    presence = demo_full.presence()
    labels = demo_full.labels
    for label, column in ((1, "n_topological"), (0, "n_trivial")):
        drawn = presence[labels == label].sum(axis=0)
        rho = spearmanr(drawn, counts[column].fillna(0)).statistic
        assert rho > 0.8, (column, rho)
    # Oxygen is the commonest element of trivial materials in the catalogue; so here.
    trivial_counts = presence[labels == 0].sum(axis=0)
    assert CHANNELS[int(np.argmax(trivial_counts))] == "O"


def test_space_groups_follow_the_catalogue_and_symmetry_is_consistent(demo_full):
    meta = demo_full.metadata
    catalogue = pd.read_csv("xanes_core/data/priors/spacegroup_class_counts.csv").set_index("space_group_number")
    drawn = meta[meta.label == 0].space_group.value_counts().reindex(catalogue.index, fill_value=0)
    assert spearmanr(drawn, catalogue["n_trivial"]).statistic > 0.7
    for row in meta.sample(200, random_state=0).itertuples():
        info = symmetry_info(row.space_group)
        assert (row.crystal_system, row.point_group) == (info.crystal_system, info.point_group)


def test_spectra_have_an_edge_at_the_tabulated_k_edge(demo_full):
    for symbol in ("O", "Fe", "Cu", "Sn"):
        rows = demo_full.element_rows(symbol)
        mean = demo_full.spectra[rows].mean(axis=0)
        grid = energy_grid(symbol)
        steepest = grid[np.argmax(np.gradient(mean))]
        assert abs(steepest - k_edge_energy(symbol)) < 6.0, symbol
        assert 0.7 < mean[-20:].mean() - mean[:5].mean() < 1.3  # edge step ~1


def test_core_hole_broadening_grows_with_z(demo_full):
    def roughness(symbol):
        spectra = demo_full.spectra[demo_full.element_rows(symbol)]
        return np.abs(np.diff(spectra, 2, axis=1)).mean()

    assert roughness("O") > roughness("Ag") > roughness("Bi")


def test_p_topological_is_calibrated_and_balanced_accuracy_in_band(demo_full):
    meta = demo_full.metadata
    p, labels = meta.p_topological.to_numpy(), meta.label.to_numpy()
    assert 0.83 <= bayes_balanced_accuracy(p, labels) <= 0.90
    # Labels are draws from p: in each p-decile the observed rate matches the mean p.
    bins = np.quantile(p, np.linspace(0, 1, 11))
    index = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, 9)
    for b in range(10):
        mask = index == b
        assert abs(labels[mask].mean() - p[mask].mean()) < 0.05


def test_composition_and_space_group_alone_score_clearly_lower(demo_full):
    meta = demo_full.metadata
    features = np.hstack([demo_full.presence(), symmetry_features(meta.space_group)])
    train = meta.split.isin(["train", "validation"]).to_numpy()
    test = (meta.split == "test").to_numpy()
    model = LogisticRegression(class_weight="balanced", max_iter=3000).fit(features[train], meta.label[train])
    composition_only = balanced_accuracy_score(meta.label[test], model.predict(features[test]))
    reference = bayes_balanced_accuracy(meta.p_topological[test], meta.label[test])
    assert composition_only <= reference - 0.05


def test_generation_is_seeded_and_deterministic():
    a, b = generate_demo(300, seed=4), generate_demo(300, seed=4)
    assert np.array_equal(a.spectra, b.spectra)
    assert a.metadata.equals(b.metadata)
    assert not np.array_equal(a.spectra, generate_demo(300, seed=5).spectra)


def test_class_odds_are_shrunk_but_ordered_like_the_catalogue():
    odds = element_odds(0.5)
    bi, o = CHANNELS.index("Bi"), CHANNELS.index("O")
    assert odds[1][bi] / odds[0][bi] > 1 > odds[1][o] / odds[0][o]


def test_too_small_a_demo_is_refused():
    from xanes_core.errors import XanesError

    with pytest.raises(XanesError):
        generate_demo(10)

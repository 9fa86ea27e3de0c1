"""The demo generator reproduces the paper's composition statistics and carries a spectral signal
only where its documentation says (white line, post-edge oscillations)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from xanes_core.data.demo import bayes_balanced_accuracy, class_signal_ranges, edge_model, element_odds, generate_demo
from xanes_core.data.elements import CHANNELS, energy_grid, k_edge_energy
from xanes_core.data.symmetry import symmetry_features, symmetry_info
from xanes_core.io.detect import find_e0

# Andrejevic et al., Table 1, typed from the paper: distinct absorbing elements -> (topological, trivial).
TABLE_1 = {1: (29, 58), 2: (761, 1506), 3: (1917, 6513), 4: (380, 4291), 5: (33, 853), 6: (1, 102), 7: (0, 14)}


def test_table_1_is_reproduced_exactly_at_the_papers_size(demo_full):
    summary = demo_full.summary()
    assert summary["n_samples"] == 16_458 == sum(top + triv for top, triv in TABLE_1.values())
    for n, counts in TABLE_1.items():
        assert tuple(summary["by_element_count"].get(str(n), [0, 0])) == counts, n


def test_table_1_scales_to_other_sizes_within_one_sample_per_cell():
    summary = generate_demo(1000, seed=3).summary()
    for n, (top, triv) in TABLE_1.items():
        got_top, got_triv = summary["by_element_count"].get(str(n), [0, 0])
        assert abs(got_top - top * 1000 / 16_458) < 1 and abs(got_triv - triv * 1000 / 16_458) < 1, n


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


def test_edges_sit_where_the_feff_model_puts_them(demo_full):
    for symbol in ("O", "S", "Fe", "Cu", "Se"):
        rows = demo_full.element_rows(symbol)
        grid = energy_grid(symbol)
        e0 = np.median([find_e0(grid, spectrum) for spectrum in demo_full.spectra[rows]])
        assert abs(e0 - k_edge_energy(symbol) - edge_model(symbol).e0_offset_ev) < 2.0, symbol
        if symbol != "O":  # oxygen's FEFF edge lies at the very start of its grid
            mean = demo_full.spectra[rows].mean(axis=0)
            assert 0.7 < mean[-20:].mean() - mean[:5].mean() < 1.3, symbol  # edge step ~1


def test_values_outside_the_feff_window_are_held_and_coverage_says_how_much(demo_full):
    rows = demo_full.element_rows("Cu")
    spectra, coverage = demo_full.spectra[rows], demo_full.coverage[rows]
    assert 0.6 < coverage.mean() < 0.85  # FEFF's 55 eV window starts ~13 eV below E0
    for spectrum, covered in zip(spectra, coverage):
        low = np.argmax(spectrum != spectrum[0])  # length of the run held at the first value
        high = np.argmax(spectrum[::-1] != spectrum[-1])
        held = (low if low > 1 else 0) + (high if high > 1 else 0)
        assert abs(held - (1 - covered) * spectrum.size) <= 2
    assert demo_full.coverage[demo_full.element_rows("Bi")].mean() < 0.05  # FEFF puts Bi edges beyond the grid


def test_core_hole_broadening_grows_with_z(demo_full):
    def roughness(symbol):
        spectra = demo_full.spectra[demo_full.element_rows(symbol)]
        return np.abs(np.diff(spectra, 2, axis=1)).mean()

    assert roughness("O") > roughness("Ag") > roughness("Bi")


@pytest.mark.parametrize("symbol", ["O", "S", "Cu"])
def test_class_information_stays_in_the_documented_ranges(demo_full, symbol):
    rows = demo_full.element_rows(symbol)
    spectra, labels = demo_full.spectra[rows], demo_full.labels[demo_full.sample_index[rows]]
    scale = np.sqrt(np.mean((spectra - spectra.mean(axis=0)) ** 2))  # the Standardizer's one scale
    effect = np.abs(spectra[labels == 1].mean(axis=0) - spectra[labels == 0].mean(axis=0)) / scale
    grid = energy_grid(symbol)
    found = {}
    for energy_range in class_signal_ranges(symbol):
        inside = (grid >= energy_range.low_ev) & (grid <= energy_range.high_ev)
        found[energy_range.name] = (energy_range.carries_class, effect[inside].max())
    assert {"white line", "post-edge oscillation"} <= set(found)
    for name, (carries, largest) in found.items():
        assert (largest > 0.3) if carries else (largest < 0.15), (name, largest)


def test_elements_whose_feff_window_misses_the_grid_report_one_held_range(demo_full):
    (held,) = class_signal_ranges("Bi")
    assert held.name == "held window start" and held.carries_class
    rows = demo_full.element_rows("Bi")
    flat = np.ptp(demo_full.spectra[rows], axis=1) < 1e-6  # every grid point holds the window's first value
    assert flat.mean() > 0.8 and np.array_equal(flat, demo_full.coverage[rows] == 0)


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

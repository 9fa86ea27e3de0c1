"""Per-element PCA + k-means: fitted on train only, class-weighted matching, honest scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xanes_core.analysis.clustering import (
    GRID_RESOLUTION,
    _match_clusters,
    cluster_all_elements,
    cluster_element,
    representative_rows,
)
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS, GRID_POINTS
from xanes_core.errors import ElementError


def _dataset(n_topological: int = 30, n_trivial: int = 90, seed: int = 0, rare: str = "Bi") -> XanesDataset:
    """Fe spectra whose shape depends on the class (a step near the start or near the end),
    plus one sample with a spectrum of a rare element that cannot be clustered."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n_topological), np.zeros(n_trivial)].astype(int)
    x = np.linspace(0, 1, GRID_POINTS)
    edge = np.where(labels[:, None] == 1, x > 0.3, x > 0.7).astype(float)
    spectra = edge + 0.02 * rng.standard_normal((labels.size, GRID_POINTS))
    splits = np.array(["train", "train", "train", "validation", "test"])[np.arange(labels.size) % 5]
    n = labels.size
    metadata = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "formula": ["FeX"] * n, "elements": [["Fe"]] * n,
        "space_group": 1, "crystal_system": "triclinic", "point_group": "1", "label": labels,
        "source": "test", "split": splits,
    })
    metadata.loc[0, "elements"] = ["Fe", rare]
    return XanesDataset(
        spectra=np.vstack([spectra, spectra[:1]]), sample_index=np.r_[np.arange(n), 0],
        channel=np.r_[np.full(n, CHANNELS.index("Fe")), CHANNELS.index(rare)], metadata=metadata,
    )


def test_separable_classes_are_clustered_correctly() -> None:
    result = cluster_element(_dataset(), "Fe")
    assert result.fraction_correct(1) == 1.0 and result.fraction_correct(0) == 1.0
    assert result.counts(1) == (30, 30) and result.counts(0) == (90, 90)
    assert result.coords.shape == (120, 2)
    assert result.grid_class.shape == (GRID_RESOLUTION, GRID_RESOLUTION)
    assert set(np.unique(result.grid_class)) == {0, 1}
    assert set(result.splits) == {"train", "validation", "test"}


def test_fitted_on_training_split_only() -> None:
    base = _dataset()
    changed = _dataset()
    held_out = np.flatnonzero(changed.metadata["split"].to_numpy()[changed.sample_index] != "train")
    changed.spectra[held_out] += 5.0  # wildly different validation/test spectra
    a, b = cluster_element(base, "Fe"), cluster_element(changed, "Fe")
    np.testing.assert_allclose(a.centers, b.centers, rtol=1e-5)
    np.testing.assert_allclose(a.explained_variance, b.explained_variance, rtol=1e-5)


def test_class_weighted_matching_beats_majority_vote() -> None:
    # Cluster 0 holds 60 trivial + 1 topological, cluster 1 holds 40 trivial + 9 topological.
    # Majority vote would call both clusters trivial; class weighting gives cluster 1 to topological.
    clusters = np.r_[np.zeros(61), np.ones(49)].astype(int)
    labels = np.r_[np.zeros(60), 1, np.zeros(40), np.ones(9)].astype(int)
    np.testing.assert_array_equal(_match_clusters(clusters, labels), [0, 1])
    np.testing.assert_array_equal(_match_clusters(1 - clusters, labels), [1, 0])


def test_too_few_spectra_and_unknown_elements_are_user_errors() -> None:
    dataset = _dataset()
    with pytest.raises(ElementError, match="training spectra"):
        cluster_element(dataset, "Bi")
    with pytest.raises(ElementError):
        cluster_element(dataset, "He")


def test_all_elements_table() -> None:
    scores = cluster_all_elements(_dataset()).set_index("element")
    assert list(scores.index) == ["Fe", "Bi"]
    assert scores.loc["Fe", "fraction_topological"] == 1.0 and scores.loc["Fe", "note"] == ""
    assert np.isnan(scores.loc["Bi", "fraction_trivial"]) and "training spectra" in scores.loc["Bi", "note"]
    assert scores.loc["Bi", "n_topological"] == 1


def test_representative_rows_are_typical_members_of_each_class() -> None:
    dataset = _dataset()
    result = cluster_element(dataset, "Fe")
    rows = representative_rows(result, per_class=3)
    assert rows.size == 6
    assert set(dataset.channel[rows]) == {CHANNELS.index("Fe")}
    assert sorted(dataset.labels[dataset.sample_index[rows]]) == [0, 0, 0, 1, 1, 1]


def test_deterministic_for_a_seed() -> None:
    dataset = _dataset()
    a, b = cluster_element(dataset, "Fe", seed=3), cluster_element(dataset, "Fe", seed=3)
    np.testing.assert_array_equal(a.predicted, b.predicted)

"""A split attribution with random values over a real dataset's test split, for figure and report
tests that need no model (the values are drawn; only their shapes and counts are real)."""

from __future__ import annotations

import numpy as np

from xanes_core.analysis.attribution import SplitAttribution
from xanes_core.data.class_means import ClassMeans
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS


def synthetic_attribution(dataset: XanesDataset, seed: int = 0) -> tuple[SplitAttribution, ClassMeans]:
    """(attribution of the test split, class means of the training split), as `attribute` saves them."""
    rng = np.random.default_rng(seed)
    test = dataset.split_indices("test")
    rows = dataset.rows_for_samples(test)
    labels = dataset.labels[dataset.sample_index[rows]]
    count = np.stack([np.bincount(dataset.channel[rows][labels == label], minlength=N_CHANNELS) for label in (1, 0)],
                     axis=1)
    signed = rng.normal(size=(N_CHANNELS, 2, GRID_POINTS)) * (count[:, :, None] > 0)
    attribution = SplitAttribution(split="test", classes=np.array([1, 0]), signed=signed, magnitude=np.abs(signed) * 2,
                                   count=count, n_samples=int(test.size), steps=32, completeness_error=0.004,
                                   spectra_effect=0.3, seconds=1.0, is_demo=dataset.is_demo,
                                   dataset_samples=dataset.n_samples)
    return attribution, ClassMeans.fit_dataset(dataset, dataset.split_indices("train"))

"""Sample weights: each class carries half the loss, rare elements weigh more, mean 1."""

from __future__ import annotations

import numpy as np

from xanes_core.data.weights import (
    RARITY_CLIP,
    class_weights,
    element_rarity,
    sample_weights,
)


def test_class_weights_balance_the_classes():
    weights = class_weights(np.array([1, 0, 0, 0]))
    assert weights == {0: 4 / 6, 1: 2.0}
    assert class_weights(np.array([0, 0]))[1] == 0.0


def test_rarity_favours_rare_elements_and_is_clipped():
    presence = np.zeros((101, 3), dtype=bool)
    presence[:100, 0] = True  # common
    presence[100, 1] = True   # seen once
    presence[:50, 2] = True
    rarity = element_rarity(presence)
    assert rarity[100] > rarity[0] and rarity[100] <= RARITY_CLIP


def test_sample_weights_are_positive_with_mean_one(demo_small):
    samples = demo_small.split_indices("train")
    weights = sample_weights(demo_small.labels[samples], demo_small.presence()[samples])
    assert weights.shape == samples.shape and abs(weights.mean() - 1) < 1e-5 and (weights > 0).all()

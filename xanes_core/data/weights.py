"""Sample weights: class balance x absorbing-element rarity (paper, Methods).

Topological materials are the minority class and a few elements (O, S, Se, ...) appear in
thousands of samples while many appear in a handful, so an unweighted loss learns the majority
class and the common elements. For training sample ``s`` with label ``y`` and elements ``E_s``::

    class_weight(y) = N / (K * N_y)                      # each of the K classes carries 1/K of the loss
    rarity(s)       = mean over e in E_s of clip(median_f / f_e, 1/RARITY_CLIP, RARITY_CLIP)
    weight(s)       = class_weight(y) * rarity(s), then rescaled so the mean weight is 1

``f_e`` is the number of training samples containing element ``e`` and ``median_f`` the median
of ``f_e`` over the elements present. The clip is ours, not the paper's: it keeps a sample whose
element occurs once from dominating an epoch; ``rarity_clip=None`` drops it (the paper's
weights). Weights are computed on the (augmented) training set they are used with.
"""

from __future__ import annotations

import numpy as np

RARITY_CLIP = 10.0


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """N / (K N_y) for y in 0..K-1, K = 2 (or 3 when labels 2 occur: the three-class task);
    a missing class gets weight 0."""
    labels = np.asarray(labels)
    total = labels.size
    classes = range(max(2, int(labels.max(initial=0)) + 1))
    return {y: (total / (len(classes) * n) if (n := int((labels == y).sum())) else 0.0) for y in classes}


def element_rarity(presence: np.ndarray, clip: float | None = RARITY_CLIP) -> np.ndarray:
    """Per sample, mean over its elements of median_f / f_e, clipped to [1/clip, clip] unless
    ``clip`` is None (see module doc)."""
    frequency = presence.sum(axis=0).astype(np.float64)
    used = frequency > 0
    if not used.any():
        return np.ones(len(presence))
    ratio = np.zeros_like(frequency)
    ratio[used] = np.median(frequency[used]) / frequency[used]
    if clip is not None:
        ratio[used] = np.clip(ratio[used], 1 / clip, clip)
    per_sample = presence @ ratio
    n_elements = presence.sum(axis=1)
    return np.where(n_elements > 0, per_sample / np.maximum(n_elements, 1), 1.0)


def sample_weights(labels: np.ndarray, presence: np.ndarray, rarity_clip: float | None = RARITY_CLIP) -> np.ndarray:
    """Weights aligned with ``labels`` ((n,) classes) and ``presence`` ((n, 81) element presence),
    mean 1 (see module doc)."""
    labels = np.asarray(labels)
    per_class = class_weights(labels)
    rarity = element_rarity(np.asarray(presence, dtype=np.float64), rarity_clip)
    weights = np.array([per_class[int(y)] for y in labels]) * rarity
    return (weights / weights.mean()).astype(np.float32)

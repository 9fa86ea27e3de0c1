"""The energy reference of a set of spectra, per element: what alignment lines a new spectrum up
with, and how similar a spectrum must be to count as inside the data (applicability domain).

Per element channel: the mean spectrum on the element's grid (alignment's target), the number
of spectra, and the **domain threshold**, the :data:`DOMAIN_PERCENTILE` percentile of the
spectra's own nearest-other similarity (:func:`~xanes_core.data.similarity.nearest_other`): a
new spectrum less like its nearest neighbour than 99% of the spectra are like theirs is out of
the domain. At most :data:`MAX_DOMAIN_QUERIES` spectra per element are drawn (seeded) to
estimate it, which keeps a full-size dataset to seconds. An element with a single spectrum has
no nearest other; it takes the percentile pooled over all elements.

The Trainer saves the training split's reference with each run (:data:`REFERENCE_FILE`), so a
prediction is aligned to, and judged against, exactly what the model was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS, channel_index
from xanes_core.data.preprocess import load_channel_arrays, save_channel_arrays
from xanes_core.data.similarity import nearest_other

REFERENCE_FILE = "energy_reference.npz"
DOMAIN_PERCENTILE = 1.0
MAX_DOMAIN_QUERIES = 200


@dataclass(frozen=True, eq=False)
class EnergyReference:
    """Per element channel: ``mean`` (81, 200), ``count`` (81,), ``threshold`` (81,; NaN where
    an element has fewer than two spectra) and the pooled threshold for those."""

    mean: np.ndarray
    count: np.ndarray
    threshold: np.ndarray
    pooled_threshold: float

    @classmethod
    def fit(cls, spectra: np.ndarray, channels: np.ndarray, seed: int = 0) -> "EnergyReference":
        rng = np.random.default_rng(seed)
        mean = np.zeros((N_CHANNELS, GRID_POINTS), dtype=np.float32)
        count = np.bincount(np.asarray(channels, dtype=np.int64), minlength=N_CHANNELS)
        threshold = np.full(N_CHANNELS, np.nan, dtype=np.float32)
        pooled: list[np.ndarray] = []
        for channel in np.flatnonzero(count):
            rows = spectra[channels == channel]
            mean[channel] = rows.mean(axis=0)
            if len(rows) < 2:
                continue
            queries = rng.choice(len(rows), size=min(len(rows), MAX_DOMAIN_QUERIES), replace=False)
            similarity = nearest_other(rows, np.sort(queries))
            threshold[channel] = np.percentile(similarity, DOMAIN_PERCENTILE)
            pooled.append(similarity)
        overall = float(np.percentile(np.concatenate(pooled), DOMAIN_PERCENTILE)) if pooled else float("nan")
        return cls(mean=mean, count=count, threshold=threshold, pooled_threshold=overall)

    @classmethod
    def fit_dataset(cls, dataset: XanesDataset, samples: np.ndarray | None = None) -> "EnergyReference":
        """The reference of a dataset's spectra (all, or those of ``samples``: a training split)."""
        rows = np.arange(len(dataset.spectra)) if samples is None else dataset.rows_for_samples(samples)
        return cls.fit(dataset.spectra[rows], dataset.channel[rows])

    def seen(self, element: str) -> bool:
        """True when the reference holds at least one spectrum of ``element``."""
        return bool(self.count[channel_index(element)] > 0)

    def mean_spectrum(self, element: str) -> np.ndarray:
        return self.mean[channel_index(element)]

    def domain_threshold(self, element: str) -> float:
        """Similarity below which a spectrum of ``element`` is outside the domain."""
        value = float(self.threshold[channel_index(element)])
        return value if np.isfinite(value) else self.pooled_threshold

    def save(self, path: str | Path) -> None:
        save_channel_arrays(path, mean=self.mean, count=self.count, threshold=self.threshold,
                            pooled_threshold=np.float32(self.pooled_threshold))

    @classmethod
    def load(cls, path: str | Path) -> "EnergyReference":
        """RunError (one line) when the file is missing, unreadable or for other channels."""
        arrays = load_channel_arrays(path, ("mean", "count", "threshold", "pooled_threshold"), "Energy reference")
        return cls(mean=arrays["mean"], count=arrays["count"], threshold=arrays["threshold"],
                   pooled_threshold=float(arrays["pooled_threshold"]))

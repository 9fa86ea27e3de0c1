"""Each element's mean training spectrum per class, and the class-neutral spectrum they define.

The **class-neutral spectrum** of an element is the unweighted average of its class means (the
topological and the trivial mean count equally however rare topological materials are). It is
the reference "no class information" spectrum of two explanations: the attribution over energy
(:mod:`xanes_core.analysis.attribution`, integrated gradients start from it) and the spectrum
effect of a contribution (:mod:`xanes_core.analysis.prediction`: a spectrum replaced by it,
the element kept present). The plain training mean (the standardizer's, the energy reference's)
would not do: with one topological material in five it leans trivial, so replacing a spectrum
by it would itself push towards trivial.

An element with training spectra of only one class has no neutral spectrum; its one class mean
stands in, and :meth:`ClassMeans.is_neutral` says so. An element whose spectra are flat on its
grid (no edge on it: in the demo, FEFF's whole window lies above the grid from Ta on) is
:meth:`ClassMeans.is_flat`.

Saved in a run folder as :data:`CLASS_MEANS_FILE` (channel-stamped, versioned), computed on
first use from the run's training split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xanes_core.data.dataset import CLASS_NAMES, XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS, channel_index
from xanes_core.data.preprocess import load_channel_arrays, save_channel_arrays
from xanes_core.errors import RunError

CLASS_MEANS_FILE = "class_means.npz"
CLASS_MEANS_VERSION = 1
CLASSES = tuple(sorted(CLASS_NAMES, reverse=True))  # (1, 0): topological first, as every table
FLAT_SPAN = 1e-5  # a mean spectrum varying less than this on its grid has no edge there


@dataclass(frozen=True, eq=False)
class ClassMeans:
    """``classes`` (K,) labels; ``mean`` (81, K, 200) class mean spectra; ``count`` (81, K)."""

    classes: np.ndarray
    mean: np.ndarray
    count: np.ndarray

    @classmethod
    def fit(cls, spectra: np.ndarray, channels: np.ndarray, labels: np.ndarray,
            classes: tuple[int, ...] = CLASSES) -> "ClassMeans":
        """Means of ``spectra`` (rows) per element channel and class label."""
        channels, labels = np.asarray(channels, dtype=np.int64), np.asarray(labels, dtype=np.int64)
        mean = np.zeros((N_CHANNELS, len(classes), GRID_POINTS), dtype=np.float64)
        count = np.zeros((N_CHANNELS, len(classes)), dtype=np.int64)
        for k, label in enumerate(classes):
            rows = labels == label
            np.add.at(mean[:, k], channels[rows], spectra[rows])
            count[:, k] = np.bincount(channels[rows], minlength=N_CHANNELS)
        mean /= np.maximum(count, 1)[:, :, None]
        return cls(classes=np.asarray(classes, dtype=np.int64), mean=mean.astype(np.float32), count=count)

    @classmethod
    def fit_dataset(cls, dataset: XanesDataset, samples: np.ndarray) -> "ClassMeans":
        """The class means of a dataset's materials ``samples`` (a run's training split)."""
        rows = dataset.rows_for_samples(samples)
        return cls.fit(dataset.spectra[rows], dataset.channel[rows], dataset.labels[dataset.sample_index[rows]])

    def neutral(self) -> np.ndarray:
        """(81, 200): per element, the unweighted mean of the class means it has (zeros: none)."""
        present = (self.count > 0).astype(np.float32)
        total = (self.mean * present[:, :, None]).sum(axis=1)
        return (total / np.maximum(present.sum(axis=1), 1)[:, None]).astype(np.float32)

    def seen(self, element: str) -> bool:
        return bool(self.count[channel_index(element)].sum() > 0)

    def is_neutral(self, element: str) -> bool:
        """True when every class has training spectra of ``element`` (the neutral spectrum is one)."""
        return bool((self.count[channel_index(element)] > 0).all())

    def class_mean(self, element: str, label: int) -> np.ndarray | None:
        """The mean training spectrum of ``element`` in class ``label`` (None: no such spectrum)."""
        k = int(np.flatnonzero(self.classes == label)[0])
        channel = channel_index(element)
        return self.mean[channel, k] if self.count[channel, k] else None

    def is_flat(self, element: str) -> bool:
        """True when the element's neutral spectrum is constant on its grid (no edge there)."""
        return float(np.ptp(self.neutral()[channel_index(element)])) <= FLAT_SPAN

    def save(self, path: str | Path) -> None:
        save_channel_arrays(path, classes=self.classes, mean=self.mean, count=self.count,
                            version=np.int64(CLASS_MEANS_VERSION))

    @classmethod
    def load(cls, path: str | Path) -> "ClassMeans":
        """RunError (one line naming the file) when missing, damaged, of another version or shape."""
        arrays = load_channel_arrays(path, ("classes", "mean", "count", "version"), "Class means")
        if int(arrays.pop("version")) != CLASS_MEANS_VERSION:
            raise RunError(f"{path} was written by another version of this tool; delete it to recompute it.")
        means = cls(**arrays)
        k = len(means.classes)
        if means.mean.shape != (N_CHANNELS, k, GRID_POINTS) or means.count.shape != (N_CHANNELS, k):
            raise RunError(f"{path} is damaged: its arrays do not have the class means' shapes.")
        return means

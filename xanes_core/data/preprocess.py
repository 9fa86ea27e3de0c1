"""From raw spectra to model-ready arrays: resampling, standardization, augmentation, splits.

- :func:`resample` puts any (energy, mu) spectrum on its element's common grid; outside the
  spectrum's range values are held at its end values, and the covered fraction is returned.
- :class:`Standardizer` is fitted per element on the training split only (mean spectrum and one
  scale per element) and saved with a run, so a prediction sees exactly what training saw.
- :func:`shift_spectra` moves spectra along their grid: the +/-1 eV augmentation (x3 data,
  :data:`DEFAULT_SHIFTS_EV`) that mimics energy-calibration differences between calculations
  and beamlines.
- :func:`assign_splits` makes a 70/10/20 split that keeps every absorbing element and both
  classes balanced across train / validation / test (paper Fig. S1c).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xanes_core import atomic
from xanes_core.data.dataset import SPLITS, XanesDataset
from xanes_core.data.elements import (
    CHANNELS,
    GRID_POINTS,
    N_CHANNELS,
    WINDOW_EV,
    energy_grid,
)
from xanes_core.errors import RunError, SpectrumError, XanesError
from xanes_core.npz import read_arrays

GRID_STEP_EV = (WINDOW_EV[1] - WINDOW_EV[0]) / (GRID_POINTS - 1)
DEFAULT_SHIFTS_EV = (-1.0, 0.0, 1.0)
SCALES = ("element", "energy")  # Standardizer: one scale per element, or per element and energy
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


def resample(energy: np.ndarray, mu: np.ndarray, symbol: str) -> tuple[np.ndarray, float]:
    """Spectrum on the element's 200-point grid, and the fraction of that grid it covers."""
    energy = np.asarray(energy, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    if energy.shape != mu.shape or energy.ndim != 1 or energy.size < 2:
        raise SpectrumError("A spectrum needs matching energy and mu arrays with at least 2 points.")
    if not (np.isfinite(energy).all() and np.isfinite(mu).all()):
        raise SpectrumError("The spectrum contains NaN or infinite values.")
    if np.any(np.diff(energy) <= 0):
        raise SpectrumError("Energies must increase strictly.")
    grid = energy_grid(symbol)
    values = np.interp(grid, energy, mu).astype(np.float32)
    coverage = float(np.mean((grid >= energy[0]) & (grid <= energy[-1])))
    return values, coverage


def shift_spectra(spectra: np.ndarray, shift_ev: float) -> np.ndarray:
    """Shift rows on the common grid by ``shift_ev`` (positive: features move up in energy).

    Every element's grid has the same step, so one fractional index shift serves all rows;
    values beyond the ends are held, as in :func:`resample`.
    """
    position = np.arange(GRID_POINTS) - shift_ev / GRID_STEP_EV
    position = np.clip(position, 0, GRID_POINTS - 1)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, GRID_POINTS - 1)
    weight = (position - lower).astype(np.float32)
    return spectra[:, lower] * (1 - weight) + spectra[:, upper] * weight


@dataclass(frozen=True)
class Standardizer:
    """Per-element standardization: (spectrum - element mean spectrum) / element scale.

    ``scale="element"`` (default, ours): one scale per element, which keeps the relative size of
    spectral features (a weak pre-edge stays weak); ``scale="energy"``: one per element and
    energy point, every point of every element brought to unit variance (the paper's per-element
    standardization read as the usual per-feature one). Elements never seen in training keep
    mean 0 and scale 1 and are flagged in ``fitted``.
    """

    mean: np.ndarray  # (81, 200)
    scale: np.ndarray  # (81,) one per element, or (81, 200) one per element and energy
    fitted: np.ndarray  # (81,) bool

    @classmethod
    def fit(cls, spectra: np.ndarray, channels: np.ndarray, scale: str = "element") -> "Standardizer":
        if scale not in SCALES:
            raise XanesError(f"Unknown standardizer scale '{scale}'; use one of {', '.join(SCALES)}.")
        mean = np.zeros((N_CHANNELS, GRID_POINTS), dtype=np.float32)
        scales = np.ones(N_CHANNELS if scale == "element" else (N_CHANNELS, GRID_POINTS), dtype=np.float32)
        fitted = np.zeros(N_CHANNELS, dtype=bool)
        for ch in np.unique(channels):
            rows = spectra[channels == ch]
            mean[ch] = rows.mean(axis=0)
            spread = np.sqrt(np.mean((rows - mean[ch]) ** 2, axis=None if scale == "element" else 0))
            scales[ch] = np.where(spread > 1e-6, spread, 1.0)
            fitted[ch] = True
        return cls(mean=mean, scale=scales, fitted=fitted)

    @classmethod
    def fit_dataset(cls, dataset: XanesDataset, samples: np.ndarray) -> "Standardizer":
        rows = dataset.rows_for_samples(samples)
        return cls.fit(dataset.spectra[rows], dataset.channel[rows])

    def transform(self, spectra: np.ndarray, channels: np.ndarray) -> np.ndarray:
        channels = np.asarray(channels, dtype=np.int64)
        scale = self.scale[channels]
        return ((spectra - self.mean[channels]) / (scale[:, None] if scale.ndim == 1 else scale)).astype(np.float32)

    def save(self, path: str | Path) -> None:
        save_channel_arrays(path, mean=self.mean, scale=self.scale, fitted=self.fitted)

    @classmethod
    def load(cls, path: str | Path) -> "Standardizer":
        """The standardizer saved at ``path``; RunError naming the file if it is damaged."""
        standardizer = cls(**load_channel_arrays(path, ("mean", "scale", "fitted"), "Standardizer"))
        if (standardizer.mean.shape != (N_CHANNELS, GRID_POINTS) or standardizer.fitted.shape != (N_CHANNELS,)
                or standardizer.scale.shape not in ((N_CHANNELS,), (N_CHANNELS, GRID_POINTS))):
            raise RunError(f"{path} is damaged: its arrays do not have the standardizer's shapes.")
        return standardizer


def save_channel_arrays(path: str | Path, **arrays: np.ndarray) -> None:
    """Per-element-channel arrays of a run (atomic npz), stamped with the channel list."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, channels=np.array(CHANNELS))
    atomic.write_bytes(path, buffer.getvalue())


def load_channel_arrays(path: str | Path, keys: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    """The arrays :func:`save_channel_arrays` wrote; RunError (one line naming the file) when it
    is missing, damaged or made for other element channels."""
    arrays = read_arrays(path, (*keys, "channels"))
    if tuple(arrays.pop("channels").tolist()) != CHANNELS:
        raise RunError(f"{what} {path} was made for other element channels.")
    return arrays


def assign_splits(metadata: pd.DataFrame, seed: int,
                  fractions: tuple[float, float, float] = SPLIT_FRACTIONS) -> np.ndarray:
    """train / validation / test for each sample, balanced per element and per class.

    Samples are grouped by (their rarest absorbing element, label); within a group they are
    shuffled and dealt out at the target fractions from a random phase, so even groups of one
    or two samples land in each subset with the right probability. Balancing on the rarest
    element keeps rare elements spread out; common elements then balance by number.
    """
    rng = np.random.default_rng(seed)
    frequency: dict[str, int] = {}
    for elements in metadata["elements"]:
        for symbol in elements:
            frequency[symbol] = frequency.get(symbol, 0) + 1
    rarest = [min(elements, key=lambda s: (frequency[s], s)) for elements in metadata["elements"]]
    keys = pd.Series(list(zip(rarest, metadata["label"].to_numpy())))
    edges = np.cumsum(fractions)[:-1]
    splits = np.empty(len(metadata), dtype=object)
    for _, members in keys.groupby(keys).groups.items():
        members = rng.permutation(np.asarray(members))
        phase = rng.random()
        position = ((np.arange(members.size) + phase) / members.size) % 1.0
        splits[members] = np.asarray(SPLITS)[np.searchsorted(edges, position, side="right")]
    return splits.astype(str)


def split_balance(dataset: XanesDataset) -> pd.DataFrame:
    """Per element: number of labelled samples and the fraction in each split (paper Fig. S1c);
    unlabelled samples are in no split and not counted."""
    present = dataset.presence() & dataset.labelled[:, None]
    split = dataset.metadata["split"].to_numpy()
    rows = []
    for ch, symbol in enumerate(CHANNELS):
        mask = present[:, ch]
        total = int(mask.sum())
        if total == 0:
            continue
        rows.append({"element": symbol, "n_samples": total,
                     **{s: float((split[mask] == s).mean()) for s in SPLITS}})
    return pd.DataFrame(rows, columns=["element", "n_samples", *SPLITS])  # no rows: nothing labelled

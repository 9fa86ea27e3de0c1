"""Materials as one 2-D float array: the ``X`` every classifier takes (scikit-learn's convention).

Row ``i`` is one material, in slots of one absorbing element each::

    [ space group | channel of slot 1 .. slot W | spectrum of slot 1 (200) | ... | slot W (200) ]

``W`` is the largest number of absorbing elements of any material packed together (1-7 in the
paper's data); unused slots have channel -1 and a zero spectrum, and space group 0 means
"unknown" (an all-zero symmetry input). Spectra are on their element's 200-point grid, not
standardized: each classifier fits its own per-element standardizer on the ``X`` it is trained
with, so scikit-learn's model selection tools (``cross_val_score``, ``GridSearchCV``) never leak
held-out spectra into the fit. 16,458 materials take ~90 MB this way, against ~1 GB for the
paper's dense (n, 200, 81) tensor, and the array is exactly the CNN's padded input.

No TensorFlow here: the baselines, evaluation and result tables use these functions too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.data.preprocess import Standardizer, shift_spectra
from xanes_core.data.symmetry import N_SYMMETRY_FEATURES, symmetry_features
from xanes_core.errors import XanesError

SLOT = 1 + GRID_POINTS  # a channel column and a spectrum block per slot


class Materials(NamedTuple):
    """Views into a packed ``X``: (n,) space groups, (n, W) channels, (n, W, 200) spectra."""

    space_groups: np.ndarray
    channels: np.ndarray
    spectra: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """(n, W) True where a slot holds a spectrum."""
        return self.channels >= 0


def width_of(X: np.ndarray) -> int:
    """Number of element slots of a packed array (checked)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] < 1 + SLOT or (X.shape[1] - 1) % SLOT:
        raise XanesError(f"X must be packed materials (n, 1 + W x {SLOT}); got shape {X.shape}.")
    return (X.shape[1] - 1) // SLOT


def unpack(X: np.ndarray) -> Materials:
    width = width_of(X)
    n = len(X)
    return Materials(space_groups=X[:, 0].astype(np.int64),
                     channels=X[:, 1:1 + width].astype(np.int64),
                     spectra=X[:, 1 + width:].reshape(n, width, GRID_POINTS))


def pack_rows(spectra: np.ndarray, channels: np.ndarray, row_sample: np.ndarray, n_samples: int,
              space_groups: np.ndarray | None, width: int | None = None) -> np.ndarray:
    """Packed ``X`` from spectrum rows; ``row_sample`` is each row's material (0..n_samples-1).

    ``width``: slots per material (default: the largest count here). ``space_groups=None``:
    unknown for every material.
    """
    channels = np.asarray(channels, dtype=np.int64)
    row_sample = np.asarray(row_sample, dtype=np.int64)
    counts = np.bincount(row_sample, minlength=n_samples)
    width = max(int(counts.max(initial=0)), 1) if width is None else width
    if counts.max(initial=0) > width:
        raise XanesError(f"A material has {counts.max()} spectra; this X has room for {width}.")
    order = np.argsort(row_sample, kind="stable")
    starts = np.cumsum(counts) - counts
    rank = np.empty_like(row_sample)
    rank[order] = np.arange(row_sample.size) - starts[row_sample[order]]
    X = np.zeros((n_samples, 1 + width * SLOT), dtype=np.float32)
    X[:, 1:1 + width] = -1
    X[row_sample, 1 + rank] = channels
    X[:, 1 + width:].reshape(n_samples, width, GRID_POINTS)[row_sample, rank] = spectra
    if space_groups is not None:
        X[:, 0] = np.asarray(space_groups, dtype=np.float32)
    return X


def pack(dataset: XanesDataset, samples: np.ndarray | None = None, width: int | None = None) -> np.ndarray:
    """Packed ``X`` of a dataset's materials (all, or ``samples`` in that order).

    ``width`` defaults to the dataset's largest element count, so every part of one dataset
    packs to the same shape.
    """
    samples = np.arange(dataset.n_samples) if samples is None else np.asarray(samples, dtype=np.int64)
    if width is None:
        width = max(int(np.bincount(dataset.sample_index, minlength=1).max(initial=0)), 1)
    position = np.full(dataset.n_samples, -1, dtype=np.int64)
    position[samples] = np.arange(samples.size)
    rows = np.flatnonzero(position[dataset.sample_index] >= 0)
    groups = dataset.metadata["space_group"].to_numpy(dtype=np.int64)[samples]
    return pack_rows(dataset.spectra[rows], dataset.channel[rows], position[dataset.sample_index[rows]],
                     samples.size, groups, width)


def presence(X: np.ndarray) -> np.ndarray:
    """(n, 81) float32: which absorbing elements each material has."""
    materials = unpack(X)
    present = np.zeros((len(X), N_CHANNELS), dtype=np.float32)
    rows, slots = np.nonzero(materials.valid)
    present[rows, materials.channels[rows, slots]] = 1.0
    return present


def fit_standardizer(X: np.ndarray, scale: str = "element") -> Standardizer:
    """Per-element standardizer fitted on the spectra of ``X`` (and nothing else); ``scale``:
    one per element or per element and energy (:class:`~xanes_core.data.preprocess.Standardizer`)."""
    materials = unpack(X)
    valid = materials.valid
    return Standardizer.fit(materials.spectra[valid], materials.channels[valid], scale)


def standardize(X: np.ndarray, standardizer: Standardizer) -> np.ndarray:
    """A copy of ``X`` with every present spectrum standardized (empty slots stay zero)."""
    out = np.array(X, dtype=np.float32, copy=True)
    materials = unpack(out)
    valid = materials.valid
    materials.spectra[valid] = standardizer.transform(materials.spectra[valid], materials.channels[valid])
    return out


def shifted_copies(X: np.ndarray, shifts_ev: tuple[float, ...]) -> np.ndarray:
    """``X`` repeated once per energy shift, every spectrum of a copy shifted together
    (the paper's +/-1 eV augmentation); empty slots stay zero."""
    copies = []
    for shift in shifts_ev:
        copy = np.array(X, dtype=np.float32, copy=True)
        spectra = unpack(copy).spectra  # a strided view: reshaping it would copy, so assign back
        spectra[...] = shift_spectra(spectra.reshape(-1, GRID_POINTS), shift).reshape(spectra.shape)
        copies.append(copy)
    return np.concatenate(copies)


def symmetry_input(space_groups: np.ndarray) -> np.ndarray:
    """(n, 269) one-hot crystal system, point group, space group; all zeros where unknown (0)."""
    space_groups = np.asarray(space_groups, dtype=np.int64)
    out = np.zeros((space_groups.size, N_SYMMETRY_FEATURES), dtype=np.float32)
    known = space_groups > 0
    out[known] = symmetry_features(space_groups[known])
    return out


def without_symmetry(X: np.ndarray) -> np.ndarray:
    """``X`` with every space group set to unknown (what a spectra-only model sees)."""
    out = np.array(X, copy=True)
    out[:, 0] = 0
    return out


def flattened_spectra(X: np.ndarray) -> sp.csr_matrix:
    """(n, 81*200) CSR: each present element's spectrum in its channel's block (SVM features)."""
    materials = unpack(X)
    rows, slots = np.nonzero(materials.valid)
    columns = materials.channels[rows, slots][:, None] * GRID_POINTS + np.arange(GRID_POINTS)[None, :]
    return sp.csr_matrix(
        (materials.spectra[rows, slots].ravel(), (np.repeat(rows, GRID_POINTS), columns.ravel())),
        shape=(len(X), N_CHANNELS * GRID_POINTS), dtype=np.float64,
    )


def composition_features(X: np.ndarray) -> np.ndarray:
    """(n, 81 + 269): element presence | symmetry one-hot (what composition and symmetry give)."""
    return np.hstack([presence(X), symmetry_input(unpack(X).space_groups)])

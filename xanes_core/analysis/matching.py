"""Spectrum matching: the materials of a dataset whose spectra look most like a given one (in the
spirit of ELSIE and LightshowAI's matching), and the nearest training spectrum of a prediction.

A :class:`SpectrumLibrary` holds a dataset's spectra (all, or a split) with their similarity
features computed once at load, grouped by element. A search then:

1. aligns the spectrum to the library's mean spectrum of its element (the coarse stage of
   :mod:`xanes_core.analysis.alignment`; skipped with ``align=False``);
2. scores every library spectrum of that element with the similarity of
   :mod:`xanes_core.data.similarity` (smoothed Pearson correlation, best residual shift within
   +/-8 eV): one matrix product over the library;
3. refines the residual shift of the best matches to :data:`FINE_STEP_EV`.

Each match reports its similarity and the total shift (alignment + residual) that lines the
spectrum up with it. On the real Cu FEFF set (2,589 spectra) a search takes a few ms; the
benchmark times it on 50,000 spectra (BENCHMARKS.md).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from xanes_core.analysis.alignment import coarse_shift, on_grid
from xanes_core.data.dataset import LABEL_NAMES, XanesDataset
from xanes_core.data.elements import CHANNELS, GRID_POINTS, N_CHANNELS, channel_index
from xanes_core.data.similarity import RESIDUAL_STEP_EV, best_over_shifts, features, residual_shifts
from xanes_core.errors import XanesError

DEFAULT_TOP = 10
FINE_STEP_EV = 0.05


@dataclass(frozen=True)
class Match:
    """One library material whose spectrum of the element looks like the query."""

    sample_index: int
    sample_id: str
    formula: str
    label: str
    similarity: float
    shift_ev: float


@dataclass(frozen=True)
class MatchResult:
    """The best matches of one spectrum, best first; ``shift_ev``: its alignment to the library."""

    element: str
    is_computed: bool | None
    shift_ev: float
    matches: tuple[Match, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The ``match`` command's JSON object."""
        keys = ("sample_id", "formula", "label", "similarity", "shift_ev")
        return {"element": self.element, "is_computed": self.is_computed, "shift_ev": self.shift_ev,
                "matches": [{key: asdict(match)[key] for key in keys} for match in self.matches],
                "seconds": self.seconds}


@dataclass(frozen=True)
class _Scores:
    """Every library spectrum of one element scored against a query."""

    rows: np.ndarray
    similarity: np.ndarray
    residual: np.ndarray
    coarse: float


class SpectrumLibrary:
    """A dataset's spectra ready to be matched against (load once, search many times).

    ``samples``: only these materials (e.g. a run's training split). ``means``: the (81, 200)
    mean spectra to align to (a run's stored reference); by default the library's own.
    """

    def __init__(self, dataset: XanesDataset, samples: np.ndarray | None = None,
                 means: np.ndarray | None = None) -> None:
        rows = np.arange(len(dataset.spectra)) if samples is None else dataset.rows_for_samples(samples)
        order = rows[np.argsort(dataset.channel[rows], kind="stable")]
        channels = dataset.channel[order].astype(np.int64)
        bounds = np.searchsorted(channels, np.arange(N_CHANNELS + 1))
        self._rows = {ch: order[bounds[ch]:bounds[ch + 1]] for ch in range(N_CHANNELS)
                      if bounds[ch + 1] > bounds[ch]}
        self._features = {ch: features(dataset.spectra[r]) for ch, r in self._rows.items()}
        self.means = means if means is not None else _means(dataset, self._rows)
        self.dataset = dataset
        meta = dataset.metadata
        self._ids = meta["sample_id"].astype(str).to_numpy()
        self._formulas = meta["formula"].astype(str).to_numpy()
        self._labels = meta["label"].to_numpy()

    @property
    def elements(self) -> tuple[str, ...]:
        """Elements with at least one spectrum in the library, in channel order."""
        return tuple(CHANNELS[ch] for ch in self._rows)

    def has(self, element: str) -> bool:
        return channel_index(element) in self._rows

    def match(self, energy: np.ndarray, mu: np.ndarray, element: str, *, top: int = DEFAULT_TOP,
              align: bool = True, is_computed: bool | None = None) -> MatchResult:
        """The ``top`` library materials whose spectrum of ``element`` is most like (energy, mu)."""
        started = time.perf_counter()
        if top < 1:
            raise XanesError(f"Ask for at least one match (got {top}).")
        scores = self._scores(energy, mu, element, align)
        count = min(top, scores.rows.size)
        best = np.argpartition(-scores.similarity, count - 1)[:count]
        matches = sorted((self._refined(scores, i, energy, mu, element) for i in best),
                         key=lambda m: (-m.similarity, m.sample_index))
        return MatchResult(element=element, is_computed=is_computed, shift_ev=round(scores.coarse, 2) + 0.0,
                           matches=tuple(matches), seconds=time.perf_counter() - started)

    def spectrum_of(self, match: Match, element: str) -> np.ndarray:
        """The library's grid spectrum of ``element`` for a match's material (to draw it)."""
        rows = self._rows[channel_index(element)]
        return self.dataset.spectra[rows[self.dataset.sample_index[rows] == match.sample_index][0]]

    def nearest(self, energy: np.ndarray, mu: np.ndarray, element: str, align: bool = True) -> Match:
        """The single most similar library spectrum (what a prediction is aligned to and judged by)."""
        return self.match(energy, mu, element, top=1, align=align).matches[0]

    def _scores(self, energy: np.ndarray, mu: np.ndarray, element: str, align: bool) -> _Scores:
        channel = channel_index(element)
        if channel not in self._rows:
            raise XanesError(f"The dataset holds no {element} spectrum to compare with.")
        energy, mu = np.asarray(energy, dtype=np.float64), np.asarray(mu, dtype=np.float64)
        coarse = coarse_shift(energy, mu, element, self.means[channel]) if align else 0.0
        residual = residual_shifts()
        similarity, best = best_over_shifts(self._features[channel],
                                            features(on_grid(energy, mu, element, coarse + residual)))
        return _Scores(self._rows[channel], similarity, residual[best], coarse)

    def _refined(self, scores: _Scores, i: int, energy: np.ndarray, mu: np.ndarray, element: str) -> Match:
        """Match ``i`` of ``scores`` with its residual shift refined to FINE_STEP_EV."""
        half = int(round(RESIDUAL_STEP_EV / 2 / FINE_STEP_EV))
        shifts = scores.coarse + scores.residual[i] + np.arange(-half, half + 1) * FINE_STEP_EV
        target = self._features[channel_index(element)][i]
        values = features(on_grid(energy, mu, element, shifts)) @ target
        k = int(np.argmax(values))
        sample = int(self.dataset.sample_index[scores.rows[i]])
        return Match(sample_index=sample, sample_id=self._ids[sample], formula=self._formulas[sample],
                     label=LABEL_NAMES[int(self._labels[sample])],
                     similarity=float(values[k]), shift_ev=round(float(shifts[k]), 2) + 0.0)


def _means(dataset: XanesDataset, rows: dict[int, np.ndarray]) -> np.ndarray:
    means = np.zeros((N_CHANNELS, GRID_POINTS), dtype=np.float32)
    for channel, members in rows.items():
        means[channel] = dataset.spectra[members].mean(axis=0)
    return means

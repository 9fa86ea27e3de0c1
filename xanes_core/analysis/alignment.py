"""Energy alignment: move an uploaded spectrum onto the energy scale of the data it is compared
with, before it is matched or predicted.

Why: a measured spectrum sits near the tabulated K edge, a FEFF one (Materials Project, the
real Cu set in ``../shared/data/real_feff``) some 10-25 eV above it, and a calibration can be off
by a few eV more. The model and the similarity compare curves point by point on the element's
grid, so an unaligned spectrum is compared with the wrong features.

How (measured and computed spectra alike), the coarse stage here:

1. **Edge position**: the shift that puts the spectrum's E0 (maximum of the derivative) on the
   E0 of the element's mean reference spectrum, clipped to +/-:data:`MAX_SHIFT_EV`;
2. **cross-correlation** with that mean spectrum over shifts within :data:`EDGE_WINDOW_EV` of
   the edge estimate, in :data:`STEP_EV` steps, counting only the grid points the shifted
   spectrum covers (a spectrum that only partly overlaps the grid at some shift is compared on
   what it covers; below :data:`MIN_OVERLAP` of the grid a shift is not considered).

The matching module then refines the shift against the nearest spectrum of the data
(:mod:`xanes_core.analysis.matching`), within the similarity's residual range. Shifts are
applied to the spectrum's own energies before resampling, so nothing is cut off or held that the
file holds. Both stages move with the spectrum: a copy shifted by any known amount comes back to
the same place (tests check +/-30 eV on real FEFF spectra).
"""

from __future__ import annotations

import numpy as np

from xanes_core.data.elements import energy_grid
from xanes_core.io.detect import find_e0

MAX_SHIFT_EV = 50.0
EDGE_WINDOW_EV = 12.0
STEP_EV = 0.1
MIN_OVERLAP = 0.5


def on_grid(energy: np.ndarray, mu: np.ndarray, element: str, shifts: np.ndarray) -> np.ndarray:
    """(len(shifts), 200): the spectrum moved up in energy by each shift (eV), resampled on the
    element's grid; values beyond its ends are held, as in :func:`~xanes_core.data.preprocess.resample`."""
    grid = energy_grid(element)
    return np.interp(grid[None, :] - np.asarray(shifts, dtype=np.float64)[:, None], energy, mu).astype(np.float32)


def coverage_after(energy: np.ndarray, element: str, shift: float) -> float:
    """Fraction of the element's grid that the spectrum covers once moved by ``shift``."""
    grid = energy_grid(element) - shift
    return float(np.mean((grid >= energy[0]) & (grid <= energy[-1])))


def coarse_shift(energy: np.ndarray, mu: np.ndarray, element: str, reference: np.ndarray) -> float:
    """The shift (eV, added to the spectrum's energies) that lines it up with ``reference``,
    the element's mean spectrum on its grid: edge position refined by cross-correlation."""
    grid = energy_grid(element)
    edge = float(np.clip(find_e0(grid, reference) - find_e0(energy, mu), -MAX_SHIFT_EV, MAX_SHIFT_EV))
    count = int(round(MAX_SHIFT_EV / STEP_EV))
    shifts = np.arange(-count, count + 1) * STEP_EV
    shifts = shifts[np.abs(shifts - edge) <= EDGE_WINDOW_EV]
    positions = grid[None, :] - shifts[:, None]
    covered = ((positions >= energy[0]) & (positions <= energy[-1])).astype(np.float64)
    score = _masked_correlation(np.interp(positions, energy, mu), reference, covered)
    score[covered.mean(axis=1) < MIN_OVERLAP] = -np.inf
    return float(shifts[int(np.argmax(score))]) if np.isfinite(score).any() else edge


def _masked_correlation(rows: np.ndarray, reference: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row with ``reference`` over the points where ``weight`` is 1."""
    n = np.maximum(weight.sum(axis=1, keepdims=True), 1.0)
    centred = (rows - (rows * weight).sum(axis=1, keepdims=True) / n) * weight
    target = (reference[None, :] - (reference[None, :] * weight).sum(axis=1, keepdims=True) / n) * weight
    denominator = np.sqrt((centred ** 2).sum(axis=1) * (target ** 2).sum(axis=1))
    return np.divide((centred * target).sum(axis=1), denominator,
                     out=np.full(len(rows), -np.inf), where=denominator > 1e-12)

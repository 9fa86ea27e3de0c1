"""Demo K-edge spectra shaped like Materials Project FEFF output, one element at a time.

Each spectrum is built relative to its own E0 (the element's FEFF edge, :mod:`.feff`, plus a
class-independent chemical shift), on a fine grid, as FEFF's output would look before its
core-hole broadening:

- nothing below FEFF's Fermi level (E0 minus the element's Fermi gap, with jitter);
- an edge step of 1 at E0; for 3d elements half of it rises in a shoulder 5 eV below E0 and a
  small 1s-3d peak sits just above the Fermi level (both class-independent);
- a white line 3 eV above E0 whose height follows the `bonding` latent;
- post-edge oscillations ``amp * sin(2 k R_eff + phase)``, growing in from E0 + 10 eV, with
  ``R_eff = R - 0.35`` Angstrom and R the first-shell distance scaled by `bond_length`.

Then Lorentzian broadening with the element's K core-hole width (xraydb: 0.16 eV for O, 1.55 eV
for Cu, 63 eV for Bi), sampling onto the element grid, and FEFF's data window: outside it values
are held at the window's ends, as :func:`xanes_core.data.preprocess.resample` does for real
spectra, and the covered fraction of the grid is returned. Shape constants were tuned on 2,589
real FEFF Cu spectra (their mean, aligned at E0 and on the Cu grid: r = 0.99; white-line peaks
1.2-1.5 edge steps; first post-edge minimum about E0 + 30 eV).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from xanes_core.data.demo.config import DemoModel
from xanes_core.data.demo.feff import WINDOW_BELOW_FERMI_EV, WINDOW_LENGTH_EV, EdgeModel, edge_model
from xanes_core.data.elements import GRID_POINTS, WINDOW_EV
from xanes_core.data.preprocess import GRID_STEP_EV

FINE_STEP_EV = GRID_STEP_EV / 2
WAVE_NUMBER_PER_EV = 0.2625  # k^2 (1/Angstrom^2) per eV above the edge
STEP_WIDTH_EV = 1.2
SHOULDER = (0.5, -5.0, 3.0)  # 3d: fraction of the step, centre and width relative to E0 (eV)
WHITE_LINE = (0.52, 3.0, 2.2)  # height above the step, centre and Gaussian width (eV)
OSCILLATION = (1.8, 0.35, 10.0)  # phase (rad), phase-shift distance (Angstrom), growth centre (eV)


@dataclass(frozen=True)
class Nuisances:
    """Per-spectrum draws that do not depend on the class: (m, 1) arrays, energies vs E_K."""

    e0: np.ndarray
    fermi: np.ndarray
    pre_edge: np.ndarray
    white_line_at: np.ndarray
    phase: np.ndarray
    amplitude: np.ndarray


def _draw_nuisances(edge: EdgeModel, m: int, rng: np.random.Generator) -> Nuisances:
    e0 = edge.e0_offset_ev + rng.normal(0.0, edge.e0_spread_ev, (m, 1))
    gap = np.clip(edge.fermi_gap_ev + rng.normal(0.0, 0.25 * edge.fermi_gap_ev + 0.5, (m, 1)), 0.3, None)
    draws = Nuisances(
        e0=e0, fermi=e0 - gap,
        pre_edge=rng.uniform(0.02, 0.10, (m, 1)) if edge.is_3d else np.zeros((m, 1)),
        white_line_at=WHITE_LINE[1] + rng.normal(0.0, 0.8, (m, 1)),
        phase=OSCILLATION[0] + rng.normal(0.0, 0.2, (m, 1)),
        amplitude=rng.uniform(0.09, 0.15, (m, 1)),
    )
    return Nuisances(**{name: value.astype(np.float32) for name, value in vars(draws).items()})


def _unbroadened(energy: np.ndarray, edge: EdgeModel, draws: Nuisances, bonding: np.ndarray,
                 bond_length: np.ndarray, model: DemoModel, rng: np.random.Generator) -> np.ndarray:
    """(m, n_fine) spectra before core-hole broadening; ``energy`` is relative to E_K."""
    energy = energy.astype(np.float32)
    x = energy[None, :] - draws.e0
    step = 0.5 + np.arctan(x / STEP_WIDTH_EV) / np.pi
    if edge.is_3d:
        fraction, centre, width = SHOULDER
        step = fraction * (0.5 + np.arctan((x - centre) / width) / np.pi) + (1 - fraction) * step
    m = bonding.size
    height = np.clip(WHITE_LINE[0] + model.white_line_per_sigma * bonding[:, None] + rng.normal(0, 0.08, (m, 1)),
                     0.03, None).astype(np.float32)
    white_line = height * np.exp(-0.5 * ((x - draws.white_line_at) / WHITE_LINE[2]) ** 2)
    distance = edge.bond_length_a * (1 + model.bond_length_per_sigma * bond_length[:, None]
                                     + rng.normal(0, 0.008, (m, 1))).astype(np.float32) - OSCILLATION[1]
    k = np.sqrt(WAVE_NUMBER_PER_EV * np.clip(x, 0, None))
    growth = 1.0 / (1.0 + np.exp(-(x - OSCILLATION[2]) / 2.5))
    chi = draws.amplitude * np.sin(2 * k * distance + draws.phase) * growth
    pre_edge = draws.pre_edge * np.exp(-0.5 * ((energy[None, :] - draws.fermi - 1.5) / 0.8) ** 2)
    above_fermi = energy[None, :] > draws.fermi
    return (step * (1 + chi) + white_line + pre_edge) * above_fermi


@lru_cache(maxsize=None)
def _lorentzian(width_ev: float) -> np.ndarray:
    """Normalized Lorentzian kernel of FWHM ``width_ev`` on the fine step."""
    half = max(width_ev, 0.2) / 2
    reach = min(8 * half + 3, 60.0)  # truncated tails carry < 10 % of the area (renormalized)
    offsets = np.arange(-reach, reach + FINE_STEP_EV / 2, FINE_STEP_EV)
    kernel = half / (offsets**2 + half**2)
    return (kernel / kernel.sum()).astype(np.float32)


def _broaden(raw: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each row convolved with the (odd-length, centred) kernel, same length, via FFT."""
    size = 1 << (raw.shape[1] + kernel.size - 2).bit_length()
    full = np.fft.irfft(np.fft.rfft(raw, size, axis=1) * np.fft.rfft(kernel, size), size, axis=1)
    return full[:, kernel.size // 2: kernel.size // 2 + raw.shape[1]].astype(np.float32)


def _window_positions(fermi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each grid point samples its spectrum (held at FEFF's window ends), and coverage."""
    grid = np.linspace(WINDOW_EV[0], WINDOW_EV[1], GRID_POINTS)[None, :]
    start = fermi - WINDOW_BELOW_FERMI_EV
    end = start + WINDOW_LENGTH_EV
    covered = (grid >= start) & (grid <= end)
    return np.clip(grid, start, end), covered


def element_spectra(symbol: str, bonding: np.ndarray, bond_length: np.ndarray, model: DemoModel,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(m, 200) spectra of one element in edge-step units, and the covered fraction of each."""
    edge = edge_model(symbol)
    draws = _draw_nuisances(edge, bonding.size, rng)
    positions, covered = _window_positions(draws.fermi)
    kernel = _lorentzian(round(edge.core_hole_ev, 3))
    reach = FINE_STEP_EV * (kernel.size // 2 + 2)
    energy = np.arange(positions.min() - reach, positions.max() + reach, FINE_STEP_EV)
    raw = _unbroadened(energy, edge, draws, bonding, bond_length, model, rng)
    broad = _broaden(raw, kernel)
    index = (positions - energy[0]) / FINE_STEP_EV
    lower = np.floor(index).astype(np.int64)
    weight = (index - lower).astype(np.float32)
    spectra = (np.take_along_axis(broad, lower, axis=1) * (1 - weight)
               + np.take_along_axis(broad, lower + 1, axis=1) * weight)
    spectra += rng.normal(0.0, model.noise, spectra.shape).astype(np.float32) * covered
    return spectra.astype(np.float32), covered.mean(axis=1).astype(np.float32)

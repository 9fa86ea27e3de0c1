"""Absorbing-element channels, their K-edge energies and energy grids.

The paper uses 81 channels: every element from Li (Z=3) to Bi (Z=83) except the noble gases
Ne, Ar, Kr, Xe and the radioactive Pm, plus the actinides Th, Pa, U, Np, Pu. Channels are
ordered by atomic number so that channel ``i`` means the same element everywhere.

Edge energies come from xraydb (Elam tables), not typed by hand. Each element gets one
common grid of :data:`GRID_POINTS` evenly spaced energies from ``E_K + WINDOW_EV[0]`` to
``E_K + WINDOW_EV[1]``. Materials Project K-edge XANES (FEFF) start a few eV above the tabulated
edge and end 56-62 eV above it, so a window of -10 eV to +65 eV holds them all with room for
chemical shifts and for the pre-edge of measured spectra.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.core.periodic_table import Element

from xanes_core.errors import ElementError

GRID_POINTS = 200
WINDOW_EV = (-10.0, 65.0)

_EXCLUDED = {"Ne", "Ar", "Kr", "Xe", "Pm"}
_ACTINIDES = ("Th", "Pa", "U", "Np", "Pu")

CHANNELS: tuple[str, ...] = tuple(
    [Element.from_Z(z).symbol for z in range(3, 84) if Element.from_Z(z).symbol not in _EXCLUDED]
    + list(_ACTINIDES)
)
N_CHANNELS = len(CHANNELS)
_CHANNEL_INDEX = {symbol: i for i, symbol in enumerate(CHANNELS)}


@dataclass(frozen=True)
class TablePosition:
    """Where an element sits in the usual 18-column periodic table drawing (1-based).

    Lanthanides and actinides are drawn in two extra rows (8 and 9) under the main table,
    as in the paper's figures.
    """

    row: int
    column: int


def normalize_symbol(symbol: str) -> str:
    """Return the canonical symbol ("fe" -> "Fe") or raise ElementError."""
    cleaned = str(symbol).strip()
    cleaned = cleaned[:1].upper() + cleaned[1:].lower()
    try:
        return Element(cleaned).symbol
    except ValueError:
        raise ElementError(f"'{symbol}' is not a chemical element symbol.") from None


def channel_index(symbol: str) -> int:
    """Channel of an absorbing element; ElementError when the model has none for it."""
    canonical = normalize_symbol(symbol)
    try:
        return _CHANNEL_INDEX[canonical]
    except KeyError:
        raise ElementError(
            f"No absorbing-element channel for {canonical}: the model covers Li-Bi "
            "(without Ne, Ar, Kr, Xe, Pm) and Th, Pa, U, Np, Pu."
        ) from None


@lru_cache(maxsize=None)
def edge_energy(symbol: str, edge: str = "K") -> float:
    """Tabulated absorption-edge energy in eV (xraydb)."""
    import xraydb

    canonical = normalize_symbol(symbol)
    found = xraydb.xray_edge(canonical, edge)
    if found is None:
        raise ElementError(f"No tabulated {edge} edge for {canonical}.")
    return float(found.energy)


def k_edge_energy(symbol: str) -> float:
    """Tabulated K-edge energy in eV."""
    return edge_energy(symbol, "K")


@lru_cache(maxsize=None)
def k_core_hole_width(symbol: str) -> float:
    """Lifetime width (FWHM, eV) of the K core hole (xraydb, Keski-Rahkonen & Krause): the
    broadening every K-edge spectrum of the element carries, 0.04 eV for Li, ~60 eV for Bi."""
    import xraydb

    return float(xraydb.core_width(normalize_symbol(symbol), "K"))


@lru_cache(maxsize=None)
def energy_grid(symbol: str) -> np.ndarray:
    """The element's common 200-point energy grid in eV (read-only)."""
    e_k = k_edge_energy(symbol)
    grid = np.linspace(e_k + WINDOW_EV[0], e_k + WINDOW_EV[1], GRID_POINTS)
    grid.setflags(write=False)
    return grid


def all_grids() -> np.ndarray:
    """(N_CHANNELS, GRID_POINTS) grids in channel order, for saving with a dataset."""
    return np.stack([energy_grid(symbol) for symbol in CHANNELS])


def table_position(symbol: str) -> TablePosition:
    """Periodic-table row and column for drawing heatmaps (pymatgen's row/group)."""
    element = Element(normalize_symbol(symbol))
    if element.is_lanthanoid or element.is_actinoid:
        row = 8 if element.is_lanthanoid else 9
        first = 57 if element.is_lanthanoid else 89
        return TablePosition(row=row, column=3 + element.Z - first)
    return TablePosition(row=element.row, column=element.group)

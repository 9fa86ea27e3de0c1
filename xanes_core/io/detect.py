"""Guesses made from content: the file format, keV units, E0 and which edge a spectrum shows.

Every guess here is one a scientist would make by eye, written down so it can be tested.
Callers attach a warning whenever a guess replaced something the file should have said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# An edge found this close to E0 is accepted. Chemical shifts and calibration offsets stay
# within ~15 eV; K edges of neighbouring elements are hundreds of eV apart above Ca.
EDGE_TOLERANCE_EV = 30.0
# Preference when several tabulated edges lie within the tolerance: K-edge spectra are what
# this project reads most and e.g. Fe K (7112 eV) sits 14 eV from Nd L1 (7126 eV).
_EDGE_PRIORITY = ("K", "L3", "L2", "L1", "M5", "M4", "M3", "M2", "M1")
_EDGE_NAME = re.compile(r"^(K|L[1-3]|M[1-5]|N[1-7])$")
# Below this, energies are keV (no K edge under 200 eV except Li/Be/B, whose spectra have eV
# steps far larger than a keV file's): see looks_like_kev.
_KEV_MAX = 200.0
_KEV_MAX_MEDIAN_STEP = 0.02
_E0_GRID_MAX_POINTS = 20_000


@dataclass(frozen=True)
class EdgeMatch:
    """A tabulated absorption edge near an observed E0."""

    element: str
    edge: str
    energy: float


def sniff_format(text: str) -> str:
    """The parser to use: "athena", "athena-json", "xdi", "mp-json", "mp-tsv", "feff" or "columns"."""
    head = text.lstrip()[:2000]
    first_line = head.split("\n", 1)[0]
    if head.startswith(("{", "[")):
        return "athena-json" if "_____header" in head or "_____order" in text else "mp-json"
    if "Athena project file" in first_line:
        return "athena"
    if re.match(r"#\s*XDI/", first_line):
        return "xdi"
    if re.match(r"Absorption \(\S+-edge\) for ", first_line):
        return "mp-tsv"
    if "FEFF" in head and re.search(r"^#\s*omega\s+e\s+k\s+mu", text[:20000], re.M | re.I):
        return "feff"
    return "columns"


def normalize_edge(edge: str) -> str | None:
    """Canonical edge name ("k" -> "K", "l3" -> "L3") or None when it is not an edge."""
    cleaned = str(edge).strip().upper()
    return cleaned if _EDGE_NAME.match(cleaned) else None


def looks_like_kev(energy: np.ndarray) -> bool:
    """True when energies are in keV: all below 200 and steps far finer than any eV scan."""
    if energy.size < 2 or float(np.max(energy)) >= _KEV_MAX or float(np.min(energy)) <= 0:
        return False
    steps = np.abs(np.diff(energy))
    steps = steps[steps > 0]
    return steps.size > 0 and float(np.median(steps)) < _KEV_MAX_MEDIAN_STEP


def find_e0(energy: np.ndarray, mu: np.ndarray) -> float:
    """E0 as the maximum of the lightly smoothed derivative on a uniform grid.

    Resampling first makes the derivative independent of the scan's step pattern (10 eV
    pre-edge steps next to 0.3 eV edge steps); a 5-point boxcar keeps one noisy point from
    winning. Needs increasing energies (the caller's cleaned arrays).
    """
    span = float(energy[-1] - energy[0])
    step = max(float(np.median(np.diff(energy))), span / _E0_GRID_MAX_POINTS)
    n = int(min(max(span / step, 5), _E0_GRID_MAX_POINTS))
    grid = np.linspace(energy[0], energy[-1], n)
    smooth = np.convolve(np.interp(grid, energy, mu), np.ones(5) / 5, mode="same")
    deriv = np.gradient(smooth, grid)
    inner = deriv[3:-3] if n > 10 else deriv
    offset = 3 if n > 10 else 0
    return float(grid[int(np.argmax(inner)) + offset])


@lru_cache(maxsize=1)
def _edge_table() -> tuple[tuple[float, str, str], ...]:
    """(energy eV, element, edge) for every tabulated edge of H..Cf (xraydb, offline)."""
    import xraydb

    rows = []
    for z in range(1, 99):
        symbol = xraydb.atomic_symbol(z)
        for edge, info in xraydb.xray_edges(symbol).items():
            if normalize_edge(edge) == edge:
                rows.append((float(info.energy), symbol, edge))
    return tuple(rows)


def match_edge(e0: float, element: str | None = None, edge: str | None = None) -> EdgeMatch | None:
    """The tabulated edge that best explains E0 (of ``element``/``edge`` if given), or None.

    Within :data:`EDGE_TOLERANCE_EV` the preferred edge type wins (K first), then the nearest.
    """
    candidates = [
        (energy, symbol, name)
        for energy, symbol, name in _edge_table()
        if abs(energy - e0) <= EDGE_TOLERANCE_EV
        and element in (None, symbol)
        and edge in (None, name)
    ]
    if not candidates:
        return None

    def rank(row: tuple[float, str, str]) -> tuple[int, float]:
        energy, _, name = row
        priority = _EDGE_PRIORITY.index(name) if name in _EDGE_PRIORITY else len(_EDGE_PRIORITY)
        return priority, abs(energy - e0)

    energy, symbol, name = min(candidates, key=rank)
    return EdgeMatch(element=symbol, edge=name, energy=energy)

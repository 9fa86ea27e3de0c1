"""The Spectrum every reader returns, and the one place where raw arrays become one.

Format parsers only extract arrays and what the file says (:class:`ParsedSpectrum`);
:func:`build_spectrum` then applies the same checks and guesses to every format, so a NaN,
a keV axis or a missing element is handled identically whether it came from XDI or Athena.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xanes_core.data.elements import normalize_symbol
from xanes_core.errors import ElementError, SpectrumError
from xanes_core.io.detect import (
    EDGE_TOLERANCE_EV,
    find_e0,
    looks_like_kev,
    match_edge,
    normalize_edge,
)
from xanes_core.io.limits import SPECTRUM_POINTS, check_count
from xanes_core.io.quote import quote

MIN_POINTS = 5
# Sorting and dropping repeated energies is safe for a few stray points; when many energies
# repeat, the file is probably several scans or not an energy scan at all.
_MAX_DUPLICATE_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One absorption spectrum as read from a file (energies in eV, increasing).

    ``warnings`` are what a person should check (a guess, a repair, a doubtful value);
    ``notes`` say what was done as a matter of routine (e.g. mu computed as ln(I0/It)), so a
    page can show them as information rather than as warnings.
    """

    energy: np.ndarray
    mu: np.ndarray
    element: str | None
    edge: str | None
    source_format: str
    name: str
    warnings: tuple[str, ...]
    is_computed: bool
    metadata: dict
    notes: tuple[str, ...] = ()


@dataclass
class ParsedSpectrum:
    """What a format parser found, before checks: arrays plus the file's own claims."""

    energy: np.ndarray
    mu: np.ndarray
    source_format: str
    name: str
    is_computed: bool
    element: str | None = None
    edge: str | None = None
    warnings: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def build_spectrum(
    parsed: ParsedSpectrum, element: str | None = None, edge: str | None = None
) -> Spectrum:
    """Check values, fix order and units, and settle element and edge.

    ``element``/``edge`` are the caller's overrides; they win over the file. An override
    that is not an element raises ElementError; a bad value in the file only warns.
    """
    warnings = list(parsed.warnings)
    energy, mu = _checked_arrays(parsed.energy, parsed.mu, parsed.name)
    if looks_like_kev(energy):
        energy = energy * 1000.0
        warnings.append("Energies look like keV; converted to eV.")
    energy, mu = _increasing(energy, mu, parsed.name, warnings)
    metadata = dict(parsed.metadata)
    e0 = find_e0(energy, mu)
    metadata["e0_estimate"] = round(e0, 2)

    symbol = normalize_symbol(element) if element else _file_element(parsed, warnings)
    edge_name = _override_edge(edge) if edge else _file_edge(parsed, warnings)
    symbol, edge_name = _infer(e0, symbol, edge_name, warnings)
    for array in (energy, mu):
        array.setflags(write=False)
    return Spectrum(
        energy=energy,
        mu=mu,
        element=symbol,
        edge=edge_name,
        source_format=parsed.source_format,
        name=parsed.name,
        warnings=tuple(warnings),
        is_computed=parsed.is_computed,
        metadata=metadata,
        notes=tuple(parsed.notes),
    )


def _checked_arrays(energy, mu, name: str) -> tuple[np.ndarray, np.ndarray]:
    energy = np.asarray(energy, dtype=np.float64).ravel()
    mu = np.asarray(mu, dtype=np.float64).ravel()
    if energy.size != mu.size:
        raise SpectrumError(f"{name}: {energy.size} energies but {mu.size} mu values.")
    check_count(energy.size, SPECTRUM_POINTS, "points", name, SpectrumError)
    if energy.size < MIN_POINTS:
        raise SpectrumError(
            f"{name}: only {energy.size} data point(s); a spectrum needs at least {MIN_POINTS}."
        )
    bad = ~(np.isfinite(energy) & np.isfinite(mu))
    if bad.any():
        raise SpectrumError(
            f"{name}: {int(bad.sum())} of {energy.size} points are NaN or infinite "
            f"(first at row {int(np.argmax(bad)) + 1})."
        )
    return energy.copy(), mu.copy()


def _increasing(energy: np.ndarray, mu: np.ndarray, name: str, warnings: list[str]):
    steps = np.diff(energy)
    if (steps > 0).all():
        return energy, mu
    if (steps < 0).all():
        warnings.append("Energies were decreasing; reversed.")
        return energy[::-1].copy(), mu[::-1].copy()
    order = np.argsort(energy, kind="stable")
    energy, mu = energy[order], mu[order]
    keep = np.concatenate(([True], np.diff(energy) > 0))
    dropped = int((~keep).sum())
    if dropped > _MAX_DUPLICATE_FRACTION * energy.size or keep.sum() < MIN_POINTS:
        raise SpectrumError(
            f"{name}: energies do not increase and {dropped} of {energy.size} repeat; "
            "this looks like several scans or not an energy scan."
        )
    warnings.append(
        f"Energies were not increasing; sorted them and dropped {dropped} repeated energies."
    )
    return energy[keep], mu[keep]


def _file_element(parsed: ParsedSpectrum, warnings: list[str]) -> str | None:
    if not parsed.element:
        return None
    try:
        return normalize_symbol(parsed.element)
    except ElementError:
        warnings.append(f"The file's element '{quote(parsed.element)}' is not an element; ignored it.")
        return None


def _file_edge(parsed: ParsedSpectrum, warnings: list[str]) -> str | None:
    if not parsed.edge:
        return None
    edge = normalize_edge(parsed.edge)
    if edge is None:
        warnings.append(f"The file's edge '{quote(parsed.edge)}' is not an absorption edge; ignored it.")
    return edge


def _override_edge(edge: str) -> str:
    canonical = normalize_edge(edge)
    if canonical is None:
        raise SpectrumError(f"'{quote(edge)}' is not an absorption edge (K, L1-L3, M1-M5, ...).")
    return canonical


def _infer(e0: float, symbol: str | None, edge: str | None, warnings: list[str]):
    """Fill what is missing from the tabulated edge nearest to E0, saying so."""
    if symbol and edge:
        return symbol, edge
    found = match_edge(e0, symbol, edge)
    if found is None:
        target = f"{symbol} edge" if symbol else "element"
        warnings.append(
            f"Could not infer the {target} from E0 = {e0:.1f} eV (no tabulated edge within "
            f"{EDGE_TOLERANCE_EV:.0f} eV); please give it."
        )
        return symbol, edge
    warnings.append(
        f"{'Edge' if symbol else 'Element and edge'} inferred from E0 = {e0:.1f} eV: "
        f"{found.element} {found.edge} edge at {found.energy:.1f} eV."
    )
    return found.element, found.edge

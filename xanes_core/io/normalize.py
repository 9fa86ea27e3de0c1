"""Prepare a Spectrum for the K-edge model: checks, then normalization, before resampling.

Choice of scale (why measured and computed spectra are treated differently):

* The model is trained on Materials Project FEFF K-edge spectra in their native scale. FEFF
  already divides mu by the atomic edge step, so those spectra start near 0 and oscillate
  around 1 above the edge. Computed spectra (FEFF, MP JSON/TSV) are therefore kept exactly as
  computed (``method = "as computed"``); renormalizing them would make uploaded theory
  differ from the training spectra of the same material.
* Measured spectra have an arbitrary scale and a sloping background (detector gains, sample
  thickness, self-absorption). They get the standard XAS normalization (``method =
  "pre-edge/post-edge"``): E0 from the derivative maximum, a line fitted below the edge is
  subtracted, and a polynomial fitted above the edge sets the edge step to 1 - larch's
  ``preedge`` (the algorithm of Athena), imported lazily because larch costs ~2 s to import.
  Above E0 the spectrum is then *flattened* (Athena's "flat": the post-edge curvature of the
  atomic background removed), because FEFF spectra carry no such background. That puts them
  on the scale and shape of the computed training spectra.

Checks raise SpectrumError/ElementError with one line: unknown element (ElementNeeded, so a
caller can ask for it), an edge other than K, an element without a model channel, an energy
range that misses the element's window.
Warnings: partial coverage of the window (below 70%), E0 far from the tabulated K edge
(15 eV for measured, 30 eV for computed spectra; see the constants for why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xanes_core.data.elements import channel_index, energy_grid, k_edge_energy
from xanes_core.errors import ElementNeeded, SpectrumError
from xanes_core.io.detect import find_e0
from xanes_core.io.spectrum import Spectrum

# Materials Project FEFF spectra, the training data, start a few eV above the tabulated edge
# and end 56-62 eV above it: they cover 72-80% of the -10..+65 eV window. Warn only below that.
MIN_COVERAGE = 0.7
# FEFF's absolute energies in MP sit 10-20 eV above the tabulated edge, so computed spectra
# get a wider tolerance before "edge mismatch" is worth a warning.
EDGE_MISMATCH_EV = 15.0
EDGE_MISMATCH_COMPUTED_EV = 30.0
# For computed spectra the edge step is not fitted; the mean mu over the top fifth of the
# range is reported instead (FEFF-normalized spectra give ~1).
_COMPUTED_STEP_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class NormalizedSpectrum:
    """A spectrum ready for resampling onto its element's grid (``mu_norm``)."""

    element: str
    energy: np.ndarray
    mu_raw: np.ndarray
    mu_norm: np.ndarray
    e0: float
    edge_step: float
    method: str
    warnings: tuple[str, ...]


def normalize_for_model(spectrum: Spectrum) -> NormalizedSpectrum:
    """Check that the K-edge model can use this spectrum, and put it on the training scale."""
    if spectrum.element is None:
        raise ElementNeeded(
            f"{spectrum.name}: element unknown: give it (the absorbing element, e.g. 'Fe')."
        )
    channel_index(spectrum.element)  # ElementError when the model has no channel for it
    warnings = list(spectrum.warnings)
    if spectrum.edge is None:
        warnings.append("Edge not known; assumed K.")
    elif spectrum.edge != "K":
        raise SpectrumError(
            f"{spectrum.name}: this is a {spectrum.element} {spectrum.edge}-edge spectrum; "
            "the model is trained on K-edge spectra only."
        )
    _check_window(spectrum, warnings)
    if spectrum.is_computed:
        mu_norm = spectrum.mu.copy()
        e0 = find_e0(spectrum.energy, spectrum.mu)
        tail = spectrum.mu[-max(1, int(_COMPUTED_STEP_FRACTION * spectrum.mu.size)) :]
        edge_step, method = float(np.mean(tail)), "as computed"
    else:
        mu_norm, e0, edge_step = _pre_post_edge(spectrum)
        method = "pre-edge/post-edge"
    tabulated = k_edge_energy(spectrum.element)
    tolerance = EDGE_MISMATCH_COMPUTED_EV if spectrum.is_computed else EDGE_MISMATCH_EV
    if abs(e0 - tabulated) > tolerance:
        warnings.append(
            f"Edge mismatch: E0 = {e0:.1f} eV is {e0 - tabulated:+.1f} eV from the tabulated "
            f"{spectrum.element} K edge ({tabulated:.1f} eV); check the element and calibration."
        )
    mu_norm.setflags(write=False)
    return NormalizedSpectrum(
        element=spectrum.element,
        energy=spectrum.energy,
        mu_raw=spectrum.mu,
        mu_norm=mu_norm,
        e0=float(e0),
        edge_step=float(edge_step),
        method=method,
        warnings=tuple(warnings),
    )


def _check_window(spectrum: Spectrum, warnings: list[str]) -> None:
    grid = energy_grid(spectrum.element)
    low, high = float(grid[0]), float(grid[-1])
    overlap = min(high, float(spectrum.energy[-1])) - max(low, float(spectrum.energy[0]))
    if overlap <= 0:
        raise SpectrumError(
            f"{spectrum.name}: energies {spectrum.energy[0]:.0f}-{spectrum.energy[-1]:.0f} eV miss "
            f"the {spectrum.element} K-edge window {low:.0f}-{high:.0f} eV."
        )
    coverage = overlap / (high - low)
    if coverage < MIN_COVERAGE:
        warnings.append(
            f"The spectrum covers only {coverage:.0%} of the {spectrum.element} K-edge window "
            f"({low:.0f}-{high:.0f} eV); the rest is extrapolated."
        )


def _pre_post_edge(spectrum: Spectrum) -> tuple[np.ndarray, float, float]:
    """larch's pre-edge/post-edge normalization, flattened above E0, with a signed edge step check."""
    from larch.xafs.pre_edge import preedge

    try:
        result = preedge(spectrum.energy, spectrum.mu)
    except (ValueError, IndexError, TypeError, np.linalg.LinAlgError) as exc:
        raise SpectrumError(f"{spectrum.name}: normalization failed ({exc}).") from None
    index = int(np.argmin(np.abs(spectrum.energy - result["e0"])))
    step = float(result["post_edge"][index] - result["pre_edge"][index])
    if not np.isfinite(step) or step <= 0 or not np.all(np.isfinite(result["norm"])):
        raise SpectrumError(
            f"{spectrum.name}: no rising absorption edge found (edge step {step:.3g}); "
            "is this mu(E)?"
        )
    e0 = float(result["e0"])
    normalized = (spectrum.mu - result["pre_edge"]) / step
    above = spectrum.energy >= e0
    background = (result["post_edge"] - result["pre_edge"] - step) / step
    normalized[above] -= background[above]
    return normalized, e0, step

"""Say when not to trust a prediction: each spectrum aligned to the run's training data, its
similarity to the nearest training spectrum of its element, and the applicability domain.

For every element of a material, with the run's training split as a
:class:`~xanes_core.analysis.matching.SpectrumLibrary` and its stored
:class:`~xanes_core.data.reference.EnergyReference`:

- **alignment**: the shift that lines the spectrum up with the training spectra (coarse
  alignment to the element's mean, refined on the nearest training spectrum); the spectrum is
  resampled at its shifted energies before the model sees it. Dataset materials are already on
  the dataset's scale and are not moved. ``align=False`` keeps every spectrum where it is.
- **similarity** to the nearest training spectrum of that element
  (:mod:`xanes_core.data.similarity`);
- **in domain**: False when an element was never seen in training, or when any similarity is
  below the element's domain threshold (the 1st percentile of the training spectra's own
  nearest-other similarity); None when it cannot be told (the run's dataset is gone).

Each finding that should change how far the probability is trusted adds a plain-words warning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from xanes_core.analysis.alignment import coarse_shift
from xanes_core.analysis.materials import ElementSpectrum
from xanes_core.analysis.matching import SpectrumLibrary
from xanes_core.data.elements import GRID_POINTS
from xanes_core.data.preprocess import GRID_STEP_EV, resample
from xanes_core.data.reference import DOMAIN_PERCENTILE, EnergyReference

# Shifts within the model's +/-1 eV training augmentation are not worth a warning.
QUIET_SHIFT_EV = 1.0


@dataclass(frozen=True, eq=False)
class DomainCheck:
    """A material's spectra as the model should see them (aligned) and what was found."""

    spectra: tuple[ElementSpectrum, ...]
    alignment: dict[str, float]
    similarity: dict[str, float | None]
    in_domain: bool | None
    warnings: tuple[str, ...]
    reasons: tuple[str, ...] = ()  # short: why in_domain is False or None (the page's note)


@dataclass(frozen=True)
class _Finding:
    entry: ElementSpectrum
    shift: float
    similarity: float | None
    inside: bool | None
    warnings: tuple[str, ...]
    reason: str = ""


def check_spectra(entries: Sequence[ElementSpectrum], reference: EnergyReference,
                  library: SpectrumLibrary | None, align: bool = True) -> DomainCheck:
    """Align every spectrum of a material and judge it against the training data (module doc)."""
    findings = [_check(entry, reference, library, align) for entry in entries]
    verdicts = [f.inside for f in findings]
    in_domain = False if False in verdicts else (None if None in verdicts else True)
    return DomainCheck(spectra=tuple(f.entry for f in findings),
                       alignment={f.entry.element: f.shift for f in findings},
                       similarity={f.entry.element: f.similarity for f in findings},
                       in_domain=in_domain,
                       warnings=tuple(w for f in findings for w in f.warnings),
                       reasons=tuple(f.reason for f in findings if f.reason))


def _check(entry: ElementSpectrum, reference: EnergyReference, library: SpectrumLibrary | None,
           align: bool) -> _Finding:
    element = entry.element
    if not reference.seen(element):
        return _Finding(entry, 0.0, None, False, (
            f"{element}: no training material has this element; the model has never seen its "
            "spectra, so treat the result with care.",), f"{element} never seen in training")
    energy, mu = _source_curve(entry)
    movable = align and entry.normalized is not None
    if library is None or not library.has(element):
        shift = coarse_shift(energy, mu, element, reference.mean_spectrum(element)) if movable else 0.0
        return _Finding(_moved(entry, shift), shift, None, None, _shift_warnings(element, shift) + (
            f"{element}: the training spectra are not available, so its similarity to them (and "
            "whether it lies inside the training data) could not be checked.",),
            f"{element}: training spectra unavailable")
    nearest = library.nearest(energy, mu, element, align=movable)
    shift = nearest.shift_ev if movable else 0.0
    threshold = reference.domain_threshold(element)
    inside = bool(nearest.similarity >= threshold)
    warnings = _shift_warnings(element, shift)
    if not inside:
        warnings += (f"{element}: its spectrum is less like any training spectrum (similarity "
                     f"{nearest.similarity:.4f} to {nearest.formula}) than {100 - DOMAIN_PERCENTILE:.0f}% "
                     f"of the training spectra are like their nearest neighbour ({threshold:.4f}): it lies "
                     "outside what the model was trained on, so do not trust the probability.",)
    reason = "" if inside else f"{element} similarity {nearest.similarity:.4f} < {threshold:.4f}"
    return _Finding(_moved(entry, shift), shift, nearest.similarity, inside, warnings, reason)


def _source_curve(entry: ElementSpectrum) -> tuple[np.ndarray, np.ndarray]:
    """The curve to align: the uploaded spectrum at its own energies, or a dataset grid spectrum."""
    if entry.normalized is not None:
        return entry.normalized.energy, entry.normalized.mu_norm
    return np.asarray(entry.energy, dtype=np.float64), np.asarray(entry.mu, dtype=np.float64)


def _moved(entry: ElementSpectrum, shift: float) -> ElementSpectrum:
    """The entry resampled on its grid after moving its energies up by ``shift``."""
    if shift == 0.0 or entry.normalized is None:
        return entry
    mu, coverage = resample(entry.normalized.energy + shift, entry.normalized.mu_norm, entry.element)
    return replace(entry, mu=mu, coverage=coverage)


def _shift_warnings(element: str, shift: float) -> tuple[str, ...]:
    if abs(shift) <= QUIET_SHIFT_EV:
        return ()
    points = abs(shift) / GRID_STEP_EV
    return (f"{element}: aligned to the training spectra by {shift:+.1f} eV ({points:.0f} of the "
            f"{GRID_POINTS} grid points): its edge sat elsewhere than theirs (calibration, or a "
            "computed spectrum's absolute energies). --no-align / the page's checkbox turns this off.",)

"""One material as the model takes it: checked, normalized spectra on their element grids,
a settled space group and the warnings collected on the way. No model is loaded here, so every
problem with a person's files, space group or CIF is reported before TensorFlow starts.

- **Arrays** ``(element, energy, mu)`` are taken as a *computed* K-edge spectrum (kept in its
  scale, like the Materials Project FEFF training spectra); pass a Spectrum read from a file
  for measured data so that it is normalized.
- A **CIF** gives the space group (pymatgen, at the Materials Project's symmetry tolerance).
- The material's **formula** (given, from the CIF, or from a Materials Project download's file
  name such as ``xas.XANES.K.Fe2O3.mp-24972.tsv``) names its elements: an element with a model
  channel but no spectrum is reported as missing (the model was trained on materials with every
  element's spectrum), and a spectrum of an element the formula lacks as a likely mix-up.
"""

from __future__ import annotations

import re
import warnings as pywarnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS, energy_grid
from xanes_core.data.preprocess import resample
from xanes_core.data.symmetry import validate_space_group
from xanes_core.errors import XanesError
from xanes_core.io import NormalizedSpectrum, Spectrum, normalize_for_model
from xanes_core.io.limits import CIF_MB, MB, check_size
from xanes_core.io.spectrum import ParsedSpectrum, build_spectrum

SpectrumInput = Spectrum | NormalizedSpectrum | tuple[str, Sequence[float], Sequence[float]]
# MP's own symmetry tolerance: the training labels' space groups come from MP structures.
CIF_SYMPREC = 0.1
# The Materials Project website's XAS download: xas.XANES.<edge>.<formula>.<material id>.<ext>
_MP_DOWNLOAD_NAME = re.compile(r"^xas\.XANES\.[A-Za-z0-9]+\.([A-Za-z0-9()]+)\.")


@dataclass(frozen=True, eq=False)
class ElementSpectrum:
    """One element's spectrum as the model sees it, before standardization.

    ``energy``/``mu``: the element's 200-point grid and the resampled spectrum, on the same
    scale as the dataset's stored spectra (plot them next to training spectra). ``normalized``
    keeps the raw and normalized curves of an uploaded file; None for a dataset sample.
    """

    element: str
    name: str
    energy: np.ndarray
    mu: np.ndarray
    coverage: float
    normalized: NormalizedSpectrum | None = None


def space_group_from_cif(cif: str | bytes | Path) -> tuple[int, str]:
    """(space group number, reduced formula) of a CIF: str/bytes are CIF text, a Path a file.

    All three are refused over the CIF size limit before pymatgen sees them. Untrusted text
    goes to pymatgen's parser, which raises many exception types on broken input; every one of
    them becomes a one-line XanesError.
    """
    from pymatgen.core import Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    if isinstance(cif, Path):
        if not cif.is_file():
            raise XanesError(f"{cif.name}: no such CIF file.")
        check_size(cif.stat().st_size, CIF_MB * MB, "CIF files", cif.name)
        cif = cif.read_bytes()
    check_size(len(cif), CIF_MB * MB, "CIF files", "The CIF")
    text = cif.decode("utf-8", errors="replace") if isinstance(cif, bytes) else cif
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            structure = Structure.from_str(text, fmt="cif")
            number = SpacegroupAnalyzer(structure, symprec=CIF_SYMPREC).get_space_group_number()
    except Exception as exc:  # noqa: BLE001 - see docstring: any parser failure is a user error
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise XanesError(f"The CIF could not be read as a crystal structure ({detail}).") from None
    return validate_space_group(number), structure.composition.reduced_formula


def _as_normalized(item: SpectrumInput) -> tuple[NormalizedSpectrum, str]:
    """A normalized spectrum and a display name from any accepted input."""
    if isinstance(item, NormalizedSpectrum):
        return item, item.element
    if isinstance(item, Spectrum):
        return normalize_for_model(item), item.name
    if isinstance(item, tuple) and len(item) == 3:
        element, energy, mu = item
        name = f"{element} arrays"
        parsed = ParsedSpectrum(energy=np.asarray(energy, dtype=np.float64),
                                mu=np.asarray(mu, dtype=np.float64), source_format="arrays",
                                name=name, is_computed=True, edge="K")
        return normalize_for_model(build_spectrum(parsed, element=str(element))), name
    raise XanesError("Each spectrum must be a Spectrum, a NormalizedSpectrum or "
                     "(element, energy, mu).")


@dataclass(frozen=True, eq=False)
class MaterialInput:
    """One material as the model takes it: checked spectra, space group, warnings so far.

    Built by :func:`prepare_material` without loading any model, so that every problem with
    the user's files, space group or CIF is reported before a run is loaded.
    """

    spectra: tuple[ElementSpectrum, ...]
    space_group: int | None
    warnings: tuple[str, ...]
    missing_elements: tuple[str, ...] = ()


def material_from_dataset(dataset: XanesDataset, index: int) -> MaterialInput:
    """A dataset material as the model sees it: its stored grid spectra and its space group.

    One definition for the Predict page, which shows a material's spectra before any run exists,
    and for :meth:`Predictor.predict_sample`, which scores the same material.
    """
    if not 0 <= index < dataset.n_samples:
        raise XanesError(f"Sample {index} is not in the dataset (0-{dataset.n_samples - 1}).")
    row = dataset.metadata.iloc[index]
    entries = tuple(
        ElementSpectrum(CHANNELS[int(dataset.channel[r])], str(row["sample_id"]),
                        dataset.grids[int(dataset.channel[r])], dataset.spectra[r], float(dataset.coverage[r]))
        for r in dataset.rows_for_samples([index]))
    return MaterialInput(entries, int(row["space_group"]), ())


def prepare_material(spectra: Sequence[SpectrumInput], space_group: int | str | None = None,
                     cif: str | bytes | Path | None = None, formula: str | None = None) -> MaterialInput:
    """Normalize and resample every spectrum, settle the space group, collect warnings and the
    elements of the material's formula that have no spectrum (see module doc).

    Refuses an empty list, an element given twice, a space group outside 1-230, a malformed
    CIF or formula and a space group given together with a CIF.
    """
    if not spectra:
        raise XanesError("Give at least one spectrum (one per absorbing element of the material).")
    if space_group is not None and cif is not None:
        raise XanesError("Give either a space group or a CIF, not both.")
    entries: list[ElementSpectrum] = []
    messages: list[str] = []
    for item in spectra:
        normalized, name = _as_normalized(item)
        mu, coverage = resample(normalized.energy, normalized.mu_norm, normalized.element)
        messages.extend(f"{name}: {text}" for text in normalized.warnings)
        entries.append(ElementSpectrum(normalized.element, name, energy_grid(normalized.element),
                                       mu, coverage, normalized))
    _check_unique(entries)
    number = validate_space_group(space_group) if space_group is not None else None
    named = [("the formula given", formula_elements(formula))] if formula else []
    if cif is not None:
        number, cif_formula = space_group_from_cif(cif)
        named.append((f"The CIF ({cif_formula})", formula_elements(cif_formula)))
    named += [(f"The file name {name}", found) for name, found in _named_in_file_names(spectra)]
    missing = _missing_elements(entries, named, messages)
    return MaterialInput(tuple(entries), number, tuple(messages), missing)


def formula_elements(formula: str) -> tuple[str, ...]:
    """The element symbols of a chemical formula; XanesError when it is not one."""
    from pymatgen.core import Composition

    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            return tuple(element.symbol for element in Composition(formula).elements)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise XanesError(f"'{formula}' is not a chemical formula.") from None


def formula_from_name(name: str) -> str | None:
    """The formula in a Materials Project download's file name (``xas.XANES.K.Fe2O3.mp-24972.tsv``)."""
    found = _MP_DOWNLOAD_NAME.match(Path(name).name)
    return found.group(1) if found else None


def _named_in_file_names(spectra: Sequence[SpectrumInput]) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for item in spectra:
        formula = formula_from_name(item.name) if isinstance(item, Spectrum) else None
        if formula:
            try:
                found.append((item.name, formula_elements(formula)))
            except XanesError:
                continue  # a file name that only looks like a download says nothing
    return found


def _missing_elements(entries: Sequence[ElementSpectrum], named: list[tuple[str, tuple[str, ...]]],
                      messages: list[str]) -> tuple[str, ...]:
    """Elements with a model channel that the first formula names and no spectrum covers; every
    formula that lacks a given spectrum's element adds a warning."""
    given = {entry.element for entry in entries}
    for source, elements in named:
        foreign = sorted(given - set(elements))
        if foreign:
            messages.append(f"{source[:1].upper()}{source[1:]} has no {', '.join(foreign)}: is it the same material?")
    if not named:
        return ()
    source, elements = named[0]
    missing = tuple(e for e in elements if e in CHANNELS and e not in given)
    if missing:
        messages.append(f"{source[:1].upper()}{source[1:]} names {', '.join(missing)} too, but no "
                        f"{', '.join(missing)} spectrum was given: the model was trained on materials with "
                        "every element's spectrum, so the probability may be off.")
    return missing


def _check_unique(entries: Sequence[ElementSpectrum]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.element in seen:
            raise XanesError(f"{entry.element} is given twice ({seen[entry.element]} and "
                             f"{entry.name}); give one spectrum per absorbing element.")
        seen[entry.element] = entry.name

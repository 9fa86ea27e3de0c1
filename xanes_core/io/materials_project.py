"""Materials Project XAS: JSON documents and the website's TSV download.

JSON comes in several shapes, all handled here: pymatgen's ``XAS.as_dict()`` (``x``/``y``,
``absorbing_element``, ``edge``), older documents with ``energies``/``mu``, API documents that
wrap the spectrum in ``spectrum``, trixs ``XAS_Spectrum`` dumps (absorber given as a site of
``structure``) and lists of any of these. The TSV download has a title line
"Absorption (K-edge) for Fe (mp-13)" and the site-averaged spectrum in its first two columns.
MP spectra are FEFF calculations, so they are marked computed.
"""

from __future__ import annotations

import json
import re

import numpy as np

from xanes_core.errors import SpectrumError
from xanes_core.io.columns import parse_row
from xanes_core.io.limits import SPECTRA_PER_FILE, check_count
from xanes_core.io.quote import quote
from xanes_core.io.source import split_lines
from xanes_core.io.spectrum import ParsedSpectrum

_TSV_TITLE = re.compile(r"Absorption \((\S+?)-edge\) for (\S+) \(([^)]*)\)")
_ARRAY_KEYS = (("x", "y"), ("energies", "mu"), ("energy", "mu"))


def parse_mp_json(text: str, name: str) -> list[ParsedSpectrum]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SpectrumError(f"{name}: not valid JSON ({str(exc)[:80]}).") from None
    items = document if isinstance(document, list) else [document]
    check_count(len(items), SPECTRA_PER_FILE, "documents", name, SpectrumError)
    spectra = [_from_document(item, name, len(items) > 1) for item in items if isinstance(item, dict)]
    spectra = [s for s in spectra if s is not None]
    if not spectra:
        keys = ", ".join(list(document)[:12]) if isinstance(document, dict) else "a list"
        raise SpectrumError(f"{name}: no XAS spectrum in this JSON document (it has {keys}).")
    return spectra


def parse_mp_tsv(text: str, name: str) -> ParsedSpectrum:
    lines = split_lines(text, name)
    title = _TSV_TITLE.match(lines[0].strip())
    if title is None:
        raise SpectrumError(f"{name}: not a Materials Project XAS download (title line).")
    rows = [parse_row(" ".join(line.split("\t", 2)[:2]), name) for line in lines[1:]]
    data = np.array([row for row in rows if row is not None and len(row) == 2], dtype=np.float64)
    if data.size == 0:
        raise SpectrumError(f"{name}: no numeric data below the title line.")
    edge, element, material = title.groups()
    return ParsedSpectrum(
        energy=data[:, 0],
        mu=data[:, 1],
        source_format="mp-tsv",
        name=name,
        is_computed=True,
        element=element,
        edge=edge,
        metadata={"material_id": material, "columns": "site-averaged E (eV), mu"},
    )


def _from_document(doc: dict, name: str, numbered: bool) -> ParsedSpectrum | None:
    inner = doc.get("spectrum")
    source = {**doc, **inner} if isinstance(inner, dict) else doc
    arrays = next(((source[x], source[y]) for x, y in _ARRAY_KEYS if x in source and y in source), None)
    if arrays is None:
        return None
    try:
        energy, mu = (np.asarray(a, dtype=np.float64) for a in arrays)
    except (TypeError, ValueError):
        raise SpectrumError(f"{name}: the spectrum arrays are not lists of numbers.") from None
    if energy.ndim != 1 or mu.ndim != 1:
        raise SpectrumError(f"{name}: the spectrum arrays are not flat lists of numbers.")
    material = next((quote(source[k]) for k in ("material_id", "task_id", "mp_id") if source.get(k)), None)
    label = f"{name} [{material}]" if numbered and material else name
    return ParsedSpectrum(
        energy=energy,
        mu=mu,
        source_format="mp-json",
        name=label,
        is_computed=True,
        element=_absorber(source),
        edge=source.get("edge") if isinstance(source.get("edge"), str) else None,
        metadata={"material_id": material} if material else {},
    )


def _absorber(doc: dict) -> str | None:
    """The absorbing element's symbol, however this document spells it."""
    for key in ("absorbing_element", "absorption_element"):
        value = doc.get(key)
        if isinstance(value, dict):
            value = value.get("element")
        if isinstance(value, str):
            return value
    site, structure = doc.get("absorbing_site"), doc.get("structure")
    if isinstance(site, int) and isinstance(structure, dict):
        try:
            return str(structure["sites"][site]["species"][0]["element"])
        except (KeyError, IndexError, TypeError):
            return None
    return None

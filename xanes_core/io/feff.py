"""FEFF ``xmu.dat``: columns omega, e, k, mu, mu0, chi; we take omega (eV) and mu.

The absorber is read from the header line ``Abs   Z= 8 ... K  shell`` when FEFF wrote it.
FEFF's mu is already normalized to the edge step (``xsedge+ 50, used to normalize mu``), the
same scale as Materials Project spectra, so it is marked computed and kept as it is.
"""

from __future__ import annotations

import re

from pymatgen.core.periodic_table import Element

from xanes_core.errors import SpectrumError
from xanes_core.io.columns import find_data_start, read_table
from xanes_core.io.source import split_lines
from xanes_core.io.spectrum import ParsedSpectrum

# Anchored at a line start (after "#"s and blanks of that line) so each line is tried once.
_ABSORBER = re.compile(r"^[# \t]*Abs[ \t]+Z=[ \t]*(\d{1,3})\b[^\n]*?\b(K|L[1-3]|M[1-5])[ \t]+shell", re.M)
_OMEGA, _MU = 0, 3


def parse_feff(text: str, name: str) -> ParsedSpectrum:
    lines = split_lines(text, name)
    table = read_table(lines, find_data_start(lines, name), name)
    if table.shape[1] < _MU + 1:
        raise SpectrumError(f"{name}: a FEFF xmu.dat needs at least 4 columns (omega e k mu).")
    element = edge = None
    found = _ABSORBER.search(text[:20000])
    if found and 1 <= int(found.group(1)) <= 118:
        element, edge = Element.from_Z(int(found.group(1))).symbol, found.group(2)
    return ParsedSpectrum(
        energy=table[:, _OMEGA],
        mu=table[:, _MU],
        source_format="feff",
        name=name,
        is_computed=True,
        element=element,
        edge=edge,
        metadata={"columns": ["omega", "e", "k", "mu", "mu0", "chi"][: table.shape[1]]},
    )

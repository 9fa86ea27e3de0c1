"""``read_spectrum`` / ``read_spectra``: one call for every supported file format.

Bytes are checked and decoded once (:mod:`.source`), the format is sniffed from content, not
from the file name (uploads arrive with arbitrary names), and each parser's result goes
through the same :func:`~xanes_core.io.spectrum.build_spectrum` checks.
"""

from __future__ import annotations

from pathlib import Path

from xanes_core.errors import SpectrumError
from xanes_core.io.athena import parse_athena, parse_athena_json
from xanes_core.io.columns import parse_columns
from xanes_core.io.detect import sniff_format
from xanes_core.io.feff import parse_feff
from xanes_core.io.limits import MB, SPECTRUM_FILE_MB
from xanes_core.io.materials_project import parse_mp_json, parse_mp_tsv
from xanes_core.io.quote import listing, quote
from xanes_core.io.source import decode_text, load_bytes
from xanes_core.io.spectrum import ParsedSpectrum, Spectrum, build_spectrum
from xanes_core.io.xdi import parse_xdi

DEFAULT_MAX_BYTES = SPECTRUM_FILE_MB * MB


def read_spectra(
    source: str | Path | bytes,
    name: str | None = None,
    *,
    element: str | None = None,
    edge: str | None = None,
    columns: tuple[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Spectrum]:
    """Every usable spectrum in a file (all mu(E) groups of an Athena project; one otherwise)."""
    return [build_spectrum(p, element, edge) for p in _parse(source, name, columns, max_bytes)]


def read_spectrum(
    source: str | Path | bytes,
    name: str | None = None,
    *,
    element: str | None = None,
    edge: str | None = None,
    columns: tuple[str, str] | None = None,
    group: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Spectrum:
    """One spectrum from a path or uploaded bytes; SpectrumError (one line) when it cannot be used.

    ``element``/``edge`` override or fill in what the file says. ``columns`` = (energy, mu)
    column names for ambiguous column files. ``group`` picks an Athena group by label or id;
    without it the first group is used and a warning names the others.
    """
    parsed = _parse(source, name, columns, max_bytes)
    chosen = _choose(parsed, group)
    if group is None and len(parsed) > 1:
        others = listing([p.name for p in parsed if p is not chosen], "in all")
        chosen.warnings.append(
            f"The file holds {len(parsed)} spectra; used '{chosen.name}' (others: {others})."
        )
    return build_spectrum(chosen, element, edge)


def _parse(source, name: str | None, columns, max_bytes: int) -> list[ParsedSpectrum]:
    raw, name = load_bytes(source, max_bytes, name)
    text = decode_text(raw, name)
    kind = sniff_format(text)
    if kind == "athena":
        return parse_athena(text, name)
    if kind == "athena-json":
        return parse_athena_json(text, name)
    if kind == "mp-json":
        return parse_mp_json(text, name)
    if kind == "mp-tsv":
        return [parse_mp_tsv(text, name)]
    if kind == "feff":
        return [parse_feff(text, name)]
    if kind == "xdi":
        return [parse_xdi(text, name, columns)]
    return [parse_columns(text, name, columns)]


def _choose(parsed: list[ParsedSpectrum], group: str | None) -> ParsedSpectrum:
    if group is None:
        return parsed[0]
    for candidate in parsed:
        if group in (candidate.name, candidate.metadata.get("group")):
            return candidate
    names = listing([p.name for p in parsed], "groups")
    raise SpectrumError(f"No group '{quote(group)}' in this file; it has: {names}.")

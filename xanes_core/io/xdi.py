"""XDI files (XAS Data Interchange, https://github.com/XraySpectroscopy/XAS-Data-Interchange).

A small reader of our own rather than larch's ``read_xdi``: that one costs a 2 s import,
fails with IndexError on non-contiguous column numbers and on units in Mono.d_spacing, and
accepts malformed headers that the XDI reference library rejects. Here the header grammar
follows the reference (``Family.key: value``; families start with a letter) so the XDI test
suite's bad files fail or warn as its BadFiles.txt says; data checks are shared with column
files. A monochromator-angle column is converted to energy when Mono.d_spacing is given.
"""

from __future__ import annotations

import re

import numpy as np

from xanes_core.errors import SpectrumError
from xanes_core.io.columns import header_labels, pick_columns, read_table
from xanes_core.io.quote import quote
from xanes_core.io.source import split_lines
from xanes_core.io.spectrum import ParsedSpectrum

_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_]+)$")
_HC_EV_ANGSTROM = 12398.419843


def parse_xdi(text: str, name: str, columns: tuple[str, str] | None) -> ParsedSpectrum:
    lines = split_lines(text, name)
    fields, header_end = _read_header(lines, name)
    start = _first_data_line(lines, header_end, name)
    table = read_table(lines, start, name)
    labels, units = _column_labels(fields, lines[:start], table.shape[1])
    table, labels, units = _angle_to_energy(table, labels, units, fields, name)
    picked = pick_columns(labels, table, columns, name, units=units)
    element, edge = fields.get("element.symbol"), fields.get("element.edge")
    return picked.measured("xdi", name, labels, element, edge, xdi=fields)


def _read_header(lines: list[str], name: str) -> tuple[dict[str, str], int]:
    """``family.key`` (lower case) -> value, and the index where the field section ends."""
    fields: dict[str, str] = {}
    for index in range(1, len(lines)):
        line = lines[index]
        if not line.startswith("#"):
            return fields, index
        content = line[1:].strip()
        if content.startswith(("///", "---")):
            return fields, index
        if not content:
            continue
        key, colon, value = content.partition(":")
        if not colon:
            raise SpectrumError(f"{name}: XDI header line {index + 1} has no ':' ('{quote(content)}').")
        if not _FIELD.match(key.strip()):
            raise SpectrumError(
                f"{name}: XDI header line {index + 1}: '{quote(key.strip())}' is not a "
                "'Family.key' name."
            )
        if not value.strip():
            raise SpectrumError(f"{name}: XDI header line {index + 1}: '{quote(key.strip())}' has no value.")
        fields[key.strip().lower()] = value.strip()
    return fields, len(lines)


def _first_data_line(lines: list[str], header_end: int, name: str) -> int:
    """XDI data start right after the last '#' line; a bad first row is an error, not header."""
    for index in range(header_end, len(lines)):
        if lines[index].strip() and not lines[index].startswith("#"):
            return index
    raise SpectrumError(f"{name}: the XDI file has a header but no data.")


def _column_labels(fields: dict[str, str], header: list[str], width: int):
    """Labels and units from Column.N fields; unnamed columns are colN (as the XDI library does)."""
    declared = {
        int(key.split(".")[1]): value.split()
        for key, value in fields.items()
        if re.fullmatch(r"column\.\d{1,4}", key)
    }
    if not declared:
        return header_labels(header, width), [None] * width
    labels = [declared[i + 1][0] if i + 1 in declared else f"col{i + 1}" for i in range(width)]
    units = [
        declared[i + 1][1] if i + 1 in declared and len(declared[i + 1]) > 1 else None
        for i in range(width)
    ]
    return labels, units


def _angle_to_energy(table: np.ndarray, labels: list[str], units: list, fields: dict, name: str):
    if labels[0].lower() != "angle" or any("energ" in label.lower() for label in labels):
        return table, labels, units
    match = re.match(r"[-+0-9.eE]+", fields.get("mono.d_spacing", ""))
    try:
        d_spacing = float(match.group(0)) if match else 0.0
    except ValueError:
        d_spacing = 0.0
    if d_spacing <= 0:
        raise SpectrumError(
            f"{name}: the first column is a monochromator angle and the file gives no valid "
            "Mono.d_spacing to turn it into energy."
        )
    with np.errstate(divide="ignore"):
        energy = _HC_EV_ANGSTROM / (2.0 * d_spacing * np.sin(np.radians(table[:, 0])))
    table = table.copy()
    table[:, 0] = energy
    return table, ["energy", *labels[1:]], ["eV", *units[1:]]

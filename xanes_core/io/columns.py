"""Plain column files, and the column logic XDI and FEFF share.

Beamline files differ in everything but one thing: a block of numeric rows. So the block is
found first (the first run of rows with the same number of values), the labels are looked
for above it, and only then are energy and mu chosen: by name where labels say it, by shape
(a monotonic column) where they do not. When that still leaves a choice, the reader refuses
and lists the columns, so a page can ask the user instead of guessing wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from xanes_core.errors import ColumnChoiceNeeded, SpectrumError
from xanes_core.io.limits import SPECTRUM_COLUMNS
from xanes_core.io.quote import listing, quote
from xanes_core.io.source import split_lines
from xanes_core.io.spectrum import ParsedSpectrum

_SPLIT = re.compile(r"[\s,;]+")
_COMMENT_CHARS = "#%!*;"
_MIN_RUN = 3

_ENERGY_NAMES = {"energy", "energie", "e", "en", "ener", "omega", "energyev", "energykev"}
_MU_NAMES = {"mu", "xmu", "mutrans", "mufluor", "mut", "muf", "mue", "absorption"}
_I0_NAMES = {"i0", "io", "imon", "monitor", "izero"}
_IT_NAMES = {"it", "itrans", "i1", "itransmission", "trans"}
_IF_NAMES = {"if", "ifluor", "ifl", "fluor", "ifluorescence"}


@dataclass(frozen=True)
class Picked:
    """Energy and mu chosen from a table, and how (for metadata and a note to the reader)."""

    energy: np.ndarray
    mu: np.ndarray
    how: str
    notes: tuple[str, ...]

    def measured(self, source_format: str, name: str, labels: list[str], element: str | None = None,
                 edge: str | None = None, **metadata) -> ParsedSpectrum:
        """A measured spectrum of these columns; ``metadata`` adds to the column labels and mu's origin."""
        return ParsedSpectrum(
            energy=self.energy, mu=self.mu, source_format=source_format, name=name, is_computed=False,
            element=element, edge=edge, notes=list(self.notes),
            metadata={"columns": labels, "mu_from": self.how, **metadata},
        )


def parse_columns(text: str, name: str, columns: tuple[str, str] | None) -> ParsedSpectrum:
    """A plain column file (.dat, .txt, .csv, .xmu) with or without a header."""
    lines = split_lines(text, name)
    start = find_data_start(lines, name)
    table = read_table(lines, start, name)
    labels = header_labels(lines[:start], table.shape[1])
    return pick_columns(labels, table, columns, name).measured("columns", name, labels)


def parse_row(line: str, name: str) -> list[float] | None:
    """The numbers on a data line, or None if any field is not a number.

    A line is split into at most :data:`SPECTRUM_COLUMNS` + 1 fields, so one huge line costs
    one split, never millions of float conversions.
    """
    fields = [f for f in _SPLIT.split(line.strip(), maxsplit=SPECTRUM_COLUMNS) if f]
    numbers = _numbers(fields[:SPECTRUM_COLUMNS])
    if numbers is not None and len(fields) > SPECTRUM_COLUMNS:
        raise SpectrumError(
            f"{name}: a line holds more than {SPECTRUM_COLUMNS:,} values, the most columns a "
            "spectrum file may have."
        )
    return numbers


def _numbers(fields: list[str]) -> list[float] | None:
    """Each field as a float (Fortran's 1.0D+03 too), or None when one is not a number."""
    if not fields:
        return None
    try:
        return [float(f.replace("D", "E").replace("d", "e")) for f in fields]
    except ValueError:
        return None


def find_data_start(lines: list[str], name: str, first: int = 0) -> int:
    """Index of the first row of the first run of >= 3 numeric rows of equal width.

    A run, not the first numeric row, because free-form headers (SSRL) hold lone numeric
    lines such as detector weights.
    """
    run_start, run_width, run_length = -1, 0, 0
    for index in range(first, len(lines)):
        line = lines[index]
        if not _is_data(line):
            continue
        row = parse_row(line, name)
        if row is not None and run_length and len(row) == run_width:
            run_length += 1
        elif row is not None:
            run_start, run_width, run_length = index, len(row), 1
        else:
            run_length = 0
        if run_length >= _MIN_RUN:
            return run_start
    raise SpectrumError(f"{name}: no block of numeric data found.")


def read_table(lines: list[str], start: int, name: str) -> np.ndarray:
    """All rows from ``start``; every row must have the same number of numeric values.

    The usual table (every field a number, every row as wide) is converted by numpy in one go;
    any other is read row by row, to name the first line at fault.
    """
    data = [index for index in range(start, len(lines)) if _is_data(lines[index])]
    table = _uniform_table([lines[index] for index in data])
    return table if table is not None else _table_row_by_row(lines, data, name)


def _is_data(line: str) -> bool:
    stripped = line.lstrip()
    return bool(stripped) and stripped[:1] not in _COMMENT_CHARS


def _uniform_table(data: list[str]) -> np.ndarray | None:
    """The lines as one array when all are equally wide and numeric (the separators and the
    Fortran exponents of :func:`parse_row`), else None."""
    block = "\n".join(data).replace(",", " ").replace(";", " ").replace("D", "E").replace("d", "e")
    rows = [line.split() for line in block.split("\n")]
    widths = {len(row) for row in rows}
    if len(widths) != 1 or not 0 < widths.pop() <= SPECTRUM_COLUMNS:
        return None
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        return None


def _table_row_by_row(lines: list[str], data: list[int], name: str) -> np.ndarray:
    rows: list[list[float]] = []
    width = 0
    for index in data:
        line = lines[index]
        row = parse_row(line, name)
        if row is None:
            raise SpectrumError(f"{name}: line {index + 1} is not numeric: '{line.strip()[:60]}'.")
        width = width or len(row)
        if len(row) != width:
            raise SpectrumError(
                f"{name}: line {index + 1} has {len(row)} values where the data have {width} columns."
            )
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def header_labels(header: list[str], width: int) -> list[str]:
    """Column labels from the header, or col1..colN when no line fits.

    Tried in order: an SSRL-style "Data:" line followed by one label per line, then the last
    header line that splits (on tabs, else whitespace/commas) into exactly ``width`` words.
    """
    stripped = [line.strip().lstrip(_COMMENT_CHARS).strip() for line in header]
    if "Data:" in stripped:
        after = [s for s in stripped[stripped.index("Data:") + 1 :] if s]
        if len(after) == width:
            return _unique(after)
    for line in reversed(stripped):
        words = line.split("\t") if "\t" in line else _SPLIT.split(line)
        words = [w.strip() for w in words if w.strip()]
        if len(words) == width and _numbers(_SPLIT.split(line)) is None:
            return _unique(words)
    return [f"col{i + 1}" for i in range(width)]


def pick_columns(
    labels: list[str],
    table: np.ndarray,
    columns: tuple[str, str] | None,
    name: str,
    units: list[str] | None = None,
) -> Picked:
    """Choose the energy column and mu (a column or ln(I0/It) or If/I0), or raise listing them."""
    if columns is not None:
        return _explicit(labels, table, columns, name)
    keys = [_key(label) for label in labels]
    energy_index = _energy_index(keys, table, units)
    if energy_index is None:
        raise ColumnChoiceNeeded(
            f"{name}: cannot tell which column is energy; columns: {listing(labels, 'columns')}. "
            "Choose the energy and mu columns.", labels,
        )
    energy = table[:, energy_index]
    others = [i for i in range(len(keys)) if i != energy_index]
    direct = [i for i in others if keys[i] in _MU_NAMES]
    if len(direct) == 1:
        return Picked(energy, table[:, direct[0]], labels[direct[0]], ())
    i0, it, i_f = (_only(keys, names) for names in (_I0_NAMES, _IT_NAMES, _IF_NAMES))
    if not direct and i0 is not None and (it is None) != (i_f is None):
        if it is not None:
            how = f"ln({labels[i0]}/{labels[it]})"
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = np.log(table[:, i0] / table[:, it])
        else:
            how = f"{labels[i_f]}/{labels[i0]}"
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = table[:, i_f] / table[:, i0]
        return Picked(energy, mu, how, (f"mu computed as {how}.",))
    if not direct and len(others) == 1:
        return Picked(energy, table[:, others[0]], labels[others[0]], ())
    raise ColumnChoiceNeeded(
        f"{name}: more than one way to get mu; columns: {listing(labels, 'columns')}. "
        "Choose the energy and mu columns.", labels,
    )


def _explicit(labels: list[str], table: np.ndarray, columns: tuple[str, str], name: str) -> Picked:
    indices = []
    for wanted in columns:
        matches = [i for i, label in enumerate(labels) if label.lower() == str(wanted).strip().lower()]
        if not matches and re.fullmatch(r"(col)?\d+", str(wanted).strip().lower()):
            number = int(str(wanted).strip().lower().removeprefix("col"))
            matches = [number - 1] if 1 <= number <= len(labels) else []
        if not matches:
            raise SpectrumError(f"{name}: no column '{quote(wanted)}'; columns: {listing(labels, 'columns')}.")
        indices.append(matches[0])
    return Picked(table[:, indices[0]], table[:, indices[1]], labels[indices[1]], ())


def _energy_index(keys: list[str], table: np.ndarray, units: list[str] | None) -> int | None:
    named = [i for i, key in enumerate(keys) if key in _ENERGY_NAMES or "energ" in key]
    named = [i for i in named if "request" not in keys[i] and "set" not in keys[i]] or named
    exact = [i for i in named if keys[i] in _ENERGY_NAMES]
    if exact or named:
        return (exact or named)[0]
    if units is not None:
        # Declared columns (XDI) are authoritative: none named or in eV means no energy scan.
        by_unit = [i for i, unit in enumerate(units) if unit and unit.lower() in ("ev", "kev")]
        return by_unit[0] if by_unit else None
    for i in range(table.shape[1]):
        steps = np.diff(table[:, i])
        if table[0, i] > 0 and (steps > 0).mean() >= 0.95:
            return i
    return None


def _only(keys: list[str], names: set[str]) -> int | None:
    found = [i for i, key in enumerate(keys) if key in names]
    return found[0] if len(found) == 1 else None


def _key(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}_{seen[label]}")
    return out

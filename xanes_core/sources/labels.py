"""Topology label catalogues read into one table.

Every reader returns the same columns (:data:`COLUMNS`) so ingestion never cares where the
labels came from:

- ``mp_id``: Materials Project id (``mp-149``) or missing (TQC gives ICSD ids only);
- ``icsd``: ICSD collection code (nullable integer), used to find the MP id when missing;
- ``formula``, ``space_group`` (nullable integer): as the catalogue states them;
- ``label``: 1 topological, 0 trivial (the paper's binary target);
- ``fine_class``: the catalogue's own class name, kept so insulators and semimetal kinds can be
  told apart later.

Class names of both catalogues map to the binary label in :data:`CLASS_LABELS`. An unknown
class is an error rather than a guess: a silently mislabelled material would poison training.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Callable

import pandas as pd

from xanes_core.errors import SourceError
from xanes_core.io.limits import CATALOGUE_MB, CATALOGUE_ROWS, MB, check_size
from xanes_core.io.quote import quote
from xanes_core.io.source import check_table_shape

COLUMNS = ("mp_id", "icsd", "formula", "space_group", "label", "fine_class")
FORMATS = ("tqc", "materiae", "csv")

#: Catalogue class name -> binary label (1 topological, 0 trivial).
CLASS_LABELS: dict[str, int] = {
    # Topological Quantum Chemistry (Vergniory et al.): LCEBR are trivial; split EBRs, no
    # linear combination, and the two enforced-semimetal kinds are topological.
    "LCEBR": 0, "NLC": 1, "SEBR": 1, "ES": 1, "ESFD": 1,
    # Materiae (with spin-orbit coupling): trivial insulators vs. topological insulators,
    # crystalline TIs and high-symmetry point / line semimetals.
    "Triv_Ins": 0, "TI": 1, "TCI": 1, "HSP_SM": 1, "HSL_SM": 1,
    # Plain names for hand-written CSVs.
    "trivial": 0, "topological": 1,
}
#: A six-row plain CSV (mp_id, formula, label) of Materials Project materials with their Materiae
#: class (with spin-orbit coupling): what the Data sources page offers as an example.
EXAMPLE_LABELS = Path(__file__).with_name("example_labels.csv")
#: Classes that say "not determined": such rows are dropped, not labelled.
UNDETERMINED = frozenset({"Unknown"})

_TQC_COLUMNS = ["formula", "icsd", "sg", "theory", "ID", "class"]
_CSV_OPTIONAL = ("mp_id", "icsd", "formula", "space_group")
_MP_ID = re.compile(r"^(mp|mvc)-\d+$")
# ICSD collection codes are below 10^7 today; the bound keeps a 50-digit "code" out of Int64.
_LARGEST_ICSD = 10**9


def read_labels(source: str | Path | bytes, format: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Read a label catalogue (``tqc``, ``materiae`` or ``csv``; guessed when ``None``).

    ``source`` is a path or an upload's bytes (``name``: the file name shown in messages).
    Raises :class:`SourceError` with one line naming the file and the problem when the file
    cannot be read, is over the size, row or column limits (checked before pandas parses it),
    its format is not recognised, or a row carries an unknown class.
    """
    text, name = _catalogue_text(source, name)
    fmt = format or guess_format(text, name)
    if fmt not in _READERS:
        raise SourceError(f"Unknown label format '{fmt}'; use one of {', '.join(FORMATS)}.")
    try:
        table = _READERS[fmt](text)
    except SourceError as exc:
        raise SourceError(f"{name}: {exc}") from None
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise SourceError(f"{name} is not a readable {fmt} label file ({quote(exc)}).") from None
    if table.empty:
        raise SourceError(f"{name} holds no labelled materials.")
    return table


def guess_format(text: str, name: str | None = None) -> str:
    """Tell the format from the first line: Materiae's header, TQC's semicolons, or a CSV."""
    first = text.lstrip().split("\n", 1)[0].strip().lower()
    header = {cell.strip() for cell in first.split(",")}
    if "soc_topo_class" in header:
        return "materiae"
    if ";" in first:
        return "tqc"
    if "label" in header and header & {"mp_id", "icsd"}:
        return "csv"
    raise SourceError(
        f"{name or 'The label file'}: cannot tell the catalogue format from its first line; "
        f"pass format= one of {', '.join(FORMATS)}."
    )


def _catalogue_text(source: str | Path | bytes, name: str | None) -> tuple[str, str]:
    """The catalogue as text and its display name, refused over the size, line or field limits
    before pandas sees it (a row also costs microseconds in the cleaning)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "catalogue"
        raw = bytes(source)
        check_size(len(raw), CATALOGUE_MB * MB, "label catalogues", name, SourceError)
    else:
        path = Path(source)
        name = name or path.name
        try:
            check_size(path.stat().st_size, CATALOGUE_MB * MB, "label catalogues", name, SourceError)
            raw = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"Cannot read label file {path}: {exc.__class__.__name__}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{name}: not a UTF-8 text file.") from None
    check_table_shape(text, name, CATALOGUE_ROWS, SourceError)
    return text, name


def _read_tqc(text: str) -> pd.DataFrame:
    """TQC export ``formula;icsd;sg;theory;ID;class`` (header optional).

    A material may be listed with and without spin-orbit coupling; the SOC row wins, as the
    paper's labels were computed with SOC.
    """
    has_header = text.lstrip().lower().startswith("formula;")
    raw = pd.read_csv(
        io.StringIO(text), sep=";", header=0 if has_header else None, dtype=str,
        skipinitialspace=True,
    )
    if raw.shape[1] != len(_TQC_COLUMNS):
        raise SourceError(f"TQC rows need {len(_TQC_COLUMNS)} fields ({';'.join(_TQC_COLUMNS)}).")
    raw.columns = _TQC_COLUMNS
    raw["is_soc"] = raw["theory"].fillna("").str.upper().str.replace("-", "") == "SOC"
    raw = raw.sort_values("is_soc", ascending=False, kind="stable")
    return _finish(pd.DataFrame({
        "mp_id": None, "icsd": raw["icsd"], "formula": raw["formula"],
        "space_group": raw["sg"], "fine_class": raw["class"],
    }))


def _read_materiae(text: str) -> pd.DataFrame:
    """Materiae export; the SOC class (``soc_topo_class``) is the label, ``Unknown`` dropped."""
    raw = pd.read_csv(io.StringIO(text), dtype=str)
    icsd = raw["icsd_ids"].fillna("").str.extract(r"(\d+)", expand=False)
    return _finish(pd.DataFrame({
        "mp_id": raw["mp_id"], "icsd": icsd, "formula": raw["formula"],
        "space_group": raw["spacegroup"], "fine_class": raw["soc_topo_class"],
    }))


def _read_csv(text: str) -> pd.DataFrame:
    """Plain CSV: ``mp_id`` and/or ``icsd`` plus ``label`` (0/1 or a class name)."""
    raw = pd.read_csv(io.StringIO(text), dtype=str)
    raw.columns = [c.strip().lower() for c in raw.columns]
    raw = raw.reindex(columns=list(dict.fromkeys([*raw.columns, *_CSV_OPTIONAL])))
    given = raw["label"].fillna("").str.strip()
    numeric = given.isin(["0", "1"])
    fine = given.where(~numeric, given.map({"0": "trivial", "1": "topological"}))
    return _finish(pd.DataFrame({
        "mp_id": raw["mp_id"], "icsd": raw["icsd"], "formula": raw["formula"],
        "space_group": raw["space_group"], "fine_class": fine,
    }))


_READERS: dict[str, Callable[[str], pd.DataFrame]] = {
    "tqc": _read_tqc, "materiae": _read_materiae, "csv": _read_csv,
}


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    """Shared cleaning: types, class -> label, drop undetermined rows and duplicates."""
    table = table.reset_index(drop=True)
    table["fine_class"] = table["fine_class"].fillna("").astype(str).str.strip()
    table = table[~table["fine_class"].isin(UNDETERMINED)]
    unknown = sorted(set(table["fine_class"]) - set(CLASS_LABELS))
    if unknown:
        shown = ", ".join(repr(quote(c)) for c in unknown[:5])
        raise SourceError(f"unknown topology class {shown}; known: {', '.join(CLASS_LABELS)}.")
    mp_id = _optional_text(table["mp_id"])
    bad_ids = mp_id.dropna()[~mp_id.dropna().str.match(_MP_ID)]
    if len(bad_ids):
        raise SourceError(f"'{quote(bad_ids.iloc[0])}' is not a Materials Project id (like mp-149).")
    out = pd.DataFrame({
        "mp_id": mp_id,
        "icsd": _integers(table["icsd"], "ICSD id", _LARGEST_ICSD),
        "formula": _optional_text(table["formula"]),
        "space_group": _integers(table["space_group"], "space group", 230),
        "label": table["fine_class"].map(CLASS_LABELS).astype("int8"),
        "fine_class": table["fine_class"],
    })
    if (out["mp_id"].isna() & out["icsd"].isna()).any():
        raise SourceError("every row needs an mp_id or an ICSD id.")
    key = out["mp_id"].where(out["mp_id"].notna(), "icsd-" + out["icsd"].astype("string"))
    return out[~key.duplicated()].reset_index(drop=True)[list(COLUMNS)]


def _optional_text(values: pd.Series) -> pd.Series:
    """Stripped strings with ``None`` (not NaN or ``pd.NA``) where the catalogue is blank."""
    cleaned = values.astype("string").str.strip().replace("", pd.NA)
    return cleaned.astype(object).where(cleaned.notna(), None)


def _integers(values: pd.Series, what: str, largest: int) -> pd.Series:
    """Nullable integers in 1..largest; anything else is an error naming the value."""
    cleaned = values.astype("string").str.strip().replace("", pd.NA)
    numbers = pd.to_numeric(cleaned, errors="coerce")
    valid = numbers.between(1, largest) & (numbers % 1 == 0)
    bad = cleaned.notna() & ~valid.fillna(False).astype(bool)
    if bad.any():
        raise SourceError(f"'{quote(cleaned[bad].iloc[0])}' is not a valid {what}.")
    return numbers.astype("Int64")

"""Pathological ~5 MB inputs for every reader, and same-size normal files to compare them with.

Shared by tests/io/test_pathological.py (each must finish or refuse in one line, in bounded
CPU time) and bench/bench_io.py (their parse time against a normal file of the same size).
Inputs are built on demand, so a run holds one at a time.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Callable

import numpy as np

from xanes_core.errors import XanesError
from xanes_core.io import read_spectra
from xanes_core.io.limits import MB, SPECTRUM_FILE_MB
from xanes_core.sources.labels import read_labels
from xanes_core.sources.local_files import read_manifest

SIZE = 5 * MB
ATHENA = "# Athena project file -- Athena version 0.8.023\n"
XDI = "# XDI/1.0\n# Element.symbol: Cu\n# Element.edge: K\n# Column.1: energy eV\n# Column.2: mutrans\n"
FEFF = "# # Abs   Z= 8 Rmt= 0.974 Rnm= 1.049 K  shell\n# FEFF 9.6\n#  omega    e    k    mu    mu0     chi\n"
TSV = "Absorption (K-edge) for Fe (mp-13)\n"


@dataclass(frozen=True)
class Case:
    """One input: what it is, the format it must be sniffed as (None: not checked), which reader."""

    id: str
    fmt: str | None
    reader: str  # "spectrum" (read_spectra), "catalogue" (read_labels) or "manifest" (read_manifest)
    build: Callable[[], bytes]


def fill(unit: str, before: str = "", after: str = "") -> bytes:
    """``before`` + ``unit`` repeated to make SIZE bytes in all + ``after``."""
    repeats = (SIZE - len(before) - len(after)) // len(unit)
    return (before + unit * repeats + after).encode()


@dataclass(frozen=True)
class Outcome:
    """How a reader answered: refused or not, and every line it gives a person (error, or names and warnings)."""

    refused: bool
    lines: tuple[str, ...]


def read(case: Case, raw: bytes) -> Outcome:
    """Run the case's reader on ``raw``."""
    try:
        if case.reader == "catalogue":
            read_labels(raw, name="catalogue.csv")
            return Outcome(False, ())
        if case.reader == "manifest":
            read_manifest(raw, "manifest.csv")
            return Outcome(False, ())
        spectra = read_spectra(raw, "upload.dat")
    except XanesError as exc:
        return Outcome(True, (str(exc),))
    return Outcome(False, tuple(line for s in spectra for line in (s.name, *s.warnings)))


def _gzip_bomb() -> bytes:
    """Concatenated gzip members, each 40 MB of zeros: ~5 MB that would expand to ~5 GB."""
    member = gzip.compress(bytes(2 * SPECTRUM_FILE_MB * MB), compresslevel=9)
    return member * (SIZE // len(member))


def _many_materials() -> bytes:
    """A 5 MB catalogue of distinct materials: every row reaches pandas and the cleaning."""
    rows = [f"mp-{i},Bi2Se3,{i % 2}\n" for i in range(SIZE // 19)]
    text = "mp_id,formula,label\n" + "".join(rows)
    return text[: text.rindex("\n", 0, SIZE) + 1].encode()


CASES = [
    # Athena Perl dump: lines are statements, values Perl literals.
    Case("athena: whitespace inside one statement (the old regex was quadratic)", "athena", "spectrum",
         lambda: fill(" ", ATHENA + "@x = ('1'", "'2');\n@y = ('1','2');\n")),
    Case("athena: one list of a million numbers", "athena", "spectrum",
         lambda: fill("'1',", ATHENA + "@x = (", ");\n")),
    Case("athena: brackets nested five million deep", "athena", "spectrum", lambda: fill("(", ATHENA + "@x = ")),
    Case("athena: half a million tiny lines", "athena", "spectrum", lambda: fill("[record]\n", ATHENA)),
    Case("athena: a quoted string that never ends", "athena", "spectrum", lambda: fill("a", ATHENA + "@x = ('")),
    Case("athena: millions of escapes in one string", "athena", "spectrum",
         lambda: fill("\\a", ATHENA + "@args = ('", "');\n")),
    # Athena JSON
    Case("athena json: brackets nested five million deep", "athena-json", "spectrum",
         lambda: fill("[", '{"_____order": ')),
    Case("athena json: one array of two million numbers", "athena-json", "spectrum",
         lambda: fill("1,", '{"_____order": ["g"], "g": {"x": [', '1], "y": [1]}}')),
    Case("athena json: five million line breaks", "athena-json", "spectrum",
         lambda: fill("\n", '{"_____order": ["g"],', '"g": {}}')),
    Case("athena json: one group listed a million times", "athena-json", "spectrum",
         lambda: fill('"g",', '{"g": {"x": [' + ",".join(str(7000 + i) for i in range(100)) + '], "y": ['
                      + ",".join(["1"] * 100) + ']}, "_____order": [', '"g"]}')),
    # Column files
    Case("columns: one line of two million numbers", "columns", "spectrum", lambda: fill("1 ")),
    Case("columns: two million tiny lines", "columns", "spectrum", lambda: fill("1\n")),
    Case("columns: three rows, each 800,000 columns wide", "columns", "spectrum",
         lambda: (("1 " * (SIZE // 6) + "\n") * 3).encode()),
    Case("columns: two million lines of words", "columns", "spectrum", lambda: fill("a\n")),
    Case("columns: 187,000 rows, just under the line limit", "columns", "spectrum",
         lambda: fill("1.5 2.5 3.5 4.5 5.5 6.5 7.5\n")),
    Case("columns: 2,600 rows of 1,000 values, the widest allowed", "columns", "spectrum",
         lambda: fill("1 " * 999 + "1\n")),
    # XDI
    Case("xdi: one header line of 5 MB", "xdi", "spectrum", lambda: fill("x", XDI + "# Foo.bar: ", "\n#---\n1 2\n")),
    Case("xdi: an element name of 5 MB (quoted in a warning)", "xdi", "spectrum",
         lambda: fill("X", "# XDI/1.0\n# Column.1: energy eV\n# Column.2: mu\n# Element.symbol: ",
                      "\n#---\n8970 0.1\n8975 0.2\n8980 0.9\n8985 1.0\n8990 1.0\n")),
    Case("xdi: a column number of five million digits", "xdi", "spectrum",
         lambda: fill("9", XDI + "# Column.", ": energy\n#---\n1 2\n2 3\n3 4\n4 5\n5 6\n")),
    Case("xdi: a million data lines", "xdi", "spectrum", lambda: fill("1 2\n", XDI + "#---\n")),
    # FEFF xmu.dat
    Case("feff: a header line of repeated absorber records", "feff", "spectrum",
         lambda: fill("Abs Z= 8 ", FEFF + "# ", "\n" + "1 2 3 4 5 6\n" * 10)),
    Case("feff: an absorber number of ten thousand digits", "feff", "spectrum",
         lambda: fill("x", "# FEFF\n# Abs Z= " + "9" * 10000 + " K shell\n#  omega e k mu\n#",
                      "\n" + "1 2 3 4 5 6\n" * 10)),
    Case("feff: half a million data lines", "feff", "spectrum", lambda: fill("1 2 3 4\n", FEFF)),
    # Materials Project JSON and TSV
    Case("mp json: brackets nested five million deep", "mp-json", "spectrum", lambda: fill("[")),
    Case("mp json: a million empty documents", "mp-json", "spectrum", lambda: fill("{},", "[", "{}]")),
    Case("mp json: a number of five million digits", "mp-json", "spectrum", lambda: fill("1", '{"x": [', '], "y": [1]}')),
    Case("mp tsv: one line of five million tabs", "mp-tsv", "spectrum", lambda: fill("\t", TSV)),
    Case("mp tsv: a million tiny lines", "mp-tsv", "spectrum", lambda: fill("1\t2\n", TSV)),
    # gzip
    Case("gzip: a bomb that expands past the spectrum file limit", None, "spectrum", _gzip_bomb),
    # Label catalogues
    Case("catalogue: a header of two million columns (pandas renames them in quadratic time)", None,
         "catalogue", lambda: fill("c,", "mp_id,label,", "\n")),
    Case("catalogue: a TQC line of five million fields", None, "catalogue", lambda: fill(";")),
    Case("catalogue: one quoted field of 5 MB", None, "catalogue", lambda: fill("x", 'mp_id,label\nmp-1,"', '"\n')),
    Case("catalogue: a Materiae row of two million fields (pandas takes minutes)", None, "catalogue",
         lambda: fill(",x", "materiae_id,formula,spacegroup,mp_id,icsd_ids,soc_topo_class\nM1,Bi2Se3,166,mp-541837,[1],TI",
                      "\n")),
    Case("catalogue: five million empty lines", None, "catalogue", lambda: fill("\n", "mp_id,label\n")),
    Case("catalogue: seven hundred thousand rows", None, "catalogue", lambda: fill("mp-1,1\n", "mp_id,label\n")),
    Case("catalogue: 270,000 distinct materials, just under the row limit", None, "catalogue",
         lambda: _many_materials()),
    # Manifests of local spectrum files (build-dataset, predict-batch)
    Case("manifest: a header of two million columns", None, "manifest",
         lambda: fill("c,", "material_id,formula,space_group,label,element,file,", "\n")),
    Case("manifest: a row of two million fields", None, "manifest",
         lambda: fill(",x", "material_id,formula,space_group,label,element,file\nm1,Cu,225,0,Cu,cu.dat", "\n")),
    Case("manifest: a million tiny lines", None, "manifest", lambda: fill("\n", "material_id,formula,space_group,label,element,file\n")),
]


def normal_columns() -> bytes:
    """A well-formed 5 MB column file: a fluorescence scan over the Cu K edge, 8 detector ROIs."""
    rows = SIZE // 121
    energy = np.linspace(8800.0, 9800.0, rows)
    edge = 1.0 / (1.0 + np.exp(-(energy - 8979.0) / 2.0))
    table = np.column_stack([energy, np.full(rows, 1e5)] + [1e5 * (0.1 + edge * (1 + 0.01 * k)) for k in range(9)])
    header = "# energy i0 ifluor " + " ".join(f"roi{k}" for k in range(1, 9)) + "\n"
    return (header + "\n".join(" ".join(f"{v:.4f}".rjust(10) for v in row) for row in table) + "\n").encode()


def normal_athena() -> bytes:
    """A well-formed 5 MB Athena project: about 110 groups of 2,000 points each."""
    energy = np.linspace(8800.0, 9800.0, 2000)
    mu = 1.0 / (1.0 + np.exp(-(energy - 8979.0) / 2.0))
    x = "@x = (" + ",".join(f"'{e:.4f}'" for e in energy) + ");\n"
    y = "@y = (" + ",".join(f"'{m:.6f}'" for m in mu) + ");\n"
    groups = [f"$old_group = 'g{i}';\n@args = ('label','scan {i}','bkg_z','Cu','fft_edge','K');\n{x}{y}[record]\n"
              for i in range(SIZE // (len(x) + len(y) + 90))]
    return (ATHENA + "".join(groups)).encode()

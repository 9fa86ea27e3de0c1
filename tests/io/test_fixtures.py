"""Every real file in ../shared/fixtures/spectra is a test case (see its SOURCES.md).

Files that say their element and edge must parse to them; files that do not get them from
the edge energy (with a warning); the XDI test suite's bad files fail or warn as its
BadFiles.txt says.
"""

from __future__ import annotations

import pytest

from xanes_core.errors import SpectrumError, XanesError
from xanes_core.io import read_spectra, read_spectrum

# path, format, element, edge, whether element/edge are inferred (a warning says so)
READABLE = [
    ("athena/Cd.prj", "athena", "Cd", "K", False),
    ("athena/Ce.prj", "athena", "Ce", "L3", False),
    ("athena/Fe.prj", "athena", "Fe", "K", False),
    ("athena/FeO.prj", "athena", "Fe", "K", False),
    ("athena/NiO.prj", "athena", "Ni", "K", False),
    ("athena/cu.prj", "athena", "Cu", "K", False),
    ("athena/danger.prj", "athena", "Fe", "K", False),
    ("athena/json_unzipped.prj", "athena", "Fe", "K", False),
    ("columns/APS13ID_2019.dat", "xdi", "Mn", "K", True),
    ("columns/NSLS6BM_2019.dat", "xdi", "V", "K", False),
    ("columns/SSRL1_2006.dat", "columns", "Ag", "K", True),
    ("columns/cu.xmu", "columns", "Cu", "K", True),
    ("columns/fe2o3_rt1.xmu", "columns", "Fe", "K", True),
    ("columns/feo_xafs.dat", "columns", "Fe", "K", True),
    ("columns/sample_spectrum_a.txt", "columns", "Co", "K", True),
    ("feff/xmu.dat", "feff", "O", "K", False),
    ("mp/LiCoO2_k_xanes.json", "mp-json", "Co", "K", False),
    ("mp/sample_spectrum_c.txt", "mp-json", "Mn", "K", False),
    ("mp/xas.XANES.K.Fe.mp-13.tsv", "mp-tsv", "Fe", "K", False),
    ("xdi/cu_metal_rt.xdi", "xdi", "Cu", "K", False),
    ("xdi/fe2o3_rt.xdi", "xdi", "Fe", "K", False),
    ("xdi/feo_rt1.xdi", "xdi", "Fe", "K", False),
    ("xdi/pt_metal_rt.xdi", "xdi", "Pt", "L3", False),
    ("xdi/se_na2so4_rt.xdi", "xdi", "Se", "K", False),
    ("xdi/zn_znse_rt.xdi", "xdi", "Zn", "K", False),
]

UNREADABLE = [
    ("columns/generic_columns_no_header.dat", "Choose the energy and mu columns"),
    ("mp/mp-30_Cu.json", "no XAS spectrum"),
    ("xdi/nonxafs_1d.xdi", "which column is energy"),
    ("xdi/nonxafs_negvalues.xdi", "which column is energy"),
]

# BadFiles.txt: "file read" -> reads (warning where it says (1) and the problem touches us);
# "error msg" -> SpectrumError. bad_12 "reads" in the XDI library but has no energy axis
# (angle without d-spacing), which a spectrum reader cannot use: it fails with that reason.
XDI_BAD_READ = {
    "bad_00": ("Cu", "K", None),
    "bad_02": ("Cu", None, "Could not infer the Cu edge"),  # no Element.edge; data are pre-edge only
    "bad_04": ("Cu", None, "edge 'Foo' is not an absorption edge"),
    "bad_06": ("Cu", "K", None),
    "bad_08": ("Cu", "K", "ln(i0/itrans)"),  # unlabelled 4th column -> computed from i0/itrans
    "bad_10": ("Cu", "K", "ln(i0/itrans)"),
    "bad_26": ("Cu", "K", None),
    "bad_28": ("Cu", "K", None),
    "bad_30": (None, None, "element 'Foo' is not an element"),
    "bad_32": ("Cu", "K", None),
    "bad_34": ("Cu", "K", None),
}
XDI_BAD_ERROR = {
    "bad_12": "monochromator angle",
    "bad_14": "has 6 values where the data have 4 columns",
    "bad_16": "line 30 is not numeric",
    "bad_18": "has no value",
    "bad_20": "is not a 'Family.key' name",
    "bad_22": "is not a 'Family.key' name",
    "bad_24": "is not a 'Family.key' name",
}


@pytest.mark.parametrize(("path", "fmt", "element", "edge", "inferred"), READABLE)
def test_fixture_reads_to_element_and_edge(fixtures_dir, path, fmt, element, edge, inferred):
    spectrum = read_spectrum(fixtures_dir / "spectra" / path)
    assert (spectrum.source_format, spectrum.element, spectrum.edge) == (fmt, element, edge)
    assert spectrum.energy.dtype == spectrum.mu.dtype == float
    assert (spectrum.energy[1:] > spectrum.energy[:-1]).all()
    assert any("inferred" in w for w in spectrum.warnings) == inferred
    assert spectrum.is_computed == (fmt in ("feff", "mp-json", "mp-tsv"))


@pytest.mark.parametrize(("path", "message"), UNREADABLE)
def test_fixture_fails_with_reason(fixtures_dir, path, message):
    with pytest.raises(SpectrumError, match=message):
        read_spectrum(fixtures_dir / "spectra" / path)


def test_every_fixture_file_is_covered(fixtures_dir):
    spectra = fixtures_dir / "spectra"
    listed = {p for p, *_ in READABLE} | {p for p, _ in UNREADABLE}
    listed |= {f"xdi_bad/{n}.xdi" for n in (*XDI_BAD_READ, *XDI_BAD_ERROR)}
    present = {str(p.relative_to(spectra)) for p in spectra.rglob("*") if p.is_file()}
    assert present - {"xdi_bad/BadFiles.txt"} == listed


@pytest.mark.parametrize("stem", sorted(XDI_BAD_READ))
def test_xdi_bad_files_that_read(fixtures_dir, stem):
    element, edge, warning = XDI_BAD_READ[stem]
    spectrum = read_spectrum(fixtures_dir / "spectra" / "xdi_bad" / f"{stem}.xdi")
    assert (spectrum.element, spectrum.edge) == (element, edge)
    if warning:  # mu from ln(I0/It) is routine: a note, not a warning
        messages = spectrum.notes if warning.startswith("ln(") else spectrum.warnings
        assert any(warning in w for w in messages), (spectrum.warnings, spectrum.notes)
        assert not any("computed as" in w for w in spectrum.warnings)


@pytest.mark.parametrize("stem", sorted(XDI_BAD_ERROR))
def test_xdi_bad_files_that_fail(fixtures_dir, stem):
    with pytest.raises(SpectrumError, match=XDI_BAD_ERROR[stem]) as caught:
        read_spectrum(fixtures_dir / "spectra" / "xdi_bad" / f"{stem}.xdi")
    assert "\n" not in str(caught.value)


def test_athena_projects_give_every_group(fixtures_dir):
    athena = fixtures_dir / "spectra" / "athena"
    counts = {p.name: len(read_spectra(p)) for p in athena.glob("*.prj")}
    assert counts == {
        "Cd.prj": 11, "Ce.prj": 1, "Fe.prj": 5, "FeO.prj": 1, "NiO.prj": 24,
        "cu.prj": 3, "danger.prj": 1, "json_unzipped.prj": 4,
    }


def test_athena_group_selection(fixtures_dir):
    path = fixtures_dir / "spectra" / "athena" / "Fe.prj"
    first = read_spectrum(path)
    assert first.name == "Fe foil" and any("holds 5 spectra" in w for w in first.warnings)
    hematite = read_spectrum(path, group="Hematite")
    assert hematite.name == "Hematite" and hematite.metadata["group"]
    with pytest.raises(SpectrumError, match="No group 'Nope'.*Hematite"):
        read_spectrum(path, group="Nope")


def test_gzipped_and_plain_bytes_read_alike(fixtures_dir):
    import gzip

    raw = (fixtures_dir / "spectra" / "athena" / "danger.prj").read_bytes()
    plain, zipped = read_spectrum(raw, "a.prj"), read_spectrum(gzip.compress(raw), "a.prj.gz")
    assert (plain.energy == zipped.energy).all() and (plain.mu == zipped.mu).all()


def test_explicit_columns_resolve_ambiguity(fixtures_dir):
    path = fixtures_dir / "spectra" / "columns" / "generic_columns_no_header.dat"
    spectrum = read_spectrum(path, columns=("col1", "col4"))
    assert spectrum.element == "Ge" and spectrum.edge == "K"
    assert spectrum.metadata["mu_from"] == "col4"


@pytest.mark.parametrize("path", [p for p, *_ in READABLE])
def test_no_reader_error_escapes_the_family(fixtures_dir, path):
    """Reading the same bytes with a wrong override fails as a XanesError, never otherwise."""
    raw = (fixtures_dir / "spectra" / path).read_bytes()
    with pytest.raises(XanesError):
        read_spectrum(raw, path, element="Xx")

"""Upload limits live in xanes_core.io.limits; Streamlit's config and every reader agree with them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from xanes_core.analysis.materials import space_group_from_cif
from xanes_core.errors import SourceError, XanesError
from xanes_core.io import limits
from xanes_core.io.limits import CATALOGUE_MB, CIF_MB, MANIFEST_MB, MB, SPECTRUM_FILE_MB
from xanes_core.io.uploads import read_upload
from xanes_core.sources.labels import read_labels
from xanes_core.sources.local_files import read_manifest

STREAMLIT_CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
CU_CIF = """data_Cu
_symmetry_space_group_name_H-M 'P 1'
_cell_length_a 3.61
_cell_length_b 3.61
_cell_length_c 3.61
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_Int_Tables_number 1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Cu1 Cu 0 0 0 1
Cu2 Cu 0 0.5 0.5 1
Cu3 Cu 0.5 0 0.5 1
Cu4 Cu 0.5 0.5 0 1
"""


def padded(text: str, size: int) -> str:
    """``text`` grown to ``size`` characters with a comment line, still valid for its reader."""
    return text + "#" + " " * (size - len(text) - 2) + "\n"


def catalogue(size: int) -> str:
    """A one-material CSV catalogue of ``size`` characters (a long note column)."""
    head = "mp_id,label,note\nmp-149,0,"
    return head + "x" * (size - len(head) - 1) + "\n"


def test_streamlit_max_upload_size_is_the_largest_limit() -> None:
    config = tomllib.loads(STREAMLIT_CONFIG.read_text())
    unpacked = ("ZIP_EXPANDED_MB", "ZIP_MEMBER_MB")  # what comes out of a zip is not uploaded
    uploads = {name: value for name, value in vars(limits).items() if name.endswith("_MB") and name not in unpacked}
    assert config["server"]["maxUploadSize"] == limits.LARGEST_UPLOAD_MB == max(uploads.values())


@pytest.mark.parametrize("kind", [str, bytes, Path])
def test_cif_over_the_limit_is_refused_in_every_form(kind, tmp_path: Path) -> None:
    assert space_group_from_cif(CU_CIF)[0] == 225
    big = padded(CU_CIF, CIF_MB * MB + 1)
    if kind is Path:
        source = tmp_path / "big.cif"
        source.write_text(big)
    else:
        source = big if kind is str else big.encode()
    with pytest.raises(XanesError, match=f"over the {CIF_MB} MB limit for CIF files"):
        space_group_from_cif(source)
    assert space_group_from_cif(padded(CU_CIF, CIF_MB * MB))[0] == 225  # at the limit: read


@pytest.mark.parametrize("as_path", [False, True])
def test_catalogue_over_the_limit_is_refused(as_path: bool, tmp_path: Path) -> None:
    text = catalogue(CATALOGUE_MB * MB + 1)
    source: Path | bytes = text.encode()
    if as_path:
        source = tmp_path / "big.csv"
        source.write_text(text)
    with pytest.raises(SourceError, match=f"big.csv: 10.0 MB is over the {CATALOGUE_MB} MB limit"):
        read_labels(source, name="big.csv")
    assert len(read_labels(catalogue(CATALOGUE_MB * MB).encode())) == 1


def test_spectrum_upload_over_the_limit_says_so(fixtures_dir: Path) -> None:
    raw = (fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi").read_text()
    result = read_upload(padded(raw, SPECTRUM_FILE_MB * MB + 1).encode(), "cu.xdi")
    assert result.error == f"cu.xdi: 20.0 MB is over the {SPECTRUM_FILE_MB} MB limit for spectrum files."
    assert read_upload(padded(raw, SPECTRUM_FILE_MB * MB).encode(), "cu.xdi").usable


def test_manifest_over_the_limit_is_refused() -> None:
    head = "material_id,formula,space_group,label,element,file\nm1,Cu,225,0,Cu,cu.dat"
    with pytest.raises(SourceError, match=f"Manifest big.csv: 50.0 MB is over the {MANIFEST_MB} MB limit for manifests"):
        read_manifest((head + " " * (MANIFEST_MB * MB - len(head)) + "\n").encode(), "big.csv")
    assert len(read_manifest((head + "\n").encode(), "small.csv")) == 1

"""Predict page, input side: uploaded spectrum files with their per-file questions, space group or CIF.

Each file is read with the answers given so far (:func:`xanes_core.io.uploads.read_upload`);
the widgets for a question appear only when the reader could not tell (element, edge, energy/mu
columns, Athena group), and their values feed the next read. A file that cannot be used is one
``st.error`` line; the other files and the page go on.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from pages import common
from xanes_core.analysis.materials import space_group_from_cif
from xanes_core.data.elements import CHANNELS
from xanes_core.data.symmetry import symmetry_info
from xanes_core.io import Spectrum
from xanes_core.io.limits import CIF_MB, SPECTRUM_FILE_MB
from xanes_core.io.uploads import EDGES, Choices, UploadResult, read_upload

FORMATS = ("XDI (.xdi), Athena projects (.prj), column text (.dat, .txt, .csv, .xmu), FEFF xmu.dat, "
           "Materials Project XAS (.json, .tsv)")
SYMMETRY_SOURCES = ("Space group number", "CIF file", "Not given")
BATCH_NOTE = ("The manifest is a CSV with one row per spectrum: `material_id, formula, space_group, label, element, file` "
              "(`label` is ignored; `file` is the file's path inside the zip), uploaded here or as `manifest.csv` at the "
              "zip's top level, as for building a dataset on the Data sources page. A symmetry run needs each material's "
              "space group. A file that cannot be read fails its material, not the batch.")


@st.cache_data(show_spinner="Reading the file…", max_entries=64)
def _read(raw: bytes, name: str, element: str | None, edge: str | None,
          columns: tuple[str, str] | None, group: str | None) -> UploadResult:
    return read_upload(raw, name, Choices(element, edge, columns, group))


@st.cache_data(show_spinner="Finding the space group in the CIF…", max_entries=16)
def _cif_group(raw: bytes) -> tuple[int, str]:
    return space_group_from_cif(raw)


def _choices(key: str) -> Choices:
    """The answers already given for one file (widget values kept in session state)."""
    state = st.session_state
    energy, mu = state.get(f"{key}-energy"), state.get(f"{key}-mu")
    return Choices(element=state.get(f"{key}-element"), edge=state.get(f"{key}-edge"),
                   columns=(energy, mu) if energy and mu else None, group=state.get(f"{key}-group"))


def _questions(result: UploadResult, key: str) -> None:
    """The widgets for what the reader could not tell; their values are read on the next run."""
    if result.groups:
        labels = dict(result.groups)
        st.selectbox("Spectrum in this Athena project", list(labels), key=f"{key}-group",
                     format_func=lambda group: f"{labels[group]} ({group})",
                     help="The project holds several spectra; choose the one of this material.")
    columns = st.columns(2) if result.ask_element or result.ask_edge else ()
    if result.ask_element:
        columns[0].selectbox("Absorbing element", CHANNELS, index=None, key=f"{key}-element",
                             placeholder="Choose the element", help="The element whose K edge was measured.")
    if result.ask_edge:
        columns[1].selectbox("Edge", EDGES, index=None, key=f"{key}-edge", placeholder="K assumed",
                             help="The file does not say; the model takes K-edge spectra only.")
    if result.column_labels:
        energy, mu = st.columns(2)
        energy.selectbox("Energy column", result.column_labels, index=None, key=f"{key}-energy",
                         placeholder="Choose the energy column")
        mu.selectbox("μ(E) column", result.column_labels, index=None, key=f"{key}-mu",
                     placeholder="Choose the absorption column")


def _summary(spectrum: Spectrum) -> str:
    kind = "computed, kept in its scale" if spectrum.is_computed else "measured, normalized below"
    return (f"{spectrum.name} · {spectrum.element} {spectrum.edge or 'K (assumed)'} edge · "
            f"{spectrum.source_format} · "
            f"{spectrum.energy.size} points, {spectrum.energy[0]:,.1f}-{spectrum.energy[-1]:,.1f} eV · {kind}")


def _one_file(file: UploadedFile) -> Spectrum | None:
    key = f"pf-{file.file_id}"
    choices = _choices(key)
    result = _read(file.getvalue(), file.name, choices.element, choices.edge, choices.columns, choices.group)
    with st.container(border=True):
        st.markdown(f"**{file.name}**")
        _questions(result, key)
        if result.error:
            st.error(result.error, icon=":material/error:")
            return None
        st.caption(_summary(result.spectrum))
        for note in result.spectrum.notes:  # routine steps: information, not warnings
            st.caption(f":material/info: {note}")
    return result.spectrum


def uploaded_spectra() -> list[Spectrum]:
    """The usable spectra of the uploaded files (one per absorbing element, the person says)."""
    files = st.file_uploader(
        "Spectrum files, one per absorbing element of the material", accept_multiple_files=True,
        key="predict_files", max_upload_size=SPECTRUM_FILE_MB,
        help=f"Formats: {FORMATS}. Gzipped files are fine.")
    st.caption(f"Formats: {FORMATS}. Up to {SPECTRUM_FILE_MB} MB per file.")
    return [spectrum for file in files or [] if (spectrum := _one_file(file)) is not None]


def symmetry_input(needed: bool | None) -> tuple[int | None, bytes | None]:
    """(space group number, CIF bytes), at most one of them; ``needed``: what the run says (None: no run)."""
    how = st.segmented_control("Symmetry", SYMMETRY_SOURCES, default=SYMMETRY_SOURCES[0], key="predict_sg_source")
    if needed is True:
        st.caption("The selected run is a **symmetry** model: it needs the material's space group.")
    elif needed is False:
        st.caption("The selected run is a **core** model: it predicts from the spectra alone.")
    if how == SYMMETRY_SOURCES[0]:
        number = st.number_input("Space group number (1-230)", 1, 230, value=None, step=1, key="predict_sg",
                                 placeholder="e.g. 166 for R-3m")
        if number is not None:
            info = symmetry_info(int(number))
            st.caption(f"{info.symbol} · {info.crystal_system} · point group {info.point_group}")
        return (int(number) if number is not None else None), None
    if how == SYMMETRY_SOURCES[1]:
        cif = st.file_uploader("CIF of the material", type=["cif"], key="predict_cif", max_upload_size=CIF_MB,
                               help="pymatgen reads the structure and finds its space group (symprec 0.1, as MP).")
        if cif is None:
            return None, None
        with common.user_errors():
            number, formula = _cif_group(cif.getvalue())
            st.caption(f"Found in the CIF: **{formula}**, space group **{number}** ({symmetry_info(number).symbol}).")
            return None, cif.getvalue()
    return None, None


def batch_upload() -> tuple[bytes, str, bytes | None, str | None] | None:
    """(zip bytes, zip name, manifest bytes or None, manifest name) once a zip is given."""
    archive_column, manifest_column = st.columns(2)
    archive = archive_column.file_uploader("Zip of spectrum files", type=["zip"], key="predict_batch_zip")
    manifest = manifest_column.file_uploader("Manifest (CSV), unless the zip holds manifest.csv", type=["csv"],
                                             key="predict_batch_manifest")
    st.caption(BATCH_NOTE)
    if archive is None:
        return None
    return (archive.getvalue(), archive.name, manifest.getvalue() if manifest is not None else None,
            manifest.name if manifest is not None else None)

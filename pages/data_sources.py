"""Data sources: build a dataset from the Materials Project, or from your own spectrum files.

Materials Project tab: upload a label catalogue, give the API key, start the build and watch
it; the build itself is :func:`xanes_core.sources.materials_project.build_mp_dataset`, run in the
background by a :class:`~xanes_core.sources.build_job.BuildJob` kept in ``st.cache_resource`` so
that it survives reruns and page switches (one build per process, shared by every browser tab).

Own files tab: upload a zip of spectrum files and a manifest; the build is
:func:`xanes_core.sources.local_files.build_from_archive` (the safe zip reader, nothing unpacked
to disk), the same build as ``build-dataset``; its JSON is shown with the dropped rows per reason.

The API key is read from the password field, or from ``MP_API_KEY`` on the server when the
field is empty; the server's key goes only to the official endpoint or to endpoints the operator
lists in ``XANES_MP_KEY_ENDPOINTS`` (:mod:`xanes_core.sources.api_key`), so a visitor who types
another endpoint must type their own key too. A key is never put back into the page (the field
is not pre-filled with it, so it never travels to the browser), and it is handed to the build
only, never to a file or log.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from pages import common
from xanes_core.errors import SourceError
from xanes_core.io.limits import CATALOGUE_MB, MANIFEST_MB, ZIP_MB
from xanes_core.sources import funnel
from xanes_core.sources.api_key import visitors_choose_endpoints
from xanes_core.sources.build_job import BuildJob, BuildStatus, dataset_folder
from xanes_core.sources.labels import EXAMPLE_LABELS, read_labels
from xanes_core.sources.local_files import (
    DROP_REASONS,
    MANIFEST_COLUMNS,
    MANIFEST_NAME,
    LocalBuildResult,
    build_from_archive,
)
from xanes_core.sources.materials_project import estimate_calls

FORMAT_NAMES = {
    "auto": "Guess from the file",
    "tqc": "Topological Quantum Chemistry export (formula;icsd;sg;theory;ID;class)",
    "materiae": "Materiae catalogue",
    "csv": "Plain CSV (mp_id or icsd, label)",
}
DEFAULT_NAME = "materials-project"
DEFAULT_LOCAL_NAME = "my-spectra"
_POLL_S = 1.0


@st.cache_resource
def _job() -> BuildJob:
    """The process's one build job (st.cache_resource: it outlives reruns and page switches)."""
    return BuildJob()


@st.cache_data(show_spinner="Reading the catalogue…", max_entries=8)
def _read_catalogue(data: bytes, name: str, fmt: str | None) -> pd.DataFrame:
    """The uploaded catalogue read from memory (limits checked there; nothing is written)."""
    return read_labels(data, fmt, name=name)


def _catalogue_section() -> pd.DataFrame | None:
    st.subheader("1 · Label catalogue")
    left, right = st.columns([2, 1])
    upload = left.file_uploader("Topology catalogue", type=["csv", "txt", "tsv"], key="mp_labels_file",
                                max_upload_size=CATALOGUE_MB,
                                help="The TQC export the paper used, a Materiae catalogue, or a CSV "
                                     "with mp_id (or icsd) and label columns.")
    fmt = right.selectbox("Format", list(FORMAT_NAMES), format_func=FORMAT_NAMES.get, key="mp_labels_format")
    left.download_button("Download an example catalogue (CSV)", EXAMPLE_LABELS.read_bytes(),
                         file_name="example_labels.csv", mime="text/csv", icon=":material/download:",
                         key="mp_example", help="Six Materials Project materials with their class in the Materiae "
                                                "catalogue (with spin-orbit coupling): the plain CSV format.")
    if upload is None:
        st.caption("Upload a catalogue to start. Rows of undetermined class (e.g. Materiae 'Unknown') are left out.")
        return None
    try:
        labels = _read_catalogue(upload.getvalue(), upload.name, None if fmt == "auto" else fmt)
    except SourceError as exc:
        st.error(str(exc))
        return None
    n_topological = int((labels["label"] == 1).sum())
    columns = st.columns(3)
    columns[0].metric("Catalogue entries", f"{len(labels):,}")
    columns[1].metric("Topological", f"{n_topological:,}")
    columns[2].metric("Trivial", f"{len(labels) - n_topological:,}")
    st.caption(f"A build of these entries makes at most {estimate_calls(labels):,} Materials Project client calls "
               "(100 materials per call; answers already cached are not asked again).")
    classes, preview = st.columns([1, 2])
    classes.dataframe(funnel.catalogue_classes(labels), hide_index=True)
    preview.dataframe(labels.head(200), hide_index=True)
    return labels


def _visitors_choose() -> bool:
    """Whether this server lets a visitor build from any endpoint (a bad setting: say so on Start)."""
    try:
        return visitors_choose_endpoints()
    except SourceError:
        return False


def _build_section(labels: pd.DataFrame | None) -> None:
    st.subheader("2 · Materials Project build")
    job = _job()
    env_key = bool(os.environ.get("MP_API_KEY"))
    api_key = st.text_input(
        "Materials Project API key", type="password", key="mp_api_key",
        placeholder="Leave empty to use the server's key (official endpoint only)" if env_key else "32 characters",
        help="Get one at https://materialsproject.org/api. Used for this build only; never saved. "
             "The server's own key is sent only to the official endpoint (or those its operator allows).",
    )
    with st.expander("Advanced"):
        endpoint = st.text_input("API endpoint", key="mp_endpoint", placeholder="https://api.materialsproject.org/",
                                 help="Another Materials Project-compatible server; empty for the official one. "
                                      "Another server needs your own API key"
                                      + ("." if _visitors_choose() else ", and this server allows only the "
                                         "endpoints its operator lists."))
    name = st.text_input("Dataset name", value=DEFAULT_NAME, key="mp_dataset_name",
                         help="Saved as a folder under cache/datasets/; then choose it in the sidebar.")
    running = job.status().running
    buttons = st.container(horizontal=True, vertical_alignment="center")
    if buttons.button("Start build", type="primary", icon=":material/play_arrow:", key="mp_start",
                    disabled=labels is None or running):
        with common.user_errors():
            job.start(labels, api_key=api_key or None, endpoint=endpoint, out=dataset_folder(name), visitor=True)
            st.rerun()  # redraw with Start disabled, Stop enabled and the progress fragment polling
    if buttons.button("Stop", icon=":material/stop:", key="mp_stop", disabled=not running):
        job.stop()
    if labels is None or running:  # say why Start is greyed out
        buttons.caption("A build is running; Stop it or wait." if running
                        else "Start needs a label catalogue: upload one above (or the example).")
    is_running = job.status().running
    st.fragment(run_every=_POLL_S if is_running else None)(_watch)(is_running)


def _watch(was_running: bool) -> None:
    """Polled while a build runs; one full rerun when it ends (the sidebar then lists the dataset)."""
    status = _job().status()
    if status.running:
        st.progress(status.fraction, text=status.message)
    elif was_running:
        st.rerun()
    else:
        _outcome(status)


def _outcome(status: BuildStatus) -> None:
    if status.status == "failed":
        st.error(status.error)
    elif status.status == "cancelled":
        st.warning(status.error, icon=":material/stop_circle:")
    elif status.result is not None:
        st.success(status.message, icon=":material/check_circle:")
        _funnel(status)


def _funnel(status: BuildStatus) -> None:
    result = status.result
    st.subheader("3 · Funnel")
    st.caption(f"Materials Project database {result.db_version}. As in the paper, a material is kept "
               "only if every one of its elements has a K-edge XANES.")
    st.plotly_chart(funnel.funnel_figure(result), config={"displaylogo": False}, width="stretch")
    per_class, reasons = st.columns(2)
    per_class.markdown("**Per class**")
    per_class.dataframe(funnel.class_counts(result), hide_index=True)
    reasons.markdown("**Why materials were dropped**")
    reasons.dataframe(funnel.drop_reasons(result), hide_index=True)
    reasons.download_button("Download dropped materials (CSV)", result.drops.to_csv(index=False).encode("utf-8"),
                            file_name=f"{result.path.name}_drops.csv", mime="text/csv",
                            icon=":material/download:", key="mp_drops_csv")


def _local_section() -> None:
    st.caption(f"A zip of spectrum files (any format the Predict page reads) and a CSV manifest with one row "
               f"per spectrum: {', '.join(MANIFEST_COLUMNS)}; `file` is the path inside the zip. An empty "
               "label keeps the material as unknown: browsed and matched, never trained on. Same build as "
               "`python -m xanes_core build-dataset`.")
    left, right = st.columns(2)
    archive = left.file_uploader("Spectrum files (zip)", type=["zip"], key="local_zip", max_upload_size=ZIP_MB,
                                 help=f"Up to {ZIP_MB} MB; the files may expand to more, within the server's limits.")
    manifest = right.file_uploader("Manifest (CSV)", type=["csv"], key="local_manifest", max_upload_size=MANIFEST_MB,
                                   help=f"Or put {MANIFEST_NAME} at the top level of the zip.")
    name = st.text_input("Dataset name", value=DEFAULT_LOCAL_NAME, key="local_dataset_name",
                         help="Saved as a folder under cache/datasets/; then choose it in the sidebar.")
    if st.button("Build dataset", type="primary", icon=":material/play_arrow:", key="local_build",
                 disabled=archive is None):
        st.session_state.pop("local_result", None)
        with common.user_errors(), st.spinner("Reading, normalizing and resampling the spectra…"):
            st.session_state["local_result"] = build_from_archive(
                archive.getvalue(), dataset_folder(name), archive_name=archive.name,
                manifest=manifest.getvalue() if manifest is not None else None,
                manifest_name=manifest.name if manifest is not None else MANIFEST_NAME)
            st.rerun()  # the sidebar then lists the new dataset
    if "local_result" in st.session_state:
        _local_outcome(st.session_state["local_result"])


def _local_outcome(result: LocalBuildResult) -> None:
    summary = result.to_dict()
    st.success(f"Saved {result.n_samples:,} materials ({result.n_spectra:,} spectra) to {result.path.name}; "
               "choose it in the sidebar.", icon=":material/check_circle:")
    counts, reasons = st.columns([1, 2])
    counts.markdown("**Build summary**")
    counts.json(summary | {"path": result.path.name})
    reasons.markdown("**Dropped manifest rows**")
    reasons.dataframe(funnel.reason_table(result.dropped, DROP_REASONS, "rows"), hide_index=True)
    reasons.download_button("Download dropped rows (CSV)", result.drops.to_csv(index=False).encode("utf-8"),
                            file_name=f"{result.path.name}_drops.csv", mime="text/csv",
                            icon=":material/download:", key="local_drops_csv")


st.title("Data sources")
materials_project, own_files = st.tabs(["Materials Project", "Your own spectrum files"])
with materials_project:
    st.caption("Build the paper's dataset from a topology catalogue and the Materials Project's computed "
               "K-edge XANES. Raw answers are cached, so a stopped build resumes where it was.")
    _build_section(_catalogue_section())
with own_files:
    _local_section()

"""Results page, "Spectral indicators" tab: where in energy each element's spectra push the run's
test-split predictions (:mod:`xanes_core.analysis.attribution`).

The attribution is read from the run folder; a run without it gets one line and a button that
computes it (the model and the dataset are loaded only then, once). Baseline runs have none.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages import common
from xanes_core.analysis.attribution import (
    AttributionMissing,
    SplitAttribution,
    attribution_path,
    check_attributable,
    read_explained,
    split_attribution,
)
from xanes_core.analysis.indicators import (
    attribution_table,
    element_indicators,
    indicator_table,
    informative_values,
    signal_ranges,
)
from xanes_core.data.class_means import ClassMeans
from xanes_core.errors import RunError
from xanes_core.learn.results import RunResults
from xanes_core.paths import datasets_root
from xanes_core.viz import attribution as attribution_figures

SPLIT = "test"


@st.cache_data(show_spinner=False, max_entries=8)
def _explained(run_dir: str, stamp: float) -> tuple[SplitAttribution, ClassMeans]:
    """``stamp`` (the attribution file's time) only keys the cache."""
    return read_explained(run_dir, SPLIT)


def _compute(run: RunResults, loaded: common.Loaded) -> None:
    same = Path(run.config.get("dataset", "")).resolve() == (datasets_root() / loaded.name).resolve()
    with st.spinner(f"Attributing every {SPLIT} material over energy (the model loads once; under a minute)…"):
        split_attribution(run.run_dir, SPLIT, dataset=loaded.dataset if same else None)
    st.rerun()


def indicators_tab(run: RunResults, loaded: common.Loaded) -> None:
    """The tab's content; a baseline run is one line, an error in reading or computing one st.error."""
    try:
        check_attributable(run)
    except RunError as exc:
        st.info(str(exc), icon=":material/info:")
        return
    with common.user_errors():
        _show(run, loaded)


def _show(run: RunResults, loaded: common.Loaded) -> None:
    path = attribution_path(run.run_dir, SPLIT)
    try:
        attribution, means = _explained(run.run_dir.as_posix(), path.stat().st_mtime if path.is_file() else 0.0)
    except AttributionMissing as exc:
        st.info(str(exc), icon=":material/info:")
        if st.button(f"Compute the attribution of the {SPLIT} split", key="results_attribute",
                     icon=":material/insights:"):
            _compute(run, loaded)
        return
    st.caption(f"{attribution_figures.METHOD_NOTE} {attribution.steps} steps, {SPLIT} split. Completeness: a "
               "material's attributions add up to its spectra's effect within "
               f"{attribution.completeness_error:.4f} on average (mean effect {attribution.spectra_effect:.3f}).")
    values, support = informative_values(attribution)
    common.show_figure(attribution_figures.informative_periodic_table(values, support, SPLIT),
                       f"{run.run_id}_informative_ptable", loaded)
    indicators = element_indicators(attribution, means)
    ranked = sorted(indicators, key=lambda e: -indicators[e].n_spectra)
    element = st.selectbox("Element", ranked, key="results_attribution_element",
                           format_func=lambda e: f"{e} ({indicators[e].n_spectra:,} {SPLIT} spectra)")
    common.show_figure(attribution_figures.split_attribution_figure(
        attribution, means, element, signal_ranges(element, attribution.is_demo)), f"{run.run_id}_attribution_{element}",
        loaded)
    table = indicator_table(indicators)
    st.dataframe(table, hide_index=True)
    common.download_csv(table, f"{run.run_id}_indicators", loaded, label="Download the per-element summary as CSV")
    common.download_csv(attribution_table(attribution, means), f"{run.run_id}_attribution", loaded,
                        label="Download the attribution over energy as CSV")

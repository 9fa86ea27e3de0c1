"""Results: how a completed run scores on its test split, per class and per element (paper Fig. 3, S4).

Everything is read from the run folder (metrics.json written by the trainer), so no model is
loaded here; reading is cached per run folder and metrics.json time. The HTML report
(:mod:`xanes_core.viz.report`) shows the same content and is built only when the button is clicked.
Runs are those trained on the dataset chosen in the sidebar, so figure labels follow that
dataset (synthetic demo data or not).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages import common
from xanes_core.learn import runs
from xanes_core.learn.evaluation import CLASSES
from xanes_core.learn.results import (
    METRICS,
    RunResults,
    class_table,
    comparison_table,
    config_table,
    element_table,
    load_results,
    provenance_table,
    results_stamp,
    software_table,
    topological_prevalence,
)
from xanes_core.paths import datasets_root
from xanes_core.viz import report
from xanes_core.viz import results as result_figures

_NONE = "—"


@st.cache_data(show_spinner=False, max_entries=32)
def _results(run_dir: str, stamp: int) -> RunResults:
    """``stamp`` (metrics.json mtime) only keys the cache: a re-evaluated run is read again."""
    return load_results(run_dir)


@st.cache_data(show_spinner=False, max_entries=4)
def _report(run_dir: str, stamp: int, compare: tuple[str, ...]) -> str:
    return report.build_report(run_dir, compare)


def _read(run_dir: str) -> RunResults:
    return _results(run_dir, results_stamp(run_dir))


def _completed_runs(loaded: common.Loaded) -> list[runs.RunSummary]:
    """Completed runs trained on the sidebar's dataset, newest first."""
    return runs.list_runs(dataset=datasets_root() / loaded.name, status="completed")


def _run_label(run: runs.RunSummary) -> str:
    score = f" · balanced accuracy {run.balanced_accuracy:.3f}" if run.balanced_accuracy is not None else ""
    return f"{run.run_id}{score}"


def _table(table: pd.DataFrame, name: str, loaded: common.Loaded) -> None:
    """A table with scores to three decimals on screen and in full precision in its CSV."""
    floats = table.select_dtypes("float").columns
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.3f") for c in floats})
    common.download_csv(table, name, loaded)


def _headline(run: RunResults) -> None:
    test, curves = run.metrics["test"], run.metrics.get("curves") or {}
    columns = st.columns(5)
    columns[0].metric("Balanced accuracy", f"{test['balanced_accuracy']:.3f}",
                      help=f"Mean of the two recalls over {test['n_samples']} test materials.")
    for column, name in zip(columns[1:3], CLASSES):
        column.metric(f"{name.capitalize()} recall", f"{test[name]['recall']:.3f}",
                      help=f"{test[name]['support']} {name} test materials.")
    roc = curves.get("roc")
    columns[3].metric("ROC AUC", f"{roc['auc']:.3f}" if roc else "–")
    reference = run.metrics.get("reference_balanced_accuracy")
    if reference is not None:
        columns[4].metric("Demo generator's reference", f"{reference:.3f}",
                          help="Balanced accuracy of the generator's own p_topological thresholded at the class "
                               "prevalence: the best a model can be expected to do on these synthetic data.")


def _summary_tab(run: RunResults, loaded: common.Loaded) -> None:
    table = class_table(run)
    left, right = st.columns(2)
    with left:
        common.show_figure(result_figures.class_metric_bars(run.metrics["test"]), f"{run.run_id}_class_metrics", loaded)
    with right:
        common.show_figure(result_figures.confusion_matrix(run.metrics["confusion"]), f"{run.run_id}_confusion", loaded)
    _table(table, f"{run.run_id}_class_metrics", loaded)


def _element_tab(run: RunResults, loaded: common.Loaded) -> None:
    st.caption("Each element is scored over the test materials containing it. Grey: no test materials with "
               "that element, or none of the class (hover for the counts behind every number).")
    figures = result_figures.metric_periodic_tables(run.metrics["per_element"])
    for tab, name in zip(st.tabs([name.capitalize() for name in CLASSES]), CLASSES):
        with tab:
            for metric in METRICS:
                common.show_figure(figures[(metric, name)], f"{run.run_id}_ptable_{metric}_{name}", loaded)
    _table(element_table(run), f"{run.run_id}_per_element", loaded)


def _curves_tab(shown: list[RunResults], loaded: common.Loaded) -> None:
    curves = {run.label: run.metrics.get("curves") for run in shown}
    prevalence = topological_prevalence(shown[0])
    left, right = st.columns(2)
    with left:
        common.show_figure(result_figures.roc_curves(curves), f"{shown[0].run_id}_roc", loaded)
    with right:
        common.show_figure(result_figures.pr_curves(curves, prevalence), f"{shown[0].run_id}_pr", loaded)


def _projection_tab(run: RunResults, loaded: common.Loaded) -> None:
    projection = run.metrics["projection"]
    common.show_figure(result_figures.decision_projection(projection, run.metrics.get("sample_ids", ())),
                       f"{run.run_id}_projection", loaded)
    boundary = projection.get("boundary")
    st.caption("Penultimate-layer features (CNN) or input features (baselines) projected to two dimensions. "
               + (f"The dashed line is the 0.5 threshold as seen in this plane; it reproduces "
                  f"{boundary['boundary_agreement']:.0%} of the model's test predictions." if boundary
                  else "The model predicts one class only, so there is no boundary to draw."))


def _history_tab(run: RunResults, loaded: common.Loaded) -> None:
    if not run.history:
        st.info(f"The {run.model} baseline is fitted in one step: it has no training curves.")
        return
    left, right = st.columns(2)
    for column, quantity in ((left, "loss"), (right, "accuracy")):
        with column:
            common.show_figure(result_figures.history_curves(run.history, quantity), f"{run.run_id}_{quantity}", loaded)


def _compare_tab(shown: list[RunResults], loaded: common.Loaded) -> None:
    if len(shown) < 2:
        st.info("Choose a second run under “Compare with” to see two runs side by side.")
        return
    table = comparison_table(shown)
    _table(table, "comparison", loaded)
    common.show_figure(result_figures.comparison_bars(table), "comparison", loaded)


def _about_tab(run: RunResults, loaded: common.Loaded) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("**Configuration**")
        _table(config_table(run), f"{run.run_id}_config", loaded)
    with right:
        st.markdown("**Dataset provenance**")
        if run.provenance:
            _table(provenance_table(run.provenance), f"{run.run_id}_provenance", loaded)
        else:
            st.caption(f"The dataset at {run.config.get('dataset')} is no longer available.")
        st.markdown("**Software**")
        _table(software_table(), "software", loaded)


loaded = common.current()
common.page_header("Results", loaded, "Test-split scores of a completed run, per class and per absorbing element.")
completed = _completed_runs(loaded)
if not completed:
    st.info("No completed run on this dataset yet: start one on the Training page.", icon=":material/info:")
    st.stop()
by_dir = {run.run_dir: run for run in completed}
left, right = st.columns(2)
run_dir = left.selectbox("Run", list(by_dir), format_func=lambda d: _run_label(by_dir[d]), key="results_run")
other = right.selectbox("Compare with", [_NONE, *(d for d in by_dir if d != run_dir)], key="results_compare",
                        format_func=lambda d: d if d == _NONE else _run_label(by_dir[d]))
with common.user_errors():
    shown = [_read(run_dir)] + ([] if other == _NONE else [_read(other)])
    run = shown[0]
    st.download_button("Download report (HTML)", lambda: _report(run_dir, results_stamp(run_dir), tuple(
        r.run_dir.as_posix() for r in shown[1:])), file_name=f"report_{run.run_id}.html", mime="text/html",
        on_click="ignore", icon=":material/description:", key="results_report",
        help="One self-contained HTML file with every figure and table of this page, the configuration, "
             "the dataset's provenance and software versions.")
    _headline(run)
    views = {"Per class": lambda: _summary_tab(run, loaded), "Per element": lambda: _element_tab(run, loaded),
             "ROC and PR": lambda: _curves_tab(shown, loaded), "Decision boundary": lambda: _projection_tab(run, loaded),
             "Training history": lambda: _history_tab(run, loaded), "Compare runs": lambda: _compare_tab(shown, loaded),
             "Configuration": lambda: _about_tab(run, loaded)}
    for tab, view in zip(st.tabs(list(views)), views.values()):
        with tab:
            view()

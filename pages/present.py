"""Presentation mode: the headline figures of one run in the order of a talk, sized for a projector.

1 the data (paper Table 1, topological/trivial ratio per element), 2 what one element's spectra
show without supervision (clustering), 3 how the classifier scores on the test split at the
run's saved operating point (beside the no-spectra baseline), 4 one test material predicted.
Every figure is the one the other pages draw (:mod:`xanes_core.viz`), with its text enlarged
(:func:`xanes_core.viz.style.for_slides`); nothing here computes anything of its own.
"""

from __future__ import annotations

import streamlit as st

from pages import common
from xanes_core.analysis.prediction import Predictor
from xanes_core.data import browse
from xanes_core.data.dataset import CLASS_NAMES, XanesDataset
from xanes_core.learn import runs
from xanes_core.learn.config import CNN_TYPES
from xanes_core.learn.results import MODEL_NAMES, RunResults, load_results, no_spectra_baseline, results_stamp
from xanes_core.learn.run_settings import settings_stamp
from xanes_core.paths import datasets_root
from xanes_core.viz import dataset as dataset_figures
from xanes_core.viz import prediction as prediction_figures
from xanes_core.viz import results as result_figures
from xanes_core.viz.periodic_table import clustering_periodic_tables, count_periodic_tables
from xanes_core.viz.style import for_slides


@st.cache_data(show_spinner=False, max_entries=16)
def _results(run_dir: str, stamp: tuple[int, int]) -> RunResults:
    return load_results(run_dir).at()


@st.cache_resource(show_spinner="Loading the model…", max_entries=2)
def _predictor(run_dir: str, dataset_key: str, _dataset: XanesDataset) -> Predictor:
    return Predictor(run_dir, dataset=_dataset)


def _show(fig, name: str, large: bool) -> None:
    """A figure of the presentation, enlarged for a projector when ``large``."""
    common.show_figure(for_slides(fig) if large else fig, f"present_{name}", common.current())


def _data(loaded: common.Loaded, large: bool) -> None:
    st.header("1 · The data")
    counts = browse.element_class_counts(loaded.dataset)
    left, right = st.columns([2, 3])
    with left:
        _show(dataset_figures.element_count_bars(browse.element_count_table(loaded.dataset)), "table1", large)
    with right:
        _show(count_periodic_tables(counts)[2], "ratio", large)


def _clustering(loaded: common.Loaded, large: bool) -> None:
    st.header("2 · Without supervision")
    st.caption("PCA + two-cluster k-means per absorbing element: how much of topology one element's spectra "
               "show on their own (red: better than a coin toss).")
    _show(clustering_periodic_tables(common.cluster_scores(loaded))[0], "clustering", large)


def _classifier(run: RunResults, large: bool) -> None:
    st.header(f"3 · The classifier: {MODEL_NAMES.get(run.model, run.model)}")
    test, baseline = run.metrics["test"], no_spectra_baseline(run)
    columns = st.columns(4)
    columns[0].metric("Balanced accuracy", f"{test['balanced_accuracy']:.3f}")
    columns[1].metric("Topological recall", f"{test['topological']['recall'] or 0:.3f}")
    columns[2].metric("Topological precision", f"{test['topological']['precision'] or 0:.3f}")
    if baseline is not None:
        columns[3].metric("Without spectra", f"{baseline.metrics['test']['balanced_accuracy']:.3f}",
                          help="Balanced accuracy of the element-presence + symmetry baseline on the same test split.")
    st.caption(f"Test split, {test['n_samples']:,} materials, threshold {run.threshold:.2f} (chosen on validation).")
    marks = result_figures.operating_marks(test, f"threshold {run.threshold:.2f}")
    left, right = st.columns(2)
    with left:
        _show(result_figures.confusion_matrix(run.metrics["confusion"], run.threshold), "confusion", large)
    with right:
        _show(result_figures.roc_curves({run.label: run.metrics.get("curves")}, points=[marks["roc"]]), "roc", large)
    recall = result_figures.metric_periodic_tables(run.metrics["per_element"], run.threshold)[("recall", "topological")]
    _show(recall, "recall", large)


def _example(loaded: common.Loaded, run: RunResults, large: bool) -> None:
    st.header("4 · One material")
    if run.model not in CNN_TYPES:
        st.caption("A baseline scores whole splits; choose a CNN run to show one material's prediction.")
        return
    meta = loaded.dataset.metadata
    samples = sorted(loaded.dataset.split_indices("test").tolist(), key=lambda i: (meta.at[i, "formula"], i))
    several = [i for i in samples if len(meta.at[i, "elements"]) > 1] or samples
    index = st.selectbox("Test material", several, key="present_sample", format_func=lambda i: meta.at[i, "formula"],
                         help="Materials of the test split with several absorbing elements.")
    with common.user_errors():
        prediction = _predictor(str(run.run_dir), loaded.key, loaded.dataset).predict_sample(loaded.dataset, index)
        truth = CLASS_NAMES.get(int(loaded.dataset.labels[index]))
        verdict = "agrees with" if truth == prediction.label else "differs from"
        st.markdown(f"**{meta.at[index, 'formula']}**: p(topological) = **{prediction.p_topological:.0%}**, predicted "
                    f"**{prediction.label}**, which {verdict} the dataset (**{truth}**).")
        left, right = st.columns(2)
        with left:
            _show(prediction_figures.probability_gauge(prediction.p_topological, prediction.threshold), "gauge", large)
        with right:
            _show(prediction_figures.contribution_bars(prediction.contributions, prediction.symmetry),
                  "contributions", large)


def _choose_run(loaded: common.Loaded) -> RunResults | None:
    completed = runs.list_runs(dataset=datasets_root() / loaded.name, status="completed")
    completed.sort(key=lambda r: r.model not in CNN_TYPES)  # CNN runs first, newest first within
    if not completed:
        st.info("No completed run on this dataset yet: train one on the Training page.", icon=":material/info:")
        return None
    by_dir = {r.run_dir: r for r in completed}
    run_dir = st.selectbox("Run", list(by_dir), key="present_run",
                           format_func=lambda d: f"{by_dir[d].run_id} · {by_dir[d].model}")
    return _results(run_dir, (results_stamp(run_dir), settings_stamp(run_dir)))


loaded = common.current()
common.page_header("Presentation", loaded, "The headline figures of one run, in the order of a talk.")
large = st.toggle("Projector text size", value=True, key="present_large")
with common.user_errors():
    run = _choose_run(loaded)
    _data(loaded, large)
    _clustering(loaded, large)
    if run is not None:
        _classifier(run, large)
        _example(loaded, run, large)

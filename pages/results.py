"""Results: how a completed run scores on its test split, per class and per element (paper Fig. 3, S4).

Everything is read from the run folder (metrics.json written by the trainer, settings.json for
the name and operating point), so no model is loaded here; reading is cached per run folder and
file times. The **operating point** (threshold on p(topological)) is chosen among candidates
found on the validation split (:mod:`xanes_core.learn.operating_point`); every number, map and
figure below follows it, and "Save" makes it the run's own (report, figure pack, Predict).
The HTML report and the figure pack are built only when their button is clicked.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages import common, results_indicators
from xanes_core.errors import RunError
from xanes_core.learn import operating_point, runs
from xanes_core.learn.binding import STATE_LABELS, dataset_binding
from xanes_core.learn.confidence import calibration_summary, read_test_scores
from xanes_core.learn.results import (
    METRICS,
    RunResults,
    class_table,
    comparison_table,
    config_table,
    element_table,
    load_results,
    no_spectra_baseline,
    provenance_table,
    results_stamp,
    software_table,
    topological_prevalence,
)
from xanes_core.learn.run_settings import BY_HAND, read_settings, settings_stamp, update_settings
from xanes_core.paths import datasets_root
from xanes_core.viz import calibration as calibration_figures
from xanes_core.viz import figure_pack, report
from xanes_core.viz import results as result_figures

_NONE = "—"
CALIBRATED_NOTE = ("Probabilities are the mean of {n} CNN(s) after temperature scaling fitted on the validation split "
                   "(temperature {temperature:.2f}; logit bias against trivial {bias}): the class-balancing weights of training push "
                   "p(topological) above the true frequency, and the fit on validation undoes it. The test split was not "
                   "used for it; the diagrams show how well it carries over.")
THREE_CLASS_NOTE = ("Three classes: a material goes to the class with the largest probability (for a calibrated "
                    "ensemble: the largest probability relative to the class's share of the training split, which "
                    "weighs every class equally). There is no threshold to choose.")
UNCALIBRATED_NOTE = ("This run's probabilities are not calibrated: its class-balancing weights make p(topological) "
                     "higher than the frequency of topological materials. An ensemble (even of one CNN) is calibrated "
                     "on the validation split.")


@st.cache_data(show_spinner=False, max_entries=32)
def _results(run_dir: str, stamp: tuple[int, int]) -> RunResults:
    """``stamp`` (metrics.json and settings.json times) only keys the cache."""
    return load_results(run_dir)


@st.cache_data(show_spinner="Building the report…", max_entries=4)
def _report(run_dir: str, stamp: tuple[int, int], compare: tuple[str, ...], threshold: float) -> str:
    return report.build_report(run_dir, compare, threshold=threshold)


@st.cache_data(show_spinner="Rendering every figure as PNG and SVG (about 20 s)…", max_entries=2)
def _pack(run_dir: str, stamp: tuple[int, int], threshold: float) -> bytes:
    return figure_pack.build_figure_pack(run_dir, threshold)[0]


def _stamp(run_dir: str) -> tuple[int, int]:
    return results_stamp(run_dir), settings_stamp(run_dir)


def _read(run_dir: str) -> RunResults:
    return _results(run_dir, _stamp(run_dir))


def _completed_runs(loaded: common.Loaded) -> list[runs.RunSummary]:
    """Completed runs trained on the sidebar's dataset, newest first."""
    return runs.list_runs(dataset=datasets_root() / loaded.name, status="completed")


def _run_label(run: runs.RunSummary) -> str:
    """'<run id> · <name> · <model> · balanced accuracy …': the id first, so every label is unique."""
    try:
        name = read_settings(run.run_dir).name
    except RunError:
        name = ""
    score = f" · balanced accuracy {run.balanced_accuracy:.3f}" if run.balanced_accuracy is not None else ""
    data = "" if run.dataset_state == "same" else f" · dataset {STATE_LABELS[run.dataset_state]}"
    return f"{run.run_id}{f' · {name}' if name else ''} · {run.model}{score}{data}"


def _table(table: pd.DataFrame, name: str, loaded: common.Loaded) -> None:
    """A table with scores to three decimals on screen and in full precision in its CSV."""
    floats = table.select_dtypes("float").columns
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.3f") for c in floats})
    common.download_csv(table, name, loaded)


def _rule_label(choice: operating_point.Choice) -> str:
    return f"{choice.short} ({choice.threshold:.2f})"


def _operating_point(run: RunResults, loaded: common.Loaded) -> float | None:
    """The threshold control: candidates chosen on validation, or a value by hand; returns it
    (None for a three-class run, which decides by class, not by a threshold)."""
    if not run.is_binary:
        st.caption(THREE_CLASS_NOTE)
        return None
    if not operating_point.has_scores(run.metrics):
        st.caption("Operating point: the paper's threshold 0.5. This run was evaluated before per-material scores "
                   "were kept; `python -m xanes_core evaluate RUN_DIR` adds them.")
        return operating_point.THRESHOLD
    candidates = {choice.rule: choice for choice in operating_point.choices(run.metrics)}
    rules = [*candidates, BY_HAND]
    saved = run.settings
    saved_threshold = operating_point.saved_threshold(saved, run.metrics)
    rule = st.radio("Operating point: threshold on p(topological), chosen on the **validation** split",
                    rules, horizontal=True, key=f"results_rule_{run.run_id}",
                    index=rules.index(saved.threshold_rule) if saved.threshold_rule in rules else len(rules) - 1,
                    format_func=lambda r: "by hand" if r == BY_HAND else _rule_label(candidates[r]))
    threshold = candidates[rule].threshold if rule != BY_HAND else st.slider(
        "Threshold", 0.0, 1.0, saved_threshold, step=0.01, key=f"results_custom_{run.run_id}",
        help="Judge a threshold by the validation numbers under it; the test numbers are for reporting.")
    at = operating_point.validation_metrics(run.metrics, threshold)
    st.caption(f"On validation at {threshold:.3f}: balanced accuracy {at['balanced_accuracy']:.3f}, topological "
               f"recall {at['topological']['recall'] or 0:.3f}, precision {at['topological']['precision'] or 0:.3f}. "
               "Every test number, map and figure below uses this threshold.")
    unchanged = abs(threshold - saved_threshold) < 1e-9 and rule == saved.threshold_rule
    if st.button("Save as this run's operating point", key="results_save_threshold", disabled=unchanged,
                 icon=":material/save:", help="Used by the report, the figure pack and the Predict page."):
        with common.user_errors():
            update_settings(run.run_dir, threshold=threshold, threshold_rule=rule)
            st.rerun()
    with st.expander("How the candidates were chosen (validation split)"):
        marked = [(choice.short, choice.threshold) for choice in candidates.values()]
        common.show_figure(result_figures.threshold_curves(operating_point.sweep(run.metrics), marked, threshold),
                           f"{run.run_id}_operating_point", loaded)
    return threshold


def _three_class_headline(run: RunResults) -> None:
    """Balanced accuracy, each class's recall and the topological-vs-trivial ROC AUC."""
    test, roc = run.metrics["test"], (run.metrics.get("curves") or {}).get("roc")
    first, second = st.columns(3), st.columns(3)
    first[0].metric("Balanced accuracy (3 classes)", f"{test['balanced_accuracy']:.3f}",
                    help=f"Mean of the three recalls over {test['n_samples']:,} test materials.")
    first[1].metric("ROC AUC, topological vs trivial", f"{roc['auc']:.3f}" if roc else "–",
                    help="From p(topological) = p(insulator) + p(semimetal).")
    for column, name in zip([first[2], *second], run.classes):
        column.metric(f"Recall, {name}", f"{test[name]['recall'] or 0:.3f}",
                      help=f"{test[name]['support']:,} {name} test materials; precision "
                           f"{test[name]['precision'] or 0:.3f}.")
    reference = run.metrics.get("reference_balanced_accuracy")
    if reference is not None:
        st.caption(f"Bayes reference of the demo generator for three classes: balanced accuracy {reference:.3f}.")


def _headline(run: RunResults, baseline: RunResults | None) -> None:
    """Six numbers in two rows (labels never truncated), the no-spectra baseline among them."""
    if not run.is_binary:
        _three_class_headline(run)
        return
    test, curves = run.metrics["test"], run.metrics.get("curves") or {}
    ba = test["balanced_accuracy"]
    first, second = st.columns(3), st.columns(3)
    delta = f"{ba - baseline.metrics['test']['balanced_accuracy']:+.3f} vs no spectra" if baseline else None
    first[0].metric("Balanced accuracy", f"{ba:.3f}", delta=delta,
                    help=f"Mean of the two recalls over {test['n_samples']:,} test materials.")
    first[1].metric("Topological recall", f"{test['topological']['recall'] or 0:.3f}",
                    help=f"{test['topological']['support']:,} topological test materials.")
    first[2].metric("Topological precision", f"{test['topological']['precision'] or 0:.3f}",
                    help=f"{test['topological']['n_predicted']:,} materials predicted topological.")
    second[0].metric("Trivial recall", f"{test['trivial']['recall'] or 0:.3f}",
                     help=f"{test['trivial']['support']:,} trivial test materials.")
    roc = curves.get("roc")
    second[1].metric("ROC AUC", f"{roc['auc']:.3f}" if roc else "–", help="Does not depend on the threshold.")
    if baseline is not None:
        second[2].metric("Without spectra", f"{baseline.metrics['test']['balanced_accuracy']:.3f}",
                         help=f"Balanced accuracy of the element-presence + symmetry baseline ({baseline.title}) "
                              "on the same test split: what the spectra add is the difference.")
    elif run.model != "elements":
        second[2].caption("No element-presence baseline on this dataset yet: train one (model “Elements + "
                          "symmetry”) to see what the spectra add.")
    reference = run.metrics.get("reference_balanced_accuracy")
    if reference is not None:
        st.caption(f"Bayes reference of the demo generator: balanced accuracy {reference:.3f}, the best a model "
                   "can be expected to do on these synthetic data.")


def _summary_tab(run: RunResults, loaded: common.Loaded) -> None:
    left, right = st.columns(2)
    with left:
        common.show_figure(result_figures.class_metric_bars(run.metrics["test"], classes=run.classes),
                           f"{run.run_id}_class_metrics", loaded)
    with right:
        common.show_figure(result_figures.confusion_matrix(run.metrics["confusion"], run.threshold, run.classes),
                           f"{run.run_id}_confusion", loaded)
    _table(class_table(run), f"{run.run_id}_class_metrics", loaded)


def _element_tab(run: RunResults, loaded: common.Loaded) -> None:
    st.caption("Each element is scored over the test materials containing it; each cell prints the score and "
               "the number of materials behind it. Pale: fewer than ten; grey: none (hover for counts and a 95% "
               "interval).")
    figures = result_figures.metric_periodic_tables(run.metrics["per_element"], run.threshold, run.classes)
    for tab, name in zip(st.tabs([name.capitalize() for name in run.classes]), run.classes):
        with tab:
            for metric in METRICS:
                common.show_figure(figures[(metric, name)], f"{run.run_id}_ptable_{metric}_{name}", loaded)
    _table(element_table(run), f"{run.run_id}_per_element", loaded)


def _curves_tab(shown: list[RunResults], loaded: common.Loaded) -> None:
    curves = {run.label: run.metrics.get("curves") for run in shown}
    first = shown[0]
    marks = (result_figures.operating_marks(first.metrics["test"], f"threshold {first.threshold:.2f}")
             if first.is_binary else {"roc": None, "pr": None})
    if not first.is_binary:
        st.caption("Topological (insulator or semimetal) against trivial, from p(topological) = 1 - p(trivial); "
                   "below, each class against the rest.")
    left, right = st.columns(2)
    with left:
        common.show_figure(result_figures.roc_curves(curves, points=[m for m in [marks["roc"]] if m]),
                           f"{first.run_id}_roc", loaded)
    with right:
        common.show_figure(result_figures.pr_curves(curves, topological_prevalence(first),
                                                    points=[m for m in [marks["pr"]] if m]), f"{first.run_id}_pr", loaded)
    if not first.is_binary:
        per_class = (first.metrics.get("curves") or {}).get("per_class") or {}
        common.show_figure(result_figures.roc_curves(per_class, title="ROC of each class against the rest (test split)"),
                           f"{first.run_id}_roc_per_class", loaded)


def _calibration_tab(run: RunResults, loaded: common.Loaded) -> None:
    """ECE before and after calibration, reliability diagrams, accuracy against uncertainty."""
    try:
        summary, scores = calibration_summary(run.metrics), read_test_scores(run.metrics, run.threshold)
    except RunError as exc:
        st.info(str(exc), icon=":material/info:")
        return
    calibration, members = summary["calibration"], summary["n_members"]
    left, middle, right = st.columns(3)
    left.metric("ECE" + (" after calibration" if calibration else ""), f"{summary['ece']:.3f}",
                help="Expected calibration error on the test split: the mean gap between predicted probability and "
                     "observed frequency over 15 probability bins, weighted by their materials.")
    middle.metric("ECE before calibration", f"{summary['ece_uncalibrated']:.3f}" if calibration else "–")
    right.metric("Brier score", f"{summary['brier']:.3f}", help="Mean squared error of the probabilities (lower is better).")
    st.caption(CALIBRATED_NOTE.format(n=members, temperature=calibration["temperature"],
                                      bias=", ".join(f"{b:+.2f}" for b in calibration["bias"][1:]))
               if calibration else UNCALIBRATED_NOTE)
    names = list(run.metrics.get("classes") or ["trivial", "topological"])
    shown = range(1, len(names)) if len(names) == 2 else range(len(names))
    for column, index in zip(st.columns(len(shown)), shown):
        with column:
            common.show_figure(calibration_figures.reliability_diagram(
                scores.labels, scores.probability, scores.uncalibrated if calibration else None, column=index,
                class_name=names[index]), f"{run.run_id}_reliability_{index}", loaded)
    if scores.uncertainty is None:
        st.info("One CNN has no spread to measure its uncertainty: train an ensemble (Training page, or "
                "`python -m xanes_core train --ensemble 5`) to see whether the model knows when it is unsure.",
                icon=":material/info:")
        return
    table = calibration_figures.uncertainty_table(scores.labels, scores.predicted, scores.uncertainty)
    common.show_figure(calibration_figures.accuracy_by_uncertainty(table, members), f"{run.run_id}_uncertainty", loaded)
    _table(table, f"{run.run_id}_accuracy_by_uncertainty", loaded)


def _projection_tab(run: RunResults, loaded: common.Loaded) -> None:
    projection = run.metrics["projection"]
    common.show_figure(result_figures.decision_projection(projection, run.metrics.get("sample_ids", ()), run.threshold,
                                                          run.classes), f"{run.run_id}_projection", loaded)
    boundary = projection.get("boundary")
    st.caption("Penultimate-layer features (CNN) or input features (baselines) projected to two dimensions. "
               + (f"The dashed line is the threshold {run.threshold:.2f} as seen in this plane; it reproduces "
                  f"{boundary['boundary_agreement']:.0%} of the model's test predictions." if boundary
                  else "Three classes have no single boundary line: the points show where the classes lie."
                  if not run.is_binary else "The model predicts one class only, so there is no boundary to draw."))


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
        st.caption("Recorded with the run when it was trained: the data it learned from, whatever the "
                   "dataset folder holds now.")
        if run.provenance:
            _table(provenance_table(run.provenance), f"{run.run_id}_provenance", loaded)
        else:
            st.caption(f"This run did not record the provenance of dataset '{run.dataset_name}'.")
        st.markdown("**Software**")
        _table(software_table(), "software", loaded)


def _downloads(run: RunResults, shown: list[RunResults]) -> None:
    """The report and the figure pack, both at the threshold in use, built on click."""
    run_dir, threshold = run.run_dir.as_posix(), run.threshold
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in run.title)
    left, right = st.columns(2)
    left.download_button(
        "Download report (HTML)", lambda: _report(run_dir, _stamp(run_dir), tuple(r.run_dir.as_posix() for r in shown[1:]),
                                                  threshold),
        file_name=f"report_{stem}.html", mime="text/html", on_click="ignore", icon=":material/description:",
        key="results_report", help="One self-contained HTML file: summary box, every figure and table of this page, "
                                   "Table 1, the configuration, provenance and software versions; prints on A4.")
    right.download_button(
        "Download figure pack (PNG + SVG + CSV)", lambda: _pack(run_dir, _stamp(run_dir), threshold),
        file_name=f"figures_{stem}.zip", mime="application/zip", on_click="ignore", icon=":material/photo_library:",
        key="results_pack", help="Every figure of this run at publication size (PNG 3000 px wide, SVG) with its data "
                                 "as CSV, at the threshold above.")


def _show(run_dir: str, other: str, loaded: common.Loaded) -> None:
    raw = _read(run_dir)
    binding = dataset_binding(raw.run_dir, raw.config)  # now, not when the results were cached
    if binding.message:
        st.warning(binding.message, icon=":material/warning:")
    if raw.settings.name or raw.settings.note:
        st.markdown(f"**{raw.title}**" + (f" — {raw.settings.note}" if raw.settings.note else ""))
    threshold = _operating_point(raw, loaded)
    shown = [raw.at(threshold)] + ([] if other == _NONE else [_read(other).at()])
    run = shown[0]
    _headline(run, no_spectra_baseline(run))
    _downloads(run, shown)
    views = {"Per class": lambda: _summary_tab(run, loaded), "Per element": lambda: _element_tab(run, loaded),
             "ROC and PR": lambda: _curves_tab(shown, loaded), "Calibration": lambda: _calibration_tab(run, loaded),
             "Decision boundary": lambda: _projection_tab(run, loaded),
             "Training history": lambda: _history_tab(run, loaded), "Compare runs": lambda: _compare_tab(shown, loaded),
             "Spectral indicators": lambda: results_indicators.indicators_tab(run, loaded),
             "Configuration": lambda: _about_tab(run, loaded)}
    for tab, view in zip(st.tabs(list(views)), views.values()):
        with tab:
            view()


loaded = common.current()
common.page_header("Results", loaded, "Test-split scores of a completed run, per class and per absorbing element.")
completed = _completed_runs(loaded)
if not completed:
    st.info("No completed run on this dataset yet: start one on the Training page.", icon=":material/info:")
    st.stop()
by_dir = {run.run_dir: run for run in completed}
if st.session_state.get("results_run") not in by_dir:
    st.session_state.pop("results_run", None)  # a run chosen elsewhere (Training's link) that is not listed here
left, right = st.columns(2)
run_dir = left.selectbox("Run", list(by_dir), format_func=lambda d: _run_label(by_dir[d]), key="results_run")
other = right.selectbox("Compare with", [_NONE, *(d for d in by_dir if d != run_dir)], key="results_compare",
                        format_func=lambda d: d if d == _NONE else _run_label(by_dir[d]))
with common.user_errors():
    _show(run_dir, other, loaded)

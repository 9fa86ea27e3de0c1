"""One self-contained HTML file with everything the Results page shows about a run.

Meant to be mailed to a colleague: plotly.js is inlined once (the first figure carries it, the
others reuse it), there are no external scripts, styles or fonts, and the file says what was
trained on which data (configuration, dataset provenance), with which software, and when.
It opens with its title (the run's name, model and dataset) and a summary box (balanced
accuracy, recall, precision, AUC, beside the no-spectra baseline when one is trained), holds
paper Table 1 of the dataset, names datasets and runs by folder name (never a path of this
machine), is drawn at the run's saved operating point, and prints on A4 portrait (its widest
table has seven columns).
Headless: ``build_report(run_dir)`` needs no Streamlit and no model load (only the run folder
and the dataset manifest); ``python -m xanes_core report RUN_DIR`` writes it from the shell.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from xanes_core.analysis.attribution import AttributionMissing, check_attributable, read_explained
from xanes_core.analysis.indicators import element_indicators, indicator_table, informative_values, signal_ranges
from xanes_core.atomic import write_text
from xanes_core.data.browse import element_count_table
from xanes_core.errors import RunError, XanesError
from xanes_core.learn.confidence import calibration_summary, read_test_scores
from xanes_core.learn.operating_point import RULES
from xanes_core.learn.results import (
    METRIC_NAMES,
    MODEL_NAMES,
    RunResults,
    class_table,
    comparison_table,
    config_table,
    element_table,
    load_results,
    no_spectra_baseline,
    provenance_table,
    software_table,
    summary_row,
    topological_prevalence,
)
from xanes_core.learn.runs import load_run_dataset
from xanes_core.viz import attribution as attribution_figures
from xanes_core.viz import calibration as calibration_figures
from xanes_core.viz import results as result_figures
from xanes_core.viz.style import DEMO_LABEL, label_demo

Block = go.Figure | str
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1150px; margin: 2em auto;
       padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f6f7; } .text td { text-align: left; } td:first-child, th:first-child { text-align: left; }
.text td:last-child { overflow-wrap: anywhere; }
.demo { display: inline-block; background: #fdebd0; color: #9c640c; padding: 0.2em 0.7em; border-radius: 1em; }
.summary { border: 2px solid #1f618d; border-radius: 0.5em; padding: 0.6em 1em; margin: 1em 0; background: #f4f9fc; }
.summary table { margin: 0.4em 0; font-size: 1em; } .summary p { margin: 0.3em 0; }
.lead { font-size: 1.1em; }
.note { color: #555; font-size: 0.9em; }
@media print {
  @page { size: A4 portrait; margin: 14mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  table { font-size: 8pt; page-break-inside: auto; } tr { page-break-inside: avoid; }
  th, td { padding: 0.15em 0.35em; }
  .plotly-graph-div { page-break-inside: avoid; } .modebar { display: none !important; }
  h2 { page-break-after: avoid; }
}
"""
# The per-element table keeps seven columns so that it fits an A4 page in portrait.
_ELEMENT_COLUMNS = ("element", "test samples", "balanced accuracy", "topological recall", "topological precision",
                    "trivial recall", "trivial precision")
_HEADLINE = (("balanced accuracy", "Balanced accuracy"), ("topological recall", "Topological recall"),
             ("topological precision", "Topological precision"), ("trivial recall", "Trivial recall"),
             ("trivial precision", "Trivial precision"), ("ROC AUC", "ROC AUC"))
_ABSOLUTE_PATH = re.compile(r"^(/|[A-Za-z]:[\\/]|~)")
REPORT_ELEMENTS = 6  # attribution figures in a report: the elements with the most test spectra


def _table(frame: pd.DataFrame, text: bool = False) -> str:
    """A table; ``text`` left-aligns values that are words rather than numbers."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", border=0, escape=True,
                         classes="text" if text else None)


def _p(text: str, css: str = "note") -> str:
    return f'<p class="{css}">{html.escape(text)}</p>'


def without_paths(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace any value that is an absolute path by its last part: a report travels, this
    machine's folders do not mean anything to its reader (and are nobody else's business)."""
    def strip(value: object) -> object:
        return Path(str(value)).name if isinstance(value, str) and _ABSOLUTE_PATH.match(value) else value
    return frame.map(strip)


def _without_dataset_path(text: str, run: RunResults) -> str:
    """``text`` with the run's dataset folder named by its last part (see :func:`without_paths`)."""
    return text.replace(str(run.config.get("dataset", "")), f"'{run.dataset_name}'")


def binding_note(run: RunResults) -> str:
    """The dataset-binding message without this machine's path ('' when the dataset is the one
    trained on); the report's lead paragraph and the figure pack's README say it."""
    return _without_dataset_path(run.binding.message, run) if run.binding.message else ""


def _binding_notice(run: RunResults) -> str:
    """A lead paragraph when the run's dataset is not (or cannot be shown to be) the version it
    was trained on: the numbers below are those of the version it saw."""
    return _p(binding_note(run), "lead") + "\n" if run.binding.message else ""


def _headline(run: RunResults) -> tuple[tuple[str, str], ...]:
    """The summary box's columns: the binary headline, or each class's recall for three classes."""
    if run.is_binary:
        return _HEADLINE
    return (("balanced accuracy", "Balanced accuracy"), *((f"{name} recall", f"Recall, {name}") for name in run.classes),
            ("ROC AUC", "ROC AUC, topological vs trivial"))


def _decision(run: RunResults) -> str:
    if not run.is_binary:
        return "each to its most likely of three classes"
    return (f"at threshold {run.threshold:.3f} ({html.escape(RULES.get(run.settings.threshold_rule, 'chosen by hand'))};"
            " chosen on validation)")


def _summary_box(run: RunResults) -> str:
    """The headline numbers of the run beside those of the no-spectra baseline, in a box."""
    baseline = no_spectra_baseline(run) if run.is_binary else None
    rows = {f"this run ({MODEL_NAMES.get(run.model, run.model)})": summary_row(run)}
    if baseline is not None:
        rows[f"no spectra ({MODEL_NAMES['elements']}, run {baseline.title})"] = summary_row(baseline)
    table = pd.DataFrame({label: [row[key] for row in rows.values()] for key, label in _headline(run)},
                         index=list(rows)).rename_axis("model").reset_index()
    test = run.metrics["test"]
    parts = [f"<p class=\"lead\"><b>Balanced accuracy {test['balanced_accuracy']:.3f}</b> on "
             f"{test['n_samples']:,} test materials, {_decision(run)}.</p>", _table(table)]
    if baseline is None and run.model != "elements" and run.is_binary:
        parts.append(_p("No element-presence + symmetry baseline is trained on this dataset, so the value of the "
                        "spectra is not shown here: train one with `python -m xanes_core train --model elements`."))
    reference = run.metrics.get("reference_balanced_accuracy")
    if reference is not None:
        parts.append(_p(f"Demo generator's Bayes reference: {reference:.3f} balanced accuracy, the best a model "
                        "can be expected to do on these synthetic data."))
    if run.settings.note:
        parts.append(_p(f"Note: {run.settings.note}"))
    return '<div class="summary">' + "\n".join(parts) + "</div>"


def _per_class(run: RunResults) -> list[Block]:
    return [_table(class_table(run)), result_figures.class_metric_bars(run.metrics["test"], classes=run.classes),
            result_figures.confusion_matrix(run.metrics["confusion"], run.threshold, run.classes)]


def _dataset(run: RunResults) -> list[Block]:
    """Paper Table 1 of the run's dataset (materials per number of absorbing elements)."""
    try:
        dataset = load_run_dataset(run)  # the version the run was trained on, or nothing
    except XanesError as exc:
        return [_p(_without_dataset_path(f"Table 1 of the run's dataset cannot be shown. {exc}", run))]
    counts = element_count_table(dataset).rename(columns={"n_elements": "absorbing elements"})
    return [_p(f"Dataset '{run.dataset_name}': {dataset.n_samples:,} materials, {len(dataset.spectra):,} spectra."),
            _table(counts)]


def _per_element(run: RunResults) -> list[Block]:
    tables = result_figures.metric_periodic_tables(run.metrics["per_element"], run.threshold, run.classes)
    columns = (_ELEMENT_COLUMNS if run.is_binary else
               ("element", "test samples", "balanced accuracy", *(f"{name} recall" for name in run.classes)))
    compact = element_table(run)[list(columns)]
    return [_p("Each element is scored over the test materials that contain it. Each cell prints the score "
               "and the number of materials behind it; pale cells rest on fewer than ten, grey cells have none."),
            *tables.values(), _table(compact)]


def _curves(runs: Sequence[RunResults]) -> list[Block]:
    curves = {run.label: run.metrics.get("curves") for run in runs}
    if not runs[0].is_binary:
        per_class = (runs[0].metrics.get("curves") or {}).get("per_class") or {}
        return [_p("Topological (insulator or semimetal) against trivial, then each class against the rest."),
                result_figures.roc_curves(curves), result_figures.pr_curves(curves, topological_prevalence(runs[0])),
                result_figures.roc_curves(per_class, title="ROC of each class against the rest (test split)")]
    marks = result_figures.operating_marks(runs[0].metrics["test"], f"threshold {runs[0].threshold:.2f}")
    return [result_figures.roc_curves(curves, points=[marks["roc"]]),
            result_figures.pr_curves(curves, topological_prevalence(runs[0]), points=[marks["pr"]])]


def _calibration(run: RunResults) -> list[Block]:
    """ECE before and after calibration, reliability diagrams, accuracy against uncertainty."""
    try:
        summary, scores = calibration_summary(run.metrics), read_test_scores(run.metrics, run.threshold)
    except RunError as exc:
        return [_p(str(exc))]
    calibrated = summary["calibration"] is not None
    text = (f"Expected calibration error on the test split: {summary['ece']:.3f} after calibration on the "
            f"validation split, {summary['ece_uncalibrated']:.3f} before (mean of {summary['n_members']} CNN(s)); "
            f"Brier score {summary['brier']:.3f}." if calibrated else
            f"Expected calibration error on the test split: {summary['ece']:.3f} (not calibrated: the class-balancing "
            f"weights of training push p(topological) above the frequency); Brier score {summary['brier']:.3f}.")
    names = list(run.metrics.get("classes") or ["trivial", "topological"])
    blocks: list[Block] = [_p(text, "lead")]
    for index in range(1, 2) if len(names) == 2 else range(len(names)):
        blocks.append(calibration_figures.reliability_diagram(
            scores.labels, scores.probability, scores.uncalibrated if calibrated else None, column=index,
            class_name=names[index]))
    if scores.uncertainty is not None:
        table = calibration_figures.uncertainty_table(scores.labels, scores.predicted, scores.uncertainty)
        blocks += [calibration_figures.accuracy_by_uncertainty(table, summary["n_members"]), _table(table)]
    return blocks


def _projection(run: RunResults) -> list[Block]:
    projection = run.metrics["projection"]
    boundary = projection.get("boundary")
    note = (f"The dashed line is the model's threshold {run.threshold:.2f} as seen in this plane: a logistic "
            f"regression fitted to the model's own predicted classes; it reproduces "
            f"{boundary['boundary_agreement']:.0%} of them." if boundary else
            "The model predicts a single class on the test split, so there is no boundary to draw.")
    if not run.is_binary:
        note = "Three classes have no single boundary line: the points show where the classes lie."
    return [result_figures.decision_projection(projection, run.metrics.get("sample_ids", ()), run.threshold,
                                               run.classes), _p(note)]


def _history(run: RunResults) -> list[Block]:
    if not run.history:
        return [_p(f"The {run.model} baseline is fitted in one step: it has no training curves.")]
    return [result_figures.history_curves(run.history, "loss"), result_figures.history_curves(run.history, "accuracy")]


def _indicators(run: RunResults) -> list[Block]:
    """The test split's attribution over energy, when the run folder holds it (never computed here:
    a report loads no model)."""
    try:
        check_attributable(run)
        attribution, means = read_explained(run.run_dir, "test")
    except AttributionMissing:
        return [_p(f"No attribution data in run {run.run_id} yet: `python -m xanes_core attribute RUN_DIR` (this "
                   "run's folder) or the Results page's Spectral indicators tab computes it; the report then shows it.")]
    except RunError as exc:
        return [_p(_without_dataset_path(str(exc).replace(str(run.run_dir), run.run_id), run))]
    indicators = element_indicators(attribution, means)
    values, support = informative_values(attribution)
    shown = sorted(indicators, key=lambda e: -indicators[e].n_spectra)[:REPORT_ELEMENTS]
    return [_p(attribution_figures.METHOD_NOTE + f" Completeness: within {attribution.completeness_error:.4f} of the spectra's "
               f"effect on average (mean effect {attribution.spectra_effect:.3f})."),
            attribution_figures.informative_periodic_table(values, support, "test"),
            _table(indicator_table(indicators).drop(columns=["E0 reference (eV)", "grid share"], errors="ignore")),
            _p(f"The {len(shown)} elements with the most test spectra:"),
            *(attribution_figures.split_attribution_figure(attribution, means, e, signal_ranges(e, attribution.is_demo))
              for e in shown)]


def _comparison(runs: Sequence[RunResults]) -> list[Block]:
    table = comparison_table(list(runs))
    return [_table(table), result_figures.comparison_bars(table)]


def _about(run: RunResults, generated: datetime) -> list[Block]:
    return [
        "<h3>Configuration</h3>", _table(without_paths(config_table(run)), text=True),
        "<h3>Dataset provenance</h3>",
        _table(without_paths(provenance_table(run.provenance)), text=True) if run.provenance
        else _p(f"The provenance of the dataset '{run.dataset_name}' was not recorded with this run."),
        *([_p(_without_dataset_path(run.binding.message, run))] if run.binding.message else []),
        "<h3>Software</h3>", _table(software_table(), text=True),
        _p(f"Report generated {generated.isoformat(timespec='seconds')} by xanes_core.viz.report."),
    ]


def _render(blocks: Sequence[Block], first_figure: list[bool], demo: bool) -> str:
    """HTML of the blocks; the first figure of the whole report inlines plotly.js, once.

    With ``demo`` each figure carries the demo label itself, so a PNG saved from it keeps it.
    """
    parts = []
    for block in blocks:
        if isinstance(block, go.Figure):
            if demo:
                label_demo(block)
            parts.append(block.to_html(full_html=False, include_plotlyjs=first_figure[0],
                                       config={"displaylogo": False}))
            first_figure[0] = False
        else:
            parts.append(block)
    return "\n".join(parts)


def report_title(run: RunResults) -> str:
    """'<run name>: <model> on <dataset>', the report's title and its file's name stem."""
    return f"{run.title}: {MODEL_NAMES.get(run.model, run.model)} on dataset '{run.dataset_name}'"


def build_report(run_dir: str | Path, compare: Sequence[str | Path] = (),
                 generated: datetime | None = None, threshold: float | None = None) -> str:
    """The report of a completed run (RunError if it is not), optionally side by side with others,
    at ``threshold`` (default: the run's saved operating point)."""
    run = load_results(run_dir).at(threshold)
    others = [load_results(path).at() for path in compare]
    generated = generated or datetime.now(timezone.utc)
    sections: list[tuple[str, list[Block]]] = [
        ("Test metrics per class (paper Fig. 3e)", _per_class(run)),
        ("The dataset (paper Table 1)", _dataset(run)),
        (f"{', '.join(METRIC_NAMES.values())} per absorbing element (paper Fig. 3a-c, S4a-c)", _per_element(run)),
        ("ROC and precision-recall curves", _curves([run, *others])),
        ("Calibration and uncertainty", _calibration(run)),
        ("Decision boundary in two dimensions (paper Fig. 3d)", _projection(run)),
        ("Training history (paper Fig. S4d-e)", _history(run)),
        ("Spectral indicators: where in energy the spectra push (test split)", _indicators(run)),
    ]
    if others:
        sections.append(("Runs compared", _comparison([run, *others])))
    sections.append(("Configuration, data and software", _about(run, generated)))
    first_figure = [True]
    body = "\n".join(f"<h2>{html.escape(title)}</h2>\n{_render(blocks, first_figure, run.is_demo)}" for title, blocks in sections)
    demo = f'<p><span class="demo">{DEMO_LABEL}</span> this run was trained and tested on the ' \
           "generated demo dataset, not on measured or computed spectra.</p>" if run.is_demo else ""
    title = report_title(run)
    subtitle = (f"Run {run.run_id} · created {run.config.get('created', '?')} · "
                f"report generated {generated:%Y-%m-%d %H:%M} UTC")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n{demo}"
            f"{_p(subtitle)}\n{_binding_notice(run)}{_summary_box(run)}\n"
            f"{body}\n</body></html>\n")


def write_report(run_dir: str | Path, out: str | Path | None = None, compare: Sequence[str | Path] = ()) -> Path:
    """Write the report (default ``RUN_DIR/report.html``) atomically; returns its path."""
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    write_text(path, build_report(run_dir, compare))
    return path

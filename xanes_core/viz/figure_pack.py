"""The figure pack: every figure of a run as PNG and SVG at publication size, each with its data
as CSV, in one zip (Results page download; ``python -m xanes_core figures RUN_DIR --out FILE``).

Figures are drawn at the run's saved operating point (:mod:`xanes_core.learn.run_settings`), so
the pack, the report and the Results page agree. Static images are rendered by kaleido, which
drives the system's Chromium (``/usr/bin/chromium``); it is imported only here, when a pack is
made. All images of a pack are rendered in one browser session (one start-up, ~10 s, instead of
one per image). The zip holds no path of this machine: files are named by figure, and
``README.txt`` names the run, its dataset folder and the threshold.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xanes_core.atomic import write_bytes
from xanes_core.errors import RunError, XanesError
from xanes_core.learn import operating_point
from xanes_core.learn.confidence import read_test_scores
from xanes_core.learn.results import (
    RunResults,
    class_table,
    comparison_table,
    element_table,
    load_results,
    no_spectra_baseline,
    topological_prevalence,
)
from xanes_core.viz import calibration as calibration_figures
from xanes_core.viz import results as result_figures
from xanes_core.viz.report import binding_note
from xanes_core.viz.style import label_demo

PNG_WIDTH = 1000  # px at scale 1: about 17 cm at 150 dpi, with PNG_SCALE 3 a 450 dpi column figure
PNG_SCALE = 3


@dataclass(frozen=True)
class PackedFigure:
    """One figure of the pack, its file stem and the data it draws."""

    name: str
    figure: go.Figure
    table: pd.DataFrame


def _curve_tables(run: RunResults) -> tuple[pd.DataFrame, pd.DataFrame]:
    curves = run.metrics.get("curves") or {}
    roc, pr = curves.get("roc") or {}, curves.get("pr") or {}
    roc_table = pd.DataFrame({key: roc.get(key, []) for key in ("fpr", "tpr", "thresholds")})
    pr_thresholds = list(pr.get("thresholds", [])) + [np.nan]  # sklearn gives one fewer threshold
    pr_table = pd.DataFrame({"recall": pr.get("recall", []), "precision": pr.get("precision", []),
                             "thresholds": pr_thresholds[:len(pr.get("recall", []))]})
    return roc_table, pr_table


def _summary_figures(run: RunResults) -> list[PackedFigure]:
    test, threshold, classes = run.metrics["test"], run.threshold, run.classes
    names, order = list(classes), list(classes.values())
    confusion = np.asarray(run.metrics["confusion"])[np.ix_(order, order)]
    confusion_table = pd.DataFrame(confusion, columns=[f"predicted {n}" for n in names])
    confusion_table.insert(0, "true class", names)
    marks = (result_figures.operating_marks(test, f"threshold {threshold:.2f}") if run.is_binary else {})
    curves = {run.label: run.metrics.get("curves")}
    roc_table, pr_table = _curve_tables(run)
    return [
        PackedFigure("class_metrics", result_figures.class_metric_bars(test, classes=classes), class_table(run)),
        PackedFigure("confusion_matrix", result_figures.confusion_matrix(run.metrics["confusion"], threshold, classes),
                     confusion_table),
        PackedFigure("roc_curve", result_figures.roc_curves(curves, points=[marks["roc"]] if marks else []), roc_table),
        PackedFigure("pr_curve", result_figures.pr_curves(curves, topological_prevalence(run),
                                                          points=[marks["pr"]] if marks else []), pr_table),
    ]


def _calibration_figures(run: RunResults) -> list[PackedFigure]:
    """Reliability diagrams (each class; two classes: topological) and, for an ensemble,
    accuracy against uncertainty; none for a run evaluated before scores were kept."""
    try:
        scores = read_test_scores(run.metrics, run.threshold)
    except RunError:
        return []
    calibrated = bool((run.metrics.get("ensemble") or {}).get("calibration"))
    names = list(run.metrics.get("classes") or ["trivial", "topological"])
    packed = []
    for index in range(1, 2) if len(names) == 2 else range(len(names)):
        uncalibrated = scores.uncalibrated if calibrated else None
        packed.append(PackedFigure(
            f"reliability_{names[index].replace(' ', '_')}",
            calibration_figures.reliability_diagram(scores.labels, scores.probability, uncalibrated, column=index,
                                                    class_name=names[index]),
            calibration_figures.reliability_table(scores.labels, scores.probability, uncalibrated, index)))
    if scores.uncertainty is not None:
        table = calibration_figures.uncertainty_table(scores.labels, scores.predicted, scores.uncertainty)
        members = run.metrics["ensemble"]["n_members"]
        packed.append(PackedFigure("accuracy_by_uncertainty",
                                   calibration_figures.accuracy_by_uncertainty(table, members), table))
    return packed


def _operating_point_figure(run: RunResults) -> list[PackedFigure]:
    if not operating_point.has_scores(run.metrics):
        return []
    sweep = operating_point.sweep(run.metrics)
    marked = [(choice.short, choice.threshold) for choice in operating_point.choices(run.metrics)]
    return [PackedFigure("operating_point", result_figures.threshold_curves(sweep, marked, run.threshold), sweep)]


def _projection_figure(run: RunResults) -> list[PackedFigure]:
    projection = run.metrics.get("projection")
    if not projection:
        return []
    ids = run.metrics.get("sample_ids", [])
    table = pd.DataFrame({"sample_id": ids or [""] * len(projection["x"]), "x": projection["x"],
                          "y": projection["y"], "label": projection["label"],
                          "p_topological": projection["probability"]})
    return [PackedFigure("decision_projection",
                         result_figures.decision_projection(projection, ids, run.threshold, run.classes), table)]


def _history_figures(run: RunResults) -> list[PackedFigure]:
    table = pd.DataFrame(run.history)
    return [PackedFigure(f"history_{quantity}", result_figures.history_curves(run.history, quantity), table)
            for quantity in ("loss", "accuracy") if run.history]


def _element_figures(run: RunResults) -> list[PackedFigure]:
    figures = result_figures.metric_periodic_tables(run.metrics["per_element"], run.threshold, run.classes)
    table = element_table(run)
    packed = []
    for (metric, name), figure in figures.items():
        columns = ["element", "test samples", f"{name} samples", f"predicted {name}", f"{name} {metric}"]
        packed.append(PackedFigure(f"ptable_{name}_{metric}", figure, table[columns]))
    return packed


def _baseline_figure(run: RunResults) -> list[PackedFigure]:
    baseline = no_spectra_baseline(run)
    if baseline is None:
        return []
    table = comparison_table([run, baseline])
    return [PackedFigure("vs_no_spectra_baseline", result_figures.comparison_bars(table), table)]


SECTIONS: tuple[Callable[[RunResults], list[PackedFigure]], ...] = (
    _summary_figures, _operating_point_figure, _calibration_figures, _projection_figure, _history_figures,
    _element_figures, _baseline_figure)


def run_figures(run: RunResults) -> list[PackedFigure]:
    """Every figure of a run (at its metrics' threshold), in the order of the Results page."""
    packed = [figure for section in SECTIONS for figure in section(run)]
    if run.is_demo:
        for item in packed:
            label_demo(item.figure)
    return packed


def _render(packed: list[PackedFigure], folder: Path) -> None:
    """PNG and SVG of every figure, all in one kaleido session."""
    import plotly.io as pio

    figures = [item.figure for item in packed for _ in (0, 1)]
    files = [folder / f"{item.name}.{ext}" for item in packed for ext in ("png", "svg")]
    heights = [int(item.figure.layout.height or 450) for item in packed for _ in (0, 1)]
    try:
        pio.write_images(figures, files, width=PNG_WIDTH, height=heights, scale=PNG_SCALE)
    except Exception as exc:  # noqa: BLE001 - kaleido/Chromium failures of any kind become one line
        raise XanesError(f"Could not render the figures as images (kaleido with Chromium): "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def _readme(run: RunResults, packed: list[PackedFigure], generated: datetime) -> str:
    lines = [f"Figures of run '{run.title}' ({run.label}), dataset '{run.dataset_name}'"
             + (" (synthetic demo data)" if run.is_demo else ""),
             (f"Operating point: threshold {run.threshold:.3f} on p(topological) "
              f"({operating_point.RULES.get(run.settings.threshold_rule, 'chosen by hand')}); "
              "chosen on the validation split, scores on the test split." if run.is_binary else
              f"Three classes ({', '.join(run.classes)}): each material goes to its most likely class; "
              "scores on the test split."),
             *([binding_note(run)] if binding_note(run) else []),
             f"Generated {generated.isoformat(timespec='seconds')} by xanes_core.viz.figure_pack.",
             f"Each figure: NAME.png ({PNG_WIDTH * PNG_SCALE} px wide), NAME.svg (vector), NAME.csv (its data).", ""]
    lines += [f"- {item.name}: {item.figure.layout.title.text}" for item in packed]
    return "\n".join(lines) + "\n"


def build_figure_pack(run_dir: str | Path, threshold: float | None = None) -> tuple[bytes, int]:
    """(zip bytes, number of figures) of a completed run at ``threshold`` (default: its saved one)."""
    run = load_results(run_dir).at(threshold)
    packed = run_figures(run)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="xanes-figures-") as tmp:
        _render(packed, Path(tmp))
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", _readme(run, packed, datetime.now(timezone.utc)))
            for item in packed:
                for ext in ("png", "svg"):
                    archive.write(Path(tmp) / f"{item.name}.{ext}", f"{item.name}.{ext}")
                archive.writestr(f"{item.name}.csv", item.table.to_csv(index=False))
    return buffer.getvalue(), len(packed)


def write_figure_pack(run_dir: str | Path, out: str | Path, threshold: float | None = None) -> tuple[Path, int]:
    """Write the pack atomically to ``out``; returns (path, number of figures)."""
    data, count = build_figure_pack(run_dir, threshold)
    path = Path(out)
    write_bytes(path, data)
    return path, count


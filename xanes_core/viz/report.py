"""One self-contained HTML file with everything the Results page shows about a run.

Meant to be mailed to a colleague: plotly.js is inlined once (the first figure carries it, the
others reuse it), there are no external scripts, styles or fonts, and the file says what was
trained on which data (configuration, dataset provenance), with which software, and when.
Headless: ``build_report(run_dir)`` needs no Streamlit and no model load (only the run folder
and the dataset manifest); ``python -m xanes_core report RUN_DIR`` writes it from the shell.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from xanes_core.atomic import write_text
from xanes_core.learn.results import (
    METRIC_NAMES,
    RunResults,
    class_table,
    comparison_table,
    config_table,
    element_table,
    load_results,
    provenance_table,
    software_table,
    topological_prevalence,
)
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
.demo { display: inline-block; background: #fdebd0; color: #9c640c; padding: 0.2em 0.7em; border-radius: 1em; }
.lead { font-size: 1.1em; }
.note { color: #555; font-size: 0.9em; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
"""


def _table(frame: pd.DataFrame, text: bool = False) -> str:
    """A table; ``text`` left-aligns values that are words rather than numbers."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", border=0, escape=True,
                         classes="text" if text else None)


def _p(text: str, css: str = "note") -> str:
    return f'<p class="{css}">{html.escape(text)}</p>'


def _summary(run: RunResults) -> list[Block]:
    test, reference = run.metrics["test"], run.metrics.get("reference_balanced_accuracy")
    blocks: list[Block] = [
        _p(f"Balanced accuracy (mean of the two recalls): {test['balanced_accuracy']:.3f} "
           f"on {test['n_samples']} test materials.", "lead"),
    ]
    if reference is not None:
        blocks.append(_p(f"Reference: the demo generator's own p_topological, thresholded at the class "
                         f"prevalence, reaches a balanced accuracy of {reference:.3f} on the same test materials "
                         "(the best a model can be expected to do on these synthetic data)."))
    blocks += [_table(class_table(run)), result_figures.class_metric_bars(test),
               result_figures.confusion_matrix(run.metrics["confusion"])]
    return blocks


def _per_element(run: RunResults) -> list[Block]:
    tables = result_figures.metric_periodic_tables(run.metrics["per_element"])
    return [_p("Each element is scored over the test materials that contain it; grey cells have no test "
               "materials, or none of the class (hover for the counts)."),
            *tables.values(), _table(element_table(run))]


def _curves(runs: Sequence[RunResults]) -> list[Block]:
    curves = {run.label: run.metrics.get("curves") for run in runs}
    return [result_figures.roc_curves(curves), result_figures.pr_curves(curves, topological_prevalence(runs[0]))]


def _projection(run: RunResults) -> list[Block]:
    projection = run.metrics["projection"]
    boundary = projection.get("boundary")
    note = ("The dashed line is the model's 0.5 threshold as seen in this plane: a logistic regression "
            "fitted to the model's own predicted classes; it reproduces "
            f"{boundary['boundary_agreement']:.0%} of them." if boundary else
            "The model predicts a single class on the test split, so there is no boundary to draw.")
    return [result_figures.decision_projection(projection, run.metrics.get("sample_ids", ())), _p(note)]


def _history(run: RunResults) -> list[Block]:
    if not run.history:
        return [_p(f"The {run.model} baseline is fitted in one step: it has no training curves.")]
    return [result_figures.history_curves(run.history, "loss"), result_figures.history_curves(run.history, "accuracy")]


def _comparison(runs: Sequence[RunResults]) -> list[Block]:
    table = comparison_table(list(runs))
    return [_table(table), result_figures.comparison_bars(table)]


def _about(run: RunResults, generated: datetime) -> list[Block]:
    return [
        "<h3>Configuration</h3>", _table(config_table(run), text=True),
        "<h3>Dataset provenance</h3>",
        _table(provenance_table(run.provenance), text=True) if run.provenance
        else _p(f"The dataset at {run.config.get('dataset')} is no longer available."),
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


def build_report(run_dir: str | Path, compare: Sequence[str | Path] = (),
                 generated: datetime | None = None) -> str:
    """The report of a completed run (RunError if it is not), optionally side by side with others."""
    run = load_results(run_dir)
    others = [load_results(path) for path in compare]
    generated = generated or datetime.now(timezone.utc)
    sections: list[tuple[str, list[Block]]] = [
        ("Test metrics per class (paper Fig. 3e)", _summary(run)),
        (f"{', '.join(METRIC_NAMES.values())} per absorbing element (paper Fig. 3a-c, S4a-c)", _per_element(run)),
        ("ROC and precision-recall curves", _curves([run, *others])),
        ("Decision boundary in two dimensions (paper Fig. 3d)", _projection(run)),
        ("Training history (paper Fig. S4d-e)", _history(run)),
    ]
    if others:
        sections.append(("Runs compared", _comparison([run, *others])))
    sections.append(("Configuration, data and software", _about(run, generated)))
    first_figure = [True]
    body = "\n".join(f"<h2>{html.escape(title)}</h2>\n{_render(blocks, first_figure, run.is_demo)}" for title, blocks in sections)
    demo = f'<p><span class="demo">{DEMO_LABEL}</span> this run was trained and tested on the ' \
           "generated demo dataset, not on measured or computed spectra.</p>" if run.is_demo else ""
    title = f"XANES topology classifier: {run.label}"
    subtitle = (f"Dataset {run.config.get('dataset')} · run created {run.config.get('created', '?')} · "
                f"report generated {generated:%Y-%m-%d %H:%M} UTC")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n{demo}"
            f"{_p(subtitle)}\n"
            f"{body}\n</body></html>\n")


def write_report(run_dir: str | Path, out: str | Path | None = None, compare: Sequence[str | Path] = ()) -> Path:
    """Write the report (default ``RUN_DIR/report.html``) atomically; returns its path."""
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    write_text(path, build_report(run_dir, compare))
    return path

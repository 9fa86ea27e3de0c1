"""Figures of the attribution over energy (:mod:`xanes_core.analysis.attribution`): per element,
where in energy the spectra push towards topological (up) or trivial (down), above the element's
mean training spectrum of each class; and a periodic table of how spectrally informative each
element is. Results page, Predict page and the HTML report draw the same figures.

Energies are relative to the element's E0 reference (its class-neutral training spectrum's
derivative maximum); where the edge is not on the grid (flat spectra, or in the demo from Hf on)
they are relative to the tabulated K edge, and the axis says so. On the demo, the generator's
energy ranges are shaded: green where they carry class information, grey where they carry none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from xanes_core.analysis.attribution import SplitAttribution, e0_reference
from xanes_core.data.class_means import ClassMeans
from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.data.demo import EnergyRange
from xanes_core.data.elements import CHANNELS, energy_grid, k_edge_energy
from xanes_core.viz.periodic_table import Scale, periodic_table, truncated
from xanes_core.viz.style import (
    ABSORPTION_AXIS,
    CLASS_COLORS,
    base_layout,
    legend_below,
)

ATTRIBUTION_AXIS = "Attribution (Δp per point)"
METHOD_NOTE = ("Integrated gradients of p(topological) from each element's class-neutral mean training spectrum "
               "(the average of its topological and trivial means; elements and space group kept). Up: the spectra "
               "push towards topological; down: towards trivial (mean per true class, energies relative to the "
               "element's E0 reference). The periodic table shows how spectrally informative each element is: "
               "absolute attribution per spectrum of it.")
_RANGE_FILL = {True: "rgba(39,174,96,0.12)", False: "rgba(127,140,141,0.15)"}
_MATERIAL_COLOR = "#17202a"


def energy_origin(element: str, e0: float | None) -> tuple[float, str]:
    """(origin eV, x-axis title): the E0 reference, or the tabulated K edge when there is none."""
    if e0 is not None:
        return e0, f"E − E0 (eV), E0 = {e0:,.1f} eV (class-neutral training spectrum)"
    edge = k_edge_energy(element)
    return edge, f"E − E_K (eV), E_K = {edge:,.1f} eV (tabulated; the edge is not on this grid)"


def _panels(element: str, e0: float | None, top: Sequence[go.Scatter], bottom: Sequence[go.Scatter],
            ranges: Sequence[EnergyRange], title: str) -> go.Figure:
    """Attribution (top, 60 %) over spectra (bottom) on one relative energy axis."""
    origin, axis_title = energy_origin(element, e0)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06)
    for trace in top:
        fig.add_trace(trace.update(x=np.asarray(trace.x) - origin), row=1, col=1)
    for trace in bottom:
        fig.add_trace(trace.update(x=np.asarray(trace.x) - origin), row=2, col=1)
    fig.add_hline(y=0, line=dict(color="#566573", width=1), row=1, col=1)
    for energy_range in ranges:
        fig.add_vrect(x0=energy_range.low_ev - origin, x1=energy_range.high_ev - origin, row="all", col=1,
                      fillcolor=_RANGE_FILL[energy_range.carries_class], line_width=0, layer="below")
    if ranges:
        fig.add_annotation(text="shaded: demo generator's ranges, green with class information, grey without",
                           xref="paper", yref="paper", x=0, y=1.02, showarrow=False, xanchor="left",
                           font=dict(size=11, color="#566573"))
    fig.update_xaxes(title=axis_title, row=2, col=1)
    fig.update_yaxes(title=ATTRIBUTION_AXIS, row=1, col=1)
    fig.update_yaxes(title=ABSORPTION_AXIS, row=2, col=1)
    return legend_below(base_layout(fig, title, 620))


def _class_mean_traces(means: ClassMeans, element: str) -> list[go.Scatter]:
    traces = []
    for label in means.classes:
        mean = means.class_mean(element, int(label))
        if mean is not None:
            n = int(means.count[CHANNELS.index(element), list(means.classes).index(label)])
            traces.append(go.Scatter(
                x=energy_grid(element), y=mean, mode="lines", legendgroup=f"mean-{label}",
                name=f"{CLASS_NAMES[int(label)]} mean training spectrum (n={n:,})",
                line=dict(color=CLASS_COLORS[int(label)], width=1.5, dash="dot")))
    return traces


def split_attribution_figure(attribution: SplitAttribution, means: ClassMeans, element: str,
                             ranges: Sequence[EnergyRange] = ()) -> go.Figure:
    """Mean attribution over the split's spectra of ``element``, one line per true class."""
    top = []
    for k, label in enumerate(attribution.classes):
        mean = attribution.mean_attribution(element, int(label))
        if mean is not None:
            n = int(attribution.count[CHANNELS.index(element), k])
            top.append(go.Scatter(
                x=energy_grid(element), y=mean, mode="lines", line=dict(color=CLASS_COLORS[int(label)], width=2.5),
                name=f"{CLASS_NAMES[int(label)]} {attribution.split} materials (n={n:,})",
                hovertemplate="%{x:.1f} eV<br>mean attribution %{y:+.2e}<extra></extra>"))
    title = (f"{element} K edge: where the spectra push the {attribution.split} split's predictions "
             "(up: towards topological)")
    return _panels(element, e0_reference(means, element), top, _class_mean_traces(means, element), ranges, title)


def material_attribution_figure(element: str, mu: np.ndarray, values: np.ndarray, means: ClassMeans,
                                name: str, ranges: Sequence[EnergyRange] = ()) -> go.Figure:
    """One material's attribution for ``element`` (filled: red pushes towards topological, blue
    towards trivial) over its spectrum and the class mean training spectra."""
    grid = energy_grid(element)
    top = [go.Scatter(x=grid, y=np.where(values > 0, values, 0), mode="lines", fill="tozeroy", line=dict(width=0),
                      fillcolor="rgba(192,57,43,0.6)", name="towards topological", hoverinfo="skip"),
           go.Scatter(x=grid, y=np.where(values < 0, values, 0), mode="lines", fill="tozeroy", line=dict(width=0),
                      fillcolor="rgba(36,113,163,0.6)", name="towards trivial", hoverinfo="skip"),
           go.Scatter(x=grid, y=values, mode="lines", line=dict(color=_MATERIAL_COLOR, width=1), showlegend=False,
                      hovertemplate="%{x:.1f} eV<br>attribution %{y:+.2e}<extra></extra>")]
    bottom = [*_class_mean_traces(means, element),
              go.Scatter(x=grid, y=mu, mode="lines", name=name, line=dict(color=_MATERIAL_COLOR, width=2.5))]
    title = f"{element} K edge: where {name}'s spectrum pushes (sum {values.sum():+.3f})"
    return _panels(element, e0_reference(means, element), top, bottom, ranges, title)


def informative_periodic_table(values: Mapping[str, float], support: Mapping[str, int], split: str) -> go.Figure:
    """Attribution mass per spectrum of each element (how spectrally informative it is)."""
    hover = {e: f"<b>{e}</b><br>{v:.3f} absolute attribution per spectrum<br>{support.get(e, 0):,} {split} spectra"
             for e, v in values.items()}
    return periodic_table(values, title=f"How spectrally informative is each element ({split} split)",
                          colorbar_title="|attribution| per spectrum", hover=hover, support=support,
                          scale=Scale(colorscale=truncated("YlGnBu"), value_format=".2f"))

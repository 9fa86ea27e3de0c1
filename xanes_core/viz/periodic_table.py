"""Periodic-table heatmaps that survive a screenshot: every number is printed in its cell.

Drawn with ``go.Heatmap`` over :func:`xanes_core.data.elements.table_position` rather than with
``pymatviz.ptable_heatmap``: importing pymatviz 0.18 takes ~2.7 s, it ties us to plotly<7
through ``create_annotated_heatmap``, and it cannot draw what a slide needs here:

- **numbers in the cells** (the value, and the count behind it), so nothing lives only in a hover;
- **"no data" and zero kept apart**: no data is a grey cell with the symbol alone; a zero on a log
  scale (a ratio or a count of 0) is a white, outlined cell that prints "0", instead of the
  darkest colour;
- **small samples faded**: a value resting on fewer than ``min_support`` materials is drawn pale
  and prints its n, so two test samples do not look as sure as three hundred;
- **a colour scale fit to the data** (see :func:`fit_range`), optionally centred on a reference
  value such as chance, instead of a fixed 0-1 or 0.01-100 that puts every element in one colour.

Cell text colour follows the cell (dark on light, white on dark), and all text is drawn by one
text trace on top of the cells so its size is the same in every cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import get_colorscale, sample_colorscale

from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.data.elements import CHANNELS, table_position
from xanes_core.viz.style import NO_DATA_COLOR, base_layout

MIN_SUPPORT = 10  # below this many materials a value is drawn faded
FADED_OPACITY = 0.35
ZERO_COLOR = "#ffffff"
_N_TABLE_ROWS = 8  # periods 2-6, a gap, lanthanides, actinides (no channel in periods 1 and 7)
_HEIGHT = 520
_FONT = 11


@dataclass(frozen=True)
class Scale:
    """How values become colours and cell text.

    ``log``: colour by log10 (zeros become the distinct zero cell). ``center``: make the range
    symmetric around this value (a diverging scale around chance or an overall ratio).
    ``value_format``: a format spec for the printed value, or "count" for thousands separators.
    ``zrange``: fixed bounds instead of fitting them to the data.
    """

    colorscale: str | list = "Viridis"
    log: bool = False
    center: float | None = None
    value_format: str = ".2f"
    zrange: tuple[float, float] | None = None


def truncated(name: str, start: float = 0.2) -> list:
    """A named sequential scale without its near-white start, so it cannot be taken for zero."""
    fractions = np.linspace(start, 1.0, 9)
    colours = sample_colorscale(get_colorscale(name), list(fractions))
    return [[float(i / 8), colour] for i, colour in enumerate(colours)]


def cell_index(symbol: str) -> tuple[int, int]:
    """(row, column) of an element in the heatmap arrays: periods 2-6 on rows 0-4, then a gap,
    then the lanthanides and actinides (no channel lies in periods 1 and 7)."""
    pos = table_position(symbol)
    return pos.row - 2, pos.column - 1


def _nice_floor(value: float, step: float) -> float:
    return float(np.floor(value / step + 1e-9) * step)


def _nice_ceil(value: float, step: float) -> float:
    return float(np.ceil(value / step - 1e-9) * step)


def fit_range(values: np.ndarray, scale: Scale) -> tuple[float, float]:
    """Colour bounds that span the data (in log10 for a log scale), rounded outwards.

    Linear scales round to 0.05 (scores) or to a tenth of the span; log scales to whole or half
    decades; with ``center`` the bounds are symmetric around it so the centre colour means it.
    """
    finite = values[np.isfinite(values)]
    if scale.log:
        finite = np.log10(finite[finite > 0])
    if finite.size == 0:
        return (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    centre = None if scale.center is None else (np.log10(scale.center) if scale.log else scale.center)
    if centre is not None:
        half = max(abs(high - centre), abs(centre - low), 1e-6)
        low, high = centre - half, centre + half
    step = 0.5 if scale.log else (0.05 if high - low <= 1.5 else 10 ** np.floor(np.log10(high - low)) / 2)
    low, high = _nice_floor(low, step), _nice_ceil(high, step)
    if high - low < step:
        low, high = low - step / 2, high + step / 2
    if centre is not None:
        half = max(centre - low, high - centre)
        low, high = centre - half, centre + half
    return low, high


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks between two log10 bounds; decades only when they span more than two."""
    steps = (1,) if high - low > 2 else (1, 2, 5)
    ticks = [m * 10.0 ** k for k in range(int(np.floor(low)), int(np.ceil(high)) + 1) for m in steps
             if low - 1e-9 <= np.log10(m * 10.0 ** k) <= high + 1e-9]
    return ticks or [10.0 ** low, 10.0 ** high]


def format_value(value: float, value_format: str) -> str:
    """A cell's printed number: thousands separators for counts, ∞ for an infinite ratio."""
    if np.isinf(value):
        return "∞"
    if value_format == "count":
        return f"{int(round(value)):,}"
    return format(value, value_format)


def _text_colour(colorscale: list, fraction: float) -> str:
    """Black or white, whichever reads better on the colour at ``fraction`` of the scale."""
    colour = sample_colorscale(colorscale, [float(np.clip(fraction, 0, 1))], colortype="tuple")[0]
    red, green, blue = (c if c <= 1 else c / 255 for c in colour)
    return "#17202a" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.55 else "#ffffff"


@dataclass
class _Layers:
    """The heatmap layers of one table: z (colour) and hover text per kind of cell."""

    main: np.ndarray
    faded: np.ndarray
    zero: np.ndarray
    missing: np.ndarray
    tips: np.ndarray

    @classmethod
    def empty(cls) -> "_Layers":
        shape = (_N_TABLE_ROWS, 18)
        return cls(*(np.full(shape, np.nan) for _ in range(4)), np.full(shape, "", dtype=object))


def periodic_table(values: Mapping[str, float], *, title: str, colorbar_title: str,
                   hover: Mapping[str, str] | None = None, support: Mapping[str, int] | None = None,
                   min_support: int = MIN_SUPPORT, scale: Scale = Scale()) -> go.Figure:
    """One number per element channel, printed in its cell; see the module doc for the cell kinds.

    ``hover``: each element's hover text (the counts behind the number). ``support``: the number
    of materials behind each value; cells below ``min_support`` are faded and print "n=…".
    """
    hover, support = hover or {}, support or {}
    layers = _Layers.empty()
    raw = np.array([np.nan if values.get(s) is None else float(values[s]) for s in CHANNELS])
    bounds = scale.zrange if scale.zrange is not None else fit_range(raw, scale)
    colorscale = get_colorscale(scale.colorscale) if isinstance(scale.colorscale, str) else scale.colorscale
    xs, ys, texts, colours, zero_cells = [], [], [], [], []
    for symbol, value in zip(CHANNELS, raw):
        r, c = cell_index(symbol)
        n = support.get(symbol)
        text, colour = _cell(symbol, value, n, min_support, scale, bounds, colorscale, layers, r, c)
        plain = "no data" if np.isnan(value) else format_value(value, scale.value_format)
        layers.tips[r, c] = hover.get(symbol, f"{symbol}: {plain}")
        if layers.zero[r, c] == 1:
            zero_cells.append((c + 1, r + 1))
        xs.append(c + 1), ys.append(r + 1), texts.append(text), colours.append(colour)
    return _figure(layers, bounds, colorscale, scale, colorbar_title, title,
                   go.Scatter(x=xs, y=ys, mode="text", text=texts, hoverinfo="skip", showlegend=False,
                              textfont=dict(color=colours, size=_FONT)),
                   zero_cells, min_support if support else None)


def _cell(symbol: str, value: float, n: int | None, min_support: int, scale: Scale,
          bounds: tuple[float, float], colorscale: list, layers: _Layers, r: int, c: int) -> tuple[str, str]:
    """Place one element in its layer; returns its cell text and text colour."""
    label = f"<b>{symbol}</b>"
    if np.isnan(value):
        layers.missing[r, c] = 1.0
        return label, "#7b7d7d"
    printed = f"{label}<br>{format_value(value, scale.value_format)}"
    if scale.log and value <= 0:
        layers.zero[r, c] = 1.0
        return printed + _n_line(n), "#17202a"
    z = float(np.log10(value) if scale.log else value) if np.isfinite(value) else bounds[1]
    z = float(np.clip(z, *bounds))
    faded = n is not None and n < min_support
    (layers.faded if faded else layers.main)[r, c] = z
    fraction = (z - bounds[0]) / ((bounds[1] - bounds[0]) or 1.0)
    colour = "#515a5a" if faded else _text_colour(colorscale, fraction)
    return printed + _n_line(n), colour


def _n_line(n: int | None) -> str:
    return "" if n is None else f"<br><span style='font-size:9px'>n={n:,}</span>"


def _colorbar(bounds: tuple[float, float], scale: Scale, title: str) -> dict:
    colorbar: dict = dict(title=dict(text=title, side="right"), thickness=14, len=0.75)
    if scale.log:
        ticks = _log_ticks(*bounds)
        colorbar.update(tickvals=np.log10(ticks), ticktext=[f"{t:g}" for t in ticks])
    return colorbar


def _figure(layers: _Layers, bounds: tuple[float, float], colorscale: list, scale: Scale,
            colorbar_title: str, title: str, text: go.Scatter, zero_cells: list[tuple[int, int]],
            faded_below: int | None) -> go.Figure:
    common = dict(x=np.arange(1, 19), y=np.arange(1, _N_TABLE_ROWS + 1), hoverinfo="text", xgap=3, ygap=3,
                  hoverongaps=False, hovertext=layers.tips)
    flat = lambda colour: [[0, colour], [1, colour]]  # noqa: E731 - a one-colour scale
    fig = go.Figure([
        go.Heatmap(z=layers.missing, colorscale=flat(NO_DATA_COLOR), showscale=False, name="no data", **common),
        go.Heatmap(z=layers.zero, colorscale=flat(ZERO_COLOR), showscale=False, name="zero", **common),
        go.Heatmap(z=layers.faded, colorscale=colorscale, zmin=bounds[0], zmax=bounds[1], opacity=FADED_OPACITY,
                   name="few materials", showscale=bool(np.isnan(layers.main).all()),  # the scale, if only pale cells
                   colorbar=_colorbar(bounds, scale, colorbar_title), **common),
        go.Heatmap(z=layers.main, colorscale=colorscale, zmin=bounds[0], zmax=bounds[1], name=colorbar_title,
                   colorbar=_colorbar(bounds, scale, colorbar_title), **common),
        text,
    ])
    for column, row in zero_cells:
        fig.add_shape(type="rect", x0=column - 0.45, x1=column + 0.45, y0=row - 0.45, y1=row + 0.45,
                      line=dict(color="#566573", width=1))
    fig.update_xaxes(visible=False, range=[0.5, 18.5])
    fig.update_yaxes(visible=False, autorange="reversed")  # cells fill the width: no square constraint
    fig.add_annotation(text=_key(scale, faded_below), x=3, y=1.5, showarrow=False, xanchor="left",
                       align="left", font=dict(size=11, color="#566573"))
    base_layout(fig, title, _HEIGHT)
    fig.update_layout(margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="#ffffff")
    return fig


def _key(scale: Scale, faded_below: int | None) -> str:
    """The legend of the cell kinds, written in the table's empty top middle."""
    parts = ["grey: no data"]
    if scale.log:
        parts.append("outlined white: zero")
    if faded_below:
        parts.append(f"pale: fewer than {faded_below} materials (n printed)")
    return "<br>".join(parts)


def count_periodic_tables(counts: pd.DataFrame) -> list[go.Figure]:
    """Paper Fig. S1a-b: samples per element for each class, and the topological/trivial ratio.

    ``counts`` is :func:`xanes_core.data.browse.element_class_counts` output. Counts print in
    the cells on a log colour scale fit to the data (a class with no sample of an element is an
    outlined white 0, not a missing cell); the ratio map, on a log scale fit to the data, prints
    each element's ratio and its n, fades elements with fewer than ten materials, and draws a
    ratio of zero (no topological material) as its own white cell rather than the darkest colour.
    """
    hover = {
        row.element: (f"<b>{row.element}</b><br>topological: {row.n_topological}<br>"
                      f"trivial: {row.n_trivial}<br>ratio: {_ratio_text(row.ratio)}")
        for row in counts.itertuples()
    }
    figures = []
    for label in (1, 0):
        name = CLASS_NAMES[label]
        values = dict(zip(counts["element"], counts[f"n_{name}"].astype(float)))
        figures.append(periodic_table(values, title=f"{name.capitalize()} samples per absorbing element",
                                      colorbar_title="samples", hover=hover,
                                      scale=Scale(colorscale=truncated("OrRd" if label else "PuBu"), log=True,
                                                  value_format="count")))
    total = counts["n_topological"] + counts["n_trivial"]
    ratio = dict(zip(counts["element"], counts["ratio"].astype(float)))
    figures.append(periodic_table(ratio, title="Topological / trivial ratio per absorbing element",
                                  colorbar_title="ratio", hover=hover, support=dict(zip(counts["element"], total)),
                                  scale=Scale(colorscale="Viridis", log=True, value_format=".2g")))
    return figures


def _ratio_text(ratio: float) -> str:
    return "∞ (no trivial samples)" if np.isinf(ratio) else f"{ratio:.3g}"


def clustering_periodic_tables(scores: pd.DataFrame) -> list[go.Figure]:
    """Paper Fig. 2c-d: fraction of each class's spectra correctly clustered, per element.

    ``scores`` is :func:`xanes_core.analysis.clustering.cluster_all_elements` output; elements that
    could not be clustered are grey with the reason in their hover. The scale is centred on 0.5
    (a coin toss) and spans the data, so 0.45 and 0.65 no longer share one colour.
    """
    figures = []
    for name in ("topological", "trivial"):
        hover, support = {}, {}
        for row in scores.itertuples():
            correct, total = getattr(row, f"correct_{name}"), getattr(row, f"n_{name}")
            detail = row.note or f"{correct} of {total} {name} spectra correctly clustered"
            hover[row.element] = f"<b>{row.element}</b><br>{detail}"
            support[row.element] = int(total)
        values = dict(zip(scores["element"], scores[f"fraction_{name}"].astype(float)))
        figures.append(periodic_table(values, title=f"Fraction of {name} spectra correctly clustered",
                                      colorbar_title="fraction", hover=hover, support=support,
                                      scale=Scale(colorscale="RdBu_r", center=0.5)))
    return figures

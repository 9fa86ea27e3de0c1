"""Figure builders: units on axes, hover carries the counts, no-data elements are marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from xanes_core.analysis.clustering import cluster_all_elements, cluster_element
from xanes_core.data.browse import element_class_counts, element_count_table
from xanes_core.data.demo import generate_demo
from xanes_core.data.elements import CHANNELS, N_CHANNELS
from xanes_core.data.preprocess import split_balance
from xanes_core.viz import clustering as clustering_figures
from xanes_core.viz import dataset as dataset_figures
from xanes_core.viz import periodic_table, style


@pytest.fixture(scope="module")
def demo():
    return generate_demo(200, seed=5)


def _layer(fig: go.Figure, name: str, symbol: str):
    """(z, hover) of an element's cell in the heatmap layer called ``name``."""
    trace = next(t for t in fig.data if t.name == name)
    row, column = periodic_table.cell_index(symbol)
    return trace.z[row][column], trace.hovertext[row][column]


def _text(fig: go.Figure, symbol: str) -> str:
    """The text printed in an element's cell."""
    return next(t for t in fig.data[-1].text if t.startswith(f"<b>{symbol}</b>"))


def test_periodic_table_prints_numbers_fades_small_samples_and_marks_missing() -> None:
    fig = periodic_table.periodic_table({"Fe": 0.25, "La": 0.75}, title="t", colorbar_title="c",
                                        hover={"Fe": "Fe: 3 samples", "Bi": "Bi: none here"},
                                        support={"Fe": 3, "La": 50})
    assert _layer(fig, "few materials", "Fe") == (0.25, "Fe: 3 samples")
    assert np.isnan(_layer(fig, "c", "Fe")[0])  # faded, not drawn at full colour
    assert _layer(fig, "c", "La")[0] == 0.75
    assert _layer(fig, "no data", "Bi") == (1.0, "Bi: none here")
    assert _layer(fig, "no data", "O") == (1.0, "O: no data")
    assert "0.25" in _text(fig, "Fe") and "n=3" in _text(fig, "Fe") and "n=50" in _text(fig, "La")
    assert _text(fig, "O") == "<b>O</b>"  # no data: the symbol alone
    assert len(fig.data[-1].text) == len(CHANNELS)
    assert "fewer than 10 materials" in fig.layout.annotations[0].text


def test_log_scale_draws_zero_apart_and_fits_the_data() -> None:
    fig = periodic_table.periodic_table({"Fe": 0.0, "Co": np.inf, "Ni": 1.0, "Cu": 0.1}, title="t",
                                        colorbar_title="ratio", scale=periodic_table.Scale(log=True))
    assert _layer(fig, "zero", "Fe")[0] == 1.0 and np.isnan(_layer(fig, "ratio", "Fe")[0])
    assert "0.00" in _text(fig, "Fe") and len(fig.layout.shapes) == 1  # the outlined zero cell
    main = next(t for t in fig.data if t.name == "ratio")
    assert (main.zmin, main.zmax) == (-1.0, 0.0)  # 0.1 to 1: the data, not 0.01-100
    assert _layer(fig, "ratio", "Co")[0] == 0.0 and "∞" in _text(fig, "Co")  # clipped to the top colour
    assert {"0.1", "1"} <= set(main.colorbar.ticktext)


def test_fit_range_spans_the_data_and_centres_on_request() -> None:
    values = np.array([0.42, 0.55, 0.68, np.nan])
    assert periodic_table.fit_range(values, periodic_table.Scale()) == pytest.approx((0.4, 0.7))
    low, high = periodic_table.fit_range(values, periodic_table.Scale(center=0.5))
    assert (low + high) / 2 == pytest.approx(0.5) and low <= 0.42 and high >= 0.68 and high - low < 0.5


def test_cell_text_contrasts_with_its_colour() -> None:
    fig = periodic_table.periodic_table({"Fe": 0.0, "Co": 1.0}, title="t", colorbar_title="c",
                                        scale=periodic_table.Scale(colorscale="Greys"))
    colours = dict(zip([t.split("</b>")[0][3:] for t in fig.data[-1].text], fig.data[-1].textfont.color))
    assert colours["Fe"] != colours["Co"]  # white on black, black on white


def test_count_tables_print_counts_and_keep_zero_apart_from_no_data(demo) -> None:
    counts = element_class_counts(demo)
    figures = periodic_table.count_periodic_tables(counts)
    assert len(figures) == 3
    row = counts.iloc[0]
    tip = _layer(figures[0], "zero" if row.n_topological == 0 else "samples", row.element)[1]
    assert f"topological: {row.n_topological}" in tip and f"trivial: {row.n_trivial}" in tip
    assert f"<br>{row.n_topological:,}" in _text(figures[0], row.element)
    none_topological = counts.loc[counts["n_topological"] == 0, "element"]
    if len(none_topological):
        assert _layer(figures[2], "zero", none_topological.iloc[0])[0] == 1.0  # ratio 0: its own cell
    absent = next(s for s in CHANNELS if s not in set(counts["element"]))
    assert _layer(figures[0], "no data", absent)[0] == 1.0


def test_clustering_tables_and_regions(demo) -> None:
    scores = cluster_all_elements(demo)
    topo, triv = periodic_table.clustering_periodic_tables(scores)
    assert "topological" in topo.layout.title.text and "trivial" in triv.layout.title.text
    symbol = scores.loc[scores["note"] == "", "element"].iloc[0]
    fig = clustering_figures.clustering_regions(cluster_element(demo, symbol))
    assert "PC 1" in fig.layout.xaxis.title.text and "variance" in fig.layout.yaxis.title.text
    fig.to_json()


def test_spectra_overlay_draws_topological_on_top_with_means_edge_axis_and_highlight() -> None:
    energy = np.linspace(7100, 7175, 200)
    spectra = np.random.default_rng(0).random((5, 200))
    fig = dataset_figures.spectra_overlay(energy, spectra, [1, 0, 1, 0, 0], list("abcde"), title="Fe", class_means=True)
    assert fig.layout.xaxis.title.text == "Energy (eV)"
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["trivial", "topological", "trivial mean (n=3)", "topological mean (n=2)"]
    members = [t.name for t in fig.data[:5]]
    assert members == ["trivial"] * 3 + ["topological"] * 2  # the rarer class is drawn over the other
    relative = dataset_figures.spectra_overlay(energy, spectra, [1, 0, 1, 0, 0], list("abcde"), title="Fe",
                                               edge=7112.0, highlight=3)
    assert relative.data[0].x[0] == pytest.approx(-12.0) and "E − E0" in relative.layout.xaxis.title.text
    assert relative.data[-1].name == "d" and relative.data[-1].line.width > relative.data[0].line.width


def test_spectra_overlay_of_unknown_class_and_one_entry_each() -> None:
    """Materials of unknown class (a build from your own files) are drawn, grey and underneath;
    ``name_each`` names every material in the legend (a composition family)."""
    energy = np.linspace(7100, 7175, 200)
    spectra = np.random.default_rng(0).random((4, 200))
    fig = dataset_figures.spectra_overlay(energy, spectra, [-1, 0, 1, -1], list("abcd"), title="Cu")
    assert [t.name for t in fig.data] == ["unknown", "unknown", "trivial", "topological"]
    assert fig.data[0].line.color == "#7f8c8d"
    each = dataset_figures.spectra_overlay(energy, spectra, [-1, 0, 1, -1], list("abcd"), title="Cu", name_each=True)
    assert [t.name for t in each.data] == ["a", "d", "b", "c"] and all(t.showlegend for t in each.data)


def test_bar_charts(demo) -> None:
    bars = dataset_figures.element_count_bars(element_count_table(demo))
    assert [t.name for t in bars.data] == ["topological", "trivial"]
    balance = dataset_figures.split_balance_bars(split_balance(demo))
    assert [t.name for t in balance.data] == ["train", "validation", "test"]
    assert balance.layout.yaxis.range == (0, 1)
    for fig in (bars, balance):
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_empty_inputs_draw_every_element_as_no_data() -> None:
    fig = periodic_table.periodic_table({}, title="t", colorbar_title="c", scale=periodic_table.Scale(log=True))
    layers = {trace.name: np.array(trace.z, dtype=float) for trace in fig.data if trace.type == "heatmap"}
    assert np.isfinite(layers["no data"]).sum() == N_CHANNELS and not np.isfinite(layers["c"]).any()
    tips = [tip for tip in np.array(fig.data[0].hovertext, dtype=object).ravel() if tip]
    assert len(tips) == N_CHANNELS and all(tip.endswith(": no data") for tip in tips)
    figures = periodic_table.count_periodic_tables(pd.DataFrame(columns=["element", "n_topological", "n_trivial", "ratio"]))
    assert [f.layout.title.text.split(" ")[0] for f in figures] == ["Topological", "Trivial", "Topological"]
    for figure in figures:
        values = [trace for trace in figure.data if trace.type == "heatmap"][-1]  # the coloured value layer
        assert not np.isfinite(np.array(values.z, dtype=float)).any()


def test_demo_label_is_drawn_into_the_figure():
    fig = style.label_demo(go.Figure())
    assert [a.text for a in fig.layout.annotations] == [style.DEMO_LABEL]

"""Figure builders: units on axes, hover carries the counts, no-data elements are marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from xanes_core.analysis.clustering import cluster_all_elements, cluster_element
from xanes_core.data.browse import element_class_counts, element_count_table
from xanes_core.data.demo import generate_demo
from xanes_core.data.elements import CHANNELS, table_position
from xanes_core.data.preprocess import split_balance
from xanes_core.viz import clustering as clustering_figures
from xanes_core.viz import dataset as dataset_figures
from xanes_core.viz import periodic_table, style


@pytest.fixture(scope="module")
def demo():
    return generate_demo(200, seed=5)


def _cell(fig: go.Figure, trace: int, symbol: str):
    pos = table_position(symbol)
    row = pos.row + 1 if pos.row >= 8 else pos.row
    return fig.data[trace].z[row - 1][pos.column - 1], fig.data[trace].hovertext[row - 1][pos.column - 1]


def test_periodic_table_marks_missing_elements_and_shows_hover() -> None:
    fig = periodic_table.periodic_table({"Fe": 3.0, "La": 5.0}, title="t", colorbar_title="c",
                               hover={"Fe": "Fe: 3 samples", "Bi": "Bi: none here"})
    value, tip = _cell(fig, 1, "Fe")
    assert value == 3.0 and tip == "Fe: 3 samples"
    assert _cell(fig, 1, "La")[0] == 5.0  # lanthanide row placed
    assert _cell(fig, 0, "Bi") == (1.0, "Bi: none here")
    assert _cell(fig, 0, "O") == (1.0, "O: no data")
    assert np.isnan(_cell(fig, 1, "O")[0])
    drawn = sum(1 for row in fig.data[0].text for t in row if t)
    assert drawn == len(CHANNELS)


def test_log_scale_clips_and_labels_real_values() -> None:
    fig = periodic_table.periodic_table({"Fe": 0.0, "Co": np.inf, "Ni": 1.0}, title="t", colorbar_title="ratio",
                               log=True, zrange=(0.01, 100.0))
    assert _cell(fig, 1, "Fe")[0] == pytest.approx(-2.0)
    assert _cell(fig, 1, "Co")[0] == pytest.approx(2.0)
    assert "1" in fig.data[1].colorbar.ticktext and "100" in fig.data[1].colorbar.ticktext


def test_count_tables_hover_counts(demo) -> None:
    counts = element_class_counts(demo)
    figures = periodic_table.count_periodic_tables(counts)
    assert len(figures) == 3
    row = counts.iloc[0]
    tip = _cell(figures[0], 1 if row.n_topological else 0, row.element)[1]
    assert f"topological: {row.n_topological}" in tip and f"trivial: {row.n_trivial}" in tip


def test_clustering_tables_and_regions(demo) -> None:
    scores = cluster_all_elements(demo)
    topo, triv = periodic_table.clustering_periodic_tables(scores)
    assert "topological" in topo.layout.title.text and "trivial" in triv.layout.title.text
    symbol = scores.loc[scores["note"] == "", "element"].iloc[0]
    fig = clustering_figures.clustering_regions(cluster_element(demo, symbol))
    assert "PC 1" in fig.layout.xaxis.title.text and "variance" in fig.layout.yaxis.title.text
    fig.to_json()


def test_spectra_overlay_has_energy_axis_and_one_legend_entry_per_class() -> None:
    energy = np.linspace(7100, 7175, 200)
    spectra = np.random.default_rng(0).random((5, 200))
    fig = dataset_figures.spectra_overlay(energy, spectra, [1, 0, 1, 0, 0], list("abcde"), title="Fe", class_means=True)
    assert fig.layout.xaxis.title.text == "Energy (eV)"
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["topological", "trivial", "trivial mean", "topological mean"]


def test_bar_charts(demo) -> None:
    bars = dataset_figures.element_count_bars(element_count_table(demo))
    assert [t.name for t in bars.data] == ["topological", "trivial"]
    balance = dataset_figures.split_balance_bars(split_balance(demo))
    assert [t.name for t in balance.data] == ["train", "validation", "test"]
    assert balance.layout.yaxis.range == (0, 1)
    for fig in (bars, balance):
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_empty_inputs_do_not_crash() -> None:
    periodic_table.periodic_table({}, title="t", colorbar_title="c", log=True)
    periodic_table.count_periodic_tables(pd.DataFrame(columns=["element", "n_topological", "n_trivial", "ratio"]))


def test_demo_label_is_drawn_into_the_figure():
    fig = style.label_demo(go.Figure())
    assert [a.text for a in fig.layout.annotations] == [style.DEMO_LABEL]

"""Figures of the attribution over energy: per element over E - E0 above the class mean spectra,
one material's pushes, the periodic table of how informative each element is."""

from __future__ import annotations

import numpy as np
import pytest

from tests.viz.attribution_data import synthetic_attribution
from xanes_core.analysis.attribution import e0_reference
from xanes_core.analysis.indicators import informative_values, signal_ranges
from xanes_core.data.elements import CHANNELS, energy_grid, k_edge_energy
from xanes_core.viz import attribution as figures


@pytest.fixture(scope="module")
def explained(demo_small):
    return synthetic_attribution(demo_small)


def _present(attribution, demo_small):
    elements = demo_small.metadata.iloc[demo_small.split_indices("test")]["elements"].explode()
    return elements.value_counts().index.tolist()


def test_split_figure_is_relative_to_e0_with_class_means_underneath(explained, demo_small):
    attribution, means = explained
    element = _present(attribution, demo_small)[0]
    e0 = e0_reference(means, element)
    fig = figures.split_attribution_figure(attribution, means, element, signal_ranges(element, True))
    lines = [t for t in fig.data if t.yaxis == "y"]
    spectra = [t for t in fig.data if t.yaxis == "y2"]
    assert [t.name.split(" ")[0] for t in lines] == ["topological", "trivial"][:len(lines)] and lines
    assert all("mean training spectrum" in t.name for t in spectra) and len(spectra) == 2
    assert np.allclose(lines[0].x, energy_grid(element) - e0)
    assert np.allclose(lines[0].y, attribution.mean_attribution(element, int(attribution.classes[0])))
    assert np.allclose(spectra[0].y, means.class_mean(element, 1))
    assert "E − E0 (eV)" in fig.layout.xaxis2.title.text
    assert len(fig.layout.shapes) >= len(signal_ranges(element, True))  # the demo's ranges, shaded


def test_an_element_without_an_edge_on_its_grid_is_drawn_against_the_k_edge(explained, demo_small):
    attribution, means = explained
    heavy = next((e for e in _present(attribution, demo_small) if CHANNELS.index(e) >= CHANNELS.index("Hf")
                  and e0_reference(means, e) is None), None)
    if heavy is None:
        pytest.skip("no element beyond Hf in this small demo's test split")
    fig = figures.split_attribution_figure(attribution, means, heavy)
    assert "E − E_K (eV)" in fig.layout.xaxis2.title.text and "not on this grid" in fig.layout.xaxis2.title.text
    assert np.allclose(fig.data[0].x, energy_grid(heavy) - k_edge_energy(heavy))


def test_material_figure_colours_the_pushes(explained, demo_small):
    _, means = explained
    element = CHANNELS[int(demo_small.channel[0])]
    values = np.linspace(-1, 1, 200)
    fig = figures.material_attribution_figure(element, demo_small.spectra[0], values, means, "mine")
    up, down = fig.data[0], fig.data[1]
    assert up.name == "towards topological" and down.name == "towards trivial"
    assert (np.asarray(up.y) >= 0).all() and (np.asarray(down.y) <= 0).all()
    assert np.allclose(np.asarray(up.y) + np.asarray(down.y), values)
    assert fig.data[-1].name == "mine" and "sum +0.000" in fig.layout.title.text


def test_informative_periodic_table_prints_each_element(explained):
    attribution, _ = explained
    values, support = informative_values(attribution)
    fig = figures.informative_periodic_table(values, support, "test")
    text = " ".join(fig.data[-1].text)
    for element in list(values)[:5]:
        assert f"<b>{element}</b><br>{values[element]:.2f}" in text
    assert "n=" in text and "test split" in fig.layout.title.text

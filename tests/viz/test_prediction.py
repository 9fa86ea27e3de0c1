"""The figures of one prediction: a dataset material against its training bands, contributions,
probability, raw vs normalized spectrum of a real file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xanes_core.analysis.materials import material_from_dataset
from xanes_core.analysis.prediction import Contribution
from xanes_core.analysis.symmetry_contribution import SymmetryContribution
from xanes_core.io import normalize_for_model, read_spectrum
from xanes_core.viz import prediction as prediction_figures


def test_sample_material_and_its_figures(demo_small) -> None:
    index = int(np.flatnonzero(demo_small.metadata["elements"].map(len).to_numpy() > 1)[0])
    material = material_from_dataset(demo_small, index)
    assert len(material.spectra) == len(demo_small.metadata.at[index, "elements"])
    assert material.space_group == int(demo_small.metadata.at[index, "space_group"])
    entry = material.spectra[0]
    bands = prediction_figures.training_bands(demo_small, entry.element)
    assert all(np.all(b.low <= b.median) and np.all(b.median <= b.high) for b in bands)
    fig = prediction_figures.spectrum_vs_training(entry, bands)
    assert fig.data[-1].name.startswith(entry.name) and fig.layout.xaxis.title.text == "Energy (eV)"
    assert ("% of the grid" in fig.data[-1].name) == (entry.coverage < 0.999)  # demo spectra have FEFF windows
    bars = prediction_figures.contribution_bars({"Se": Contribution(0.4, 0.2, 0.5, 0.1, 0.1),
                                                 "Bi": Contribution(0.7, -0.1, 0.65, -0.05, -0.05)})
    assert [t.name.split(" ")[0] for t in bars.data] == ["spectrum", "presence", "both"]
    assert list(bars.data[0].y) == ["Se", "Bi"] and list(bars.data[0].x) == pytest.approx([10.0, -5.0])  # points
    assert list(bars.data[2].x) == pytest.approx([20.0, -10.0])  # the leave-one-out delta: their sum
    single = prediction_figures.contribution_bars({"Fe": Contribution(None, None, 0.3, 0.2, None)})
    assert [t.name for t in single.data] == ["spectrum (vs class-neutral spectrum)"]
    no_means = prediction_figures.contribution_bars({"Se": Contribution(0.4, 0.2), "Bi": Contribution(0.7, -0.1)})
    assert [t.name for t in no_means.data] == ["both (leave-one-out)"]
    with_group = prediction_figures.contribution_bars({"Se": Contribution(0.4, 0.002), "Bi": Contribution(0.7, -0.001)},
                                                      SymmetryContribution(166, 0.3, 0.004))
    assert list(with_group.data[-1].y) == ["space group 166"] and with_group.data[-1].x[0] == pytest.approx(0.4)
    assert with_group.data[-1].marker.pattern.shape == "/"  # the space group's bar stands apart
    assert prediction_figures.probability_gauge(0.7, 0.5).data[0].value == 0.7


@pytest.mark.parametrize("values", [[-0.012, -0.009, 0.004], [-20.0, 35.0], [0.0004, 0.0001], [-3.0, 3.0]])
def test_contribution_axis_ticks_are_all_distinct(values) -> None:
    """"-0.01, -0.01, -0.01, -0.00, +0.00" cannot happen: the step is a label's last digit or more."""
    axis = prediction_figures.readable_axis(values)
    low, high = min(values + [0.0]), max(values + [0.0])
    ticks = np.arange(np.floor(low / axis["dtick"]), np.ceil(high / axis["dtick"]) + 1) * axis["dtick"]
    labels = [format(t, axis["tickformat"][1:]) for t in ticks]
    assert len(set(labels)) == len(labels) >= 2


def test_raw_and_normalized_figure(fixtures_dir: Path) -> None:
    spectrum = read_spectrum(fixtures_dir / "spectra" / "xdi" / "fe2o3_rt.xdi")
    fig = prediction_figures.raw_and_normalized(normalize_for_model(spectrum), spectrum.name)
    assert [trace.name for trace in fig.data] == ["as read from the file", "normalized (pre-edge/post-edge)"]


def test_matches_overlay_and_an_untrusted_gauge(demo_small) -> None:
    from xanes_core.analysis.matching import SpectrumLibrary
    from xanes_core.data.elements import CHANNELS, energy_grid

    element = CHANNELS[int(np.bincount(demo_small.channel).argmax())]
    row = demo_small.element_rows(element)[0]
    library = SpectrumLibrary(demo_small)
    result = library.match(energy_grid(element), demo_small.spectra[row], element, top=3)
    fig = prediction_figures.matches_overlay(element, energy_grid(element), demo_small.spectra[row], "mine",
                                             result.matches, [library.spectrum_of(m, element) for m in result.matches])
    assert len(fig.data) == 4 and fig.data[-1].name.startswith("mine (moved")
    assert np.allclose(fig.data[0].y, demo_small.spectra[row])  # its own spectrum is the best match
    assert result.matches[0].label in fig.data[0].name and fig.layout.xaxis.title.text == "Energy (eV)"
    untrusted = prediction_figures.probability_gauge(0.7, 0.5, trusted=False)
    assert untrusted.data[0].gauge.bar.color == "#aab7b8" and "not to be trusted" in untrusted.layout.title.text

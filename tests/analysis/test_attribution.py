"""Attribution over energy: integrated gradients from the class-neutral spectra, their summaries per
element, the run-folder cache, and the demo generator's ground truth (where the class is)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.helpers import train_tiny
from xanes_core.analysis.attribution import (
    AttributionMissing,
    SplitAttribution,
    attribute_split,
    attribution_path,
    class_means_for,
    e0_reference,
    material_attribution,
    read_split_attribution,
    split_attribution,
)
from xanes_core.analysis.indicators import (
    demo_signal_masks,
    element_indicators,
    top_ranges,
)
from xanes_core.analysis.materials import material_from_dataset
from xanes_core.data.class_means import ClassMeans
from xanes_core.data.elements import CHANNELS, energy_grid
from xanes_core.errors import RunError
from xanes_core.learn.runs import load_run, read_run
from xanes_core.learn.training import Trainer, TrainingConfig

# The ground truth needs a model that has learnt something and enough spectra per element.
GROUND_TRUTH_SAMPLES = 6000
MIN_SPECTRA = 20


@pytest.fixture(scope="module")
def symmetry_run(runs):
    return load_run(runs["symmetry"])


@pytest.fixture(scope="module")
def means(symmetry_run, demo_small):
    return class_means_for(symmetry_run, demo_small)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch symmetry run on a 6,000-material demo, and its test split's attribution."""
    from xanes_core.data.demo import generate_demo

    folder = tmp_path_factory.mktemp("ground-truth")
    dataset = generate_demo(n_samples=GROUND_TRUTH_SAMPLES, seed=0)
    dataset.save(folder / "demo")
    config = TrainingConfig(dataset=str(folder / "demo"), model="symmetry", epochs=2, augment=False)
    final = Trainer(config, out=folder / "run", dataset=dataset).start().join()
    assert final.status == "completed", final.message
    run = load_run(folder / "run")
    means = class_means_for(run, dataset)
    return run, means, attribute_split(run, dataset, "test", means, steps=16)


def test_class_neutral_spectrum_weighs_the_classes_equally():
    spectra = np.array([np.full(200, v, dtype=np.float32) for v in (1.0, 1.0, 1.0, 3.0, 5.0)])
    channels = np.array([CHANNELS.index("Cu")] * 4 + [CHANNELS.index("O")])
    means = ClassMeans.fit(spectra, channels, np.array([0, 0, 0, 1, 1]))
    assert means.neutral()[CHANNELS.index("Cu")] == pytest.approx(np.full(200, 2.0))  # (1 + 3) / 2, not 1.5
    assert means.is_neutral("Cu") and not means.is_neutral("O") and not means.seen("Fe")
    assert means.neutral()[CHANNELS.index("O")] == pytest.approx(np.full(200, 5.0))  # its one class stands in
    assert means.is_flat("Cu") and e0_reference(means, "Cu") is None


def test_class_means_are_cached_in_the_run_folder(symmetry_run, demo_small, means, tmp_path):
    path = symmetry_run.run_dir / "class_means.npz"
    assert path.is_file()
    loaded = ClassMeans.load(path)
    assert np.array_equal(loaded.mean, means.mean) and np.array_equal(loaded.count, means.count)
    train = symmetry_run.splits["train"]
    cu = [r for r in demo_small.element_rows("Cu") if demo_small.sample_index[r] in set(train.tolist())]
    labels = demo_small.labels[demo_small.sample_index[cu]]
    expected = (demo_small.spectra[cu][labels == 1].mean(axis=0) + demo_small.spectra[cu][labels == 0].mean(axis=0)) / 2
    assert means.neutral()[CHANNELS.index("Cu")] == pytest.approx(expected, abs=1e-5)
    (tmp_path / "bad.npz").write_bytes(b"not an array file")
    with pytest.raises(RunError, match="damaged"):
        ClassMeans.load(tmp_path / "bad.npz")


def test_material_attributions_add_up_to_the_spectra_effect(symmetry_run, demo_small, means):
    """Completeness: over all energies and elements, the attributions sum to p(material) -
    p(every spectrum class-neutral), up to the quadrature error of 32 steps."""
    test = symmetry_run.splits["test"]
    sizes = demo_small.metadata["elements"].map(len).to_numpy()
    for index in [int(i) for i in test if sizes[i] >= 2][:5]:
        material = material_from_dataset(demo_small, index)
        result = material_attribution(symmetry_run.classifier, material.spectra, material.space_group, means)
        assert result.values.keys() == {e.element for e in material.spectra}
        total = sum(float(v.sum()) for v in result.values.values())
        assert total == pytest.approx(result.p - result.p_neutral, abs=2e-3 + 0.02 * abs(result.p - result.p_neutral))


def test_a_class_neutral_spectrum_gets_no_attribution(symmetry_run, demo_small, means):
    index = int(symmetry_run.splits["test"][0])
    material = material_from_dataset(demo_small, index)
    entries = [type(e)(e.element, e.name, e.energy, means.neutral()[CHANNELS.index(e.element)], e.coverage)
               for e in material.spectra]
    result = material_attribution(symmetry_run.classifier, entries, material.space_group, means)
    assert all(np.abs(v).max() == 0 for v in result.values.values())
    assert result.p == pytest.approx(result.p_neutral)


def test_split_attribution_is_computed_once_then_read(runs, demo_small):
    run_dir = runs["symmetry"]
    path = attribution_path(run_dir, "validation")
    path.unlink(missing_ok=True)
    with pytest.raises(AttributionMissing, match=f"attribute {run_dir} --split validation"):
        read_split_attribution(run_dir, "validation")
    computed = split_attribution(run_dir, "validation", dataset=demo_small)
    assert path.is_file() and computed.n_samples == len(load_run(run_dir).splits["validation"])
    assert computed.count.sum() == len(demo_small.rows_for_samples(load_run(run_dir).splits["validation"]))
    assert computed.completeness_error < 0.05 * computed.spectra_effect + 1e-3
    read = split_attribution(run_dir, "validation")  # from the file: no dataset, no model needed
    assert np.array_equal(read.signed, computed.signed) and read.steps == computed.steps == 32
    assert read.is_demo and read.split == "validation"


def test_damaged_or_foreign_attribution_files_are_one_line(runs, tmp_path):
    path = attribution_path(runs["symmetry"], "train")
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(RunError, match="damaged"):
        read_split_attribution(runs["symmetry"], "train")
    path.unlink()


def test_baseline_runs_have_no_attribution(demo_small, demo_small_path, tmp_path):
    run_dir = train_tiny(demo_small, demo_small_path, "elements", tmp_path / "elements")
    with pytest.raises(RunError, match="elements baseline: attribution over energy needs a CNN run"):
        split_attribution(run_dir)
    with pytest.raises(RunError, match="reads no spectra"):
        split_attribution(run_dir)


def test_top_ranges_find_the_heaviest_windows():
    grid = energy_grid("Cu")
    magnitude = np.full(200, 1e-3)
    magnitude[40:50] = 1.0  # 10 points
    magnitude[120:124] = 2.0  # 4 points, a little less mass
    magnitude[130] = 0.2
    ranges = top_ranges(grid, magnitude)
    assert ranges[0] == [round(float(grid[40]), 2), round(float(grid[49]), 2)]
    assert ranges[1] == [round(float(grid[120]), 2), round(float(grid[123]), 2)]
    assert top_ranges(grid, np.zeros(200)) == []


def test_heavy_elements_have_no_edge_on_their_grid(trained):
    """In the demo, FEFF's window lies above the grid from about Hf on and wholly for the
    actinides: no E0 reference there (energies are then relative to the tabulated edge)."""
    _, means, attribution = trained
    assert means.is_flat("U") and e0_reference(means, "U") is None
    assert e0_reference(means, "Pt") is None and not means.is_flat("Pt")
    assert e0_reference(means, "Cu") == pytest.approx(energy_grid("Cu")[0] + 10 + 18.0, abs=3.0)
    indicators = element_indicators(attribution, means, "U")
    if indicators:  # U is rare: the test split may hold none
        assert indicators["U"].flat and indicators["U"].top_ranges_ev == [[energy_grid("U")[0], energy_grid("U")[-1]]]


def test_attribution_lies_where_the_demo_put_the_class(trained):
    """Ground truth: per element, at least twice as much attribution per grid point in the
    generator's class-carrying ranges (white line, oscillations) as in its class-free ones
    (pre-edge, chemical shift). "Twice its grid share" read per grid point: the class-carrying
    ranges already cover 70-95 % of these grids, so twice that share could not exist."""
    _, means, attribution = trained
    indicators = element_indicators(attribution, means)
    checked = {e: i for e, i in indicators.items() if i.density_ratio is not None and i.n_spectra >= MIN_SPECTRA}
    assert len(checked) >= 10, sorted(checked)
    assert {"Cu", "O", "Fe"} & set(indicators) and "O" not in checked  # O: no class-free range on its grid
    failing = {e: round(i.density_ratio, 2) for e, i in checked.items() if i.density_ratio < 2}
    assert not failing, failing
    for indicator in checked.values():
        informative, _ = demo_signal_masks(indicator.element)
        assert indicator.grid_share == pytest.approx(informative.mean())
        assert indicator.informative_share > indicator.grid_share


def test_split_attribution_is_saved_and_loaded_whole(trained, tmp_path):
    _, _, attribution = trained
    attribution.save(tmp_path / "a.npz")
    loaded = SplitAttribution.load(tmp_path / "a.npz")
    for name in ("signed", "magnitude", "count", "classes"):
        assert np.array_equal(getattr(loaded, name), getattr(attribution, name))
    for name in ("split", "n_samples", "steps", "completeness_error", "is_demo", "dataset_samples"):
        assert getattr(loaded, name) == pytest.approx(getattr(attribution, name))


def test_class_means_of_a_run_without_its_dataset_are_refused(runs, tmp_path):
    import json
    import shutil

    copy = shutil.copytree(runs["core"], tmp_path / "moved")
    (copy / "class_means.npz").unlink(missing_ok=True)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "dataset": str(tmp_path / "gone")}))
    with pytest.raises(RunError):
        class_means_for(read_run(copy))

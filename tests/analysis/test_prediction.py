"""Predictor: files -> probability equal to the model's on the dataset, explanations, user errors."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from xanes_core.analysis.materials import material_from_dataset, prepare_material, space_group_from_cif
from xanes_core.analysis.prediction import Predictor
from xanes_core.data.elements import CHANNELS
from xanes_core.errors import ElementError, RunError, SpectrumError, XanesError
from xanes_core.io import read_spectrum
from xanes_core.learn.features import pack, pack_rows
from xanes_core.learn.run_settings import update_settings
from tests.analysis.helpers import train_tiny

MP = ("spectra", "mp")


@pytest.fixture(scope="module")
def symmetry(runs, demo_small):
    return Predictor(runs["symmetry"], dataset=demo_small)


@pytest.fixture(scope="module")
def core(runs):
    return Predictor(runs["core"])  # loads its dataset from the run's config


def model_probability(predictor, dataset, index):
    return float(predictor.run.classifier.predict_proba(pack(dataset, np.array([index])))[0, 1])


def multi_element_samples(dataset, count):
    sizes = dataset.metadata["elements"].map(len).to_numpy()
    return np.flatnonzero(sizes >= 2)[:count]


def write_mp_json(path, element, energy, mu):
    """A Materials Project XAS document (pymatgen XAS.as_dict keys): a real, computed format."""
    path.write_text(json.dumps({"x": [float(e) for e in energy], "y": [float(v) for v in mu],
                                "absorbing_element": element, "edge": "K", "spectrum_type": "XANES"}))
    return path


def nacl_cif() -> str:
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    structure = Structure.from_spacegroup(225, Lattice.cubic(5.64), ["Na", "Cl"],
                                          [[0, 0, 0], [0.5, 0.5, 0.5]])
    return str(CifWriter(structure))


def test_files_in_a_real_format_give_the_models_probability(symmetry, demo_small, tmp_path):
    """Unaligned, a file of a dataset spectrum is exactly that spectrum (alignment: test_alignment)."""
    for index in multi_element_samples(demo_small, 3):
        rows = demo_small.rows_for_samples([index])
        paths = [write_mp_json(tmp_path / f"{index}-{r}.json", CHANNELS[demo_small.channel[r]],
                               demo_small.grids[demo_small.channel[r]], demo_small.spectra[r])
                 for r in rows]
        space_group = int(demo_small.metadata.at[index, "space_group"])
        prediction = symmetry.predict([read_spectrum(p) for p in paths], space_group=space_group, align=False)
        expected = model_probability(symmetry, demo_small, index)
        assert prediction.p_topological == pytest.approx(expected, abs=1e-5)
        assert symmetry.predict_sample(demo_small, index).p_topological == pytest.approx(expected, abs=1e-5)
        assert len(prediction.elements) == len(rows) >= 2


def test_contributions_split_spectrum_and_presence(symmetry, demo_small):
    """delta (leave one element out) = spectrum effect (spectrum made class-neutral, element kept)
    + presence effect (element removed vs present with the neutral spectrum)."""
    index = int(multi_element_samples(demo_small, 1)[0])
    prediction = symmetry.predict_sample(demo_small, index)
    p = prediction.p_topological
    assert set(prediction.contributions) == set(prediction.elements)
    rows = demo_small.rows_for_samples([index])
    space_group = np.array([demo_small.metadata.at[index, "space_group"]])
    for element, contribution in prediction.contributions.items():
        kept = [r for r in rows if CHANNELS[demo_small.channel[r]] != element]  # the material without it
        X = pack_rows(demo_small.spectra[kept], demo_small.channel[kept], np.zeros(len(kept), int), 1, space_group)
        without = float(symmetry.run.classifier.predict_proba(X)[0, 1])
        assert contribution.p_without == pytest.approx(without, abs=1e-5)
        assert contribution.delta == pytest.approx(model_probability(symmetry, demo_small, index) - without, abs=1e-5)
        assert contribution.spectrum_effect == pytest.approx(p - contribution.p_neutral)
        assert contribution.presence_effect == pytest.approx(contribution.p_neutral - contribution.p_without)
        assert contribution.spectrum_effect + contribution.presence_effect == pytest.approx(contribution.delta)
    assert max(abs(c.spectrum_effect) for c in prediction.contributions.values()) > 1e-6
    assert prediction.contributions_note is None


def test_a_class_neutral_spectrum_has_no_spectrum_effect(symmetry, demo_small):
    """A material whose first spectrum is its element's class-neutral training spectrum: that
    element's spectrum effect is zero and its whole delta is presence."""
    index = int(multi_element_samples(demo_small, 1)[0])
    material = material_from_dataset(demo_small, index)
    first = material.spectra[0]
    neutral = symmetry.class_means.neutral()[CHANNELS.index(first.element)]
    material = replace(material, spectra=(replace(first, mu=neutral), *material.spectra[1:]))
    contribution = symmetry.predict_material(material, align=False).contributions[first.element]
    assert contribution.spectrum_effect == pytest.approx(0.0, abs=1e-6)
    assert contribution.presence_effect == pytest.approx(contribution.delta, abs=1e-6)


def test_label_threshold_and_nearest_training_materials(symmetry, demo_small):
    train = symmetry.run.splits["train"]
    prediction = symmetry.predict_sample(demo_small, int(train[0]))
    assert prediction.label == ("topological" if prediction.p_topological >= 0.5 else "trivial")
    assert prediction.threshold == 0.5
    first = prediction.nearest[0]
    assert (first.sample_index, first.distance) == (int(train[0]), pytest.approx(0.0, abs=1e-6))
    assert [n.distance for n in prediction.nearest] == sorted(n.distance for n in prediction.nearest)
    assert {n.label for n in prediction.nearest} <= {"topological", "trivial"}
    assert all(n.sample_index in set(train.tolist()) for n in prediction.nearest)


def test_real_fixture_files_predict_with_warnings_listed(core, fixtures_dir):
    cobalt = read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json"))
    iron = read_spectrum(fixtures_dir / "spectra" / "xdi" / "fe2o3_rt.xdi")  # measured: normalized
    prediction = core.predict([cobalt, iron])
    prepared = [prediction.spectra[element] for element in ("Co", "Fe")]  # as read, normalized and aligned
    X = pack_rows(np.stack([e.mu for e in prepared]), np.array([CHANNELS.index("Co"), CHANNELS.index("Fe")]),
                  np.zeros(2, int), 1, None)
    assert prediction.p_topological == pytest.approx(float(core.run.classifier.predict_proba(X)[0, 1]), abs=1e-6)
    assert prediction.elements == ("Co", "Fe")
    assert prediction.spectra["Fe"].normalized.method == "pre-edge/post-edge"
    assert prediction.spectra["Co"].normalized.method == "as computed"
    assert prediction.spectra["Fe"].mu.shape == (200,) and 0 < prediction.spectra["Co"].coverage <= 1
    json.dumps(prediction.to_dict())
    single = core.predict([read_spectrum(fixtures_dir.joinpath(*MP, "xas.XANES.K.Fe.mp-13.tsv"))])
    (only,) = single.contributions.values()
    assert (only.p_without, only.delta, only.presence_effect) == (None, None, None)
    assert only.spectrum_effect == pytest.approx(single.p_topological - only.p_neutral)
    assert "only the spectrum effect" in single.contributions_note
    assert json.loads(json.dumps(single.to_dict()))["contributions"]["Fe"]["delta"] is None


def test_space_group_from_cif_and_its_checks(symmetry, fixtures_dir):
    assert space_group_from_cif(nacl_cif()) == (225, "NaCl")
    cobalt = read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json"))
    prediction = symmetry.predict([cobalt], cif=nacl_cif().encode())
    assert prediction.space_group == 225
    assert any("has no Co" in w for w in prediction.warnings)
    with pytest.raises(XanesError, match="CIF could not be read"):
        space_group_from_cif("data_broken\n_cell_length_a seven\nloop_\n_atom_site_label\n")
    with pytest.raises(XanesError, match="either a space group or a CIF"):
        symmetry.predict([cobalt], space_group=225, cif=nacl_cif())
    for bad in (0, 231, "P1", 2.5):
        with pytest.raises(XanesError, match="1 to 230"):
            symmetry.predict([cobalt], space_group=bad)


def test_symmetry_run_needs_a_space_group_core_run_says_it_ignores_one(symmetry, core, fixtures_dir):
    cobalt = read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json"))
    with pytest.raises(XanesError, match="needs the material's space group"):
        symmetry.predict([cobalt])
    assert any("does not use the space group" in w for w in core.predict([cobalt], space_group=166).warnings)


def test_unusable_spectra_are_refused_with_clear_errors(fixtures_dir):
    with pytest.raises(SpectrumError, match="L3-edge"):
        prepare_material([read_spectrum(fixtures_dir / "spectra" / "xdi" / "pt_metal_rt.xdi")])
    energy = np.linspace(7000, 7050, 60)  # below the Fe K-edge window (7102-7177 eV)
    with pytest.raises(SpectrumError, match="miss the Fe K-edge window"):
        prepare_material([("Fe", energy, np.linspace(0, 1, 60))])
    oxygen = read_spectrum(fixtures_dir / "spectra" / "feff" / "xmu.dat")  # O K edge, 531-586 eV
    with pytest.raises(SpectrumError, match="miss the O K-edge window"):
        prepare_material([("O", oxygen.energy + 200.0, oxygen.mu)])
    with pytest.raises(ElementError, match="not a chemical element"):
        prepare_material([("Xx", energy, np.linspace(0, 1, 60))])
    with pytest.raises(ElementError, match="No absorbing-element channel for Ar"):
        prepare_material([("Ar", energy, np.linspace(0, 1, 60))])
    cobalt = read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json"))
    with pytest.raises(XanesError, match="Co is given twice"):
        prepare_material([cobalt, cobalt])
    with pytest.raises(XanesError, match="at least one spectrum"):
        prepare_material([])


def test_run_threshold_and_a_missing_dataset(runs, fixtures_dir, tmp_path):
    copy = shutil.copytree(runs["core"], tmp_path / "moved-run")
    config = json.loads((copy / "config.json").read_text())
    config.update(dataset=str(tmp_path / "gone"))
    (copy / "config.json").write_text(json.dumps(config))
    predictor = Predictor(copy)
    update_settings(copy, threshold=0.999)  # saved on the Results page after the predictor was loaded
    prediction = predictor.predict([read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json"))])
    assert prediction.threshold == 0.999 and prediction.label == "trivial"
    assert prediction.nearest == () and any("Nearest training materials unavailable" in w
                                            for w in prediction.warnings)


def test_without_dataset_the_cached_class_means_still_split_contributions(runs, fixtures_dir, tmp_path):
    """The class means are cached in the run folder on first use; a run moved away from its
    dataset keeps its spectrum effects with them, and without them says why there are none."""
    Predictor(runs["core"])  # with its dataset: writes class_means.npz
    files = [read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json")),
             read_spectrum(fixtures_dir.joinpath(*MP, "xas.XANES.K.Fe.mp-13.tsv"))]
    for name, keep in (("with-means", True), ("without-means", False)):
        copy = shutil.copytree(runs["core"], tmp_path / name)
        config = json.loads((copy / "config.json").read_text())
        (copy / "config.json").write_text(json.dumps({**config, "dataset": str(tmp_path / "gone")}))
        if not keep:
            (copy / "class_means.npz").unlink()
        predictor = Predictor(copy)
        prediction = predictor.predict(files)
        effects = [c.spectrum_effect for c in prediction.contributions.values()]
        assert all(c.delta is not None for c in prediction.contributions.values())
        if keep:
            assert None not in effects and prediction.contributions_note is None
            assert predictor.attribution(prediction).values.keys() == {"Co", "Fe"}
        else:
            assert effects == [None, None] and "unavailable" in prediction.contributions_note
            with pytest.raises(RunError, match="Attribution over energy is unavailable"):
                predictor.attribution(prediction)


def test_baseline_runs_are_refused(demo_small, demo_small_path, tmp_path):
    run_dir = train_tiny(demo_small, demo_small_path, "elements", tmp_path / "elements")
    with pytest.raises(RunError, match="elements baseline; prediction from files needs a CNN run"):
        Predictor(run_dir)


def test_another_dataset_gives_no_neighbours_but_a_prediction(runs, fixtures_dir):
    from xanes_core.data.demo import generate_demo

    predictor = Predictor(runs["core"], dataset=generate_demo(n_samples=60, seed=3))
    prediction = predictor.predict([read_spectrum(fixtures_dir.joinpath(*MP, "LiCoO2_k_xanes.json"))])
    assert prediction.nearest == () and any("not the version run core was trained on" in w
                                            for w in prediction.warnings)

"""When not to trust a prediction: similarity to the training spectra, the applicability domain,
elements never seen in training, elements without a spectrum, neighbours that share elements."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.analysis.helpers import unseen_element
from xanes_core.analysis.materials import formula_from_name, prepare_material
from xanes_core.analysis.prediction import Predictor
from xanes_core.data.elements import CHANNELS, energy_grid
from xanes_core.data.reference import REFERENCE_FILE, EnergyReference
from xanes_core.errors import RunError, XanesError
from xanes_core.io import read_spectrum

FE_TSV = ("spectra", "mp", "xas.XANES.K.Fe.mp-13.tsv")


@pytest.fixture(scope="module")
def core(runs, demo_small):
    return Predictor(runs["core"], dataset=demo_small)


def training_material(predictor, dataset):
    """A training material of the run with at least two elements."""
    train = predictor.run.splits["train"]
    return int(next(i for i in train if len(dataset.metadata.at[i, "elements"]) >= 2))


def test_a_training_material_is_in_the_domain(core, demo_small):
    index = training_material(core, demo_small)
    prediction = core.predict_sample(demo_small, index)
    assert prediction.in_domain is True and prediction.missing_elements == ()
    assert set(prediction.similarity) == set(prediction.elements)
    assert all(value == pytest.approx(1.0, abs=1e-4) for value in prediction.similarity.values())
    assert set(prediction.alignment.values()) == {0.0}  # dataset materials are on the dataset's scale


def test_a_spectrum_unlike_any_training_spectrum_is_out_of_the_domain(core, demo_small):
    """An emission-like peak with no absorption edge, given as a computed spectrum of a trained element."""
    element = CHANNELS[int(np.bincount(demo_small.channel).argmax())]
    energy = energy_grid(element)
    peak = np.exp(-0.5 * ((energy - energy[60]) / 2.0) ** 2)
    prediction = core.predict([(element, energy, peak)])
    assert prediction.in_domain is False
    threshold = core.energy_reference.domain_threshold(element)
    assert prediction.similarity[element] < threshold < 1.0
    assert any("outside what the model was trained on" in w for w in prediction.warnings)


def test_an_element_never_seen_in_training_is_out_of_the_domain(core):
    element = unseen_element(core)
    energy = energy_grid(element)
    prediction = core.predict([(element, energy, 1.0 / (1.0 + np.exp(-(energy - energy[40]))))])
    assert prediction.in_domain is False and prediction.similarity == {element: None}
    assert any("never seen its spectra" in w for w in prediction.warnings)


def test_missing_elements_from_a_file_name_a_formula_and_a_cif(core, fixtures_dir):
    raw = fixtures_dir.joinpath(*FE_TSV).read_bytes()
    named = read_spectrum(raw, "xas.XANES.K.Fe2O3.mp-24972.tsv")
    assert formula_from_name(named.name) == "Fe2O3" and formula_from_name("fe2o3_rt.xdi") is None
    prediction = core.predict([named])
    assert prediction.missing_elements == ("O",)
    assert any("names O too, but no O spectrum was given" in w for w in prediction.warnings)
    iron = read_spectrum(fixtures_dir.joinpath(*FE_TSV))
    assert core.predict([iron]).missing_elements == ()
    assert prepare_material([iron], formula="LaFeAsO").missing_elements == ("La", "As", "O")
    assert prepare_material([iron], formula="FeH2").missing_elements == ()  # H has no model channel
    assert any("has no Fe" in w for w in prepare_material([iron], formula="CoO").warnings)
    with pytest.raises(XanesError, match="not a chemical formula"):
        prepare_material([iron], formula="Fe2)O3(")


def test_nearest_training_materials_contain_the_uploaded_elements(core, fixtures_dir):
    cobalt = read_spectrum(fixtures_dir / "spectra" / "mp" / "LiCoO2_k_xanes.json")
    prediction = core.predict([cobalt])
    dataset_elements = core.neighbours.metadata.set_index("sample_id")["elements"]
    assert prediction.nearest and "Co" in prediction.nearest_space
    assert all("Co" in dataset_elements[n.sample_id] for n in prediction.nearest)


def test_json_keeps_every_key_and_adds_the_trust_keys(core, fixtures_dir):
    prediction = core.predict([read_spectrum(fixtures_dir.joinpath(*FE_TSV))])
    out = json.loads(json.dumps(prediction.to_dict()))
    assert {"p_topological", "label", "threshold", "elements", "space_group", "contributions",
            "contributions_note", "warnings", "coverage", "nearest", "nearest_space", "run_dir",
            "model"} <= set(out)
    assert set(out["alignment"]) == set(out["similarity"]) == {"Fe"}
    assert isinstance(out["in_domain"], bool) and out["missing_elements"] == []


def test_the_run_stores_its_reference_and_a_run_without_one_fits_it_again(runs, demo_small, tmp_path):
    stored = EnergyReference.load(runs["core"] / REFERENCE_FILE)
    copy = shutil.copytree(runs["core"], tmp_path / "old-run")
    (copy / REFERENCE_FILE).unlink()
    refitted = Predictor(copy, dataset=demo_small).energy_reference
    assert np.array_equal(stored.count, refitted.count)
    assert np.allclose(stored.mean, refitted.mean) and np.allclose(stored.threshold, refitted.threshold, equal_nan=True)
    (copy / REFERENCE_FILE).write_bytes(b"not a reference")
    with pytest.raises(RunError, match="energy_reference.npz is damaged"):
        EnergyReference.load(copy / REFERENCE_FILE)


def test_without_the_runs_dataset_alignment_works_and_the_domain_is_unknown(runs, fixtures_dir, tmp_path):
    copy = shutil.copytree(runs["core"], tmp_path / "moved-run")
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "dataset": str(tmp_path / "gone")}))
    foil = read_spectrum(fixtures_dir / "spectra" / "xdi" / "cu_metal_rt.xdi")
    prediction = Predictor(copy).predict([foil])
    assert prediction.in_domain is None and prediction.similarity == {"Cu": None}
    assert prediction.alignment["Cu"] != 0.0
    assert any("could not be checked" in w for w in prediction.warnings)

"""The sparse CNN: same outputs as the paper's dense formulation, safe saving, input building."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pandas as pd
import pytest

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.errors import XanesError
from xanes_core.learn.model import (CNNClassifier, EncodedSpectra, ModelConfig, SpectraBatches,
                              build_dense_reference, build_model, embedding_model,
                              load_keras_model, make_inputs, sample_inputs)
from xanes_core.data.preprocess import Standardizer

SMALL = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)


def _hand_dataset(n_samples: int = 24, seed: int = 0) -> XanesDataset:
    """Random samples with 1-4 elements each, rows deliberately not sorted by sample."""
    rng = np.random.default_rng(seed)
    rows, samples, channels = [], [], []
    for s in range(n_samples):
        for ch in rng.choice(N_CHANNELS, rng.integers(1, 5), replace=False):
            rows.append(rng.normal(size=GRID_POINTS))
            samples.append(s)
            channels.append(ch)
    order = rng.permutation(len(rows))
    metadata = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n_samples)], "formula": "X", "elements": [["Fe"]] * n_samples,
        "space_group": rng.integers(1, 231, n_samples), "crystal_system": "cubic", "point_group": "m-3m",
        "label": np.arange(n_samples) % 2, "source": "test", "split": "train",
    })
    return XanesDataset(spectra=np.array(rows)[order], sample_index=np.array(samples)[order],
                        channel=np.array(channels)[order], metadata=metadata)


def _randomize(model: keras.Model, seed: int = 0) -> None:
    """Non-zero biases everywhere, so absent channels encode to a non-trivial vector."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + (0.1 * rng.normal(size=w.shape) if w.ndim == 1 else 0) for w in model.get_weights()])


@pytest.mark.parametrize("model_type", ["symmetry", "core"])
def test_sparse_model_equals_dense_reference_for_same_weights(model_type):
    dataset = _hand_dataset()
    # Fitted on other data: fitted on these 24 samples, an element seen once would standardize
    # to all zeros, which the dense input cannot tell from "absent" (see the next test).
    standardizer = Standardizer.fit_dataset(_hand_dataset(seed=1), np.arange(24))
    sparse = build_model(model_type, SMALL)
    _randomize(sparse)
    dense = build_dense_reference(model_type, SMALL)
    dense.set_weights(sparse.get_weights())  # same layers, same order: the mapping is identity
    samples = np.array([5, 0, 17, 3, 9])
    encoded = EncodedSpectra(dataset, standardizer)
    sparse_inputs = encoded.inputs(samples)
    dense_inputs = {"dense_spectra": dataset.dense(samples, spectra=standardizer.transform(dataset.spectra, dataset.channel))}
    if model_type == "symmetry":
        dense_inputs["symmetry"] = sparse_inputs["symmetry"]
    else:
        del sparse_inputs["symmetry"]
    sparse_embedding = embedding_model(sparse)(sparse_inputs).numpy()
    dense_embedding = embedding_model(dense)(dense_inputs).numpy()
    np.testing.assert_allclose(sparse_embedding, dense_embedding, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sparse(sparse_inputs).numpy(), dense(dense_inputs).numpy(), rtol=1e-5, atol=1e-6)
    assert np.ptp(sparse(sparse_inputs).numpy()) > 1e-4  # a constant output would prove nothing


def test_model_knows_which_elements_are_present():
    """A present spectrum equal to the element mean (all zeros once standardized) is not the
    same input as an absent element: the presence mask tells them apart, as in the dense model."""
    model = build_model("core", SMALL)
    _randomize(model)
    zeros = np.zeros((2, GRID_POINTS), dtype=np.float32)
    present = make_inputs(zeros, np.array([10, 30]), np.array([0, 0]), 1, None)
    absent = make_inputs(zeros[:1], np.array([30]), np.array([0]), 1, None, width=2)
    del present["symmetry"], absent["symmetry"]
    assert abs(float(model(present)[0, 0]) - float(model(absent)[0, 0])) > 1e-6


def test_padding_does_not_change_predictions():
    dataset = _hand_dataset()
    standardizer = Standardizer.fit_dataset(dataset, np.arange(dataset.n_samples))
    model = build_model("symmetry", SMALL)
    _randomize(model)
    encoded = EncodedSpectra(dataset, standardizer)
    batch = encoded.inputs(np.array([2, 4]))
    alone = encoded.inputs(np.array([4]))
    wider = {**alone, "spectra": np.pad(alone["spectra"], ((0, 0), (0, 3), (0, 0))),
             "channels": np.pad(alone["channels"], ((0, 0), (0, 3)), constant_values=-1)}
    np.testing.assert_allclose(model(batch).numpy()[1], model(wider).numpy()[0], atol=1e-6)


def test_saved_model_loads_in_safe_mode_without_lambda(tmp_path):
    model = build_model("symmetry", SMALL)
    _randomize(model)
    path = tmp_path / "model.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert "Lambda" not in archive.read("config.json").decode()
    loaded = load_keras_model(str(path))
    dataset = _hand_dataset()
    encoded = EncodedSpectra(dataset, Standardizer.fit_dataset(dataset, np.arange(dataset.n_samples)))
    samples = np.arange(dataset.n_samples)
    np.testing.assert_allclose(CNNClassifier(loaded, "symmetry").predict_proba(encoded, samples),
                               CNNClassifier(model, "symmetry").predict_proba(encoded, samples), atol=1e-6)


def test_make_inputs_pads_rows_per_sample_in_any_order():
    spectra = np.arange(4 * GRID_POINTS, dtype=np.float32).reshape(4, GRID_POINTS)
    inputs = make_inputs(spectra, np.array([7, 3, 9, 5]), np.array([1, 0, 1, 1]), 3, np.array([1, 2, 225]))
    assert inputs["spectra"].shape == (3, 3, GRID_POINTS)
    assert inputs["channels"].tolist() == [[3, -1, -1], [7, 9, 5], [-1, -1, -1]]
    np.testing.assert_array_equal(inputs["spectra"][1, 1], spectra[2])
    assert inputs["symmetry"].shape == (3, 269) and inputs["symmetry"].sum() == 9


def test_sample_inputs_standardizes_and_checks():
    dataset = _hand_dataset()
    standardizer = Standardizer.fit_dataset(dataset, np.arange(dataset.n_samples))
    spectrum = dataset.spectra[0]
    ch = int(dataset.channel[0])
    inputs = sample_inputs([(ch, spectrum)], None, standardizer)
    np.testing.assert_allclose(inputs["spectra"][0, 0], standardizer.transform(spectrum[None], np.array([ch]))[0])
    assert inputs["symmetry"].sum() == 0
    assert sample_inputs([(ch, spectrum)], 225, standardizer)["symmetry"].sum() == 3
    with pytest.raises(XanesError):
        sample_inputs([], None, standardizer)
    with pytest.raises(XanesError):
        sample_inputs([(ch, spectrum), (ch, spectrum)], None, standardizer)
    with pytest.raises(XanesError):
        sample_inputs([(ch, spectrum[:50])], None, standardizer)


def test_batches_cover_every_sample_once_with_aligned_labels():
    dataset = _hand_dataset(n_samples=23)
    encoded = EncodedSpectra(dataset, Standardizer.fit_dataset(dataset, np.arange(23)))
    samples = np.arange(3, 23)
    labels = dataset.labels[samples]
    batches = SpectraBatches(encoded, samples, 6, labels, np.ones(samples.size), shuffle=True, seed=1)
    seen = 0
    for i in range(len(batches)):
        inputs, y, w = batches[i]
        assert inputs["spectra"].shape[1] == encoded.width and len(y) == len(w) == len(inputs["channels"])
        seen += len(y)
    assert seen == samples.size and len(batches) == 4


def test_config_round_trip():
    config = ModelConfig(filters=(8, 8), dense_units=(32, 8))
    assert ModelConfig.from_dict(config.to_dict()) == config

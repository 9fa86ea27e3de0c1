"""The sparse CNN: same outputs as the paper's dense formulation, safe saving, packed inputs."""

from __future__ import annotations

import zipfile
from dataclasses import replace

import keras
import numpy as np
import pandas as pd
import pytest

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.data.preprocess import Standardizer
from xanes_core.learn.architecture import (
    build_dense_reference,
    build_model,
    embedding_model,
    load_keras_model,
    model_inputs,
)
from xanes_core.learn.batches import SpectraBatches
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.features import pack, pack_rows, standardize, unpack

SMALL = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8, slot_units=8)
PAPER_LAYOUT = replace(SMALL, slot_units=0, presence_input=False)  # the paper's plain flatten, no mask


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


def dense_view(dataset: XanesDataset, samples: np.ndarray, spectra: np.ndarray) -> np.ndarray:
    """The paper's (batch, 200, 81) input for a few samples (absent elements are 0)."""
    out = np.zeros((samples.size, GRID_POINTS, N_CHANNELS), dtype=np.float32)
    for position, sample in enumerate(samples):
        for row in np.flatnonzero(dataset.sample_index == sample):
            out[position, :, dataset.channel[row]] = spectra[row]
    return out


def _randomize(model: keras.Model, seed: int = 0) -> None:
    """Non-zero biases everywhere, so absent channels encode to a non-trivial vector."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + (0.1 * rng.normal(size=w.shape) if w.ndim == 1 else 0) for w in model.get_weights()])


@pytest.mark.parametrize(("model_type", "config"), [("symmetry", SMALL), ("core", SMALL), ("symmetry", PAPER_LAYOUT)],
                         ids=["symmetry", "core", "paper-layout"])
def test_sparse_model_equals_dense_reference_for_same_weights(model_type, config):
    dataset = _hand_dataset()
    # Fitted on other data: fitted on these 24 samples, an element seen once would standardize
    # to all zeros, which the dense input cannot tell from "absent" (see the next test).
    standardizer = Standardizer.fit_dataset(_hand_dataset(seed=1), np.arange(24))
    sparse = build_model(model_type, config)
    _randomize(sparse)
    dense = build_dense_reference(model_type, config)
    dense.set_weights(sparse.get_weights())  # same layers, same order: the mapping is identity
    samples = np.array([5, 0, 17, 3, 9])
    sparse_inputs = model_inputs(standardize(pack(dataset, samples), standardizer), model_type)
    dense_inputs = {"dense_spectra": dense_view(dataset, samples, standardizer.transform(dataset.spectra, dataset.channel))}
    if model_type == "symmetry":
        dense_inputs["symmetry"] = sparse_inputs["symmetry"]
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
    present = model_inputs(pack_rows(zeros, np.array([10, 30]), np.array([0, 0]), 1, None), "core")
    absent = model_inputs(pack_rows(zeros[:1], np.array([30]), np.array([0]), 1, None, width=2), "core")
    assert abs(float(model(present)[0, 0]) - float(model(absent)[0, 0])) > 1e-6


def test_the_paper_layout_feeds_the_flattened_slots_only_and_saves(tmp_path):
    """slot_units=0 and presence_input=False: the dense layers see the 81 flattened slots (3 pooled
    points x 4 filters each here), no mask; SMALL adds the slot layer (8) and the mask (1)."""
    model = build_model("core", PAPER_LAYOUT)
    assert model.get_layer("element_encoder").output_width == N_CHANNELS * 3 * 4
    assert model.get_layer("dense_large").kernel.shape[0] == N_CHANNELS * 3 * 4
    assert build_model("core", SMALL).get_layer("dense_large").kernel.shape[0] == N_CHANNELS * (8 + 1)
    model.save(tmp_path / "model.keras")
    loaded = load_keras_model(str(tmp_path / "model.keras"))
    assert loaded.get_layer("element_encoder").presence_input is False
    inputs = model_inputs(pack(_hand_dataset()), "core")
    np.testing.assert_allclose(loaded(inputs).numpy(), model(inputs).numpy(), atol=1e-6)


def test_padding_does_not_change_predictions():
    dataset = _hand_dataset()
    standardizer = Standardizer.fit_dataset(dataset, np.arange(dataset.n_samples))
    model = build_model("symmetry", SMALL)
    _randomize(model)
    X = standardize(pack(dataset), standardizer)
    batch = model_inputs(X[[2, 4]], "symmetry")
    alone = model_inputs(X[[4]], "symmetry")
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
    inputs = model_inputs(pack(dataset), "symmetry")
    np.testing.assert_allclose(loaded(inputs).numpy(), model(inputs).numpy(), atol=1e-6)


def test_batches_cover_every_sample_once_with_aligned_labels():
    dataset = _hand_dataset(n_samples=23)
    X = pack(dataset)[3:]
    labels = dataset.labels[3:]
    batches = SpectraBatches(X, 6, "symmetry", labels, np.ones(len(X)), shuffle=True, seed=1)
    seen = []
    for i in range(len(batches)):
        inputs, y, w = batches[i]
        assert inputs["spectra"].shape[1] == unpack(X).channels.shape[1] and len(y) == len(w) == len(inputs["channels"])
        seen.append(len(y))
    assert sum(seen) == len(X) and len(batches) == 4


def test_config_round_trip():
    config = ModelConfig(filters=(8, 8), dense_units=(32, 8))
    assert ModelConfig.from_dict(config.to_dict()) == config

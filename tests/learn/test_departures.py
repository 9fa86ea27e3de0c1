"""Every departure from the paper is a setting whose other value restores the paper's choice,
settable through TrainingConfig and `train` (--config FILE.json and flags); older runs still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import TRAIN_KEYS, run_command
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.data.preprocess import Standardizer
from xanes_core.data.weights import element_rarity, sample_weights
from xanes_core.errors import XanesError
from xanes_core.learn import runs
from xanes_core.learn.config import TrainingConfig

PAPER = {"label_smoothing": 0.0, "weighting": "paper", "rarity_clip": None, "standardizer_scale": "energy",
         "model_config": {"slot_units": 0, "presence_input": False}}


def test_standardizer_scale_per_element_or_per_element_and_energy():
    rng = np.random.default_rng(0)
    spectra = (rng.normal(size=(300, GRID_POINTS)) * np.linspace(0.1, 5.0, GRID_POINTS)).astype(np.float32)
    channels = np.repeat([3, 40], 150)
    for scale, shape in (("element", (N_CHANNELS,)), ("energy", (N_CHANNELS, GRID_POINTS))):
        standardizer = Standardizer.fit(spectra, channels, scale=scale)
        assert standardizer.scale.shape == shape
        out = standardizer.transform(spectra[channels == 3], channels[channels == 3])
        per_point = out.std(axis=0)
        if scale == "energy":  # every energy point at unit variance
            np.testing.assert_allclose(per_point, 1.0, atol=1e-3)
        else:  # one scale: the weak and the strong end keep their ratio (~50)
            assert per_point[-1] / per_point[0] > 20 and abs(np.sqrt(np.mean(out ** 2)) - 1) < 1e-3
    with pytest.raises(XanesError, match="scale"):
        Standardizer.fit(spectra, channels, scale="sample")


def test_standardizer_of_either_scale_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    spectra, channels = rng.normal(size=(40, GRID_POINTS)).astype(np.float32), np.repeat([5, 6], 20)
    for scale in ("element", "energy"):
        standardizer = Standardizer.fit(spectra, channels, scale=scale)
        standardizer.save(tmp_path / f"{scale}.npz")
        loaded = Standardizer.load(tmp_path / f"{scale}.npz")
        np.testing.assert_array_equal(loaded.transform(spectra, channels), standardizer.transform(spectra, channels))


def test_rarity_weights_clipped_or_as_in_the_paper():
    presence = np.zeros((201, N_CHANNELS))
    presence[:100, 1] = presence[100:200, 2] = 1  # two common elements (100 samples each)
    presence[200, 3] = 1  # and one seen once: median frequency 100, ratio 100
    assert element_rarity(presence)[200] == pytest.approx(10.0)  # clipped (ours)
    assert element_rarity(presence, clip=None)[200] == pytest.approx(100.0)  # the paper's
    labels = np.r_[np.zeros(100), np.ones(101)].astype(int)
    clipped, paper = sample_weights(labels, presence), sample_weights(labels, presence, rarity_clip=None)
    assert paper[200] / paper[199] == pytest.approx(10 * clipped[200] / clipped[199])


def test_settings_reach_every_classifier_and_older_configs_load():
    config = TrainingConfig.from_dict({"dataset": "d", "model": "core", **PAPER})
    params = config.classifier().get_params()
    assert {key: params[key] for key in ("label_smoothing", "weighting", "rarity_clip", "standardizer_scale",
                                         "slot_units", "presence_input")} == {**{k: v for k, v in PAPER.items() if k != "model_config"},
                                                                **PAPER["model_config"]}
    for model in ("svm", "elements"):
        baseline = TrainingConfig.from_dict({"dataset": "d", "model": model, **PAPER}).classifier().get_params()
        assert (baseline["rarity_clip"], baseline["standardizer_scale"]) == (None, "energy")
    older = TrainingConfig.from_dict({"dataset": "d", "model": "core", "model_config": {"slot_units": 8}})
    assert (older.rarity_clip, older.standardizer_scale, older.model_config.presence_input) == (10.0, "element", True)
    assert older.model_config.slot_units == 8
    assert TrainingConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(XanesError, match="clip"):
        TrainingConfig(dataset="d", rarity_clip=0.5)


def test_train_takes_a_config_file_and_flags_that_restore_the_paper(demo_small_path, tmp_path):
    settings = tmp_path / "paper.json"
    settings.write_text(json.dumps({"model": "core", "epochs": 1, "augment": False, "label_smoothing": 0.0,
                                    "model_config": {"filters": [4, 8, 4], "dense_units": [16, 8]}}))
    printed = run_command("train", "--dataset", str(demo_small_path), "--config", str(settings), "--seed", "2",
                          "--slot-units", "0", "--no-presence-input", "--weighting", "paper", "--rarity-clip", "none",
                          "--standardizer-scale", "energy", "--out", str(tmp_path / "run"))
    assert set(printed) == TRAIN_KEYS and printed["model"] == "core" and printed["epochs_run"] == 1
    config = runs.read_config(tmp_path / "run")
    assert (config["seed"], config["label_smoothing"], config["weighting"], config["rarity_clip"],
            config["standardizer_scale"]) == (2, 0.0, "paper", None, "energy")
    assert config["model_config"]["slot_units"] == 0 and config["model_config"]["presence_input"] is False
    run = runs.load_run(tmp_path / "run")
    assert run.standardizer.scale.shape == (N_CHANNELS, GRID_POINTS)
    assert run.classifier.model_.get_layer("element_encoder").presence_input is False
    again = run_command("train", "--dataset", str(demo_small_path), "--config", str(tmp_path / "run" / "config.json"),
                        "--model", "elements", "--out", str(tmp_path / "again"))  # a run's config.json, one flag changed
    assert runs.read_config(tmp_path / "again")["standardizer_scale"] == "energy" and again["model"] == "elements"


@pytest.mark.parametrize(("content", "words"), [
    ('{"epochs": 1, "dropout_rate": 0.5}', "unknown settings: dropout_rate"),
    ('{"model_config": {"filter": [4]}}', "unknown settings: model_config.filter"),
    ("epochs = 1", "not a JSON file"),
    ('[1, 2]', "one JSON object"),
    ('{"rarity_clip": 0.2}', "clip must be at least 1"),
])
def test_a_bad_config_file_is_one_line(demo_small_path, tmp_path, content, words, capsys):
    from xanes_core.cli import main

    settings = tmp_path / "settings.json"
    settings.write_text(content)
    assert main(["train", "--dataset", str(demo_small_path), "--config", str(settings),
                 "--out", str(tmp_path / "run")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and words in line, line
    assert not (tmp_path / "run").exists()


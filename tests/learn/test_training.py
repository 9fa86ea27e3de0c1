"""The training engine: states, cancel within one batch, queue, failures, CLI hooks."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from tests.helpers import run_command, with_unlabelled
from xanes_core.data.dataset import UNLABELLED, XanesDataset
from xanes_core.errors import XanesError
from xanes_core.learn import runs, training
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.features import fit_standardizer, pack
from xanes_core.learn.training import Trainer, TrainingConfig
from xanes_core.paths import runs_root

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)


def _config(path, **changes) -> TrainingConfig:
    values = {"dataset": str(path), "epochs": 2, "batch_size": 32, "model_config": TINY, **changes}
    return TrainingConfig(**values)


def test_trainer_completes_and_writes_a_full_run(demo_small_path):
    trainer = Trainer(_config(demo_small_path)).start()
    final = trainer.join(timeout=120)
    assert final.status == "completed", final.message
    assert final.device == _device() and final.epoch >= 1 and final.batches > 0
    for name in (runs.CONFIG, runs.STATUS, runs.HISTORY, runs.SPLITS_FILE, "standardizer.npz",
                 "model.keras", runs.METRICS):
        assert (trainer.run_dir / name).is_file(), name
    history = json.loads((trainer.run_dir / runs.HISTORY).read_text())
    assert len(history) == len(final.history) and {"loss", "val_loss", "val_balanced_accuracy"} <= set(history[0])
    loaded = runs.load_run(trainer.run_dir)
    assert loaded.status["status"] == "completed" and loaded.model_type == "symmetry"
    assert sorted(np.concatenate(list(loaded.splits.values())).tolist()) == list(range(600))


def _device() -> str:
    """Where TensorFlow trains on this machine (CPU, or the GPU of a GPU machine)."""
    from xanes_core.learn.classifiers import select_device

    return select_device()[1]


def _poison_test_split(dataset: XanesDataset) -> XanesDataset:
    """The same dataset with every test material's spectra blown up and its label flipped."""
    test = dataset.split_indices("test")
    rows = dataset.rows_for_samples(test)
    spectra = dataset.spectra.copy()
    spectra[rows] = spectra[rows] * 1000.0 + 50.0
    metadata = dataset.metadata.copy()
    metadata.loc[test, "label"] = 1 - metadata.loc[test, "label"]
    return XanesDataset(spectra=spectra, sample_index=dataset.sample_index, channel=dataset.channel,
                        coverage=dataset.coverage, metadata=metadata, provenance=dataset.provenance)


def train_clean_and_poisoned(dataset: XanesDataset, tmp_path, **changes) -> tuple[runs.LoadedRun, runs.LoadedRun]:
    """The same configuration trained on ``dataset`` and on its copy with a poisoned test split."""
    fitted = {}
    for name, data in (("clean", dataset), ("poisoned", _poison_test_split(dataset))):
        data.save(tmp_path / name)
        trainer = Trainer(_config(tmp_path / name, **changes), out=tmp_path / f"run-{name}", dataset=data).start()
        assert trainer.join(timeout=600).status == "completed", trainer.state.snapshot().message
        fitted[name] = runs.load_run(trainer.run_dir)
    return fitted["clean"], fitted["poisoned"]


def test_the_test_split_never_reaches_the_fit(demo_small, tmp_path):
    """Standardizer fit, shift augmentation and early stopping see no test material: poisoning the
    test split leaves the fitted model and standardizer exactly as they were; only the scores move."""
    clean, poisoned = train_clean_and_poisoned(demo_small, tmp_path, epochs=4, patience=1, seed=7)
    for field in ("mean", "scale", "fitted"):
        np.testing.assert_array_equal(getattr(clean.standardizer, field), getattr(poisoned.standardizer, field))
    assert [e["val_loss"] for e in clean.history] == [e["val_loss"] for e in poisoned.history]
    for a, b in zip(clean.classifier.model_.get_weights(), poisoned.classifier.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert clean.metrics["test"]["balanced_accuracy"] != poisoned.metrics["test"]["balanced_accuracy"]


def test_cancel_stops_within_one_batch(demo_small_path, monkeypatch):
    seen_batches = []
    original = training._Progress.on_train_batch_end

    def slow_batch(self, batch, logs=None):
        seen_batches.append(batch)
        if len(seen_batches) == 3:
            self.trainer.cancel()
        original(self, batch, logs)

    monkeypatch.setattr(training._Progress, "on_train_batch_end", slow_batch)
    trainer = Trainer(_config(demo_small_path, epochs=50)).start()
    final = trainer.join(timeout=120)
    assert final.status == "cancelled"
    assert len(seen_batches) == 3
    assert runs.read_status(trainer.run_dir)["status"] == "cancelled"


def test_second_training_waits_in_the_queue(demo_small_path):
    first = Trainer(_config(demo_small_path, epochs=1))
    second = Trainer(_config(demo_small_path, epochs=1))
    first.start()
    second.start()
    deadline = time.monotonic() + 60
    while first.state.snapshot().status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert second.state.snapshot().status == "queued"
    assert runs.read_status(second.run_dir)["status"] == "queued"
    second.cancel()
    assert second.join(timeout=30).status == "cancelled"
    assert first.join(timeout=120).status == "completed"


def test_failure_marks_the_run_failed_with_the_message(demo_small_path, tmp_path):
    broken = tmp_path / "broken-dataset"
    shutil.copytree(demo_small_path, broken)
    (broken / "arrays.npz").write_bytes(b"damaged after it was saved")
    trainer = Trainer(_config(broken)).start()
    final = trainer.join(timeout=30)
    assert final.status == "failed" and "corrupt" in final.message
    assert runs.read_status(trainer.run_dir)["status"] == "failed"


def test_a_missing_dataset_is_refused_before_any_run_folder_exists(tmp_path):
    before = set(runs_root().glob("*")) if runs_root().exists() else set()
    with pytest.raises(XanesError, match="No dataset folder"):
        Trainer(_config(tmp_path / "no-such-dataset"))
    with pytest.raises(XanesError, match="No dataset folder"):
        run_command("train", "--dataset", str(tmp_path / "no-such-dataset"), "--model", "core", "--out", str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    after = set(runs_root().glob("*")) if runs_root().exists() else set()
    assert after == before


def test_bad_config_is_a_user_error(tmp_path):
    with pytest.raises(XanesError):
        TrainingConfig(dataset=str(tmp_path), model="forest")
    with pytest.raises(XanesError):
        TrainingConfig(dataset=str(tmp_path), epochs=0)
    config = _config(tmp_path, model="core")
    assert TrainingConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_unlabelled_materials_are_never_trained_on_or_scored(demo_small, tmp_path):
    """Unlabelled copies with spectra x1000 would dominate the standardizer if they were used:
    the run's splits, standardizer and test count are those of the labelled materials alone."""
    mixed = with_unlabelled(demo_small, 60, scale=1000.0)
    path = mixed.save(tmp_path / "mixed")
    trainer = Trainer(_config(path, epochs=1)).start()
    final = trainer.join(timeout=120)
    assert final.status == "completed", final.message
    loaded = runs.load_run(trainer.run_dir)
    used = np.concatenate(list(loaded.splits.values()))
    assert sorted(used.tolist()) == list(range(demo_small.n_samples))  # not one of the 60 unlabelled
    expected = fit_standardizer(pack(mixed, mixed.split_indices("train")))
    np.testing.assert_allclose(loaded.standardizer.mean, expected.mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.standardizer.scale, expected.scale, rtol=1e-5)
    assert json.loads((trainer.run_dir / runs.METRICS).read_text())["test"]["n_samples"] == demo_small.split_indices("test").size


def test_a_library_without_labels_is_refused_before_any_run_folder_exists(demo_small, tmp_path):
    library = with_unlabelled(demo_small, demo_small.n_samples).subset(
        np.arange(demo_small.n_samples, 2 * demo_small.n_samples))
    assert (library.labels == UNLABELLED).all()
    path = library.save(tmp_path / "library")
    before = set(runs_root().glob("*")) if runs_root().exists() else set()
    for attempt in (lambda: Trainer(_config(path)), lambda: Trainer(_config(path), dataset=library)):
        with pytest.raises(XanesError, match="no labelled materials"):
            attempt()
    after = set(runs_root().glob("*")) if runs_root().exists() else set()
    assert after == before

"""Ensemble members trained side by side in worker processes: the same members as in this
process, every training event replayed to the members' own callbacks, a stop or a failure
that reaches the right member, and no worker process left behind."""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.learn.test_training import TINY, _config
from xanes_core.errors import XanesError
from xanes_core.learn.classifiers import CNNClassifier
from xanes_core.learn.ensemble import EnsembleClassifier
from xanes_core.learn.features import pack
from xanes_core.learn.training import Trainer


def _workers_alive() -> list[int]:
    """Process ids of this process's member workers still running (Linux /proc)."""
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"xanes_core.learn.member_worker" in command and parent == os.getpid():
            alive.append(int(entry.name))
    return alive


@pytest.fixture(scope="module")
def splits(demo_small):
    X, y = pack(demo_small), demo_small.metadata.label.to_numpy()
    train, validation = demo_small.split_indices("train"), demo_small.split_indices("validation")
    return X[train], y[train], (X[validation], y[validation])


def _ensemble(n_jobs: int, members: int = 2, **settings) -> EnsembleClassifier:
    cnn = CNNClassifier(**{"epochs": 2, "seed": 4, **asdict(TINY), **settings})
    return EnsembleClassifier(cnn, n_members=members, n_jobs=n_jobs)


class _Recorder(keras.callbacks.Callback):
    """Every event one member's training sends, in order; optionally stops it after a batch."""

    def __init__(self, stop_after_batch: int | None = None) -> None:
        super().__init__()
        self.events: list[tuple] = []
        self.stop_after_batch = stop_after_batch

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", dict(self.params)))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch", batch, set(logs or {})))
        if self.stop_after_batch is not None and batch + 1 >= self.stop_after_batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, dict(logs or {})))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


def test_a_member_trained_in_a_worker_process_is_the_member_trained_here(splits):
    X, y, validation = splits
    side_by_side = _ensemble(n_jobs=2).fit(X, y, validation=validation)
    here = _ensemble(n_jobs=1).fit(X, y, validation=validation)
    assert side_by_side.side_by_side() == 2 and here.side_by_side() == 1
    beside, local = side_by_side.member_probabilities(validation[0]), here.member_probabilities(validation[0])
    np.testing.assert_allclose(beside, local, atol=1e-5)
    assert not np.allclose(beside[0], beside[1], atol=1e-3)  # two seeds, two members
    for a, b in zip(side_by_side.history_, here.history_):
        assert [sorted(epoch) for epoch in a] == [sorted(epoch) for epoch in b]
        np.testing.assert_allclose([e["val_loss"] for e in a], [e["val_loss"] for e in b], rtol=1e-5)
    np.testing.assert_allclose(side_by_side.calibration_.temperature, here.calibration_.temperature, rtol=1e-4)
    assert not _workers_alive()


def test_every_member_reports_each_event_to_its_own_callbacks(splits):
    X, y, validation = splits
    recorders: dict[int, _Recorder] = {}

    def member_callbacks(index: int) -> list[_Recorder]:
        recorders[index] = _Recorder(stop_after_batch=3 if index == 1 else None)
        return [recorders[index]]

    ensemble = _ensemble(n_jobs=2, members=3, epochs=3).fit(X, y, validation=validation,
                                                             member_callbacks=member_callbacks)
    assert sorted(recorders) == [0, 1, 2]
    for index in (0, 2):
        events = recorders[index].events
        steps = events[0][1]["steps"]
        assert events[0][0] == "train_begin" and events[0][1]["epochs"] == 3 and events[-1] == ("train_end",)
        assert [e[1] for e in events if e[0] == "epoch_begin"] == [0, 1, 2]
        assert [e[1] for e in events if e[0] == "batch"] == list(range(steps)) * 3
        assert all({"loss", "accuracy"} <= e[2] for e in events if e[0] == "batch")
        ends = [e[2] for e in events if e[0] == "epoch_end"]
        assert len(ends) == 3 and all({"val_loss", "val_balanced_accuracy"} <= set(logs) for logs in ends)
        assert [logs["val_loss"] for logs in ends] == pytest.approx([h["val_loss"] for h in ensemble.history_[index]])
    # the stand-in model's stop_training reached member 2's own process: it stopped in its first epoch
    assert len(ensemble.history_[1]) == 1 and len(ensemble.history_[0]) == len(ensemble.history_[2]) == 3


def test_a_failing_member_is_one_error_naming_it_and_no_worker_is_left(splits):
    X, y, validation = splits
    with pytest.raises(XanesError, match=r"CNN [12] of the ensemble failed: Unknown CNN type 'hexagonal'"):
        _ensemble(n_jobs=2, model_type="hexagonal").fit(X, y, validation=validation)
    assert not _workers_alive()


def test_an_exception_from_a_members_callbacks_stops_every_worker(splits):
    X, y, validation = splits

    def member_callbacks(index: int) -> list:
        if index == 2:
            raise KeyboardInterrupt("stop the ensemble")
        return []

    with pytest.raises(KeyboardInterrupt):
        _ensemble(n_jobs=2, members=3).fit(X, y, validation=validation, member_callbacks=member_callbacks)
    assert not _workers_alive()


def test_n_jobs_is_checked(splits):
    X, y, validation = splits
    with pytest.raises(XanesError, match="n_jobs is -1"):
        _ensemble(n_jobs=0).fit(X, y, validation=validation)


def test_cancelling_a_side_by_side_ensemble_stops_its_workers_and_shows_both_members(demo_small_path):
    trainer = Trainer(_config(demo_small_path, epochs=200, patience=200, ensemble=3)).start()
    seen, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        snapshot = trainer.state.snapshot()
        seen.append(snapshot)
        if snapshot.side_by_side == 2 and snapshot.batch > 0 and snapshot.fraction_done > 0:
            break
        time.sleep(0.05)
    assert seen[-1].side_by_side == 2 and seen[-1].message.startswith("training CNNs 1, 2 of 3 side by side")
    assert len(seen[-1].member_done) == 3 and seen[-1].member_done[2] == 0.0
    trainer.cancel()
    final = trainer.join(timeout=60)
    assert final.status == "cancelled"
    assert not _workers_alive()
    fractions = [s.fraction_done for s in seen]
    assert fractions == sorted(fractions)

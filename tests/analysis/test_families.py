"""A run's predictions for composition families: saved test scores (no model) and a family's
members scored by the model."""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.analysis.families import (
    NOT_SCORED,
    member_probabilities,
    saved_test_predictions,
)
from xanes_core.data.families import family_members, family_table
from xanes_core.errors import RunError
from xanes_core.learn.results import load_results
from xanes_core.learn.run_settings import update_settings
from xanes_core.learn.runs import load_run


def test_saved_test_scores_give_the_test_members_predictions(runs, demo_small):
    results = load_results(runs["core"])
    p, predicted = saved_test_predictions(results, demo_small)
    test = demo_small.split_indices("test")
    assert np.isfinite(p[test]).all() and np.isnan(np.delete(p, test)).all()
    assert (np.delete(predicted, test) == NOT_SCORED).all()
    run = load_run(runs["core"])
    assert p[test] == pytest.approx(member_probabilities(run, demo_small, test), abs=1e-5)  # the model agrees
    assert (predicted[test] == (p[test] >= 0.5)).all()
    table = family_table(demo_small, predicted=predicted)
    assert (table["test_correct"] <= table["n_test"]).all()


def test_the_operating_point_moves_the_predictions(runs, demo_small, tmp_path):
    import shutil

    copy = shutil.copytree(runs["core"], tmp_path / "cut")
    update_settings(copy, threshold=0.0)
    _, predicted = saved_test_predictions(load_results(copy), demo_small)
    assert (predicted[demo_small.split_indices("test")] == 1).all()


def test_members_of_any_split_are_scored_and_another_dataset_refused(runs, demo_small):
    from xanes_core.data.demo import generate_demo

    run = load_run(runs["symmetry"])
    family = family_table(demo_small).iloc[0]["family"]
    members = family_members(demo_small, family)
    p = member_probabilities(run, demo_small, members)
    assert p.shape == members.shape and ((0 <= p) & (p <= 1)).all()
    assert member_probabilities(run, demo_small, np.array([], dtype=int)).size == 0
    with pytest.raises(RunError, match="not the version"):
        member_probabilities(run, generate_demo(n_samples=60, seed=3), members[:1])


def test_a_run_evaluated_before_scores_were_kept_is_one_line(runs, demo_small, tmp_path):
    import json
    import shutil

    copy = shutil.copytree(runs["core"], tmp_path / "old")
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics.pop("scores")
    (copy / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(RunError, match="before per-material scores were kept"):
        saved_test_predictions(load_results(copy), demo_small)


def test_a_three_class_run_is_one_line_not_a_crash(demo_small, demo_small_path, tmp_path):
    """Families show p(topological) at a threshold; a three-class run's saved scores have three
    columns (they crashed the page) and its second output is p(topological insulator) only."""
    from xanes_core.learn.config import TrainingConfig
    from xanes_core.learn.training import Trainer

    config = TrainingConfig(dataset=str(demo_small_path), model="core", epochs=1, augment=False, task="three-class")
    assert Trainer(config, out=tmp_path / "three", dataset=demo_small).start().join().status == "completed"
    with pytest.raises(RunError, match="trained for three classes"):
        saved_test_predictions(load_results(tmp_path / "three"), demo_small)
    with pytest.raises(RunError, match="trained for three classes"):
        member_probabilities(load_run(tmp_path / "three"), demo_small, np.arange(3))

"""The space group's contribution to a prediction, on a trained tiny symmetry model: the prior is
the training split's space groups with both classes weighted equally, and p with the space group
unknown is exactly the model's mean over that prior."""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.analysis.prediction import Predictor
from xanes_core.analysis.symmetry_contribution import class_neutral_prior
from xanes_core.learn.features import pack


def test_the_prior_weighs_both_classes_equally_and_uses_the_training_split_only() -> None:
    groups = np.array([1, 1, 1, 2, 166, 166])
    labels = np.array([0, 0, 0, 0, 1, 1])
    prior = class_neutral_prior(groups, labels)
    assert list(prior.groups) == [1, 2, 166]
    assert list(prior.weights) == pytest.approx([0.375, 0.125, 0.5])  # 3/4 and 1/4 of trivial, all topological
    assert class_neutral_prior(groups, np.zeros(6)) is None  # no class-neutral prior from one class


def test_symmetry_contribution_is_p_minus_the_models_mean_over_the_prior(runs, demo_small) -> None:
    predictor = Predictor(runs["symmetry"], dataset=demo_small)
    train = predictor.run.splits["train"]
    prior = predictor.space_group_prior
    assert set(prior.groups) == set(demo_small.metadata["space_group"].to_numpy()[train])
    assert prior.weights.sum() == pytest.approx(1.0)
    index = int(predictor.run.splits["test"][0])
    prediction = predictor.predict_sample(demo_small, index)
    X = np.repeat(pack(demo_small, np.array([index])), prior.groups.size, axis=0)
    X[:, 0] = prior.groups  # column 0 of packed X is the space group
    expected = float(np.dot(prior.weights, predictor.run.classifier.predict_proba(X)[:, 1]))
    symmetry = prediction.symmetry
    assert symmetry.space_group == int(demo_small.metadata.at[index, "space_group"])
    assert symmetry.p_unknown == pytest.approx(expected, abs=1e-5)
    assert symmetry.delta == pytest.approx(prediction.p_topological - expected, abs=1e-5)
    assert prediction.to_dict()["symmetry_contribution"]["p_unknown"] == pytest.approx(expected, abs=1e-5)


def test_a_core_run_has_no_space_group_contribution(runs, demo_small) -> None:
    prediction = Predictor(runs["core"], dataset=demo_small).predict_sample(demo_small, 0)
    assert prediction.symmetry is None and prediction.to_dict()["symmetry_contribution"] is None

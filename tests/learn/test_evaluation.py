"""Evaluation metrics: hand-checked numbers, per-element counts, JSON-ready results."""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp

from xanes_core.data.elements import CHANNELS, N_CHANNELS
from xanes_core.learn.evaluation import (
    class_metrics,
    evaluate_predictions,
    per_element_metrics,
    projection,
)


def test_class_metrics_by_hand():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    predicted = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    m = class_metrics(labels, predicted)
    assert m["topological"]["recall"] == 2 / 3 and m["topological"]["precision"] == 2 / 3
    assert m["trivial"]["recall"] == 4 / 5 and m["trivial"]["precision"] == 4 / 5
    assert abs(m["trivial"]["f1"] - 0.8) < 1e-12
    assert m["balanced_accuracy"] == (2 / 3 + 4 / 5) / 2
    assert m["topological"]["support"] == 3 and m["trivial"]["n_predicted"] == 5


def test_undefined_metrics_are_none_not_zero():
    m = class_metrics(np.array([0, 0]), np.array([0, 0]))
    assert m["topological"]["recall"] is None and m["topological"]["precision"] is None
    assert m["balanced_accuracy"] is None and m["trivial"]["recall"] == 1.0


def test_per_element_metrics_count_samples_containing_the_element():
    presence = np.zeros((4, N_CHANNELS))
    presence[[0, 1, 2], 5] = 1
    presence[[2, 3], 6] = 1
    result = per_element_metrics(np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]), presence)
    assert set(result) == {CHANNELS[5], CHANNELS[6]}
    assert result[CHANNELS[5]]["n_samples"] == 3 and result[CHANNELS[5]]["topological"]["support"] == 2
    assert result[CHANNELS[6]]["topological"]["recall"] == 0.0


def test_evaluation_is_json_ready_and_complete():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    probabilities = np.clip(labels * 0.6 + rng.random(200) * 0.5, 0, 1)
    presence = (rng.random((200, N_CHANNELS)) < 0.05).astype(float)
    embedding = np.c_[10 * probabilities, rng.normal(size=(200, 5))]  # class direction dominates
    evaluation = evaluate_predictions(labels, probabilities, presence, embedding,
                                      [f"s{i}" for i in range(200)], reference=probabilities)
    data = json.loads(json.dumps(evaluation.to_dict()))
    assert data["curves"]["roc"]["auc"] > 0.8 and 0 < data["curves"]["pr"]["auc"] <= 1
    assert sum(map(sum, data["confusion"])) == 200
    assert data["projection"]["boundary"]["boundary_agreement"] > 0.8
    assert len(data["projection"]["x"]) == 200
    assert set(evaluation.summary()) == {"topological", "trivial", "balanced_accuracy"}
    assert set(evaluation.summary()["trivial"]) == {"recall", "precision", "f1"}
    assert data["reference_balanced_accuracy"] is not None


def test_projection_of_sparse_features_and_single_class_predictions():
    x = sp.random(50, 300, density=0.05, random_state=0, format="csr")
    result = projection(x, np.zeros(50, dtype=int), np.full(50, 0.1))
    assert result["method"] == "TruncatedSVD" and result["boundary"] is None

"""A finished run's confidence, read from its metrics.json without the model (Results page,
report, figure pack): the test split's probabilities before and after calibration, each
material's uncertainty and the run's decisions at a threshold. No TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from xanes_core.errors import RunError
from xanes_core.learn.calibration import as_matrix, brier_score, expected_calibration_error


class ScoredSplit(NamedTuple):
    """The test split as the run scored it: labels, (n, K) probabilities after and before
    calibration, the uncertainty of each decision (an ensemble's spread, else None) and the
    decisions themselves."""

    labels: np.ndarray
    probability: np.ndarray
    uncalibrated: np.ndarray
    uncertainty: np.ndarray | None
    predicted: np.ndarray


def read_test_scores(metrics: Mapping[str, Any], threshold: float | None = None) -> ScoredSplit:
    """The test scores of a run's metrics; ``threshold`` (two classes): the cut on p(topological)
    (default: the run's). Three classes: the largest probability / training frequency (an
    ensemble) or the largest probability. RunError for a run evaluated before scores were kept."""
    test = (metrics.get("scores") or {}).get("test")
    if not test:
        raise RunError("This run was evaluated before per-material scores were saved; run "
                       "`python -m xanes_core evaluate` on it again to see its calibration.")
    labels = np.asarray(test["label"], dtype=int)
    probability = as_matrix(test["probability"])
    uncalibrated = as_matrix(test.get("uncalibrated", test["probability"]))
    if probability.shape[1] == 2:
        cut = float(metrics.get("threshold") or 0.5) if threshold is None else threshold
        predicted = (probability[:, 1] >= cut).astype(int)
    else:
        prior = (metrics.get("ensemble") or {}).get("class_prior")
        predicted = (probability / np.asarray(prior) if prior else probability).argmax(axis=1)
    spread = test.get("uncertainty")
    uncertainty = None
    if spread is not None:
        spread = as_matrix(spread) if np.ndim(spread) == 2 else np.asarray(spread, dtype=float)
        uncertainty = spread if spread.ndim == 1 else spread[np.arange(len(predicted)), predicted]
    return ScoredSplit(labels, probability, uncalibrated, uncertainty, predicted)


def calibration_summary(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """ECE after and before calibration, Brier score, members and the calibration map; from
    metrics.json, or recomputed from its scores for a run evaluated before they were stored."""
    ensemble = metrics.get("ensemble") or {}
    summary = {"n_members": ensemble.get("n_members", 1), "calibration": ensemble.get("calibration")}
    if metrics.get("ece") is not None:
        return {**summary, **{key: metrics.get(key) for key in ("ece", "ece_uncalibrated", "brier")}}
    scores = read_test_scores(metrics)
    return {**summary, "ece": expected_calibration_error(scores.labels, scores.probability),
            "ece_uncalibrated": expected_calibration_error(scores.labels, scores.uncalibrated),
            "brier": brier_score(scores.labels, scores.probability)}

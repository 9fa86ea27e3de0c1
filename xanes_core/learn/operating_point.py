"""The operating point: the threshold on p(topological) above which a material is called topological.

The model outputs a probability; recall, precision, F1, the confusion matrix and every
per-element map depend on where it is cut. Candidates are **chosen on the validation split and
only shown on test** (choosing on test would make the test score a training score):

- ``paper``: 0.5, the paper's cut (its class weights make 0.5 the balanced choice in principle);
- ``balanced_accuracy``: the cut with the highest balanced accuracy on validation;
- ``topological_f1``: the cut with the highest F1 of the topological class on validation
  (trades topological recall for precision when topological materials are rare).

:func:`at_threshold` recomputes a run's metrics.json content at any cut from the per-material
scores saved with it (:mod:`xanes_core.learn.evaluation`), without loading the model. No
TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from xanes_core.data.elements import CHANNELS, N_CHANNELS
from xanes_core.errors import RunError
from xanes_core.learn.evaluation import (
    CLASSES,
    THRESHOLD,
    class_metrics,
    fit_boundary,
    per_element_metrics,
)
from xanes_core.learn.run_settings import PAPER

RULES = {PAPER: "the paper's balanced cut (0.5; for a calibrated ensemble, the training share of topological materials)",
         "balanced_accuracy": "best balanced accuracy on validation",
         "topological_f1": "best topological F1 on validation"}
SHORT_NAMES = {PAPER: "paper", "balanced_accuracy": "best balanced accuracy", "topological_f1": "best topological F1"}


@dataclass(frozen=True)
class Choice:
    """One candidate threshold and the rule that chose it (a key of :data:`RULES`)."""

    rule: str
    threshold: float

    @property
    def short(self) -> str:
        return SHORT_NAMES.get(self.rule, "by hand")

    @property
    def description(self) -> str:
        return f"{RULES.get(self.rule, 'chosen by hand')} ({self.threshold:.3f})"


def has_scores(metrics: Mapping[str, Any]) -> bool:
    """Whether a run's metrics carry the per-material scores an operating point needs (a
    three-class run has no threshold to choose: it decides by class, see :func:`is_binary`)."""
    scores = metrics.get("scores") or {}
    return "test" in scores and "validation" in scores and is_binary(metrics)


def is_binary(metrics: Mapping[str, Any]) -> bool:
    """A run of the binary task (the only one a threshold on p(topological) applies to)."""
    return metrics.get("task", "binary") == "binary"


def run_default(metrics: Mapping[str, Any]) -> float:
    """The paper's balanced cut on this run's probabilities: 0.5 for a CNN trained with class
    weights; for a calibrated ensemble, whose probabilities are frequencies, the training share of
    topological materials (the same decision: p / share above (1 - p) / (1 - share))."""
    ensemble = metrics.get("ensemble") or {}
    return float(ensemble["class_prior"][1]) if ensemble.get("calibration") else THRESHOLD


def saved_threshold(settings: Any, metrics: Mapping[str, Any]) -> float:
    """The run's operating point: under the paper's rule (also when nothing was saved) the
    run's own balanced cut, :func:`run_default`; under any other, the threshold saved with it
    (RunSettings)."""
    return run_default(metrics) if settings.threshold_rule == PAPER else float(settings.threshold)


def _validation(metrics: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    if not has_scores(metrics):
        raise RunError("This run was evaluated before per-material scores were saved; run "
                       "`python -m xanes_core evaluate` on it again to choose an operating point.")
    validation = metrics["scores"]["validation"]
    return np.asarray(validation["label"], int), np.asarray(validation["probability"], float)


def choices(metrics: Mapping[str, Any]) -> list[Choice]:
    """The paper's threshold and the validation-optimal ones (same threshold may appear twice)."""
    labels, probabilities = _validation(metrics)
    found = [Choice(PAPER, run_default(metrics))]
    if len(set(labels.tolist())) < 2:
        return found
    fpr, tpr, roc_thresholds = roc_curve(labels, probabilities)
    best = int(np.argmax((tpr + 1 - fpr) / 2))
    found.append(Choice("balanced_accuracy", float(min(roc_thresholds[best], 1.0))))
    precision, recall, pr_thresholds = precision_recall_curve(labels, probabilities)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    found.append(Choice("topological_f1", float(pr_thresholds[int(np.argmax(f1))])))
    return found


def sweep(metrics: Mapping[str, Any], split: str = "validation", points: int = 101) -> pd.DataFrame:
    """Recall and precision of each class and balanced accuracy at evenly spaced thresholds."""
    scores = metrics["scores"][split]
    labels, probabilities = np.asarray(scores["label"], int), np.asarray(scores["probability"], float)
    rows = []
    for threshold in np.linspace(0.0, 1.0, points):
        at = class_metrics(labels, probabilities >= threshold)
        row = {"threshold": float(threshold), "balanced accuracy": at["balanced_accuracy"]}
        row.update({f"{name} {metric}": at[name][metric] for name in CLASSES for metric in ("recall", "precision")})
        rows.append(row)
    return pd.DataFrame(rows)


def _presence(elements: list[list[str]]) -> np.ndarray:
    index = {symbol: i for i, symbol in enumerate(CHANNELS)}
    present = np.zeros((len(elements), N_CHANNELS), dtype=np.float32)
    for row, symbols in enumerate(elements):
        present[row, [index[s] for s in symbols]] = 1.0
    return present


def at_threshold(metrics: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    """A copy of ``metrics`` (metrics.json content) with every thresholded number recomputed at
    ``threshold`` on the test split: per-class metrics, per-element metrics, confusion matrix and
    the projection's boundary. Curves, AUCs and the reference do not depend on the cut. A
    three-class run has no threshold: its metrics come back as they are."""
    if not is_binary(metrics):
        return dict(metrics)
    if not has_scores(metrics):
        if abs(threshold - run_default(metrics)) < 1e-12:
            return {**metrics, "threshold": threshold}
        _validation(metrics)  # raises the RunError that says what to do
    test = metrics["scores"]["test"]
    labels, probabilities = np.asarray(test["label"], int), np.asarray(test["probability"], float)
    predicted = (probabilities >= threshold).astype(int)
    out = {**metrics, "threshold": float(threshold),
           "test": class_metrics(labels, predicted),
           "per_element": per_element_metrics(labels, predicted, _presence(test["elements"])),
           "confusion": [[int(((labels == t) & (predicted == p)).sum()) for p in (0, 1)] for t in (0, 1)]}
    projection = metrics.get("projection")
    if projection:
        coords = np.column_stack([projection["x"], projection["y"]])
        out["projection"] = {**projection, "boundary": fit_boundary(coords, predicted)}
    return out


def validation_metrics(metrics: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    """Per-class metrics of the validation split at ``threshold`` (what a choice is judged on)."""
    labels, probabilities = _validation(metrics)
    return class_metrics(labels, probabilities >= threshold)

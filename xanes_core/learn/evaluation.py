"""Scores of a run on its test split: what the paper reports, with the counts behind them.

- Per class (topological = 1, trivial = 0): recall, precision, F1 and support (paper Fig. 3e);
  balanced accuracy = mean of the two recalls (the score the class weights optimize).
- Per absorbing element, over the test samples containing it (Fig. 3a-c): the same metrics and
  the sample counts; a metric with an empty denominator is ``None``, not 0.
- Confusion matrix ``[[tn, fp], [fn, tp]]``, ROC and precision-recall curves with their AUCs
  (PR AUC = average precision of the topological class).
- 2-D projection (Fig. 3d): PCA of the penultimate-layer embedding (baselines: of their input
  features; sparse SVM features: truncated SVD). The threshold-0.5 boundary is drawn as the
  line ``w . z + b = 0`` of a logistic regression fitted, in that plane, to the model's own
  predicted classes; ``boundary_agreement`` says how many test predictions the line reproduces
  (a 2-D picture of a high-dimensional boundary is only approximate).
- ``scores``: each test material's label, p(topological) and absorbing elements, and each
  validation material's label and p(topological). They let every number above be recomputed at
  another threshold without the model (:mod:`xanes_core.learn.operating_point`), and the
  threshold itself be chosen on validation, never on test.
- ``reference_balanced_accuracy``: for demo data, the balanced accuracy of the generator's own
  ``p_topological`` thresholded at the class prevalence (the Bayes rule for balanced accuracy,
  :func:`xanes_core.data.demo.bayes_balanced_accuracy`), the best a model can be expected to do.
  The CNNs are trained with class-balancing weights, so their 0.5 threshold plays that role;
  a calibrated ensemble's is the training share of topological materials (``threshold``).
- Calibration (:mod:`xanes_core.learn.calibration`): ``ece`` and ``brier`` of the probabilities
  the run reports, ``ece_uncalibrated`` of its members' raw mean (the same number when nothing
  was calibrated), and, for an ensemble, each material's spread and member range in ``scores``.
- ``task`` and ``classes``: the three-class task (:mod:`xanes_core.data.classes`) gets the same
  metrics per class, one class against the rest, a 3 x 3 confusion matrix, one-vs-rest curves
  per class under ``curves["per_class"]``, and ``roc``/``pr`` of topological (insulator or
  semimetal) against trivial from p(topological) = 1 - p(trivial).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from xanes_core.data.classes import BINARY, TASK_CLASSES, class_names, task_labels
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS
from xanes_core.learn.calibration import brier_score, expected_calibration_error
from xanes_core.learn.features import pack, presence
from xanes_core.learn.runs import LoadedRun, check_run_dataset, load_run_dataset

CLASSES = TASK_CLASSES[BINARY]
THRESHOLD = 0.5


def run_classes(metrics: dict[str, Any]) -> dict[str, int]:
    """Class name -> number of the task a run's metrics are for (runs before tasks: binary)."""
    return TASK_CLASSES[str(metrics.get("task", BINARY))]


def _ratio(numerator: int, denominator: int) -> float | None:
    return float(numerator / denominator) if denominator else None


def class_metrics(labels: np.ndarray, predicted: np.ndarray,
                  classes: dict[str, int] = CLASSES) -> dict[str, Any]:
    """{"topological": {...}, "trivial": {...}, "balanced_accuracy", "n_samples"} (one entry per
    class of ``classes``, each class against the rest)."""
    labels = np.asarray(labels).astype(int)
    predicted = np.asarray(predicted).astype(int)
    out: dict[str, Any] = {}
    for name, cls in classes.items():
        true_positive = int(((labels == cls) & (predicted == cls)).sum())
        support = int((labels == cls).sum())
        n_predicted = int((predicted == cls).sum())
        recall, precision = _ratio(true_positive, support), _ratio(true_positive, n_predicted)
        f1 = (None if recall is None or precision is None
              else (2 * recall * precision / (recall + precision) if recall + precision else 0.0))
        out[name] = {"recall": recall, "precision": precision, "f1": f1,
                     "support": support, "n_predicted": n_predicted}
    recalls = [out[name]["recall"] for name in classes]
    out["balanced_accuracy"] = (None if None in recalls else float(np.mean(recalls)))
    out["n_samples"] = int(labels.size)
    return out


def per_element_metrics(labels: np.ndarray, predicted: np.ndarray, presence: np.ndarray,
                        classes: dict[str, int] = CLASSES) -> dict[str, dict[str, Any]]:
    """Element symbol -> class metrics over the test samples containing that element."""
    result = {}
    for ch in np.flatnonzero(presence.any(axis=0)):
        mask = presence[:, ch] > 0
        result[CHANNELS[ch]] = class_metrics(labels[mask], predicted[mask], classes)
    return result


def confusion_counts(labels: np.ndarray, predicted: np.ndarray, n_classes: int = 2) -> list[list[int]]:
    """Rows: true class, columns: predicted class, by class number (binary: [[tn, fp], [fn, tp]])."""
    return [[int(((labels == t) & (predicted == p)).sum()) for p in range(n_classes)] for t in range(n_classes)]


def _all_curves(labels: np.ndarray, probabilities: np.ndarray, task: str) -> dict[str, Any]:
    """Binary: topological ROC and PR. More classes: the same for topological (any kind) against
    trivial, and one class against the rest for each class under ``per_class``."""
    if probabilities.ndim == 1:
        return _curves(labels, probabilities)
    curves = _curves((labels > 0).astype(int), 1.0 - probabilities[:, 0])
    curves["per_class"] = {name: _curves((labels == k).astype(int), probabilities[:, k])
                           for k, name in enumerate(class_names(task))}
    return curves


def _curves(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    if len(set(labels.tolist())) < 2:
        return {"roc": None, "pr": None}
    fpr, tpr, roc_thresholds = roc_curve(labels, scores)
    precision, recall, pr_thresholds = precision_recall_curve(labels, scores)
    return {
        "roc": {"fpr": fpr, "tpr": tpr, "thresholds": np.nan_to_num(roc_thresholds, posinf=1.0),
                "auc": float(roc_auc_score(labels, scores))},
        "pr": {"precision": precision, "recall": recall, "thresholds": pr_thresholds,
               "auc": float(average_precision_score(labels, scores))},
    }


def fit_boundary(coords: np.ndarray, predicted: np.ndarray) -> dict[str, Any] | None:
    """The line ``w . z + b = 0`` in a 2-D plane that best separates the predicted classes (None
    when only one class is predicted), with the share of predictions it reproduces."""
    predicted = np.asarray(predicted).astype(int)
    if len(set(predicted.tolist())) < 2:
        return None
    logistic = LogisticRegression(C=1e3, max_iter=2000).fit(coords, predicted)
    agreement = float((logistic.predict(coords) == predicted).mean())
    return {"w": logistic.coef_.ravel(), "b": float(logistic.intercept_[0]), "boundary_agreement": agreement}


def projection(embedding: np.ndarray | sp.spmatrix, labels: np.ndarray, probabilities: np.ndarray,
               seed: int = 0, predicted: np.ndarray | None = None) -> dict[str, Any]:
    """2-D coordinates of the test samples and the line that separates predicted classes
    (two classes only: three regions have no single line). ``probability``: p(topological)."""
    if sp.issparse(embedding):
        reducer: PCA | TruncatedSVD = TruncatedSVD(2, random_state=seed)
    else:
        reducer = PCA(2, random_state=seed)
    coords = reducer.fit_transform(embedding)
    binary = np.ndim(probabilities) == 1
    if predicted is None:
        predicted = probabilities >= THRESHOLD
    return {
        "method": type(reducer).__name__, "explained_variance_ratio": reducer.explained_variance_ratio_,
        "x": coords[:, 0], "y": coords[:, 1], "label": labels,
        "probability": probabilities if binary else 1.0 - probabilities[:, 0],
        "boundary": fit_boundary(coords, predicted) if binary else None,
    }


@dataclass(frozen=True)
class Evaluation:
    """All test-split results of one run; :meth:`to_dict` is JSON-ready (metrics.json)."""

    test: dict[str, Any]
    per_element: dict[str, dict[str, Any]]
    confusion: list[list[int]]
    curves: dict[str, Any]
    projection: dict[str, Any]
    reference_balanced_accuracy: float | None
    sample_ids: list[str]
    scores: dict[str, Any]
    task: str = BINARY
    classes: tuple[str, ...] = tuple(class_names(BINARY))
    threshold: float | None = THRESHOLD
    ece: float | None = None
    ece_uncalibrated: float | None = None
    brier: float | None = None
    ensemble: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @property
    def roc_auc(self) -> float | None:
        return (self.curves["roc"] or {}).get("auc")

    def summary(self) -> dict[str, Any]:
        """The CLI's ``test`` object: per-class recall/precision/F1 and balanced accuracy."""
        return {**{name: {key: self.test[name][key] for key in ("recall", "precision", "f1")}
                   for name in TASK_CLASSES[self.task]},
                "balanced_accuracy": self.test["balanced_accuracy"]}


def _plain(value: Any) -> Any:
    """numpy arrays and scalars -> lists and floats, recursively (for JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _scores(labels: np.ndarray, probabilities: np.ndarray, presence: np.ndarray,
            validation: tuple[np.ndarray, np.ndarray] | None,
            spread: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """Per-material scores kept with the metrics (see ``scores`` in the module docstring);
    ``spread``: an ensemble's uncalibrated mean, spread and member range per material."""
    names = np.asarray(CHANNELS)
    test = {"label": labels, "probability": probabilities, **(spread or {}),
            "elements": [names[np.flatnonzero(row)].tolist() for row in np.asarray(presence) > 0]}
    if validation is None:
        return {"test": test}
    return {"test": test, "validation": {"label": np.asarray(validation[0]).astype(int),
                                         "probability": np.asarray(validation[1], dtype=np.float64)}}


def _reference(reference: np.ndarray | None, labels: np.ndarray) -> float | None:
    """The demo generator's Bayes rule for balanced accuracy (binary or per class)."""
    if reference is None:
        return None
    from xanes_core.data.demo import bayes_balanced_accuracy

    return bayes_balanced_accuracy(reference, labels)


def evaluate_predictions(labels: np.ndarray, probabilities: np.ndarray, presence: np.ndarray,
                         embedding: np.ndarray | sp.spmatrix, sample_ids: list[str],
                         reference: np.ndarray | None = None,
                         validation: tuple[np.ndarray, np.ndarray] | None = None, *,
                         task: str = BINARY, threshold: float | None = THRESHOLD,
                         predicted: np.ndarray | None = None, uncalibrated: np.ndarray | None = None,
                         spread: dict[str, np.ndarray] | None = None) -> Evaluation:
    """Every metric of the module docstring from test labels, probabilities ((n,) p(topological)
    or (n, K)) and element presence. ``validation``: (labels, probabilities) of the validation
    split, kept for choosing thresholds. ``predicted``: the model's decisions (default:
    p(topological) >= ``threshold``, or the most probable of K classes); ``uncalibrated``: the
    probabilities before calibration; ``spread``: an ensemble's per-material arrays."""
    labels = np.asarray(labels).astype(int)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if predicted is None:
        predicted = ((probabilities >= threshold) if probabilities.ndim == 1 else probabilities.argmax(axis=1))
    predicted = np.asarray(predicted).astype(int)
    classes = TASK_CLASSES[task]
    raw = probabilities if uncalibrated is None else np.asarray(uncalibrated, dtype=np.float64)
    return Evaluation(
        test=class_metrics(labels, predicted, classes),
        per_element=per_element_metrics(labels, predicted, presence, classes),
        confusion=confusion_counts(labels, predicted, len(classes)),
        curves=_all_curves(labels, probabilities, task),
        projection=projection(embedding, labels, probabilities, predicted=predicted),
        reference_balanced_accuracy=_reference(reference, labels),
        sample_ids=list(sample_ids),
        scores=_scores(labels, probabilities, presence, validation, spread),
        task=task, classes=tuple(class_names(task)), threshold=threshold if probabilities.ndim == 1 else None,
        ece=expected_calibration_error(labels, probabilities), ece_uncalibrated=expected_calibration_error(labels, raw),
        brier=brier_score(labels, probabilities),
    )


def _model_outputs(classifier: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | sp.spmatrix, dict[str, Any]]:
    """(probabilities as evaluated, embedding, the extra keyword arguments of an ensemble:
    its decisions, raw probabilities and per-material spread)."""
    if not hasattr(classifier, "distribution_with_embedding"):
        probabilities, embedding = classifier.predict_with_embedding(X)
        return probabilities, embedding, {}
    output, embedding = classifier.distribution_with_embedding(X)
    binary = output.probability.shape[1] == 2

    def shown(values: np.ndarray) -> np.ndarray:
        return values[:, 1] if binary else values

    extra = {"predicted": classifier.decide(output.probability), "uncalibrated": shown(output.uncalibrated),
             "threshold": classifier.decision_threshold_ if binary else None,
             "spread": {"uncalibrated": shown(output.uncalibrated), "uncertainty": shown(output.spread),
                        "low": shown(output.low), "high": shown(output.high)}}
    return shown(output.probability), embedding, extra


def _ensemble_record(classifier: Any) -> dict[str, Any] | None:
    """An ensemble's members, calibration map and training class frequencies (None otherwise)."""
    if not hasattr(classifier, "members_"):
        return None
    calibration = classifier.calibration_
    return {"n_members": len(classifier.members_), "class_prior": classifier.class_prior_.tolist(),
            "calibration": None if calibration is None else calibration.to_dict()}


def evaluate_run(run: LoadedRun, dataset: XanesDataset | None = None,
                 split: str = "test") -> Evaluation:
    """Score a loaded run on one split of its dataset (and keep the validation split's scores,
    on which an operating point may later be chosen)."""
    if dataset is None:
        dataset = load_run_dataset(run)
    else:
        check_run_dataset(run, dataset)  # never scored on another version of its data
    task = run.task
    labels = task_labels(dataset.metadata, task)
    samples = run.splits[split]
    X = pack(dataset, samples)
    probabilities, embedding, extra = _model_outputs(run.classifier, X)
    validation = None
    if split != "validation" and run.splits["validation"].size:
        held_out = run.splits["validation"]
        proba = run.classifier.predict_proba(pack(dataset, held_out))
        validation = (labels[held_out], proba[:, 1] if proba.shape[1] == 2 else proba)
    evaluation = evaluate_predictions(
        labels=labels[samples], probabilities=probabilities, presence=presence(X), embedding=embedding,
        sample_ids=dataset.metadata["sample_id"].iloc[samples].astype(str).tolist(),
        reference=_demo_posterior(dataset, samples, task), validation=validation, task=task, **extra)
    return replace(evaluation, ensemble=_ensemble_record(run.classifier))


def _demo_posterior(dataset: XanesDataset, samples: np.ndarray, task: str) -> np.ndarray | None:
    """The demo generator's exact posterior of the evaluated materials (None for other data)."""
    from xanes_core.data.demo import task_posterior

    return task_posterior(dataset.metadata.iloc[samples], task)

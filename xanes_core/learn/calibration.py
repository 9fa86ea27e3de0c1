"""How far to believe a predicted probability: calibration on validation, and its scores.

A CNN trained with class-balancing weights (the paper's recipe) does not output the frequency
of topological materials: the weights move every logit by about log(n_trivial / n_topological)
toward the rare class, label smoothing pulls every probability toward the middle, and an
over-fitted network is over-confident. :class:`TemperatureScaling` corrects this after
training, on the **validation split** (never on test), with two kinds of parameter:

- one temperature ``T`` that divides every logit (over- or under-confidence);
- one bias per class (the first class's is 0), which undoes the class-balancing shift. Pure
  temperature scaling keeps p = 0.5 where it was and so cannot undo a prior shift; the bias
  can, exactly, which is why it is there.

For an ensemble the map is applied to each member's logits and the calibrated probability is
the members' mean; ``T`` and the biases are fitted to minimise the negative log-likelihood of
that mean on validation. Temperature scaling was preferred to isotonic regression: it is
monotone and smooth (rankings, ROC and PR curves do not change, no ties are created), it has
two or three parameters, which some 1,600 validation materials (a few hundred topological)
fix well while isotonic's step function is noisy at that size, and the same map extends to
three classes (isotonic regression does not, without one-vs-rest splits that no longer add
up to 1).

Scores (no model needed; they read labels and probabilities):

- :func:`expected_calibration_error`: 15 equal-width bins of predicted probability; per class,
  the bins' gaps between mean predicted probability and observed frequency weighted by the
  share of materials in the bin; averaged over classes (for two classes both give the same
  number, the ECE of p(topological));
- :func:`brier_score`: mean squared difference between probabilities and one-hot outcomes
  (for two classes, the mean of (p(topological) - y)^2, as scikit-learn's binary Brier score);
- :func:`reliability`: the bins themselves, for the reliability diagram.

No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import softmax

N_BINS = 15
CALIBRATIONS = ("temperature", None)
_EPSILON = 1e-7


def as_matrix(probabilities: np.ndarray) -> np.ndarray:
    """(n, K) class probabilities from (n,) p(class 1) of a binary model, or (n, K) as given."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim == 1:
        return np.column_stack([1.0 - probabilities, probabilities])
    return probabilities


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Logits (log-probabilities, clipped) of (..., K) probabilities: softmax gives them back."""
    return np.log(np.clip(probabilities, _EPSILON, 1.0))


@dataclass(frozen=True)
class TemperatureScaling:
    """``softmax(logits / temperature + bias)`` per member, then the members' mean (module doc)."""

    temperature: float = 1.0
    bias: tuple[float, ...] = (0.0, 0.0)

    def apply(self, member_probabilities: np.ndarray) -> np.ndarray:
        """(m, n, K) members' raw probabilities -> (m, n, K) calibrated ones."""
        logits = log_probabilities(np.asarray(member_probabilities, dtype=np.float64))
        return softmax(logits / self.temperature + np.asarray(self.bias), axis=-1)

    @classmethod
    def fit(cls, member_probabilities: np.ndarray, labels: np.ndarray) -> "TemperatureScaling":
        """The map that minimises the validation negative log-likelihood of the members' mean."""
        logits = log_probabilities(np.asarray(member_probabilities, dtype=np.float64))
        labels = np.asarray(labels, dtype=np.int64)
        n_classes = logits.shape[-1]
        rows = np.arange(labels.size)

        def loss(parameters: np.ndarray) -> float:
            bias = np.concatenate([[0.0], parameters[1:]])
            calibrated = softmax(logits * np.exp(-parameters[0]) + bias, axis=-1).mean(axis=0)
            return -float(np.log(np.clip(calibrated[rows, labels], 1e-12, None)).mean())

        start = np.zeros(n_classes)
        found = minimize(loss, start, method="L-BFGS-B", bounds=[(-3.0, 3.0)] + [(-10.0, 10.0)] * (n_classes - 1))
        best = found.x if found.fun <= loss(start) else start
        return cls(temperature=float(np.exp(best[0])), bias=(0.0, *map(float, best[1:])))

    def to_dict(self) -> dict[str, Any]:
        return {"method": "temperature", "temperature": self.temperature, "bias": list(self.bias)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TemperatureScaling":
        return cls(temperature=float(values["temperature"]), bias=tuple(float(b) for b in values["bias"]))


def _bins(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    return np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)


def reliability(labels: np.ndarray, probabilities: np.ndarray, n_bins: int = N_BINS) -> list[dict[str, Any]]:
    """Per class: every non-empty bin's range, count, mean predicted probability and observed
    frequency of the class (the points of a reliability diagram)."""
    matrix = as_matrix(probabilities)
    labels = np.asarray(labels, dtype=np.int64)
    out = []
    for k in range(matrix.shape[1]):
        which = _bins(matrix[:, k], n_bins)
        hits = labels == k
        count = np.bincount(which, minlength=n_bins)
        predicted = np.bincount(which, weights=matrix[:, k], minlength=n_bins)
        observed = np.bincount(which, weights=hits, minlength=n_bins)
        out.append({"class": k, "bins": [
            {"low": b / n_bins, "high": (b + 1) / n_bins, "n": int(count[b]), "hits": int(observed[b]),
             "mean_probability": float(predicted[b] / count[b]), "frequency": float(observed[b] / count[b])}
            for b in np.flatnonzero(count)]})
    return out


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, n_bins: int = N_BINS) -> float | None:
    """Mean over classes of sum_b (n_b / n) |frequency_b - mean probability_b| (module doc)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return None
    per_class = [sum(b["n"] * abs(b["frequency"] - b["mean_probability"]) for b in entry["bins"]) / labels.size
                 for entry in reliability(labels, probabilities, n_bins)]
    return float(np.mean(per_class))


def brier_score(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    """Mean squared error of the probabilities against the outcomes (module doc)."""
    matrix = as_matrix(probabilities)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        return None
    outcomes = np.eye(matrix.shape[1])[labels]
    scale = 0.5 if matrix.shape[1] == 2 else 1.0
    return float(scale * ((matrix - outcomes) ** 2).sum(axis=1).mean())


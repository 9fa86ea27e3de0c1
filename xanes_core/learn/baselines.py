"""Baselines trained and scored on the CNN's split: an SVM on spectra, a composition model.

- :class:`SVMBaseline` (paper Fig. S2b): RBF-kernel SVC on the flattened standardized spectra,
  81 x 200 features per sample, an absent element contributing zeros (= its training mean, since
  spectra are standardized per element). The matrix is kept sparse (CSR): a sample fills 1-7 of
  81 blocks. It trains on the unaugmented training split (shift copies would triple the samples
  and multiply the kernel cost by ~9 for almost no new information to a kernel method).
- :class:`ElementsBaseline`: logistic regression on element presence (81) + symmetry one-hot
  (269): what composition and space group alone give, with no spectra.

Both are stored as plain arrays in an ``.npz`` (never pickle) and rebuilt for prediction: the
SVM decision function is ``sum_i dual_coef_i * exp(-gamma |x - sv_i|^2) + intercept`` from
its support vectors, exactly what scikit-learn computes. Scores for curves are
``sigmoid(decision)`` (threshold 0.5 = decision 0); they rank samples but are not calibrated
probabilities (Platt scaling would need five extra fits).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from xanes_core import atomic
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.errors import RunError
from xanes_core.learn.model import EncodedSpectra
from xanes_core.data.symmetry import symmetry_features

BASELINE_TYPES = ("svm", "elements")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def flattened_spectra(encoded: EncodedSpectra, samples: np.ndarray) -> sp.csr_matrix:
    """(len(samples), 81*200) CSR: each present element's standardized spectrum in its block."""
    rows, row_sample = encoded.rows(samples)
    columns = encoded.channels[rows][:, None] * GRID_POINTS + np.arange(GRID_POINTS)[None, :]
    return sp.csr_matrix(
        (encoded.spectra[rows].ravel(), (np.repeat(row_sample, GRID_POINTS), columns.ravel())),
        shape=(len(samples), N_CHANNELS * GRID_POINTS), dtype=np.float64,
    )


def composition_features(encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
    """(len(samples), 81 + 269): element presence | symmetry one-hot."""
    samples = np.asarray(samples, dtype=np.int64)
    return np.hstack([encoded.presence(samples), symmetry_features(encoded.space_groups[samples])])


def _save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic.write_bytes(path, buffer.getvalue())


def _load_npz(path: str | Path, kind: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as exc:
        raise RunError(f"Baseline parameters {path} are missing or unreadable: {exc}") from None
    if str(arrays.get("kind")) != kind:
        raise RunError(f"{path} does not hold a '{kind}' baseline.")
    return arrays


@dataclass(frozen=True)
class SVMBaseline:
    support_vectors: sp.csr_matrix
    dual_coef: np.ndarray
    intercept: float
    gamma: float

    @classmethod
    def fit(cls, encoded: EncodedSpectra, samples: np.ndarray, labels: np.ndarray,
            weights: np.ndarray, c: float = 1.0) -> "SVMBaseline":
        svc = SVC(kernel="rbf", C=c, gamma="scale")
        svc.fit(flattened_spectra(encoded, samples), labels, sample_weight=weights)
        if list(svc.classes_) != [0, 1]:
            raise RunError("The SVM baseline needs both classes in the training split.")
        return cls(sp.csr_matrix(svc.support_vectors_), np.asarray(sp.csr_matrix(svc.dual_coef_).todense()).ravel(),
                   float(svc.intercept_[0]), float(svc._gamma))

    def decision(self, encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
        x = flattened_spectra(encoded, samples)
        sv = self.support_vectors
        squared = (np.asarray(x.multiply(x).sum(axis=1))
                   + np.asarray(sv.multiply(sv).sum(axis=1)).T
                   - 2.0 * (x @ sv.T).toarray())
        return np.exp(-self.gamma * np.maximum(squared, 0.0)) @ self.dual_coef + self.intercept

    def predict_proba(self, encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
        return _sigmoid(self.decision(encoded, samples))

    def embed(self, encoded: EncodedSpectra, samples: np.ndarray) -> sp.csr_matrix:
        return flattened_spectra(encoded, samples)

    def save(self, path: str | Path) -> None:
        sv = self.support_vectors
        _save_npz(path, kind=np.array("svm"), sv_data=sv.data, sv_indices=sv.indices,
                  sv_indptr=sv.indptr, sv_shape=np.array(sv.shape), dual_coef=self.dual_coef,
                  intercept=np.array(self.intercept), gamma=np.array(self.gamma))

    @classmethod
    def load(cls, path: str | Path) -> "SVMBaseline":
        a = _load_npz(path, "svm")
        sv = sp.csr_matrix((a["sv_data"], a["sv_indices"], a["sv_indptr"]),
                           shape=tuple(a["sv_shape"].tolist()))
        return cls(sv, a["dual_coef"], float(a["intercept"]), float(a["gamma"]))


@dataclass(frozen=True)
class ElementsBaseline:
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, encoded: EncodedSpectra, samples: np.ndarray, labels: np.ndarray,
            weights: np.ndarray, c: float = 1.0) -> "ElementsBaseline":
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(composition_features(encoded, samples), labels, sample_weight=weights)
        return cls(model.coef_.ravel().copy(), float(model.intercept_[0]))

    def predict_proba(self, encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
        return _sigmoid(composition_features(encoded, samples) @ self.coef + self.intercept)

    def embed(self, encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
        return composition_features(encoded, samples)

    def save(self, path: str | Path) -> None:
        _save_npz(path, kind=np.array("elements"), coef=self.coef, intercept=np.array(self.intercept))

    @classmethod
    def load(cls, path: str | Path) -> "ElementsBaseline":
        a = _load_npz(path, "elements")
        return cls(a["coef"], float(a["intercept"]))


BASELINES: dict[str, type[SVMBaseline] | type[ElementsBaseline]] = {
    "svm": SVMBaseline, "elements": ElementsBaseline,
}

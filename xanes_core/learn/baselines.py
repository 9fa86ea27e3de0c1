"""Baselines with scikit-learn's interface, scored on the CNN's split: an SVM on spectra and a
composition model. No TensorFlow here.

- :class:`SVMClassifier` (paper Fig. S2b): RBF-kernel SVC on the flattened standardized spectra,
  81 x 200 features per material, an absent element contributing zeros (= its training mean,
  since spectra are standardized per element). The matrix is kept sparse (CSR): a material
  fills 1-7 of 81 blocks. It trains on the unaugmented training split (shift copies would
  triple the samples and multiply the kernel cost by ~9 for almost no new information to a
  kernel method).
- :class:`ElementsClassifier`: logistic regression on element presence (81) + symmetry one-hot
  (269): what composition and space group alone give, with no spectra.

Both fit their own per-element standardizer on the ``X`` they are given and the paper's class x
element-rarity sample weights unless ``sample_weight`` is passed (``standardizer_scale`` and
``rarity_clip`` as for the CNN). Both are stored as plain
arrays in an ``.npz`` (never pickle) and rebuilt for prediction: the SVM decision function is
``sum_i dual_coef_i * exp(-gamma |x - sv_i|^2) + intercept`` from its support vectors, exactly
what scikit-learn computes. Their ``predict_proba`` is ``sigmoid(decision)`` (threshold 0.5 =
decision 0): it ranks materials but is not a calibrated probability (Platt scaling would need
five extra fits).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from xanes_core import atomic
from xanes_core.data.preprocess import Standardizer
from xanes_core.data.weights import RARITY_CLIP, sample_weights
from xanes_core.errors import RunError, XanesError
from xanes_core.learn.features import (
    composition_features,
    fit_standardizer,
    flattened_spectra,
    presence,
    standardize,
)
from xanes_core.npz import read_arrays

BASELINE_FILE, STANDARDIZER_FILE = "baseline.npz", "standardizer.npz"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _check_labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all() or np.unique(y).size < 2:
        raise XanesError("A baseline needs labels 1 (topological) and 0 (trivial), both present.")
    return y.astype(np.int64)


class _Baseline(ClassifierMixin, BaseEstimator):
    """What both baselines share: standardizing, weights, probabilities, saving."""

    kind = ""

    def __init__(self, C: float = 1.0, rarity_clip: float | None = RARITY_CLIP,
                 standardizer_scale: str = "element") -> None:
        """``C``: the inverse regularization strength of the SVM or the logistic regression."""
        self.C = C
        self.rarity_clip = rarity_clip
        self.standardizer_scale = standardizer_scale

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "_Baseline":
        y = _check_labels(y)
        self.classes_ = np.array([0, 1])
        self.standardizer_ = fit_standardizer(X, self.standardizer_scale)
        weights = (sample_weights(y, presence(X), self.rarity_clip) if sample_weight is None
                   else np.asarray(sample_weight))
        self._fit_standardized(standardize(X, self.standardizer_), y, weights)
        return self

    def _fit_standardized(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
        raise NotImplementedError

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, 2): sigmoid of the decision function (a ranking score, see module doc)."""
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) >= 0).astype(int)]

    def embed(self, X: np.ndarray) -> np.ndarray | sp.csr_matrix:
        raise NotImplementedError

    def predict_with_embedding(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | sp.csr_matrix]:
        """(score of the topological class, the features the model works in), as the CNN gives."""
        return self.predict_proba(X)[:, 1], self.embed(X)

    def save(self, folder: str | Path) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, kind=np.array(self.kind), **self._arrays())
        atomic.write_bytes(Path(folder) / BASELINE_FILE, buffer.getvalue())
        self.standardizer_.save(Path(folder) / STANDARDIZER_FILE)

    def restore(self, folder: str | Path) -> "_Baseline":
        """This estimator, fitted from a folder written by :meth:`save`."""
        path = Path(folder) / BASELINE_FILE
        arrays = read_arrays(path, ())
        if str(arrays.get("kind")) != self.kind:
            raise RunError(f"{path} does not hold a '{self.kind}' baseline.")
        try:
            self._load_arrays(arrays)
        except (KeyError, ValueError, TypeError):
            raise RunError(f"Baseline parameters {path} are incomplete or damaged.") from None
        self.standardizer_ = Standardizer.load(Path(folder) / STANDARDIZER_FILE)
        self.classes_ = np.array([0, 1])
        return self

    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class SVMClassifier(_Baseline):
    """RBF SVM on flattened standardized spectra (module doc)."""

    kind = "svm"

    def _fit_standardized(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
        svc = SVC(kernel="rbf", C=self.C, gamma="scale")
        svc.fit(flattened_spectra(X), y, sample_weight=weights)
        self.support_vectors_ = sp.csr_matrix(svc.support_vectors_)
        self.dual_coef_ = np.asarray(sp.csr_matrix(svc.dual_coef_).todense()).ravel()
        self.intercept_ = float(svc.intercept_[0])
        self.gamma_ = float(svc._gamma)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        x = flattened_spectra(standardize(X, self.standardizer_))
        sv = self.support_vectors_
        squared = (np.asarray(x.multiply(x).sum(axis=1))
                   + np.asarray(sv.multiply(sv).sum(axis=1)).T
                   - 2.0 * (x @ sv.T).toarray())
        return np.exp(-self.gamma_ * np.maximum(squared, 0.0)) @ self.dual_coef_ + self.intercept_

    def embed(self, X: np.ndarray) -> sp.csr_matrix:
        """The SVM's own input features (for the 2-D projection)."""
        return flattened_spectra(standardize(X, self.standardizer_))

    def _arrays(self) -> dict[str, np.ndarray]:
        sv = self.support_vectors_
        return {"sv_data": sv.data, "sv_indices": sv.indices, "sv_indptr": sv.indptr,
                "sv_shape": np.array(sv.shape), "dual_coef": self.dual_coef_,
                "intercept": np.array(self.intercept_), "gamma": np.array(self.gamma_)}

    def _load_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.support_vectors_ = sp.csr_matrix((a["sv_data"], a["sv_indices"], a["sv_indptr"]),
                                              shape=tuple(a["sv_shape"].tolist()))
        self.dual_coef_, self.intercept_, self.gamma_ = a["dual_coef"], float(a["intercept"]), float(a["gamma"])


class ElementsClassifier(_Baseline):
    """Logistic regression on element presence + symmetry: composition alone, no spectra."""

    kind = "elements"

    def _fit_standardized(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
        model = LogisticRegression(C=self.C, max_iter=2000)
        model.fit(composition_features(X), y, sample_weight=weights)
        self.coef_ = model.coef_.ravel().copy()
        self.intercept_ = float(model.intercept_[0])

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return composition_features(X) @ self.coef_ + self.intercept_

    def embed(self, X: np.ndarray) -> np.ndarray:
        return composition_features(X)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": np.array(self.intercept_)}

    def _load_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.coef_, self.intercept_ = a["coef"], float(a["intercept"])


BASELINES: dict[str, type[_Baseline]] = {"svm": SVMClassifier, "elements": ElementsClassifier}

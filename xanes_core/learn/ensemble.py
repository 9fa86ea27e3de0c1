"""An ensemble of CNNs with a calibrated probability and an uncertainty, as one scikit-learn
classifier.

:class:`EnsembleClassifier` holds ``n_members`` copies of one :class:`CNNClassifier` that
differ only in their seed (``seed``, ``seed + 1``, ...): other initial weights, dropout masks
and batch orders. All train on the same training split. Where TensorFlow sees a GPU they train
one after another on it (several GPUs: a MirroredStrategy each); on the CPU they train side by
side, one worker process per usable core (``n_jobs``, :mod:`xanes_core.learn.member_pool`):
one small CNN keeps one core busy, not several. Then the members' probabilities on the
validation split fit a :class:`~xanes_core.learn.calibration.TemperatureScaling` (never the
test split).

For each material:

- **probability**: the mean of the members' calibrated probabilities;
- **uncertainty**: their standard deviation (how much retraining with another seed moves the
  answer; from two members on);
- **interval**: the lowest and highest member. If members are exchangeable, a further member
  trained with a new seed falls inside it with probability (N - 1) / (N + 1): 2/3 for five.

The calibrated probabilities estimate how often materials like this one are topological, so
the rare class rarely gets p > 0.5. The decision that weighs every class equally (what the
paper's class weights and 0.5 threshold aim at) is the class with the largest ratio of
probability to its training-split frequency; with two classes that is p(topological) above the
training share of topological materials, :attr:`decision_threshold_`.

Saved as ``members/<i>/`` (each a CNN folder: model.keras, standardizer.npz) plus
``ensemble.json`` (members, calibration, class frequencies) and the shared standardizer.npz;
a missing or damaged member is a RunError naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split

from xanes_core import atomic
from xanes_core.errors import RunError, XanesError
from xanes_core.learn.calibration import CALIBRATIONS, TemperatureScaling, as_matrix
from xanes_core.learn.classifiers import (
    STANDARDIZER_FILE,
    CNNClassifier,
    check_labels,
    select_device,
)
from xanes_core.learn.config import MAX_MEMBERS
from xanes_core.learn.features import width_of
from xanes_core.learn.member_pool import (
    MemberCallbacks,
    train_side_by_side,
    usable_cores,
)

ENSEMBLE_FILE, MEMBERS = "ensemble.json", "members"


class EnsembleOutput(NamedTuple):
    """Probabilities of each material, (n, K) each: calibrated mean, raw mean (before
    calibration), spread (standard deviation over members), lowest and highest member."""

    probability: np.ndarray
    uncalibrated: np.ndarray
    spread: np.ndarray
    low: np.ndarray
    high: np.ndarray


class EnsembleClassifier(ClassifierMixin, BaseEstimator):
    """``n_members`` CNNs (``estimator`` with seeds ``estimator.seed + i``), calibrated on
    validation (``calibration``: "temperature" or None); see the module docstring.

    ``n_jobs``: members trained at once, each in its own CPU process; -1 (the default): one per
    usable core without a GPU, one after another on the GPU with one; 1: one after another in
    this process.

    Fitted attributes: ``members_``, ``calibration_`` (or None), ``class_prior_`` (training
    frequencies), ``classes_``, ``standardizer_``, ``history_`` (one list per member).
    """

    def __init__(self, estimator: CNNClassifier | None = None, n_members: int = 5,
                 calibration: str | None = "temperature", n_jobs: int = -1) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.calibration = calibration
        self.n_jobs = n_jobs

    def _check_settings(self) -> None:
        if not 1 <= int(self.n_members) <= MAX_MEMBERS:
            raise XanesError(f"An ensemble has 1 to {MAX_MEMBERS} members ({self.n_members} given).")
        if self.calibration not in CALIBRATIONS:
            raise XanesError(f"Unknown calibration '{self.calibration}'; use 'temperature' or none.")
        if not (int(self.n_jobs) == -1 or int(self.n_jobs) >= 1):
            raise XanesError(f"n_jobs is -1 (every core) or at least 1 ({self.n_jobs} given).")

    def _member(self, index: int) -> CNNClassifier:
        base = self.estimator if self.estimator is not None else CNNClassifier()
        return clone(base).set_params(seed=base.seed + index)

    def side_by_side(self) -> int:
        """How many members train at once here (1: one after another in this process)."""
        if int(self.n_jobs) != -1:
            return min(int(self.n_jobs), int(self.n_members))
        if select_device()[1] != "CPU":
            return 1
        return min(usable_cores(), int(self.n_members))

    # ---------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, *,
            validation: tuple[np.ndarray, np.ndarray] | None = None,
            member_callbacks: MemberCallbacks | None = None) -> "EnsembleClassifier":
        """Train the members (:meth:`side_by_side` at once), then calibrate on ``validation``
        (default: a stratified share of ``X`` held out, as a single CNN does).
        ``member_callbacks(i)``, called as member ``i`` (0-based) starts, returns the Keras
        callbacks that follow its training (also from a worker process); an exception from it
        stops the fit."""
        self._check_settings()
        width_of(X)
        y = check_labels(y)
        if validation is None:
            base = self._member(0)
            X, X_val, y, y_val, *weights = train_test_split(
                X, y, *([sample_weight] if sample_weight is not None else []),
                test_size=base.validation_fraction, stratify=y, random_state=base.seed)
            sample_weight = weights[0] if weights else None
            validation = (X_val, y_val)
        members = [self._member(index) for index in range(int(self.n_members))]
        places = self.side_by_side()
        if places > 1:
            self.members_ = train_side_by_side(members, X, y, sample_weight, validation, member_callbacks, places)
        else:
            self.members_ = [member.fit(X, y, sample_weight, validation=validation,
                                        callbacks=member_callbacks(index) if member_callbacks else ())
                             for index, member in enumerate(members)]
        self.classes_ = self.members_[0].classes_
        self.class_prior_ = np.bincount(y, minlength=self.classes_.size) / y.size
        self.calibration_ = None
        if self.calibration == "temperature":
            self.calibration_ = TemperatureScaling.fit(self.member_probabilities(validation[0]),
                                                       check_labels(validation[1]))
        return self

    @property
    def standardizer_(self) -> Any:
        """The members' standardizer (each fits the same one on the same training ``X``)."""
        return self.members_[0].standardizer_

    @property
    def history_(self) -> list[list[dict[str, float]]]:
        return [member.history_ for member in self.members_]

    @property
    def decision_threshold_(self) -> float:
        """The cut on p(topological) of the balanced decision (module doc): the training share of
        topological materials when calibrated, else 0.5 (the paper's)."""
        return float(self.class_prior_[1]) if self.calibration_ is not None else 0.5

    # ------------------------------------------------------------- prediction
    def member_probabilities(self, X: np.ndarray) -> np.ndarray:
        """(m, n, K): every member's raw class probabilities."""
        return np.stack([member.predict_proba(X) for member in self.members_])

    def _calibrated(self, members: np.ndarray) -> np.ndarray:
        return self.calibration_.apply(members) if self.calibration_ is not None else members

    def predict_distribution(self, X: np.ndarray) -> EnsembleOutput:
        """Calibrated mean, raw mean, spread and member range of every class probability."""
        return self._summarize(self.member_probabilities(X))

    def _summarize(self, raw: np.ndarray) -> EnsembleOutput:
        calibrated = self._calibrated(raw)
        spread = calibrated.std(axis=0, ddof=1) if len(calibrated) > 1 else np.full(calibrated.shape[1:], np.nan)
        return EnsembleOutput(probability=calibrated.mean(axis=0), uncalibrated=raw.mean(axis=0), spread=spread,
                              low=calibrated.min(axis=0), high=calibrated.max(axis=0))

    def distribution_with_embedding(self, X: np.ndarray) -> tuple[EnsembleOutput, np.ndarray]:
        """:meth:`predict_distribution` and the members' penultimate-layer embeddings side by
        side, in one pass of each member."""
        raw, embeddings = [], []
        for member in self.members_:
            scores, embedding = member.predict_with_embedding(X)
            raw.append(as_matrix(scores))
            embeddings.append(embedding)
        return self._summarize(np.stack(raw)), np.hstack(embeddings)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, K): the calibrated probability of each class (members' mean)."""
        return self._calibrated(self.member_probabilities(X)).mean(axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The balanced decision: the class with the largest probability / training frequency."""
        return self.classes_[self.decide(self.predict_proba(X))]

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """Class numbers of the balanced decision for (n, K) (or binary (n,)) probabilities."""
        matrix = as_matrix(probabilities)
        if self.calibration_ is None:
            return (matrix[:, 1] >= 0.5).astype(np.int64) if matrix.shape[1] == 2 else matrix.argmax(axis=1)
        if matrix.shape[1] == 2:
            return (matrix[:, 1] >= self.decision_threshold_).astype(np.int64)
        return (matrix / self.class_prior_).argmax(axis=1)

    def predict_with_embedding(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated probabilities as a single CNN gives them: (n,) p(topological) or (n, K);
        the members' embeddings side by side)."""
        output, embedding = self.distribution_with_embedding(X)
        probability = output.probability
        return (probability[:, 1] if probability.shape[1] == 2 else probability), embedding

    def embed(self, X: np.ndarray) -> np.ndarray:
        return self.predict_with_embedding(X)[1]

    # ----------------------------------------------------------------- saving
    def save(self, folder: str | Path) -> None:
        """members/<i>/ (each member's own files), standardizer.npz, then ensemble.json last:
        a folder without it holds no complete ensemble."""
        folder = Path(folder)
        for index, member in enumerate(self.members_):
            (folder / MEMBERS / str(index)).mkdir(parents=True, exist_ok=True)
            member.save(folder / MEMBERS / str(index))
        self.standardizer_.save(folder / STANDARDIZER_FILE)
        atomic.write_json(folder / ENSEMBLE_FILE, {
            "n_members": len(self.members_), "seeds": [int(member.seed) for member in self.members_],
            "classes": self.classes_.tolist(), "class_prior": self.class_prior_.tolist(),
            "calibration": None if self.calibration_ is None else self.calibration_.to_dict()})

    def restore(self, folder: str | Path) -> "EnsembleClassifier":
        """This estimator, fitted from a folder written by :meth:`save`; RunError naming what is
        missing or damaged (ensemble.json, a member)."""
        folder = Path(folder)
        saved = _read_ensemble_file(folder / ENSEMBLE_FILE)
        self.members_ = []
        for index in range(saved["n_members"]):
            place = folder / MEMBERS / str(index)
            if not (place / "model.keras").is_file():
                raise RunError(f"{folder.name} is an ensemble of {saved['n_members']} CNNs but member {index + 1} "
                               f"({MEMBERS}/{index}/model.keras) is missing; train the run again.")
            self.members_.append(self._member(index).restore(place))
        self.classes_ = self.members_[0].classes_
        self.class_prior_ = np.asarray(saved["class_prior"], dtype=np.float64)
        calibration = saved["calibration"]
        self.calibration_ = None if calibration is None else TemperatureScaling.from_dict(calibration)
        return self


def _read_ensemble_file(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text())
        saved["n_members"] = int(saved["n_members"])
        saved["class_prior"] = [float(value) for value in saved["class_prior"]]
        if saved["calibration"] is not None:
            TemperatureScaling.from_dict(saved["calibration"])
    except FileNotFoundError:
        raise RunError(f"{path.parent} has no {ENSEMBLE_FILE}; was the ensemble run completed?") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise RunError(f"{path} is damaged: it does not describe an ensemble.") from None
    return saved

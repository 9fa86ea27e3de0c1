"""The paper's CNN as a scikit-learn classifier: settings in the constructor, ``fit(X, y)``,
``predict_proba(X)``, so ``cross_val_score``, ``clone`` and ``GridSearchCV`` work on it.

``X`` is packed materials (:mod:`xanes_core.learn.features`). ``fit`` runs the paper's recipe
on exactly the ``X`` it is given: a per-element standardizer fitted on it, +/-1 eV shifted
copies (x3, ``augment``), sample weights (:mod:`xanes_core.data.weights`; ``weighting="class"``,
the default: class balance; ``"paper"``: class x element rarity; ``None`` or ``sample_weight``:
none or the caller's), Adam + binary cross-entropy with optional label smoothing, early stopping on the weighted validation loss with the best weights restored. The
validation set is ``validation=(X_val, y_val)`` when the caller has one (the Trainer passes the
dataset's validation split), else a stratified ``validation_fraction`` of ``X`` held out of the
fit. Label smoothing (``label_smoothing``, default 0: the search on validation chose none) is an
option beyond the paper: it keeps the validation loss from rising with over-confidence before
the balanced accuracy has peaked. Default settings: BENCHMARKS.md, "How the defaults were chosen".
Every departure from the paper (README, "Departures from the paper") is a parameter whose other
value restores the paper's choice.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split

from xanes_core.data.preprocess import DEFAULT_SHIFTS_EV, Standardizer
from xanes_core.data.weights import RARITY_CLIP, sample_weights
from xanes_core.errors import RunError, XanesError
from xanes_core.learn.architecture import (
    EMBEDDING_LAYER,
    build_model,
    load_keras_model,
    model_inputs,
    n_classes_of,
)
from xanes_core.learn.batches import SpectraBatches
from xanes_core.learn.config import CNN_TYPES, ModelConfig
from xanes_core.learn.features import (
    fit_standardizer,
    presence,
    shifted_copies,
    standardize,
    width_of,
)

MODEL_FILE, STANDARDIZER_FILE = "model.keras", "standardizer.npz"
PREDICT_BATCH = 1024
MAX_CLASSES = 3


def select_device() -> tuple[tf.distribute.Strategy, str]:
    """MirroredStrategy over several GPUs, the single GPU if one, else the CPU (with its name)."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        names = [g.name for g in gpus]
        return tf.distribute.MirroredStrategy(names), ",".join(f"GPU:{i}" for i in range(len(gpus)))
    if len(gpus) == 1:
        return tf.distribute.OneDeviceStrategy(gpus[0].name), "GPU:0"
    return tf.distribute.get_strategy(), "CPU"


def check_labels(y: Any) -> np.ndarray:
    """Class numbers, one per material: 1 topological / 0 trivial, or the three-class task's
    0 trivial / 1 topological insulator / 2 topological semimetal; two classes at least."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.isin(y, np.arange(MAX_CLASSES)).all():
        raise XanesError("Labels must be 1 (topological) or 0 (trivial), one per material (three classes: "
                         "0 trivial, 1 topological insulator, 2 topological semimetal).")
    if np.unique(y).size < 2:
        raise XanesError("Training needs both topological and trivial materials.")
    return y.astype(np.int64)


def decide(scores: np.ndarray) -> np.ndarray:
    """Predicted class numbers from model scores: p(topological) >= 0.5 for one sigmoid output,
    the most probable class for a softmax head."""
    scores = np.asarray(scores)
    return (scores >= 0.5).astype(np.int64) if scores.ndim == 1 else scores.argmax(axis=1)


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall over the classes present in ``labels``."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    return float(np.mean([(predicted[labels == k] == k).mean() for k in np.unique(labels)]))


class _ValidationScore(keras.callbacks.Callback):
    """Adds ``val_balanced_accuracy`` to each epoch's logs (seen by the callbacks after it)."""

    def __init__(self, classifier: "CNNClassifier", X_val: np.ndarray, y_val: np.ndarray) -> None:
        super().__init__()
        self.classifier, self.X_val, self.y_val = classifier, X_val, y_val

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        predicted = decide(self.classifier.scores_standardized(self.X_val, self.model))
        if logs is not None:
            logs["val_balanced_accuracy"] = balanced_accuracy(self.y_val, predicted)


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """The sparse CNN (``model_type`` "symmetry": spectra + space group; "core": spectra only).

    Architecture settings are those of :class:`~xanes_core.learn.config.ModelConfig`; the rest
    is the training recipe (module docstring; ``rarity_clip`` and ``standardizer_scale`` as in
    :func:`~xanes_core.data.weights.sample_weights` and :class:`~xanes_core.data.preprocess.Standardizer`).
    Labels 0/1 give the paper's sigmoid output; labels 0/1/2 (the three-class task) a softmax
    head with categorical cross-entropy. Fitted attributes: ``model_`` (Keras),
    ``standardizer_``, ``classes_``, ``history_`` (one dict per epoch), ``device_``.
    """

    def __init__(self, model_type: str = "symmetry", filters: Sequence[int] = (16, 32, 4),
                 kernel_size: int = 9, pool_size: int = 4, l2: float = 1.2e-3, dropout: float = 0.4,
                 dense_units: Sequence[int] = (32, 8), symmetry_units: int = 16, head_units: int = 16,
                 slot_units: int = 0, presence_input: bool = True, epochs: int = 40, batch_size: int = 32,
                 learning_rate: float = 4.2e-4, patience: int = 5, augment: bool = True,
                 label_smoothing: float = 0.0, weighting: str | None = "class",
                 rarity_clip: float | None = RARITY_CLIP, standardizer_scale: str = "element",
                 validation_fraction: float = 0.1, seed: int = 0) -> None:
        self.model_type = model_type
        self.filters = filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.l2 = l2
        self.dropout = dropout
        self.dense_units = dense_units
        self.symmetry_units = symmetry_units
        self.head_units = head_units
        self.slot_units = slot_units
        self.presence_input = presence_input
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.patience = patience
        self.augment = augment
        self.label_smoothing = label_smoothing
        self.weighting = weighting
        self.rarity_clip = rarity_clip
        self.standardizer_scale = standardizer_scale
        self.validation_fraction = validation_fraction
        self.seed = seed

    def model_config(self) -> ModelConfig:
        values = {f.name: getattr(self, f.name) for f in fields(ModelConfig)}
        return ModelConfig.from_dict({k: list(v) if isinstance(v, tuple) else v for k, v in values.items()})

    # ---------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, *,
            validation: tuple[np.ndarray, np.ndarray] | None = None,
            callbacks: Sequence[keras.callbacks.Callback] = ()) -> "CNNClassifier":
        if self.model_type not in CNN_TYPES:
            raise XanesError(f"Unknown CNN type '{self.model_type}'; use one of {', '.join(CNN_TYPES)}.")
        width_of(X)
        y = check_labels(y)
        self.classes_ = np.arange(max(2, int(y.max()) + 1))
        weights = self._weights(X, y, sample_weight)
        X, y, weights, X_val, y_val = self._validation_split(X, y, weights, validation)
        self.standardizer_ = fit_standardizer(X, self.standardizer_scale)
        shifts = DEFAULT_SHIFTS_EV if self.augment else (0.0,)
        targets = self._targets(np.tile(y, len(shifts)))
        train = SpectraBatches(standardize(shifted_copies(X, shifts), self.standardizer_), self.batch_size,
                               self.model_type, targets, np.tile(weights, len(shifts)), shuffle=True, seed=self.seed)
        X_val = standardize(X_val, self.standardizer_)
        val = SpectraBatches(X_val, PREDICT_BATCH, self.model_type, self._targets(y_val),
                             self._weights(X_val, y_val, None))
        self.model_, self.device_ = self._compiled_model()
        self.embedding_network_ = None
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=self.patience, restore_best_weights=True)
        # shuffle=False: the batches reshuffle from ``seed`` themselves; Keras would reorder them
        # with Python's global generator, shared with (and seeded by) every other thread.
        history = self.model_.fit(train, validation_data=val, epochs=self.epochs, verbose=0, shuffle=False,
                                  callbacks=[_ValidationScore(self, X_val, y_val), stopper, *callbacks])
        self.history_ = [{key: float(values[i]) for key, values in history.history.items()}
                         for i in range(len(history.epoch))]
        return self

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """What the loss compares with: the labels (sigmoid output) or their one-hot rows (softmax)."""
        return y if self.classes_.size == 2 else np.eye(self.classes_.size, dtype=np.float32)[y]

    def _weights(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
        if sample_weight is not None:
            return np.asarray(sample_weight, dtype=np.float32)
        if self.weighting == "paper":
            return sample_weights(y, presence(X), self.rarity_clip)
        if self.weighting == "class":
            return sample_weights(y, np.ones((len(y), 1), dtype=np.float32))
        if self.weighting is None:
            return np.ones(len(y), dtype=np.float32)
        raise XanesError(f"Unknown weighting '{self.weighting}'; use 'paper', 'class' or None.")

    def _validation_split(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray,
                          validation: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, ...]:
        if validation is not None:
            X_val, y_val = validation
            return X, y, weights, np.asarray(X_val), check_labels(y_val)
        X, X_val, y, y_val, weights, _ = train_test_split(
            X, y, weights, test_size=self.validation_fraction, stratify=y, random_state=self.seed)
        return X, y, weights, X_val, y_val

    def _compiled_model(self) -> tuple[keras.Model, str]:
        """The model to fit, its initial weights and dropout drawn from ``seed`` alone: training
        in a worker thread never resets the global random state other sessions use."""
        strategy, device = select_device()
        n_classes = self.classes_.size
        loss = (keras.losses.BinaryCrossentropy(label_smoothing=self.label_smoothing) if n_classes == 2
                else keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing))
        with strategy.scope():
            model = build_model(self.model_type, self.model_config(), seed=self.seed, n_classes=n_classes)
            model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=loss,
                          metrics=["accuracy"], jit_compile=False)
        return model, device

    # ------------------------------------------------------------- prediction
    def scores_standardized(self, X: np.ndarray, model: keras.Model | None = None) -> np.ndarray:
        """The model's output for already standardized materials: (n,) p(topological), or
        (n, K) class probabilities of a softmax head; one direct model call per batch (Keras's
        predict loop costs more than a whole test split's computation)."""
        model = model if model is not None else self.model_
        parts = [self._scores(model(model_inputs(X[start:start + PREDICT_BATCH], self.model_type), training=False))
                 for start in range(0, len(X), PREDICT_BATCH)]
        if parts:
            return np.concatenate(parts)
        return np.zeros((0,) if self.classes_.size == 2 else (0, self.classes_.size), dtype=np.float32)

    def _scores(self, output: Any) -> np.ndarray:
        output = np.asarray(output)
        return output.ravel() if output.shape[-1] == 1 else output

    def predict_with_embedding(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scores per material, as :meth:`scores_standardized` gives them; penultimate-layer
        embedding), one pass per batch."""
        if getattr(self, "embedding_network_", None) is None:
            self.embedding_network_ = keras.Model(
                self.model_.inputs, [self.model_.output, self.model_.get_layer(EMBEDDING_LAYER).output])
        X = standardize(X, self.standardizer_)
        scores, embeddings = [], []
        for start in range(0, len(X), PREDICT_BATCH):
            p, embedding = self.embedding_network_(model_inputs(X[start:start + PREDICT_BATCH], self.model_type),
                                                   training=False)
            scores.append(self._scores(p))
            embeddings.append(np.asarray(embedding))
        return np.concatenate(scores), np.concatenate(embeddings)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, K): the probability of each class (two classes: p(trivial), p(topological))."""
        p = self.scores_standardized(standardize(X, self.standardizer_)).astype(np.float64)
        return np.column_stack([1.0 - p, p]) if p.ndim == 1 else p

    def predict(self, X: np.ndarray) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[decide(proba[:, 1] if proba.shape[1] == 2 else proba)]

    def embed(self, X: np.ndarray) -> np.ndarray:
        """Penultimate-layer activations (what the last layer separates)."""
        return self.predict_with_embedding(X)[1]

    # ----------------------------------------------------------------- saving
    def save(self, folder: str | Path) -> None:
        """model.keras (written to a temporary name, then renamed) and standardizer.npz."""
        folder = Path(folder)
        tmp = folder / f".{MODEL_FILE}.{os.getpid()}.tmp.keras"
        self.model_.save(tmp)
        os.replace(tmp, folder / MODEL_FILE)
        self.standardizer_.save(folder / STANDARDIZER_FILE)

    def restore(self, folder: str | Path) -> "CNNClassifier":
        """This estimator, fitted from a folder written by :meth:`save` (model in safe mode)."""
        folder = Path(folder)
        path = folder / MODEL_FILE
        if not path.is_file():
            raise RunError(f"{folder} has no trained model ({MODEL_FILE}); was the run completed?")
        try:
            self.model_ = load_keras_model(str(path))
        except Exception as exc:  # noqa: BLE001 - Keras raises many types on a damaged archive
            raise RunError(f"{path} cannot be loaded as a model ({type(exc).__name__}).") from None
        self.embedding_network_ = None
        self.standardizer_ = Standardizer.load(folder / STANDARDIZER_FILE)
        self.classes_ = np.arange(n_classes_of(self.model_))
        return self


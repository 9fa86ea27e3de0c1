"""Integrated gradients of a fitted CNN's class probabilities with respect to its input spectra.

For one material ``x`` and a baseline ``x'`` of the same shape (same elements, same space group,
other spectra), the attribution of energy point ``i`` of the spectrum in slot ``k`` is::

    IG[k, i] = (x[k, i] - x'[k, i]) * mean over alpha of dF/dx[k, i] at x' + alpha (x - x')

with ``F`` the model's probability of one class and ``alpha`` the midpoints of ``steps`` equal
intervals of [0, 1]. The attributions add up (to the quadrature error) to ``F(x) - F(x')``,
the effect of all spectra together. They are computed on the standardized input the network
sees and are the same on the raw spectra: per-element standardization is affine in each energy
point, and IG does not change under such a change of variables.

Only the spectra are interpolated: channels (hence presence) and the symmetry input stay those
of the material, so nothing here measures the effect of having an element or a space group.

An ensemble (:mod:`xanes_core.learn.ensemble`) is the mean of its members' calibrated
probabilities, so its attribution is the mean of the members' attributions of their calibrated
probability (the calibration map is applied inside the gradient): they add up to the ensemble's
own effect, as for one CNN.
Used by :mod:`xanes_core.analysis.attribution`; TensorFlow is needed, as for any CNN call.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import tensorflow as tf

from xanes_core.data.elements import GRID_POINTS
from xanes_core.data.symmetry import N_SYMMETRY_FEATURES
from xanes_core.learn.architecture import model_inputs
from xanes_core.learn.features import standardize, unpack

DEFAULT_STEPS = 32
ROWS_PER_CALL = 4096  # interpolated materials per gradient call (memory ~ rows x slots x 200 floats)
# One traced gradient function per model and class: tracing costs ~0.3 s, a one-material call ~20 ms.
_TRACED: "weakref.WeakKeyDictionary[Any, dict[int, Any]]" = weakref.WeakKeyDictionary()
_TRACED_LOCK = threading.Lock()


def _class_output(output: tf.Tensor, target: int, calibration: Any = None) -> tf.Tensor:
    """The probability of class ``target`` (a sigmoid output is p(class 1); softmax: its column),
    after an ensemble's ``calibration`` (TemperatureScaling) when given."""
    probabilities = tf.stack([1.0 - output[:, 0], output[:, 0]], axis=1) if output.shape[-1] == 1 else output
    if calibration is not None:
        logits = tf.math.log(tf.clip_by_value(probabilities, 1e-7, 1.0)) / calibration.temperature
        probabilities = tf.nn.softmax(logits + tf.constant(calibration.bias, dtype=logits.dtype), axis=1)
    return probabilities[:, target]


def _gradient_function(model: Any, model_type: str, target: int, calibration: Any = None) -> Any:
    with _TRACED_LOCK:
        functions = _TRACED.setdefault(model, {})
        if (target, calibration) not in functions:
            functions[(target, calibration)] = _traced(model, model_type, target, calibration)
        return functions[(target, calibration)]


def _traced(model: Any, model_type: str, target: int, calibration: Any = None) -> Any:
    """The gradient function, traced once for any batch size and number of slots."""
    signature = {"spectra": tf.TensorSpec((None, None, GRID_POINTS), tf.float32),
                 "channels": tf.TensorSpec((None, None), tf.int32)}
    if model_type == "symmetry":
        signature["symmetry"] = tf.TensorSpec((None, N_SYMMETRY_FEATURES), tf.float32)

    @tf.function(input_signature=[signature])
    def gradients(inputs: dict[str, tf.Tensor]) -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(inputs["spectra"])
            probability = _class_output(model(inputs, training=False), target, calibration)
        return tape.gradient(probability, inputs["spectra"])
    return gradients


def integrated_gradients(classifier: Any, X: np.ndarray, X_baseline: np.ndarray, target: int = 1,
                         steps: int = DEFAULT_STEPS) -> np.ndarray:
    """(n, W, 200) attributions of packed materials ``X`` towards class ``target`` against the
    packed ``X_baseline`` (same channels and space groups), in units of probability.

    ``classifier``: a fitted :class:`~xanes_core.learn.classifiers.CNNClassifier`, or an
    ensemble of them (module doc). Empty slots get zero attribution.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    members = getattr(classifier, "members_", None)
    if members is not None:
        return np.mean([_member_gradients(member, X, X_baseline, target, steps, classifier.calibration_)
                        for member in members], axis=0)
    return _member_gradients(classifier, X, X_baseline, target, steps)


def _member_gradients(classifier: Any, X: np.ndarray, X_baseline: np.ndarray, target: int, steps: int,
                      calibration: Any = None) -> np.ndarray:
    """Integrated gradients of one CNN (its probability after ``calibration``, when given)."""
    standardized = unpack(standardize(X, classifier.standardizer_))
    reference = unpack(standardize(X_baseline, classifier.standardizer_))
    difference = (standardized.spectra - reference.spectra) * standardized.valid[:, :, None]
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    gradients = _gradient_function(classifier.model_, classifier.model_type, target, calibration)
    per_call = max(1, ROWS_PER_CALL // steps)
    out = np.zeros_like(difference)
    for start in range(0, len(X), per_call):
        part = slice(start, start + per_call)
        path = (reference.spectra[part][:, None] + alphas[None, :, None, None] * difference[part][:, None])
        n, width = difference[part].shape[:2]
        inputs = {key: np.repeat(value, steps, axis=0)
                  for key, value in model_inputs(X[part], classifier.model_type).items()}
        inputs["spectra"] = path.reshape(n * steps, width, GRID_POINTS)
        tensors = {key: tf.constant(value) for key, value in inputs.items()}
        mean_gradient = np.asarray(gradients(tensors)).reshape(n, steps, width, GRID_POINTS).mean(axis=1)
        out[part] = difference[part] * mean_gradient
    return out

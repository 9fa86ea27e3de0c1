"""The tuning search space: which CNN settings a trial draws, and how a trial's parameters
become a :class:`~xanes_core.learn.config.TrainingConfig` (the same mapping for every trial and
for the best trial's final run, so the run trains exactly what the study scored).

The paper's list (number of convolution layers, regularization strength, dropout rate, kernel
size, hidden-layer sizes) plus the learning rate, batch size, the shared slot layer, label
smoothing and the sample weights. The pool size stays at the base configuration's (4), which
allows at most three convolution + pooling stages over 200 energy points. Every range holds
the base defaults, so the study's first trial can be the defaults themselves
(:func:`params_of`) and every later trial is compared with them on the same footing.
No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import optuna

from xanes_core.learn.config import ModelConfig, TrainingConfig

SPACE_VERSION = 1
MAX_CONV_LAYERS = 3
FILTERS = (4, 8, 16, 32)
KERNEL_SIZES = (3, 5, 7, 9, 11)
DENSE_LARGE, DENSE_SMALL = (32, 64, 128), (8, 16, 32)
SLOT_UNITS = (0, 4, 8, 16)
SYMMETRY_UNITS, HEAD_UNITS = (16, 32, 64), (8, 16, 32)
BATCH_SIZES = (32, 64, 128)
WEIGHTINGS = ("paper", "class")


def suggest(trial: optuna.Trial, model_type: str) -> dict[str, Any]:
    """Draw one configuration; returns the trial's parameters (as Optuna records them)."""
    layers = trial.suggest_int("conv_layers", 1, MAX_CONV_LAYERS)
    for index in range(1, layers + 1):
        trial.suggest_categorical(f"filters_{index}", FILTERS)
    trial.suggest_categorical("kernel_size", KERNEL_SIZES)
    trial.suggest_float("l2", 1e-5, 1e-2, log=True)
    trial.suggest_float("dropout", 0.0, 0.6, step=0.1)
    trial.suggest_categorical("dense_large", DENSE_LARGE)
    trial.suggest_categorical("dense_small", DENSE_SMALL)
    trial.suggest_categorical("slot_units", SLOT_UNITS)
    if model_type == "symmetry":
        trial.suggest_categorical("symmetry_units", SYMMETRY_UNITS)
        trial.suggest_categorical("head_units", HEAD_UNITS)
    trial.suggest_float("learning_rate", 2e-4, 5e-3, log=True)
    trial.suggest_categorical("batch_size", BATCH_SIZES)
    trial.suggest_float("label_smoothing", 0.0, 0.2, step=0.05)
    trial.suggest_categorical("weighting", WEIGHTINGS)
    return dict(trial.params)


def config_from_params(base: TrainingConfig, params: dict[str, Any]) -> TrainingConfig:
    """``base`` with a trial's parameters applied (settings a trial does not draw stay as in base)."""
    layers = int(params["conv_layers"])
    architecture = {
        "filters": tuple(int(params[f"filters_{index}"]) for index in range(1, layers + 1)),
        "kernel_size": int(params["kernel_size"]), "l2": float(params["l2"]),
        "dropout": float(params["dropout"]),
        "dense_units": (int(params["dense_large"]), int(params["dense_small"])),
        "slot_units": int(params["slot_units"]),
        **{key: int(params[key]) for key in ("symmetry_units", "head_units") if key in params},
    }
    return replace(base, learning_rate=float(params["learning_rate"]), batch_size=int(params["batch_size"]),
                   label_smoothing=float(params["label_smoothing"]), weighting=params["weighting"],
                   model_config=replace(base.model_config, **architecture))


def params_of(config: TrainingConfig) -> dict[str, Any]:
    """The parameters that reproduce ``config`` in this space (to enqueue the defaults)."""
    model: ModelConfig = config.model_config
    params: dict[str, Any] = {
        "conv_layers": len(model.filters),
        **{f"filters_{index}": value for index, value in enumerate(model.filters, start=1)},
        "kernel_size": model.kernel_size, "l2": model.l2, "dropout": model.dropout,
        "dense_large": model.dense_units[0], "dense_small": model.dense_units[1],
        "slot_units": model.slot_units, "learning_rate": config.learning_rate,
        "batch_size": config.batch_size, "label_smoothing": config.label_smoothing,
        "weighting": config.weighting,
    }
    if config.model == "symmetry":
        params.update(symmetry_units=model.symmetry_units, head_units=model.head_units)
    return params

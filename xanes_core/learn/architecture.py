"""The CNN's architecture (core and symmetry variants) over the sparse element encoder.

Departures from the paper (README, "Departures from the paper", lists all of them with the
setting that restores the paper's choice): the encoder appends the presence mask to the slots
(``presence_input``, see :mod:`xanes_core.learn.layers`). Optional: ``ModelConfig.slot_units > 0``
puts a per-slot dense layer (ReLU units, weights shared by all elements, i.e. a width-1
convolution across the slot axis, L2 on its kernel) before the flatten, so the larger dense
layer sees 81 x slot_units values instead of 81 x the convolution features. The default is 0,
the paper's plain flatten: the search on the demo's validation split (BENCHMARKS.md, "How the
defaults were chosen") found the best configuration without it. The two dense layers after the
encoder, dropout on the larger, and the symmetry branch are as in the paper.

Model inputs (see :func:`model_inputs`), all with the samples as first axis so that Keras can
split batches across GPUs (MirroredStrategy) and ``Model.predict`` accepts plain arrays:

- ``spectra`` (batch, m, 200) float32: each sample's standardized spectra, padded to the
  largest element count ``m`` in the batch (padding rows are dropped before the convolution,
  so they cost a copy, not compute);
- ``channels`` (batch, m) int32: each row's element channel, -1 for padding. The presence
  mask is derived from it (``one_hot(-1)`` is all zeros);
- ``symmetry`` (batch, 269) float32 (symmetry model only): one-hot crystal system, point group,
  space group.

Training needs no XLA: the number of present rows changes from batch to batch, so models are
compiled with ``jit_compile=False``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.data.symmetry import N_SYMMETRY_FEATURES
from xanes_core.errors import XanesError
from xanes_core.learn.config import CNN_TYPES, ModelConfig
from xanes_core.learn.features import symmetry_input, unpack
from xanes_core.learn.layers import (
    DenseElementEncoder,
    SeedSource,
    SparseElementEncoder,
)

EMBEDDING_LAYER = "embedding"
CLASS_OUTPUT = "p_classes"  # the softmax head of a model of more than two classes


def _head(encoded: keras.KerasTensor, symmetry: keras.KerasTensor | None,
          config: ModelConfig, seeds: SeedSource, n_classes: int = 2) -> keras.KerasTensor:
    """Dense layers after the encoder; identical for the sparse and dense formulations. Two
    classes: one sigmoid unit, p(topological); more: a softmax over the classes."""
    regularizer = keras.regularizers.L2(config.l2)
    large, small = config.dense_units

    def dense(units: int, name: str, **options: Any) -> keras.layers.Dense:
        return keras.layers.Dense(units, kernel_initializer=seeds.initializer(), name=name, **options)

    x = dense(large, "dense_large", activation="relu", kernel_regularizer=regularizer)(encoded)
    x = keras.layers.Dropout(config.dropout, seed=seeds.next(), name="dropout")(x)
    if symmetry is None:
        x = dense(small, EMBEDDING_LAYER, activation="relu", kernel_regularizer=regularizer)(x)
    else:
        x = dense(small, "dense_small", activation="relu", kernel_regularizer=regularizer)(x)
        s = dense(config.symmetry_units, "symmetry_dense", activation="relu",
                  kernel_regularizer=regularizer)(symmetry)
        x = keras.layers.Concatenate(name="concat")([x, s])
        x = dense(config.head_units, EMBEDDING_LAYER, activation="relu", kernel_regularizer=regularizer)(x)
    if n_classes == 2:
        return dense(1, "p_topological", activation="sigmoid")(x)
    return dense(n_classes, CLASS_OUTPUT, activation="softmax")(x)


def _encoder_args(config: ModelConfig, seeds: SeedSource) -> dict[str, Any]:
    return {"filters": config.filters, "kernel_size": config.kernel_size,
            "pool_size": config.pool_size, "l2": config.l2, "slot_units": config.slot_units,
            "presence_input": config.presence_input, "seed": seeds.next(), "name": "element_encoder"}


def build_model(model_type: str = "symmetry", config: ModelConfig = ModelConfig(),
                seed: int | None = None, n_classes: int = 2) -> keras.Model:
    """The sparse CNN ("symmetry": spectra + symmetry one-hot; "core": spectra only).

    ``n_classes``: 2 for the paper's sigmoid output, 3 for a softmax head (three-class task).
    ``seed``: initial weights and dropout masks drawn from generators of the model's own
    (reproducible, global random state untouched); None: Keras's global generator.
    """
    if model_type not in CNN_TYPES:
        raise XanesError(f"Unknown CNN type '{model_type}'; use one of {', '.join(CNN_TYPES)}.")
    spectra = keras.Input((None, GRID_POINTS), name="spectra")
    channels = keras.Input((None,), dtype="int32", name="channels")
    inputs = {"spectra": spectra, "channels": channels}
    seeds = SeedSource(seed)
    encoded = SparseElementEncoder(**_encoder_args(config, seeds))([spectra, channels])
    symmetry = None
    if model_type == "symmetry":
        symmetry = inputs["symmetry"] = keras.Input((N_SYMMETRY_FEATURES,), name="symmetry")
    return keras.Model(inputs, _head(encoded, symmetry, config, seeds, n_classes), name=f"xanes_{model_type}")


def build_dense_reference(model_type: str = "symmetry",
                          config: ModelConfig = ModelConfig()) -> keras.Model:
    """The straightforward dense (batch, 200, 81) model with the same architecture and weights
    layout as :func:`build_model` (for the equivalence test and the speed benchmark)."""
    dense = keras.Input((GRID_POINTS, N_CHANNELS), name="dense_spectra")
    inputs = {"dense_spectra": dense}
    seeds = SeedSource(None)
    encoded = DenseElementEncoder(**_encoder_args(config, seeds))(dense)
    symmetry = None
    if model_type == "symmetry":
        symmetry = inputs["symmetry"] = keras.Input((N_SYMMETRY_FEATURES,), name="symmetry")
    return keras.Model(inputs, _head(encoded, symmetry, config, seeds), name=f"dense_{model_type}")


def n_classes_of(model: keras.Model) -> int:
    """2 for a sigmoid-output model, else the width of its softmax head."""
    width = int(model.output.shape[-1])
    return 2 if width == 1 else width


def embedding_model(model: keras.Model) -> keras.Model:
    """Same inputs, output = the penultimate layer (used for the 2-D projection)."""
    return keras.Model(model.inputs, model.get_layer(EMBEDDING_LAYER).output)


def load_keras_model(path: str) -> keras.Model:
    """Load a saved CNN with safe mode on (only registered layers, no Lambda/code)."""
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def model_inputs(X: np.ndarray, model_type: str) -> dict[str, np.ndarray]:
    """The Keras inputs of packed, standardized materials (see :mod:`~xanes_core.learn.features`).

    The one place that decides which inputs a variant takes: the symmetry one-hot goes only to
    the "symmetry" model, so a spectra-only model never sees (nor needs) a space group.
    """
    materials = unpack(X)
    inputs = {"spectra": np.ascontiguousarray(materials.spectra, dtype=np.float32),
              "channels": materials.channels.astype(np.int32)}
    if model_type == "symmetry":
        inputs["symmetry"] = symmetry_input(materials.space_groups)
    return inputs

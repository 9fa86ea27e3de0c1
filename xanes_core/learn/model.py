"""The paper's CNN (core and symmetry variants), built on a sparse spectra formulation.

Why sparse: a sample has 1-7 absorbing elements out of 81 channels, so the paper's dense
(batch, 200, 81) input is ~97 % zeros and its shared-kernel convolution spends ~30x its useful
work on empty channels. Here the convolution stack runs only on the spectra that exist,
``(n_rows, 200, 1)``, and :class:`SparseElementEncoder` places each row's features in its
``(sample, element)`` slot (``tf.math.unsorted_segment_sum`` over ``sample * 81 + channel``).

Exact mapping to the dense model. With the same weights, the dense model's convolution over an
absent (all-zero) channel yields a fixed vector ``c = conv_stack(zeros)`` (the biases pushed
through the ReLUs). The sparse encoder reproduces this exactly with a presence mask::

    slot[s, e] = conv_stack(spectrum[s, e])  if element e is present in sample s
                 c                           otherwise

then (default, ``ModelConfig.slot_units``) maps every slot through one small dense layer shared
by all 81 slots, and appends the presence mask itself (81 values) to the flattened slots, so the dense layers
see which elements a sample has even when a spectrum happens to equal its element's mean (zero
after standardization, indistinguishable from "absent" by its encoding alone). The dense
reference derives the same mask from its input (a channel is present when it is not all zero),
which is exactly the information the paper's dense input carries.

:class:`DenseElementEncoder` is that straightforward dense implementation (channels folded into
the batch, the same Conv1D/MaxPool1D stack), kept as the reference for the equivalence test and
the speed benchmark; both encoders hold identical weights in identical order, so
``dense_model.set_weights(sparse_model.get_weights())`` maps one onto the other.

Departure from the paper (documented): the paper flattens the 81 slots' convolution features
straight into its two dense layers. Here a per-slot dense layer (8 ReLU units, weights shared
by all elements, i.e. a width-1 convolution across the slot axis, L2 on its kernel) comes
first, so the larger dense layer sees 81 x 8 instead of 81 x 24 slot values. On the demo data
the plain flatten overfits within one or two epochs (validation loss rising while balanced
accuracy still improves) and ends ~3 points short of the Bayes rule; with the shared slot layer
(and dropout 0.5, L2 1e-3, label smoothing 0.1 in training) the gap is ~2.4 points for seeds 0
and 1. ``slot_units=0`` restores the paper's plain flatten; the two dense layers after the
encoder, dropout on the larger, and the symmetry branch are unchanged.

Model inputs (see :func:`make_inputs`), all with the samples as first axis so that Keras can
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

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS
from xanes_core.errors import XanesError
from xanes_core.data.preprocess import Standardizer
from xanes_core.data.symmetry import N_SYMMETRY_FEATURES, symmetry_features

MODEL_TYPES = ("symmetry", "core")
EMBEDDING_LAYER = "embedding"


@dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of both CNN variants (defaults tuned on the demo data).

    ``filters``/``kernel_size``/``pool_size``: the convolution + max-pooling stages, kernels
    shared by all element channels. ``slot_units``: a dense layer (ReLU) shared by all element
    slots that maps each slot's flattened convolution features to this many values before the
    81 slots are flattened (0: none, the paper's plain flatten); see the module docstring.
    ``l2``: L2 penalty on convolution and dense kernels.
    ``dense_units``: the two dense layers after the encoder; dropout acts on the larger (first).
    ``symmetry_units``: the dense branch over the 269 symmetry features; ``head_units``: the
    dense layer after concatenation (symmetry model), whose output is the embedding.
    """

    filters: tuple[int, ...] = (16, 32, 8)
    kernel_size: int = 5
    pool_size: int = 4
    l2: float = 1e-3
    dropout: float = 0.5
    dense_units: tuple[int, int] = (64, 16)
    symmetry_units: int = 32
    head_units: int = 16
    slot_units: int = 8

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        known = {key: tuple(value) if isinstance(value, list) else value
                 for key, value in values.items() if key in cls.__dataclass_fields__}
        return cls(**known)


class _SharedConvStack(keras.layers.Layer):
    """Conv1D + MaxPool1D stages applied to single spectra (kernels shared by all elements)."""

    def __init__(self, filters: Sequence[int], kernel_size: int, pool_size: int, l2: float,
                 slot_units: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = tuple(int(f) for f in filters)
        self.kernel_size = int(kernel_size)
        self.pool_size = int(pool_size)
        self.l2 = float(l2)
        self.convs = [
            keras.layers.Conv1D(f, self.kernel_size, padding="same", activation="relu",
                                kernel_regularizer=keras.regularizers.L2(self.l2), name=f"conv{i}")
            for i, f in enumerate(self.filters)
        ]
        self.pools = [keras.layers.MaxPooling1D(self.pool_size, name=f"pool{i}")
                      for i in range(len(self.filters))]
        length = GRID_POINTS
        for _ in self.filters:
            length //= self.pool_size
        self.slot_features = length * self.filters[-1]
        self.slot_units = int(slot_units)
        self.slot_dense = (keras.layers.Dense(self.slot_units, activation="relu",
                                              kernel_regularizer=keras.regularizers.L2(self.l2),
                                              name="slot_dense")
                           if self.slot_units > 0 else None)
        self.slot_outputs = self.slot_units if self.slot_units > 0 else self.slot_features

    def _build_stack(self) -> None:
        shape: tuple[int | None, ...] = (None, GRID_POINTS, 1)
        for conv, pool in zip(self.convs, self.pools):
            conv.build(shape)
            shape = pool.compute_output_shape(conv.compute_output_shape(shape))
        if self.slot_dense is not None:
            self.slot_dense.build((None, self.slot_features))

    def _encode(self, spectra: tf.Tensor) -> tf.Tensor:
        """(n, 200) -> (n, slot_features)."""
        x = tf.expand_dims(spectra, -1)
        for conv, pool in zip(self.convs, self.pools):
            x = pool(conv(x))
        return tf.reshape(x, (-1, self.slot_features))

    def _flatten_slots(self, slots: tf.Tensor) -> tf.Tensor:
        """(batch, 81, slot_features) -> (batch, 81 * slot_outputs), through the shared slot
        dense layer when there is one."""
        if self.slot_dense is not None:
            slots = self.slot_dense(slots)
        return tf.reshape(slots, (tf.shape(slots)[0], N_CHANNELS * self.slot_outputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": list(self.filters),
                "kernel_size": self.kernel_size, "pool_size": self.pool_size, "l2": self.l2,
                "slot_units": self.slot_units}


@keras.saving.register_keras_serializable(package="xanes_core")
class SparseElementEncoder(_SharedConvStack):
    """Encode present spectra only; scatter into (batch, 81 * slot_outputs), then + presence (81).

    Inputs ``[spectra (batch, m, 200), channels (batch, m)]`` (channel -1 = padding); absent
    slots get the encoding of an all-zero spectrum, exactly as the dense model computes them.
    """

    def build(self, input_shape: Any) -> None:
        self._build_stack()

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        spectra, channels = inputs
        channels = tf.cast(channels, tf.int32)
        batch, width = tf.shape(channels)[0], tf.shape(channels)[1]
        valid = channels >= 0
        rows = tf.boolean_mask(tf.reshape(spectra, (-1, GRID_POINTS)), tf.reshape(valid, (-1,)))
        sample = tf.broadcast_to(tf.range(batch)[:, None], (batch, width))
        slot = tf.boolean_mask(sample * N_CHANNELS + channels, valid)
        features = self._encode(rows)
        scattered = tf.math.unsorted_segment_sum(features, slot, batch * N_CHANNELS)
        scattered = tf.reshape(scattered, (batch, N_CHANNELS, self.slot_features))
        presence = tf.reduce_sum(tf.one_hot(channels, N_CHANNELS, dtype=features.dtype), axis=1)
        absent_fill = self._encode(tf.zeros((1, GRID_POINTS), dtype=features.dtype))
        slots = scattered + (1.0 - presence)[:, :, None] * absent_fill[None, :, :]
        return tf.concat([self._flatten_slots(slots), presence], axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, int]:
        return (input_shape[1][0], N_CHANNELS * (self.slot_outputs + 1))


@keras.saving.register_keras_serializable(package="xanes_core")
class DenseElementEncoder(_SharedConvStack):
    """Reference: the paper's dense (batch, 200, 81) input, every channel convolved."""

    def build(self, input_shape: Any) -> None:
        self._build_stack()

    def call(self, dense: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(dense)[0]
        per_channel = tf.reshape(tf.transpose(dense, (0, 2, 1)), (-1, GRID_POINTS))
        slots = tf.reshape(self._encode(per_channel), (batch, N_CHANNELS, self.slot_features))
        presence = tf.cast(tf.reduce_any(tf.not_equal(dense, 0.0), axis=1), slots.dtype)
        return tf.concat([self._flatten_slots(slots), presence], axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, int]:
        return (input_shape[0], N_CHANNELS * (self.slot_outputs + 1))


def _head(encoded: keras.KerasTensor, symmetry: keras.KerasTensor | None,
          config: ModelConfig) -> keras.KerasTensor:
    """Dense layers after the encoder; identical for the sparse and dense formulations."""
    regularizer = keras.regularizers.L2(config.l2)
    large, small = config.dense_units
    x = keras.layers.Dense(large, activation="relu", kernel_regularizer=regularizer,
                           name="dense_large")(encoded)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    if symmetry is None:
        x = keras.layers.Dense(small, activation="relu", kernel_regularizer=regularizer,
                               name=EMBEDDING_LAYER)(x)
    else:
        x = keras.layers.Dense(small, activation="relu", kernel_regularizer=regularizer,
                               name="dense_small")(x)
        s = keras.layers.Dense(config.symmetry_units, activation="relu",
                               kernel_regularizer=regularizer, name="symmetry_dense")(symmetry)
        x = keras.layers.Concatenate(name="concat")([x, s])
        x = keras.layers.Dense(config.head_units, activation="relu",
                               kernel_regularizer=regularizer, name=EMBEDDING_LAYER)(x)
    return keras.layers.Dense(1, activation="sigmoid", name="p_topological")(x)


def _encoder_args(config: ModelConfig) -> dict[str, Any]:
    return {"filters": config.filters, "kernel_size": config.kernel_size,
            "pool_size": config.pool_size, "l2": config.l2, "slot_units": config.slot_units,
            "name": "element_encoder"}


def build_model(model_type: str = "symmetry", config: ModelConfig = ModelConfig()) -> keras.Model:
    """The sparse CNN ("symmetry": spectra + symmetry one-hot; "core": spectra only)."""
    if model_type not in MODEL_TYPES:
        raise XanesError(f"Unknown CNN type '{model_type}'; use one of {', '.join(MODEL_TYPES)}.")
    spectra = keras.Input((None, GRID_POINTS), name="spectra")
    channels = keras.Input((None,), dtype="int32", name="channels")
    inputs = {"spectra": spectra, "channels": channels}
    encoded = SparseElementEncoder(**_encoder_args(config))([spectra, channels])
    symmetry = None
    if model_type == "symmetry":
        symmetry = inputs["symmetry"] = keras.Input((N_SYMMETRY_FEATURES,), name="symmetry")
    return keras.Model(inputs, _head(encoded, symmetry, config), name=f"xanes_{model_type}")


def build_dense_reference(model_type: str = "symmetry",
                          config: ModelConfig = ModelConfig()) -> keras.Model:
    """The straightforward dense (batch, 200, 81) model with the same architecture and weights
    layout as :func:`build_model` (for the equivalence test and the speed benchmark)."""
    dense = keras.Input((GRID_POINTS, N_CHANNELS), name="dense_spectra")
    inputs = {"dense_spectra": dense}
    encoded = DenseElementEncoder(**_encoder_args(config))(dense)
    symmetry = None
    if model_type == "symmetry":
        symmetry = inputs["symmetry"] = keras.Input((N_SYMMETRY_FEATURES,), name="symmetry")
    return keras.Model(inputs, _head(encoded, symmetry, config), name=f"dense_{model_type}")


def embedding_model(model: keras.Model) -> keras.Model:
    """Same inputs, output = the penultimate layer (used for the 2-D projection)."""
    return keras.Model(model.inputs, model.get_layer(EMBEDDING_LAYER).output)


def load_keras_model(path: str) -> keras.Model:
    """Load a saved CNN with safe mode on (only registered layers, no Lambda/code)."""
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def sample_inputs(entries: Sequence[tuple[int, np.ndarray]], space_group: int | None,
                  standardizer: Standardizer) -> dict[str, np.ndarray]:
    """Model inputs for one sample from (channel, spectrum on that element's grid) pairs.

    Without a space group the symmetry input is all zeros (no symmetry information); a caller
    should tell the user that the symmetry model then works outside its training conditions.
    """
    if not entries:
        raise XanesError("A sample needs at least one absorbing-element spectrum.")
    channels = np.array([int(ch) for ch, _ in entries], dtype=np.int64)
    if len(set(channels.tolist())) != len(channels):
        raise XanesError("Each absorbing element may appear only once in a sample.")
    spectra = np.stack([np.asarray(s, dtype=np.float32) for _, s in entries])
    if spectra.shape[1] != GRID_POINTS:
        raise XanesError(f"Spectra must be resampled onto the {GRID_POINTS}-point element grid.")
    groups = None if space_group is None else np.array([space_group])
    return make_inputs(standardizer.transform(spectra, channels), channels,
                       np.zeros(len(channels), dtype=np.int64), 1, groups)


def make_inputs(spectra: np.ndarray, channels: np.ndarray, row_sample: np.ndarray,
                n_samples: int, space_groups: np.ndarray | None,
                width: int | None = None) -> dict[str, np.ndarray]:
    """Padded model inputs from standardized rows; ``row_sample`` is each row's sample position
    (0..n_samples-1) in the batch. ``width``: padded rows per sample (default: the largest
    count here). ``space_groups=None`` gives an all-zero symmetry input."""
    channels = np.asarray(channels, dtype=np.int64)
    row_sample = np.asarray(row_sample, dtype=np.int64)
    order = np.argsort(row_sample, kind="stable")
    counts = np.bincount(row_sample, minlength=n_samples)
    starts = np.cumsum(counts) - counts
    rank = np.empty_like(row_sample)
    rank[order] = np.arange(row_sample.size) - starts[row_sample[order]]
    width = max(int(counts.max(initial=0)), 1) if width is None else width
    padded = np.zeros((n_samples, width, GRID_POINTS), dtype=np.float32)
    padded[row_sample, rank] = spectra
    padded_channels = np.full((n_samples, width), -1, dtype=np.int32)
    padded_channels[row_sample, rank] = channels
    if space_groups is None:
        symmetry = np.zeros((n_samples, N_SYMMETRY_FEATURES), dtype=np.float32)
    else:
        symmetry = symmetry_features(space_groups)
    return {"spectra": padded, "channels": padded_channels, "symmetry": symmetry}


class EncodedSpectra:
    """A dataset's standardized spectra grouped by sample, to cut model batches quickly.

    Rows are sorted by sample once, so a batch of samples maps to a few contiguous row ranges;
    nothing dense is ever built for more than one batch. Every batch is padded to the dataset's
    largest element count, because Keras fixes the input shapes (except the batch axis) from
    the first batch it sees.
    """

    def __init__(self, dataset: XanesDataset, standardizer: Standardizer) -> None:
        order = np.argsort(dataset.sample_index, kind="stable")
        self.channels = dataset.channel[order].astype(np.int64)
        self.spectra = standardizer.transform(dataset.spectra[order], self.channels)
        counts = np.bincount(dataset.sample_index, minlength=dataset.n_samples)
        self.row_count = counts.astype(np.int64)
        self.row_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.space_groups = dataset.metadata["space_group"].to_numpy(dtype=np.int64)
        self.n_samples = dataset.n_samples
        self.width = max(int(counts.max(initial=0)), 1)

    def rows(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the given samples and, per row, the sample's position in ``samples``."""
        samples = np.asarray(samples, dtype=np.int64)
        counts = self.row_count[samples]
        row_sample = np.repeat(np.arange(samples.size), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(self.row_start[samples], counts) + offsets, row_sample

    def presence(self, samples: np.ndarray) -> np.ndarray:
        """(len(samples), 81) float32 element presence."""
        rows, row_sample = self.rows(samples)
        present = np.zeros((len(samples), N_CHANNELS), dtype=np.float32)
        present[row_sample, self.channels[rows]] = 1.0
        return present

    def inputs(self, samples: np.ndarray) -> dict[str, np.ndarray]:
        rows, row_sample = self.rows(samples)
        return make_inputs(self.spectra[rows], self.channels[rows], row_sample, len(samples),
                           self.space_groups[np.asarray(samples, dtype=np.int64)], self.width)


class SpectraBatches(keras.utils.PyDataset):
    """Batches (inputs, labels, sample weights) for ``Model.fit``, cut from the sparse rows.

    Each batch carries only its samples' rows, padded to the batch's largest element count;
    ``labels``/``weights`` are aligned with ``samples``. With ``shuffle`` the sample order is
    redrawn from ``seed`` every epoch.
    """

    def __init__(self, encoded: EncodedSpectra, samples: np.ndarray, batch_size: int,
                 labels: np.ndarray | None = None, weights: np.ndarray | None = None,
                 shuffle: bool = False, seed: int = 0, model_type: str = "symmetry") -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.encoded = encoded
        self.samples = np.asarray(samples, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.labels = labels
        self.weights = weights
        self.shuffle = shuffle
        self.model_type = model_type
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(self.samples.size) if shuffle else np.arange(self.samples.size)

    def __len__(self) -> int:
        return int(np.ceil(self.samples.size / self.batch_size))

    def __getitem__(self, index: int) -> Any:
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        inputs = self.encoded.inputs(self.samples[chosen])
        if self.model_type != "symmetry":
            del inputs["symmetry"]
        if self.labels is None:
            return (inputs,)
        y = self.labels[chosen].astype(np.float32)
        if self.weights is None:
            return inputs, y
        return inputs, y, self.weights[chosen].astype(np.float32)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(self.samples.size)


@dataclass
class CNNClassifier:
    """A trained CNN with the same predict/embed interface as the baselines."""

    model: keras.Model
    model_type: str
    batch_size: int = 1024

    def _batches(self, encoded: EncodedSpectra, samples: np.ndarray) -> Any:
        samples = np.asarray(samples, dtype=np.int64)
        for start in range(0, samples.size, self.batch_size):
            inputs = encoded.inputs(samples[start:start + self.batch_size])
            if self.model_type != "symmetry":
                del inputs["symmetry"]
            yield inputs

    def predict_proba(self, encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
        """p(topological) per sample, one direct model call per batch (no Keras predict loop
        set-up, which costs more than the computation for a test split)."""
        parts = [self.model(inputs, training=False).numpy().ravel()
                 for inputs in self._batches(encoded, samples)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def embed(self, encoded: EncodedSpectra, samples: np.ndarray) -> np.ndarray:
        """Penultimate-layer activations (for the 2-D projection)."""
        embedder = embedding_model(self.model)
        parts = [embedder(inputs, training=False).numpy() for inputs in self._batches(encoded, samples)]
        return np.concatenate(parts)

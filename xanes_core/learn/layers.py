"""The CNN's element encoders: the sparse formulation and the paper's dense one, same weights.

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
by all 81 slots, and (default, ``ModelConfig.presence_input``) appends the presence mask itself
(81 values) to the flattened slots, so the dense layers see which elements a sample has even
when a spectrum happens to equal its element's mean (zero after standardization,
indistinguishable from "absent" by its encoding alone). Both are additions to the paper, whose
dense layers see the flattened slots only (``slot_units=0, presence_input=False``). The dense
reference derives the same mask from its input (a channel is present when it is not all zero),
which is exactly the information the paper's dense input carries.

:class:`DenseElementEncoder` is that straightforward dense implementation (channels folded into
the batch, the same Conv1D/MaxPool1D stack), kept as the reference for the equivalence test and
the speed benchmark; both encoders hold identical weights in identical order, so
``dense_model.set_weights(sparse_model.get_weights())`` maps one onto the other.
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

from xanes_core.data.elements import GRID_POINTS, N_CHANNELS


class SeedSource:
    """Distinct, reproducible seeds for one model's initializers and dropout, drawn from a
    generator of its own: a seeded model never reads or resets the global random state (which
    other threads, e.g. other users' sessions, share). ``seed=None``: Keras's global generator."""

    def __init__(self, seed: int | None) -> None:
        self._rng = None if seed is None else np.random.default_rng(seed)

    def next(self) -> int | None:
        return None if self._rng is None else int(self._rng.integers(2**31 - 1))

    def initializer(self) -> keras.initializers.Initializer:
        """Glorot uniform (Keras's default kernel initializer) with the next seed."""
        return keras.initializers.GlorotUniform(seed=self.next())


class SharedConvStack(keras.layers.Layer):
    """Conv1D + MaxPool1D stages applied to single spectra (kernels shared by all elements)."""

    def __init__(self, filters: Sequence[int], kernel_size: int, pool_size: int, l2: float,
                 slot_units: int = 0, presence_input: bool = True, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = tuple(int(f) for f in filters)
        self.kernel_size = int(kernel_size)
        self.pool_size = int(pool_size)
        self.l2 = float(l2)
        self.seed = None if seed is None else int(seed)
        seeds = SeedSource(self.seed)
        self.convs = [
            keras.layers.Conv1D(f, self.kernel_size, padding="same", activation="relu",
                                kernel_initializer=seeds.initializer(),
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
                                              kernel_initializer=seeds.initializer(),
                                              kernel_regularizer=keras.regularizers.L2(self.l2),
                                              name="slot_dense")
                           if self.slot_units > 0 else None)
        self.slot_outputs = self.slot_units if self.slot_units > 0 else self.slot_features
        self.presence_input = bool(presence_input)
        self.output_width = N_CHANNELS * (self.slot_outputs + int(self.presence_input))

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

    def _flatten_slots(self, slots: tf.Tensor, presence: tf.Tensor) -> tf.Tensor:
        """(batch, 81, slot_features) -> (batch, output_width): through the shared slot dense
        layer when there is one, then flattened, then the presence mask (81) appended if used."""
        if self.slot_dense is not None:
            slots = self.slot_dense(slots)
        flat = tf.reshape(slots, (tf.shape(slots)[0], N_CHANNELS * self.slot_outputs))
        return tf.concat([flat, presence], axis=1) if self.presence_input else flat

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": list(self.filters),
                "kernel_size": self.kernel_size, "pool_size": self.pool_size, "l2": self.l2,
                "slot_units": self.slot_units, "presence_input": self.presence_input, "seed": self.seed}


@keras.saving.register_keras_serializable(package="xanes_core")
class SparseElementEncoder(SharedConvStack):
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
        return self._flatten_slots(slots, presence)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, int]:
        return (input_shape[1][0], self.output_width)


@keras.saving.register_keras_serializable(package="xanes_core")
class DenseElementEncoder(SharedConvStack):
    """Reference: the paper's dense (batch, 200, 81) input, every channel convolved."""

    def build(self, input_shape: Any) -> None:
        self._build_stack()

    def call(self, dense: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(dense)[0]
        per_channel = tf.reshape(tf.transpose(dense, (0, 2, 1)), (-1, GRID_POINTS))
        slots = tf.reshape(self._encode(per_channel), (batch, N_CHANNELS, self.slot_features))
        presence = tf.cast(tf.reduce_any(tf.not_equal(dense, 0.0), axis=1), slots.dtype)
        return self._flatten_slots(slots, presence)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, int]:
        return (input_shape[0], self.output_width)

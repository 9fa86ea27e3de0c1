"""Batches of packed materials for Keras ``Model.fit`` (inputs, labels, sample weights)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from xanes_core.learn.architecture import model_inputs


class SpectraBatches(keras.utils.PyDataset):
    """Cut batches from a standardized packed ``X``; with ``shuffle`` the order is redrawn from
    ``seed`` every epoch. ``y``/``sample_weight`` are aligned with the rows of ``X``."""

    def __init__(self, X: np.ndarray, batch_size: int, model_type: str, y: np.ndarray | None = None,
                 sample_weight: np.ndarray | None = None, shuffle: bool = False, seed: int = 0) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.X = X
        self.batch_size = int(batch_size)
        self.model_type = model_type
        self.y = None if y is None else np.asarray(y, dtype=np.float32)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(X)) if shuffle else np.arange(len(X))

    def __len__(self) -> int:
        return int(np.ceil(len(self.X) / self.batch_size))

    def __getitem__(self, index: int) -> Any:
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        inputs = model_inputs(self.X[chosen], self.model_type)
        if self.y is None:
            return (inputs,)
        if self.sample_weight is None:
            return inputs, self.y[chosen]
        return inputs, self.y[chosen], self.sample_weight[chosen]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.X))

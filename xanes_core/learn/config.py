"""What defines a model and a run, as plain frozen dataclasses (no TensorFlow: pages build them).

:class:`ModelConfig` is the CNN's architecture; :class:`TrainingConfig` is everything a run is
made from (dataset, model kind, training recipe, architecture), saved as the run's config.json
and turned into a scikit-learn-style classifier by :meth:`TrainingConfig.classifier`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from xanes_core.data.classes import BINARY, TASKS
from xanes_core.data.preprocess import SCALES
from xanes_core.data.weights import RARITY_CLIP
from xanes_core.errors import XanesError

CNN_TYPES = ("symmetry", "core")
BASELINE_TYPES = ("svm", "elements")
MODEL_TYPES = CNN_TYPES + BASELINE_TYPES
# Sample weights of a CNN fit: the paper's class balance x element rarity, class balance only, none.
WEIGHTINGS = ("paper", "class", None)
MAX_MEMBERS = 20  # CNNs in an ensemble


@dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of both CNN variants (defaults: the best trial of a search on the demo's
    validation split, see BENCHMARKS.md "How the defaults were chosen").

    ``filters``/``kernel_size``/``pool_size``: the convolution + max-pooling stages, kernels
    shared by all element channels. ``slot_units``: a dense layer (ReLU) shared by all element
    slots that maps each slot's flattened convolution features to this many values before the
    81 slots are flattened (0: none, the paper's plain flatten); see
    :mod:`xanes_core.learn.architecture`.
    ``l2``: L2 penalty on convolution and dense kernels.
    ``dense_units``: the two dense layers after the encoder; dropout acts on the larger (first).
    ``symmetry_units``: the dense branch over the 269 symmetry features; ``head_units``: the
    dense layer after concatenation (symmetry model), whose output is the embedding.
    ``presence_input``: append the 81-value element presence mask to the flattened slots
    (False: the paper's dense layers see the slots only). Older runs' configs lack it and
    load with the default.
    """

    filters: tuple[int, ...] = (16, 32, 4)
    kernel_size: int = 9
    pool_size: int = 4
    l2: float = 1.2e-3
    dropout: float = 0.4
    dense_units: tuple[int, int] = (32, 8)
    symmetry_units: int = 16
    head_units: int = 16
    slot_units: int = 0
    presence_input: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        known = {key: tuple(value) if isinstance(value, list) else value
                 for key, value in values.items() if key in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a run (saved as config.json).

    The departures from the paper are settings (README, "Departures from the paper"):
    ``weighting`` ("paper": class x element rarity), ``rarity_clip`` (None: the paper's
    unclipped rarity, :mod:`xanes_core.data.weights`), ``standardizer_scale`` ("energy": one
    scale per element and energy point, :class:`~xanes_core.data.preprocess.Standardizer`),
    ``label_smoothing`` (0, the default: the paper's plain cross-entropy). Older runs' configs
    lack ``rarity_clip`` and ``standardizer_scale`` and load with the defaults.
    ``ensemble``: None for one CNN (the paper's); N for N CNNs with seeds ``seed`` ..
    ``seed + N - 1``, calibrated on the validation split (:mod:`xanes_core.learn.ensemble`).
    ``task``: "binary" (topological vs trivial) or "three-class" (:mod:`xanes_core.data.classes`).
    """

    dataset: str
    model: str = "symmetry"
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 4.2e-4
    patience: int = 5
    seed: int = 0
    augment: bool = True
    label_smoothing: float = 0.0
    weighting: str | None = "class"
    rarity_clip: float | None = RARITY_CLIP
    standardizer_scale: str = "element"
    model_config: ModelConfig = field(default_factory=ModelConfig)
    ensemble: int | None = None
    task: str = BINARY

    def __post_init__(self) -> None:
        if self.model not in MODEL_TYPES:
            raise XanesError(f"Unknown model '{self.model}'; use one of {', '.join(MODEL_TYPES)}.")
        for name in ("epochs", "batch_size", "patience"):
            if int(getattr(self, name)) < 1:
                raise XanesError(f"{name.replace('_', ' ').capitalize()} must be at least 1.")
        if not self.learning_rate > 0:
            raise XanesError("The learning rate must be positive.")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise XanesError("Label smoothing must be at least 0 and below 1.")
        if self.weighting not in WEIGHTINGS:
            raise XanesError(f"Unknown weighting '{self.weighting}'; use 'paper', 'class' or none.")
        if self.rarity_clip is not None and not self.rarity_clip >= 1.0:
            raise XanesError("The rarity-weight clip must be at least 1 (or none, for no clip).")
        if self.standardizer_scale not in SCALES:
            raise XanesError(f"Unknown standardizer scale '{self.standardizer_scale}'; use 'element' or 'energy'.")
        self._check_ensemble_and_task()

    def _check_ensemble_and_task(self) -> None:
        if self.task not in TASKS:
            raise XanesError(f"Unknown task '{self.task}'; use one of {', '.join(TASKS)}.")
        if self.model in BASELINE_TYPES and (self.ensemble is not None or self.task != BINARY):
            raise XanesError(f"The {self.model} baseline is a single binary model: ensembles and the "
                             "three-class task need a CNN (symmetry or core).")
        if self.ensemble is not None and not 1 <= int(self.ensemble) <= MAX_MEMBERS:
            raise XanesError(f"An ensemble has 1 to {MAX_MEMBERS} CNNs ({self.ensemble} given).")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "model_config": self.model_config.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainingConfig":
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        known["model_config"] = ModelConfig.from_dict(values.get("model_config", {}))
        return cls(**known)

    def classifier(self) -> Any:
        """A fresh, unfitted scikit-learn-style classifier with this run's settings."""
        if self.model in BASELINE_TYPES:
            from xanes_core.learn.baselines import BASELINES

            return BASELINES[self.model](rarity_clip=self.rarity_clip, standardizer_scale=self.standardizer_scale)
        from xanes_core.learn.classifiers import CNNClassifier

        cnn = CNNClassifier(model_type=self.model, epochs=self.epochs, batch_size=self.batch_size,
                            learning_rate=self.learning_rate, patience=self.patience, seed=self.seed,
                            augment=self.augment, label_smoothing=self.label_smoothing,
                            weighting=self.weighting, rarity_clip=self.rarity_clip,
                            standardizer_scale=self.standardizer_scale, **asdict(self.model_config))
        if self.ensemble is None:
            return cnn
        from xanes_core.learn.ensemble import EnsembleClassifier

        return EnsembleClassifier(cnn, n_members=int(self.ensemble))

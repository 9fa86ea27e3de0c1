"""Predict one material from its spectra with a trained CNN run, and explain the prediction.

Flow: spectra (files already read, normalized spectra, or ``(element, energy, mu)`` arrays) ->
:func:`~xanes_core.io.normalize_for_model` (checks, training scale) -> resampling onto each
element's grid -> the run's saved standardizer -> the model. One model call scores the material
and, for the explanation, every copy of it with one element's spectrum removed.

Choices (the Predict page and the CLI show their consequences):

- **CNN runs only.** The SVM and element-only baselines are scored on a whole dataset split;
  a run of theirs given here raises :class:`~xanes_core.errors.RunError` ("run X is an svm
  baseline; prediction from files needs a CNN run") rather than half-supporting them.
- **Space group.** The ``symmetry`` model was trained with the material's space group as a
  second input. Without one it raises a XanesError asking for ``space_group`` or a CIF: an
  all-zero symmetry input is a condition the model never saw, and guessing a group would be
  worse. The ``core`` model needs none; one given to it is reported and ignored.
- **Arrays** ``(element, energy, mu)`` are taken as a *computed* K-edge spectrum (kept in its
  scale, like the Materials Project FEFF training spectra); pass a Spectrum read from a file
  for measured data so that it is normalized.
- **Contributions**: for each element, p(topological) with that element's spectrum removed
  (the element then counts as absent, as for any material without it) and the difference
  ``p_topological - p_without``: positive means the spectrum pushes towards topological.
  With a single element nothing is left after removal, so no contribution is reported.
- **Nearest training materials**: Euclidean distance in the model's penultimate-layer
  embedding (what its last layer separates), over the run's training split. Needs the run's
  dataset; if it is gone or changed, predictions still work and a warning says why none are
  listed.
"""


from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from xanes_core.analysis.materials import (
    ElementSpectrum,
    MaterialInput,
    SpectrumInput,
    material_from_dataset,
    prepare_material,
)
from xanes_core.data.dataset import CLASS_NAMES, XanesDataset
from xanes_core.data.elements import channel_index
from xanes_core.errors import DatasetError, RunError, XanesError
from xanes_core.learn.features import pack, pack_rows

if TYPE_CHECKING:
    from xanes_core.learn.runs import LoadedRun

N_NEAREST = 5
NEAREST_SPACE = "penultimate-layer embedding of the model (Euclidean), training split"


@dataclass(frozen=True)
class Contribution:
    """p(topological) without this element's spectrum, and how much the spectrum adds."""

    p_without: float
    delta: float


@dataclass(frozen=True)
class Neighbour:
    """A training material close to the prediction in the model's embedding."""

    sample_index: int
    sample_id: str
    formula: str
    label: str
    space_group: int
    distance: float


@dataclass(frozen=True, eq=False)
class Prediction:
    """Everything the Predict page and the CLI show for one material."""

    p_topological: float
    label: str
    threshold: float
    elements: tuple[str, ...]
    space_group: int | None
    contributions: dict[str, Contribution]
    contributions_note: str | None
    warnings: tuple[str, ...]
    nearest: tuple[Neighbour, ...]
    spectra: dict[str, ElementSpectrum] = field(repr=False)
    run_dir: str = ""
    model: str = ""
    nearest_space: str = NEAREST_SPACE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no arrays; coverage per element instead)."""
        return {
            "p_topological": self.p_topological,
            "label": self.label,
            "threshold": self.threshold,
            "elements": list(self.elements),
            "space_group": self.space_group,
            "contributions": {e: {"p_without": c.p_without, "delta": c.delta}
                              for e, c in self.contributions.items()},
            "contributions_note": self.contributions_note,
            "warnings": list(self.warnings),
            "coverage": {e: s.coverage for e, s in self.spectra.items()},
            "nearest": [asdict(n) for n in self.nearest],
            "nearest_space": self.nearest_space,
            "run_dir": self.run_dir,
            "model": self.model,
        }


class _TrainingReference:
    """Training-split embeddings and metadata, for the nearest-materials list."""

    def __init__(self, run: "LoadedRun", dataset: XanesDataset) -> None:
        self.samples = run.splits["train"]
        self.embedding = run.classifier.embed(pack(dataset, self.samples))
        self.metadata = dataset.metadata.iloc[self.samples].reset_index(drop=True)

    def nearest(self, point: np.ndarray, count: int) -> tuple[Neighbour, ...]:
        distance = np.linalg.norm(self.embedding - point[None, :], axis=1)
        order = np.argsort(distance, kind="stable")[:count]
        return tuple(
            Neighbour(sample_index=int(self.samples[i]), sample_id=str(self.metadata.at[i, "sample_id"]),
                      formula=str(self.metadata.at[i, "formula"]),
                      label=CLASS_NAMES[int(self.metadata.at[i, "label"])],
                      space_group=int(self.metadata.at[i, "space_group"]), distance=float(distance[i]))
            for i in order)


class Predictor:
    """A loaded CNN run, ready to predict single materials (load once, predict many times).

    ``dataset``: the run's dataset if the caller already holds it (the dashboard does);
    otherwise it is loaded from the run's config for the nearest-materials list.
    """

    def __init__(self, run_dir: str | Path, dataset: XanesDataset | None = None,
                 n_nearest: int = N_NEAREST) -> None:
        from xanes_core.learn.config import CNN_TYPES
        from xanes_core.learn.runs import check_run_dataset, load_run, load_run_dataset

        self.run = load_run(run_dir)
        if self.run.model_type not in CNN_TYPES:
            raise RunError(f"Run {self.run.run_dir.name} is an {self.run.model_type} baseline; "
                           "prediction from files needs a CNN run (symmetry or core).")
        self.model_type = self.run.model_type
        self.n_nearest = n_nearest
        self.reference: _TrainingReference | None = None
        self.reference_note: str | None = None
        try:
            if dataset is None:
                dataset = load_run_dataset(self.run)
            else:
                check_run_dataset(self.run, dataset)
            self.reference = _TrainingReference(self.run, dataset)
        except (DatasetError, RunError) as exc:
            self.reference_note = f"Nearest training materials unavailable: {exc}"

    @property
    def threshold(self) -> float:
        """The run's saved operating point (read each time: it may be changed on the Results page
        while this predictor stays loaded)."""
        from xanes_core.learn.run_settings import read_settings

        return read_settings(self.run.run_dir).threshold

    @property
    def needs_space_group(self) -> bool:
        """True for the symmetry model (a space group or CIF must come with the spectra)."""
        return self.model_type == "symmetry"

    def predict(self, spectra: Sequence[SpectrumInput], space_group: int | None = None,
                cif: str | bytes | Path | None = None) -> Prediction:
        """Score one material from its spectra (one per absorbing element); see module doc."""
        return self.predict_material(prepare_material(spectra, space_group, cif))

    def predict_sample(self, dataset: XanesDataset, sample_index: int) -> Prediction:
        """Score a material of a dataset (its stored grid spectra; its space group if the model uses it)."""
        material = material_from_dataset(dataset, sample_index)
        if not self.needs_space_group:  # a core run would otherwise warn that it ignores the dataset's own value
            material = replace(material, space_group=None)
        return self.predict_material(material)

    def predict_material(self, material: MaterialInput) -> Prediction:
        """Score a prepared material (see :func:`prepare_material`)."""
        messages = list(material.warnings)
        space_group = material.space_group
        if space_group is None and self.needs_space_group:
            raise XanesError("This run's symmetry model also needs the material's space group: give "
                             "a space group number or a CIF (a core run predicts from spectra alone).")
        if space_group is not None and not self.needs_space_group:
            messages.append(f"The {self.model_type} model does not use the space group ({space_group}).")
        entries = material.spectra
        for entry in entries:
            if not self.run.standardizer.fitted[channel_index(entry.element)]:
                messages.append(f"{entry.element}: no training material has this element; the model "
                                "has never seen its spectra, so treat the result with care.")
        probabilities, embedding = self._score(entries, space_group)
        p, threshold = float(probabilities[0]), self.threshold
        contributions = ({e.element: Contribution(float(q), p - float(q))
                          for e, q in zip(entries, probabilities[1:])} if len(entries) > 1 else {})
        note = None if len(entries) > 1 else (
            "Contributions need at least two elements: removing the only spectrum leaves no input.")
        if self.reference is None:
            messages.append(self.reference_note or "Nearest training materials unavailable.")
            nearest: tuple[Neighbour, ...] = ()
        else:
            nearest = self.reference.nearest(embedding, self.n_nearest)
        return Prediction(
            p_topological=p, label=CLASS_NAMES[int(p >= threshold)], threshold=threshold,
            elements=tuple(e.element for e in entries), space_group=space_group,
            contributions=contributions, contributions_note=note, warnings=tuple(messages),
            nearest=nearest, spectra={e.element: e for e in entries},
            run_dir=str(self.run.run_dir), model=self.model_type)

    def _score(self, entries: Sequence[ElementSpectrum],
               space_group: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of [the material, the material without element 1, ...] in one batch,
        and the material's embedding."""
        channels = np.array([channel_index(e.element) for e in entries], dtype=np.int64)
        spectra = np.stack([e.mu for e in entries])
        n = len(entries)
        variants = [np.arange(n)] + ([np.delete(np.arange(n), k) for k in range(n)] if n > 1 else [])
        picked = np.concatenate(variants)
        row_sample = np.repeat(np.arange(len(variants)), [v.size for v in variants])
        groups = None if space_group is None else np.full(len(variants), space_group)
        X = pack_rows(spectra[picked], channels[picked], row_sample, len(variants), groups)
        probabilities, embedding = self.run.classifier.predict_with_embedding(X)
        return probabilities, embedding[0]

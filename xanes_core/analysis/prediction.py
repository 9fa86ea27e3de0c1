"""Predict one material from its spectra with a trained CNN run, and explain the prediction.

Flow: spectra (files already read, normalized spectra, or ``(element, energy, mu)`` arrays) ->
:func:`~xanes_core.io.normalize_for_model` (checks, training scale) -> resampling onto each
element's grid -> the run's saved standardizer -> the model. One model call scores the material
and, for the explanation, every copy of it with one element removed and with one element's
spectrum made class-neutral.

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
- **Contributions** (:mod:`xanes_core.analysis.contributions`): for each element, the effect of
  its spectrum (replaced by the element's class-neutral mean training spectrum, the element kept
  present) and the effect of its presence (removed altogether vs present with that neutral
  spectrum); their sum is the leave-one-out ``delta`` reported alone before. Positive pushes
  towards topological. :meth:`Predictor.attribution` says where in energy each spectrum pushes.
- **Space-group contribution** (symmetry runs with their dataset): p with the material's own
  space group minus p with the space group unknown, i.e. averaged over the training split's
  space groups with both classes weighted equally (:mod:`xanes_core.analysis.symmetry_contribution`).
- **Nearest training materials**: Euclidean distance in the model's penultimate-layer
  embedding (what its last layer separates), among the run's training materials that contain
  every uploaded element (if none does, those that share the most of them). Needs the run's
  dataset; if it is gone or changed, predictions still work and a warning says why none are
  listed.
- **Uncertainty** (ensemble runs): the probability is the calibrated mean of the run's CNNs,
  ``p_interval`` the lowest and highest of them and ``uncertainty`` their standard deviation; an
  interval wider than :data:`WIDE_INTERVAL` or one that holds the threshold (the members do not
  agree on the class) is said in words among the warnings. A single CNN has neither (None).
- **Three-class runs** are refused with one RunError: this view reports p(topological) and a
  threshold, which a three-class run does not have.
- **Trust**: before scoring, every uploaded spectrum is aligned to the training spectra of its
  element and judged against them (:mod:`xanes_core.analysis.domain`): the prediction reports
  the shift, the similarity to the nearest training spectrum, whether the material lies inside
  the training data, and the elements its formula names without a spectrum.
"""


from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from xanes_core.analysis.attribution import MaterialAttribution, class_means_for, material_attribution
from xanes_core.analysis.contributions import (
    NO_NEUTRAL_NOTE,
    ONE_ELEMENT_NOTE,
    Contribution,
    contributions,
    variants,
)
from xanes_core.analysis.domain import DomainCheck, check_spectra
from xanes_core.analysis.materials import (
    ElementSpectrum,
    MaterialInput,
    SpectrumInput,
    material_from_dataset,
    prepare_material,
)
from xanes_core.analysis.matching import SpectrumLibrary
from xanes_core.analysis.symmetry_contribution import (
    SpaceGroupPrior,
    SymmetryContribution,
    class_neutral_prior,
    symmetry_contribution,
)
from xanes_core.data.class_means import ClassMeans
from xanes_core.data.classes import BINARY
from xanes_core.data.dataset import CLASS_NAMES, XanesDataset
from xanes_core.data.elements import channel_index
from xanes_core.data.reference import REFERENCE_FILE, EnergyReference
from xanes_core.errors import DatasetError, RunError, XanesError
from xanes_core.learn.features import pack, pack_rows

if TYPE_CHECKING:
    from xanes_core.learn.runs import LoadedRun

N_NEAREST = 5
WIDE_INTERVAL = 0.2  # members' p(topological) further apart than this: an uncertain probability
NEAREST_SPACE = "penultimate-layer embedding of the model (Euclidean), training split"


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
    alignment: dict[str, float] = field(default_factory=dict)
    similarity: dict[str, float | None] = field(default_factory=dict)
    in_domain: bool | None = None
    missing_elements: tuple[str, ...] = ()
    domain_reasons: tuple[str, ...] = ()
    symmetry: SymmetryContribution | None = None
    p_interval: tuple[float, float] | None = None
    uncertainty: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no arrays; coverage per element instead)."""
        return {
            "p_topological": self.p_topological,
            "label": self.label,
            "threshold": self.threshold,
            "elements": list(self.elements),
            "space_group": self.space_group,
            "contributions": {e: c.to_dict() for e, c in self.contributions.items()},
            "contributions_note": self.contributions_note,
            "warnings": list(self.warnings),
            "coverage": {e: s.coverage for e, s in self.spectra.items()},
            "nearest": [asdict(n) for n in self.nearest],
            "nearest_space": self.nearest_space,
            "run_dir": self.run_dir,
            "model": self.model,
            "alignment": dict(self.alignment),
            "similarity": dict(self.similarity),
            "in_domain": self.in_domain,
            "missing_elements": list(self.missing_elements),
            "symmetry_contribution": asdict(self.symmetry) if self.symmetry else None,
            "p_interval": None if self.p_interval is None else list(self.p_interval),
            "uncertainty": self.uncertainty,
        }


class _TrainingNeighbours:
    """Training-split embeddings, elements and metadata, for the nearest-materials list."""

    def __init__(self, run: "LoadedRun", dataset: XanesDataset) -> None:
        self.samples = run.splits["train"]
        self.embedding = run.classifier.embed(pack(dataset, self.samples))
        self.presence = dataset.presence()[self.samples]
        self.metadata = dataset.metadata.iloc[self.samples].reset_index(drop=True)

    def nearest(self, point: np.ndarray, elements: Sequence[str], count: int) -> tuple[tuple[Neighbour, ...], str]:
        """The ``count`` closest training materials among those with the given elements, and
        what they were drawn from (for ``nearest_space``)."""
        shared = self.presence[:, [channel_index(e) for e in elements]].sum(axis=1)
        most = int(shared.max(initial=0))
        if most == 0:
            return (), f"{NEAREST_SPACE}; no training material has {', '.join(elements)}"
        pool = np.flatnonzero(shared == most)
        which = ("materials that contain " + ", ".join(elements) if most == len(elements) else
                 f"materials sharing {most} of the {len(elements)} elements (none has all)")
        distance = np.linalg.norm(self.embedding[pool] - point[None, :], axis=1)
        closest = np.argsort(distance, kind="stable")[:count]
        return tuple(self._neighbour(int(pool[k]), float(distance[k])) for k in closest), f"{NEAREST_SPACE}, {which}"

    def _neighbour(self, i: int, distance: float) -> Neighbour:
        row = self.metadata.iloc[i]
        return Neighbour(sample_index=int(self.samples[i]), sample_id=str(row["sample_id"]),
                         formula=str(row["formula"]), label=CLASS_NAMES[int(row["label"])],
                         space_group=int(row["space_group"]), distance=distance)


@dataclass(frozen=True, eq=False)
class _Prepared:
    """A material made ready for the model: aligned spectra, space group, warnings so far."""

    check: DomainCheck
    space_group: int | None
    warnings: tuple[str, ...]


class Predictor:
    """A loaded CNN run, ready to predict single materials (load once, predict many times).

    ``dataset``: the run's dataset if the caller already holds it (the dashboard does);
    otherwise it is loaded from the run's config for the nearest materials and the similarity
    of each spectrum to the training spectra.
    """

    def __init__(self, run_dir: str | Path, dataset: XanesDataset | None = None,
                 n_nearest: int = N_NEAREST) -> None:
        from xanes_core.learn.config import CNN_TYPES

        self.run = load_run_checked(run_dir, CNN_TYPES)
        self.model_type = self.run.model_type
        self.n_nearest = n_nearest
        self.neighbours: _TrainingNeighbours | None = None
        self.library: SpectrumLibrary | None = None
        self.data_note: str | None = None
        self.space_group_prior: SpaceGroupPrior | None = None
        dataset = self._training_dataset(dataset)
        self.energy_reference = _energy_reference(self.run, dataset)
        self.class_means, self.class_means_note = _class_means(self.run, dataset)
        if dataset is not None:
            self.neighbours = _TrainingNeighbours(self.run, dataset)
            self.library = SpectrumLibrary(dataset, self.run.splits["train"], means=self.energy_reference.mean)
            if self.needs_space_group:
                train = self.run.splits["train"]
                self.space_group_prior = class_neutral_prior(
                    dataset.metadata["space_group"].to_numpy()[train], dataset.labels[train])

    def _training_dataset(self, dataset: XanesDataset | None) -> XanesDataset | None:
        """The run's dataset (checked), or None with :attr:`data_note` saying why."""
        from xanes_core.learn.runs import check_run_dataset, load_run_dataset

        try:
            if dataset is None:
                dataset = load_run_dataset(self.run)
            binding = check_run_dataset(self.run, dataset)
        except (DatasetError, RunError) as exc:
            self.data_note = f"Nearest training materials unavailable: {exc}"
            return None
        self.data_note = binding.message or None  # an older run: bound by its sample count only
        return dataset

    @property
    def threshold(self) -> float:
        """The run's saved operating point (read each time: it may be changed on the Results page
        while this predictor stays loaded)."""
        from xanes_core.learn.operating_point import saved_threshold
        from xanes_core.learn.run_settings import read_settings

        return saved_threshold(read_settings(self.run.run_dir), self.run.metrics)

    @property
    def needs_space_group(self) -> bool:
        """True for the symmetry model (a space group or CIF must come with the spectra)."""
        return self.model_type == "symmetry"

    def predict(self, spectra: Sequence[SpectrumInput], space_group: int | None = None,
                cif: str | bytes | Path | None = None, formula: str | None = None,
                align: bool = True) -> Prediction:
        """Score one material from its spectra (one per absorbing element); see module doc."""
        return self.predict_material(prepare_material(spectra, space_group, cif, formula), align=align)

    def predict_sample(self, dataset: XanesDataset, sample_index: int) -> Prediction:
        """Score a material of a dataset (its stored grid spectra; its space group if the model uses it)."""
        material = material_from_dataset(dataset, sample_index)
        if not self.needs_space_group:  # a core run would otherwise warn that it ignores the dataset's own value
            material = replace(material, space_group=None)
        return self.predict_material(material)

    def predict_material(self, material: MaterialInput, align: bool = True) -> Prediction:
        """Score a prepared material (see :func:`prepare_material`); ``align=False`` keeps every
        spectrum at its own energies."""
        prepared = self.prepare(material, align)
        entries = prepared.check.spectra
        messages = list(prepared.warnings)
        probabilities, embedding, by_group, (interval, uncertainty) = self._score(entries, prepared.space_group)
        p, threshold = float(probabilities[0]), self.threshold
        symmetry = (symmetry_contribution(p, by_group, self.space_group_prior, prepared.space_group)
                    if by_group is not None else None)
        messages.extend(interval_warnings(interval, threshold, len(getattr(self.run.classifier, "members_", ()))))
        elements = tuple(e.element for e in entries)
        parts = contributions(elements, probabilities, self.class_means is not None)
        notes = [ONE_ELEMENT_NOTE] if len(entries) == 1 else []
        if self.class_means is None:
            notes.append(NO_NEUTRAL_NOTE.format(reason=self.class_means_note))
        nearest: tuple[Neighbour, ...] = ()
        space = NEAREST_SPACE
        if self.neighbours is not None:
            nearest, space = self.neighbours.nearest(embedding, elements, self.n_nearest)
        return Prediction(
            p_topological=p, label=CLASS_NAMES[int(p >= threshold)], threshold=threshold,
            elements=elements, space_group=prepared.space_group,
            contributions=parts, contributions_note=" ".join(notes) or None, warnings=tuple(messages),
            nearest=nearest, spectra={e.element: e for e in entries},
            run_dir=str(self.run.run_dir), model=self.model_type, nearest_space=space,
            alignment=prepared.check.alignment, similarity=prepared.check.similarity,
            in_domain=prepared.check.in_domain, missing_elements=material.missing_elements,
            domain_reasons=prepared.check.reasons, symmetry=symmetry, p_interval=interval,
            uncertainty=uncertainty)

    def prepare(self, material: MaterialInput, align: bool = True) -> _Prepared:
        """Settle the space group, align and judge the spectra; no model call yet."""
        messages = list(material.warnings)
        space_group = material.space_group
        if space_group is None and self.needs_space_group:
            raise XanesError("This run's symmetry model also needs the material's space group: give "
                             "a space group number or a CIF (a core run predicts from spectra alone).")
        if space_group is not None and not self.needs_space_group:
            messages.append(f"The {self.model_type} model does not use the space group ({space_group}).")
        check = check_spectra(material.spectra, self.energy_reference, self.library, align)
        data = (self.data_note,) if self.data_note else ()  # the run's dataset: changed, gone, or an older binding
        return _Prepared(check, space_group, tuple(messages) + check.warnings + data)

    def probabilities(self, prepared: Sequence[_Prepared]) -> np.ndarray:
        """p(topological) of many prepared materials in one model call (batch prediction)."""
        entries = [p.check.spectra for p in prepared]
        channels = np.array([channel_index(e.element) for group in entries for e in group], dtype=np.int64)
        spectra = np.stack([e.mu for group in entries for e in group])
        row_sample = np.repeat(np.arange(len(entries)), [len(group) for group in entries])
        groups = (None if not self.needs_space_group
                  else np.array([p.space_group for p in prepared], dtype=np.int64))
        X = pack_rows(spectra, channels, row_sample, len(entries), groups)
        return self.run.classifier.predict_proba(X)[:, 1]

    def attribution(self, prediction: Prediction) -> MaterialAttribution:
        """Where in energy each spectrum of a prediction pushes (integrated gradients from the
        class-neutral spectra, :mod:`xanes_core.analysis.attribution`); RunError without class means."""
        if self.class_means is None:
            raise RunError(f"Attribution over energy is unavailable for this run: {self.class_means_note}")
        space_group = prediction.space_group if self.needs_space_group else None
        return material_attribution(self.run.classifier, list(prediction.spectra.values()), space_group,
                                    self.class_means)

    def _score(self, entries: Sequence[ElementSpectrum], space_group: int | None) -> tuple[
            np.ndarray, np.ndarray, np.ndarray | None, tuple[tuple[float, float] | None, float | None]]:
        """In one batch: probabilities of the material and of its variants
        (:func:`~xanes_core.analysis.contributions.variants`), the material's embedding, (symmetry
        runs with a space-group prior) p of the material's spectra with each space group of the
        prior, and (an ensemble of two or more CNNs) the material's member range and spread."""
        neutral = self.class_means.neutral() if self.class_means is not None else None
        X = variants(np.stack([e.mu for e in entries]), [e.element for e in entries], space_group, neutral)
        own = len(X)
        prior = self.space_group_prior if space_group is not None else None
        if prior is not None:
            by_group = np.repeat(X[:1], prior.groups.size, axis=0)
            by_group[:, 0] = prior.groups  # column 0 of packed X is the space group
            X = np.concatenate([X, by_group])
        classifier = self.run.classifier
        if len(getattr(classifier, "members_", ())) < 2:
            probabilities, embedding = classifier.predict_with_embedding(X)
            spread = (None, None)
        else:
            output, embedding = classifier.distribution_with_embedding(X)
            probabilities = output.probability[:, 1]
            spread = ((float(output.low[0, 1]), float(output.high[0, 1])), float(output.spread[0, 1]))
        return probabilities[:own], embedding[0], (probabilities[own:] if prior is not None else None), spread


def interval_warnings(interval: tuple[float, float] | None, threshold: float, members: int) -> list[str]:
    """The words for an uncertain probability: members far apart, or on both sides of the threshold."""
    if interval is None:
        return []
    low, high = interval
    found = []
    if high - low > WIDE_INTERVAL:
        found.append(f"Wide interval: the {members} CNNs of this run give p(topological) from {low:.0%} to "
                     f"{high:.0%}; the probability is uncertain (the members were trained alike but for their seed).")
    if low < threshold <= high:
        found.append(f"The {members} CNNs disagree on the class: their probabilities fall on both sides of the "
                     f"threshold {threshold:.2f}.")
    return found


def load_run_checked(run_dir: str | Path, cnn_types: Sequence[str]) -> "LoadedRun":
    """The run, refused unless it is a binary CNN run (baselines score whole dataset splits; a
    three-class run has no p(topological) threshold to predict with)."""
    from xanes_core.learn.runs import load_run

    run = load_run(run_dir)
    if run.model_type not in cnn_types:
        raise RunError(f"Run {run.run_dir.name} is an {run.model_type} baseline; "
                       "prediction from files needs a CNN run (symmetry or core).")
    if run.task != BINARY:
        raise RunError(f"Run {run.run_dir.name} was trained for three classes (trivial, topological insulator, "
                       "topological semimetal); prediction from files needs a binary run (its Results page shows "
                       "the three-class scores).")
    return run


def _energy_reference(run: "LoadedRun", dataset: XanesDataset | None) -> EnergyReference:
    """The run's stored energy reference; for a run saved before it existed, the training
    split's (or, without the dataset, the standardizer's training means with no thresholds)."""
    try:
        return EnergyReference.load(run.run_dir / REFERENCE_FILE)
    except RunError:
        if dataset is not None:
            return EnergyReference.fit_dataset(dataset, run.splits["train"])
        standardizer = run.standardizer
        return EnergyReference(mean=standardizer.mean, count=standardizer.fitted.astype(np.int64),
                               threshold=np.full(len(standardizer.fitted), np.nan, dtype=np.float32),
                               pooled_threshold=float("nan"))


def _class_means(run: "LoadedRun", dataset: XanesDataset | None) -> tuple[ClassMeans | None, str]:
    """The run's class means (cached in its folder, or from its dataset), or None and why not."""
    try:
        return class_means_for(run, dataset), ""
    except (DatasetError, RunError) as exc:
        return None, str(exc).rstrip(".")

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

import warnings as pywarnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS, channel_index, energy_grid
from xanes_core.errors import DatasetError, RunError, XanesError
from xanes_core.io import NormalizedSpectrum, Spectrum, normalize_for_model, read_spectrum
from xanes_core.io.spectrum import ParsedSpectrum, build_spectrum
from xanes_core.data.preprocess import resample
from xanes_core.data.symmetry import validate_space_group

if TYPE_CHECKING:
    from xanes_core.learn.model import CNNClassifier
    from xanes_core.learn.runs import LoadedRun

SpectrumInput = Spectrum | NormalizedSpectrum | tuple[str, Sequence[float], Sequence[float]]
CLASS_NAMES = {1: "topological", 0: "trivial"}
N_NEAREST = 5
MAX_CIF_BYTES = 5_000_000
# MP's own symmetry tolerance: the training labels' space groups come from MP structures.
CIF_SYMPREC = 0.1
NEAREST_SPACE = "penultimate-layer embedding of the model (Euclidean), training split"


@dataclass(frozen=True, eq=False)
class ElementSpectrum:
    """One element's spectrum as the model sees it, before standardization.

    ``energy``/``mu``: the element's 200-point grid and the resampled spectrum, on the same
    scale as the dataset's stored spectra (plot them next to training spectra). ``normalized``
    keeps the raw and normalized curves of an uploaded file; None for a dataset sample.
    """

    element: str
    name: str
    energy: np.ndarray
    mu: np.ndarray
    coverage: float
    normalized: NormalizedSpectrum | None = None


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


def space_group_from_cif(cif: str | bytes | Path) -> tuple[int, str]:
    """(space group number, reduced formula) of a CIF: str/bytes are CIF text, a Path a file.

    Untrusted text goes to pymatgen's parser, which raises many exception types on broken
    input; every one of them becomes a one-line XanesError.
    """
    from pymatgen.core import Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    if isinstance(cif, Path):
        if not cif.is_file():
            raise XanesError(f"{cif.name}: no such CIF file.")
        if cif.stat().st_size > MAX_CIF_BYTES:
            raise XanesError(f"{cif.name}: over the {MAX_CIF_BYTES / 1e6:.0f} MB limit for CIF files.")
        cif = cif.read_bytes()
    text = cif.decode("utf-8", errors="replace") if isinstance(cif, bytes) else cif
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            structure = Structure.from_str(text, fmt="cif")
            number = SpacegroupAnalyzer(structure, symprec=CIF_SYMPREC).get_space_group_number()
    except Exception as exc:  # noqa: BLE001 - see docstring: any parser failure is a user error
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise XanesError(f"The CIF could not be read as a crystal structure ({detail}).") from None
    return validate_space_group(number), structure.composition.reduced_formula


def _as_normalized(item: SpectrumInput) -> tuple[NormalizedSpectrum, str]:
    """A normalized spectrum and a display name from any accepted input."""
    if isinstance(item, NormalizedSpectrum):
        return item, item.element
    if isinstance(item, Spectrum):
        return normalize_for_model(item), item.name
    if isinstance(item, tuple) and len(item) == 3:
        element, energy, mu = item
        name = f"{element} arrays"
        parsed = ParsedSpectrum(energy=np.asarray(energy, dtype=np.float64),
                                mu=np.asarray(mu, dtype=np.float64), source_format="arrays",
                                name=name, is_computed=True, edge="K")
        return normalize_for_model(build_spectrum(parsed, element=str(element))), name
    raise XanesError("Each spectrum must be a Spectrum, a NormalizedSpectrum or "
                     "(element, energy, mu).")


@dataclass(frozen=True, eq=False)
class MaterialInput:
    """One material as the model takes it: checked spectra, space group, warnings so far.

    Built by :func:`prepare_material` without loading any model, so that every problem with
    the user's files, space group or CIF is reported before a run is loaded.
    """

    spectra: tuple[ElementSpectrum, ...]
    space_group: int | None
    warnings: tuple[str, ...]


def material_from_dataset(dataset: XanesDataset, index: int) -> MaterialInput:
    """A dataset material as the model sees it: its stored grid spectra and its space group.

    One definition for the Predict page, which shows a material's spectra before any run exists,
    and for :meth:`Predictor.predict_sample`, which scores the same material.
    """
    if not 0 <= index < dataset.n_samples:
        raise XanesError(f"Sample {index} is not in the dataset (0-{dataset.n_samples - 1}).")
    row = dataset.metadata.iloc[index]
    entries = tuple(
        ElementSpectrum(CHANNELS[int(dataset.channel[r])], str(row["sample_id"]),
                        dataset.grids[int(dataset.channel[r])], dataset.spectra[r], float(dataset.coverage[r]))
        for r in dataset.rows_for_samples([index]))
    return MaterialInput(entries, int(row["space_group"]), ())


def prepare_material(spectra: Sequence[SpectrumInput], space_group: int | str | None = None,
                     cif: str | bytes | Path | None = None) -> MaterialInput:
    """Normalize and resample every spectrum, settle the space group, collect warnings.

    Refuses an empty list, an element given twice, a space group outside 1-230, a malformed
    CIF and a space group given together with a CIF.
    """
    if not spectra:
        raise XanesError("Give at least one spectrum (one per absorbing element of the material).")
    if space_group is not None and cif is not None:
        raise XanesError("Give either a space group or a CIF, not both.")
    entries: list[ElementSpectrum] = []
    messages: list[str] = []
    for item in spectra:
        normalized, name = _as_normalized(item)
        mu, coverage = resample(normalized.energy, normalized.mu_norm, normalized.element)
        messages.extend(f"{name}: {text}" for text in normalized.warnings)
        entries.append(ElementSpectrum(normalized.element, name, energy_grid(normalized.element),
                                       mu, coverage, normalized))
    _check_unique(entries)
    number = validate_space_group(space_group) if space_group is not None else None
    if cif is not None:
        number, formula = space_group_from_cif(cif)
        missing = sorted({e.element for e in entries} - set(_formula_elements(formula)))
        if missing:
            messages.append(f"The CIF ({formula}) has no {', '.join(missing)}: is it the same material?")
    return MaterialInput(tuple(entries), number, tuple(messages))


def _formula_elements(formula: str) -> list[str]:
    from pymatgen.core import Composition

    return [element.symbol for element in Composition(formula).elements]


def _check_unique(entries: Sequence[ElementSpectrum]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.element in seen:
            raise XanesError(f"{entry.element} is given twice ({seen[entry.element]} and "
                             f"{entry.name}); give one spectrum per absorbing element.")
        seen[entry.element] = entry.name


class _TrainingReference:
    """Training-split embeddings and metadata, for the nearest-materials list."""

    def __init__(self, run: "LoadedRun", classifier: "CNNClassifier", dataset: XanesDataset) -> None:
        from xanes_core.learn.model import EncodedSpectra

        if dataset.n_samples != run.config.get("dataset_samples"):
            raise RunError(f"the dataset has {dataset.n_samples} samples; run {run.run_dir.name} "
                           f"was trained on one with {run.config.get('dataset_samples')}.")
        self.samples = run.splits["train"]
        self.embedding = classifier.embed(EncodedSpectra(dataset, run.standardizer), self.samples)
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
        import keras

        from xanes_core.learn.evaluation import THRESHOLD, load_run_dataset
        from xanes_core.learn.model import EMBEDDING_LAYER, CNNClassifier
        from xanes_core.learn.runs import load_run

        self.run = load_run(run_dir)
        classifier = self.run.classifier
        if not isinstance(classifier, CNNClassifier):
            raise RunError(f"Run {self.run.run_dir.name} is an {self.run.model_type} baseline; "
                           "prediction from files needs a CNN run (symmetry or core).")
        self.model_type = self.run.model_type
        self.threshold = float(self.run.config.get("threshold", THRESHOLD))
        self.n_nearest = n_nearest
        model = classifier.model
        # One call gives the probability and the embedding for the nearest materials.
        self._scorer = keras.Model(model.inputs, [model.output, model.get_layer(EMBEDDING_LAYER).output])
        self.reference: _TrainingReference | None = None
        self.reference_note: str | None = None
        try:
            dataset = dataset if dataset is not None else load_run_dataset(self.run)
            self.reference = _TrainingReference(self.run, classifier, dataset)
        except (DatasetError, RunError) as exc:
            self.reference_note = f"Nearest training materials unavailable: {exc}"

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
        p = float(probabilities[0])
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
            p_topological=p, label=CLASS_NAMES[int(p >= self.threshold)], threshold=self.threshold,
            elements=tuple(e.element for e in entries), space_group=space_group,
            contributions=contributions, contributions_note=note, warnings=tuple(messages),
            nearest=nearest, spectra={e.element: e for e in entries},
            run_dir=str(self.run.run_dir), model=self.model_type)

    def _score(self, entries: Sequence[ElementSpectrum],
               space_group: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of [the material, the material without element 1, ...] in one batch,
        and the material's embedding."""
        from xanes_core.learn.model import make_inputs

        channels = np.array([channel_index(e.element) for e in entries], dtype=np.int64)
        rows = self.run.standardizer.transform(np.stack([e.mu for e in entries]), channels)
        n = len(entries)
        variants = [np.arange(n)] + ([np.delete(np.arange(n), k) for k in range(n)] if n > 1 else [])
        picked = np.concatenate(variants)
        row_sample = np.repeat(np.arange(len(variants)), [v.size for v in variants])
        groups = None if space_group is None else np.full(len(variants), space_group)
        inputs = make_inputs(rows[picked], channels[picked], row_sample, len(variants), groups)
        if not self.needs_space_group:
            del inputs["symmetry"]
        probabilities, embedding = self._scorer(inputs, training=False)
        return np.asarray(probabilities).ravel(), np.asarray(embedding)[0]


def run_predict_command(run_dir: str, files: Sequence[str], space_group: str | None = None,
                        cif: str | None = None) -> dict[str, Any]:
    """``python -m xanes_core predict``: read the files, predict, return the JSON object.

    Files, space group and CIF are checked before the run is loaded, so these user errors
    are reported without first importing TensorFlow (and its start-up log lines on stderr).
    """
    material = prepare_material([read_spectrum(path) for path in files], space_group,
                                Path(cif) if cif is not None else None)
    return Predictor(run_dir).predict_material(material).to_dict()

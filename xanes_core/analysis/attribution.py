"""Attribution over energy: which energies of each element's spectrum push a CNN run towards
topological or trivial (the *spectral indicators* of the paper's title).

**Method: integrated gradients** (Sundararajan et al. 2017) of p(topological) with respect to
the spectra, from the **class-neutral baseline** (:mod:`xanes_core.data.class_means`: each
spectrum replaced by its element's class-neutral mean training spectrum, elements and space
group kept), 32 midpoint steps (:mod:`xanes_core.learn.gradients`). Chosen over occluding
energy windows because

- it resolves every grid point (0.38 eV) instead of a window's width, at a fixed cost of 32
  gradient passes per material, where occlusion at that resolution would need 200 model calls
  per spectrum;
- it is *complete*: per material, the attributions over all energies and elements add up to
  p(material) - p(every spectrum class-neutral), the spectra's whole effect with presence and
  symmetry held fixed (each run records how closely: ``completeness_error``);
- its path runs between two spectra the model has seen the like of, where a window replaced by
  the baseline leaves steps at its edges that no training spectrum has.

Positive values push towards topological, negative towards trivial, in units of probability.
Known limits: gradients of a ReLU network are piecewise constant, so 32 steps leave a small
quadrature error; an attribution says what *this model* uses, not what physics would allow; on
an element whose spectra are flat on their grid (in the demo from Ta on: FEFF's window lies above
the grid) it spreads evenly over the grid and says how much the one held value matters, not where.

**Storage.** A split's attribution is computed on demand (``python -m xanes_core attribute``,
the Results page's button) and cached in the run folder as ``attribution-<split>.npz``
(channel-stamped, versioned, written atomically): per element channel and true class, the sums
of the signed and of the absolute attributions and the number of spectra. The report and the
Results page read only that file; a run without it gets one line saying how to make it.
Baseline runs have none: the SVM has no gradient path here and the elements baseline reads no
spectra, and :func:`check_attributable` says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from xanes_core.data.class_means import CLASS_MEANS_FILE, ClassMeans
from xanes_core.data.classes import BINARY
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS, channel_index, energy_grid
from xanes_core.data.preprocess import load_channel_arrays, save_channel_arrays
from xanes_core.errors import RunError
from xanes_core.io.detect import find_e0
from xanes_core.learn.features import pack, pack_rows, unpack

if TYPE_CHECKING:
    from xanes_core.analysis.materials import ElementSpectrum
    from xanes_core.learn.runs import LoadedRun, RunRecord

ATTRIBUTION_VERSION = 1
STEPS = 32
TARGET = 1  # the explained output: p(topological)
EDGE_MARGIN_EV = 3.0
_SCALARS = ("n_samples", "steps", "completeness_error", "spectra_effect", "seconds", "is_demo",
            "dataset_samples", "version")


class AttributionMissing(RunError):
    """A run has no attribution data for a split yet (it is computed on demand)."""


def attribution_path(run_dir: str | Path, split: str) -> Path:
    return Path(run_dir) / f"attribution-{split}.npz"


def check_attributable(record: "RunRecord") -> None:
    """RunError unless the run is a CNN run (see module doc for baselines)."""
    from xanes_core.learn.config import CNN_TYPES

    if record.model_type not in CNN_TYPES:
        reason = ("its elements baseline reads no spectra" if record.model_type == "elements" else
                  "an SVM has no gradient with respect to the spectra here")
        raise RunError(f"Run {record.run_dir.name} is an {record.model_type} baseline: attribution over energy "
                       f"needs a CNN run (symmetry or core); {reason}.")
    if record.task != BINARY:
        raise RunError(f"Run {record.run_dir.name} was trained for three classes: attribution over energy explains "
                       "p(topological) of a binary run (topological vs trivial).")


@dataclass(frozen=True, eq=False)
class SplitAttribution:
    """A split's attributions summed per element channel and true class (see module doc).

    ``signed``/``magnitude`` (81, K, 200): sums of the attributions and of their absolute
    values over the spectra of materials of class ``classes[k]``; ``count`` (81, K) spectra.
    ``completeness_error``: mean |sum of a material's attributions - its spectra effect|;
    ``spectra_effect``: mean |p(material) - p(class-neutral spectra)|, for scale.
    """

    split: str
    classes: np.ndarray
    signed: np.ndarray
    magnitude: np.ndarray
    count: np.ndarray
    n_samples: int
    steps: int
    completeness_error: float
    spectra_effect: float
    seconds: float
    is_demo: bool
    dataset_samples: int

    def n_spectra(self, element: str) -> int:
        return int(self.count[channel_index(element)].sum())

    def mean_attribution(self, element: str, label: int) -> np.ndarray | None:
        """(200,) mean signed attribution over the split's ``element`` spectra of class ``label``."""
        channel, k = channel_index(element), int(np.flatnonzero(self.classes == label)[0])
        n = self.count[channel, k]
        return self.signed[channel, k] / n if n else None

    def magnitude_profile(self, element: str) -> np.ndarray:
        """(200,) summed absolute attribution of ``element`` over every class."""
        return self.magnitude[channel_index(element)].sum(axis=0)

    def mass_per_spectrum(self, element: str) -> float | None:
        """How spectrally informative ``element`` is: absolute attribution per spectrum of it."""
        n = self.n_spectra(element)
        return float(self.magnitude_profile(element).sum() / n) if n else None

    def save(self, path: str | Path) -> None:
        scalars = {name: np.asarray(getattr(self, name)) for name in _SCALARS if name != "version"}
        save_channel_arrays(path, split=np.asarray(self.split), classes=self.classes, signed=self.signed,
                            magnitude=self.magnitude, count=self.count, version=np.int64(ATTRIBUTION_VERSION),
                            **scalars)

    @classmethod
    def load(cls, path: str | Path) -> "SplitAttribution":
        arrays = load_channel_arrays(path, ("split", "classes", "signed", "magnitude", "count", *_SCALARS),
                                     "Attribution data")
        if int(arrays.pop("version")) != ATTRIBUTION_VERSION:
            raise RunError(f"{path} was written by another version of this tool; compute it again.")
        k = len(arrays["classes"])
        if (arrays["signed"].shape != (N_CHANNELS, k, GRID_POINTS) or arrays["magnitude"].shape != arrays["signed"].shape
                or arrays["count"].shape != (N_CHANNELS, k)):
            raise RunError(f"{path} is damaged: its arrays do not have the attribution's shapes.")
        kinds = {"split": str, "n_samples": int, "steps": int, "is_demo": bool, "dataset_samples": int}
        values = {name: kinds.get(name, float)(arrays[name]) for name in ("split", *_SCALARS[:-1])}
        return cls(classes=arrays["classes"], signed=arrays["signed"], magnitude=arrays["magnitude"],
                   count=arrays["count"], **values)


def e0_reference(means: ClassMeans, element: str) -> float | None:
    """The element's E0 reference (eV): the derivative maximum of its class-neutral training
    spectrum. None when the run saw no such spectrum, when it is flat on the grid, or when the
    maximum lies within :data:`EDGE_MARGIN_EV` of the grid's end (the edge is beyond it: in the
    demo from Hf on, where only a few spectra reach into the grid's last eV)."""
    if not means.seen(element) or means.is_flat(element):
        return None
    grid = energy_grid(element)
    e0 = find_e0(grid, means.neutral()[channel_index(element)].astype(np.float64))
    return None if e0 > grid[-1] - EDGE_MARGIN_EV else e0


def neutral_copy(X: np.ndarray, neutral: np.ndarray, slots: np.ndarray | None = None) -> np.ndarray:
    """Packed ``X`` with spectra replaced by their element's class-neutral spectrum: every slot,
    or only where ``slots`` (n, W) is True. Channels and space groups are kept."""
    out = np.array(X, copy=True)
    materials = unpack(out)
    chosen = materials.valid if slots is None else materials.valid & slots
    materials.spectra[chosen] = neutral[materials.channels[chosen]]
    return out


def class_means_for(run: "RunRecord", dataset: XanesDataset | None = None) -> ClassMeans:
    """The run's training class means: from its folder, else computed from its dataset and saved
    there (a folder that cannot be written is left as it is). RunError/DatasetError when neither."""
    from xanes_core.learn.runs import check_run_dataset, load_run_dataset, load_splits

    path = run.run_dir / CLASS_MEANS_FILE
    if path.is_file():
        return ClassMeans.load(path)
    if dataset is None:
        dataset = load_run_dataset(run)
    check_run_dataset(run, dataset)
    means = ClassMeans.fit_dataset(dataset, load_splits(run.run_dir)["train"])
    try:
        means.save(path)
    except OSError:
        pass  # a read-only run folder: the means are recomputed next time
    return means


def read_split_attribution(run_dir: str | Path, split: str = "test") -> SplitAttribution:
    """The cached attribution of a split; AttributionMissing (one line) when there is none."""
    path = attribution_path(run_dir, split)
    if not path.is_file():
        raise AttributionMissing(
            f"Run {Path(run_dir).name} has no attribution data for its {split} split yet: compute it with "
            f"`python -m xanes_core attribute {run_dir} --split {split}` or on the Results page.")
    return SplitAttribution.load(path)


def read_explained(run_dir: str | Path, split: str = "test") -> tuple[SplitAttribution, ClassMeans]:
    """A split's cached attribution and the run's class means: no model, no dataset (report,
    Results page). AttributionMissing when the split has not been attributed yet."""
    attribution = read_split_attribution(run_dir, split)
    return attribution, ClassMeans.load(Path(run_dir) / CLASS_MEANS_FILE)


def split_attribution(run_dir: str | Path, split: str = "test", dataset: XanesDataset | None = None,
                      steps: int = STEPS) -> SplitAttribution:
    """The split's attribution: cached, or computed (the run's model and dataset loaded) and cached."""
    from xanes_core.learn.runs import (
        check_run_dataset,
        load_run,
        load_run_dataset,
        read_run,
    )

    check_attributable(read_run(run_dir))
    try:
        return read_split_attribution(run_dir, split)
    except AttributionMissing:
        pass
    run = load_run(run_dir)
    if dataset is None:
        dataset = load_run_dataset(run)
    check_run_dataset(run, dataset)
    result = attribute_split(run, dataset, split, class_means_for(run, dataset), steps)
    result.save(attribution_path(run.run_dir, split))
    return result


def attribute_split(run: "LoadedRun", dataset: XanesDataset, split: str, means: ClassMeans,
                    steps: int = STEPS) -> SplitAttribution:
    """Integrated gradients of every material of ``split`` (see module doc), summed per element and class."""
    from xanes_core.learn.gradients import integrated_gradients

    if split not in run.splits:
        raise RunError(f"Unknown split '{split}'; use one of {', '.join(run.splits)}.")
    started = time.perf_counter()
    samples = run.splits[split]
    X = pack(dataset, samples)
    baseline = neutral_copy(X, means.neutral())
    attributions = integrated_gradients(run.classifier, X, baseline, TARGET, steps)
    effect = run.classifier.predict_proba(X)[:, TARGET] - run.classifier.predict_proba(baseline)[:, TARGET]
    materials = unpack(X)
    rows, slots = np.nonzero(materials.valid)
    label_index = {int(label): k for k, label in enumerate(means.classes)}
    classes = np.array([label_index[int(label)] for label in dataset.labels[samples[rows]]], dtype=np.int64)
    channels = materials.channels[rows, slots]
    signed = np.zeros((N_CHANNELS, len(means.classes), GRID_POINTS), dtype=np.float64)
    magnitude = np.zeros_like(signed)
    np.add.at(signed, (channels, classes), attributions[rows, slots])
    np.add.at(magnitude, (channels, classes), np.abs(attributions[rows, slots]))
    count = np.zeros((N_CHANNELS, len(means.classes)), dtype=np.int64)
    np.add.at(count, (channels, classes), 1)
    gap = np.abs(attributions.sum(axis=(1, 2)) - effect)
    return SplitAttribution(
        split=split, classes=means.classes, signed=signed, magnitude=magnitude, count=count,
        n_samples=int(samples.size), steps=steps, completeness_error=float(gap.mean()) if gap.size else 0.0,
        spectra_effect=float(np.abs(effect).mean()) if effect.size else 0.0,
        seconds=time.perf_counter() - started, is_demo=dataset.is_demo, dataset_samples=dataset.n_samples)


@dataclass(frozen=True, eq=False)
class MaterialAttribution:
    """One material's attribution: element -> (200,) values; ``p``: p(topological) of the
    material, ``p_neutral``: with every spectrum class-neutral (their difference is the sum)."""

    values: dict[str, np.ndarray]
    p: float
    p_neutral: float


def material_attribution(classifier: Any, entries: Sequence["ElementSpectrum"], space_group: int | None,
                         means: ClassMeans, steps: int = STEPS) -> MaterialAttribution:
    """Integrated gradients of one material's spectra (as the model saw them: aligned, on grid)."""
    from xanes_core.learn.gradients import integrated_gradients

    channels = np.array([channel_index(e.element) for e in entries], dtype=np.int64)
    groups = None if space_group is None else np.array([space_group])
    X = pack_rows(np.stack([e.mu for e in entries]), channels, np.zeros(len(entries), dtype=np.int64), 1, groups)
    baseline = neutral_copy(X, means.neutral())
    values = integrated_gradients(classifier, X, baseline, TARGET, steps)[0]
    p, p_neutral = classifier.predict_proba(np.concatenate([X, baseline]))[:, TARGET]
    return MaterialAttribution({e.element: values[k] for k, e in enumerate(entries)}, float(p), float(p_neutral))

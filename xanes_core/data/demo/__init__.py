"""Synthetic demo data: an honestly labelled stand-in for the paper's dataset, shaped like FEFF.

Everything here is **synthetic demo data**; it lets the whole tool work offline. The generative
model draws the class first and everything else given the class, so the generator knows the
exact posterior ``p_topological = P(topological | everything drawn)`` of every sample; the label
is, given the features, distributed exactly as Bernoulli(p_topological).

Per sample (modules in this package):

1. class and number of distinct absorbing elements: the paper's Table 1, exactly
   (:mod:`.composition`);
2. elements (conditional-Bernoulli, per-class Materiae odds shrunk halfway to pooled) and space
   group (per-class Materiae counts, shrunk likewise); crystal system and point group follow;
3. two latent properties with class-dependent means (:mod:`.posterior`): ``bonding`` sets the
   white-line height, ``bond_length`` the post-edge oscillation period;
4. each element's K-edge spectrum on its 200-point grid (:mod:`.spectra`), placed and shaped
   like Materials Project FEFF output: E0 where FEFF puts it (well above the tabulated edge for
   most elements; :mod:`.feff`), FEFF's data window with values held outside it, core-hole
   broadening growing with Z.

``p_topological`` combines the exact log-likelihood ratios of steps 1-3 (the class-independent
nuisances of step 4 cancel). Then, from a random stream of its own so that all of the above is
unchanged, each topological material is a topological insulator or semimetal (:mod:`.subclass`):
``fine_class`` and the exact posteriors ``p_topological_insulator``, ``p_topological_semimetal``
serve the three-class task. Class information lives only in the white line and the post-edge
oscillations, never in the pre-edge or the edge position: :func:`class_signal_ranges` says
where, per element. Thresholding ``p_topological`` at the prevalence (the Bayes rule for
balanced accuracy, :func:`bayes_balanced_accuracy`) is the reference for every classifier.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from xanes_core.data.classes import BINARY, THREE_CLASS, class_names
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.demo.composition import (
    PAPER_TABLE_1, class_table, draw_classes, draw_elements, draw_space_groups, element_odds, formulas,
)
from xanes_core.data.demo.config import DemoModel
from xanes_core.data.demo.feff import EnergyRange, class_signal_ranges, edge_model
from xanes_core.data.demo.posterior import bayes_balanced_accuracy, draw_latents, posterior_log_odds, probability
from xanes_core.data.demo.spectra import element_spectra
from xanes_core.data.demo.subclass import draw_subclasses, semimetal_probability
from xanes_core.data.elements import CHANNELS
from xanes_core.data.preprocess import assign_splits
from xanes_core.data.symmetry import symmetry_info
from xanes_core.errors import XanesError
from xanes_core.paths import default_demo_path

__all__ = [
    "DEFAULT_N_SAMPLES", "DEMO_SOURCE", "PAPER_TABLE_1", "DemoModel", "EnergyRange", "bayes_balanced_accuracy",
    "class_signal_ranges", "edge_model", "element_odds", "ensure_demo", "generate_demo", "task_posterior",
]

DEFAULT_N_SAMPLES = 16_458
DEMO_SOURCE = "synthetic demo"
SUBCLASS_COLUMNS = ("p_topological_insulator", "p_topological_semimetal")

Progress = Callable[[float, str], None]


def generate_demo(n_samples: int = DEFAULT_N_SAMPLES, seed: int = 0, progress: Progress | None = None,
                  model: DemoModel = DemoModel()) -> XanesDataset:
    """Build the synthetic demo dataset (deterministic for a given size, seed and model)."""
    if n_samples < 50:
        raise XanesError("The demo dataset needs at least 50 samples to fill every class and split.")
    report = progress or (lambda fraction, message: None)
    rng = np.random.default_rng(seed)
    report(0.0, "Drawing classes and compositions")
    cells = class_table(n_samples)
    labels, n_elements = draw_classes(cells, rng)
    presence = draw_elements(cells, labels, n_elements, model.composition_strength, rng)
    space_groups = draw_space_groups(labels, model.composition_strength, rng)
    bonding, bond_length = draw_latents(labels, model, rng)
    log_odds = posterior_log_odds(cells, n_elements, presence, space_groups, bonding, bond_length, model)
    arrays = _all_spectra(presence, bonding, bond_length, model, rng, report)
    metadata = _metadata(labels, n_elements, presence, space_groups, probability(log_odds), seed, rng)
    metadata = _with_subclasses(metadata, semimetal_probability(space_groups, bonding, model), seed)
    report(1.0, "Done")
    return XanesDataset(
        **arrays, metadata=metadata,
        provenance={
            "kind": "demo", "name": "synthetic demo data", "n_samples": n_samples, "seed": seed,
            "generator": "xanes_core.data.demo", "model": asdict(model),
            "priors": "element, space-group and element-count class counts of the Materiae catalogue",
            "third_class": "topological semimetals: none in triclinic groups (Materiae sample), "
                           f"{model.semimetal_share:.0%} of the other topological materials (assumed)",
            "spectra": "shaped like Materials Project FEFF K-edge XANES (xanes_core.data.demo.feff)",
        },
    )


def _all_spectra(presence: np.ndarray, bonding: np.ndarray, bond_length: np.ndarray, model: DemoModel,
                 rng: np.random.Generator, report: Progress) -> dict[str, np.ndarray]:
    """Every present element's spectra, element by element, as XanesDataset arrays."""
    parts = []
    present_channels = np.flatnonzero(presence.any(axis=0))
    for i, ch in enumerate(present_channels):
        members = np.flatnonzero(presence[:, ch])
        spectra, coverage = element_spectra(CHANNELS[ch], bonding[members], bond_length[members], model, rng)
        parts.append((spectra, members, np.full(members.size, ch), coverage))
        report(0.1 + 0.8 * (i + 1) / present_channels.size, f"Spectra for {CHANNELS[ch]}")
    names = ("spectra", "sample_index", "channel", "coverage")
    return {name: np.concatenate([part[k] for part in parts]) for k, name in enumerate(names)}


def _metadata(labels: np.ndarray, n_elements: np.ndarray, presence: np.ndarray,
              space_groups: np.ndarray, p_topological: np.ndarray, seed: int,
              rng: np.random.Generator) -> pd.DataFrame:
    """One row per sample, with the balanced train/validation/test split."""
    elements = [[CHANNELS[c] for c in np.flatnonzero(row)] for row in presence]
    info = [symmetry_info(int(sg)) for sg in space_groups]
    metadata = pd.DataFrame({
        "sample_id": [f"demo-{i + 1:05d}" for i in range(labels.size)],
        "formula": formulas(elements, rng),
        "elements": elements,
        "n_elements": n_elements.astype(np.int16),
        "space_group": space_groups.astype(np.int16),
        "crystal_system": [s.crystal_system for s in info],
        "point_group": [s.point_group for s in info],
        "label": labels,
        "source": DEMO_SOURCE,
        "p_topological": p_topological.astype(np.float64),
    })
    metadata["split"] = assign_splits(metadata, seed)
    return metadata


def _with_subclasses(metadata: pd.DataFrame, g: np.ndarray, seed: int) -> pd.DataFrame:
    """The third class (:mod:`.subclass`): each material's fine class and exact posterior of
    both topological kinds; the binary columns are left as they are."""
    p_topological = metadata["p_topological"].to_numpy()
    subclasses = draw_subclasses(metadata["label"].to_numpy(), g, seed)
    return metadata.assign(fine_class=np.asarray(class_names(THREE_CLASS), dtype=object)[subclasses],
                           **{SUBCLASS_COLUMNS[0]: p_topological * (1.0 - g), SUBCLASS_COLUMNS[1]: p_topological * g})


def ensure_demo(path: str | Path | None = None, progress: Progress | None = None) -> XanesDataset:
    """Load the default demo dataset, building and saving it first if it is not there yet."""
    path = Path(path) if path is not None else default_demo_path()
    if (path / "manifest.json").is_file():
        return XanesDataset.load(path)
    dataset = generate_demo(progress=progress)
    dataset.save(path)
    return dataset


def task_posterior(metadata: pd.DataFrame, task: str) -> np.ndarray | None:
    """The generator's exact posterior of these materials for a task: (n,) p_topological, or
    (n, 3) p(trivial), p(topological insulator), p(topological semimetal); None for materials
    that are not demo data (no such columns)."""
    if "p_topological" not in metadata.columns:
        return None
    p_topological = metadata["p_topological"].to_numpy(dtype=np.float64)
    if task == BINARY:
        return p_topological
    if not set(SUBCLASS_COLUMNS) <= set(metadata.columns):
        return None
    return np.column_stack([1.0 - p_topological, *(metadata[c].to_numpy(dtype=np.float64) for c in SUBCLASS_COLUMNS)])

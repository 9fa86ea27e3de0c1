"""Helpers of the analysis tests: tiny CNN runs on the small demo, and libraries of real spectra.

Real spectra: the 2,589 FEFF Cu K-edge spectra of Materials Project oxides in
``../shared/data/real_feff`` (see its SOURCES.md) and the measured and computed files in
``../shared/fixtures/spectra``. Libraries are datasets of unlabelled materials, as a user's own
reference library is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xanes_core.analysis.materials import prepare_material
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS, channel_index
from xanes_core.data.preprocess import resample
from xanes_core.learn.training import Trainer, TrainingConfig

UNLABELLED = -1


def train_tiny(dataset, dataset_path, model, out):
    """A 2-epoch run on the small demo dataset through the real Trainer and run registry."""
    config = TrainingConfig(dataset=str(dataset_path), model=model, epochs=2, augment=False)
    final = Trainer(config, out=out, dataset=dataset).start().join()
    assert final.status == "completed", final.message
    return out


def load_real_feff(fixtures_dir):
    """(mp_id, formula, space group, energy, mu) of the real Cu FEFF spectra (skip when absent)."""
    folder = fixtures_dir.parent / "data" / "real_feff"
    if not (folder / "cu_feff_materials.npz").is_file():
        pytest.skip(f"real FEFF Cu spectra not found in {folder}")
    with np.load(folder / "cu_feff_materials.npz", allow_pickle=False) as npz:
        ids, formulas, energy, mu = (npz[k] for k in ("mp_id", "formula", "energy", "mu"))
    groups = pd.read_csv(folder / "cu_materials_formula_sg.csv").set_index("mp_id")
    space_group = groups.reindex(ids)["spacegroup_symprec0.1"].to_numpy()
    return ids.astype(str), formulas.astype(str), space_group, energy.astype(np.float64), mu.astype(np.float64)


def feff_dataset(real_feff) -> XanesDataset:
    """The real Cu FEFF spectra as an unlabelled dataset, each resampled on the Cu grid as computed."""
    ids, formulas, groups, energy, mu = real_feff
    resampled = [resample(e, m, "Cu") for e, m in zip(energy, mu)]
    return library(ids, formulas, ["Cu"] * len(ids), [r[0] for r in resampled],
                   [r[1] for r in resampled], groups)


def library(ids, formulas, elements, spectra, coverage, space_groups=None) -> XanesDataset:
    """An unlabelled dataset of single-element materials (a reference library)."""
    n = len(ids)
    metadata = pd.DataFrame({
        "sample_id": list(ids), "formula": list(formulas), "elements": [[e] for e in elements],
        "space_group": space_groups if space_groups is not None else np.ones(n, dtype=int),
        "crystal_system": "", "point_group": "", "label": UNLABELLED, "source": "test library",
        "split": None})
    return XanesDataset(spectra=np.stack(spectra), sample_index=np.arange(n),
                        channel=[channel_index(e) for e in elements], coverage=coverage, metadata=metadata)


def library_of_files(spectra) -> XanesDataset:
    """A library of read spectrum files, prepared as the Predict page prepares uploads."""
    entries = [prepare_material([s]).spectra[0] for s in spectra]
    return library([s.name for s in spectra], [s.name for s in spectra], [e.element for e in entries],
                   [e.mu for e in entries], [e.coverage for e in entries])


def unseen_element(predictor) -> str:
    """An element with a model channel that no training material of the run has."""
    return next(e for e in CHANNELS if not predictor.energy_reference.seen(e) and e not in ("Th", "Pa", "U", "Np", "Pu"))

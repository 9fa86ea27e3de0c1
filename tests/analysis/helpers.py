"""Helpers of the analysis tests: tiny CNN runs on the small demo, and libraries of real spectra.

Real spectra: the 2,589 FEFF Cu K-edge spectra of Materials Project oxides in
``../shared/data/real_feff`` (see its SOURCES.md) and the measured and computed files in
``../shared/fixtures/spectra``. Libraries are datasets of unlabelled materials, as a user's own
reference library is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.sources.feff_files import RealFeff, load_real_feff, write_xmu
from xanes_core.analysis.materials import prepare_material
from xanes_core.data.dataset import UNLABELLED, XanesDataset
from xanes_core.data.elements import CHANNELS, channel_index
from xanes_core.learn.training import Trainer, TrainingConfig
from xanes_core.sources.local_files import MANIFEST_COLUMNS, build_local_dataset


def train_tiny(dataset, dataset_path, model, out):
    """A 2-epoch run on the small demo dataset through the real Trainer and run registry."""
    config = TrainingConfig(dataset=str(dataset_path), model=model, epochs=2, augment=False)
    final = Trainer(config, out=out, dataset=dataset).start().join()
    assert final.status == "completed", final.message
    return out


def real_feff_or_skip(fixtures_dir: Path) -> RealFeff:
    """The real Cu FEFF spectra of ``../shared/data/real_feff`` (skip when absent)."""
    folder = fixtures_dir.parent / "data" / "real_feff"
    if not (folder / "cu_feff_materials.npz").is_file():
        pytest.skip(f"real FEFF Cu spectra not found in {folder}")
    return load_real_feff(folder)


def feff_database(real_feff: RealFeff, folder: Path) -> Path:
    """The real FEFF spectra written as the ``xmu.dat`` files FEFF leaves, listed in a manifest
    without labels, and built into a dataset by ``build-dataset``: a user's own reference library."""
    lines = [",".join(MANIFEST_COLUMNS)]
    for mp_id, formula, group, energy, mu in zip(real_feff.mp_id, real_feff.formula, real_feff.space_group,
                                                 real_feff.energy, real_feff.mu):
        write_xmu(folder / "feff" / f"{mp_id}.xmu.dat", energy, mu)
        lines.append(f"{mp_id},{formula},{group},,Cu,feff/{mp_id}.xmu.dat")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    result = build_local_dataset(folder / "manifest.csv", folder / "dataset")
    assert result.n_samples == len(real_feff.mp_id), result.dropped
    return result.path


def library_of_files(spectra) -> XanesDataset:
    """An unlabelled dataset of read spectrum files (one material each, named after the file),
    prepared as the Predict page prepares uploads."""
    entries = [prepare_material([s]).spectra[0] for s in spectra]
    metadata = pd.DataFrame({
        "sample_id": [s.name for s in spectra], "formula": "", "elements": [[e.element] for e in entries],
        "space_group": 0, "crystal_system": "", "point_group": "", "label": UNLABELLED,
        "source": "test library", "split": None})
    return XanesDataset(spectra=np.stack([e.mu for e in entries]), sample_index=np.arange(len(entries)),
                        channel=[channel_index(e.element) for e in entries],
                        coverage=[e.coverage for e in entries], metadata=metadata)


def unseen_element(predictor) -> str:
    """An element with a model channel that no training material of the run has."""
    return next(e for e in CHANNELS if not predictor.energy_reference.seen(e) and e not in ("Th", "Pa", "U", "Np", "Pu"))

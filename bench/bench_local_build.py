"""build-dataset speed: 10,000 real FEFF spectra from xmu.dat files, against a same-process reference.

Input: the 2,589 real FEFF Cu K-edge spectra of ``../shared/data/real_feff`` written as FEFF
``xmu.dat`` files (as a user's own FEFF runs leave them), cycled to 10,000 files, one material
each, four in five labelled. Target (issue 10): 10,000 spectra in < 60 s.

Reference: the least any builder must do with the same files: ``np.loadtxt`` each one and
``np.interp`` its mu onto the element grid. The ratio says what the readers' checks, format
sniffing, element/edge handling, normalization, splits and the atomic save cost on top.
Prints one JSON object.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.sources.feff_files import load_real_feff, write_xmu  # noqa: E402
from xanes_core.data.elements import energy_grid  # noqa: E402
from xanes_core.sources.local_files import MANIFEST_COLUMNS, build_local_dataset  # noqa: E402

N_SPECTRA = 10_000
REAL_FEFF = REPO.parent / "shared" / "data" / "real_feff"
LABELS = ("topological", "trivial", "trivial", "trivial", "")


def write_library(folder: Path) -> Path:
    real = load_real_feff(REAL_FEFF)
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MANIFEST_COLUMNS)
        for n in range(N_SPECTRA):
            i = n % len(real.mp_id)
            name = f"spectra/{n:05d}_{real.mp_id[i]}.xmu.dat"
            write_xmu(folder / name, real.energy[i], real.mu[i])
            writer.writerow([f"{real.mp_id[i]}#{n}", real.formula[i], int(real.space_group[i]),
                             LABELS[n % len(LABELS)], "Cu", name])
    return folder / "manifest.csv"


def reference(files: list[Path]) -> float:
    grid = energy_grid("Cu")
    start = time.perf_counter()
    for path in files:
        table = np.loadtxt(path, comments="#")
        np.interp(grid, table[:, 0], table[:, 3])
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        manifest = write_library(Path(tmp))
        warm = Path(tmp) / "warm-up.csv"  # imports and table caches, not timed
        warm.write_text("".join(manifest.read_text().splitlines(keepends=True)[:21]))
        build_local_dataset(warm, Path(tmp) / "warm-up")
        start = time.perf_counter()
        result = build_local_dataset(manifest, Path(tmp) / "db")
        seconds = time.perf_counter() - start
        reference_seconds = reference(sorted((Path(tmp) / "spectra").iterdir()))
    print(json.dumps({
        "n_spectra": N_SPECTRA,
        "build_seconds": round(seconds, 2),
        "spectra_per_second": round(N_SPECTRA / seconds),
        "loadtxt_interp_same_files_seconds": round(reference_seconds, 2),
        "build_vs_reference_ratio": round(seconds / reference_seconds, 2),
        "result": {k: v for k, v in result.to_dict().items() if k != "path"},
        "target_seconds": 60,
    }, indent=2))


if __name__ == "__main__":
    main()

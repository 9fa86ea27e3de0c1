"""Demo generation, dataset load time and storage size, against same-process references.

Reference for loading: the paper's stored form, a dense (n, 200, 81) float32 array saved as
.npy and read back with np.load in the same process. Reference for generation: resampling the
same number of spectra with np.interp (the least any builder of such a dataset must do).
Prints one JSON object.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from timing import best_of
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.demo import generate_demo
from xanes_core.data.elements import energy_grid


def main() -> None:
    start = time.perf_counter()
    dataset = generate_demo()
    generation = time.perf_counter() - start

    grid = energy_grid("Fe")
    source = np.linspace(grid[0] - 5, grid[-1] + 5, 400)
    values = np.sin(source / 7.0)
    resample_reference = best_of(lambda: [np.interp(grid, source, values) for _ in range(len(dataset.spectra))], 1)

    with tempfile.TemporaryDirectory() as tmp:
        folder = dataset.save(Path(tmp) / "demo")
        sparse_bytes = sum(f.stat().st_size for f in folder.iterdir())
        load = best_of(lambda: XanesDataset.load(folder))
        dense_path = Path(tmp) / "dense.npy"
        dense = np.zeros((dataset.n_samples, 200, 81), dtype=np.float32)
        dense[dataset.sample_index, :, dataset.channel] = dataset.spectra
        np.save(dense_path, dense)
        dense_bytes = dense_path.stat().st_size
        del dense
        dense_load = best_of(lambda: np.load(dense_path))

    print(json.dumps({
        "n_samples": dataset.n_samples,
        "n_spectra": int(len(dataset.spectra)),
        "generation_seconds": round(generation, 2),
        "np_interp_resample_same_count_seconds": round(resample_reference, 2),
        "generation_vs_resample_ratio": round(generation / resample_reference, 2),
        "load_seconds": round(load, 3),
        "dense_npy_load_seconds": round(dense_load, 3),
        "load_vs_dense_ratio": round(load / dense_load, 3),
        "stored_megabytes": round(sparse_bytes / 1e6, 1),
        "dense_megabytes": round(dense_bytes / 1e6, 1),
        "stored_vs_dense_ratio": round(sparse_bytes / dense_bytes, 4),
    }, indent=2))


if __name__ == "__main__":
    main()

"""Training and prediction speed of the sparse CNN, against the paper's dense formulation.

Usage: ``python bench/bench_training.py [--steps N] [--skip-full]``; prints one JSON object
(the lead copies it into BENCHMARKS.md).

1. Full default training (symmetry model, default demo data, to early stop) through the same
   Trainer the CLI uses: seconds, epochs, peak resident memory of the process.
2. Prediction with the saved run: whole test split (first call and warm call) and one sample
   (median of 20, inputs built from (channel, spectrum) pairs as the Predictor will).
3. One training epoch over the augmented training split, sparse vs a straightforward dense
   (batch, 200, 81) Keras model of the same architecture (``build_dense_reference``), in this
   process on this machine. Both train ``--steps`` batches of 64 after a warm-up epoch of the
   same length (tracing excluded); the epoch time is steps/s extrapolated to all batches
   (``--steps 0`` times the full epoch instead). Dense batches are cut from the sparse data per
   batch from the packed materials, as any implementation that does not hold the 3 GB tensor in
   memory must.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xanes_core.data.demo import generate_demo  # noqa: E402
from xanes_core.data.elements import GRID_POINTS, N_CHANNELS  # noqa: E402
from xanes_core.data.preprocess import DEFAULT_SHIFTS_EV  # noqa: E402
from xanes_core.data.weights import sample_weights  # noqa: E402
from xanes_core.learn.architecture import build_dense_reference, build_model  # noqa: E402
from xanes_core.learn.batches import SpectraBatches  # noqa: E402
from xanes_core.learn.config import ModelConfig, TrainingConfig  # noqa: E402
from xanes_core.learn.features import (  # noqa: E402
    fit_standardizer,
    pack,
    presence,
    shifted_copies,
    standardize,
    symmetry_input,
    unpack,
)
from xanes_core.learn.runs import load_run  # noqa: E402
from xanes_core.learn.training import Trainer  # noqa: E402

BATCH = 64


class DenseBatches(keras.utils.PyDataset):
    """The dense model's input pipeline: (batch, 200, 81) built per batch from packed materials."""

    def __init__(self, X: np.ndarray, labels: np.ndarray, weights: np.ndarray, seed: int) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.X, self.labels, self.weights = X, labels, weights
        self.order = np.random.default_rng(seed).permutation(len(X))

    def __len__(self) -> int:
        return int(np.ceil(len(self.X) / BATCH))

    def __getitem__(self, index: int):
        chosen = self.order[index * BATCH:(index + 1) * BATCH]
        materials = unpack(self.X[chosen])
        dense = np.zeros((chosen.size, GRID_POINTS, N_CHANNELS), dtype=np.float32)
        rows, slots = np.nonzero(materials.valid)
        dense[rows, :, materials.channels[rows, slots]] = materials.spectra[rows, slots]
        inputs = {"dense_spectra": dense, "symmetry": symmetry_input(materials.space_groups)}
        return inputs, self.labels[chosen].astype(np.float32), self.weights[chosen]


class _EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.started


def _time_epoch(model: keras.Model, data: keras.utils.PyDataset, steps: int) -> float:
    """Seconds per full epoch, from a timed epoch of ``steps`` batches after a warm-up one."""
    model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=False)
    timer = _EpochTimer()
    steps = steps or len(data)
    model.fit(data, epochs=2, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    return timer.seconds / steps * len(data)


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="batches timed per model (0: full epoch)")
    parser.add_argument("--skip-full", action="store_true", help="skip the full training run")
    args = parser.parse_args()
    result: dict = {"cpu_count": os.cpu_count(), "batch_size": BATCH}
    work = Path(tempfile.mkdtemp(prefix="xanes-bench-"))
    dataset = generate_demo()
    dataset.save(work / "demo")

    if not args.skip_full:
        trainer = Trainer(TrainingConfig(dataset=str(work / "demo")), out=work / "run", dataset=dataset).start()
        final = trainer.join()
        result["full_training"] = {
            "status": final.status, "device": final.device, "seconds": round(final.elapsed_s, 1),
            "epochs_run": len(final.history), "test": trainer.evaluation.summary() if trainer.evaluation else None,
            "reference_balanced_accuracy": trainer.evaluation.reference_balanced_accuracy if trainer.evaluation else None,
            "peak_rss_gb": round(_peak_rss_gb(), 2),
        }
        run = load_run(work / "run")
        test = run.splits["test"]
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            run.classifier.predict_proba(pack(dataset, test))
            timings.append(time.perf_counter() - started)
        one = pack(dataset, test[:1])
        single = []
        for _ in range(20):
            started = time.perf_counter()
            run.classifier.predict_proba(one)
            single.append(time.perf_counter() - started)
        result["prediction"] = {"test_samples": int(test.size), "test_split_first_s": round(timings[0], 3),
                                "test_split_warm_s": round(timings[1], 3),
                                "one_sample_median_ms": round(1000 * float(np.median(single)), 2)}

    train = dataset.split_indices("train")
    X_train = pack(dataset, train)
    augmented = standardize(shifted_copies(X_train, DEFAULT_SHIFTS_EV), fit_standardizer(X_train))
    labels = np.tile(dataset.labels[train], len(DEFAULT_SHIFTS_EV))
    weights = sample_weights(labels, presence(augmented))
    config = ModelConfig()
    sparse_data = SpectraBatches(augmented, BATCH, "symmetry", labels, weights, shuffle=True, seed=0)
    keras.utils.set_random_seed(0)
    sparse_epoch = _time_epoch(build_model("symmetry", config), sparse_data, args.steps)
    dense_data = DenseBatches(augmented, labels, weights, seed=0)
    dense_epoch = _time_epoch(build_dense_reference("symmetry", config), dense_data, args.steps)
    result["epoch"] = {"train_samples_augmented": len(augmented), "batches": len(sparse_data),
                       "timed_steps": args.steps or len(sparse_data),
                       "sparse_epoch_s": round(sparse_epoch, 1), "dense_epoch_s": round(dense_epoch, 1),
                       "speedup": round(dense_epoch / sparse_epoch, 2)}
    result["peak_rss_gb_end"] = round(_peak_rss_gb(), 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

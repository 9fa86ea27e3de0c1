"""An ensemble of CNNs on the default demo: training time against one CNN, calibration on test.

Usage: ``python bench/bench_ensemble.py [--members N] [--task binary|three-class]``; prints one
JSON object (BENCHMARKS.md summarizes it).

1. One CNN (the default ``train``) through the Trainer the CLI uses: the reference, in this
   process, on this machine.
2. An ensemble of ``--members`` CNNs (default 5), calibrated on validation, through the same
   Trainer: seconds, ratio to the single CNN, epochs per member.
3. Test-split calibration: ECE before and after calibration, Brier score, and the ECE of the
   generator's exact posterior on the same materials (the finite-sample floor of the ECE: a
   perfectly calibrated probability does not score 0 on 3,300 materials).
4. Does the ensemble know when it is unsure: accuracy (at the run's decision) of the test
   materials in each fifth of uncertainty, lowest first.

The machine's load (1-minute load average before and after, CPUs this process may use) is
reported with the times: on a shared machine they are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xanes_core.data.demo import generate_demo, task_posterior  # noqa: E402
from xanes_core.learn.calibration import expected_calibration_error  # noqa: E402
from xanes_core.learn.config import TrainingConfig  # noqa: E402
from xanes_core.learn.training import Trainer  # noqa: E402


def _train(config: TrainingConfig, out: Path) -> tuple[float, Trainer]:
    started = time.perf_counter()
    trainer = Trainer(config, out=out).start()
    final = trainer.join()
    if final.status != "completed":
        raise SystemExit(f"training ended as {final.status}: {final.message}")
    return time.perf_counter() - started, trainer


def _by_uncertainty(metrics: dict, parts: int = 5) -> list[dict]:
    """Accuracy of the run's decisions per fifth of the test materials by uncertainty."""
    test = metrics["scores"]["test"]
    labels = np.asarray(test["label"])
    probability = np.asarray(test["probability"], dtype=float)
    uncertainty = np.asarray(test["uncertainty"], dtype=float)
    if probability.ndim == 1:
        predicted = (probability >= metrics["threshold"]).astype(int)
    else:
        prior = np.asarray(metrics["ensemble"]["class_prior"])
        predicted = (probability / prior).argmax(axis=1)
        uncertainty = uncertainty.max(axis=1)
    order = np.argsort(uncertainty, kind="stable")
    return [{"uncertainty_max": round(float(uncertainty[chunk].max()), 4),
             "accuracy": round(float((predicted[chunk] == labels[chunk]).mean()), 4), "n": int(chunk.size)}
            for chunk in np.array_split(order, parts)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--task", default="binary")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="bench-ensemble-"))
    dataset = generate_demo()
    dataset.save(folder / "demo")
    base = TrainingConfig(dataset=str(folder / "demo"), task=args.task)
    single_s, single = _train(base, folder / "single")
    ensemble_s, ensemble = _train(TrainingConfig(**{**vars(base), "ensemble": args.members}), folder / "ensemble")
    metrics = ensemble.evaluation.to_dict()
    test = dataset.split_indices("test")
    posterior = task_posterior(dataset.metadata.iloc[test], args.task)
    labels = np.asarray(metrics["scores"]["test"]["label"])
    history = json.loads((ensemble.run_dir / "history.json").read_text())
    print(json.dumps({
        "cpus_usable": len(os.sched_getaffinity(0)), "load_1min_before": load_before,
        "load_1min_after": os.getloadavg()[0], "task": args.task, "members": args.members,
        "single_cnn_s": round(single_s, 1), "single_cnn_epochs": len(single.state.snapshot().history),
        "ensemble_s": round(ensemble_s, 1), "ratio_to_single": round(ensemble_s / single_s, 2),
        "epochs_per_member": [sum(1 for e in history if e["member"] == m + 1) for m in range(args.members)],
        "single_cnn": {"balanced_accuracy": single.evaluation.test["balanced_accuracy"],
                       "ece": single.evaluation.ece, "brier": single.evaluation.brier},
        "ensemble": {"balanced_accuracy": metrics["test"]["balanced_accuracy"], "threshold": metrics["threshold"],
                     "ece": metrics["ece"], "ece_uncalibrated": metrics["ece_uncalibrated"], "brier": metrics["brier"],
                     "calibration": metrics["ensemble"]["calibration"], "roc_auc": ensemble.evaluation.roc_auc},
        "reference_balanced_accuracy": metrics["reference_balanced_accuracy"],
        "ece_of_exact_posterior": expected_calibration_error(labels, posterior),
        "accuracy_by_uncertainty": _by_uncertainty(metrics),
    }, indent=2))


if __name__ == "__main__":
    main()

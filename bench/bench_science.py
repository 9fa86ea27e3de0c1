"""The scientific bar on a demo seed no choice used: the default symmetry CNN against the
generator's own Bayes rule.

Usage: ``python bench/bench_science.py [--seed S]``; prints one JSON object (BENCHMARKS.md,
"The science check on the fresh seed").

The issue's bar is a test balanced accuracy within 4 points of the Bayes rule (the balanced
accuracy of the generator's exact ``p_topological`` at 0.5) on the full-size demo (16,458
materials) with the default training, exactly what ``train`` runs. The defaults were chosen on
the validation split of demo seed 0, so seed 7 (the default here) scores them honestly. The
result is reported, met or not, rather than asserted in the test suite: the bar is not met
today, and a test that is expected to fail cannot fail. The ordering CNN > SVM > logistic
regression, which holds, is a test (``tests/learn/test_training_science.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xanes_core.data.demo import DEFAULT_N_SAMPLES, generate_demo  # noqa: E402
from xanes_core.learn.config import TrainingConfig  # noqa: E402
from xanes_core.learn.training import Trainer  # noqa: E402

SCIENCE_SEED = 7
BAR = 0.04


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=SCIENCE_SEED, help="demo seed (default 7, used by no choice)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-science-"))
    generate_demo(n_samples=DEFAULT_N_SAMPLES, seed=args.seed).save(folder / "demo")
    started = time.perf_counter()
    trainer = Trainer(TrainingConfig(dataset=str(folder / "demo")), out=folder / "run").start()
    final = trainer.join()
    if final.status != "completed":
        sys.exit(f"training ended as {final.status}: {final.message}")
    evaluation = trainer.evaluation
    cnn, bayes = evaluation.test["balanced_accuracy"], evaluation.reference_balanced_accuracy
    print(json.dumps({
        "demo_seed": args.seed, "n_samples": DEFAULT_N_SAMPLES, "cpus_usable": len(os.sched_getaffinity(0)),
        "load_1min_after": os.getloadavg()[0], "seconds": round(time.perf_counter() - started, 1),
        "epochs_run": len(final.history), "cnn_balanced_accuracy": round(cnn, 4),
        "bayes_balanced_accuracy": round(bayes, 4), "gap": round(bayes - cnn, 4), "bar": BAR,
        "met": bool(bayes - cnn < BAR),
    }, indent=2))


if __name__ == "__main__":
    main()

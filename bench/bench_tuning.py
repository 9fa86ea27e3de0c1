"""Hyperparameter search throughput, and the search that chose the CNN's defaults.

Usage: ``python bench/bench_tuning.py [--dataset DIR] [--study NAME] [--storage URL]
[--one-worker-s S] [--two-workers-s S]``; prints one JSON object.

Runs ``python -m xanes_core tune`` workers on one study, exactly as a user would: first one
worker for ``--one-worker-s`` seconds, then two workers at once for ``--two-workers-s`` (the
same study, continued). Each phase's rate is the trials that finished in it (completed, pruned
or failed) per hour of its wall time (a phase ends when its last worker has finished the trial
it was running at the deadline). The reference, in the same study and on the same machine, is
the study's first trial: the current defaults, trained and scored on validation by the same
objective. Only the training and validation splits are used (the test split is never packed).
Default dataset: the default demo (16,458 materials), built into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xanes_core.learn.studies import load_study, trials_table  # noqa: E402


def _workers(n: int, dataset: str, study: str, storage: str | None, seconds: float) -> float:
    """Run ``n`` tune workers for ``seconds``; the wall time until the last one exits."""
    command = [sys.executable, "-m", "xanes_core", "tune", "--dataset", dataset, "--study", study,
               "--timeout", str(seconds), *(["--storage", storage] if storage else [])]
    started = time.monotonic()
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(n)]
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a tune worker failed: {err.strip().splitlines()[-1:]}")
    return time.monotonic() - started


def _phase(name: str, n: int, args: argparse.Namespace, seconds: float) -> dict:
    before = len(load_study(args.study, args.storage).get_trials()) if _exists(args) else 0
    wall = _workers(n, args.dataset, args.study, args.storage, seconds)
    finished = [t for t in load_study(args.study, args.storage).get_trials()[before:] if t.state.is_finished()]
    durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in finished]
    return {"phase": name, "workers": n, "wall_s": round(wall, 1), "trials": len(finished),
            "trials_per_hour": round(len(finished) / wall * 3600, 1),
            "trial_seconds_median": round(statistics.median(durations), 1) if durations else None,
            "trial_seconds_max": round(max(durations), 1) if durations else None}


def _exists(args: argparse.Namespace) -> bool:
    try:
        load_study(args.study, args.storage)
    except Exception:  # noqa: BLE001 - a study not made yet
        return False
    return True


def _outcome(args: argparse.Namespace) -> dict:
    table = trials_table(load_study(args.study, args.storage))
    complete = table[table["state"] == "complete"].sort_values("value", ascending=False)
    first = table[table["trial"] == 0].iloc[0]
    return {"n_trials": len(table), "states": table["state"].value_counts().to_dict(),
            "defaults_trial": {"value": first["value"], "seconds": first["seconds"], "epochs": first["epochs"]},
            "top5": json.loads(complete.head(5).drop(columns=["error", "worker"]).to_json(orient="records"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="dataset folder (default: the default demo, built here)")
    parser.add_argument("--study", default="bench-tuning")
    parser.add_argument("--storage")
    parser.add_argument("--one-worker-s", type=float, default=600)
    parser.add_argument("--two-workers-s", type=float, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.dataset is None:
            from xanes_core.data.demo import generate_demo

            args.dataset = str(generate_demo().save(Path(folder) / "demo"))
        phases = [_phase("one worker", 1, args, args.one_worker_s),
                  _phase("two workers", 2, args, args.two_workers_s)]
        print(json.dumps({"dataset": args.dataset, "study": args.study, "phases": phases,
                          "outcome": _outcome(args)}, indent=2, default=str))


if __name__ == "__main__":
    main()

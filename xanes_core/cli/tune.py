"""Tuning commands: ``tune`` (one worker's trials of a study) and ``tune-best`` (train the best).

Workers are plain processes: start ``tune`` with the same ``--study`` and ``--storage`` on as
many machines as see the storage and a copy of the dataset, at once or later; each runs its own
``--trials`` (or until ``--timeout``) and prints the whole study's counts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


_STORAGE_HELP = ("SQLAlchemy database URL shared by the workers, e.g. postgresql://user:password@host/db "
                 "(default: the embedded SQLite file cache/studies/optuna.db)")


def register(commands: argparse._SubParsersAction) -> None:
    tune_parser = commands.add_parser("tune", help="search the CNN's settings on the validation split (Optuna)")
    tune_parser.add_argument("--dataset", required=True, metavar="DIR", help="dataset folder")
    tune_parser.add_argument("--study", required=True, metavar="NAME", help="study to create or continue")
    tune_parser.add_argument("--storage", metavar="URL", help=_STORAGE_HELP)
    tune_parser.add_argument("--trials", type=int, metavar="N",
                             help="trials this worker runs (default 20 when --timeout is not given)")
    tune_parser.add_argument("--timeout", type=float, metavar="S", help="start no new trial after S seconds")
    tune_parser.add_argument("--seed", type=int, metavar="S",
                             help="training seed of every trial (default: the study's; 0 for a new study)")
    tune_parser.set_defaults(handler=tune)

    best_parser = commands.add_parser("tune-best", help="train a study's best configuration, evaluate it on test")
    best_parser.add_argument("--study", required=True, metavar="NAME", help="study name")
    best_parser.add_argument("--storage", metavar="URL", help=_STORAGE_HELP)
    best_parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder to create")
    best_parser.set_defaults(handler=tune_best)


def tune(args: argparse.Namespace) -> dict[str, Any]:
    """Open the study (bad input fails here, before TensorFlow loads), then run the trials."""
    import time

    from xanes_core.learn.studies import TuningRequest, open_study

    started = time.monotonic()
    n_trials = args.trials if args.trials is not None or args.timeout is not None else 20
    request = TuningRequest(dataset=str(Path(args.dataset).resolve()), study=args.study, storage=args.storage,
                            n_trials=n_trials, timeout_s=args.timeout, seed=args.seed)
    study, base = open_study(request)
    from xanes_core.learn.tuning import search

    return search(study, base, request, started=started).to_dict()


def tune_best(args: argparse.Namespace) -> dict[str, Any]:
    from xanes_core.learn.studies import best_training, load_study

    config, origin = best_training(load_study(args.study, args.storage), args.storage)
    from xanes_core.cli.learn import finished_run
    from xanes_core.learn.training import Trainer

    return finished_run(Trainer(config, out=args.out, origin=origin).start())

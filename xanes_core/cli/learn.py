"""Model commands: ``train`` (foreground run, then its test scores; its settings in
:mod:`.train_config`), ``evaluate``, ``report`` and ``figures`` (the figure pack)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from xanes_core.cli.train_config import add_setting_arguments, training_config
from xanes_core.errors import XanesError


def register(commands: argparse._SubParsersAction) -> None:
    train_parser = commands.add_parser("train", help="train a model, evaluate it on the test split")
    train_parser.add_argument("--dataset", required=True, metavar="DIR", help="dataset folder")
    train_parser.add_argument("--out", metavar="RUN_DIR", help="run folder (default cache/runs/<run id>)")
    add_setting_arguments(train_parser)
    train_parser.set_defaults(handler=train)

    evaluate_parser = commands.add_parser("evaluate", help="test-split metrics of a run, overall and per element")
    evaluate_parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder")
    evaluate_parser.set_defaults(handler=evaluate)

    report_parser = commands.add_parser("report", help="write a run's self-contained HTML report")
    report_parser.add_argument("run_dir", metavar="RUN_DIR", help="a completed run folder")
    report_parser.add_argument("--out", metavar="FILE", help="HTML file (default RUN_DIR/report.html)")
    report_parser.add_argument("--compare", nargs="*", default=[], metavar="RUN_DIR", help="runs shown side by side")
    report_parser.set_defaults(handler=report)

    figures_parser = commands.add_parser("figures", help="every figure of a run as PNG + SVG + CSV in one zip")
    figures_parser.add_argument("run_dir", metavar="RUN_DIR", help="a completed run folder")
    figures_parser.add_argument("--out", required=True, metavar="FILE.zip", help="the zip file to write")
    figures_parser.add_argument("--threshold", type=float, metavar="T",
                                help="threshold on p(topological) (default: the run's saved operating point)")
    figures_parser.set_defaults(handler=figures)


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train in the foreground and print the run's test scores."""
    from xanes_core.learn.training import Trainer

    if args.epochs is not None and args.epochs < 1:
        raise XanesError("--epochs must be at least 1.")
    return finished_run(Trainer(training_config(args), out=args.out).start())


def finished_run(trainer: Any) -> dict[str, Any]:
    """Wait for a started Trainer and return the ``train`` JSON (``tune-best`` prints it too);
    a user error raised inside the run is re-raised for the CLI."""
    final = trainer.join()
    if final.status == "failed":
        if isinstance(trainer.error, XanesError):
            raise trainer.error
        raise RuntimeError(final.message) from trainer.error
    if final.status != "completed" or trainer.evaluation is None:
        raise XanesError(f"Training ended as {final.status}: {final.message}")
    evaluation = trainer.evaluation
    return {
        "run_dir": str(trainer.run_dir),
        "model": trainer.config.model,
        "device": final.device,
        "seconds": round(final.elapsed_s, 2),
        "epochs_run": len(final.history),
        **scores(evaluation),
    }


def scores(evaluation: Any) -> dict[str, Any]:
    """What ``train`` and ``evaluate`` print about the test split: per-class scores, ROC AUC, the
    demo's reference, calibration (``ece``, ``ece_uncalibrated``, ``brier``) and, for an
    ensemble, its members."""
    return {
        "task": evaluation.task,
        "test": evaluation.summary(),
        "roc_auc": evaluation.roc_auc,
        "reference_balanced_accuracy": evaluation.reference_balanced_accuracy,
        "ece": evaluation.ece,
        "ece_uncalibrated": evaluation.ece_uncalibrated,
        "brier": evaluation.brier,
        "n_members": (evaluation.ensemble or {}).get("n_members", 1),
    }


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """The test object plus per-element metrics, recomputed from the saved model."""
    from xanes_core.learn.evaluation import evaluate_run
    from xanes_core.learn.runs import load_run

    run = load_run(Path(args.run_dir))
    evaluation = evaluate_run(run)  # RunError when its dataset changed or is gone: never another version
    return {"run_dir": str(run.run_dir), "model": run.model_type, **scores(evaluation),
            "per_element": evaluation.to_dict()["per_element"], "warnings": dataset_warnings(run.run_dir)}


def dataset_warnings(run_dir: str | Path) -> list[str]:
    """What a command's JSON says when the run's dataset is not the version it was trained on
    (or, for an older run, is bound by its sample count only); [] when it is."""
    from xanes_core.learn.binding import dataset_binding
    from xanes_core.learn.runs import read_run

    message = dataset_binding(run_dir, read_run(run_dir).config).message
    return [message] if message else []


def report(args: argparse.Namespace) -> dict[str, Any]:
    from xanes_core.viz.report import write_report

    path = write_report(args.run_dir, args.out, args.compare)
    return {"report": str(path), "bytes": path.stat().st_size, "warnings": dataset_warnings(args.run_dir)}


def figures(args: argparse.Namespace) -> dict[str, Any]:
    """The figure pack of a run: exactly ``{"path", "n_figures", "seconds"}`` (issue 14 fixes
    these keys; a dataset-binding warning is written into the pack's README.txt instead)."""
    from xanes_core.viz.figure_pack import write_figure_pack

    if not str(args.out).lower().endswith(".zip"):
        raise XanesError(f"--out must name a .zip file ({args.out} given).")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise XanesError(f"--threshold must lie between 0 and 1 ({args.threshold} given).")
    started = time.perf_counter()
    path, count = write_figure_pack(args.run_dir, args.out, args.threshold)
    return {"path": str(path), "n_figures": count, "seconds": round(time.perf_counter() - started, 2)}

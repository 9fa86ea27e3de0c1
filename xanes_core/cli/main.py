"""`python -m xanes_core ...`: every job of the dashboard, headless.

Each sub-command prints one JSON object on stdout. A problem the user can fix (bad argument,
unreadable file, corrupt dataset) prints one line on stderr and exits with code 2; argparse's
own usage errors exit with 2 as well. Heavy modules are imported inside the handlers so that
`--help` and light commands stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from xanes_core.errors import XanesError


def _print_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _dataset_summary(path: Path, dataset: Any, seconds: float | None = None) -> dict[str, Any]:
    summary = {"path": str(path), **dataset.summary()}
    if seconds is not None:
        summary["seconds"] = round(seconds, 3)
    return summary


def cmd_demo_data(args: argparse.Namespace) -> int:
    from xanes_core.data.demo import generate_demo
    from xanes_core.paths import default_demo_path

    if args.n_samples < 50:
        raise XanesError("--n-samples must be at least 50.")
    start = time.perf_counter()
    dataset = generate_demo(n_samples=args.n_samples, seed=args.seed)
    out = Path(args.out) if args.out else default_demo_path()
    dataset.save(out)
    _print_json(_dataset_summary(out, dataset, time.perf_counter() - start))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from xanes_core.data.dataset import XanesDataset

    start = time.perf_counter()
    dataset = XanesDataset.load(args.dataset)
    _print_json(_dataset_summary(Path(args.dataset), dataset, time.perf_counter() - start))
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2), like our errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def cmd_read(args: argparse.Namespace) -> int:
    from xanes_core.cli.spectra import run_read

    return run_read(args.file)


def cmd_train(args: argparse.Namespace) -> int:
    from xanes_core.learn.training import run_train_command

    if args.epochs is not None and args.epochs < 1:
        raise XanesError("--epochs must be at least 1.")
    _print_json(run_train_command(args.dataset, args.model, args.epochs, args.seed, args.out))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from xanes_core.learn.evaluation import run_evaluate_command

    _print_json(run_evaluate_command(args.run_dir))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from xanes_core.viz.report import write_report

    path = write_report(args.run_dir, args.out, args.compare)
    _print_json({"report": str(path), "bytes": path.stat().st_size})
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    import runpy

    runner = Path(__file__).resolve().parent.parent / "bench" / "run.py"
    if not runner.is_file():
        raise XanesError("The benchmarks live in the source checkout (bench/); none found beside this package.")
    return runpy.run_path(str(runner))["main"](args.names)


def cmd_predict(args: argparse.Namespace) -> int:
    from xanes_core.analysis.prediction import run_predict_command

    _print_json(run_predict_command(args.run, args.files, args.space_group, args.cif))
    return 0


def cmd_fetch_mp(args: argparse.Namespace) -> int:
    from xanes_core.cli.sources import run_fetch_mp

    return run_fetch_mp(args.labels, args.format, args.endpoint, args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m xanes_core",
        description="Topological vs trivial materials from K-edge XANES: data, training, prediction.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo-data", help="build the synthetic demo dataset")
    demo.add_argument("--n-samples", type=int, default=16_458, help="number of materials (default 16458)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--out", help="dataset folder (default cache/datasets/demo)")
    demo.set_defaults(handler=cmd_demo_data)

    info = commands.add_parser("info", help="summarize a saved dataset")
    info.add_argument("dataset", metavar="DIR", help="dataset folder")
    info.set_defaults(handler=cmd_info)

    read = commands.add_parser("read", help="read one spectrum file and describe it")
    read.add_argument("file", metavar="FILE", help="XDI, Athena .prj, column text, FEFF xmu.dat, MP JSON/TSV")
    read.add_argument("--json", action="store_true", help="accepted for scripts; the output is always one JSON object")
    read.set_defaults(handler=cmd_read)

    train = commands.add_parser("train", help="train a model, evaluate it on the test split")
    train.add_argument("--dataset", required=True, metavar="DIR", help="dataset folder")
    train.add_argument("--model", choices=["symmetry", "core", "svm", "elements"], default="symmetry",
                       help="CNN with symmetry input (default), spectra-only CNN, or a baseline")
    train.add_argument("--epochs", type=int, metavar="N", help="maximum epochs (early stopping may end sooner)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--out", metavar="RUN_DIR", help="run folder (default cache/runs/<run id>)")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("evaluate", help="test-split metrics of a run, overall and per element")
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="run folder")
    evaluate.set_defaults(handler=cmd_evaluate)

    report = commands.add_parser("report", help="write a run's self-contained HTML report")
    report.add_argument("run_dir", metavar="RUN_DIR", help="a completed run folder")
    report.add_argument("--out", metavar="FILE", help="HTML file (default RUN_DIR/report.html)")
    report.add_argument("--compare", nargs="*", default=[], metavar="RUN_DIR", help="runs shown side by side")
    report.set_defaults(handler=cmd_report)

    predict = commands.add_parser("predict", help="predict topological vs trivial for one material "
                                  "from its spectra (one file per absorbing element)")
    predict.add_argument("--run", required=True, metavar="RUN_DIR", help="a completed CNN run folder")
    predict.add_argument("files", nargs="+", metavar="FILE", help="K-edge spectrum files of one material")
    symmetry = predict.add_mutually_exclusive_group()
    symmetry.add_argument("--space-group", metavar="N", help="space group number (1-230)")
    symmetry.add_argument("--cif", metavar="FILE", help="crystal structure; its space group is used")
    predict.set_defaults(handler=cmd_predict)

    benchmark = commands.add_parser("benchmark", help="run the benchmarks in bench/ (results in bench/results.json)")
    benchmark.add_argument("names", nargs="*", metavar="NAME", help="data, training, predict, pages (default: all)")
    benchmark.set_defaults(handler=cmd_benchmark)

    fetch = commands.add_parser("fetch-mp", help="build the real dataset from the Materials Project "
                                "(API key from $MP_API_KEY)")
    fetch.add_argument("--labels", required=True, metavar="FILE", help="topology catalogue (TQC, Materiae, CSV)")
    fetch.add_argument("--format", choices=["tqc", "materiae", "csv"], help="catalogue format (default: guessed)")
    fetch.add_argument("--endpoint", metavar="URL", help="Materials Project API endpoint (default: the public one)")
    fetch.add_argument("--out", metavar="DIR", help="dataset folder (default cache/datasets/materials-project)")
    fetch.set_defaults(handler=cmd_fetch_mp)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except XanesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130

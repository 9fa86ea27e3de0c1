"""``benchmark``: run the scripts in bench/ (they live in the source checkout, not the package)."""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path

from xanes_core.errors import XanesError


BENCH = Path(__file__).resolve().parents[2] / "bench"


def register(commands: argparse._SubParsersAction) -> None:
    benchmark = commands.add_parser("benchmark", help="run the benchmarks in bench/ (results in bench/results.json)")
    names = ", ".join(sorted(p.stem.removeprefix("bench_") for p in BENCH.glob("bench_*.py"))) or "none here"
    benchmark.add_argument("names", nargs="*", metavar="NAME", help=f"{names} (default: all)")
    benchmark.set_defaults(handler=run_benchmarks)


def run_benchmarks(args: argparse.Namespace) -> int:
    """bench/run.py prints its own JSON; its exit code is the command's."""
    runner = BENCH / "run.py"
    if not runner.is_file():
        raise XanesError("The benchmarks live in the source checkout (bench/); none found beside this package.")
    return runpy.run_path(str(runner))["main"](args.names)

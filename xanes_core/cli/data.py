"""Dataset commands: ``demo-data`` (build the synthetic demo) and ``info`` (counts of a dataset)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from xanes_core.errors import XanesError


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo-data", help="build the synthetic demo dataset")
    demo.add_argument("--n-samples", type=int, default=16_458, help="number of materials (default 16458)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--out", help="dataset folder (default cache/datasets/demo)")
    demo.set_defaults(handler=demo_data)

    info_parser = commands.add_parser("info", help="summarize a saved dataset")
    info_parser.add_argument("dataset", metavar="DIR", help="dataset folder")
    info_parser.set_defaults(handler=info)


def dataset_summary(path: Path, dataset: Any, seconds: float) -> dict[str, Any]:
    return {"path": str(path), **dataset.summary(), "seconds": round(seconds, 3)}


def demo_data(args: argparse.Namespace) -> dict[str, Any]:
    from xanes_core.data.dataset import check_replaceable
    from xanes_core.data.demo import generate_demo
    from xanes_core.paths import default_demo_path

    if args.n_samples < 50:
        raise XanesError("--n-samples must be at least 50.")
    out = Path(args.out) if args.out else default_demo_path()
    check_replaceable(out)  # before minutes of work, and never over a folder of other files
    start = time.perf_counter()
    dataset = generate_demo(n_samples=args.n_samples, seed=args.seed)
    dataset.save(out)
    return dataset_summary(out, dataset, time.perf_counter() - start)


def info(args: argparse.Namespace) -> dict[str, Any]:
    from xanes_core.data.dataset import XanesDataset

    start = time.perf_counter()
    dataset = XanesDataset.load(args.dataset)
    return dataset_summary(Path(args.dataset), dataset, time.perf_counter() - start)

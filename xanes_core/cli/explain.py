"""Explanation commands: ``attribute`` (which energies of each element's spectra push a CNN run
towards topological or trivial, over a whole split; see :mod:`xanes_core.analysis.attribution`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from xanes_core.errors import XanesError


def register(commands: argparse._SubParsersAction) -> None:
    attribute = commands.add_parser(
        "attribute", help="attribution over energy of a CNN run's predictions on a split, per element")
    attribute.add_argument("run_dir", metavar="RUN_DIR", help="a completed CNN run folder")
    attribute.add_argument("--split", choices=["train", "validation", "test"], default="test",
                           help="the split whose materials are explained (default test)")
    attribute.add_argument("--element", metavar="EL", help="only this absorbing element")
    attribute.add_argument("--out", metavar="FILE.csv",
                           help="also write element, energy_ev, energy_minus_e0_ev, mean_attribution per class")
    attribute.set_defaults(handler=attribute_split)


def attribute_split(args: argparse.Namespace) -> dict[str, Any]:
    """``{run_dir, split, n_samples, elements: {EL: {informative_share, top_ranges_ev, ...}}, seconds}``;
    computed once per run and split, then read from the run folder."""
    from xanes_core import atomic
    from xanes_core.analysis.attribution import class_means_for, split_attribution
    from xanes_core.analysis.indicators import attribution_table, element_indicators
    from xanes_core.data.elements import normalize_symbol
    from xanes_core.learn.runs import read_run

    started = time.perf_counter()
    element = normalize_symbol(args.element) if args.element else None
    if args.out and not str(args.out).lower().endswith(".csv"):
        raise XanesError(f"--out must name a .csv file ({args.out} given).")
    attribution = split_attribution(args.run_dir, args.split)
    means = class_means_for(read_run(args.run_dir))
    indicators = element_indicators(attribution, means, element)
    if element is not None and not indicators:
        raise XanesError(f"The {args.split} split of this run has no {element} spectrum.")
    if args.out:
        atomic.write_text(args.out, attribution_table(attribution, means, element).to_csv(index=False))
    return {"run_dir": str(Path(args.run_dir)), "split": args.split, "n_samples": attribution.n_samples,
            "elements": {symbol: indicator.to_dict() for symbol, indicator in indicators.items()},
            "seconds": round(time.perf_counter() - started, 3)}

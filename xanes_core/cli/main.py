"""`python -m xanes_core ...`: the parser assembled from the command groups, and the one runner.

Each group module (:mod:`.data`, :mod:`.sources`, :mod:`.spectra`, :mod:`.learn`, :mod:`.bench`)
registers its sub-commands; a handler returns the JSON object to print (or, for a command that
prints its own output, an exit code). A problem the user can fix (XanesError, or argparse's own
usage errors) is one line on stderr with exit code 2. Heavy modules are imported inside the
handlers, so `--help` and light commands stay fast and input errors come out before TensorFlow
loads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from xanes_core.cli import bench, data, learn, sources, spectra, tune
from xanes_core.errors import XanesError

GROUPS = (data, sources, spectra, learn, tune, bench)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2), like our errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m xanes_core",
        description="Topological vs trivial materials from K-edge XANES: data, training, prediction.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineParser)
    for group in GROUPS:
        group.register(commands)
    return parser


def quiet_libraries() -> None:
    """Keep TensorFlow's C++ start-up log lines off the terminal (stdout carries only our JSON)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    args = build_parser().parse_args(argv)
    try:
        result: dict[str, Any] | int = args.handler(args)
    except XanesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if isinstance(result, int):
        return result
    print(json.dumps(result, indent=2, default=str))
    return 0

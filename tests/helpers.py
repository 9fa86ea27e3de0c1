"""Helpers shared across test folders."""

from __future__ import annotations

from typing import Any

from xanes_core.cli.main import build_parser


def run_command(*argv: str) -> Any:
    """A CLI command run in this process, exactly as `python -m xanes_core` parses and runs it,
    returning what it would print as JSON (a user error raises XanesError)."""
    args = build_parser().parse_args(list(argv))
    return args.handler(args)

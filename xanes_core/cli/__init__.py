"""Layer 7, cli: ``python -m xanes_core COMMAND``, one module per group of commands; each parses
arguments, calls the layers below, and prints one JSON object or one error line."""

from xanes_core.cli.main import main

__all__ = ["main"]

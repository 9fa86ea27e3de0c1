"""`python -m xanes_core ...`: the parser assembled from the command groups, and the one runner.

Each group module (:mod:`.data`, :mod:`.sources`, :mod:`.spectra`, :mod:`.learn`, :mod:`.explain`,
:mod:`.tune`, :mod:`.bench`)
registers its sub-commands; a handler returns the JSON object to print (or, for a command that
prints its own output, an exit code). A problem the user can fix (XanesError, or argparse's own
usage errors) is one line on stderr with exit code 2; anything unexpected is one line saying
where its traceback was written (a log file under ``cache/logs``), exit code 1. Heavy modules are
imported inside the handlers, so `--help` and light commands stay fast and input errors come out
before TensorFlow loads.

The terminal gets only our own output: while a command runs, what libraries write straight to
the stderr file descriptor (TensorFlow's C++ start-up lines, which no setting silences before
its logging is initialized) and Python warnings go to ``cache/logs/libraries.log``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from xanes_core.atomic import write_text
from xanes_core.cli import bench, data, explain, learn, sources, spectra, tune
from xanes_core.errors import XanesError
from xanes_core.paths import logs_root

GROUPS = (data, sources, spectra, learn, explain, tune, bench)
LIBRARY_LOG = "libraries.log"


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


def _log_folder() -> Path:
    """cache/logs, or the system's temporary folder when the cache cannot be written."""
    for folder in (logs_root(), Path(tempfile.gettempdir()) / "xanes_core-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        except OSError:
            continue
    return Path(tempfile.gettempdir())


@contextmanager
def libraries_to_log(path: Path) -> Iterator[None]:
    """Send C-level writes to file descriptor 2 and Python warnings to ``path`` while the
    command runs; ``sys.stderr`` (our error lines, progress) keeps writing to the terminal."""
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    original = sys.stderr
    showwarning = warnings.showwarning
    with open(path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        if _writes_to_fd2(original):
            sys.stderr = os.fdopen(os.dup(terminal_fd), "w", buffering=1, encoding=original.encoding,
                                   errors="backslashreplace")
        warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: log.write(
            warnings.formatwarning(message, category, filename, lineno, line))
        try:
            yield
        finally:
            warnings.showwarning = showwarning
            if sys.stderr is not original:
                sys.stderr.close()
                sys.stderr = original
            log.flush()
            os.dup2(terminal_fd, 2)
            os.close(terminal_fd)


def _writes_to_fd2(stream: TextIO) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False  # e.g. pytest's capture: not the file descriptor


def write_crash_log(folder: Path, argv: list[str], details: str) -> Path:
    """The traceback of an unexpected error, with the command that raised it, in its own file."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    path = folder / f"error-{stamp}-{os.getpid()}.log"
    write_text(path, f"command: python -m xanes_core {' '.join(argv)}\n"
                     f"python: {sys.version.split()[0]}\n\n{details}")
    return path


def one_line(text: str, limit: int = 300) -> str:
    """A message on one line (any line breaks folded), cut at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # what TensorFlow logs once its logging is set up
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    folder = _log_folder()
    try:
        with libraries_to_log(folder / LIBRARY_LOG):
            result: dict[str, Any] | int = args.handler(args)
    except XanesError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback in a file
        try:
            where = f"details in {write_crash_log(folder, argv, traceback.format_exc())}"
        except OSError as log_error:
            where = f"its details could not be saved: {log_error.strerror}"
        print(f"error: unexpected {type(exc).__name__}: {one_line(str(exc), 200)} (a bug; {where})",
              file=sys.stderr)
        return 1
    if isinstance(result, int):
        return result
    print(json.dumps(result, indent=2, default=str))
    return 0

"""Turn a path or uploaded bytes into checked text, before any format parser sees it.

All guards that do not depend on the format live here, so every parser can assume it gets
a bounded, decoded string: the size limit (checked before reading a path, and while
gunzipping: decompression stops one byte past the limit, so a small bomb never expands in
memory), gzip (Athena projects are often gzipped), NUL bytes and undecodable content ("binary
junk"). :func:`split_lines` bounds the line count before a line-oriented parser loops.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path

from xanes_core.errors import SpectrumError, XanesError
from xanes_core.io.limits import SPECTRUM_LINES, TABLE_FIELDS, check_count, check_size, in_mb

_GZIP_MAGIC = b"\x1f\x8b"
# Beamline files are ASCII with the odd degree sign or Angstrom; a file where many bytes are
# not valid UTF-8 is not a text spectrum at all.
_MAX_NON_ASCII_FRACTION = 0.05
_MAX_CONTROL_FRACTION = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Everything str.splitlines() splits on; "\r\n" is one break.
_LINE_BREAKS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def load_bytes(source: str | Path | bytes, max_bytes: int, name: str | None = None) -> tuple[bytes, str]:
    """Raw (gunzipped) bytes and a display name; SpectrumError for missing or oversized files."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw, name = bytes(source), name or "upload"
        check_size(len(raw), max_bytes, "spectrum files", name, SpectrumError)
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise SpectrumError(f"{name}: no such file.")
        check_size(path.stat().st_size, max_bytes, "spectrum files", name, SpectrumError)
        raw = path.read_bytes()
    if raw.startswith(_GZIP_MAGIC):
        raw = _gunzip(raw, max_bytes, name)
    return raw, name


def decode_text(raw: bytes, name: str) -> str:
    """Decode a text spectrum, refusing empty files and binary content with one clear line."""
    if not raw.strip():
        raise SpectrumError(f"{name}: the file is empty.")
    if b"\x00" in raw:
        raise SpectrumError(f"{name}: this is a binary file (NUL bytes), not a text spectrum.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        non_ascii = len(raw) - len(raw.decode("ascii", errors="ignore"))
        if non_ascii > _MAX_NON_ASCII_FRACTION * len(raw):
            raise SpectrumError(f"{name}: not a text file (undecodable bytes).") from None
        text = raw.decode("latin-1")
    controls = len(_CONTROL.findall(text))
    if controls > _MAX_CONTROL_FRACTION * len(text):
        raise SpectrumError(f"{name}: not a text file (control characters).")
    return text


def split_lines(text: str, name: str) -> list[str]:
    """``text.splitlines()``, refused first (counted without splitting) past the line limit."""
    check_count(count_lines(text), SPECTRUM_LINES, "lines", name, SpectrumError)
    return text.splitlines()


def check_table_shape(text: str, name: str, max_lines: int, error: type[XanesError]) -> None:
    """Refuse a comma/semicolon table with more than ``max_lines`` lines or a line of more than
    :data:`TABLE_FIELDS` fields, before pandas parses it (see limits.TABLE_FIELDS for why)."""
    check_count(count_lines(text), max_lines, "lines", name, error)
    widest = max((line.count(",") + line.count(";") + 1 for line in text.splitlines()), default=0)
    check_count(widest, TABLE_FIELDS, "fields on one line", name, error)


def count_lines(text: str) -> int:
    """How many lines ``text.splitlines()`` would give (at most one more), without building them."""
    return sum(map(text.count, _LINE_BREAKS)) - text.count("\r\n") + 1


def _gunzip(raw: bytes, max_bytes: int, name: str) -> bytes:
    """Inflate at most ``max_bytes + 1`` bytes (GzipFile.read(n) decompresses incrementally)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise SpectrumError(f"{name}: corrupt gzip data ({exc}).") from None
    if len(data) > max_bytes:
        raise SpectrumError(
            f"{name}: uncompressed, it is over the {in_mb(max_bytes)} MB limit for spectrum files."
        )
    return data

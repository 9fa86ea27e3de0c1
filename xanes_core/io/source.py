"""Turn a path or uploaded bytes into checked text, before any format parser sees it.

All guards that do not depend on the format live here, so every parser can assume it gets
a bounded, decoded string: the size limit (checked before reading a path, and again after
gunzip so a small bomb cannot expand unchecked), gzip (Athena projects are often gzipped),
NUL bytes and undecodable content ("binary junk").
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path

from xanes_core.errors import SpectrumError

_GZIP_MAGIC = b"\x1f\x8b"
# Beamline files are ASCII with the odd degree sign or Angstrom; a file where many bytes are
# not valid UTF-8 is not a text spectrum at all.
_MAX_NON_ASCII_FRACTION = 0.05
_MAX_CONTROL_FRACTION = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def load_bytes(source: str | Path | bytes, max_bytes: int) -> tuple[bytes, str]:
    """Raw (gunzipped) bytes and a display name; SpectrumError for missing or oversized files."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw, name = bytes(source), "upload"
        _check_size(len(raw), max_bytes, name)
    else:
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise SpectrumError(f"{name}: no such file.")
        _check_size(path.stat().st_size, max_bytes, name)
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


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise SpectrumError(
            f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit for spectrum files."
        )


def _gunzip(raw: bytes, max_bytes: int, name: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise SpectrumError(f"{name}: corrupt gzip data ({exc}).") from None
    _check_size(len(data), max_bytes, f"{name} (uncompressed)")
    return data

"""Read an uploaded zip (spectrum files plus a manifest) safely, or refuse it in one line.

A zip is a list of claims made by whoever built it: names, types, sizes, member counts. Before
anything is inflated, the central directory is walked header by header and refused past the
member limit (zipfile would first build an object for every entry of a forged directory); then
every entry must be a plain relative path (no absolute path, drive, ``..``; backslashes count
as separators), a regular file (no symlink or device), unencrypted and not itself a zip.
Members are inflated in chunks and the bytes actually produced, not the sizes the headers
state, are held to the per-member and total limits, so a bomb stops at the limit. Nothing is
written anywhere: the caller gets every member's bytes or an error.
"""

from __future__ import annotations

import io
import lzma
import stat
import struct
import unicodedata
import zipfile
import zlib

from xanes_core.errors import XanesError
from xanes_core.io.limits import (
    MB,
    ZIP_EXPANDED_MB,
    ZIP_MB,
    ZIP_MEMBER_MB,
    ZIP_MEMBERS,
    check_size,
    in_mb,
)

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record
_ZIP64_LOCATOR_SIZE = 20
_ENTRY_SIZE = 46  # fixed part of a central directory header; name, extra, comment follow
_ENTRY_SIGNATURE = b"PK\x01\x02"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CHUNK = 1 << 20
_UNREADABLE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, NotImplementedError, EOFError, OSError, ValueError)


def read_zip(
    raw: bytes,
    name: str = "archive",
    *,
    max_bytes: int = ZIP_MB * MB,
    max_members: int = ZIP_MEMBERS,
    max_member_bytes: int = ZIP_MEMBER_MB * MB,
    max_total_bytes: int = ZIP_EXPANDED_MB * MB,
) -> dict[str, bytes]:
    """Normalized member name (``folder/file.dat``) -> bytes of every regular file in the zip.

    Folders are skipped. XanesError, one line naming the archive (and the member), for an
    archive over ``max_bytes``, more than ``max_members`` entries, a member past
    ``max_member_bytes`` or all members past ``max_total_bytes`` once inflated, an unsafe
    name, a link, an encrypted or nested archive, or a corrupt one.
    """
    check_size(len(raw), max_bytes, "zip archives", name)
    _check_entry_count(raw, name, max_members)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            files = [(info, _safe_name(info, name)) for info in archive.infolist() if not info.is_dir()]
            _refuse_duplicates([member for _, member in files], name)
            members, total = {}, 0
            for info, member in files:
                data = _inflate(archive, info, f"{name}: {member}", max_member_bytes)
                total += len(data)
                if total > max_total_bytes:
                    raise XanesError(
                        f"{name}: the files expand past the {in_mb(max_total_bytes)} MB limit for "
                        "the contents of a zip archive."
                    )
                members[member] = data
    except _UNREADABLE as exc:
        raise XanesError(f"{name}: not a readable zip archive ({str(exc)[:80]}).") from None
    return members


def _check_entry_count(raw: bytes, name: str, limit: int) -> None:
    """Walk the central directory's headers and refuse at entry ``limit`` + 1.

    The end record's own entry count is not used: zipfile reads the directory by its byte
    size, so a forged count could hide a million entries.
    """
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - _END.size - 0xFFFF))
    if end < 0 or end + _END.size > len(raw):
        raise XanesError(f"{name}: not a zip archive.")
    directory_size = _END.unpack_from(raw, end)[5]
    zip64_end = end - _ZIP64_LOCATOR_SIZE - _ZIP64_END.size
    if zip64_end >= 0 and raw.startswith(b"PK\x06\x06", zip64_end):
        directory_size, end = _ZIP64_END.unpack_from(raw, zip64_end)[8], zip64_end
    position, count = end - directory_size, 0
    if position < 0:
        raise XanesError(f"{name}: not a readable zip archive (central directory out of range).")
    while position < end and count <= limit:
        if not raw.startswith(_ENTRY_SIGNATURE, position) or position + _ENTRY_SIZE > end:
            raise XanesError(f"{name}: not a readable zip archive (broken central directory).")
        name_length, extra_length, comment_length = struct.unpack_from("<3H", raw, position + 28)
        position += _ENTRY_SIZE + name_length + extra_length + comment_length
        count += 1
    if count > limit:
        raise XanesError(f"{name}: more than {limit:,} files, the limit for one zip archive.")


def _safe_name(info: zipfile.ZipInfo, archive: str) -> str:
    """The member's name as a clean relative path, or XanesError when it is not a plain file."""
    shown = f"{archive}: member '{info.filename[:80]}'"
    if info.flag_bits & 0x1:
        raise XanesError(f"{shown} is encrypted; zip the files without a password.")
    file_type = stat.S_IFMT(info.external_attr >> 16)  # Unix type bits; 0 when the writer left them out
    if file_type not in (0, stat.S_IFREG):
        kind = "a symbolic link" if file_type == stat.S_IFLNK else "not a regular file"
        raise XanesError(f"{shown} is {kind}; only plain files can be read.")
    path = unicodedata.normalize("NFC", info.filename.replace("\\", "/"))
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if path.startswith("/") or (len(path) > 1 and path[1] == ":") or ".." in parts or not parts:
        raise XanesError(f"{shown} is not a relative path inside the archive.")
    if any(ord(char) < 32 for char in path):
        raise XanesError(f"{shown} has control characters in its name.")
    if parts[-1].lower().endswith(".zip"):
        raise XanesError(f"{shown} is a zip inside the zip; put its files in the outer archive.")
    return "/".join(parts)


def _refuse_duplicates(members: list[str], archive: str) -> None:
    seen: set[str] = set()
    for member in members:
        if member in seen:
            raise XanesError(f"{archive}: two members are named '{member[:80]}'.")
        seen.add(member)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str, limit: int) -> bytes:
    """The member's bytes, inflated a chunk at a time and refused as soon as they pass ``limit``."""
    if info.file_size > limit:
        raise XanesError(f"{shown} is {in_mb(info.file_size)} MB, over the {in_mb(limit)} MB limit for one file.")
    chunks, size = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise XanesError(f"{shown} expands past the {in_mb(limit)} MB limit for one file.")
            chunks.append(chunk)
    data = b"".join(chunks)
    if data.startswith(_ZIP_MAGICS):
        raise XanesError(f"{shown} is a zip inside the zip; put its files in the outer archive.")
    return data

"""read_zip: real crafted archives, each refused in one line, and a valid one of real spectra."""

from __future__ import annotations

import io
import stat
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from xanes_core.errors import XanesError
from xanes_core.io import read_spectrum
from xanes_core.io.archive import read_zip
from xanes_core.io.limits import MB, ZIP_MEMBER_MB, ZIP_MEMBERS


def make_zip(members: dict[str | zipfile.ZipInfo, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refused(raw: bytes, match: str, **limits) -> str:
    with pytest.raises(XanesError, match=match) as caught:
        read_zip(raw, "upload.zip", **limits)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("upload.zip: ")
    return message


def test_a_zip_of_real_spectra_and_a_manifest_reads_back_byte_for_byte(fixtures_dir: Path) -> None:
    files = sorted((fixtures_dir / "spectra" / "xdi").glob("*.xdi"))
    members = {f"spectra/{path.name}": path.read_bytes() for path in files}
    members["manifest.csv"] = ("material_id,element,file\n" + "".join(
        f"m{i},Cu,spectra/{path.name}\n" for i, path in enumerate(files))).encode()
    folder = zipfile.ZipInfo("spectra/")  # a folder entry is skipped, not refused
    raw = make_zip({folder: b"", **members})

    read = read_zip(raw, "upload.zip")

    assert read == members
    spectrum = read_spectrum(read["spectra/cu_metal_rt.xdi"], "cu_metal_rt.xdi")
    assert (spectrum.element, spectrum.edge) == ("Cu", "K")


def test_names_are_normalized() -> None:
    raw = make_zip({"./a//b.dat": b"1", "c\\d.dat": b"2", "e\u0301.dat": b"3"})  # NFD e + accent
    assert read_zip(raw) == {"a/b.dat": b"1", "c/d.dat": b"2", "\u00e9.dat": b"3"}


def test_two_names_that_normalize_alike_are_refused() -> None:
    refused(make_zip({"a/b.dat": b"1", "a//b.dat": b"2"}), "two members are named 'a/b.dat'")


@pytest.mark.parametrize("name", ["../evil.dat", "a/../../evil.dat", "/etc/passwd", "..\\evil.dat", "C:\\evil.dat"])
def test_a_name_outside_the_archive_is_refused(name: str) -> None:
    refused(make_zip({zipfile.ZipInfo(name): b"x"}), "not a relative path inside the archive")


def test_a_symbolic_link_is_refused() -> None:
    link = zipfile.ZipInfo("spectra/link.dat")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    refused(make_zip({link: b"/etc/passwd"}), "is a symbolic link")


def test_a_device_or_fifo_is_refused() -> None:
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    refused(make_zip({fifo: b""}), "not a regular file")


def test_an_encrypted_member_is_refused() -> None:
    raw = bytearray(make_zip({"secret.dat": b"1 2\n"}, zipfile.ZIP_STORED))
    local, central = 0, raw.rfind(b"PK\x01\x02")  # set the "encrypted" flag where unzip reads it
    raw[local + 6] |= 0x1
    raw[central + 8] |= 0x1
    refused(bytes(raw), "is encrypted")


def test_a_nested_zip_is_refused_by_name_and_by_content() -> None:
    inner = make_zip({"a.dat": b"1"})
    refused(make_zip({"inner.zip": inner}), "zip inside the zip")
    refused(make_zip({"inner.dat": inner}), "zip inside the zip")


@pytest.mark.timeout(120)
def test_a_zip_bomb_stops_at_the_member_limit_while_inflating() -> None:
    """One member of 40 MB of zeros in ~40 kB: refused on its header, and on its bytes when the header lies."""
    size = 2 * ZIP_MEMBER_MB * MB
    bomb = make_zip({"bomb.dat": bytes(size)})
    assert len(bomb) < size / 500
    refused(bomb, f"is 40 MB, over the {ZIP_MEMBER_MB} MB limit")

    lying = _patch_sizes(bomb, file_size=1000)  # the headers now claim 1000 bytes
    tracemalloc.start()
    try:
        started = time.thread_time()
        refused(lying, "not a readable zip archive")  # inflation stops at the claimed size: CRC fails
        cpu = time.thread_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB and cpu < 2.0


def test_all_members_together_are_held_to_the_expanded_limit() -> None:
    raw = make_zip({f"part{i}.dat": bytes(MB) for i in range(4)})
    refused(raw, "expand past the 3 MB limit", max_total_bytes=3 * MB)
    assert len(read_zip(raw, max_total_bytes=4 * MB)) == 4


def test_too_many_members_are_refused_before_zipfile_lists_them() -> None:
    raw = make_zip({f"s{i}.dat": b"" for i in range(ZIP_MEMBERS + 1)}, zipfile.ZIP_STORED)
    refused(raw, f"more than {ZIP_MEMBERS:,} files")
    # The end record's count is not what is trusted: claiming one entry changes nothing.
    end = raw.rfind(b"PK\x05\x06")
    forged = raw[: end + 8] + struct.pack("<2H", 1, 1) + raw[end + 12 :]
    refused(forged, f"more than {ZIP_MEMBERS:,} files")


def test_an_archive_over_the_upload_limit_is_refused_unread() -> None:
    refused(make_zip({"a.dat": b"1" * 1000}, zipfile.ZIP_STORED), "over the 0.0 MB limit for zip archives", max_bytes=500)


@pytest.mark.parametrize("raw", [b"", b"PK\x03\x04 not really", b"\x89PNG\r\n\x1a\n" * 100])
def test_what_is_not_a_zip_is_refused(raw: bytes) -> None:
    refused(raw, "not a zip archive")


def test_a_truncated_zip_is_refused() -> None:
    raw = make_zip({"a.dat": b"1 2\n" * 1000}, zipfile.ZIP_STORED)
    refused(raw[:1000] + raw[-100:], "not a")


def _patch_sizes(raw: bytes, file_size: int) -> bytes:
    """The one member's uncompressed size rewritten in its local and central headers."""
    patched = bytearray(raw)
    struct.pack_into("<L", patched, 22, file_size)  # local file header
    central = patched.rfind(b"PK\x01\x02")
    struct.pack_into("<L", patched, central + 24, file_size)
    return bytes(patched)
